// The real Gemini CLI 0.61.0 (node_modules/@google/gemini-cli) in a sandbox HOME against the
// loopback lab: `gemini mcp add` writes what our reader reads at the right position; a real
// Gemini OAuth login (headless: `gemini -p`, consent answered on stdin, the browser a stand-in
// that records the URL for lab.approve) writes the token file our store reads with the same
// fingerprints; after our refresh write Gemini connects with that token and no new login; after
// our reset it has no token for that server and the other server's entry is byte-identical.
// With GEMINI_FORCE_ENCRYPTED_FILE_STORAGE=true and no keychain that answers (no Secret Service
// here), a real login lands in ~/.gemini/gemini-credentials.json, which our store lists read-only.
// Nothing reaches Google: the model endpoint is a dead loopback port (GOOGLE_GEMINI_BASE_URL),
// the API key is a dummy, telemetry, usage statistics and update checks are off (settings and
// GEMINI_TELEMETRY_ENABLED), and the proxies of sandboxEnv are dead loopback ports; with strace
// on PATH, every connect(2) of the login run is checked to be to 127.0.0.1.
// Run: npx mocha --no-config --import=tsx --timeout 180000 test/interop/geminiCli.test.ts
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createDecipheriv, scryptSync } from 'node:crypto';
import * as os from 'node:os';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import { scanGeminiCli } from '../../src/core/clients/gemini-cli/config';
import { GeminiCliStore } from '../../src/core/clients/gemini-cli/store';
import { SnapshotStore } from '../../src/core/credentials/backups';
import type { Environment } from '../../src/core/environment';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import { describeRun, runBounded, startBounded, type RunResult } from '../support/boundedProcess';
import { makeSandboxHome, REPO, sandboxEnv } from '../support/realClients';

const GEMINI_JS = process.env.MAD_GEMINI_JS || path.join(REPO, 'node_modules', '@google', 'gemini-cli', 'bundle', 'gemini.js');
const PINNED = '0.61.0';

interface GeminiToken {
  serverName: string;
  token: { accessToken: string; tokenType: string; refreshToken?: string; scope?: string; expiresAt?: number };
  clientId?: string;
  tokenUrl?: string;
  mcpServerUrl?: string;
  updatedAt: number;
}

/** What Gemini needs to run headless here, and everything that keeps it off the network. */
function geminiEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return sandboxEnv(home, {
    ...extra,
    PATH: `${path.join(home, 'bin')}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
    GEMINI_CLI_NO_RELAUNCH: 'true',
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    GEMINI_API_KEY: 'dummy-not-a-key',
    GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:9',
    GEMINI_TELEMETRY_ENABLED: 'false',
  });
}

function gemini(home: string, cwd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return runBounded(process.execPath, [GEMINI_JS, ...args], { cwd, env: geminiEnv(home), timeoutMs });
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, JSON.stringify(value, null, 2));
}

describe('Gemini CLI 0.61.0, real, in a sandbox HOME', function () {
  this.timeout(180_000);
  let lab: Lab;
  let lab2: Lab;
  let home: string;
  let project: string;
  let e: Environment;
  let store: GeminiCliStore;
  const tokenFile = () => path.join(home, '.gemini', 'mcp-oauth-tokens.json');
  const readTokens = async () => JSON.parse(await fs.readFile(tokenFile(), 'utf8')) as GeminiToken[];

  before(async function () {
    try {
      await fs.access(GEMINI_JS);
    } catch {
      this.skip();
    }
    lab = await startLab({ accessTokenTtl: 3600 });
    lab2 = await startLab({ accessTokenTtl: 3600 });
    home = await makeSandboxHome('mad-gemini-');
    project = path.join(home, 'work', 'app');
    await fs.mkdir(project, { recursive: true });
    // A browser stand-in: Gemini's openBrowserSecurely runs xdg-open <url> (secure-browser-launcher).
    await fs.mkdir(path.join(home, 'bin'));
    await fs.writeFile(path.join(home, 'bin', 'xdg-open'), '#!/bin/sh\nprintf "%s\\n" "$1" >> "$HOME/opened-urls"\n', { mode: 0o755 });
    await writeJson(path.join(home, '.gemini', 'settings.json'), {
      security: { auth: { selectedType: 'gemini-api-key' } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    });
    e = { home, env: geminiEnv(home), platform: process.platform, projectDirs: [project] };
    store = new GeminiCliStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) });
  });
  after(async () => {
    await lab?.close();
    await lab2?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it(`is the pinned ${PINNED}`, async () => {
    const r = await gemini(home, project, ['--version']);
    assert.equal(r.stdout.trim(), PINNED, describeRun('gemini --version', r));
  });

  it('(a) gemini mcp add writes user and project entries our reader finds at their keys', async () => {
    let r = await gemini(home, project, ['mcp', 'add', '-s', 'user', '-t', 'http', 'lab', lab.mcpUrl]);
    assert.equal(r.code, 0, describeRun('gemini mcp add -s user', r));
    r = await gemini(home, project, ['mcp', 'add', '-t', 'sse', '-H', 'X-Team: core', 'other', 'http://127.0.0.1:9/sse']);
    assert.equal(r.code, 0, describeRun('gemini mcp add (project)', r));
    const scan = await scanGeminiCli(e);
    assert.deepEqual(scan.findings, []);
    const userFile = path.join(home, '.gemini', 'settings.json');
    const userText = await fs.readFile(userFile, 'utf8');
    const lab1 = scan.servers.find((s) => s.name === 'lab');
    assert.ok(lab1);
    assert.equal(lab1.scope, 'user');
    assert.equal(lab1.transport, 'http');
    assert.equal(lab1.url, lab.mcpUrl);
    assert.equal(lab1.storageKey, 'lab');
    const lines = userText.split('\n');
    assert.equal(lines[lab1.source.line - 1]!.slice(lab1.source.column - 1).startsWith('"lab"'), true, `${lab1.source.line}:${lab1.source.column} in\n${userText}`);
    const other = scan.servers.find((s) => s.name === 'other');
    assert.ok(other);
    assert.equal(other.scope, 'project');
    assert.equal(other.projectPath, project);
    assert.equal(other.transport, 'sse');
    assert.deepEqual(other.headerNames, ['X-Team']);
    const projectText = await fs.readFile(other.source.file, 'utf8');
    assert.equal(other.source.file, path.join(project, '.gemini', 'settings.json'));
    assert.equal(projectText.split('\n')[other.source.line - 1]!.slice(other.source.column - 1).startsWith('"other"'), true);
    // gemini mcp list agrees on what is configured.
    r = await gemini(home, project, ['mcp', 'list']);
    assert.match(r.stdout + r.stderr, /lab: .* \(http\) - Disconnected/);
    assert.match(r.stdout + r.stderr, /other: .* \(sse\) - Disconnected/);
    // The project server stays configured but is not needed below.
    r = await gemini(home, project, ['mcp', 'remove', 'other']);
    assert.equal(r.code, 0, describeRun('gemini mcp remove', r));
  });

  it('(b) a real Gemini OAuth login writes the token file our store reads with the same fingerprints', async () => {
    // Gemini logs in on its own on a 401 only with oauth.enabled (mcp-client.js connectToMcpServer).
    const settingsFile = path.join(home, '.gemini', 'settings.json');
    const settings = JSON.parse(await fs.readFile(settingsFile, 'utf8'));
    settings.mcpServers.lab.oauth = { enabled: true };
    settings.mcpServers.second = { httpUrl: lab2.mcpUrl, oauth: { enabled: true } };
    await writeJson(settingsFile, settings);
    const before = lab.registrations() + lab2.registrations();
    const strace = spawnSync('strace', ['-V']).status === 0;
    const traceFile = path.join(home, 'connect.trace');
    const command = strace ? 'strace' : process.execPath;
    const args = strace ? ['-f', '-qq', '-e', 'trace=connect', '-o', traceFile, process.execPath, GEMINI_JS, '-p', 'hi'] : [GEMINI_JS, '-p', 'hi'];
    const run = startBounded(command, args, { cwd: project, env: geminiEnv(home), timeoutMs: 90_000, keepStdin: true });
    try {
      // Two servers, two logins, one after the other: answer each consent, approve each URL.
      for (let i = 0; i < 2; i++) {
        await waitUntil(async () => (run.stdout() + run.stderr()).split('Do you want to continue? [Y/n]').length > i + 1, 45_000, () => describeNow(run));
        run.child.stdin.write('y\n');
        const url = await waitUntil(async () => (await fs.readFile(path.join(home, 'opened-urls'), 'utf8').catch(() => '')).trim().split('\n')[i], 30_000, () => describeNow(run));
        const redirect = await (url.startsWith(lab2.issuer) ? lab2 : lab).approve(url);
        assert.match(redirect, /^http:\/\/localhost:\d+\/oauth\/callback\?/);
        const res = await fetch(redirect);
        assert.equal(res.status, 200);
        await res.body?.cancel();
        await waitUntil(async () => (await readTokens().catch(() => [])).length > i, 30_000, () => describeNow(run));
      }
    } finally {
      // The prompt itself can only fail (the model endpoint is dead): stop once the logins are stored.
      run.kill();
      await run.done;
    }
    assert.equal(lab.registrations() + lab2.registrations(), before + 2, 'one DCR registration per login');
    const raw = await readTokens();
    assert.deepEqual(raw.map((t) => t.serverName).sort(), ['lab', 'second']);
    assert.equal((await fs.stat(tokenFile())).mode & 0o777, 0o600);
    const listing = await store.list();
    assert.deepEqual(listing.findings, []);
    for (const t of raw) {
      const s = listing.entries.find((x) => x.key === t.serverName);
      assert.ok(s, t.serverName);
      assert.equal(s.accessTokenFingerprint, fingerprint(t.token.accessToken));
      assert.equal(s.refreshTokenFingerprint, fingerprint(t.token.refreshToken!));
      assert.equal(s.expiresAt, t.token.expiresAt);
      assert.ok(s.expiresAt! > Date.now());
      assert.equal(s.clientId, t.clientId);
      assert.equal(s.serverUrl, t.mcpServerUrl);
      assert.deepEqual(s.scopes, (t.token.scope ?? '').split(' ').filter(Boolean));
    }
    if (strace) {
      const trace = await fs.readFile(traceFile, 'utf8');
      const inet = trace.split("\n").filter((l) => /sa_family=AF_INET6?\b/.test(l));
      const elsewhere = inet.filter((l) => !/inet_addr\("127\.0\.0\.1"\)|inet_pton\(AF_INET6, "::1"|inet_pton\(AF_INET6, "::ffff:127\.0\.0\.1"/.test(l));
      assert.deepEqual(elsewhere, [], 'every connect(2) of Gemini went to loopback');
      assert.ok(inet.length > 0, 'strace saw the loopback connects');
    }
  });

  it('(c) after our refresh write Gemini connects with our token and logs in to nothing', async () => {
    const raw = (await readTokens()).find((t) => t.serverName === 'lab')!;
    const secret = await store.readSecret('lab');
    assert.ok(secret?.refreshToken);
    // First a dead access token that is not expired: Gemini sends it, the lab refuses it. So a
    // "Connected" below can only come from the token we write next.
    await store.write('lab', { accessToken: 'dead-access-token' });
    const beforeDead = lab.registrations();
    const dead = await gemini(home, project, ['mcp', 'list']);
    assert.match(dead.stdout + dead.stderr, /lab: .* \(http\) - Disconnected/, describeRun('gemini mcp list (dead token)', dead));
    assert.equal((await readTokens()).find((t) => t.serverName === 'lab')?.token.refreshToken, secret.refreshToken, 'Gemini kept the entry');
    // Seen with 0.61.0: a refused stored token makes `gemini mcp list` register one client (the
    // SDK's auth() runs with DynamicStoredOAuthProvider, whose clientInformation() is empty and
    // whose saveClientInformation keeps it in memory only), and gets no further (its
    // redirectToAuthorization does nothing). The registration is lost; the file is not touched.
    assert.equal(lab.registrations(), beforeDead + 1, 'one throw-away registration per refused connection');
    // The refresh a repair makes: Gemini's public client, its refresh token, the resource (RFC 8707).
    const res = await fetch(raw.tokenUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: secret.refreshToken, client_id: raw.clientId!, resource: raw.mcpServerUrl! }),
    });
    assert.equal(res.status, 200);
    const t = (await res.json()) as { access_token: string; refresh_token?: string; expires_in: number; scope?: string };
    assert.ok(t.refresh_token, 'the lab rotates refresh tokens');
    await store.write('lab', {
      accessToken: t.access_token,
      refreshToken: t.refresh_token,
      expiresAt: Date.now() + t.expires_in * 1000,
      ...(t.scope ? { scopes: t.scope.split(' ') } : {}),
    });
    const written = (await readTokens()).find((x) => x.serverName === 'lab')!;
    assert.equal(written.token.refreshToken, t.refresh_token, 'the rotated refresh token is stored');
    const registrations = lab.registrations();
    const r = await gemini(home, project, ['mcp', 'list']);
    assert.match(r.stdout + r.stderr, /lab: .* \(http\) - Connected/, describeRun('gemini mcp list', r));
    assert.equal(lab.registrations(), registrations, 'no new registration');
    // Gemini used our access token as it is: it neither refreshed nor logged in again.
    const after = (await readTokens()).find((x) => x.serverName === 'lab')!;
    assert.equal(fingerprint(after.token.accessToken), fingerprint(t.access_token));
    assert.ok(!(await fs.readFile(path.join(home, 'opened-urls'), 'utf8')).trim().split('\n')[2], 'no third browser login');
  });

  it('(d) after our reset Gemini has no token for that server, and the other entry is byte-identical', async () => {
    const text = await fs.readFile(tokenFile(), 'utf8');
    const second = JSON.stringify((JSON.parse(text) as GeminiToken[]).find((x) => x.serverName === 'second'), null, 2).replace(/\n/g, '\n  ');
    assert.ok(text.includes(second), 'the second entry as Gemini laid it out');
    const r = await store.delete('lab');
    assert.equal(r.deleted, true);
    const after = await fs.readFile(tokenFile(), 'utf8');
    assert.ok(after.includes(second), 'the second entry kept byte for byte');
    assert.deepEqual(
      (JSON.parse(after) as GeminiToken[]).map((x) => x.serverName),
      ['second'],
    );
    const list = await gemini(home, project, ['mcp', 'list']);
    const out = list.stdout + list.stderr;
    assert.match(out, /lab: .* \(http\) - Disconnected/, describeRun('gemini mcp list', list));
    assert.doesNotMatch(out, /Found stored OAuth token for server 'lab'/);
    assert.match(out, /second: .* \(http\) - Connected/);
    assert.equal(await store.read('lab'), undefined);
  });

  it("(e) after a read error Gemini's next login writes a file with that one server; the journal catches the loss and restore --lost puts the other back", async () => {
    const cli = async (args: string[]) => {
      let out = '';
      let err = '';
      const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: geminiEnv(home), cwd: project };
      return { code: await runCli(args, io), out, err };
    };
    /** One headless login run: answers the consent, approves the URL, waits for `done`, then stops Gemini. */
    const loginOnce = async (done: () => Promise<boolean>) => {
      const urls = path.join(home, 'opened-urls');
      const seen = (await fs.readFile(urls, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).length;
      const run = startBounded(process.execPath, [GEMINI_JS, '-p', 'hi'], { cwd: project, env: geminiEnv(home), timeoutMs: 90_000, keepStdin: true });
      try {
        await waitUntil(async () => (run.stdout() + run.stderr()).includes('Do you want to continue? [Y/n]'), 45_000, () => describeNow(run));
        run.child.stdin.write('y\n');
        const url = await waitUntil(async () => (await fs.readFile(urls, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean)[seen], 30_000, () => describeNow(run));
        const res = await fetch(await (url.startsWith(lab2.issuer) ? lab2 : lab).approve(url));
        await res.body?.cancel();
        await waitUntil(done, 30_000, () => describeNow(run));
      } finally {
        run.kill();
        await run.done;
      }
    };
    // Log lab in again (reset in (d)): the file then holds both servers.
    await loginOnce(async () => (await readTokens().catch(() => [])).some((t) => t.serverName === 'lab'));
    const before = await readTokens();
    assert.deepEqual(before.map((t) => t.serverName).sort(), ['lab', 'second']);
    const first = await cli(['restore', '--lost', '--client', 'gemini-cli']);
    assert.equal(first.code, 0, first.out + first.err);
    assert.match(first.out, /No loss in the journal/);

    // A null entry first: Gemini's loop stops there, so it has no token at all (a null after
    // them would leave it the entries before: its loop keeps what it read)...
    await fs.writeFile(tokenFile(), JSON.stringify([null, ...before], null, 2));
    const listed = await gemini(home, project, ['mcp', 'list']);
    assert.match(listed.stdout + listed.stderr, /lab: .* \(http\) - Disconnected/, describeRun('gemini mcp list', listed));
    assert.match(listed.stdout + listed.stderr, /second: .* \(http\) - Disconnected/);
    // ...and its next login (the first server it logs in to) writes a file holding only that one.
    await loginOnce(async () => {
      const now = await fs.readFile(tokenFile(), 'utf8').catch(() => '');
      return !now.includes('null') && (JSON.parse(now) as GeminiToken[]).length === 1;
    });
    const clobbered = await readTokens();
    assert.equal(clobbered.length, 1, "Gemini's write kept one server");
    const kept = clobbered[0]!.serverName;
    const lost = kept === 'lab' ? 'second' : 'lab';

    const plan = await cli(['restore', '--lost', '--client', 'gemini-cli']);
    assert.equal(plan.code, 1, plan.out + plan.err);
    assert.match(plan.out, new RegExp(`restore +${lost} `));
    assert.doesNotMatch(plan.out, new RegExp(`restore +${kept} `), 'the new login stays');
    const done = await cli(['restore', '--lost', '--client', 'gemini-cli', '--yes']);
    assert.equal(done.code, 0, done.out + done.err);
    assert.match(done.out, /Restored 1 lost entr/);
    assert.match(done.out, /live: the server accepted the access token/);
    const now = await readTokens();
    assert.deepEqual(now.map((t) => t.serverName).sort(), ['lab', 'second']);
    assert.deepEqual(now.find((t) => t.serverName === lost), before.find((t) => t.serverName === lost), `${lost}: back as it was`);
    const text = first.out + first.err + plan.out + plan.err + done.out + done.err;
    for (const t of before.flatMap((x) => [x.token.accessToken, x.token.refreshToken])) if (t) assert.ok(!text.includes(t), 'a token was printed');
    const r = await gemini(home, project, ['mcp', 'list']);
    assert.match(r.stdout + r.stderr, /lab: .* \(http\) - Connected/, describeRun('gemini mcp list', r));
    assert.match(r.stdout + r.stderr, /second: .* \(http\) - Connected/);
  });
});

describe('Gemini CLI 0.61.0, real, GEMINI_FORCE_ENCRYPTED_FILE_STORAGE=true', function () {
  this.timeout(180_000);
  let lab: Lab;
  let home: string;

  before(async function () {
    try {
      await fs.access(GEMINI_JS);
    } catch {
      this.skip();
    }
    lab = await startLab({ accessTokenTtl: 3600 });
    home = await makeSandboxHome('mad-gemini-enc-');
    await fs.mkdir(path.join(home, 'bin'));
    await fs.writeFile(path.join(home, 'bin', 'xdg-open'), '#!/bin/sh\nprintf "%s\\n" "$1" >> "$HOME/opened-urls"\n', { mode: 0o755 });
    await writeJson(path.join(home, '.gemini', 'settings.json'), {
      mcpServers: { lab: { httpUrl: lab.mcpUrl, oauth: { enabled: true } } },
      security: { auth: { selectedType: 'gemini-api-key' } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    });
  });
  after(async () => {
    await lab?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('a real login without a working keychain lands in the encrypted file, which our store lists read-only with the same fingerprints', async function () {
    const extra = { GEMINI_FORCE_ENCRYPTED_FILE_STORAGE: 'true' };
    const run = startBounded(process.execPath, [GEMINI_JS, '-p', 'hi'], { cwd: home, env: geminiEnv(home, extra), timeoutMs: 90_000, keepStdin: true });
    const encrypted = path.join(home, '.gemini', 'gemini-credentials.json');
    try {
      await waitUntil(async () => (run.stdout() + run.stderr()).includes('Do you want to continue? [Y/n]'), 45_000, () => describeNow(run));
      run.child.stdin.write('y\n');
      const url = await waitUntil(async () => (await fs.readFile(path.join(home, 'opened-urls'), 'utf8').catch(() => '')).trim().split('\n')[0], 30_000, () => describeNow(run));
      const res = await fetch(await lab.approve(url));
      await res.body?.cancel();
      await waitUntil(async () => (await fs.stat(encrypted).catch(() => undefined)) ?? (await fs.stat(path.join(home, '.gemini', 'mcp-oauth-tokens.json')).catch(() => undefined)), 30_000, () => describeNow(run));
    } finally {
      run.kill();
      await run.done;
    }
    // Where keytar answers (a desktop session with a Secret Service), Gemini uses the keychain instead.
    if (!(await fs.stat(encrypted).catch(() => undefined))) this.skip();
    assert.equal((await fs.stat(encrypted)).mode & 0o777, 0o600);
    // An oracle apart from encryptedFile.ts: FileKeychain.decrypt as the bundle has it.
    const [iv, tag, ct] = (await fs.readFile(encrypted, 'utf8')).split(':') as [string, string, string];
    const d = createDecipheriv('aes-256-gcm', scryptSync('gemini-cli-oauth', `${os.hostname()}-${os.userInfo().username}-gemini-cli`, 32), Buffer.from(iv, 'hex'), { authTagLength: 16 });
    d.setAuthTag(Buffer.from(tag, 'hex'));
    const blob = JSON.parse(d.update(ct, 'hex', 'utf8') + d.final('utf8')) as Record<string, Record<string, string>>;
    const stored = JSON.parse(blob['gemini-cli-oauth']!['lab']!) as GeminiToken;
    const e: Environment = { home, env: geminiEnv(home, extra), platform: process.platform, projectDirs: [] };
    const s = new GeminiCliStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) });
    const listing = await s.list();
    const entry = listing.entries.find((x) => x.key === 'lab');
    assert.ok(entry);
    assert.equal(entry.accessTokenFingerprint, fingerprint(stored.token.accessToken));
    assert.equal(entry.refreshTokenFingerprint, fingerprint(stored.token.refreshToken!));
    assert.equal(entry.expiresAt, stored.token.expiresAt);
    assert.equal(listing.findings[0]?.code, 'credentials.keychain-not-read');
    const r = await runBounded(process.execPath, [GEMINI_JS, 'mcp', 'list'], { cwd: home, env: geminiEnv(home, extra), timeoutMs: 60_000 });
    assert.match(r.stdout + r.stderr, /lab: .* \(http\) - Connected/, describeRun('gemini mcp list', r));
  });
});

async function waitUntil<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number, why: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms\n${why()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function describeNow(run: { stdout(): string; stderr(): string }): string {
  return `--- stdout ---\n${run.stdout().slice(-3000)}\n--- stderr ---\n${run.stderr().slice(-3000)}`.replace(/([?&](?:code|state|code_challenge)=)[^&\s]+/g, '$1<redacted>');
}
