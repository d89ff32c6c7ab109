// Re-login (src/core/repair/login.ts) against the loopback OAuth lab, judged by the real clients:
// after our login into a sandbox HOME, Claude Code 2.1.332's `claude mcp list` reports the server
// connected and Codex 0.169.0's app-server lists its tools. A second login reuses the stored
// client (seed 004: no orphaned registration); a client the AS forgot is replaced by exactly one
// new registration; every refusal leaves the store as it was. The "browser" is lab.approve(url)
// followed by a GET of the redirect, as a user's browser would deliver it.
// Run: npx mocha --no-config --node-option import=tsx --timeout 180000 test/interop/repairLogin.test.ts
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import type { ClientId } from '../../src/core/model';
import type { HttpSettings } from '../../src/core/probe/http';
import { login, planLogin, type LoginUi } from '../../src/core/repair/login';
import type { RepairOutcome } from '../../src/core/repair/types';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import { registerClient } from '../lab/oauthClient';
import { assertOk, labBrowser, labSandbox, loginContext, LOOPBACK_HTTP, rawClaude, rawCodex, removeSandboxes, type Sandbox, type SandboxOptions } from '../support/loginSandbox';
import { claudeMcpList, claudeRegistersWhileListing, claudeVersion, codexAppServerStatus, codexLogin, sandboxEnv } from '../support/realClients';

const HTTP = LOOPBACK_HTTP;
const sandbox = (client: ClientId, lab: Lab, options: SandboxOptions = {}) => labSandbox(client, lab.mcpUrl, options);
const browser = labBrowser;
const ctx = loginContext;

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

after(removeSandboxes);

describe('Re-login into Claude Code’s store', function () {
  this.timeout(180_000);
  let lab: Lab;
  let sb: Sandbox;
  const seen = { urls: [] as string[], pages: [] as string[] };

  before(async () => {
    lab = await startLab();
    sb = await sandbox('claude-code', lab);
  });
  after(async () => lab?.close());

  it('with nothing stored, registers one native client named for Claude Code and claude mcp list reports ✔ Connected', async () => {
    const plan = await planLogin(sb.target, ctx({ runningClients: async () => ({ processes: [{ client: 'claude-code', pid: 4242, command: 'claude' }], known: true }) }));
    assert.equal(plan.blocked, undefined);
    assert.ok(plan.warnings.some((w) => w.startsWith('Claude Code is running (pid 4242: claude)') && w.includes('`claude mcp login lab`')), plan.warnings.join('\n'));
    assert.deepEqual(plan.handOff, { command: 'claude', args: ['mcp', 'login', 'lab'] });
    assert.ok(plan.changes.some((c) => c.includes('a new client registered at') && c.includes('MCP Auth Doctor (for Claude Code)')), plan.changes.join('\n'));
    assert.equal(lab.registrations(), 0, 'planning registers nothing');
    assert.equal(existsSync(sb.file), false, 'planning writes nothing');

    const outcome = await login(sb.target, ctx(), browser(lab, seen));
    assertOk(outcome);
    assert.equal(lab.registrations(), 1);
    const [client] = lab.clients();
    assert.equal(client?.clientName, 'MCP Auth Doctor (for Claude Code)');
    assert.match(client!.redirectUris[0]!, /^http:\/\/localhost:\d+\/callback$/, 'the redirect URI has the form Claude Code itself registers');

    const authorization = new URL(seen.urls[0]!);
    assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorization.searchParams.get('resource'), lab.mcpUrl);
    assert.ok(authorization.searchParams.get('state'));
    assert.equal(authorization.searchParams.get('scope'), 'mcp:tools offline_access', 'the resource’s scopes, plus offline_access which the AS lists');

    const raw = await rawClaude(sb);
    assert.equal(raw.serverName, 'lab');
    assert.equal(raw.serverUrl, lab.mcpUrl);
    assert.equal(raw.clientId, client!.clientId);
    assert.ok(raw.refreshToken, 'a refresh token is stored');
    assert.equal(raw.scope, 'mcp:tools');
    assert.ok(Math.abs(raw.expiresAt! - (Date.now() + lab.behaviour.accessTokenTtl * 1000)) < 60_000, `expiresAt ${raw.expiresAt} is about an hour from now`);
    assert.ok(outcome.summary.includes(fingerprint(raw.accessToken)), outcome.summary);
    assert.equal(outcome.undoSnapshotId, undefined, 'the store did not exist before, so there is no snapshot to undo to');
    assert.equal((await fs.stat(sb.file)).mode & 0o777, 0o600);

    // The page the browser showed says so, and carries no token, no code.
    const page = seen.pages[0]!;
    assert.match(page, /Logged in/);
    for (const secret of [raw.accessToken, raw.refreshToken!]) assert.ok(!page.includes(secret), 'the page holds no token');
    assert.ok(!page.includes('code='), 'the page holds no code');

    const authorized = lab.mcpRequests().authorized;
    const { servers } = await claudeMcpList(sb.home, sb.home, { timeoutMs: 60_000 });
    assert.deepEqual(servers.map((s) => [s.name, s.statusText]), [['lab', '✔ Connected']]);
    assert.ok(lab.mcpRequests().authorized > authorized, 'claude sent the token we stored and the lab accepted it');
  });

  it('a second login reuses the stored client: no registration, new tokens, the old refresh token replaced, Undo restores the old entry', async () => {
    const before = await rawClaude(sb);
    const registrations = lab.registrationRequests();
    const plan = await planLogin(sb.target, ctx());
    assert.ok(plan.changes.some((c) => c.startsWith(`clientId: ${before.clientId} kept`)), plan.changes.join('\n'));

    const outcome = await login(sb.target, ctx(), browser(lab));
    assertOk(outcome);
    assert.equal(lab.registrationRequests(), registrations, 'not one request reached the registration endpoint');
    const after = await rawClaude(sb);
    assert.equal(after.clientId, before.clientId);
    assert.notEqual(after.accessToken, before.accessToken);
    assert.ok(after.refreshToken && after.refreshToken !== before.refreshToken, 'the refresh token is the new grant’s');
    assert.match(outcome.summary, /reused, nothing registered/);

    assert.ok(outcome.undoSnapshotId, 'the write took a snapshot first');
    const snapshot = await sb.backups.read(outcome.undoSnapshotId);
    assert.equal(snapshot?.entries.find((x) => x.key === sb.target.key)?.accessToken, fingerprint(before.accessToken), 'the snapshot holds the entry as it was');
  });

  it('after the AS forgot every client, exactly one new registration, and the entry names it', async () => {
    const before = await rawClaude(sb);
    assert.equal(lab.forgetClients(), 1);
    const registrations = lab.registrations();
    const outcome = await login(sb.target, ctx(), browser(lab));
    assertOk(outcome);
    assert.equal(lab.registrations(), registrations + 1);
    const after = await rawClaude(sb);
    assert.notEqual(after.clientId, before.clientId);
    assert.deepEqual(lab.clients().map((c) => c.clientId), [after.clientId]);
    assert.ok(outcome.changed.includes(`clientId: ${before.clientId} → ${after.clientId} (registered now)`), outcome.changed.join('\n'));
  });
});

describe('Re-login over the entry claude wrote while listing', function () {
  this.timeout(180_000);
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => lab?.close());

  it('listing (2.1.332: discovery only; 2.1.197: a client) then our login: one registration in all, the tokenless mark kept as claude’s own login keeps it, the stamp cleared, and claude connects', async () => {
    const sb = await sandbox('claude-code', lab);
    const registrations = lab.registrationRequests();
    const listed = await claudeMcpList(sb.home, sb.home, { timeoutMs: 60_000 });
    assert.deepEqual(listed.servers.map((s) => [s.name, s.status]), [['lab', 'needs-auth']]);
    const listedEntry = await rawClaude(sb);
    const state = listedEntry.discoveryState as { authorizationServerUrl?: string; tokenlessRejectedAt?: number } | undefined;
    assert.equal(state?.authorizationServerUrl, lab.issuer);
    if (await claudeRegistersWhileListing()) {
      // 2.1.197 registered its client while listing (client-formats.md), and our login reuses it.
      assert.equal(lab.registrationRequests(), registrations + 1, `claude ${await claudeVersion()} registered while listing`);
      assert.ok(listedEntry.clientId, 'claude stored the client it registered');
    } else {
      // claude 2.1.332 defers registration to login time ("No client info found; deferring client
      // registration to authentication time" in its binary): no client, a discovery-only entry.
      assert.equal(lab.registrationRequests(), registrations, 'claude mcp list reached the registration endpoint');
      assert.equal(listedEntry.clientId, undefined, 'claude stored no client while listing');
      assert.equal(listedEntry.accessToken, '');
      assert.equal(typeof state?.tokenlessRejectedAt, 'number', 'claude marked the 401 without a token');
    }
    const stampFile = path.join(sb.home, '.claude', 'mcp-needs-auth-cache.json');
    assert.ok(Object.hasOwn(JSON.parse(await fs.readFile(stampFile, 'utf8')), 'lab'), 'the server is stamped');

    const outcome = await login(sb.target, ctx(), browser(lab));
    assertOk(outcome);
    assert.equal(lab.registrationRequests(), registrations + 1, 'exactly one registration in all: claude’s reused, or ours');
    const after = await rawClaude(sb);
    assert.ok(after.accessToken && after.refreshToken);
    assert.equal(after.issuer, lab.issuer, '2.1.332 keeps the issuer in the entry');
    assert.match(String(after.redirectUri), /^http:\/\/localhost:\d+\/callback$/);
    assert.equal((after.discoveryState as { tokenlessRejectedAt?: number }).tokenlessRejectedAt, state?.tokenlessRejectedAt, 'the tokenless mark is kept, as claude keeps it beside the tokens of its own login');
    assert.ok(!Object.hasOwn(JSON.parse(await fs.readFile(stampFile, 'utf8')), 'lab'), 'the needs-auth stamp is gone');
    const { servers } = await claudeMcpList(sb.home, sb.home, { timeoutMs: 60_000 });
    assert.deepEqual(servers.map((s) => [s.name, s.statusText]), [['lab', '✔ Connected']]);
  });

  it('a store 2.1.197 wrote (its client registered on port 3118 while listing, pinned port elsewhere): the client and its redirect URI are reused exactly, nothing registered, and claude 2.1.332 connects', async () => {
    const sb = await sandbox('claude-code', lab, { callbackPort: await freePort() });
    // As 2.1.197 left it (client-formats.md): a client registered for http://localhost:3118/callback, no tokens.
    const redirectUri = 'http://localhost:3118/callback';
    const { client_id: clientId } = await registerClient(lab.metadata(), { redirect_uris: [redirectUri], client_name: 'Claude Code (lab)' });
    const old = { serverName: 'lab', serverUrl: lab.mcpUrl, clientId, redirectUri, accessToken: '', discoveryState: { authorizationServerUrl: lab.issuer, oauthMetadataFound: true } };
    await fs.mkdir(path.dirname(sb.file), { recursive: true });
    await fs.writeFile(sb.file, JSON.stringify({ mcpOAuth: { [sb.target.key]: old } }), { mode: 0o600 });
    const registrations = lab.registrationRequests();

    const plan = await planLogin(sb.target, ctx());
    assert.ok(plan.warnings.some((w) => w.includes('(the configured oauth.callbackPort): redirect rejected')), plan.warnings.join('\n'));
    assert.ok(plan.warnings.some((w) => w.includes(redirectUri) && w.includes(': accepted')), plan.warnings.join('\n'));

    const outcome = await login(sb.target, ctx(), browser(lab));
    assertOk(outcome);
    assert.equal(lab.registrationRequests(), registrations, 'nothing reached the registration endpoint');
    const after = await rawClaude(sb);
    assert.equal(after.clientId, clientId);
    assert.equal(after.redirectUri, redirectUri, 'the registered redirect URI stays, byte for byte');
    assert.ok(after.accessToken && after.refreshToken);
    assert.ok(outcome.undoSnapshotId);
    const { servers } = await claudeMcpList(sb.home, sb.home, { timeoutMs: 60_000 });
    assert.deepEqual(servers.map((s) => [s.name, s.statusText]), [['lab', '✔ Connected']]);
  });
});

describe('Re-login into Codex’s file store', function () {
  this.timeout(180_000);
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => lab?.close());

  async function codexUsesIt(sb: Sandbox): Promise<void> {
    const authorized = lab.mcpRequests().authorized;
    const status = await codexAppServerStatus(sb.home, { store: 'file', timeoutMs: 90_000 });
    const labStatus = status.find((s) => s.name === 'lab');
    assert.equal(labStatus?.toolsError, undefined, `codex could not use the tokens: ${labStatus?.toolsError}`);
    assert.deepEqual(labStatus?.tools, ['echo', 'whoami']);
    assert.ok(lab.mcpRequests().authorized > authorized, 'codex sent the token we stored');
  }

  it('with nothing stored: one registration named for Codex, the entry in Codex’s format, and the app-server lists the tools', async () => {
    const sb = await sandbox('codex', lab);
    const registrations = lab.registrations();
    const outcome = await login(sb.target, ctx(), browser(lab));
    assertOk(outcome);
    assert.equal(lab.registrations(), registrations + 1);
    const mine = lab.clients().find((c) => c.clientName === 'MCP Auth Doctor (for Codex)');
    assert.ok(mine, 'the new client is named for Codex');
    assert.match(mine.redirectUris[0]!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/, 'the redirect URI has the form Codex itself registers');

    const raw = await rawCodex(sb);
    assert.deepEqual(
      { server_name: raw.server_name, server_url: raw.server_url, issuer: raw.issuer, client_id: raw.client_id, scopes: raw.scopes },
      { server_name: 'lab', server_url: lab.mcpUrl, issuer: lab.issuer, client_id: mine.clientId, scopes: ['mcp:tools'] },
    );
    assert.ok(raw.refresh_token, 'a refresh token is stored');
    assert.ok(Math.abs(raw.expires_at! - (Date.now() + lab.behaviour.accessTokenTtl * 1000)) < 60_000);
    await codexUsesIt(sb);
  });

  it('over Codex’s own login: Codex’s client is reused (no registration), its entry replaced, and the app-server lists the tools', async () => {
    const sb = await sandbox('codex', lab);
    await codexLogin(sb.home, 'lab', lab, { store: 'file', timeoutMs: 60_000 });
    const codexs = await rawCodex(sb);
    const registrations = lab.registrationRequests();

    const plan = await planLogin(sb.target, ctx());
    assert.ok(plan.changes.some((c) => c.startsWith(`clientId: ${codexs.client_id} kept`)), plan.changes.join('\n'));
    const outcome = await login(sb.target, ctx(), browser(lab));
    assertOk(outcome);
    assert.equal(lab.registrationRequests(), registrations, 'nothing reached the registration endpoint');
    const raw = await rawCodex(sb);
    assert.equal(raw.client_id, codexs.client_id);
    assert.equal(raw.issuer, lab.issuer);
    assert.notEqual(raw.access_token, codexs.access_token);
    assert.ok(raw.refresh_token && raw.refresh_token !== codexs.refresh_token);
    assert.ok(outcome.undoSnapshotId, 'Codex’s own entry was snapshotted before we replaced it');
    await codexUsesIt(sb);
  });
});

describe('Re-login refusals leave the store as it was', function () {
  this.timeout(120_000);
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  afterEach(() => lab.configure({ dynamicRegistration: true, advertisedResource: 'exact' }));
  after(async () => lab?.close());

  /** A Claude Code sandbox with one grant from an earlier login of ours (so a refusal has something to keep). */
  async function loggedIn(): Promise<{ sb: Sandbox; text: string }> {
    const sb = await sandbox('claude-code', lab);
    assertOk(await login(sb.target, ctx(), browser(lab)));
    return { sb, text: await fs.readFile(sb.file, 'utf8') };
  }

  function fails(outcome: RepairOutcome, error: string): Extract<RepairOutcome, { ok: false }> {
    assert.ok(!outcome.ok, 'the login should have failed');
    assert.equal(outcome.error, error, outcome.message);
    assert.match(outcome.message, /nothing was written|left as it was/);
    return outcome;
  }

  it('no dynamic registration and no client: a clear error before any browser, nothing written', async () => {
    lab.configure({ dynamicRegistration: false });
    const sb = await sandbox('claude-code', lab);
    const registrationRequests = lab.registrationRequests();
    const plan = await planLogin(sb.target, ctx());
    assert.equal(plan.blocked?.error, 'discovery');
    const ui = browser(lab);
    const outcome = fails(await login(sb.target, ctx(), ui), 'discovery');
    assert.match(outcome.message, /no dynamic client registration/);
    assert.match(outcome.message, /client_id/);
    assert.deepEqual(outcome.next, ['edit-config']);
    assert.equal(ui.seen.urls.length, 0, 'no browser was opened');
    assert.equal(lab.registrationRequests(), registrationRequests);
    assert.equal(existsSync(sb.file), false);
  });

  it('access_denied from the authorization server: denied, no code exchange', async () => {
    const { sb, text } = await loggedIn();
    const tokenRequests = lab.tokenEndpointRequests();
    // What the AS sends when the user clicks "Deny": the redirect with error=access_denied.
    const ui: LoginUi = {
      openBrowser: async (url) => {
        const a = new URL(url);
        const deny = new URL(a.searchParams.get('redirect_uri')!);
        deny.search = new URLSearchParams({ error: 'access_denied', error_description: 'The user denied access', state: a.searchParams.get('state')!, iss: lab.issuer }).toString();
        const page = await (await fetch(deny)).text();
        assert.match(page, /Login not completed/);
      },
    };
    const outcome = fails(await login(sb.target, ctx(), ui), 'denied');
    assert.deepEqual(outcome.next, ['relogin']);
    assert.equal(lab.tokenEndpointRequests(), tokenRequests);
    assert.equal(await fs.readFile(sb.file, 'utf8'), text);
  });

  it('a callback whose iss names another issuer (RFC 9207 mix-up): the code is never exchanged', async () => {
    const { sb, text } = await loggedIn();
    const tokenRequests = lab.tokenEndpointRequests();
    const ui = browser(lab, undefined, (redirect) => {
      assert.equal(redirect.searchParams.get('iss'), lab.issuer, 'the lab sends iss');
      redirect.searchParams.set('iss', lab.canary.origin);
      return redirect;
    });
    const outcome = fails(await login(sb.target, ctx(), ui), 'discovery');
    assert.match(outcome.message, /did not come from/);
    assert.equal(lab.tokenEndpointRequests(), tokenRequests, 'no request reached the token endpoint');
    assert.equal(await fs.readFile(sb.file, 'utf8'), text);
    assert.equal(lab.canary.tokensReceived(), 0);
  });

  it('no callback in time: a network error after the timeout, and the listener is closed', async () => {
    const { sb, text } = await loggedIn();
    let redirectUri = '';
    const started = Date.now();
    const outcome = fails(
      await login(sb.target, ctx({ callbackTimeoutMs: 800 }), {
        openBrowser: async (url) => {
          redirectUri = new URL(url).searchParams.get('redirect_uri')!;
        },
      }),
      'network',
    );
    assert.match(outcome.message, /no answer from the browser within 1 s/);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(await fs.readFile(sb.file, 'utf8'), text);
    await assert.rejects(fetch(redirectUri.replace('localhost', '127.0.0.1')), 'the listener no longer answers');
  });

  it('the user cancels while the browser is open: nothing written, the listener closed', async () => {
    const { sb, text } = await loggedIn();
    const cancel = new AbortController();
    let redirectUri = '';
    const outcome = fails(
      await login(sb.target, ctx(), {
        signal: cancel.signal,
        openBrowser: async (url) => {
          redirectUri = new URL(url).searchParams.get('redirect_uri')!;
          setTimeout(() => cancel.abort(), 50);
        },
      }),
      'other',
    );
    assert.match(outcome.message, /cancelled/);
    assert.equal(await fs.readFile(sb.file, 'utf8'), text);
    await assert.rejects(fetch(redirectUri.replace('localhost', '127.0.0.1')), 'the listener no longer answers');
  });

  it('a resource the AS does not serve (invalid_target): discovery error naming it', async () => {
    const other = `${lab.mcpUrl}/other`;
    const sb = await sandbox('codex', lab, { resource: other });
    const outcome = fails(await login(sb.target, ctx(), browser(lab)), 'discovery');
    assert.ok(outcome.message.includes(other), outcome.message);
    assert.match(outcome.message, /invalid_target/);
    assert.equal(existsSync(sb.file), false);
  });

  it('metadata naming another host as the resource (RFC 9728 §3.3): refused before any browser or registration', async () => {
    lab.configure({ advertisedResource: 'other-host' });
    const sb = await sandbox('claude-code', lab);
    const registrationRequests = lab.registrationRequests();
    const ui = browser(lab);
    const outcome = fails(await login(sb.target, ctx(), ui), 'discovery');
    assert.match(outcome.message, /different resource/);
    assert.ok(outcome.message.includes(lab.mcpUrl.replace('127.0.0.1', 'localhost')), outcome.message);
    assert.equal(ui.seen.urls.length, 0);
    assert.equal(lab.registrationRequests(), registrationRequests);
    assert.equal(existsSync(sb.file), false);
  });

  it('the client is forgotten between approval and code exchange: invalid-client, nothing written', async () => {
    const { sb, text } = await loggedIn();
    const ui = browser(lab, undefined, (redirect) => {
      lab.forgetClients();
      return redirect;
    });
    const outcome = fails(await login(sb.target, ctx(), ui), 'invalid-client');
    assert.match(outcome.message, /code exchange failed/);
    assert.equal(await fs.readFile(sb.file, 'utf8'), text);
  });

  it('the registration endpoint refuses our metadata: invalid-client, nothing written', async () => {
    const sb = await sandbox('claude-code', lab);
    const registrations = lab.registrations();
    // An AS that refuses the registration (RFC 7591 §3.2.2), in front of the lab's endpoint.
    const refusing: HttpSettings = {
      ...HTTP,
      fetch: async (input, init) => {
        if (new URL(String(input)).pathname === '/reg' && init?.method === 'POST') {
          return new Response(JSON.stringify({ error: 'invalid_client_metadata', error_description: 'application_type native is not allowed' }), { status: 400, headers: { 'content-type': 'application/json' } });
        }
        return fetch(input, init);
      },
    };
    const ui = browser(lab);
    const outcome = fails(await login(sb.target, { ...ctx(), http: refusing }, ui), 'invalid-client');
    assert.match(outcome.message, /invalid_client_metadata/);
    assert.equal(ui.seen.urls.length, 0);
    assert.equal(lab.registrations(), registrations);
    assert.equal(existsSync(sb.file), false);
  });
});

describe('mcp-auth-doctor login', function () {
  this.timeout(120_000);
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => lab?.close());

  function cli(sb: Sandbox, args: string[], onOut?: (text: string) => void, readLine?: CliIo['readLine']) {
    let stdout = '';
    let stderr = '';
    const done = runCli(args, {
      stdout: (t) => {
        stdout += t;
        onOut?.(stdout);
      },
      stderr: (t) => (stderr += t),
      env: sandboxEnv(sb.home),
      cwd: sb.home,
      ...(readLine ? { readLine } : {}),
    });
    return { done, out: () => stdout, err: () => stderr };
  }

  /** A terminal the test types one line into, when `typed` settles. */
  function terminal(typed: Promise<string>): { readLine: CliIo['readLine']; closed: () => boolean } {
    let closed = false;
    return {
      readLine: () => ({ line: typed, close: () => (closed = true) }),
      closed: () => closed,
    };
  }

  it('--no-browser: the address the browser ends on, pasted, completes the login (the browser on another machine, F3)', async () => {
    const sb = await sandbox('claude-code', lab);
    assertOk(await login(sb.target, ctx(), browser(lab)));
    const before = await rawClaude(sb);
    let paste!: (line: string) => void;
    const tty = terminal(new Promise<string>((r) => (paste = r)));
    let approved: Promise<void> | undefined;
    const run = cli(
      sb,
      ['login', 'lab', '--no-browser', '--yes'],
      (out) => {
        const m = /^(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)$/m.exec(out);
        // The browser elsewhere: it approves, lands on the redirect (never delivered here), the user copies it.
        if (m && !approved) approved = lab.approve(m[1]!).then((redirect) => paste(`  ${redirect}  `));
      },
      tty.readLine,
    );
    assert.equal(await run.done, 0, run.out() + run.err());
    await approved;
    assert.match(run.out(), /paste here the address it ends on/);
    assert.match(run.out(), /Logged in to lab for Claude Code/);
    assert.notEqual((await rawClaude(sb)).accessToken, before.accessToken);
    assert.ok(tty.closed(), 'the terminal is let go');
  });

  it('--no-browser: a pasted address that is not the redirect ends the login with nothing written', async () => {
    const sb = await sandbox('claude-code', lab);
    assertOk(await login(sb.target, ctx(), browser(lab)));
    const before = await fs.readFile(sb.file, 'utf8');
    const tty = terminal(Promise.resolve('https://example.com/somewhere?code=abc'));
    const run = cli(sb, ['login', 'lab', '--no-browser', '--yes'], undefined, tty.readLine);
    assert.equal(await run.done, 1, run.out() + run.err());
    assert.match(run.out(), /Login failed \(other\): the pasted address is not the redirect to http:\/\/(127\.0\.0\.1|localhost):\d+\/callback/);
    assert.equal(await fs.readFile(sb.file, 'utf8'), before, 'the store is byte for byte as it was');
  });

  it('without --yes prints the plan and writes nothing (exit 1); the same name for both clients needs --client (exit 2)', async () => {
    const sb = await sandbox('claude-code', lab);
    const plan = cli(sb, ['login', 'lab']);
    assert.equal(await plan.done, 1);
    assert.match(plan.out(), /Log in to lab again for Claude Code/);
    assert.match(plan.out(), /Nothing written\. Run again with --yes/);
    assert.match(plan.out(), /claude mcp login lab/);
    assert.equal(existsSync(sb.file), false);

    await fs.mkdir(path.join(sb.home, '.codex'), { recursive: true });
    await fs.writeFile(path.join(sb.home, '.codex', 'config.toml'), `[mcp_servers.lab]\nurl = "${lab.mcpUrl}"\n`);
    const both = cli(sb, ['login', 'lab']);
    assert.equal(await both.done, 2);
    assert.match(both.err(), /--client claude-code/);
    assert.match(both.err(), /--client codex/);
  });

  it('with --yes prints the URL, logs in, prints the Undo command and the new state; the Undo command restores the entry', async () => {
    const sb = await sandbox('claude-code', lab);
    assertOk(await login(sb.target, ctx(), browser(lab)));
    const before = await rawClaude(sb);

    let delivered: Promise<void> | undefined;
    const run = cli(sb, ['login', 'lab', '--no-browser', '--yes'], (out) => {
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)$/m.exec(out);
      if (m && !delivered) delivered = lab.approve(m[1]!).then(async (redirect) => void (await (await fetch(redirect)).text()));
    });
    assert.equal(await run.done, 0, run.out() + run.err());
    await delivered;
    const out = run.out();
    assert.match(out, /Open this URL in your browser/);
    assert.match(out, /Logged in to lab for Claude Code: new token sha256:[0-9a-f]{12}/);
    assert.match(out, /State now: valid/);
    const undo = /^Undo: mcp-auth-doctor (restore \S+ --entry '([^']+)' --yes)$/m.exec(out);
    assert.ok(undo, out);
    assert.equal(undo[2], sb.target.key);
    const after = await rawClaude(sb);
    assert.notEqual(after.accessToken, before.accessToken);
    for (const secret of [after.accessToken, after.refreshToken!, before.accessToken]) assert.ok(!out.includes(secret), 'no token in the output');

    const restore = cli(sb, ['restore', ...undo[1]!.split(' ').slice(1).map((a) => a.replace(/^'|'$/g, ''))]);
    assert.equal(await restore.done, 0, restore.out() + restore.err());
    assert.equal((await rawClaude(sb)).accessToken, before.accessToken, 'Undo put the previous token back');
  });
});
