// Unknown fields beyond the credential files (storeFields.ts `unknownStoreFields` with
// `keyrings`): Codex's keyring items (in a private Secret Service, where secret-tool runs),
// Codex 0.171's encrypted secrets file, and Claude Code's macOS Keychain item (through a fake
// /usr/bin/security, as test/unit/claudeCodeStoreKeychain.test.ts drives it). Each is read with
// the store's own read-only reader; without `keyrings` nothing but the file is read.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { claudeKeychainService, type CommandResult, type CommandRunner } from '../../src/core/credentials/claudeCodeKeychain';
import { CODEX_KEYRING_SERVICE, type KeyringOpResult, type KeyringRunner } from '../../src/core/credentials/codexKeyring';
import { codexSecretKey, codexSecretsPassphraseAccount, encryptSecretsFile, serializeSecretsDoc } from '../../src/core/credentials/codexSecrets';
import { codexKey } from '../../src/core/credentials/codexStore';
import { describeUnknownField, unknownStoreFields, writeGuard } from '../../src/core/storeFields';
import type { ClientVersionInfo } from '../../src/core/clientVersions';
import { mint, sandboxEnv, tempDir } from './credentialsHelpers';
import { secretServiceUnavailable, startPrivateSecretService, type PrivateSecretService } from '../support/secretService';

const LAB_URL = 'http://127.0.0.1:34021/mcp';
const LAB = codexKey('lab', LAB_URL);

/** `StoredOAuthTokens` with one field of a future Codex and one extra from the server. */
function storedTokens(extra: Record<string, unknown> = { future_binding: 'x' }): string {
  return JSON.stringify({
    server_name: 'lab',
    url: LAB_URL,
    issuer: 'http://127.0.0.1:34021',
    client_id: 'c',
    token_response: { access_token: mint('at'), token_type: 'bearer', refresh_token: mint('rt'), vendor_extra: 1 },
    expires_at: Date.now() + 3600_000,
    ...extra,
  });
}

function memoryKeyring(): { runner: KeyringRunner; items: Map<string, string>; calls: number } {
  const k = { items: new Map<string, string>(), calls: 0, runner: undefined as unknown as KeyringRunner };
  k.runner = async (ops) => {
    k.calls += ops.length;
    return {
      reachable: true,
      results: ops.map((op): KeyringOpResult => (op.op === 'find' ? { ok: true, found: [] } : op.op === 'get' ? { ok: true, value: k.items.get(op.account) ?? null } : { ok: false, error: 'read-only test' })),
    };
  };
  return k;
}

const newer: ClientVersionInfo = { client: 'codex', version: '0.172.0', newestVerified: '0.171.0', newerThanVerified: true, source: 'path' } as ClientVersionInfo;

describe('unknown fields in the stores beside the credential files', function () {
  this.timeout(60_000);
  let home: string;
  beforeEach(async () => {
    home = await tempDir('mad-fields-');
    await fs.mkdir(path.join(home, '.codex'), { recursive: true });
  });
  afterEach(() => fs.rm(home, { recursive: true, force: true }));

  describe('Codex keyring items (private Secret Service)', () => {
    let ss: PrivateSecretService | undefined;
    before(async function () {
      if (secretServiceUnavailable()) return this.skip();
      ss = await startPrivateSecretService();
    });
    after(async () => ss?.stop());

    it('names a keyring value field no schema knows (not the server\'s token_response extras); without `keyrings` the keyring is not read', async () => {
      await fs.writeFile(path.join(home, '.codex', 'config.toml'), `mcp_oauth_credentials_store = "keyring"\n\n[mcp_servers.lab]\nurl = "${LAB_URL}"\n`);
      ss!.secretTool(['clear', 'service', CODEX_KEYRING_SERVICE]);
      const attrs = ['service', CODEX_KEYRING_SERVICE, 'username', LAB, 'target', 'default', 'application', 'rust-keyring'];
      assert.equal(ss!.secretTool(['store', '--label=lab', ...attrs], storedTokens()).status, 0);
      const e = sandboxEnv(home, { DBUS_SESSION_BUS_ADDRESS: ss!.env.DBUS_SESSION_BUS_ADDRESS });

      assert.equal(await unknownStoreFields(e, 'codex'), undefined, 'no file, keyring not asked');
      const u = await unknownStoreFields(e, 'codex', { keyrings: true });
      assert.ok(u);
      assert.deepEqual(u.fields.map((f) => [f.entry, f.path]), [[LAB, 'future_binding']]);
      assert.match(u.location, /Secret Service \(service "Codex MCP Credentials"\)/);
      assert.match(describeUnknownField(u.fields[0]!), /^future_binding \(entry lab\|[0-9a-f]{16} in Secret Service/);
      const guard = writeGuard(newer, u, LAB);
      assert.match(guard?.message ?? '', /future_binding/);
    });
  });

  describe('Codex 0.171 secrets file', () => {
    it('names a field of a secrets-file entry; other scopes and a value that is not JSON are left to the store', async () => {
      await fs.writeFile(path.join(home, '.codex', 'config.toml'), `mcp_oauth_credentials_store = "keyring"\n\n[features]\nsecret_auth_storage = true\n\n[mcp_servers.lab]\nurl = "${LAB_URL}"\n`);
      const secrets = memoryKeyring();
      secrets.items.set(await codexSecretsPassphraseAccount(path.join(home, '.codex')), 'seed-pass');
      const file = path.join(home, '.codex', 'secrets', 'mcp_oauth.age');
      await fs.mkdir(path.dirname(file), { recursive: true });
      const doc = { version: 1, secrets: { [codexSecretKey(LAB)]: storedTokens({ rotation_epoch: 3 }), 'env/x/OTHER': 'not json' } };
      await fs.writeFile(file, await encryptSecretsFile(serializeSecretsDoc(doc), 'seed-pass', 10));
      const before = await fs.readFile(file);
      const e = sandboxEnv(home);
      const u = await unknownStoreFields(e, 'codex', { keyrings: true, codex: { keyring: memoryKeyring().runner, secretsKeyring: secrets.runner } });
      assert.ok(u);
      assert.deepEqual(u.fields.map((f) => [f.entry, f.path]), [[LAB, 'rotation_epoch']]);
      assert.match(u.location, /encrypted secrets file/);
      assert.deepEqual(await fs.readFile(file), before, 'read only');
    });
  });

  describe("Claude Code's Keychain item (fake security)", () => {
    function fakeSecurity(blob: string | undefined): { runner: CommandRunner; calls: string[][] } {
      const calls: string[][] = [];
      const service = claudeKeychainService(sandboxEnv(home, {}, 'darwin'));
      const runner: CommandRunner = async (_file, args) => {
        calls.push([...args]);
        const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '', timedOut: false });
        if (args[0] !== 'find-generic-password' || !args.includes(service) || blob === undefined) return { code: 44, stdout: '', stderr: 'not found', timedOut: false };
        return args.includes('-w') ? ok(`${blob}\n`) : ok(`keychain: "/Users/u/Library/Keychains/login.keychain-db"\n    "acct"<blob>="u"\n`);
      };
      return { runner, calls };
    }
    const darwin = () => sandboxEnv(home, { USER: 'u' }, 'darwin');

    it('names unknown top-level keys and entry fields of the item, and never writes to it', async () => {
      const blob = JSON.stringify({
        mcpOAuth: { [LAB]: { serverName: 'lab', serverUrl: LAB_URL, accessToken: mint('at'), expiresAt: Date.now() + 3600_000, futureField: true } },
        futureTop: {},
      });
      const sec = fakeSecurity(blob);
      const u = await unknownStoreFields(darwin(), 'claude-code', { keyrings: true, security: sec.runner });
      assert.ok(u);
      assert.deepEqual(u.fields.map((f) => [f.entry ?? '', f.path]).sort(), [['', 'futureTop'], [LAB, 'futureField']]);
      assert.ok(u.fields.every((f) => /^Keychain item "/.test(f.store ?? '')));
      assert.ok(sec.calls.every((a) => a[0] === 'find-generic-password'), 'only reads');
      assert.equal(sec.calls.filter((a) => a.includes('-w')).length, 1, 'one secret read, as the store makes');
    });

    it('no Keychain read without `keyrings`, nor on Linux', async () => {
      const sec = fakeSecurity('{}');
      await unknownStoreFields(darwin(), 'claude-code', { security: sec.runner });
      await unknownStoreFields(sandboxEnv(home), 'claude-code', { keyrings: true, security: sec.runner });
      assert.equal(sec.calls.length, 0);
    });
  });
});
