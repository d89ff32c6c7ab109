// Three failure modes of the catalogue against the loopback lab (oidc-provider: DCR, rotating
// refresh tokens that revoke the grant on reuse) and a real Codex login in a sandbox HOME:
// - a deleted DCR client: the refresh is refused invalid_client, the authorization endpoint
//   confirms it without anything being registered, and only a new registration gets in again;
// - a refresh-token family revoked by a second refresh with the same token: invalid_grant, the
//   newer token died too, and the running codex process that holds the login is named;
// - a refresh token overwritten with an older one, or dropped: seen against our snapshots, and
//   the newer token restored from the snapshot still refreshes.
// Run: npx mocha --no-config --node-option import=tsx --timeout 180000 test/interop/failureModes.test.ts
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { scanConfigs } from '../../src/core/config/scan';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import type { Environment } from '../../src/core/environment';
import { overwrittenRefreshTokenFinding, refreshFailureFinding, storedClientCheck } from '../../src/core/probe/failureModes';
import { DEFAULT_MAX_BODY_BYTES, type HttpSettings } from '../../src/core/probe/http';
import { runningClients } from '../../src/core/repair/processes';
import { refresh } from '../../src/core/repair/refresh';
import type { RepairOutcome, RepairTarget } from '../../src/core/repair/types';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import { startBounded } from '../support/boundedProcess';
import { CODEX_BIN, codexAppServerStatus, codexLogin, makeSandboxHome, sandboxEnv } from '../support/realClients';

const http: HttpSettings = { fetch: (input, init) => fetch(input, init), timeoutMs: 5000, maxBodyBytes: DEFAULT_MAX_BODY_BYTES };
const noneRunning = async () => ({ processes: [], known: true });

function failed(outcome: RepairOutcome): Extract<RepairOutcome, { ok: false }> {
  assert.ok(!outcome.ok, `expected a refused refresh, got ${JSON.stringify(outcome)}`);
  return outcome;
}

(existsSync(CODEX_BIN) && process.platform === 'linux' ? describe : describe.skip)('failure modes: deleted client, revoked family, overwritten refresh token (lab + real codex)', function () {
  this.timeout(180_000);
  let lab: Lab;
  let home: string;
  let e: Environment;
  let store: CodexStore;
  let backups: SnapshotStore;
  let target: RepairTarget;
  let file: string;
  const key = () => codexKey('lab', lab.mcpUrl);
  type Entry = { access_token: string; refresh_token?: string; client_id: string; expires_at?: number };
  const entry = async () => JSON.parse(await fs.readFile(file, 'utf8'))[key()] as Entry;
  /** Writes the entry straight into Codex's file, as a client's own write-back would (no snapshot, no lock). */
  const clientWriteBack = async (change: (e: Entry) => void) => {
    const all = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, Entry>;
    change(all[key()]!);
    await fs.writeFile(file, JSON.stringify(all));
  };

  beforeEach(async () => {
    lab = await startLab({ rotateRefreshTokens: true });
    home = await makeSandboxHome('mad-failure-modes-');
    await fs.mkdir(path.join(home, '.codex'), { recursive: true });
    await fs.writeFile(path.join(home, '.codex', 'config.toml'), `mcp_oauth_credentials_store = "file"\n\n[mcp_servers.lab]\nurl = "${lab.mcpUrl}"\n`);
    e = { home, env: sandboxEnv(home), platform: process.platform, projectDirs: [] };
    backups = new SnapshotStore(path.join(home, 'backups'));
    store = new CodexStore(e, { backups });
    file = codexCredentialsFile(e);
    await codexLogin(home, 'lab', lab);
    const server = (await scanConfigs(e, ['codex'])).servers.find((s) => s.name === 'lab');
    assert.ok(server?.storageKey);
    target = { server, store, key: server.storageKey };
  });

  afterEach(async () => {
    await lab?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('a deleted DCR client: invalid_client, confirmed at the authorization endpoint without registering; a new registration is the way back', async () => {
    const before = await entry();
    assert.ok(lab.forgetClients() >= 1);
    const registrations = lab.registrationRequests();
    const outcome = failed(await refresh(target, { http, runningClients: noneRunning }));
    assert.equal(outcome.error, 'invalid-client');
    const check = await storedClientCheck(target.server, before.client_id, http);
    assert.equal(check.verdict, 'unknown-client', check.evidence);
    const finding = refreshFailureFinding({ server: target.server, outcome, clientId: before.client_id, clientCheck: check });
    assert.equal(finding?.code, 'token.client-unregistered');
    assert.deepEqual(finding?.repairs, ['reset', 'relogin']);
    assert.ok(finding?.evidence?.some((l) => /authorization endpoint: .*invalid_client/.test(l)), JSON.stringify(finding?.evidence));
    assert.equal(lab.registrationRequests(), registrations, 'detection registered nothing');
    assert.deepEqual(await entry(), before, 'nothing was written');
    // Replaying the stored client id stays refused, however often.
    for (let i = 0; i < 2; i++) assert.equal((await lab.refresh(before.client_id, before.refresh_token!)).error, 'invalid_client');
    // The repair: reset the entry, log in (a new registration).
    assert.ok((await store.delete(key())).deleted);
    await codexLogin(home, 'lab', lab);
    const after = await entry();
    assert.notEqual(after.client_id, before.client_id);
    assert.ok(lab.registrationRequests() > registrations, 'the login registered a new client');
    assert.deepEqual((await codexAppServerStatus(home)).find((s) => s.name === 'lab')?.tools, ['echo', 'whoami']);
  });

  it('a refresh-token family revoked by reuse: invalid_grant, the newer token is dead too, and the running codex holding the login is named', async () => {
    const stored = await entry();
    // Another process refreshed with the same token first (its rotation never reached this store).
    const other = await lab.refresh(stored.client_id, stored.refresh_token!);
    const otherToken = other.tokens?.refresh_token;
    assert.ok(otherToken, `the other process's refresh failed: ${other.error}`);
    const holder = startBounded(CODEX_BIN, ['-c', 'check_for_update_on_startup=false', 'app-server'], { cwd: home, env: sandboxEnv(home), timeoutMs: 60_000, keepStdin: true });
    try {
      // This test's own children are left out of the table by default (selfPid), as the caller's
      // are; -1 keeps them, so the app-server just started counts as the other process.
      let running = await runningClients('codex', { selfPid: -1 });
      for (let i = 0; i < 50 && !running.processes.some((p) => p.pid === holder.child.pid); i++) {
        await new Promise((r) => setTimeout(r, 100));
        running = await runningClients('codex', { selfPid: -1 });
      }
      assert.ok(running.known, running.reason);
      const outcome = failed(await refresh(target, { http, runningClients: async () => running }));
      assert.equal(outcome.error, 'invalid-grant');
      assert.equal((await lab.refresh(stored.client_id, otherToken)).error, 'invalid_grant', 'reuse revoked the whole grant, the newer token included');
      const finding = refreshFailureFinding({ server: target.server, outcome, clientId: stored.client_id, running: running.processes });
      assert.equal(finding?.code, 'token.refresh-family-revoked');
      assert.deepEqual(finding?.repairs, ['relogin']);
      assert.ok(
        running.processes.some((p) => p.pid === holder.child.pid && finding?.detail.includes(`pid ${p.pid}`)),
        `the codex app-server (pid ${holder.child.pid}) is not named: ${finding?.detail} / ${JSON.stringify(running.processes)}`,
      );
      assert.ok(!JSON.stringify(finding).includes(stored.refresh_token!), 'a refresh token appears in the finding');
    } finally {
      holder.child.stdin.end();
      holder.kill();
      await holder.done;
    }
  });

  it('a refresh token overwritten with an older one or dropped is seen against the snapshots; the newer one restored still refreshes', async () => {
    const first = await entry();
    assert.ok((await refresh(target, { http, runningClients: noneRunning })).ok);
    const rotated = await entry();
    assert.notEqual(rotated.refresh_token, first.refresh_token);
    await store.backup!(); // the CLI's `backup`; any later write of ours snapshots first as well
    const snapshots = async () => (await backups.list({ client: 'codex', location: store.location })).snapshots;
    const summary = async () => store.read(key());
    assert.equal(overwrittenRefreshTokenFinding(target.server, await summary(), await snapshots()), undefined, 'nothing to see while the store holds the newest token');

    // A write-back of the older token (what a client that kept the old login in memory writes).
    await clientWriteBack((x) => (x.refresh_token = first.refresh_token));
    const back = overwrittenRefreshTokenFinding(target.server, await summary(), await snapshots());
    assert.equal(back?.code, 'token.refresh-token-overwritten');
    assert.match(back!.title, /older one/);
    assert.ok(back?.evidence?.includes(`live refresh token: ${fingerprint(first.refresh_token!)}`), JSON.stringify(back?.evidence));

    // A write-back without it.
    await clientWriteBack((x) => delete x.refresh_token);
    const dropped = overwrittenRefreshTokenFinding(target.server, await summary(), await snapshots());
    assert.match(dropped?.title ?? '', /dropped/);

    // The repair: restore the entry from the newest snapshot holding the newer token, then refresh with it.
    const newest = (await snapshots()).find((s) => s.entries.some((x) => x.key === key() && x.refreshToken === fingerprint(rotated.refresh_token!)));
    assert.ok(newest, 'no snapshot holds the rotated token');
    const restored = await store.restore!((await backups.read(newest.id))!, key());
    assert.ok(restored, 'restore failed');
    assert.equal((await entry()).refresh_token, rotated.refresh_token);
    assert.ok((await refresh(target, { http, runningClients: noneRunning })).ok, 'the restored token refreshes');
    assert.equal(overwrittenRefreshTokenFinding(target.server, await summary(), await snapshots()), undefined, 'a token newer than every snapshot is not flagged');
  });
});
