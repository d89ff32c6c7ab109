// "The entry we read is the one Codex reads", with the real Codex 0.171.0 and the loopback lab:
// Codex finds a grant in its credentials file by the entry's own server name and URL, not by the
// map key, and of several takes the first in key order (oauth.rs
// `load_oauth_tokens_from_file_with_lock_held`). An entry under a stale key (written when the
// server's key came out differently) is still the server's login: we must show it as such, and a
// refresh repair must update that entry (not add a second one that Codex, reading the stale one
// first, would never use), so that Codex connects with what we wrote.
// Run: npx mocha --no-config --node-option import=tsx --timeout 180000 test/interop/codexEntryLookup.test.ts
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { scanConfigs } from '../../src/core/config/scan';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { CODEX_FINDING, CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import type { Environment } from '../../src/core/environment';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/core/probe/http';
import { refresh } from '../../src/core/repair/refresh';
import type { RepairTarget } from '../../src/core/repair/types';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import { CODEX_BIN, codexAppServerStatus, codexLogin, codexMcpListJson, makeSandboxHome, sandboxEnv } from '../support/realClients';

type Entry = { server_name: string; server_url: string; access_token: string; refresh_token?: string; expires_at?: number; client_id: string; issuer?: string };
// Sorts before any real key of "lab" (hex digits after "lab|"), so Codex walks it first.
const STALE = 'lab|0000000000000000';

(existsSync(CODEX_BIN) && process.platform === 'linux' ? describe : describe.skip)('Codex 0.171 finds file grants by name and URL: so do we', function () {
  this.timeout(120_000);
  let lab: Lab;
  let home: string;
  let e: Environment;
  let store: CodexStore;
  let file: string;
  let loggedIn: Entry;
  const key = () => codexKey('lab', lab.mcpUrl);
  const read = async () => JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, Entry>;
  const put = (entries: Record<string, Entry>) => fs.writeFile(file, JSON.stringify(entries), { mode: 0o600 });
  const authStatus = async () => (await codexMcpListJson(home)).find((s) => s.name === 'lab')?.auth_status;
  const noneRunning = async () => ({ processes: [], known: true });

  before(async () => {
    lab = await startLab();
    home = await makeSandboxHome('mad-codex-lookup-');
    await fs.mkdir(path.join(home, '.codex'), { recursive: true });
    await fs.writeFile(path.join(home, '.codex', 'config.toml'), `mcp_oauth_credentials_store = "file"\n\n[mcp_servers.lab]\nurl = "${lab.mcpUrl}"\n`);
    e = { home, env: sandboxEnv(home), platform: process.platform, projectDirs: [] };
    store = new CodexStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) });
    file = codexCredentialsFile(e);
    await codexLogin(home, 'lab', lab);
    const blob = await read();
    assert.deepEqual(Object.keys(blob), [key()], 'codex saves its login under the key we compute');
    loggedIn = blob[key()]!;
  });

  after(async () => {
    await lab?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it("an entry under a stale key: Codex uses it, and we show it as lab's login", async () => {
    await put({ [STALE]: loggedIn });
    assert.equal(await authStatus(), 'o_auth', 'codex mcp list counts the stale-keyed entry as the login');
    const listing = await store.list();
    const lab_ = listing.entries.find((s) => s.key === key());
    assert.ok(lab_, 'our listing has lab logged in');
    assert.equal(lab_.accessTokenFingerprint, fingerprint(loggedIn.access_token));
    assert.equal(lab_.usable, true);
    assert.ok(!listing.findings.some((f) => f.code === CODEX_FINDING.notConfigured), 'not an unconfigured leftover');
  });

  it('a refresh repair updates that entry (now under the key Codex saves to), and Codex connects with it', async () => {
    const t = await lab.mintTokens({ clientId: loggedIn.client_id });
    await put({ [STALE]: { ...loggedIn, access_token: t.accessToken, refresh_token: t.refreshToken!, expires_at: Date.now() + t.expiresIn * 1000 } });
    await lab.revoke(t.accessToken);
    const scan = await scanConfigs(e, ['codex']);
    const server = scan.servers.find((s) => s.name === 'lab');
    assert.ok(server?.storageKey);
    const target: RepairTarget = { server, store, key: server.storageKey };
    const outcome = await refresh(target, { http: { fetch: (i, init) => fetch(i, init), timeoutMs: 5000, maxBodyBytes: DEFAULT_MAX_BODY_BYTES }, runningClients: noneRunning });
    assert.ok(outcome.ok, JSON.stringify(outcome));

    const blob = await read();
    assert.deepEqual(Object.keys(blob), [key()], 'one entry: the stale one moved, no second one beside it');
    const now = blob[key()]!;
    assert.notEqual(now.access_token, t.accessToken);
    assert.ok(now.refresh_token && now.refresh_token !== t.refreshToken, 'rotated refresh token stored');
    assert.equal(now.client_id, loggedIn.client_id);

    const refreshes = lab.refreshes();
    const status = (await codexAppServerStatus(home)).find((s) => s.name === 'lab');
    assert.ok(status, 'lab missing from mcpServerStatus/list');
    assert.equal(status.toolsError, undefined);
    assert.deepEqual(status.tools, ['echo', 'whoami']);
    assert.equal(lab.refreshes(), refreshes, 'Codex used the token we wrote, without refreshing');
  });

  it('two entries for lab: Codex and we take the first in key order; a write goes to it', async () => {
    const live = (await read())[key()]!;
    // The first in key order is broken (empty access token, no expiry): Codex says not logged in.
    await put({ [STALE]: { ...live, access_token: '', expires_at: undefined }, [key()]: live });
    assert.equal(await authStatus(), 'not_logged_in');
    let listing = await store.list();
    assert.equal(listing.entries.find((s) => s.key === key())?.usable, false, 'we judge the entry Codex reads, not the good one behind it');
    assert.match(listing.findings.find((f) => f.code === CODEX_FINDING.storeDrift)?.title ?? '', /two logins for "lab"/);

    await store.write(key(), { accessToken: live.access_token, expiresAt: live.expires_at! });
    const blob = await read();
    assert.equal(blob[STALE]!.access_token, live.access_token, 'the entry Codex reads was written');
    assert.equal(await authStatus(), 'o_auth');
    listing = await store.list();
    assert.equal(listing.entries.find((s) => s.key === key())?.usable, true);
  });

  it('delete leaves Codex no entry to fall back on', async () => {
    assert.equal(Object.keys(await read()).length, 2);
    assert.equal((await store.delete(key())).deleted, true);
    assert.equal(existsSync(file), false, 'the file held only lab, so it is gone (as Codex removes an empty one)');
    assert.notEqual(await authStatus(), 'o_auth');
  });
});
