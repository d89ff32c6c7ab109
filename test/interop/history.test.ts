// `history` on states the real Codex (node_modules/.bin/codex, 0.171.0) wrote against the loopback
// lab (rotating refresh tokens): its login and a run of new registrations (the AS forgot its
// clients before each login), plus a rotating refresh and a refresh whose rotated token never
// reached the store. Each state is snapshotted with the CodexStore's own backup (the CLI's
// `backup`), then `mcp-auth-doctor history lab --json` must show the rotation and the pile.
//
// Two states are not the real client's own, and why:
// - the rotating refresh is our `refresh` repair (a real refresh_token grant at the lab, stored
//   under Codex's refresh lock): Codex 0.171's own refresh fails against this lab with
//   `invalid_scope: refresh token missing requested scope` (it asks for a scope on refresh that
//   oidc-provider keeps on the resource, not on the refresh token; seen in this run's setup);
// - the dropped rotation is seed 004's step 2 made by hand: the refresh is done at the lab with
//   the stored refresh token and only the new access token is written back (our writer). Codex
//   0.171 stores every rotated refresh token it gets (refresh_transaction.rs), so it cannot be
//   asked to drop one. Codex then connects with what we wrote; the kept refresh token is spent.
// Run: npx mocha --config test/interop/.mocharc.json test/interop/history.test.ts
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import { scanConfigs } from '../../src/core/config/scan';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/core/probe/http';
import { refresh } from '../../src/core/repair/refresh';
import type { CliIo } from '../../src/cli/io';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import type { Environment } from '../../src/core/environment';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import { codexAppServerStatus, codexLogin, makeSandboxHome, sandboxEnv } from '../support/realClients';

interface FileEntry {
  client_id: string;
  access_token: string;
  refresh_token?: string | null;
}

describe('history on states the real Codex wrote', function () {
  this.timeout(300_000);
  let lab: Lab;
  let home: string;
  let e: Environment;
  let store: CodexStore;
  const secrets = new Set<string>();
  const key = () => codexKey('lab', lab.mcpUrl);

  before(async () => {
    lab = await startLab({ rotateRefreshTokens: true });
    home = await makeSandboxHome('mad-history-');
    await fs.mkdir(path.join(home, '.codex'), { recursive: true });
    await fs.writeFile(path.join(home, '.codex', 'config.toml'), `mcp_oauth_credentials_store = "file"\n\n[mcp_servers.lab]\nurl = "${lab.mcpUrl}"\n`);
    e = { home, env: sandboxEnv(home), platform: process.platform, projectDirs: [] };
    // Where the CLI looks (backups.ts defaultBackupDir).
    store = new CodexStore(e, { backups: new SnapshotStore(path.join(home, '.mcp-auth-doctor', 'backups'), 1000) });
  });
  after(async () => {
    await lab?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  async function entry(): Promise<FileEntry> {
    const all = JSON.parse(await fs.readFile(codexCredentialsFile(e), 'utf8')) as Record<string, FileEntry>;
    const x = all[key()];
    assert.ok(x, `no entry ${key()} in Codex's file`);
    secrets.add(x.access_token);
    if (x.refresh_token) secrets.add(x.refresh_token);
    return x;
  }
  /** Snapshot the store as it is now (the CLI's `backup`), then read what Codex holds. */
  async function observe(): Promise<FileEntry> {
    // Snapshot ids sort by millisecond; keep two observations apart.
    await new Promise((r) => setTimeout(r, 5));
    assert.ok(await store.backup(), 'nothing to snapshot');
    return entry();
  }

  it('shows a rotation that was not persisted and a run of registrations; fingerprints only', async () => {
    await codexLogin(home, 'lab', lab);
    const s1 = await observe();

    // A rotating refresh (our repair; see above): the lab rotates, both new tokens are stored.
    const server = (await scanConfigs(e, ['codex'])).servers.find((s) => s.name === 'lab');
    assert.ok(server?.storageKey === key());
    const http = { fetch: (i: string | URL | Request, init?: RequestInit) => fetch(i, init), timeoutMs: 5000, maxBodyBytes: DEFAULT_MAX_BODY_BYTES };
    const refreshed = await refresh({ server, store, key: key() }, { http, runningClients: async () => ({ processes: [], known: true }) });
    assert.ok(refreshed.ok, JSON.stringify(refreshed));
    const s2 = await observe();
    assert.equal(s2.client_id, s1.client_id);
    assert.notEqual(s2.access_token, s1.access_token);
    assert.ok(s2.refresh_token && s2.refresh_token !== s1.refresh_token, 'Codex stored the rotated refresh token');

    // A refresh whose rotated refresh token is dropped (seed 004 step 2): our writer, see above.
    const elsewhere = await lab.refresh(s2.client_id, s2.refresh_token!);
    assert.ok(elsewhere.tokens?.refresh_token, `the lab refused the refresh: ${elsewhere.error}`);
    secrets.add(elsewhere.tokens.access_token).add(elsewhere.tokens.refresh_token);
    await store.write(key(), { accessToken: elsewhere.tokens.access_token, expiresAt: Date.now() + (elsewhere.tokens.expires_in ?? 3600) * 1000 });
    const s3 = await observe();
    assert.equal(s3.refresh_token, s2.refresh_token, 'the spent refresh token is what the store keeps');

    // Codex accepts that state (it connects with the new access token)...
    const status = (await codexAppServerStatus(home)).find((s) => s.name === 'lab');
    assert.deepEqual(status?.tools, ['echo', 'whoami'], `Codex did not connect: ${status?.toolsError}`);
    await observe();
    // ...but the refresh token it keeps is spent: the next refresh gets invalid_grant.
    assert.equal((await lab.refresh(s3.client_id, s3.refresh_token!)).error, 'invalid_grant');

    // New registrations: the AS forgets its clients, each login registers again.
    const clients = new Set([s1.client_id]);
    for (let i = 0; i < 3; i++) {
      lab.forgetClients();
      await codexLogin(home, 'lab', lab);
      clients.add((await observe()).client_id);
    }
    assert.equal(clients.size, 4, 'each login after forgetClients registered a new client');

    let stdout = '';
    let stderr = '';
    const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: sandboxEnv(home), cwd: home };
    const code = await runCli(['history', 'lab', '--client', 'codex', '--json'], io);
    assert.equal(code, 1, `history found nothing: ${stderr}\n${stdout}`);
    const doc = JSON.parse(stdout) as { servers: { key: string; diagnoses: { kind: string; title: string; basis: string[] }[]; registrations: { clientId: string }[] }[] };
    const h = doc.servers.find((s) => s.key === key());
    assert.ok(h, stdout);

    const rotation = h.diagnoses.find((d) => d.kind === 'rotation-not-persisted');
    assert.ok(rotation, JSON.stringify(h.diagnoses, null, 2));
    assert.ok(rotation.basis[0]!.includes(`refresh token stayed ${fingerprint(s2.refresh_token!)}`), rotation.basis[0]);
    assert.ok(
      rotation.basis.some((b) => b.includes(`${fingerprint(s1.refresh_token!)} → ${fingerprint(s2.refresh_token!)}`)),
      `the basis does not cite Codex's own rotation: ${rotation.basis.join(' | ')}`,
    );

    const pile = h.diagnoses.find((d) => d.kind === 'registrations-piling-up');
    assert.ok(pile, JSON.stringify(h.diagnoses, null, 2));
    assert.match(pile.title, /^4 new client registrations for lab in /);
    assert.deepEqual(new Set(h.registrations.map((r) => r.clientId)), clients);

    let text = '';
    assert.equal(await runCli(['history', 'lab'], { ...io, stdout: (t) => (text += t) }), 1);
    for (const v of secrets) assert.ok(!stdout.includes(v) && !text.includes(v), `a token (${fingerprint(v)}) appears in the output`);
  });
});
