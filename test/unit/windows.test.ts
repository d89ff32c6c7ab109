// Windows rules with `platform: 'win32'` injected through the Environment. No Windows machine ran
// these: every expected shape comes from the clients' source or binaries (docs/client-versions.md,
// "Windows"), so they prove we follow those rules, not that Windows behaves as the source says.
// No real recording backs them either: no public `cmdkey /list` or Credential Manager listing of a
// Codex or Claude Code item was found (test/fixtures/windows/ holds none). The nearest is prose:
// openai/codex#28201 (codex-cli 0.139.0) says the Credential Manager "may contain a legacy direct
// keyring entry named like `notion|...` under service `Codex MCP Credentials`", which fits the
// UserName = account half of windowsCredentialName but shows no target name.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { globalConfigCandidates, managedMcpFile, settingsFiles } from '../../src/core/config/claudeCodePaths';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import { CODEX_KEYRING_SERVICE, windowsCredentialName, type KeyringRunner } from '../../src/core/credentials/codexKeyring';
import { FlockUnavailableError, acquireFlock, codexFileStoreLockPath, codexRefreshLockPath, codexSecretsStoreLockPath } from '../../src/core/credentials/codexLocks';
import { CODEX_SECRETS_KEYRING_SERVICE, codexSecretsPassphraseAccount, rustCanonicalForm } from '../../src/core/credentials/codexSecrets';
import { codexCredentialSettings, readCodexCredentialSettings, usesSecretsBackend } from '../../src/core/credentials/codexSettings';
import { CodexStore, codexCredentialsFile, codexKey, codexKeyringLabel, codexSecretsFile } from '../../src/core/credentials/codexStore';
import { claudeConfigDir, codexHome, homeFor, type Environment } from '../../src/core/environment';
import { mint, sandboxEnv, tempDir } from './credentialsHelpers';

const PROFILE = 'C:\\Users\\ada';

function windowsEnv(env: Record<string, string | undefined> = {}): Environment {
  return { home: PROFILE, env: { USERPROFILE: PROFILE, ...env }, platform: 'win32', projectDirs: [] };
}

describe('Windows (win32 injected; shapes from client source, untested on Windows)', () => {
  describe('paths', () => {
    it('the home is %USERPROFILE%, not the HOME Git Bash or MSYS sets', () => {
      assert.equal(homeFor('win32', { HOME: '/c/Users/ada', USERPROFILE: PROFILE }, 'fallback'), PROFILE);
      assert.equal(homeFor('win32', { HOME: '/c/Users/ada' }, 'C:\\Users\\fallback'), 'C:\\Users\\fallback', 'no USERPROFILE: the OS profile folder (os.homedir)');
      assert.equal(homeFor('linux', { HOME: '/home/ada', USERPROFILE: 'x' }, 'fallback'), '/home/ada');
    });

    it("Codex's files sit under %USERPROFILE%\\.codex, written the Windows way", () => {
      const e = windowsEnv();
      assert.equal(codexHome(e), 'C:\\Users\\ada\\.codex');
      assert.equal(codexCredentialsFile(e), 'C:\\Users\\ada\\.codex\\.credentials.json');
      assert.equal(codexSecretsFile(e), 'C:\\Users\\ada\\.codex\\secrets\\mcp_oauth.age');
      assert.equal(codexFileStoreLockPath(codexHome(e)), 'C:\\Users\\ada\\.codex\\mcp-oauth-locks\\file-store.lock');
      assert.equal(codexSecretsStoreLockPath(codexHome(e)), 'C:\\Users\\ada\\.codex\\mcp-oauth-locks\\secrets-store.lock');
      assert.match(codexRefreshLockPath(codexHome(e), 'k'), /^C:\\Users\\ada\\\.codex\\mcp-oauth-locks\\[0-9a-f]{64}\.lock$/);
      assert.equal(codexHome(windowsEnv({ CODEX_HOME: 'D:\\codex' })), 'D:\\codex', 'CODEX_HOME wins');
    });

    it("Claude Code's config, credentials and managed files on Windows", async () => {
      const e = windowsEnv();
      assert.equal(claudeConfigDir(e), 'C:\\Users\\ada\\.claude');
      assert.equal(claudeCredentialsFile(e), 'C:\\Users\\ada\\.claude\\.credentials.json');
      assert.equal(claudeCredentialsFile(windowsEnv({ CLAUDE_CONFIG_DIR: 'D:\\claude' })), 'D:\\claude\\.credentials.json');
      assert.equal(settingsFiles(e, undefined).user, 'C:\\Users\\ada\\.claude\\settings.json');
      assert.equal(settingsFiles(e, undefined).managed, 'C:\\Program Files\\ClaudeCode\\managed-settings.json');
      assert.equal(managedMcpFile(e), 'C:\\Program Files\\ClaudeCode\\managed-mcp.json');
      assert.equal((await globalConfigCandidates(e)).file, 'C:\\Users\\ada\\.claude.json');
    });
  });

  describe("Codex's keyring items in the Credential Manager", () => {
    it('are named as keyring-rs names them: target `<account>.<service>`, user = account', () => {
      const key = codexKey('lab', 'http://127.0.0.1:38423/mcp');
      assert.deepEqual(windowsCredentialName(CODEX_KEYRING_SERVICE, key), { target: `${key}.Codex MCP Credentials`, userName: key });
      assert.deepEqual(windowsCredentialName(CODEX_SECRETS_KEYRING_SERVICE, 'secrets|0123456789abcdef'), { target: 'secrets|0123456789abcdef.codex', userName: 'secrets|0123456789abcdef' });
      assert.equal(codexKeyringLabel('win32'), 'Credential Manager (targets "<storage key>.Codex MCP Credentials")');
      assert.equal(codexKeyringLabel('linux'), 'Secret Service (service "Codex MCP Credentials")');
    });

    it("the secrets key's account hashes CODEX_HOME as Rust's canonicalize spells it on Windows", async () => {
      assert.equal(rustCanonicalForm('C:\\Users\\ada\\.codex', 'win32'), '\\\\?\\C:\\Users\\ada\\.codex');
      assert.equal(rustCanonicalForm('\\\\files\\home\\ada\\.codex', 'win32'), '\\\\?\\UNC\\files\\home\\ada\\.codex');
      assert.equal(rustCanonicalForm('\\\\?\\C:\\x', 'win32'), '\\\\?\\C:\\x', 'already verbatim');
      assert.equal(rustCanonicalForm('/home/ada/.codex', 'linux'), '/home/ada/.codex');
      // A CODEX_HOME that does not exist: canonicalize fails, Codex hashes the path as given.
      const missing = 'C:\\Users\\ada\\.codex';
      const asGiven = `secrets|${createHash('sha256').update(missing).digest('hex').slice(0, 16)}`;
      assert.equal(await codexSecretsPassphraseAccount(missing, 'win32'), asGiven);
    });
  });

  describe("Codex's secrets backend is the Windows default (features `secret_auth_storage: cfg!(windows)`)", () => {
    it('on by default on win32 only; `file` mode or an explicit false turns it off', () => {
      assert.equal(usesSecretsBackend(codexCredentialSettings(undefined, 'win32')), true);
      assert.equal(usesSecretsBackend(codexCredentialSettings(undefined, 'linux')), false);
      assert.equal(usesSecretsBackend(codexCredentialSettings(undefined, 'darwin')), false);
      assert.equal(usesSecretsBackend(codexCredentialSettings({ mode: 'keyring' }, 'win32')), true);
      assert.equal(usesSecretsBackend(codexCredentialSettings({ mode: 'file' }, 'win32')), false);
      assert.equal(usesSecretsBackend(codexCredentialSettings({ secretAuthStorage: false }, 'win32')), false);
    });

    it("a win32 store with no config points at the secrets file; config.toml's false points it back at the Credential Manager", async () => {
      const home = await tempDir('mad-win-');
      try {
        const e = sandboxEnv(home, {}, 'win32');
        const runner: KeyringRunner = async (ops) => ({ reachable: true, results: ops.map(() => ({ ok: true as const, value: null, found: [] })) });
        /** Where a store reading config.toml afresh keeps logins, after one listing. */
        const where = async () => {
          const s = new CodexStore(e, { backups: new SnapshotStore(path.join(home, 'backups')), keyring: runner, secretsKeyring: runner });
          await s.list();
          return s.location;
        };
        assert.match(await where(), /^Codex's encrypted secrets file/);
        await fs.mkdir(path.join(home, '.codex'), { recursive: true });
        await fs.writeFile(path.join(home, '.codex', 'config.toml'), '[features]\nsecret_auth_storage = false\n');
        assert.equal((await readCodexCredentialSettings(e)).secretAuthStorage, false);
        assert.match(await where(), /^Credential Manager/);
      } finally {
        await fs.rm(home, { recursive: true, force: true });
      }
    });
  });

  describe("Codex's lock (LockFileEx) cannot be taken: writes refuse, reads go on", () => {
    let home: string;
    beforeEach(async () => {
      home = await tempDir('mad-win-');
    });
    afterEach(async () => {
      await fs.rm(home, { recursive: true, force: true });
    });

    it('a win32 lock is refused with the reason and the hand-off, and creates nothing', async () => {
      const lock = codexFileStoreLockPath(path.join(home, '.codex'));
      const err = await acquireFlock(lock, { platform: 'win32' }).then(
        () => undefined,
        (x: unknown) => x,
      );
      assert.ok(err instanceof FlockUnavailableError);
      assert.match(err.message, /LockFileEx/);
      assert.match(err.message, /codex mcp login <server>/);
      assert.match(err.message, /codex mcp logout <server>/);
      assert.match(err.message, /Nothing was written\.$/);
      assert.equal(existsSync(path.dirname(lock)), false, 'no lock folder created');
    });

    it('a win32 store reads its file but refuses to write or delete, leaving the file as it was', async () => {
      const e = sandboxEnv(home, {}, 'win32');
      const url = 'http://127.0.0.1:38423/mcp';
      const key = codexKey('lab', url);
      const entry = { server_name: 'lab', server_url: url, client_id: 'client-lab', access_token: mint('at'), expires_at: Date.now() + 3600_000, refresh_token: mint('rt'), scopes: ['mcp:tools'] };
      const file = codexCredentialsFile(e);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const text = JSON.stringify({ [key]: entry });
      await fs.writeFile(file, text, { mode: 0o600 });
      const noKeyring: KeyringRunner = async () => ({ reachable: false, reason: 'not used' });
      const store = new CodexStore(e, { settings: { mode: 'file', secretAuthStorage: false, servers: [{ name: 'lab', url }] }, backups: new SnapshotStore(path.join(home, 'backups')), keyring: noKeyring, secretsKeyring: noKeyring });

      const read = await store.read(key);
      assert.equal(read?.serverName, 'lab', 'the read goes on without the lock');
      await assert.rejects(store.write(key, { accessToken: mint('at') }), (x: unknown) => x instanceof FlockUnavailableError && /codex mcp login/.test(x.message));
      await assert.rejects(store.delete(key), FlockUnavailableError);
      assert.equal(await fs.readFile(file, 'utf8'), text, 'the file is unchanged');
      assert.equal(existsSync(path.join(home, '.codex', 'mcp-oauth-locks')), false, 'no lock files created');
    });
  });
});
