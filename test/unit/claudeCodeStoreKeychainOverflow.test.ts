// Claude Code 2.1.332's Keychain overflow (<service>-overflow-a/b, a `keychainOverflow` pointer),
// through a fake /usr/bin/security (macOS cannot run here: all of this is untested on macOS).
// Fixtures are sealed here with node:crypto from the format read in the darwin-arm64 binary, not
// with the module under test; what we write is checked with Claude Code's own read step, taken
// from the installed linux-x64 2.1.332 binary (test/support/claudeOverflowOracle.ts).
import { strict as assert } from 'node:assert';
import { createCipheriv, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { type CommandResult, type CommandRunner } from '../../src/core/credentials/claudeCodeKeychain';
import { KEYCHAIN_LINE_LIMIT, keychainLine, mergeOverflow, splitForKeychain } from '../../src/core/credentials/claudeCodeKeychainOverflow';
import { ClaudeCodeStore } from '../../src/core/credentials/claudeCodeStore';
import { MalformedStoreError } from '../../src/core/credentials/storeFile';
import type { Environment } from '../../src/core/environment';
import { fingerprint } from '../../src/core/storageKey';
import { claudeOverflowReader } from '../support/claudeOverflowOracle';
import { mint, sandboxEnv, tempDir } from './credentialsHelpers';

const SERVICE = 'Claude Code-credentials';
const KEYCHAIN = '/Users/alice/Library/Keychains/login.keychain-db';

interface Item {
  service: string;
  account: string;
  value: string;
}

class FakeSecurity {
  items: Item[] = [];
  calls: { args: string[]; input?: string }[] = [];
  /** Keychains named as add-generic-password's trailing argument. */
  keychainArgs: (string | undefined)[] = [];

  runner: CommandRunner = async (_file, args, options) => {
    this.calls.push({ args: [...args], ...(options.input !== undefined ? { input: options.input } : {}) });
    if (args[0] === '-i') {
      const line = (options.input ?? '').split('\n')[0]!;
      if (Buffer.byteLength(line) + 1 > 4096) return fail(1, 'line too long');
      const m = /^add-generic-password -U -a "([^"]*)" -s "([^"]*)" -X "([0-9a-f]*)"$/.exec(line);
      if (!m) return fail(1, 'unknown command');
      return this.add(m[2]!, m[1]!, Buffer.from(m[3]!, 'hex').toString('utf8'), undefined);
    }
    const opt = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
    const service = opt('-s');
    const account = opt('-a');
    if (args[0] === 'find-generic-password') {
      const item = this.items.find((it) => it.service === service && (account === undefined || it.account === account));
      if (!item) return fail(44, 'The specified item could not be found in the keychain.');
      if (args.includes('-w')) return { code: 0, stdout: `${item.value}\n`, stderr: '', timedOut: false };
      return { code: 0, stdout: `keychain: "${KEYCHAIN}"\nclass: "genp"\nattributes:\n    "acct"<blob>="${item.account}"\n    "svce"<blob>="${item.service}"\n`, stderr: '', timedOut: false };
    }
    if (args[0] === 'add-generic-password') {
      const value = opt('-X') !== undefined ? Buffer.from(opt('-X')!, 'hex').toString('utf8') : opt('-w')!;
      const last = args.at(-1)!;
      return this.add(service!, account!, value, last.startsWith('/') ? last : undefined);
    }
    return fail(2, 'usage');
  };

  private add(service: string, account: string, value: string, keychain: string | undefined): CommandResult {
    this.keychainArgs.push(keychain);
    const existing = this.items.find((it) => it.service === service && it.account === account);
    if (existing) existing.value = value;
    else this.items.push({ service, account, value });
    return { code: 0, stdout: '', stderr: '', timedOut: false };
  }

  get(service: string): string | undefined {
    return this.items.find((it) => it.service === service)?.value;
  }

  writes(): { args: string[]; input?: string }[] {
    return this.calls.filter((c) => c.args[0] === '-i' || c.args[0] === 'add-generic-password');
  }

  /** What Claude Code 2.1.332 itself reads from these items (its own read step). */
  claudeReads(): { data: Record<string, unknown>; isPartial: boolean } | undefined {
    const reader = claudeOverflowReader();
    assert.ok(reader, 'the linux-x64 Claude Code binary is installed (npm ci)');
    const item = JSON.parse(this.get(SERVICE)!) as Record<string, unknown>;
    const pointer = item.keychainOverflow as { slot?: string } | undefined;
    const slotItem = pointer?.slot ? this.get(reader.overflowService(SERVICE, pointer.slot)) : undefined;
    return reader.read(item, slotItem === undefined ? { exitCode: 44, stdout: null } : { exitCode: 0, stdout: slotItem });
  }
}

function fail(code: number, stderr: string): CommandResult {
  return { code, stdout: '', stderr, timedOut: false };
}

/** Sealed as the darwin-arm64 2.1.332 `LZl` seals: base64(iv12 ‖ AES-256-GCM(JSON) ‖ tag16), key in the pointer. */
function seal(key: Buffer, sections: unknown): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  return Buffer.concat([iv, c.update(JSON.stringify(sections), 'utf8'), c.final(), c.getAuthTag()]).toString('base64');
}

function grant(name: string, port: number) {
  return {
    serverName: name,
    serverUrl: `http://127.0.0.1:${port}/mcp`,
    clientId: `client-${name}`,
    accessToken: mint(`at-${name}`),
    refreshToken: mint(`rt-${name}`),
    expiresAt: Date.now() + 3600_000,
    scope: 'mcp:tools',
    discoveryState: { authorizationServerUrl: `http://127.0.0.1:${port}`, padding: 'p'.repeat(400) },
  };
}

/** A blob too big for one `security -i` line: a login and six MCP grants of ~700 bytes each. */
function bigBlob(): { claudeAiOauth: Record<string, unknown>; mcpOAuth: Record<string, ReturnType<typeof grant>> } {
  const mcpOAuth: Record<string, ReturnType<typeof grant>> = {};
  for (let i = 0; i < 6; i++) mcpOAuth[`srv${i}|00000000000000${i}${i}`] = grant(`srv${i}`, 40000 + i);
  return { claudeAiOauth: { accessToken: mint('acct'), refreshToken: mint('acct-r'), expiresAt: Date.now() + 8 * 3600_000 }, mcpOAuth };
}

/** Three grants moved to slot `a`, as a 2.1.332 write leaves them. */
function overflowedFixture(fake: FakeSecurity, whole = bigBlob()): { whole: ReturnType<typeof bigBlob>; moved: string[]; key: Buffer } {
  const keys = Object.keys(whole.mcpOAuth);
  const moved = keys.slice(0, 3);
  const key = randomBytes(32);
  const item = {
    claudeAiOauth: whole.claudeAiOauth,
    mcpOAuth: Object.fromEntries(keys.filter((k) => !moved.includes(k)).map((k) => [k, whole.mcpOAuth[k]])),
    keychainOverflow: { slot: 'a', key: key.toString('base64') },
  };
  const sections = { mcpOAuth: Object.fromEntries(moved.map((k) => [k, whole.mcpOAuth[k]])) };
  fake.items.push({ service: SERVICE, account: 'alice', value: JSON.stringify(item) });
  fake.items.push({ service: `${SERVICE}-overflow-a`, account: 'alice', value: seal(key, sections) });
  return { whole, moved, key };
}

describe('Claude Code Keychain overflow (2.1.332; fake security, untested on macOS)', () => {
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

  it('lists every grant, those in the overflow item too, as Claude Code reassembles them', async () => {
    const { whole, moved } = overflowedFixture(fake);
    // Claude Code's own read of the fixture: the format we sealed is the one it opens.
    assert.deepEqual(fake.claudeReads(), { data: whole, isPartial: false });
    const listing = await store.list();
    assert.deepEqual(
      listing.entries.map((x) => x.key).sort(),
      Object.keys(whole.mcpOAuth).sort(),
    );
    for (const key of moved) assert.equal(listing.entries.find((x) => x.key === key)?.accessTokenFingerprint, fingerprint(whole.mcpOAuth[key]!.accessToken));
    assert.deepEqual(
      listing.findings.map((f) => [f.code, f.severity]),
      [['credentials.keychain-overflow', 'info']],
    );
    assert.match(listing.findings[0]!.title, /Claude Code-credentials-overflow-a/);
    // Reads only: no write, no ACL flag, every call through /usr/bin/security's read verbs.
    assert.equal(fake.writes().length, 0);
    assert.ok(fake.calls.every((c) => c.args[0] === 'find-generic-password' && !c.args.includes('-A') && !c.args.includes('-T')));
  });

  it('updates a grant that lives in the overflow: the other slot first, then the item, and Claude Code reads the result', async () => {
    const { whole, moved } = overflowedFixture(fake);
    const fresh = mint('fresh');
    await store.write(moved[0]!, { accessToken: fresh });
    const writes = fake.writes();
    assert.deepEqual(
      writes.map((w) => (w.args[0] === '-i' ? 'item via -i' : w.args[5])),
      [`${SERVICE}-overflow-b`, 'item via -i'],
    );
    assert.equal(fake.keychainArgs[0], KEYCHAIN, 'a new overflow item goes to the keychain that holds the item');
    for (const c of fake.calls) assert.ok(!c.args.some((a) => a.includes(fresh)) && !c.args.includes('-A') && !c.args.includes('-T'));
    assert.ok(keychainLine('alice', SERVICE, JSON.parse(fake.get(SERVICE)!)).length <= KEYCHAIN_LINE_LIMIT);
    const expected = structuredClone(whole);
    expected.mcpOAuth[moved[0]!]!.accessToken = fresh;
    const read = fake.claudeReads()!;
    assert.equal(read.isPartial, false);
    assert.deepEqual(read.data, expected);
    assert.equal((JSON.parse(fake.get(SERVICE)!) as { keychainOverflow: { slot: string } }).keychainOverflow.slot, 'b');
    // The slot the old item pointed at is left as it was, as Claude Code leaves it.
    assert.ok(fake.get(`${SERVICE}-overflow-a`));
  });

  it('updates a grant kept in the item and leaves the overflow whole', async () => {
    const { whole, moved } = overflowedFixture(fake);
    const inItem = Object.keys(whole.mcpOAuth).find((k) => !moved.includes(k))!;
    const fresh = mint('fresh');
    await store.write(inItem, { accessToken: fresh });
    const expected = structuredClone(whole);
    expected.mcpOAuth[inItem]!.accessToken = fresh;
    assert.deepEqual(fake.claudeReads(), { data: expected, isPartial: false });
    assert.deepEqual((await store.list()).entries.find((x) => x.key === inItem)?.accessTokenFingerprint, fingerprint(fresh));
  });

  it('writes the whole blob back into the item once it fits again, as Claude Code does', async () => {
    const { whole, moved } = overflowedFixture(fake);
    for (const key of Object.keys(whole.mcpOAuth).slice(1)) await store.delete(key);
    const item = JSON.parse(fake.get(SERVICE)!) as Record<string, unknown>;
    assert.equal(item.keychainOverflow, undefined);
    assert.deepEqual(fake.claudeReads(), { data: { claudeAiOauth: whole.claudeAiOauth, mcpOAuth: { [moved[0]!]: whole.mcpOAuth[moved[0]!] } }, isPartial: false });
  });

  it('reports an overflow item that is gone, shows what Claude Code still reads, and refuses to write', async () => {
    const { whole, moved } = overflowedFixture(fake);
    fake.items = fake.items.filter((it) => it.service === SERVICE);
    const listing = await store.list();
    assert.deepEqual(
      listing.findings.map((f) => f.code),
      ['credentials.keychain-overflow-lost'],
    );
    assert.match(listing.findings[0]!.detail, /claude mcp login/);
    const claude = fake.claudeReads()!;
    assert.equal(claude.isPartial, true);
    assert.deepEqual(listing.entries.map((x) => x.key).sort(), Object.keys(claude.data.mcpOAuth as object).sort());
    assert.ok(!listing.entries.some((x) => moved.includes(x.key)));
    await assert.rejects(store.write(Object.keys(whole.mcpOAuth)[5]!, { accessToken: mint() }), MalformedStoreError);
    assert.equal(await store.backup(), undefined, 'a partial blob is not taken as the state to keep');
    assert.equal(fake.writes().length, 0);
  });

  it('treats an overflow sealed with another key as lost (a stale slot is never merged)', async () => {
    overflowedFixture(fake);
    fake.items.find((it) => it.service === `${SERVICE}-overflow-a`)!.value = seal(randomBytes(32), { mcpOAuth: {} });
    assert.deepEqual(
      (await store.list()).findings.map((f) => f.code),
      ['credentials.keychain-overflow-lost'],
    );
    assert.equal(fake.claudeReads()!.isPartial, true);
  });

  it('snapshots the reassembled blob, and a restore brings back every grant, the overflowed ones too', async () => {
    const { whole, moved } = overflowedFixture(fake);
    const snap = (await backups.read((await store.backup())!.id))!;
    assert.deepEqual(
      snap.entries.map((x) => x.key).sort(),
      Object.keys(whole.mcpOAuth).sort(),
    );
    assert.deepEqual(JSON.parse(snap.raw!), whole);
    // The overflow item disappears (e.g. a reset): the rest of the item is all Claude Code sees.
    fake.items = fake.items.filter((it) => it.service === SERVICE);
    await store.restore(snap);
    assert.deepEqual(fake.claudeReads(), { data: whole, isPartial: false });
    assert.deepEqual(
      (await store.list()).findings.map((f) => f.code),
      ['credentials.keychain-overflow'],
    );
    assert.ok(moved.length > 0);
  });

  it('restores one overflowed grant from a snapshot after it was deleted', async () => {
    const { whole, moved } = overflowedFixture(fake);
    const snap = (await backups.read((await store.backup())!.id))!;
    await store.delete(moved[1]!);
    assert.equal((fake.claudeReads()!.data.mcpOAuth as Record<string, unknown>)[moved[1]!], undefined);
    await store.restore(snap, moved[1]!);
    assert.deepEqual(fake.claudeReads(), { data: whole, isPartial: false });
  });

  it('splits as 2.1.332 does: largest grants out first, no more than needed, and Claude Code reassembles it', () => {
    const whole = bigBlob();
    whole.mcpOAuth['srv2|0000000000000022']!.discoveryState.padding = 'p'.repeat(900);
    const fits = (item: Record<string, unknown>) => keychainLine('alice', SERVICE, item).length <= KEYCHAIN_LINE_LIMIT;
    assert.ok(!fits(whole));
    const split = splitForKeychain(whole, 'a', fits)!;
    assert.ok(fits(split.item));
    const movedKeys = Object.keys(split.sections.mcpOAuth as object);
    assert.ok(movedKeys.includes('srv2|0000000000000022'), 'the largest grant moves first');
    assert.deepEqual(Object.keys(split.sections), ['mcpOAuth']);
    assert.deepEqual(Object.keys(split.item.keychainOverflow as object).sort(), ['key', 'slot']);
    // No more than needed: putting any moved grant back into the item breaks the line limit.
    for (const key of movedKeys) {
      const back = structuredClone(split.item) as { mcpOAuth: Record<string, unknown> };
      back.mcpOAuth[key] = whole.mcpOAuth[key];
      assert.ok(!fits(back), `${key} did not need to move`);
    }
    assert.deepEqual(mergeOverflow(split.item, split.sections), whole);
    const reader = claudeOverflowReader()!;
    assert.deepEqual(reader.read(split.item, { exitCode: 0, stdout: split.sealed }), { data: whole, isPartial: false });
    // Same overflow as before: slot and key are kept, so that item need not be rewritten.
    const again = splitForKeychain(whole, 'b', fits, [split]);
    assert.deepEqual(again?.pointer, split.pointer);
  });
});
