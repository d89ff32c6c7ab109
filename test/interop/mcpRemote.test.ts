// The real mcp-remote (0.15.1, node_modules/mcp-remote/dist/proxy.js) against the loopback lab, in
// a sandbox HOME: it signs in (the lab approves in place of a browser; a BROWSER stub records the
// URL), and then our store reads that login, our refresh writes a rotated token that mcp-remote
// connects with (initialize + tools/list over its stdio, no new authorization), and our reset makes
// it sign in again while another server's files stay byte-identical.
// Run: npx mocha --no-config --import=tsx --timeout 180000 test/interop/mcpRemote.test.ts
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { McpRemoteStore } from '../../src/core/clients/mcp-remote/store';
import { scanMcpRemoteEntries } from '../../src/core/clients/mcp-remote/config';
import { SnapshotStore } from '../../src/core/credentials/backups';
import type { Environment } from '../../src/core/environment';
import { refresh } from '../../src/core/repair/refresh';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import { startBounded, type Running } from '../support/boundedProcess';
import { LOOPBACK_HTTP } from '../support/loginSandbox';
import { makeSandboxHome, REPO, sandboxEnv } from '../support/realClients';

const PROXY = path.join(REPO, 'node_modules', 'mcp-remote', 'dist', 'proxy.js');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('mcp-remote 0.15.1 (real) and our mcp-remote store', function () {
  this.timeout(180_000);
  let lab: Lab;
  let home: string;
  let env: Record<string, string>;
  let e: Environment;
  let store: McpRemoteStore;
  let port: number;
  const running: Running[] = [];
  const folder = () => path.join(home, '.mcp-auth', 'mcp-remote-v1');
  const hash = () => createHash('md5').update(lab.mcpUrl).digest('hex');

  before(async () => {
    lab = await startLab({ rotateRefreshTokens: true });
    home = await makeSandboxHome('mad-mcp-remote-');
    port = await freePort();
    // Stand-ins for every browser opener mcp-remote tries (open → xdg-open → $BROWSER, then its Linux fallbacks).
    const bin = path.join(home, 'bin');
    await fs.mkdir(bin);
    const stub = `#!/bin/sh\nprintf '%s\\n' "$1" >> '${path.join(home, 'browser-urls.txt')}'\nexit 0\n`;
    for (const b of ['browser', 'xdg-open', 'gio', 'x-www-browser', 'sensible-browser', 'www-browser']) await fs.writeFile(path.join(bin, b), stub, { mode: 0o755 });
    env = sandboxEnv(home, { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, BROWSER: path.join(bin, 'browser'), DISPLAY: '' });
    const cfgDir = path.join(home, '.config', 'Claude');
    await fs.mkdir(cfgDir, { recursive: true });
    await fs.writeFile(
      path.join(cfgDir, 'claude_desktop_config.json'),
      JSON.stringify({ mcpServers: { lab: { command: 'npx', args: ['-y', 'mcp-remote@0.15.1', lab.mcpUrl, String(port), '--allow-http'] } } }, null, 2),
    );
    e = { home, env, platform: process.platform, projectDirs: [] };
    store = new McpRemoteStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) });
  });
  after(async () => {
    for (const r of running) r.kill();
    await lab?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  function startProxy(): Running {
    const r = startBounded(process.execPath, [PROXY, lab.mcpUrl, String(port), '--allow-http'], { cwd: home, env, timeoutMs: 60_000, keepStdin: true });
    running.push(r);
    return r;
  }

  /** initialize + tools/list over the bridge's stdio; resolves with the tool names. */
  async function listTools(r: Running): Promise<string[]> {
    const send = (m: unknown) => r.child.stdin.write(JSON.stringify(m) + '\n');
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mad-test', version: '0' } } });
    await r.waitFor(/"id":1[,}]/, 30_000);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
    await r.waitFor(/"id":2[,}]/, 30_000);
    const line = r.stdout().split('\n').find((l) => /"id":2[,}]/.test(l))!;
    const msg = JSON.parse(line) as { result?: { tools: { name: string }[] }; error?: unknown };
    assert.ok(msg.result, `tools/list failed: ${JSON.stringify(msg.error)}`);
    return msg.result.tools.map((t) => t.name);
  }

  async function signIn(r: Running): Promise<void> {
    const [, url = ''] = await r.waitFor(/Please authorize this client by visiting:\s+(http\S+)/, 30_000);
    const redirect = new URL(await lab.approve(url));
    assert.equal(redirect.pathname, '/oauth/callback');
    redirect.hostname = '127.0.0.1'; // mcp-remote listens on 127.0.0.1; the redirect says localhost
    const res = await fetch(redirect, { signal: AbortSignal.timeout(15_000) });
    await res.body?.cancel();
  }

  async function stop(r: Running): Promise<void> {
    r.child.stdin.end();
    r.kill('SIGTERM');
    await r.done;
  }

  it('signs in with the real mcp-remote; our store reads that login exactly', async () => {
    const r = startProxy();
    const tools = listTools(r);
    await signIn(r);
    assert.ok((await tools).includes('echo'));
    await stop(r);

    const names = await fs.readdir(folder());
    assert.ok(names.includes(`${hash()}_tokens.json`), `mcp-remote wrote ${names.join(', ')}`);
    const scan = await scanMcpRemoteEntries(e);
    assert.equal(scan.entries.length, 1);
    // Our copy of getServerUrlHash names the very files the real mcp-remote wrote.
    assert.equal(scan.entries[0]!.hash, hash());
    assert.equal(scan.entries[0]!.server.storageKey, hash());

    const raw = JSON.parse(await fs.readFile(path.join(folder(), `${hash()}_tokens.json`), 'utf8'));
    const info = JSON.parse(await fs.readFile(path.join(folder(), `${hash()}_client_info.json`), 'utf8'));
    const listing = await store.list();
    const s = listing.entries.find((x) => x.key === hash());
    assert.ok(s, 'login listed');
    assert.equal(s.serverName, 'lab');
    assert.equal(s.accessTokenFingerprint, fingerprint(raw.access_token));
    assert.equal(s.refreshTokenFingerprint, fingerprint(raw.refresh_token));
    assert.equal(typeof raw.expires_at, 'number');
    assert.equal(s.expiresAt, raw.expires_at);
    assert.ok(s.expiresAt! > Date.now());
    assert.equal(s.clientId, info.client_id);
    assert.equal(s.redirectUri, `http://localhost:${port}/oauth/callback`);
  });

  it('our refresh writes a rotated token that the real mcp-remote connects with, without a new sign-in', async () => {
    const before = JSON.parse(await fs.readFile(path.join(folder(), `${hash()}_tokens.json`), 'utf8'));
    const mode = (await fs.stat(path.join(folder(), `${hash()}_tokens.json`))).mode & 0o777;
    const server = (await scanMcpRemoteEntries(e)).entries[0]!.server;
    const refreshesBefore = lab.refreshes();
    const outcome = await refresh({ server, store, key: server.storageKey! }, { http: LOOPBACK_HTTP, runningClients: async () => ({ known: true, processes: [] }) });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(lab.refreshes(), refreshesBefore + 1);
    const after = JSON.parse(await fs.readFile(path.join(folder(), `${hash()}_tokens.json`), 'utf8'));
    assert.notEqual(after.refresh_token, before.refresh_token, 'the lab rotates refresh tokens');
    assert.notEqual(after.access_token, before.access_token);
    assert.equal((await fs.stat(path.join(folder(), `${hash()}_tokens.json`))).mode & 0o777, mode);
    // mcp-remote's own fields survive the write.
    assert.equal(after.requested_scope, before.requested_scope);
    assert.equal(after.token_type, before.token_type);
    assert.ok(after.expires_at > Date.now());
    assert.equal((await fs.readdir(folder())).some((n) => n.endsWith('_refresh_in_progress.json')), false, 'our lease is released');

    // The old refresh token is dead now (rotation): mcp-remote must be using what we wrote.
    const authBefore = lab.requestsSeen().authorizationServer['/auth'] ?? 0;
    const regsBefore = lab.registrations();
    const authorizedBefore = lab.mcpRequests().authorized;
    const r = startProxy();
    assert.ok((await listTools(r)).includes('echo'));
    await stop(r);
    assert.equal(lab.requestsSeen().authorizationServer['/auth'] ?? 0, authBefore, 'no new authorization');
    assert.equal(lab.registrations(), regsBefore, 'no new registration');
    assert.ok(lab.mcpRequests().authorized > authorizedBefore);
    assert.doesNotMatch(r.stderr(), /Please authorize/);
    const still = JSON.parse(await fs.readFile(path.join(folder(), `${hash()}_tokens.json`), 'utf8'));
    assert.equal(fingerprint(still.access_token), fingerprint(after.access_token), 'mcp-remote kept the token we wrote');
  });

  it('our reset makes the real mcp-remote sign in again and leaves other servers byte-identical', async () => {
    // Another server's state in the same folder, and an older release's folder.
    const other = createHash('md5').update('https://other.example/mcp').digest('hex');
    const otherFiles: Record<string, string> = {
      [path.join(folder(), `${other}_tokens.json`)]: JSON.stringify({ access_token: 'a-other', token_type: 'Bearer', refresh_token: 'r-other', expires_at: Date.now() + 3600_000 }, null, 2),
      [path.join(folder(), `${other}_client_info.json`)]: JSON.stringify({ client_id: 'c-other', redirect_uris: ['http://localhost:1/oauth/callback'] }, null, 2),
      [path.join(home, '.mcp-auth', 'mcp-remote-0.1.37', `${hash()}_tokens.json`)]: JSON.stringify({ access_token: 'a-old', token_type: 'Bearer', expires_in: 3600 }),
    };
    for (const [f, text] of Object.entries(otherFiles)) {
      await fs.mkdir(path.dirname(f), { recursive: true });
      await fs.writeFile(f, text, { mode: 0o600 });
    }
    const result = await store.delete(hash());
    assert.equal(result.deleted, true);
    assert.ok(result.snapshotId);
    const left = await fs.readdir(folder());
    assert.deepEqual(left.filter((n) => n.startsWith(hash())), []);
    for (const [f, text] of Object.entries(otherFiles)) assert.equal(await fs.readFile(f, 'utf8'), text, `${f} untouched`);
    const snap = await new SnapshotStore(path.join(home, 'backups')).read(result.snapshotId!);
    // (read() validates the client id: until the registry lists mcp-remote, the snapshot file is checked directly.)
    if (snap) assert.match(snap.raw!, /_tokens\.json/);
    else assert.ok((await fs.readdir(path.join(home, 'backups'))).some((n) => n.startsWith(result.snapshotId!)));

    const r = startProxy();
    void listTools(r).catch(() => undefined);
    await r.waitFor(/Please authorize this client by visiting:/, 30_000);
    await stop(r);
  });
});
