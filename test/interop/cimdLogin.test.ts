// Re-login as the client itself at servers that support Client ID Metadata Documents, judged by
// the real clients. The lab's authorization server is oidc-provider 9.13 with its own CIMD support,
// fetching the clients' documents from stand-ins for the hosted ones (test/lab/clientDocuments.ts).
// Measured first with the real clients at this lab (src/core/clientRegistration.ts): Claude Code
// 2.1.332 and Codex 0.171 both log in with their document URL as client_id, even where DCR is
// offered; Codex only where `none` is a listed token endpoint auth method. Our login must do the
// same, so the tokens it writes belong to the client id the client refreshes with.
// Run: npx mocha --no-config --import=tsx --timeout 180000 test/interop/cimdLogin.test.ts
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import { CLAUDE_CODE_CLIENT_METADATA_URL, CODEX_CLIENT_METADATA_URL } from '../../src/core/clientRegistration';
import { clientCallbackSettings } from '../../src/core/repair/loopbackRedirect';
import { login, planLogin } from '../../src/core/repair/login';
import { refresh } from '../../src/core/repair/refresh';
import { startLab, type Lab } from '../lab';
import { assertOk, labBrowser, labSandbox, loginContext, rawClaude, rawCodex, removeSandboxes, type Sandbox } from '../support/loginSandbox';
import { claudeMcpList, codexAppServerStatus, codexMcpListJson, sandboxEnv } from '../support/realClients';

after(removeSandboxes);

async function loginAs(sb: Sandbox, lab: Lab, seen = { urls: [] as string[], pages: [] as string[] }) {
  const ctx = loginContext({ callback: await clientCallbackSettings(sb.e, sb.server.client), runningClients: async () => ({ processes: [], known: true }) });
  return login(sb.target, ctx, labBrowser(lab, seen));
}

function clientIdSent(url: string | undefined): string | null {
  return url ? new URL(url).searchParams.get('client_id') : null;
}

describe('A CIMD-only server (no dynamic registration): our login as each client', function () {
  this.timeout(180_000);
  let lab: Lab;
  before(async () => {
    lab = await startLab({ clientIdMetadataDocuments: true, dynamicRegistration: false });
  });
  after(async () => lab?.close());

  it("Claude Code: logs in with claude.ai's document URL, registers nothing, and claude mcp list reports ✔ Connected", async () => {
    const sb = await labSandbox('claude-code', lab.mcpUrl, { prefix: 'mad-cimd-' });
    const fetchesBefore = lab.clientDocumentFetches();
    const plan = await planLogin(sb.target, loginContext());
    assert.equal(plan.blocked, undefined, `the plan is not blocked: ${plan.blocked?.message}`);
    assert.ok(plan.changes.some((c) => c.includes(CLAUDE_CODE_CLIENT_METADATA_URL) && c.includes('nothing is registered')), plan.changes.join('\n'));
    const seen = { urls: [] as string[], pages: [] as string[] };
    const outcome = await loginAs(sb, lab, seen);
    assertOk(outcome);
    assert.equal(clientIdSent(seen.urls[0]), CLAUDE_CODE_CLIENT_METADATA_URL, 'the browser was sent with the document URL as client_id');
    assert.match(new URL(seen.urls[0]!).searchParams.get('redirect_uri') ?? '', /^http:\/\/localhost:\d+\/callback$/, "Claude Code's own redirect form");
    const raw = await rawClaude(sb);
    assert.equal(raw.clientId, CLAUDE_CODE_CLIENT_METADATA_URL);
    assert.equal(raw.clientSecret ?? null, null, 'a document client has no secret');
    assert.match(String(raw.redirectUri), /^http:\/\/localhost:\d+\/callback$/);
    assert.equal(raw.issuer, lab.issuer);
    assert.equal(lab.registrationRequests(), 0, 'nothing was registered (the registration endpoint was never asked)');
    assert.ok(lab.clientDocumentFetches() > fetchesBefore, 'the authorization server fetched the document (from the stand-in)');

    const { servers, run } = await claudeMcpList(sb.home, sb.home, { env: sandboxEnv(sb.home) });
    const listed = servers.find((s) => s.name === 'lab');
    assert.equal(listed?.status, 'connected', `claude mcp list after our login:\n${run.stdout}`);
    assert.ok(lab.mcpRequests().authorized > 0, 'Claude Code called the server with our token');
  });

  it("Codex: logs in with chatgpt.com's document URL, registers nothing, our refresh keeps it, and the app-server lists the tools", async () => {
    const sb = await labSandbox('codex', lab.mcpUrl, { prefix: 'mad-cimd-' });
    const seen = { urls: [] as string[], pages: [] as string[] };
    const outcome = await loginAs(sb, lab, seen);
    assertOk(outcome);
    assert.equal(clientIdSent(seen.urls[0]), CODEX_CLIENT_METADATA_URL);
    assert.match(new URL(seen.urls[0]!).searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/, "Codex's own redirect form");
    const raw = await rawCodex(sb);
    assert.equal(raw.client_id, CODEX_CLIENT_METADATA_URL);
    assert.equal(raw.issuer, lab.issuer);
    assert.equal(lab.registrationRequests(), 0);

    // Our own refresh of that grant goes out as the same public client, and rotation is written back.
    const refreshesBefore = lab.refreshes();
    const refreshed = await refresh(sb.target, { ...loginContext(), runningClients: async () => ({ processes: [], known: true }) });
    assertOk(refreshed);
    assert.equal(lab.refreshes(), refreshesBefore + 1);
    const after = await rawCodex(sb);
    assert.equal(after.client_id, CODEX_CLIENT_METADATA_URL);
    assert.notEqual(after.refresh_token, raw.refresh_token, 'the rotated refresh token was written back');

    const listed = (await codexMcpListJson(sb.home, { store: 'file' })).find((s) => s.name === 'lab');
    assert.equal(listed?.auth_status, 'o_auth', 'codex mcp list sees the login');
    const status = (await codexAppServerStatus(sb.home, { store: 'file' })).find((s) => s.name === 'lab');
    assert.ok(status && status.tools.length > 0, `Codex's app-server lists the lab's tools with our token: ${JSON.stringify(status)}`);
  });

  it('an access token that expired is refreshed by the real client with the document client id we stored', async () => {
    const sb = await labSandbox('claude-code', lab.mcpUrl, { prefix: 'mad-cimd-' });
    assertOk(await loginAs(sb, lab));
    // Expire the access token in the store, as time would: the client must refresh with what we wrote.
    const file = JSON.parse(await fs.readFile(sb.file, 'utf8'));
    file.mcpOAuth[sb.target.key].expiresAt = Date.now() - 60_000;
    await fs.writeFile(sb.file, JSON.stringify(file), { mode: 0o600 });
    const before = lab.refreshes();
    const { servers, run } = await claudeMcpList(sb.home, sb.home, { env: sandboxEnv(sb.home) });
    assert.equal(servers.find((s) => s.name === 'lab')?.status, 'connected', run.stdout);
    assert.equal(lab.refreshes(), before + 1, 'Claude Code refreshed once, with the refresh token and client id we stored');
    assert.equal((await rawClaude(sb)).clientId, CLAUDE_CODE_CLIENT_METADATA_URL, 'the refreshed entry keeps the document client id');
  });
});

describe('A server offering both CIMD and dynamic registration', function () {
  this.timeout(180_000);
  let lab: Lab;
  before(async () => {
    lab = await startLab({ clientIdMetadataDocuments: true });
  });
  after(async () => lab?.close());

  for (const client of ['claude-code', 'codex'] as const) {
    it(`${client}: the login uses the client's document id, never a new registration`, async () => {
      const sb = await labSandbox(client, lab.mcpUrl, { prefix: 'mad-cimd-' });
      const before = lab.registrationRequests();
      assertOk(await loginAs(sb, lab));
      const stored = client === 'claude-code' ? (await rawClaude(sb)).clientId : (await rawCodex(sb)).client_id;
      assert.equal(stored, client === 'claude-code' ? CLAUDE_CODE_CLIENT_METADATA_URL : CODEX_CLIENT_METADATA_URL);
      assert.equal(lab.registrationRequests(), before, 'no registration request');
    });
  }

  it('Codex with a client it registered earlier: the next login moves to the document, as Codex itself would', async () => {
    const sb = await labSandbox('codex', lab.mcpUrl, { prefix: 'mad-cimd-' });
    lab.configure({ clientIdMetadataDocuments: false });
    try {
      assertOk(await loginAs(sb, lab));
    } finally {
      lab.configure({ clientIdMetadataDocuments: true });
    }
    const registered = (await rawCodex(sb)).client_id;
    assert.notEqual(registered, CODEX_CLIENT_METADATA_URL, 'without CIMD the first login registered a client');
    const before = lab.registrationRequests();
    assertOk(await loginAs(sb, lab));
    assert.equal((await rawCodex(sb)).client_id, CODEX_CLIENT_METADATA_URL);
    assert.equal(lab.registrationRequests(), before);
  });
});

describe('Where the client would not or could not use its document', function () {
  this.timeout(180_000);
  let lab: Lab;
  before(async () => {
    lab = await startLab({ clientIdMetadataDocuments: true });
  });
  after(async () => lab?.close());
  afterEach(() => lab.configure({ advertisePublicClients: true, clientDocumentRedirectMatching: 'any-port', dynamicRegistration: true }));

  it('Codex where `none` is not a listed auth method: registers by DCR as Codex 0.171 does; Claude Code still uses its document', async () => {
    lab.configure({ advertisePublicClients: false });
    const codex = await labSandbox('codex', lab.mcpUrl, { prefix: 'mad-cimd-' });
    const before = lab.registrations();
    const outcome = await loginAs(codex, lab);
    assertOk(outcome);
    assert.notEqual((await rawCodex(codex)).client_id, CODEX_CLIENT_METADATA_URL);
    assert.equal(lab.registrations(), before + 1, 'one registration, as Codex itself makes here');
    const claude = await labSandbox('claude-code', lab.mcpUrl, { prefix: 'mad-cimd-' });
    assertOk(await loginAs(claude, lab));
    assert.equal((await rawClaude(claude)).clientId, CLAUDE_CODE_CLIENT_METADATA_URL);
  });

  it('a server that matches redirect URIs exactly refuses the port-less document: the login stops, says why, writes and registers nothing', async () => {
    lab.configure({ clientDocumentRedirectMatching: 'exact' });
    const sb = await labSandbox('claude-code', lab.mcpUrl, { prefix: 'mad-cimd-' });
    const before = lab.registrationRequests();
    const seen = { urls: [] as string[], pages: [] as string[] };
    const outcome = await loginAs(sb, lab, seen);
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.error, 'invalid-client');
    assert.match(outcome.message, /does not accept Claude Code's Client ID Metadata Document client/);
    assert.match(outcome.message, /port-less loopback redirects/);
    assert.match(outcome.message, /nothing was written/);
    assert.equal(seen.urls.length, 0, 'no browser was opened');
    assert.equal(existsSync(sb.file), false, 'no store was written');
    assert.equal(lab.registrationRequests(), before, 'no client was registered in its place');
    const plan = await planLogin(sb.target, loginContext());
    assert.ok(plan.blocked && plan.handOff, 'the plan is blocked and offers the client’s own login');
  });

  it("an MCP_OAUTH_CLIENT_METADATA_URL the server cannot fetch: the login stops at the pre-check and names it", async () => {
    const sb = await labSandbox('claude-code', lab.mcpUrl, { prefix: 'mad-cimd-', env: { MCP_OAUTH_CLIENT_METADATA_URL: 'https://example.invalid/no-such-client.json' } });
    const outcome = await loginAs(sb, lab);
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.match(outcome.message, /https:\/\/example\.invalid\/no-such-client\.json/);
    assert.equal(existsSync(sb.file), false);
  });
});
