// The real opencode 1.18.33 (npm opencode-ai, its native binary from test/clients/opencode) in a
// sandbox HOME against two loopback labs: the JSONC configs it reads (comments, trailing commas,
// a project file) are read here at the right keys; its real browser logins (`opencode mcp auth`,
// the browser a stand-in that records the URL for lab.approve) write mcp-auth.json, which our
// store reads with the same fingerprints; our refresh writes a rotated token that opencode
// connects with and leaves alone; a write of ours holds opencode's own lock, which opencode
// waits for; a changed URL leaves the login unused in both opencode and here; our reset logs out
// one server and keeps the other entry byte for byte. strace checks every connect(2) of a login.
// Run: npx mocha --no-config --import=tsx --timeout 180000 test/interop/opencode.test.ts
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import { scanOpencode } from '../../src/core/clients/opencode/config';
import { withOpencodeLock } from '../../src/core/clients/opencode/lock';
import { opencodeStateDir } from '../../src/core/clients/opencode/paths';
import { OpencodeStore } from '../../src/core/clients/opencode/store';
import { SnapshotStore } from '../../src/core/credentials/backups';
import type { Environment } from '../../src/core/environment';
import { journalFor } from '../../src/core/journal/journal';
import { journalSources } from '../../src/core/journal/sources';
import { refresh } from '../../src/core/repair/refresh';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import { describeRun, runBounded, startBounded, type RunResult } from '../support/boundedProcess';
import { LOOPBACK_HTTP } from '../support/loginSandbox';
import { makeSandboxHome, REPO, sandboxEnv } from '../support/realClients';

const PINNED = '1.18.33';

/** The platform binary npm put beside opencode-ai (its postinstall, which copies it, is not run). */
function opencodeBinary(): string | undefined {
  if (process.env.MAD_OPENCODE_BIN) return process.env.MAD_OPENCODE_BIN;
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const base = path.join(REPO, 'test', 'clients', 'opencode', 'node_modules');
  for (const variant of ['', '-baseline', '-musl', '-baseline-musl']) {
    const bin = path.join(base, `opencode-${os}-${process.arch}${variant}`, 'bin', process.platform === 'win32' ? 'opencode.exe' : 'opencode');
    if (existsSync(bin) && spawnSync(bin, ['--version'], { timeout: 20_000 }).status === 0) return bin;
  }
  return undefined;
}

interface AuthEntry {
  tokens?: { accessToken: string; refreshToken?: string; expiresAt?: number; scope?: string };
  clientInfo?: { clientId: string; clientSecret?: string };
  serverUrl?: string;
}

describe('opencode 1.18.33, real, in a sandbox HOME', function () {
  this.timeout(180_000);
  let bin: string;
  let lab: Lab;
  let lab2: Lab;
  let home: string;
  let project: string;
  let e: Environment;
  let store: OpencodeStore;
  const authFile = () => path.join(home, '.local', 'share', 'opencode', 'mcp-auth.json');
  const readAuth = async () => JSON.parse(await fs.readFile(authFile(), 'utf8')) as Record<string, AuthEntry>;
  const userConfig = () => path.join(home, '.config', 'opencode', 'opencode.jsonc');
  const projectConfig = () => path.join(project, 'opencode.json');

  /** Everything that keeps opencode on loopback and quiet: no updates, model list, LSP downloads or plugins. */
  function env(): Record<string, string> {
    return sandboxEnv(home, {
      PATH: `${path.join(home, 'bin')}:/usr/bin:/bin`,
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
      OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
      OPENCODE_DISABLE_SHARE: '1',
      NO_COLOR: '1',
    });
  }
  const opencode = (args: string[], timeoutMs = 60_000): Promise<RunResult> => runBounded(bin, args, { cwd: project, env: env(), timeoutMs });
  /** `opencode mcp auth list` as name → "authenticated" | "expired" | "not authenticated". */
  async function authList(): Promise<Map<string, string>> {
    const r = await opencode(['mcp', 'auth', 'list']);
    assert.equal(r.code, 0, describeRun('opencode mcp auth list', r));
    return new Map([...r.stdout.matchAll(/^\S+\s+\S+\s+(\S+)\s+(authenticated|expired|not authenticated)\s*$/gm)].map((m) => [m[1]!, m[2]!]));
  }

  async function login(name: string, which: Lab): Promise<void> {
    const urls = path.join(home, 'opened-urls');
    const seen = (await fs.readFile(urls, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).length;
    const strace = spawnSync('strace', ['-V']).status === 0;
    const trace = path.join(home, `connect-${name}.trace`);
    const command = strace ? 'strace' : bin;
    const args = strace ? ['-f', '-qq', '-e', 'trace=connect', '-o', trace, bin, 'mcp', 'auth', name] : ['mcp', 'auth', name];
    const run = startBounded(command, args, { cwd: project, env: env(), timeoutMs: 90_000 });
    try {
      const url = await waitUntil(async () => (await fs.readFile(urls, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean)[seen], 45_000, () => run.stdout() + run.stderr());
      const redirect = await which.approve(url);
      assert.match(redirect, /^http:\/\/127\.0\.0\.1:19876\/mcp\/oauth\/callback\?/, 'opencode\'s default callback');
      const res = await fetch(redirect);
      assert.equal(res.status, 200);
      await res.body?.cancel();
      const done = await run.done;
      assert.equal(done.code, 0, describeRun(`opencode mcp auth ${name}`, done));
      assert.match(done.stdout + done.stderr, /Authentication successful/);
    } finally {
      run.kill();
      await run.done;
    }
    if (strace) {
      const lines = (await fs.readFile(trace, 'utf8')).split('\n').filter((l) => /sa_family=AF_INET6?\b/.test(l));
      const elsewhere = lines.filter((l) => !/inet_addr\("127\.0\.0\.1"\)|inet_pton\(AF_INET6, "::1"|inet_pton\(AF_INET6, "::ffff:127\.0\.0\.1"/.test(l));
      assert.deepEqual(elsewhere, [], 'every connect(2) of opencode went to loopback');
      assert.ok(lines.length > 0, 'strace saw the loopback connects');
    }
  }

  before(async function () {
    const found = opencodeBinary();
    // scripts/test.mjs installs it; CI must not pass by skipping.
    if (!found && process.env.CI) throw new Error('opencode is not installed in test/clients/opencode (npm install --prefix test/clients/opencode --ignore-scripts)');
    if (!found) this.skip();
    bin = found;
    lab = await startLab({ accessTokenTtl: 3600 });
    lab2 = await startLab({ accessTokenTtl: 3600 });
    home = await makeSandboxHome('mad-opencode-');
    project = path.join(home, 'work', 'app');
    await fs.mkdir(path.join(project, '.git'), { recursive: true });
    await fs.mkdir(path.join(home, 'bin'));
    // Browser stand-ins: opencode's `open` tries xdg-open on Linux (and `open` on macOS).
    const stub = '#!/bin/sh\nprintf "%s\\n" "$1" >> "$HOME/opened-urls"\n';
    for (const b of ['xdg-open', 'open']) await fs.writeFile(path.join(home, 'bin', b), stub, { mode: 0o755 });
    await fs.mkdir(path.dirname(userConfig()), { recursive: true });
    // JSONC as people write it: comments and trailing commas.
    await fs.writeFile(
      userConfig(),
      `{\n  "$schema": "https://opencode.ai/config.json",\n  // the team's lab\n  "mcp": {\n    "lab": {\n      "type": "remote",\n      "url": "${lab.mcpUrl}",\n    },\n  },\n}\n`,
    );
    await fs.writeFile(projectConfig(), JSON.stringify({ mcp: { second: { type: 'remote', url: lab2.mcpUrl } } }, null, 2));
    e = { home, env: env(), platform: process.platform, projectDirs: [project] };
    store = new OpencodeStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) });
  });
  after(async () => {
    await lab?.close();
    await lab2?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it(`is the pinned ${PINNED}`, async () => {
    const r = await opencode(['--version']);
    assert.equal(r.stdout.trim(), PINNED, describeRun('opencode --version', r));
  });

  it('(a) our reader finds the JSONC user entry and the project entry at their keys, as `opencode mcp list` lists them', async () => {
    const scan = await scanOpencode(e);
    assert.deepEqual(scan.findings, []);
    const user = scan.servers.find((s) => s.name === 'lab');
    assert.ok(user);
    assert.equal(user.scope, 'user');
    assert.equal(user.url, lab.mcpUrl);
    assert.equal(user.storageKey, `lab|${lab.mcpUrl}`);
    const text = await fs.readFile(userConfig(), 'utf8');
    assert.ok(text.split('\n')[user.source.line - 1]!.slice(user.source.column - 1).startsWith('"lab"'), `${user.source.line}:${user.source.column}`);
    const second = scan.servers.find((s) => s.name === 'second');
    assert.ok(second);
    assert.equal(second.scope, 'project');
    assert.equal(second.projectPath, project);
    assert.equal(second.source.file, projectConfig());
    const r = await opencode(['mcp', 'list']);
    assert.equal(r.code, 0, describeRun('opencode mcp list', r));
    assert.match(r.stdout, new RegExp(`lab needs authentication\\s+│\\s+${escape(lab.mcpUrl)}`));
    assert.match(r.stdout, new RegExp(`second needs authentication\\s+│\\s+${escape(lab2.mcpUrl)}`));
  });

  it('(b) real opencode logins write mcp-auth.json, which our store reads with the same fingerprints', async () => {
    // Seen with 1.18.33: `opencode mcp list` above already registered a client per server (DCR)
    // and stored a pending authorization (codeVerifier, oauthState), with no browser opened.
    const pending = await readAuth();
    assert.ok(pending.lab?.clientInfo?.clientId && !pending.lab.tokens, 'mcp list left a registration without tokens');
    await login('lab', lab);
    await login('second', lab2);
    const raw = await readAuth();
    assert.equal((await fs.stat(authFile())).mode & 0o777, 0o600);
    const listing = await store.list();
    assert.deepEqual(listing.findings, []);
    for (const [name, which] of [['lab', lab], ['second', lab2]] as const) {
      const t = raw[name]!;
      assert.equal(t.serverUrl, which.mcpUrl);
      const s = listing.entries.find((x) => x.key === `${name}|${which.mcpUrl}`);
      assert.ok(s, name);
      assert.equal(s.serverName, name);
      assert.equal(s.accessTokenFingerprint, fingerprint(t.tokens!.accessToken));
      assert.equal(s.refreshTokenFingerprint, fingerprint(t.tokens!.refreshToken!));
      // opencode stores seconds (with a fraction); summaries are milliseconds.
      assert.equal(s.expiresAt, Math.round(t.tokens!.expiresAt! * 1000));
      assert.ok(s.expiresAt! > Date.now() && s.expiresAt! < Date.now() + 3601_000);
      assert.equal(s.clientId, t.clientInfo!.clientId);
    }
    const status = await authList();
    assert.equal(status.get('lab'), 'authenticated');
    assert.equal(status.get('second'), 'authenticated');
  });

  it('(c) our refresh writes a rotated token that opencode connects with, neither refreshing nor logging in again', async () => {
    const before = (await readAuth()).lab!;
    const server = (await scanOpencode(e)).servers.find((s) => s.name === 'lab')!;
    const refreshes = lab.refreshes();
    const outcome = await refresh({ server, store, key: server.storageKey! }, { http: LOOPBACK_HTTP, runningClients: async () => ({ known: true, processes: [] }) });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(lab.refreshes(), refreshes + 1);
    const after = (await readAuth()).lab!;
    assert.notEqual(after.tokens!.refreshToken, before.tokens!.refreshToken, 'the lab rotates refresh tokens');
    assert.notEqual(after.tokens!.accessToken, before.tokens!.accessToken);
    assert.ok(after.tokens!.expiresAt! > Date.now() / 1000, 'expiresAt in seconds');
    assert.equal(after.serverUrl, before.serverUrl);
    assert.deepEqual(after.clientInfo, before.clientInfo, "opencode's client registration is kept");
    assert.equal((await fs.stat(authFile())).mode & 0o777, 0o600);
    // The old refresh token is dead now: a connection can only come from what we wrote.
    const regs = lab.registrations();
    const auth = lab.requestsSeen().authorizationServer['/auth'] ?? 0;
    const r = await opencode(['mcp', 'list']);
    assert.match(r.stdout, /lab\s+connected/, describeRun('opencode mcp list', r));
    assert.equal(lab.registrations(), regs, 'no new registration');
    assert.equal(lab.requestsSeen().authorizationServer['/auth'] ?? 0, auth, 'no new authorization');
    assert.equal(lab.refreshes(), refreshes + 1, 'opencode did not refresh');
    const still = (await readAuth()).lab!;
    assert.equal(fingerprint(still.tokens!.accessToken), fingerprint(after.tokens!.accessToken), 'opencode kept the token we wrote');
  });

  it("(d) while we hold opencode's lock on mcp-auth.json, the real opencode waits for it", async () => {
    const hold = 4000;
    let released = 0;
    const started = Date.now();
    const run = withOpencodeLock(opencodeStateDir(e), authFile(), async () => {
      await new Promise((r) => setTimeout(r, hold));
      released = Date.now();
    });
    // opencode starts in about 2 s here; it reaches the lock while we still hold it.
    const listed = opencode(['mcp', 'auth', 'list']);
    await run;
    const r = await listed;
    assert.equal(r.code, 0, describeRun('opencode mcp auth list', r));
    assert.ok(started + r.ms >= released, `opencode answered ${r.ms} ms after its start, before our release at ${released - started} ms`);
    const lockDir = path.join(opencodeStateDir(e), 'locks');
    assert.deepEqual((await fs.readdir(lockDir)).filter((n) => n.endsWith('.breaker')), [], 'nobody broke the lock');
  });

  it('(e) a changed URL leaves the login unused, in opencode as here', async () => {
    const moved = `${lab2.mcpUrl}?tenant=b`;
    const original = await fs.readFile(projectConfig(), 'utf8');
    await fs.writeFile(projectConfig(), JSON.stringify({ mcp: { second: { type: 'remote', url: moved } } }, null, 2));
    try {
      const server = (await scanOpencode(e)).servers.find((s) => s.name === 'second')!;
      assert.equal(server.storageKey, `second|${moved}`);
      assert.equal(await store.read(server.storageKey!), undefined, 'no login for the new URL');
      assert.ok(await store.read(`second|${lab2.mcpUrl}`), 'the old login is still stored, under its own URL');
      assert.equal((await authList()).get('second'), 'not authenticated');
    } finally {
      await fs.writeFile(projectConfig(), original);
    }
    assert.equal((await authList()).get('second'), 'authenticated');
  });

  it('(f) our reset logs opencode out of one server and keeps the other entry byte for byte', async () => {
    const text = await fs.readFile(authFile(), 'utf8');
    const second = JSON.stringify((JSON.parse(text) as Record<string, AuthEntry>).second, null, 2).replace(/\n/g, '\n  ');
    assert.ok(text.includes(`"second": ${second}`), "the second entry as opencode laid it out");
    const r = await store.delete(`lab|${lab.mcpUrl}`);
    assert.equal(r.deleted, true);
    assert.ok(r.snapshotId, 'a snapshot was taken first');
    const after = await fs.readFile(authFile(), 'utf8');
    assert.ok(after.includes(`"second": ${second}`), 'the second entry kept byte for byte');
    assert.deepEqual(Object.keys(JSON.parse(after)), ['second']);
    const status = await authList();
    assert.equal(status.get('lab'), 'not authenticated');
    assert.equal(status.get('second'), 'authenticated');
    assert.equal(await store.read(`lab|${lab.mcpUrl}`), undefined);
  });

  it("(g) when opencode's own write drops its logins, the journal catches it and restore --lost puts back exactly those", async () => {
    const cli = async (args: string[]) => {
      let out = '';
      let err = '';
      const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: env(), cwd: project };
      return { code: await runCli(args, io), out, err };
    };
    await login('lab', lab);
    const before = await readAuth();
    assert.deepEqual(Object.keys(before).sort(), ['lab', 'second']);
    const first = await cli(['restore', '--lost', '--client', 'opencode']);
    assert.equal(first.code, 0, first.out + first.err);
    assert.match(first.out, /No loss in the journal/);

    // One entry of a wrong type, as a hand edit or another tool can leave it: opencode now reads
    // no login at all from the file...
    await fs.writeFile(authFile(), JSON.stringify({ ...before, stale: { tokens: { accessToken: null } } }, null, 2));
    assert.deepEqual(Object.fromEntries(await authList()), { lab: 'not authenticated', second: 'not authenticated' });
    // ...and its own next write keeps none of them: `opencode mcp list` starts a login for each
    // server, writing a new registration over the file it read as empty.
    const listed = await opencode(['mcp', 'list']);
    assert.equal(listed.code, 0, describeRun('opencode mcp list', listed));
    const clobbered = await readAuth();
    assert.equal(clobbered.stale, undefined, "opencode's write replaced the whole file");
    for (const name of ['lab', 'second']) {
      assert.equal(clobbered[name]?.tokens, undefined, `${name}: opencode's write dropped the tokens`);
      assert.notEqual(clobbered[name]?.clientInfo?.clientId, before[name]!.clientInfo!.clientId, `${name}: and registered a new client`);
    }

    const plan = await cli(['restore', '--lost', '--client', 'opencode']);
    assert.equal(plan.code, 1, plan.out + plan.err);
    assert.match(plan.out, /restore +lab /);
    assert.match(plan.out, /restore +second /);
    const done = await cli(['restore', '--lost', '--client', 'opencode', '--yes']);
    assert.equal(done.code, 0, done.out + done.err);
    assert.match(done.out, /Restored 2 lost entries/);
    assert.match(done.out, /Undo: mcp-auth-doctor restore \S+ --yes/);
    assert.equal((done.out.match(/live: the server accepted the access token/g) ?? []).length, 2, done.out);
    const now = await readAuth();
    for (const name of ['lab', 'second']) {
      assert.deepEqual(now[name]!.tokens, before[name]!.tokens, `${name}: the tokens are back`);
      assert.deepEqual(now[name]!.clientInfo, before[name]!.clientInfo, `${name}: with the client they were issued to`);
    }
    const text = first.out + first.err + plan.out + plan.err + done.out + done.err;
    for (const t of Object.values(before).flatMap((x) => [x.tokens?.accessToken, x.tokens?.refreshToken])) if (t) assert.ok(!text.includes(t), 'a token was printed');

    assert.deepEqual(Object.fromEntries(await authList()), { lab: 'authenticated', second: 'authenticated' });
    const after = await opencode(['mcp', 'list']);
    assert.match(after.stdout, /lab connected/, describeRun('opencode mcp list', after));
    assert.match(after.stdout, /second connected/);
  });

  it("(h) opencode's own `mcp logout <name>` (our logout hand-off) removes that entry only, and the journal records it without an alarm", async () => {
    const journal = journalFor(e, { writer: { listClients: async () => ({ processes: [], known: true }) } });
    const observe = async () => (await Promise.all(journalSources(e, { readSecureStores: false, clients: ['opencode'] }).map((src) => journal.observe(src)))).flatMap((o) => o.states);
    await observe();
    const before = await fs.readFile(authFile(), 'utf8');
    const second = JSON.stringify((JSON.parse(before) as Record<string, AuthEntry>).second, null, 2).replace(/\n/g, '\n  ');
    const r = await opencode(['mcp', 'logout', 'lab']);
    assert.equal(r.code, 0, describeRun('opencode mcp logout lab', r));
    const after = await readAuth();
    assert.deepEqual(Object.keys(after), ['second']);
    assert.ok((await fs.readFile(authFile(), 'utf8')).includes(`"second": ${second}`), 'the other entry byte for byte');
    const [state] = await observe();
    assert.equal(state?.classification.verdict, 'deliberate-removal', JSON.stringify(state?.classification));
    assert.deepEqual(state?.losses.filter((l) => l.alarm), []);
    assert.equal((await authList()).get('lab'), 'not authenticated');
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function waitUntil<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number, describe: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${describe().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
