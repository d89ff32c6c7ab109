// A stored grant bound to one authorization server while the MCP server now names another
// (token.issuer-changed), on the real lab and judged by the real clients: Codex 0.171 logs in
// itself (it records the issuer), then the server's metadata points at another issuer — the
// lab's canary (a second origin that serves AS metadata and records every token it is handed) or
// a second lab. The probe says which issuer the grant is bound to and which one the server names,
// offers no refresh, and hands no token to the new issuer; the access token goes only to the MCP
// server it was issued for. Codex itself refuses to refresh there too, and after our login (the
// fix the finding names) the entry records the new issuer and both clients connect again.
// Run: npx mocha --config test/interop/.mocharc.json test/interop/issuerChanged.test.ts
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import type { ClientId, Finding } from '../../src/core/model';
import { probeReport } from '../../src/core/probe/run';
import { login } from '../../src/core/repair/login';
import { refresh } from '../../src/core/repair/refresh';
import { diagnosticReport } from '../../src/core/report/diagnosticReport';
import { collectStatus } from '../../src/core/status';
import { startLab, type Lab } from '../lab';
import { labBrowser, labSandbox, LOOPBACK_HTTP, removeSandboxes, type Sandbox } from '../support/loginSandbox';
import { claudeMcpList, claudeSavesIssuer, codexAppServerStatus, codexLogin } from '../support/realClients';

const HTTP = LOOPBACK_HTTP;

interface ServerJson {
  name: string;
  state: string | null;
  summary: string | null;
  findings: Finding[];
  probe: { token: { live: string } | null; trace: { step: string; url: string; requestHeaders: Record<string, string> }[] } | null;
}

after(removeSandboxes);

const sandbox = (client: ClientId, mcpUrl: string) => labSandbox(client, mcpUrl, { prefix: 'mad-issuer-' });

async function status(sb: Sandbox, args: string[] = []): Promise<{ server: ServerJson; stdout: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { HOME: sb.home }, cwd: sb.home };
  const code = await runCli(['status', ...args], io);
  assert.notEqual(code, 2, stderr);
  if (!args.includes('--json')) return { server: undefined as unknown as ServerJson, stdout };
  const server = (JSON.parse(stdout) as { servers: ServerJson[] }).servers.find((s) => s.name === 'lab');
  assert.ok(server, 'the lab server is listed');
  return { server, stdout };
}

function issuerChanged(s: ServerJson): Finding {
  const f = s.findings.find((x) => x.code === 'token.issuer-changed');
  assert.ok(f, `token.issuer-changed is reported; got ${s.findings.map((x) => x.code).join(', ')}`);
  return f;
}

/** Every request of the probe that carried a bearer token went to this origin. */
function tokensOnlyTo(s: ServerJson, origin: string): void {
  const carried = (s.probe?.trace ?? []).filter((t) => Object.keys(t.requestHeaders).some((h) => h.toLowerCase() === 'authorization'));
  for (const t of carried) assert.equal(new URL(t.url).origin, origin, `a token went to ${t.url}`);
}

const browser = (lab: Lab) => labBrowser(lab);

describe('A grant bound to another issuer: Codex logged in, then the server names the canary', function () {
  this.timeout(180_000);
  let lab: Lab;
  let sb: Sandbox;
  before(async () => {
    lab = await startLab();
    sb = await sandbox('codex', lab.mcpUrl);
    await codexLogin(sb.home, 'lab', lab, { store: 'file', timeoutMs: 60_000 });
    const raw = JSON.parse(await fs.readFile(sb.file, 'utf8'))[sb.target.key];
    assert.equal(raw?.issuer, lab.issuer, 'Codex bound its login to the lab');
    lab.configure({ resourceMetadataAuthorizationServers: 'canary' });
  });
  after(async () => lab?.close());

  it('the probe names both issuers, offers Re-login and no refresh, and sends the access token only to the MCP server', async () => {
    const canaryIssuer = lab.canary.origin;
    const tokenRequests = lab.tokenEndpointRequests();
    const { server } = await status(sb, ['--json']);
    const f = issuerChanged(server);
    assert.equal(f.title, `The login is bound to ${lab.issuer}; the server now names ${canaryIssuer}`);
    // The lab's MCP server still trusts the lab's AS: the token works for now, so a warning.
    assert.equal(server.probe?.token?.live, 'accepted');
    assert.equal(f.severity, 'warning');
    assert.deepEqual(f.repairs, ['relogin']);
    assert.match(f.detail, /Codex will not refresh it/);
    assert.match(f.detail, /the refresh token is never sent to the new server/);
    assert.match(f.detail, /codex mcp login lab/);
    assert.ok(!server.findings.some((x) => x.repairs?.includes('refresh')), 'no finding offers a refresh');
    assert.match(server.summary ?? '', /refresh token bound to another issuer/);
    tokensOnlyTo(server, new URL(lab.mcpUrl).origin);
    assert.equal(lab.canary.tokensReceived(), 0, 'no token reached the new issuer');
    assert.equal(lab.tokenEndpointRequests(), tokenRequests, 'the probe called no token endpoint');

    // What the warning says Codex does: it uses the access token alone while it lasts, and refreshes nowhere.
    const labStatus = (await codexAppServerStatus(sb.home, { store: 'file', timeoutMs: 90_000 })).find((s) => s.name === 'lab');
    assert.deepEqual(labStatus?.tools, ['echo', 'whoami'], `codex: ${labStatus?.toolsError}`);
    assert.equal(lab.canary.tokensReceived(), 0, 'Codex sent no token to the new issuer');
    assert.equal(lab.tokenEndpointRequests(), tokenRequests, 'Codex refreshed nothing');
  });

  it('the CLI line and the diagnostic report carry it (what the tree and the report show)', async () => {
    const { stdout } = await status(sb);
    assert.match(stdout, new RegExp(`lab: .*The login is bound to ${lab.issuer.replace(/[.]/g, '\\.')}; the server now names`));
    const report = await collectStatus(sb.e, { clients: ['codex'] });
    const run = await probeReport(report, { fetch: HTTP.fetch });
    const text = diagnosticReport(report, run.probes, { extensionVersion: '0.0.0', hostVersion: 'test', platform: process.platform, at: report.at });
    assert.match(text, /^- \*\*warning\*\* `token\.issuer-changed`: The login is bound to /m);
    assert.equal(lab.canary.tokensReceived(), 0);
  });

  it('our refresh sends nothing, and Codex 0.171 itself does not refresh there once the access token has expired', async () => {
    const tokenRequests = lab.tokenEndpointRequests();
    const outcome = await refresh(sb.target, { http: HTTP, runningClients: async () => ({ processes: [], known: true }) });
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? '' : outcome.message, /^Nothing was sent/);

    // Expired by the store's clock (and past Codex's 30 s skew): Codex may only refresh, and must not at the canary.
    const blob = JSON.parse(await fs.readFile(sb.file, 'utf8'));
    blob[sb.target.key].expires_at = Date.now() - 3600_000;
    await fs.writeFile(sb.file, JSON.stringify(blob), { mode: 0o600 });
    const statuses = await codexAppServerStatus(sb.home, { store: 'file', timeoutMs: 90_000 });
    const labStatus = statuses.find((s) => s.name === 'lab');
    assert.deepEqual(labStatus?.tools, [], 'Codex did not use the login');
    assert.match(labStatus?.toolsError ?? '', /OAuth authorization server issuer changed for server lab; authorization required/);
    assert.equal(lab.canary.tokensReceived(), 0, 'Codex sent no token to the new issuer');
    assert.equal(lab.tokenEndpointRequests(), tokenRequests, 'nor refreshed at the old one');

    const { server } = await status(sb, ['--json']);
    assert.equal(issuerChanged(server).severity, 'error', 'expired and not refreshable: nothing works until a login');
    assert.ok(!server.findings.some((x) => x.code === 'token.expired-refreshable'), 'no advice to refresh');
  });
});

describe('A grant bound to another issuer: the server moved from one lab’s AS to another’s', function () {
  this.timeout(180_000);
  let oldAs: Lab;
  let server: Lab;
  before(async () => {
    [oldAs, server] = await Promise.all([startLab(), startLab()]);
  });
  after(async () => Promise.all([oldAs?.close(), server?.close()]));

  for (const client of ['codex', 'claude-code'] as const) {
    it(`${client}: the probe reports it, sends the old token only to the MCP server; our login binds the new issuer and the client connects`, async () => {
      const sb = await sandbox(client, server.mcpUrl);
      const old = await oldAs.mintTokens();
      const expiresAt = Date.now() + 3600_000;
      const entry =
        client === 'codex'
          ? { server_name: 'lab', server_url: server.mcpUrl, issuer: oldAs.issuer, client_id: old.clientId, access_token: old.accessToken, refresh_token: old.refreshToken, expires_at: expiresAt, scopes: old.scope.split(' ') }
          : { serverName: 'lab', serverUrl: server.mcpUrl, issuer: oldAs.issuer, clientId: old.clientId, accessToken: old.accessToken, refreshToken: old.refreshToken, expiresAt, scope: old.scope };
      await fs.mkdir(path.dirname(sb.file), { recursive: true });
      await fs.writeFile(sb.file, JSON.stringify(client === 'codex' ? { [sb.target.key]: entry } : { mcpOAuth: { [sb.target.key]: entry } }), { mode: 0o600 });

      const oldSeen = JSON.stringify(oldAs.requestsSeen());
      const { server: probed, stdout } = await status(sb, ['--json']);
      const f = issuerChanged(probed);
      assert.equal(f.title, `The login is bound to ${oldAs.issuer}; the server now names ${server.issuer}`);
      // The new server does not know the old AS's token: nothing works until a login.
      assert.equal(probed.probe?.token?.live, 'rejected');
      assert.equal(f.severity, 'error');
      assert.match(f.detail, new RegExp(`${client === 'codex' ? 'codex' : 'claude'} mcp login lab`));
      assert.ok(!probed.findings.some((x) => x.code === 'token.stale-discovery'), 'one finding for one change');
      tokensOnlyTo(probed, new URL(server.mcpUrl).origin);
      assert.equal(JSON.stringify(oldAs.requestsSeen()), oldSeen, 'the old lab got no request at all');
      assert.ok(!stdout.includes(old.accessToken) && !stdout.includes(old.refreshToken!), 'no token in the output');

      if (client === 'claude-code') {
        // What Claude Code 2.1.332 does with this login, on a copy of the sandbox (the fix below runs
        // on the original): it registers at the new AS, re-stamps the entry with the new issuer and
        // sends the old refresh token to the new AS's token endpoint, which refuses it; then it needs a login.
        const copy = await sandbox('claude-code', server.mcpUrl);
        await fs.mkdir(path.dirname(copy.file), { recursive: true });
        await fs.copyFile(sb.file, copy.file);
        const tokenRequests = server.tokenEndpointRequests();
        const refreshes = server.refreshes();
        const { servers } = await claudeMcpList(copy.home, copy.home);
        assert.notEqual(servers.find((s) => s.name === 'lab')?.status, 'connected');
        assert.equal(server.tokenEndpointRequests(), tokenRequests + 1, 'claude 2.1.332 sent one token request to the new AS (no code to exchange: the old refresh token)');
        assert.equal(server.refreshes(), refreshes, 'which the new AS refused');
        const after = JSON.parse(await fs.readFile(copy.file, 'utf8')).mcpOAuth[copy.target.key];
        if (await claudeSavesIssuer()) assert.equal(after.issuer, server.issuer, 'claude re-stamped the login with the new issuer');
        assert.equal(after.refreshToken, undefined, 'and dropped the refused refresh token');
        assert.equal(JSON.stringify(oldAs.requestsSeen()), oldSeen, 'the old AS got nothing either way');
      }

      const registrations = server.registrations();
      const outcome = await login(sb.target, { http: HTTP, callbackTimeoutMs: 20_000 }, browser(server));
      assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
      assert.equal(server.registrations(), registrations + 1, 'the old client id was not offered to the new AS; one new registration');
      const raw = JSON.parse(await fs.readFile(sb.file, 'utf8'));
      const written = client === 'codex' ? raw[sb.target.key] : raw.mcpOAuth[sb.target.key];
      assert.equal(written.issuer, server.issuer, 'the entry records the new issuer');

      const after = (await status(sb, ['--json'])).server;
      assert.ok(!after.findings.some((x) => x.code === 'token.issuer-changed'), after.findings.map((x) => x.code).join(', '));
      assert.equal(after.state, 'valid');
      if (client === 'codex') {
        const labStatus = (await codexAppServerStatus(sb.home, { store: 'file', timeoutMs: 90_000 })).find((s) => s.name === 'lab');
        assert.deepEqual(labStatus?.tools, ['echo', 'whoami'], `codex could not use our login: ${labStatus?.toolsError}`);
      } else {
        const { servers } = await claudeMcpList(sb.home, sb.home);
        assert.equal(servers.find((s) => s.name === 'lab')?.status, 'connected');
      }
    });
  }

  it('an entry that records another server URL: its access token is not sent to this one', async () => {
    const sb = await sandbox('claude-code', server.mcpUrl);
    const old = await server.mintTokens();
    const elsewhere = new URL('/mcp', oldAs.mcpUrl).href;
    await fs.mkdir(path.dirname(sb.file), { recursive: true });
    const entry = { serverName: 'lab', serverUrl: elsewhere, issuer: server.issuer, clientId: old.clientId, accessToken: old.accessToken, refreshToken: old.refreshToken, expiresAt: Date.now() + 3600_000, scope: old.scope };
    await fs.writeFile(sb.file, JSON.stringify({ mcpOAuth: { [sb.target.key]: entry } }), { mode: 0o600 });
    const seen = server.mcpRequests();
    const { server: probed } = await status(sb, ['--json']);
    assert.equal(probed.probe?.token?.live, 'not-checked');
    const f = probed.findings.find((x) => x.code === 'token.not-checked');
    assert.match(f?.detail ?? '', new RegExp(`made for ${new URL(elsewhere).origin}, not ${new URL(server.mcpUrl).origin}`));
    // (The probe's own request without a token is a 401 too; no authorized request means no token was taken.)
    assert.equal(server.mcpRequests().authorized, seen.authorized, 'no request with the token reached the MCP server');
    assert.ok(!(probed.probe?.trace ?? []).some((t) => Object.keys(t.requestHeaders).some((h) => h.toLowerCase() === 'authorization')), 'no request carried a token');
  });
});
