// Codex 0.171's encrypted secrets backend, with the real client on Linux: `-c`-free, the sandbox's
// config.toml turns on `[features] secret_auth_storage` (what Windows builds do by default) in
// keyring mode, against a private Secret Service and the loopback OAuth lab. The real
// `codex mcp login` writes `secrets/mcp_oauth.age`; we read exactly what it wrote (checked with
// age-encryption's own passphrase decrypter and the key from secret-tool, not with our reader),
// write a fresh token over a dead grant that Codex's app-server then connects with, refresh with
// our refresh repair, and reset (delete) so that `codex mcp list` says "not logged in".
// Run: npx mocha --no-config --node-option import=tsx --timeout 300000 test/interop/codexSecretsStore.test.ts
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { scanConfigs } from '../../src/core/config/scan';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { codexRefreshLockPath, codexSecretsStoreLockPath } from '../../src/core/credentials/codexLocks';
import { CODEX_SECRETS_KEYRING_SERVICE, codexSecretKey, codexSecretsFilePath, codexSecretsPassphraseAccount } from '../../src/core/credentials/codexSecrets';
import { CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import { codexHome, type Environment } from '../../src/core/environment';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/core/probe/http';
import { refresh } from '../../src/core/repair/refresh';
import type { RepairTarget } from '../../src/core/repair/types';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import { CODEX_BIN, codexAppServerStatus, codexLogin, codexMcpListJson, makeSandboxHome, sandboxEnv } from '../support/realClients';
import { secretServiceUnavailable, startPrivateSecretService, type PrivateSecretService } from '../support/secretService';

/** The decrypted file, read independently of our reader: age-encryption's own scrypt decrypter. */
async function decryptIndependently(file: string, passphrase: string): Promise<{ version: number; secrets: Record<string, string> }> {
  const { Decrypter } = await import('age-encryption');
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  return JSON.parse(await d.decrypt(await fs.readFile(file), 'text'));
}

(existsSync(CODEX_BIN) && process.platform === 'linux' && !secretServiceUnavailable() ? describe : describe.skip)('Codex 0.171 encrypted secrets backend, with the real codex', function () {
  this.timeout(300_000);
  let lab: Lab;
  let ss: PrivateSecretService;
  let home: string;
  let e: Environment;
  let store: CodexStore;
  let secretsFile: string;
  const key = () => codexKey('lab', lab.mcpUrl);

  async function passphrase(): Promise<string> {
    const account = await codexSecretsPassphraseAccount(codexHome(e));
    const r = ss.secretTool(['lookup', 'service', CODEX_SECRETS_KEYRING_SERVICE, 'username', account]);
    assert.equal(r.status, 0, `no passphrase item for ${account}: the account name differs from Codex's`);
    return r.stdout.replace(/\n$/, '');
  }
  /** `StoredOAuthTokens` as Codex serialised it. */
  interface RawTokens {
    server_name: string;
    url: string;
    issuer?: string;
    client_id: string;
    token_response: { access_token: string; refresh_token?: string; scope: string };
    expires_at?: number;
  }
  async function rawEntry(): Promise<RawTokens | undefined> {
    const doc = await decryptIndependently(secretsFile, await passphrase());
    const text = doc.secrets[codexSecretKey(key())];
    return text === undefined ? undefined : JSON.parse(text);
  }

  before(async () => {
    lab = await startLab();
    ss = await startPrivateSecretService();
    home = await makeSandboxHome('mad-codex-secrets-');
    const dir = path.join(home, '.codex');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'config.toml'), `mcp_oauth_credentials_store = "keyring"\n\n[features]\nsecret_auth_storage = true\n\n[mcp_servers.lab]\nurl = "${lab.mcpUrl}"\n`);
    e = { home, env: sandboxEnv(home, ss.env), platform: process.platform, projectDirs: [] };
    store = new CodexStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) });
    secretsFile = codexSecretsFilePath(codexHome(e));
    await codexLogin(home, 'lab', lab, { env: ss.env });
  });
  after(async () => {
    await lab?.close();
    await ss?.stop();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('codex wrote its login to the secrets file, named and keyed as we derive it, under the locks we take', async () => {
    await assert.rejects(fs.stat(codexCredentialsFile(e)), { code: 'ENOENT' }, 'no file copy in keyring mode');
    assert.equal(ss.secretTool(['search', '--all', 'service', 'Codex MCP Credentials']).stdout.trim(), '', 'no direct keyring item either');
    const doc = await decryptIndependently(secretsFile, await passphrase());
    assert.equal(doc.version, 1);
    assert.deepEqual(Object.keys(doc.secrets), [codexSecretKey(key())]);
    // Codex took (and so created) the same lock files we take.
    assert.ok(existsSync(codexSecretsStoreLockPath(codexHome(e))), 'secrets-store.lock');
    assert.ok(existsSync(codexRefreshLockPath(codexHome(e), key())), 'per-grant refresh lock');
  });

  it('our reader reports exactly what Codex stored, from the secrets file', async () => {
    const raw = (await rawEntry())!;
    const listing = await store.list();
    assert.equal(listing.entries.length, 1);
    const s = listing.entries[0]!;
    assert.deepEqual(
      [s.key, s.store, s.serverName, s.serverUrl, s.issuer, s.clientId, s.accessTokenFingerprint, s.refreshTokenFingerprint, s.expiresAt, s.scopes, s.usable],
      [key(), 'keyring', raw.server_name, raw.url, raw.issuer, raw.client_id, fingerprint(raw.token_response.access_token), fingerprint(raw.token_response.refresh_token ?? ''), raw.expires_at, raw.token_response.scope.split(' '), true],
    );
    assert.equal(raw.issuer, lab.issuer, 'Codex 0.171 records the issuer');
    assert.deepEqual(listing.findings, []);
  });

  it("after our write of a fresh token over a dead grant, Codex's app-server lists the tools", async () => {
    const mode = (await fs.stat(secretsFile)).mode & 0o777;
    const clientId = (await rawEntry())!.client_id;
    await store.write(key(), { accessToken: 'not-a-token', refreshToken: null, expiresAt: Date.now() + 3600_000 });
    const dead = (await codexAppServerStatus(home, { env: ss.env })).find((x) => x.name === 'lab');
    assert.ok(dead && dead.tools.length === 0, `with a dead grant Codex listed ${JSON.stringify(dead?.tools)}`);

    const fresh = await lab.mintTokens({ clientId });
    await store.write(key(), { accessToken: fresh.accessToken, refreshToken: fresh.refreshToken ?? null, expiresAt: Date.now() + fresh.expiresIn * 1000 });
    const refreshesBefore = lab.refreshes();
    const live = (await codexAppServerStatus(home, { env: ss.env })).find((x) => x.name === 'lab');
    assert.ok(live, 'lab missing from mcpServerStatus/list');
    assert.equal(live.toolsError, undefined);
    assert.ok(live.tools.length > 0, 'no tools listed');
    assert.equal(lab.refreshes(), refreshesBefore, 'Codex used the access token we wrote, without refreshing');
    const raw = (await rawEntry())!;
    assert.ok(raw.token_response.access_token === fresh.accessToken, 'the secrets file holds our token');
    assert.equal(raw.issuer, lab.issuer, 'fields we did not patch are kept');
    assert.equal((await fs.stat(secretsFile)).mode & 0o777, mode, 'file mode kept');
  });

  it('our refresh repair rotates the grant in the secrets file, and Codex connects with the result', async () => {
    const before = (await rawEntry())!;
    const scan = await scanConfigs(e, ['codex']);
    const server = scan.servers.find((s) => s.name === 'lab');
    assert.ok(server?.storageKey === key(), `scan key ${server?.storageKey}`);
    const target: RepairTarget = { server, store, key: key() };
    const outcome = await refresh(target, { http: { fetch: (i, init) => fetch(i, init), timeoutMs: 5000, maxBodyBytes: DEFAULT_MAX_BODY_BYTES }, runningClients: async () => ({ processes: [], known: true }) });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    const after = (await rawEntry())!;
    assert.ok(after.token_response.access_token !== before.token_response.access_token, 'a new access token');
    assert.equal(after.issuer, lab.issuer);
    const refreshesBefore = lab.refreshes();
    const live = (await codexAppServerStatus(home, { env: ss.env })).find((x) => x.name === 'lab');
    assert.ok(live && live.tools.length > 0 && live.toolsError === undefined, JSON.stringify(live?.toolsError));
    assert.equal(lab.refreshes(), refreshesBefore, 'Codex needed no refresh of its own');
  });

  it('reset: our delete removes only that entry, and codex mcp list says not logged in', async () => {
    assert.equal((await codexMcpListJson(home, { env: ss.env })).find((x) => x.name === 'lab')?.auth_status, 'o_auth');
    const r = await store.delete(key());
    assert.equal(r.deleted, true);
    assert.ok(r.snapshotId, 'the old value was snapshotted first');
    assert.equal(await rawEntry(), undefined);
    assert.equal((await codexMcpListJson(home, { env: ss.env })).find((x) => x.name === 'lab')?.auth_status, 'not_logged_in');
    // And a login after our rewrite still works for Codex (it decrypts what we encrypted).
    await codexLogin(home, 'lab', lab, { env: ss.env });
    assert.equal((await codexMcpListJson(home, { env: ss.env })).find((x) => x.name === 'lab')?.auth_status, 'o_auth');
    assert.equal((await store.list()).entries[0]?.accessTokenFingerprint, fingerprint((await rawEntry())!.token_response.access_token));
  });
});
