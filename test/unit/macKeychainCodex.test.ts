// Codex's Keychain items on macOS, on a `security` stand-in replaying recorded outputs: a scan
// (and the store's listing) sees them by attributes and reads no secret, so macOS shows no
// prompt, until the caller passes the user's explicit permission; writes wait for it as well.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SnapshotStore } from '../../src/core/credentials/backups';
import type { KeyringOp, KeyringOpResult, KeyringRunner } from '../../src/core/credentials/codexKeyring';
import { CodexStore, codexCredentialsFile } from '../../src/core/credentials/codexStore';
import { argvReadsSecretOrAcl } from '../../src/core/credentials/macKeychain';
import {
  CODEX_KEYCHAIN_NOT_READ,
  CODEX_KEYCHAIN_NOT_WRITTEN,
  CODEX_KEYCHAIN_PROMPT_EXPLANATION,
  macCodexKeyringRunner,
  scanCodexKeychain,
} from '../../src/core/credentials/macKeychainCodex';
import type { Environment } from '../../src/core/environment';
import { mint, sandboxEnv, tempDir } from './credentialsHelpers';
import { securityReplay } from './macKeychainReplay';

const HOUR = 3600_000;
const LAB_KEY = 'lab|5d41402abc4b2a76';
const LAB_URL = 'http://127.0.0.1:38423/mcp';

/** `StoredOAuthTokens` as Codex keeps it in the keyring. */
function keyringValue(name: string, url: string): string {
  return JSON.stringify({
    server_name: name,
    url,
    client_id: `client-${name}`,
    token_response: { access_token: mint('at'), token_type: 'bearer', expires_in: 3599, refresh_token: mint('rt'), scope: 'mcp:tools' },
    expires_at: Date.now() + HOUR,
  });
}

/** Stands in for the @napi-rs/keyring child: every call to it would be a macOS prompt. */
function spyReader(items: Record<string, string> = {}, failWith?: string): { runner: KeyringRunner; calls: KeyringOp[] } {
  const calls: KeyringOp[] = [];
  const runner: KeyringRunner = async (ops) => {
    calls.push(...ops);
    const results = ops.map((op): KeyringOpResult => {
      if (failWith) return { ok: false, error: failWith };
      if (op.op === 'get') return { ok: true, value: items[op.account] ?? null };
      if (op.op === 'set') return { ok: true };
      return { ok: true };
    });
    return { reachable: true, results };
  };
  return { runner, calls };
}

describe("Codex's macOS Keychain items without surprise prompts (replayed security)", function () {
  this.timeout(30_000);
  let home: string;
  let e: Environment;
  let backups: SnapshotStore;

  beforeEach(async () => {
    home = await tempDir('mad-mac-codex-');
    await fs.mkdir(path.join(home, '.codex'), { recursive: true });
    e = sandboxEnv(home, {}, 'darwin');
    backups = new SnapshotStore(path.join(home, 'backups'));
  });
  afterEach(async () => {
    await fs.rm(home, { recursive: true, force: true });
  });

  it('the explanation names the dialog, the safer answer and what "Always Allow" hands out', () => {
    assert.match(CODEX_KEYCHAIN_PROMPT_EXPLANATION, /Codex MCP Credentials/);
    assert.match(CODEX_KEYCHAIN_PROMPT_EXPLANATION, /"Always Allow" lets every later node\/VS Code process read/);
    assert.match(CODEX_KEYCHAIN_PROMPT_EXPLANATION, /"Allow" is the safer answer/);
    assert.ok(!CODEX_KEYCHAIN_PROMPT_EXPLANATION.includes('\n'), 'one line');
  });

  it('scanCodexKeychain: every Codex item with account, date and keychain, from one attribute-only call', async () => {
    const replay = securityReplay('dump-keychain-attributes');
    const r = await scanCodexKeychain(replay.run);
    assert.ok(r.ok);
    assert.deepEqual(
      r.items.map((i) => i.account),
      [LAB_KEY, 'café|0cc175b9c0f1b6a8', 'docs|9e107d9d372bb682'],
    );
    assert.deepEqual(
      replay.calls.map((c) => c.args),
      [['dump-keychain']],
    );
  });

  it('the store lists on macOS without reading a secret: items are "not read", no -w, no keyring binding call', async () => {
    const replay = securityReplay('codex-find-lab', 'dump-keychain-attributes', 'not-found');
    const reader = spyReader({ [LAB_KEY]: keyringValue('lab', LAB_URL) });
    const store = new CodexStore(e, {
      settings: { mode: 'auto', secretAuthStorage: false, servers: [] },
      extraKeys: [LAB_KEY, 'gone|0000000000000000'],
      backups,
      security: replay.run,
      keyring: macCodexKeyringRunner({ security: replay.run, reader: reader.runner }),
    });
    const listing = await store.list();
    assert.deepEqual(reader.calls, [], 'no read through the binding (each would be a macOS prompt)');
    for (const c of replay.calls) assert.ok(!argvReadsSecretOrAcl(c.args), c.args.join(' '));
    assert.deepEqual(replay.unmatched, []);
    // Nothing was read, so no grant is shown with tokens; every Codex item is reported as not read.
    assert.equal(listing.copies.filter((c) => c.store === 'keyring').length, 0);
    const findings = JSON.stringify((await store.list()).findings);
    for (const key of [LAB_KEY, 'café|0cc175b9c0f1b6a8', 'docs|9e107d9d372bb682']) assert.ok(findings.includes(key), key);
    assert.ok(findings.includes(CODEX_KEYCHAIN_NOT_READ));
    assert.ok(!findings.includes('gone|0000000000000000'), 'an absent item is not reported');
    const items = await store.keychainItems();
    assert.ok(items?.ok);
    assert.equal(items.items.find((i) => i.account === LAB_KEY)?.modified, '2025-12-01T07:45:02Z');
  });

  it('with the explicit permission the secret is read through the binding, for items that exist only', async () => {
    const replay = securityReplay('codex-find-lab', 'dump-keychain-attributes', 'not-found');
    const values = { [LAB_KEY]: keyringValue('lab', LAB_URL), 'docs|9e107d9d372bb682': keyringValue('docs', 'http://127.0.0.1:38424/mcp') };
    const reader = spyReader(values);
    const store = new CodexStore(e, {
      settings: { mode: 'auto', secretAuthStorage: false, servers: [] },
      extraKeys: [LAB_KEY, 'gone|0000000000000000'],
      backups,
      keyring: macCodexKeyringRunner({ security: replay.run, reader: reader.runner, allowKeychainPrompt: true }),
    });
    const listing = await store.list();
    // One batch: the asked-for item that exists, then the items dump-keychain listed; never the absent one.
    assert.deepEqual(
      reader.calls.map((c) => (c.op === 'get' ? c.account : c.op)),
      [LAB_KEY, 'café|0cc175b9c0f1b6a8', 'docs|9e107d9d372bb682'],
    );
    assert.deepEqual(
      listing.copies.filter((c) => c.store === 'keyring').map((c) => c.key).sort(),
      ['docs|9e107d9d372bb682', LAB_KEY],
    );
    for (const c of replay.calls) assert.ok(!argvReadsSecretOrAcl(c.args), c.args.join(' '));
  });

  it('a write without permission is refused with the reason and touches neither the item nor the file', async () => {
    const replay = securityReplay('codex-find-lab', 'dump-keychain-attributes', 'not-found');
    const reader = spyReader();
    const store = new CodexStore(e, {
      settings: { mode: 'auto', secretAuthStorage: false, servers: [] },
      extraKeys: [LAB_KEY],
      backups,
      keyring: macCodexKeyringRunner({ security: replay.run, reader: reader.runner }),
    });
    await assert.rejects(store.write(LAB_KEY, { accessToken: mint('at') }), (err: Error) => err.message.includes(CODEX_KEYCHAIN_NOT_READ) && /nothing was written/.test(err.message));
    assert.deepEqual(reader.calls, []);
    await assert.rejects(fs.stat(codexCredentialsFile(e)), /ENOENT/);
    // The runner alone refuses writes too.
    const direct = await macCodexKeyringRunner({ security: replay.run, reader: reader.runner })([{ op: 'set', account: LAB_KEY, value: '{}' }]);
    assert.ok(direct.reachable);
    assert.deepEqual(direct.results[0], { ok: false, error: CODEX_KEYCHAIN_NOT_WRITTEN });
    assert.deepEqual(reader.calls, []);
  });

  it('a keychain that does not answer, or a refused search, ends in an unreachable keyring with the reason', async () => {
    for (const [recording, reason] of [
      ['find-hangs', /did not answer in time/],
      ['dump-auth-failed', /refused access to the keychain/],
    ] as const) {
      const reader = spyReader();
      const batch = await macCodexKeyringRunner({ security: securityReplay(recording).run, reader: reader.runner })([{ op: 'find' }]);
      assert.ok(!batch.reachable, recording);
      assert.match(batch.reason, reason);
      assert.deepEqual(reader.calls, []);
    }
  });

  it('with permission, a denied dialog or a locked keychain read by the binding says what happened (keyring-rs text untested on macOS)', async () => {
    const replay = securityReplay('codex-find-lab');
    for (const [text, meaning] of [
      ['Platform secure storage failure: User canceled the operation.', /denied or dismissed/],
      ['Platform secure storage failure: User interaction is not allowed.', /locked.*SSH/],
    ] as const) {
      const batch = await macCodexKeyringRunner({ security: replay.run, reader: spyReader({}, text).runner, allowKeychainPrompt: true })([{ op: 'get', account: LAB_KEY }]);
      assert.ok(batch.reachable);
      const r = batch.results[0]!;
      assert.ok(!r.ok);
      assert.match(r.error, meaning);
    }
  });

  it('by default on macOS the store routes through security, not the binding (no permission given)', async () => {
    const replay = securityReplay('codex-find-lab', 'dump-keychain-attributes', 'not-found');
    const store = new CodexStore(e, { settings: { mode: 'auto', secretAuthStorage: false, servers: [] }, extraKeys: [LAB_KEY], backups, security: replay.run });
    await store.list();
    assert.deepEqual(
      replay.calls.map((c) => c.args[0]).sort(),
      ['dump-keychain', 'find-generic-password'],
    );
    assert.ok(JSON.stringify((await store.list()).findings).includes(CODEX_KEYCHAIN_NOT_READ));
  });
});
