// The refresh repair against the loopback lab and the real clients (Claude Code 2.1.197, Codex
// 0.169.0) in sandbox HOMEs: a refresh rotates the stored tokens the way the server rotates them
// (the old refresh token dies, the new one is stored and works; without rotation it is kept),
// registers nothing, and the client then connects with what we wrote; every refusal (revoked
// refresh token, forgotten client, network) leaves the store's bytes as they were; an unknown
// stored scope gets one retry without scope; Codex's refresh lock is held across the token
// request, Claude Code's write lock is not; the CLI plans without --yes and prints the Undo line.
// Run: npx mocha --no-config --node-option import=tsx --timeout 180000 test/interop/repairRefresh.test.ts
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import { scanConfigs } from '../../src/core/config/scan';
import { LockTimeoutError } from '../../src/core/credentials/atomicWrite';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { claudeCodeStore, claudeCredentialsFile, claudeNeedsAuthCacheFile, claudeStorageLockTarget, type ClaudeCodeStore } from '../../src/core/credentials/claudeCodeStore';
import { acquireFlock, codexRefreshLockPath } from '../../src/core/credentials/codexLocks';
import { CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import type { CredentialStore } from '../../src/core/credentials/store';
import { codexHome, type Environment } from '../../src/core/environment';
import type { ClientId } from '../../src/core/model';
import { DEFAULT_MAX_BODY_BYTES, type FetchLike, type HttpSettings } from '../../src/core/probe/http';
import { planRefresh, refresh, type RefreshContext } from '../../src/core/repair/refresh';
import type { RepairTarget } from '../../src/core/repair/types';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import { CLAUDE_BIN, CODEX_BIN, claudeLogin, claudeMcpAdd, claudeMcpList, codexAppServerStatus, codexLogin, makeSandboxHome, sandboxEnv } from '../support/realClients';

const noneRunning = async () => ({ processes: [], known: true });

function httpWith(fetchImpl: FetchLike = (input, init) => fetch(input, init)): HttpSettings {
  return { fetch: fetchImpl, timeoutMs: 5000, maxBodyBytes: DEFAULT_MAX_BODY_BYTES };
}

/** Equality of secret-bearing values without printing them. */
function assertSameSecret(actual: string | undefined, expected: string | undefined, what: string): void {
  assert.ok(actual === expected, `${what}: ${actual ? fingerprint(actual) : 'missing'} != ${expected ? fingerprint(expected) : 'missing'}`);
}

/** The text of an outcome or plan must never hold a stored secret. */
function assertNoSecrets(value: unknown, secrets: (string | undefined)[]): void {
  const text = JSON.stringify(value);
  for (const s of secrets) if (s) assert.ok(!text.includes(s), `a secret (${fingerprint(s)}) appears in ${text.slice(0, 80)}…`);
}

async function targetFor(e: Environment, client: ClientId, name: string, store: CredentialStore): Promise<RepairTarget> {
  const scan = await scanConfigs(e, [client]);
  const server = scan.servers.find((s) => s.name === name);
  assert.ok(server?.storageKey, `no ${client} server ${name}`);
  return { server, store, key: server.storageKey };
}

(existsSync(CLAUDE_BIN) && process.platform !== 'darwin' ? describe : describe.skip)('refresh repair: Claude Code', function () {
  this.timeout(60_000);
  let lab: Lab;
  let home: string;
  let project: string;
  let e: Environment;
  let backups: SnapshotStore;
  let store: ClaudeCodeStore;
  let file: string;
  let target: RepairTarget;
  const ctx = (http = httpWith()): RefreshContext => ({ http, runningClients: noneRunning });
  const bytes = () => fs.readFile(file, 'utf8');
  const stored = async () => (await store.readSecret(target.key))!;

  /** A live grant for the stored client, written into the entry (as a login would leave it). */
  async function freshGrant(extraScopes: string[] = []): Promise<{ accessToken: string; refreshToken: string; clientId: string }> {
    const clientId = (await store.read(target.key))!.clientId!;
    const t = await lab.mintTokens({ clientId });
    assert.ok(t.refreshToken);
    const scopes = [...t.scope.split(' ').filter(Boolean), ...extraScopes];
    await store.write(target.key, { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: Date.now() + t.expiresIn * 1000, scopes });
    return { accessToken: t.accessToken, refreshToken: t.refreshToken, clientId };
  }

  before(async () => {
    lab = await startLab();
    home = await makeSandboxHome('mad-refresh-claude-');
    project = path.join(home, 'work', 'proj');
    await fs.mkdir(project, { recursive: true });
    e = { home, env: sandboxEnv(home), platform: process.platform, projectDirs: [project], managedMcpPath: path.join(home, 'no-managed-mcp.json') };
    backups = new SnapshotStore(path.join(home, 'backups'));
    store = claudeCodeStore(e, { backups });
    file = claudeCredentialsFile(e);
    await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'http', 'lab', lab.mcpUrl], { timeoutMs: 15_000 });
    await claudeLogin(home, project, 'lab', lab, { timeoutMs: 20_000 });
    target = await targetFor(e, 'claude-code', 'lab', store);
  });

  after(async () => {
    await lab?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('plans with fingerprints only, and hands off to `claude mcp login` while Claude Code runs', async () => {
    const secret = await stored();
    const plan = await planRefresh(target, {
      http: httpWith(),
      runningClients: async () => ({ processes: [{ client: 'claude-code', pid: 4242, command: 'claude' }], known: true }),
    });
    assert.equal(plan.blocked, undefined);
    assert.deepEqual(plan.target, { client: 'claude-code', server: 'lab', key: target.key, store: file });
    assert.ok(plan.changes.some((c) => c.startsWith(`accessToken: ${fingerprint(secret.accessToken!)} → new`)), plan.changes.join('\n'));
    assert.match(plan.warnings.join('\n'), /pid 4242.*claude mcp login lab/);
    assert.deepEqual(plan.handOff, { command: 'claude', args: ['mcp', 'login', 'lab'] });
    assertNoSecrets(plan, [secret.accessToken, secret.refreshToken]);
    const quiet = await planRefresh(target, ctx());
    assert.equal(quiet.handOff, undefined, 'no hand-off when no client runs');
  });

  it('with rotation: new tokens stored, the old refresh token dead, the new one works, nothing registered; claude connects with them', async () => {
    const before = await stored();
    const clientId = (await store.read(target.key))!.clientId!;
    const registrations = lab.registrations();
    const tokenRequests = lab.tokenEndpointRequests();
    // Claude Code stamped the server after a 401; the stamp of another server stays.
    const cache = claudeNeedsAuthCacheFile(e);
    await fs.writeFile(cache, JSON.stringify({ lab: { timestamp: Date.now() - 1000 }, gone: { timestamp: 1_700_000_000_000 } }));
    // The old access token is refused from now on, so "connected" below can only come from ours.
    await lab.revoke(before.accessToken!);

    // Claude Code's write lock must not be held while the token endpoint is asked.
    let storageLockHeldDuringRequest: boolean | undefined;
    const watching: FetchLike = async (input, init) => {
      if (String(input).endsWith('/token')) storageLockHeldDuringRequest = existsSync(`${claudeStorageLockTarget(e)}.lock`);
      return fetch(input, init);
    };
    const outcome = await refresh(target, ctx(httpWith(watching)));
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(storageLockHeldDuringRequest, false);
    const after = await stored();
    assert.notEqual(after.accessToken, before.accessToken, 'the access token changed');
    assert.ok(after.refreshToken && after.refreshToken !== before.refreshToken, 'the rotated refresh token was stored');
    const summary = (await store.read(target.key))!;
    assert.ok(summary.expiresAt && summary.expiresAt > Date.now() + 50 * 60_000, 'the new expiry is about an hour away');
    assert.equal(outcome.summary, `Refreshed lab: new token ${fingerprint(after.accessToken!)}, expires in 60 min`);
    assert.ok(outcome.changed.includes(`refreshToken: ${fingerprint(before.refreshToken!)} → ${fingerprint(after.refreshToken)} (rotated)`), outcome.changed.join('\n'));
    assertNoSecrets(outcome, [before.accessToken, before.refreshToken, after.accessToken, after.refreshToken]);
    // Undo: the snapshot taken just before the write holds the old grant.
    const snap = await backups.read(outcome.undoSnapshotId!);
    assert.equal(snap?.reason, 'before-write');
    assert.equal(snap?.entries.find((x) => x.key === target.key)?.accessToken, fingerprint(before.accessToken!));
    // The stale stamp went, the other stayed.
    assert.deepEqual(Object.keys(JSON.parse(await fs.readFile(cache, 'utf8'))), ['gone']);
    assert.ok(outcome.changed.some((c) => c.startsWith('mcp-needs-auth-cache.json: stamp for "lab"')));
    assert.equal(lab.tokenEndpointRequests(), tokenRequests + 1, 'one token request');

    // The real client connects with what we wrote, without refreshing on its own.
    const refreshes = lab.refreshes();
    const { servers } = await claudeMcpList(home, project, { timeoutMs: 30_000 });
    assert.equal(servers.find((s) => s.name === 'lab')?.statusText, '✔ Connected');
    assert.equal(lab.refreshes(), refreshes, 'claude used our access token as it was');

    // The stored refresh token works: a second refresh with it succeeds and rotates again.
    const again = await refresh(target, ctx());
    assert.ok(again.ok, JSON.stringify(again));
    assert.notEqual((await stored()).refreshToken, after.refreshToken);
    // The refresh token we started with is dead (reusing it also ends the grant at this lab).
    const reuse = await lab.refresh(clientId, before.refreshToken!);
    assert.equal(reuse.error, 'invalid_grant');
    assert.equal(lab.registrations(), registrations, 'a refresh registers no client');
  });

  it('without rotation the refresh token is kept', async () => {
    await freshGrant();
    lab.configure({ rotateRefreshTokens: false });
    try {
      const before = await stored();
      const outcome = await refresh(target, ctx());
      assert.ok(outcome.ok, JSON.stringify(outcome));
      const after = await stored();
      assert.notEqual(after.accessToken, before.accessToken);
      assertSameSecret(after.refreshToken, before.refreshToken, 'the refresh token');
      assert.ok(outcome.changed.includes(`refreshToken: ${fingerprint(before.refreshToken!)} kept (the server returned the same one)`), outcome.changed.join('\n'));
    } finally {
      lab.configure({ rotateRefreshTokens: true });
    }
  });

  it('a stored scope the server does not know: one retry without scope, and the granted scope is stored', async () => {
    await freshGrant(['mcp:unknown']);
    assert.deepEqual((await store.read(target.key))!.scopes.includes('mcp:unknown'), true);
    const tokenRequests = lab.tokenEndpointRequests();
    const outcome = await refresh(target, ctx());
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(lab.tokenEndpointRequests(), tokenRequests + 2, 'the refused request and one retry');
    assert.ok(outcome.changed.some((c) => /refused "mcp:tools( offline_access)? mcp:unknown" \(invalid_scope\); refreshed without asking for a scope/.test(c)), outcome.changed.join('\n'));
    const scopes = (await store.read(target.key))!.scopes;
    assert.ok(!scopes.includes('mcp:unknown') && scopes.includes('mcp:tools'), `stored scopes ${scopes.join(' ')}`);
  });

  it('a revoked refresh token: invalid-grant, the store byte for byte as it was, no snapshot', async () => {
    const grant = await freshGrant();
    await lab.revoke(grant.refreshToken);
    const before = await bytes();
    const snapshots = (await backups.list()).snapshots.length;
    const outcome = await refresh(target, ctx());
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok);
    assert.equal(outcome.error, 'invalid-grant');
    assert.deepEqual(outcome.next, ['relogin']);
    assert.match(outcome.message, /Nothing was written/);
    assert.equal(await bytes(), before, 'the store is unchanged');
    assert.equal((await backups.list()).snapshots.length, snapshots, 'no snapshot: nothing was written');
    assertNoSecrets(outcome, [grant.refreshToken, grant.accessToken]);
  });

  describe('the CLI', () => {
    let io: { stdout: string; stderr: string; run: (args: string[]) => Promise<number> };
    before(async () => {
      // Codex knows a server of the same name: the name alone is ambiguous.
      await fs.mkdir(path.join(home, '.codex'), { recursive: true });
      await fs.writeFile(path.join(home, '.codex', 'config.toml'), `mcp_oauth_credentials_store = "file"\n\n[mcp_servers.lab]\nurl = "${lab.mcpUrl}"\n`);
      io = {
        stdout: '',
        stderr: '',
        run: (args) => {
          io.stdout = '';
          io.stderr = '';
          return runCli(args, {
            stdout: (t) => (io.stdout += t),
            stderr: (t) => (io.stderr += t),
            env: sandboxEnv(home, { MCP_AUTH_DOCTOR_BACKUP_DIR: path.join(home, 'backups') }),
            cwd: project,
          });
        },
      };
    });

    it('an ambiguous name exits 2 and names the choices', async () => {
      assert.equal(await io.run(['refresh', 'lab']), 2);
      assert.match(io.stderr, /"lab" names 2 different credentials; choose one with --client/);
      assert.match(io.stderr, /--client claude-code/);
      assert.match(io.stderr, /--client codex/);
    });

    it('without --yes prints the plan, writes nothing and exits 1; with --yes refreshes, prints the Undo line and the new state', async () => {
      const grant = await freshGrant();
      const before = await bytes();
      assert.equal(await io.run(['refresh', 'lab', '--client', 'claude-code', '--cwd', project]), 1);
      assert.match(io.stdout, new RegExp(`Refresh the stored token of lab for Claude Code \\(${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, entry lab\\|`));
      assert.match(io.stdout, /Nothing written\. Run again with --yes/);
      assert.equal(await bytes(), before);

      assert.equal(await io.run(['refresh', 'lab', '--client', 'claude-code', '--yes']), 0, io.stdout + io.stderr);
      const undo = /Undo: mcp-auth-doctor restore (\S+) --entry '([^']+)' --yes/.exec(io.stdout);
      assert.ok(undo, io.stdout);
      assert.equal(undo[2], target.key);
      assert.equal((await backups.read(undo[1]!))?.entries.find((x) => x.key === target.key)?.accessToken, fingerprint(grant.accessToken));
      assert.match(io.stdout, /^State now: valid: /m);
      const now = await stored();
      assertNoSecrets(io.stdout + io.stderr, [grant.accessToken, grant.refreshToken, now.accessToken, now.refreshToken]);
    });
  });

  describe('when the server forgets its clients, then goes away', () => {
    it('a client the server forgot: invalid-client, guidance to log in with a new registration, nothing written', async () => {
      const grant = await freshGrant();
      assert.ok(lab.forgetClients() >= 1);
      const before = await bytes();
      const outcome = await refresh(target, ctx());
      assert.ok(!outcome.ok);
      assert.equal(outcome.error, 'invalid-client');
      assert.deepEqual(outcome.next, ['relogin', 'reset']);
      assert.match(outcome.message, new RegExp(`no longer knows the client ${grant.clientId}.*Nothing was written.*new registration`));
      assert.equal(await bytes(), before);
    });

    it('the server gone as the token request leaves: a network error, not an authorization failure, nothing written', async () => {
      const before = await bytes();
      // Discovery finds the token endpoint; the lab stops just before the token request is sent.
      const closing: FetchLike = async (input, init) => {
        if (String(input).endsWith('/token')) await lab.close();
        return fetch(input, init);
      };
      const outcome = await refresh(target, ctx(httpWith(closing)));
      assert.ok(!outcome.ok);
      assert.equal(outcome.error, 'network');
      assert.deepEqual(outcome.next, ['refresh']);
      assert.match(outcome.message, /^The token endpoint could not be reached \((ECONNREFUSED|UND_ERR_SOCKET)\b.*\)\. Nothing was written\. This is not an authorization failure/);
      assert.equal(await bytes(), before);
      // With the server gone before discovery, nothing is sent to any token endpoint either.
      const early = await refresh(target, ctx());
      assert.ok(!early.ok);
      assert.equal(early.error, 'network');
      assert.match(early.message, /^Nothing was sent to the token endpoint and nothing was written/);
      assert.equal(await bytes(), before);
    });
  });
});

(existsSync(CODEX_BIN) && process.platform === 'linux' ? describe : describe.skip)('refresh repair: Codex (file store)', function () {
  this.timeout(90_000);
  let lab: Lab;
  let home: string;
  let e: Environment;
  let store: CodexStore;
  let target: RepairTarget;
  let file: string;
  const key = () => codexKey('lab', lab.mcpUrl);
  const entry = async () => JSON.parse(await fs.readFile(file, 'utf8'))[key()] as { access_token: string; refresh_token?: string; expires_at?: number; client_id: string };

  before(async () => {
    lab = await startLab();
    home = await makeSandboxHome('mad-refresh-codex-');
    await fs.mkdir(path.join(home, '.codex'), { recursive: true });
    await fs.writeFile(path.join(home, '.codex', 'config.toml'), `mcp_oauth_credentials_store = "file"\n\n[mcp_servers.lab]\nurl = "${lab.mcpUrl}"\n`);
    e = { home, env: sandboxEnv(home), platform: process.platform, projectDirs: [] };
    store = new CodexStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) });
    file = codexCredentialsFile(e);
    await codexLogin(home, 'lab', lab);
    target = await targetFor(e, 'codex', 'lab', store);
    assert.equal(target.key, key());
  });

  after(async () => {
    await lab?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it("refreshes inside Codex's refresh lock: rotated tokens stored, the old refresh token dead, nothing registered", async () => {
    const before = await entry();
    const registrations = lab.registrations();
    await lab.revoke(before.access_token);
    const lockFile = codexRefreshLockPath(codexHome(e), key());
    let lockHeldDuringRequest: boolean | undefined;
    const watching: FetchLike = async (input, init) => {
      if (String(input).endsWith('/token')) {
        // Codex would wait here: its own try for the lock times out while we hold it.
        lockHeldDuringRequest = await acquireFlock(lockFile, { timeoutMs: 100 }).then(
          async (held) => (await held.release(), false),
          (err: unknown) => err instanceof LockTimeoutError,
        );
      }
      return fetch(input, init);
    };
    const outcome = await refresh(target, { http: httpWith(watching), runningClients: noneRunning });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(lockHeldDuringRequest, true, "Codex's refresh lock was held across the token request");
    const after = await entry();
    assert.notEqual(after.access_token, before.access_token);
    assert.ok(after.refresh_token && after.refresh_token !== before.refresh_token, 'rotated refresh token stored');
    assert.ok(after.expires_at && after.expires_at > Date.now() + 50 * 60_000);
    assert.equal(after.client_id, before.client_id);
    assert.equal(lab.registrations(), registrations);
    assert.equal((await lab.refresh(before.client_id, before.refresh_token!)).error, 'invalid_grant', 'the old refresh token is dead');
  });

  it("Codex's app-server lists the lab's tools with the refreshed token", async () => {
    // The previous test's reuse check ended that grant at the lab; refresh a live one.
    const clientId = (await entry()).client_id;
    const t = await lab.mintTokens({ clientId });
    await store.write(key(), { accessToken: t.accessToken, refreshToken: t.refreshToken ?? null, expiresAt: Date.now() + t.expiresIn * 1000 });
    await lab.revoke(t.accessToken);
    const outcome = await refresh(target, { http: httpWith(), runningClients: noneRunning });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    const refreshes = lab.refreshes();
    const status = (await codexAppServerStatus(home)).find((s) => s.name === 'lab');
    assert.ok(status, 'lab missing from mcpServerStatus/list');
    assert.equal(status.toolsError, undefined);
    assert.deepEqual(status.tools, ['echo', 'whoami']);
    assert.equal(lab.refreshes(), refreshes, 'Codex used our access token without refreshing');
  });

  it('a grant bound to another issuer is not refreshed here: nothing sent, nothing written', async () => {
    const original = await fs.readFile(file, 'utf8');
    const blob = JSON.parse(original) as Record<string, Record<string, unknown>>;
    assert.equal(blob[key()]?.issuer, lab.issuer, 'codex bound its login to the lab');
    blob[key()]!.issuer = 'http://127.0.0.1:9/another-issuer';
    const moved = JSON.stringify(blob);
    await fs.writeFile(file, moved);
    try {
      const tokenRequests = lab.tokenEndpointRequests();
      const outcome = await refresh(target, { http: httpWith(), runningClients: noneRunning });
      assert.ok(!outcome.ok);
      assert.match(outcome.message, /^Nothing was sent: lab's stored grant was issued by http:\/\/127\.0\.0\.1:9\/another-issuer/);
      assert.deepEqual(outcome.next, ['relogin', 'report-server']);
      assert.equal(lab.tokenEndpointRequests(), tokenRequests, 'the refresh token did not go to the lab');
      assert.equal(await fs.readFile(file, 'utf8'), moved);
    } finally {
      await fs.writeFile(file, original);
    }
  });

  it('waits for a Codex refresh in progress, and gives up before sending anything when it does not end', async () => {
    const held = await acquireFlock(codexRefreshLockPath(codexHome(e), key()), { timeoutMs: 2000 });
    try {
      const impatient = new CodexStore(e, { backups: new SnapshotStore(path.join(home, 'backups')), lockTimeoutMs: 300 });
      const before = await fs.readFile(file, 'utf8');
      const tokenRequests = lab.tokenEndpointRequests();
      const outcome = await refresh({ ...target, store: impatient }, { http: httpWith(), runningClients: noneRunning });
      assert.ok(!outcome.ok);
      assert.equal(outcome.error, 'store');
      assert.match(outcome.message, /lock stayed busy\)\. Nothing was sent or written/);
      assert.equal(lab.tokenEndpointRequests(), tokenRequests, 'no token request');
      assert.equal(await fs.readFile(file, 'utf8'), before);
    } finally {
      await held.release();
    }
  });
});
