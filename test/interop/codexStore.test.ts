// Interop with the real Codex CLI 0.169.0 (node_modules/.bin/codex) in a sandbox HOME/CODEX_HOME:
// what Codex itself makes of what our store reads and writes, in file and keyring (private
// Secret Service) modes, and that Codex waits for the locks we hold.
// Run: npx mocha --no-config --node-option import=tsx --timeout 120000 test/interop/codexStore.test.ts
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { CODEX_KEYRING_SERVICE } from '../../src/core/credentials/codexKeyring';
import { acquireFlock, codexFileStoreLockPath, codexRefreshLockPath } from '../../src/core/credentials/codexLocks';
import type { CodexOAuthStoreMode } from '../../src/core/credentials/codexSettings';
import { CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import type { Environment } from '../../src/core/environment';
import { REPO, mint, sandboxEnv, tempDir } from '../unit/credentialsHelpers';
import { secretServiceUnavailable, startPrivateSecretService, type PrivateSecretService } from '../support/secretService';

const CODEX = path.join(REPO, 'node_modules', '.bin', 'codex');
const HOUR = 3600_000;
// Nothing listens there: `codex mcp list` reads stored credentials without connecting.
const LAB_URL = 'http://127.0.0.1:9/mcp';
const LAB = codexKey('lab', LAB_URL);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function codex(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(CODEX, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('Codex credential store with the real Codex 0.169.0', function () {
  this.timeout(120_000);
  let ss: PrivateSecretService | undefined;
  let home: string;
  let codexHomeDir: string;

  before(async () => {
    await fs.access(CODEX);
    if (!secretServiceUnavailable()) ss = await startPrivateSecretService();
  });
  after(async () => {
    await ss?.stop();
  });
  beforeEach(async () => {
    home = await tempDir('mad-codex-interop-');
    codexHomeDir = path.join(home, '.codex');
    await fs.mkdir(codexHomeDir);
    ss?.secretTool(['clear', 'service', CODEX_KEYRING_SERVICE]);
  });
  afterEach(async () => {
    await fs.rm(home, { recursive: true, force: true });
  });

  async function configure(mode: CodexOAuthStoreMode): Promise<void> {
    await fs.writeFile(path.join(codexHomeDir, 'config.toml'), `mcp_oauth_credentials_store = "${mode}"\n\n[mcp_servers.lab]\nurl = "${LAB_URL}"\n`);
  }

  function env(bus?: string): Record<string, string> {
    return { HOME: home, CODEX_HOME: codexHomeDir, ...(bus ? { DBUS_SESSION_BUS_ADDRESS: bus } : {}) };
  }

  function environment(bus?: string): Environment {
    return sandboxEnv(home, env(bus));
  }

  /** Our store reading the same config.toml Codex reads. */
  function ours(bus?: string): CodexStore {
    return new CodexStore(environment(bus), { backups: new SnapshotStore(path.join(home, 'backups')) });
  }

  async function authStatus(bus?: string): Promise<string> {
    const r = await codex(['mcp', 'list', '--json'], env(bus));
    assert.equal(r.code, 0, r.stderr);
    const servers = JSON.parse(r.stdout) as { name: string; auth_status: string }[];
    return servers.find((s) => s.name === 'lab')!.auth_status;
  }

  const grant = (overrides: { expiresAt?: number; issuer?: string | null; refreshToken?: string | null } = {}) => ({
    serverName: 'lab',
    serverUrl: LAB_URL,
    clientId: 'client-lab',
    ...(overrides.issuer === null ? {} : { issuer: overrides.issuer ?? 'http://127.0.0.1:9' }),
    accessToken: mint('at'),
    refreshToken: overrides.refreshToken === undefined ? mint('rt') : overrides.refreshToken,
    expiresAt: overrides.expiresAt ?? Date.now() + HOUR,
    scopes: ['mcp:tools'],
  });

  it('file mode: Codex counts a grant we wrote as logged in, and not once we delete it', async () => {
    await configure('file');
    assert.notEqual(await authStatus(), 'o_auth');
    const s = ours();
    await s.write(LAB, grant());
    assert.equal(await authStatus(), 'o_auth');
    assert.equal((await fs.stat(codexCredentialsFile(environment()))).mode & 0o777, 0o600);
    assert.equal((await s.delete(LAB)).deleted, true);
    assert.notEqual(await authStatus(), 'o_auth');
  });

  it('Codex agrees with our "usable" verdict: an expired grant without a bound issuer is not logged in', async () => {
    await configure('file');
    const s = ours();
    for (const [g, usable] of [
      [grant({ expiresAt: Date.now() - HOUR }), true],
      [grant({ expiresAt: Date.now() - HOUR, issuer: null }), false],
      [grant({ expiresAt: Date.now() - HOUR, refreshToken: null }), false],
    ] as const) {
      await s.delete(LAB);
      await s.write(LAB, g);
      assert.equal((await s.read(LAB))?.usable, usable);
      assert.equal(await authStatus(), usable ? 'o_auth' : 'not_logged_in');
    }
  });

  it('Codex waits while we hold its file-store lock, and codex mcp logout waits for the refresh lock', async () => {
    await configure('file');
    await ours().write(LAB, grant());
    for (const lockFile of [codexFileStoreLockPath(codexHomeDir), codexRefreshLockPath(codexHomeDir, LAB)]) {
      const held = await acquireFlock(lockFile);
      const releaseAfter = 2_000;
      const timer = setTimeout(() => void held.release(), releaseAfter);
      const run = lockFile.endsWith('file-store.lock') ? await codex(['mcp', 'list', '--json'], env()) : await codex(['mcp', 'logout', 'lab'], env());
      clearTimeout(timer);
      await held.release();
      assert.equal(run.code, 0, run.stderr);
      assert.ok(run.ms >= releaseAfter - 100, `${path.basename(lockFile)}: Codex finished after ${run.ms} ms, before we released the lock`);
    }
    assert.deepEqual((await ours().list()).entries, [], 'the logout that waited removed the grant');
  });

  describe('keyring mode (private Secret Service)', () => {
    beforeEach(function () {
      if (!ss) this.skip();
    });

    it('Codex reads a keyring item we wrote; codex mcp logout removes it and our listing agrees', async () => {
      await configure('keyring');
      const bus = ss!.env.DBUS_SESSION_BUS_ADDRESS;
      assert.notEqual(await authStatus(bus), 'o_auth');
      await ours(bus).write(LAB, grant());
      assert.equal(ss!.secretTool(['lookup', 'service', CODEX_KEYRING_SERVICE, 'username', LAB]).status, 0);
      await assert.rejects(fs.stat(codexCredentialsFile(environment(bus))), { code: 'ENOENT' });
      assert.equal(await authStatus(bus), 'o_auth');
      const logout = await codex(['mcp', 'logout', 'lab'], env(bus));
      assert.equal(logout.code, 0, logout.stderr);
      assert.notEqual(ss!.secretTool(['lookup', 'service', CODEX_KEYRING_SERVICE, 'username', LAB]).status, 0);
      assert.deepEqual((await ours(bus).list()).entries, []);
    });

    it('auto: Codex reads the keyring copy even when the file holds a better one, as our listing says', async () => {
      await configure('file');
      await ours().write(LAB, grant());
      await configure('auto');
      const bus = ss!.env.DBUS_SESSION_BUS_ADDRESS;
      // A dead keyring copy (expired, no refresh token) written beside the good file copy.
      const dead = JSON.stringify({ server_name: 'lab', url: LAB_URL, client_id: 'client-lab', token_response: { access_token: mint('at'), token_type: 'bearer' }, expires_at: Date.now() - HOUR });
      ss!.secretTool(['store', '--label=dead', 'service', CODEX_KEYRING_SERVICE, 'username', LAB, 'target', 'default', 'application', 'rust-keyring'], dead);
      const listing = await ours(bus).list();
      const used = listing.entries.find((x) => x.key === LAB);
      assert.equal(used?.store, 'keyring');
      assert.equal(used?.usable, false);
      assert.ok(listing.findings.some((f) => f.code === 'credentials.store-drift' && f.severity === 'warning'));
      assert.equal(await authStatus(bus), 'not_logged_in', 'Codex, like our listing, uses the keyring copy');
    });

    it('auto with no reachable keyring: we write the file, and Codex reads it from there', async () => {
      await configure('auto');
      const deadBus = `unix:path=${path.join(home, 'no-bus')}`;
      const s = ours(deadBus);
      await s.write(LAB, grant());
      assert.equal(s.kind, 'file');
      assert.ok(JSON.parse(await fs.readFile(codexCredentialsFile(environment(deadBus)), 'utf8'))[LAB]);
      assert.equal(await authStatus(deadBus), 'o_auth');
    });
  });
});
