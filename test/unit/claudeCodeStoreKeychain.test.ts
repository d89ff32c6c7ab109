// The macOS path, driven through a recording fake of /usr/bin/security (it cannot run here).
// The fake models what the threads report of the real tool: exit 44 for a missing item, 36 for a
// locked keychain, `-i` reading one command line of at most 4096 bytes, macOS 26 printing hex.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { claudeKeychainService, decodePassword, parseAccount, type CommandResult, type CommandRunner } from '../../src/core/credentials/claudeCodeKeychain';
import { ClaudeCodeStore, claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import { MalformedStoreError } from '../../src/core/credentials/storeFile';
import type { Environment } from '../../src/core/environment';
import { fingerprint } from '../../src/core/storageKey';
import { mint, sandboxEnv, tempDir } from './credentialsHelpers';

const LAB = 'lab|0273820822139ec6';
const SERVICE = 'Claude Code-credentials';

interface Item {
  service: string;
  account: string;
  value: string;
}

class FakeSecurity {
  items: Item[] = [];
  calls: { file: string; args: string[]; input?: string }[] = [];
  locked = false;
  printsHex = false;
  hang = false;

  runner: CommandRunner = async (file, args, options) => {
    this.calls.push({ file, args: [...args], ...(options.input !== undefined ? { input: options.input } : {}) });
    if (this.hang) return { code: null, stdout: '', stderr: '', timedOut: true };
    if (args[0] === '-i') return this.interactive(options.input ?? '');
    return this.command(args);
  };

  private interactive(input: string): CommandResult {
    // fgets with a 4096-byte buffer: a longer line is cut and fails (claude-code#30337).
    const line = input.split('\n')[0]!;
    if (Buffer.byteLength(line) + 1 > 4096) return { code: 1, stdout: '', stderr: 'security: unterminated quote', timedOut: false };
    const m = /^add-generic-password -U -a "([^"]*)" -s "([^"]*)" -X "([0-9a-f]*)"$/.exec(line);
    if (!m) return { code: 1, stdout: '', stderr: `unknown command`, timedOut: false };
    return this.command(['add-generic-password', '-U', '-a', m[1]!, '-s', m[2]!, '-X', m[3]!]);
  }

  private command(args: string[]): CommandResult {
    const opt = (flag: string) => {
      const i = args.indexOf(flag);
      return i >= 0 ? args[i + 1] : undefined;
    };
    const [verb] = args;
    const service = opt('-s');
    const account = opt('-a');
    const match = (it: Item) => it.service === service && (account === undefined || it.account === account);
    if (verb === 'find-generic-password') {
      const item = this.items.find(match);
      if (!item) return { code: 44, stdout: '', stderr: 'security: SecKeychainSearchCopyNext: The specified item could not be found in the keychain.', timedOut: false };
      if (args.includes('-w')) {
        if (this.locked) return { code: 36, stdout: '', stderr: 'User interaction is not allowed.', timedOut: false };
        const out = this.printsHex ? Buffer.from(item.value).toString('hex') : item.value;
        return { code: 0, stdout: out + '\n', stderr: '', timedOut: false };
      }
      const acct = item.account === '' ? '<NULL>' : `"${item.account}"`;
      return { code: 0, stdout: `keychain: "/Users/u/Library/Keychains/login.keychain-db"\nclass: "genp"\nattributes:\n    "acct"<blob>=${acct}\n    "svce"<blob>="${item.service}"\n`, stderr: '', timedOut: false };
    }
    if (verb === 'add-generic-password') {
      const value = Buffer.from(opt('-X') ?? '', 'hex').toString('utf8');
      const existing = this.items.find((it) => it.service === service && it.account === account);
      if (existing) existing.value = value;
      else this.items.push({ service: service!, account: account!, value });
      return { code: 0, stdout: '', stderr: '', timedOut: false };
    }
    return { code: 2, stdout: '', stderr: 'usage', timedOut: false };
  }

  writes() {
    return this.calls.filter((c) => c.args[0] === '-i' || c.args[0] === 'add-generic-password');
  }
}

function blob(extraBytes = 0) {
  return {
    claudeAiOauth: { accessToken: mint('acct'), refreshToken: mint('acct-r'), expiresAt: Date.now() + 8 * 3600_000 },
    mcpOAuth: {
      [LAB]: { serverName: 'lab', serverUrl: 'http://127.0.0.1:38423/mcp', clientId: 'c', accessToken: mint('at'), expiresAt: Date.now() + 3600_000, scope: 'mcp:tools', pad: 'x'.repeat(extraBytes) },
    },
  };
}

describe('Claude Code credential store (macOS Keychain through a fake security)', () => {
  let home: string;
  let e: Environment;
  let fake: FakeSecurity;
  let backups: SnapshotStore;
  let store: ClaudeCodeStore;

  beforeEach(async () => {
    home = await tempDir();
    e = sandboxEnv(home, { USER: 'alice' }, 'darwin');
    fake = new FakeSecurity();
    backups = new SnapshotStore(path.join(home, 'backups'));
    store = new ClaudeCodeStore(e, { backups, security: fake.runner, lockTimeoutMs: 2000 });
  });
  afterEach(async () => {
    await fs.rm(home, { recursive: true, force: true });
  });

  it('names the item as Claude Code does: plain by default, hashed per config dir', () => {
    const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);
    assert.equal(claudeKeychainService(sandboxEnv('/Users/u', {}, 'darwin')), SERVICE);
    assert.equal(claudeKeychainService(sandboxEnv('/Users/u', { CLAUDE_CONFIG_DIR: '/Users/u/.claude-work' }, 'darwin')), `${SERVICE}-${hash('/Users/u/.claude-work')}`);
    // The path string as given, not resolved (Claude Code hashes the raw variable).
    assert.equal(claudeKeychainService(sandboxEnv('/Users/u', { CLAUDE_CONFIG_DIR: '/Users/u/.claude-work/' }, 'darwin')), `${SERVICE}-${hash('/Users/u/.claude-work/')}`);
    assert.equal(claudeKeychainService(sandboxEnv('/Users/u', { CLAUDE_SECURESTORAGE_CONFIG_DIR: '/s' }, 'darwin')), `${SERVICE}-${hash('/s')}`);
    assert.equal(claudeKeychainService(sandboxEnv('/Users/u', { CLAUDE_CONFIG_DIR: '/x', CLAUDE_SECURESTORAGE_CONFIG_DIR: '' }, 'darwin')), SERVICE);
  });

  it('reads the item and reports its entries by fingerprint', async () => {
    const b = blob();
    fake.items.push({ service: SERVICE, account: 'alice', value: JSON.stringify(b) });
    const listing = await store.list();
    assert.deepEqual(listing.findings, []);
    assert.equal(store.kind, 'keychain');
    assert.equal(store.location, `Keychain item "${SERVICE}"`);
    assert.equal(listing.entries[0]?.accessTokenFingerprint, fingerprint(b.mcpOAuth[LAB]!.accessToken));
    assert.ok(fake.calls.every((c) => c.file === '/usr/bin/security'));
  });

  it('updates the item in place through security -i, never with -A or -T, and keeps the login', async () => {
    const b = blob();
    fake.items.push({ service: SERVICE, account: 'alice', value: JSON.stringify(b) });
    const fresh = mint('fresh');
    await store.write(LAB, { accessToken: fresh });
    const [write, ...more] = fake.writes();
    assert.equal(more.length, 0);
    assert.deepEqual(write!.args, ['-i']);
    assert.match(write!.input!, /^add-generic-password -U -a "alice" -s "Claude Code-credentials" -X "[0-9a-f]+"\n$/);
    for (const c of fake.calls) {
      assert.ok(!c.args.includes('-A') && !c.args.includes('-T'), `forbidden flag in ${c.args.join(' ')}`);
      assert.ok(!c.args.some((a) => a.includes(fresh)), 'the secret must not appear in argv');
    }
    const stored = JSON.parse(fake.items[0]!.value);
    assert.equal(stored.mcpOAuth[LAB].accessToken, fresh);
    assert.deepEqual(stored.claudeAiOauth, b.claudeAiOauth);
    assert.equal(fake.items.length, 1);
    // Read back after the update, to prove it landed.
    assert.deepEqual(fake.calls.at(-1)!.args, ['find-generic-password', '-a', 'alice', '-s', SERVICE, '-w']);
    const [snap] = (await backups.list()).snapshots;
    assert.equal(snap?.storeKind, 'keychain');
    assert.equal(snap?.location, `Keychain item "${SERVICE}"`);
  });

  it('falls back to argv (hex) when the blob would overflow the security -i line', async () => {
    fake.items.push({ service: SERVICE, account: 'alice', value: JSON.stringify(blob(2500)) });
    await store.write(LAB, { accessToken: mint() });
    const [write] = fake.writes();
    assert.equal(write!.args[0], 'add-generic-password');
    assert.deepEqual(write!.args.slice(0, 6), ['add-generic-password', '-U', '-a', 'alice', '-s', SERVICE]);
    assert.equal(write!.args[6], '-X');
    assert.ok(!write!.args.includes('-w'));
  });

  it('updates the item under the account it was found with (empty in some builds)', async () => {
    fake.items.push({ service: SERVICE, account: '', value: JSON.stringify(blob()) });
    await store.write(LAB, { accessToken: mint() });
    assert.match(fake.writes()[0]!.input!, /-a "" -s "Claude Code-credentials"/);
    assert.equal(fake.items.length, 1);
  });

  it('falls back to the credentials file when there is no item, as Claude Code does', async () => {
    const file = claudeCredentialsFile(e);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify(blob()));
    const listing = await store.list();
    assert.equal(store.kind, 'file');
    assert.equal(listing.entries.length, 1);
    const at = mint();
    await store.write(LAB, { accessToken: at });
    assert.equal(fake.writes().length, 0);
    assert.equal(JSON.parse(await fs.readFile(file, 'utf8')).mcpOAuth[LAB].accessToken, at);
  });

  it('reports a locked keychain and writes nothing', async () => {
    fake.items.push({ service: SERVICE, account: 'alice', value: JSON.stringify(blob()) });
    fake.locked = true;
    const listing = await store.list();
    assert.deepEqual(
      listing.findings.map((f) => f.code),
      ['credentials.keychain-unavailable'],
    );
    assert.match(listing.findings[0]!.detail, /locked/);
    await assert.rejects(store.write(LAB, { accessToken: mint() }), MalformedStoreError);
    assert.equal(fake.writes().length, 0);
  });

  it('treats a security call that hangs as unavailable', async () => {
    fake.hang = true;
    const listing = await store.list();
    assert.deepEqual(
      listing.findings.map((f) => f.code),
      ['credentials.keychain-unavailable'],
    );
    await assert.rejects(store.write(LAB, { accessToken: mint() }));
  });

  it('warns when the blob nears the size Claude Code can store, and not before', async () => {
    fake.items.push({ service: SERVICE, account: 'alice', value: JSON.stringify(blob(1500)) });
    const findings = (await store.list()).findings;
    assert.deepEqual(
      findings.map((f) => f.code),
      ['credentials.keychain-near-limit'],
    );
    fake.items[0]!.value = JSON.stringify(blob(100));
    assert.deepEqual((await store.list()).findings, []);
  });

  it('reports a blob cut off at ~2 KB (claude-code#28542) and refuses to write over it', async () => {
    const whole = JSON.stringify(blob(1800));
    fake.items.push({ service: SERVICE, account: 'alice', value: whole.slice(0, 2010) });
    const findings = (await store.list()).findings;
    assert.deepEqual(
      findings.map((f) => f.code),
      ['credentials.invalid-json'],
    );
    assert.match(findings[0]!.title, /cut off/);
    await assert.rejects(store.write(LAB, { accessToken: mint() }), MalformedStoreError);
    assert.equal(fake.writes().length, 0);
  });

  it('decodes the hex that macOS 26 prints for -w', async () => {
    const b = blob();
    fake.items.push({ service: SERVICE, account: 'alice', value: JSON.stringify(b) });
    fake.printsHex = true;
    assert.equal((await store.list()).entries[0]?.key, LAB);
    assert.equal(decodePassword('7b7d\n'), '{}');
    assert.equal(decodePassword('{"a":1}\n'), '{"a":1}');
  });

  it('mentions a file copy beside the item (Claude Code ignores it)', async () => {
    fake.items.push({ service: SERVICE, account: 'alice', value: JSON.stringify(blob()) });
    const file = claudeCredentialsFile(e);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify(blob()));
    assert.deepEqual(
      (await store.list()).findings.map((f) => [f.code, f.severity]),
      [['credentials.split-store', 'info']],
    );
  });

  it('restores a snapshot of the item even after the item was deleted', async () => {
    const b = blob();
    fake.items.push({ service: SERVICE, account: 'alice', value: JSON.stringify(b) });
    const snap = (await backups.read((await store.backup())!.id))!;
    fake.items = [];
    assert.deepEqual(
      (await store.list()).findings.map((f) => f.code),
      [],
      'with no item and no file there is nothing at the Keychain location to compare',
    );
    await store.restore(snap);
    assert.deepEqual(fake.items, [{ service: SERVICE, account: 'alice', value: JSON.stringify(b) }]);
  });

  it('parses the account from security attribute output', () => {
    assert.equal(parseAccount('    "acct"<blob>="bob"\n'), 'bob');
    assert.equal(parseAccount('    "acct"<blob>=<NULL>\n'), '');
    assert.equal(parseAccount('    "acct"<blob>=0x626F62  "bob"\n'), 'bob');
    assert.equal(parseAccount('nothing'), undefined);
  });
});
