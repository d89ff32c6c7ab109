// The probe against the project's real lab (oidc-provider + MCP SDK server on loopback), one lab
// behaviour at a time, through the CLI a user runs: `mcp-auth-doctor status --json` in a sandbox
// HOME whose ~/.claude.json names the lab and whose credentials file holds a token the lab minted.
// Each case asserts the state and finding codes the user would see, and that the probe stayed
// read-only (no registration, no token request) and never handed a token to another origin.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import { storageKey, fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab, type LabBehaviour, type MintedTokens } from '../lab/index';
import { DEFAULT_BEHAVIOUR } from '../lab/behaviour';
import { startForwardProxy } from '../lab/forwardProxy';

interface ServerJson {
  name: string;
  state: string | null;
  summary: string | null;
  findings: { code: string; severity: string; title: string; evidence?: string[]; revisions?: string[]; reference?: string }[];
  probe: {
    resourceMetadata: { url: string; source: string; resourceMatch?: string } | null;
    authorizationServers: { issuer: string; kind?: string; registration: string[] }[];
    token: { live: string } | null;
    compatibility: { client: string; verdict: string; reasons: string[] }[];
    trace: { step: string; url: string; status?: number; outcome: string; requestHeaders: Record<string, string> }[];
  } | null;
}

async function status(home: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ code: number; servers: ServerJson[]; stdout: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { HOME: home, ...env }, cwd: home };
  const code = await runCli(['status', '--json', ...args], io);
  assert.notEqual(code, 2, stderr);
  return { code, servers: (JSON.parse(stdout) as { servers: ServerJson[] }).servers, stdout };
}

function codes(s: ServerJson): string[] {
  return s.findings.map((f) => f.code);
}

describe('probe against the lab (mcp-auth-doctor status)', function () {
  this.timeout(60_000);
  let lab: Lab;
  let tokens: MintedTokens;
  let home: string;
  let counts: { registrations: number; tokenRequests: number };

  /** Writes the lab into ~/.claude.json and, unless `token` is false, its token into the credentials file. */
  function configure(options: { token?: boolean; expiresAt?: number; accessToken?: string; servers?: Record<string, string> } = {}): void {
    const servers = options.servers ?? { lab: lab.mcpUrl };
    fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: Object.fromEntries(Object.entries(servers).map(([n, url]) => [n, { type: 'http', url }])) }));
    fs.mkdirSync(path.join(home, '.claude'), { recursive: true });
    const entries: Record<string, unknown> = {};
    if (options.token !== false) {
      for (const [name, url] of Object.entries(servers)) {
        entries[storageKey(name, 'http', url)] = {
          serverName: name,
          serverUrl: url,
          clientId: tokens.clientId,
          accessToken: options.accessToken ?? tokens.accessToken,
          refreshToken: tokens.refreshToken,
          expiresAt: options.expiresAt ?? Date.now() + 3600_000,
          scope: tokens.scope,
        };
      }
    }
    fs.writeFileSync(path.join(home, '.claude', '.credentials.json'), JSON.stringify({ mcpOAuth: entries }), { mode: 0o600 });
  }

  async function one(behaviour: Partial<LabBehaviour>, args: string[] = []): Promise<ServerJson & { exit: number; stdout: string }> {
    lab.configure(behaviour);
    const r = await status(home, args);
    const server = r.servers.find((s) => s.name === 'lab');
    assert.ok(server, 'the lab server is listed');
    // The token never appears in what the user sees, whatever the server did.
    assert.ok(!r.stdout.includes(tokens.accessToken), 'the access token leaked into the output');
    assert.ok(tokens.refreshToken && !r.stdout.includes(tokens.refreshToken), 'the refresh token leaked into the output');
    return { ...server, exit: r.code, stdout: r.stdout };
  }

  /** A second token for the same client; the lab's own token request is not the probe's. */
  async function mintAnother(): Promise<MintedTokens> {
    const t = await lab.mintTokens({ clientId: tokens.clientId, scope: 'mcp:tools offline_access' });
    counts = { registrations: lab.registrationRequests(), tokenRequests: lab.tokenEndpointRequests() };
    return t;
  }

  before(async () => {
    lab = await startLab({ scopes: ['mcp:tools', 'mcp:admin'] });
    tokens = await lab.mintTokens({ scope: 'mcp:tools offline_access' });
  });
  after(() => lab.close());
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-probe-'));
    lab.configure({ ...DEFAULT_BEHAVIOUR, scopes: ['mcp:tools', 'mcp:admin'] });
    counts = { registrations: lab.registrationRequests(), tokenRequests: lab.tokenEndpointRequests() };
  });
  afterEach(() => {
    fs.rmSync(home, { recursive: true, force: true });
    // Read-only: whatever the case, the probe neither registered a client nor asked for a token,
    // and the canary origin never saw a token.
    assert.equal(lab.registrationRequests(), counts.registrations, 'the probe hit the registration endpoint');
    assert.equal(lab.tokenEndpointRequests(), counts.tokenRequests, 'the probe hit the token endpoint');
    assert.equal(lab.canary.tokensReceived(), 0, 'a token reached the canary origin');
  });

  it('a valid stored token: state valid, exit 0, discovery by the challenge, every client works', async () => {
    configure();
    const s = await one({});
    assert.equal(s.state, 'valid');
    assert.equal(s.exit, 0);
    assert.match(s.summary ?? '', /^valid, expires in \d+ min · refresh token present$/);
    assert.deepEqual(s.findings.filter((f) => f.severity !== 'info'), []);
    assert.equal(s.probe?.resourceMetadata?.source, 'header');
    assert.equal(s.probe?.resourceMetadata?.resourceMatch, 'identical');
    assert.equal(s.probe?.authorizationServers[0]?.issuer, lab.issuer);
    assert.deepEqual(s.probe?.authorizationServers[0]?.registration, ['pre-registered (stored client)', 'dcr']);
    assert.equal(s.probe?.token?.live, 'accepted');
    assert.ok(s.probe?.compatibility.every((c) => c.verdict === 'works'), JSON.stringify(s.probe?.compatibility));
    // The token went to the MCP server only, and shows in the trace as a fingerprint.
    const sent = s.probe?.trace.filter((t) => t.requestHeaders.authorization) ?? [];
    assert.deepEqual(sent.map((t) => t.step), ['token-check']);
    assert.equal(sent[0]?.requestHeaders.authorization, `Bearer [redacted ${fingerprint(tokens.accessToken)}]`);
  });

  it('nothing stored: not logged in, exit 1, the way to log in named', async () => {
    configure({ token: false });
    const s = await one({});
    assert.equal(s.state, 'not-logged-in');
    assert.equal(s.exit, 1);
    assert.ok(codes(s).includes('token.not-logged-in'));
    assert.equal(s.probe?.token?.live, 'not-checked');
  });

  it('path-aware, root-only and missing protected-resource metadata', async () => {
    configure({ token: false });
    let s = await one({ challenge: 'bearer-without-metadata', resourceMetadataLocation: 'path' });
    assert.equal(s.probe?.resourceMetadata?.source, 'path');
    assert.ok(codes(s).includes('probe.challenge-without-resource-metadata'));
    s = await one({ challenge: 'bearer-without-metadata', resourceMetadataLocation: 'root' });
    assert.equal(s.probe?.resourceMetadata?.source, 'root');
    assert.ok(!codes(s).includes('probe.resource-mismatch'), 'a root document naming the server URL is fine');
    s = await one({ challenge: 'bearer-without-metadata', resourceMetadataLocation: 'none' });
    assert.equal(s.state, 'misconfigured');
    const missing = s.findings.find((f) => f.code === 'probe.resource-metadata-missing');
    assert.ok(missing, codes(s).join());
    assert.equal(missing.severity, 'error');
    assert.deepEqual(missing.revisions, ['2025-06-18', '2025-11-25', '2026-07-28']);
    // Both well-known URLs were tried, in the spec's order.
    assert.match(missing.evidence?.[0] ?? '', /\/\.well-known\/oauth-protected-resource\/mcp → 404/);
    assert.match(missing.evidence?.[1] ?? '', /\/\.well-known\/oauth-protected-resource → 404/);
    assert.equal(s.probe?.compatibility.find((c) => c.client === 'claude-code')?.verdict, 'fails');
  });

  it('a resource that names the origin only, adds a trailing slash, or names another host', async () => {
    configure({ token: false });
    // The origin is a same-origin parent path: SDK clients accept it, VS Code's exact check does not.
    let s = await one({ advertisedResource: 'origin' });
    let f = s.findings.find((x) => x.code === 'probe.resource-mismatch');
    assert.equal(f?.severity, 'warning');
    const verdicts = Object.fromEntries(s.probe?.compatibility.map((c) => [c.client, c.verdict]) ?? []);
    assert.equal(verdicts.vscode, 'fails');
    assert.equal(verdicts.sdk, 'works');
    // A trailing slash the server URL lacks fails the SDK's prefix check too.
    s = await one({ advertisedResource: 'trailing-slash' });
    f = s.findings.find((x) => x.code === 'probe.resource-mismatch');
    assert.equal(f?.severity, 'error');
    assert.equal(s.probe?.compatibility.find((c) => c.client === 'sdk')?.verdict, 'fails');
    s = await one({ advertisedResource: 'other-host' });
    f = s.findings.find((x) => x.code === 'probe.resource-mismatch');
    assert.equal(f?.severity, 'error');
    assert.ok(s.probe?.compatibility.filter((c) => c.client !== 'codex').every((c) => c.verdict === 'fails'));
  });

  it('an issuer that is not the one asked for; Codex is the strict client', async () => {
    configure({ token: false });
    const s = await one({ advertisedIssuer: 'other' });
    const f = s.findings.find((x) => x.code === 'probe.issuer-mismatch');
    assert.ok(f, codes(s).join());
    assert.ok(f.evidence?.includes(`asked for: ${lab.issuer}`));
    assert.equal(s.probe?.compatibility.find((c) => c.client === 'codex')?.verdict, 'fails');
    assert.equal(s.probe?.compatibility.find((c) => c.client === 'vscode')?.verdict, 'works');
    const trailing = await one({ advertisedIssuer: 'trailing-slash' });
    assert.match(trailing.findings.find((x) => x.code === 'probe.issuer-mismatch')?.title ?? '', /trailing slash/);
  });

  it('PKCE: the field absent, or S256 missing', async () => {
    configure({ token: false });
    let s = await one({ codeChallengeMethods: 'absent' });
    assert.deepEqual(s.findings.find((f) => f.code === 'probe.pkce-not-advertised')?.revisions, ['2025-11-25', '2026-07-28']);
    assert.equal(s.probe?.compatibility.find((c) => c.client === 'sdk')?.verdict, 'works', 'the SDK goes on without the field');
    s = await one({ codeChallengeMethods: 'plain-only' });
    assert.ok(codes(s).includes('probe.pkce-s256-missing'));
    assert.ok(s.probe?.compatibility.every((c) => c.verdict === 'fails'));
  });

  it('no dynamic registration: a problem only when no client id is configured or stored', async () => {
    configure({ token: false });
    let s = await one({ dynamicRegistration: false });
    assert.ok(codes(s).includes('probe.no-registration-path'), codes(s).join());
    configure();
    s = await one({ dynamicRegistration: false });
    assert.ok(!codes(s).includes('probe.no-registration-path'), 'the stored client id is a registration');
  });

  it('OpenID-only discovery, and no authorization-server metadata at all', async () => {
    configure({ token: false });
    let s = await one({ authorizationServerMetadata: false });
    assert.equal(s.probe?.authorizationServers[0]?.kind, 'oidc');
    assert.ok(codes(s).includes('probe.oidc-discovery-only'));
    s = await one({ authorizationServerMetadata: false, openIdConfiguration: false });
    const f = s.findings.find((x) => x.code === 'probe.authorization-server-metadata-missing');
    assert.equal(f?.evidence?.length, 2, 'RFC 8414 then OpenID, for an issuer without a path');
    assert.equal(s.state, 'misconfigured');
  });

  it('a token past its stored expiry that the server also rejects: expired, refreshable', async () => {
    const revokedOne = await mintAnother();
    await lab.revoke(revokedOne.accessToken);
    configure({ expiresAt: Date.now() - 2 * 3600_000, accessToken: revokedOne.accessToken });
    const s = await one({});
    assert.equal(s.state, 'expired');
    assert.match(s.summary ?? '', /^expired 2 h ago · refresh token present$/);
    assert.ok(codes(s).includes('token.expired-refreshable'));
  });

  it('a token revoked before its expiry: rejected', async () => {
    const victim = await mintAnother();
    await lab.revoke(victim.accessToken);
    configure({ accessToken: victim.accessToken });
    const s = await one({});
    assert.equal(s.state, 'rejected');
    assert.equal(s.probe?.token?.live, 'rejected');
    assert.ok(codes(s).includes('token.rejected'));
    assert.ok(!s.stdout.includes(victim.accessToken), 'the revoked token leaked into the output');
  });

  it('403 insufficient_scope: the scope to ask for is named', async () => {
    configure();
    const s = await one({ requiredScope: 'mcp:admin' });
    assert.equal(s.state, 'insufficient-scope');
    const f = s.findings.find((x) => x.code === 'token.insufficient-scope');
    assert.match(f?.title ?? '', /mcp:admin/);
    assert.equal(s.probe?.compatibility.find((c) => c.client === 'vscode')?.verdict, 'works');
  });

  it('401 with Basic, and 401 without any challenge', async () => {
    configure({ token: false });
    let s = await one({ challenge: 'basic' });
    assert.ok(codes(s).includes('probe.challenge-not-bearer'));
    s = await one({ challenge: 'none' });
    assert.ok(codes(s).includes('probe.challenge-missing'));
    // The well-known URLs still describe the server, so SDK-based clients recover; Claude Code does not.
    assert.equal(s.probe?.compatibility.find((c) => c.client === 'sdk')?.verdict, 'works');
    assert.equal(s.probe?.compatibility.find((c) => c.client === 'claude-code')?.verdict, 'fails');
  });

  const endpointCases: [LabBehaviour['mcpEndpoint'], string, string][] = [
    ['html-404', 'probe.not-found', 'misconfigured'],
    ['forbidden', 'probe.forbidden-without-challenge', 'misconfigured'],
    ['method-not-allowed', 'probe.method-not-allowed', 'misconfigured'],
    ['server-error', 'probe.server-error', 'misconfigured'],
    ['redirect', 'probe.redirect', 'misconfigured'],
    ['oversized', 'probe.too-large', 'misconfigured'],
  ];
  for (const [endpoint, code, state] of endpointCases) {
    it(`the MCP endpoint answers "${endpoint}": ${code}`, async () => {
      configure();
      const s = await one({ mcpEndpoint: endpoint });
      assert.ok(codes(s).includes(code), codes(s).join());
      assert.equal(s.state, state);
      assert.equal(s.exit, 1);
    });
  }

  it('a server that needs no login', async () => {
    configure({ token: false });
    const s = await one({ mcpEndpoint: 'public' });
    assert.equal(s.state, 'no-auth-needed');
    assert.equal(s.exit, 0);
  });

  it('a hanging MCP endpoint ends within the timeout with a finding', async () => {
    configure();
    const started = Date.now();
    const s = await one({ mcpEndpoint: 'hang' }, ['--timeout', '1']);
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
    assert.ok(codes(s).includes('probe.timeout'));
    assert.equal(s.state, 'unreachable');
  });

  for (const endpoint of ['hang', 'oversized', 'html-404', 'redirect'] as const) {
    it(`protected-resource metadata that answers "${endpoint}" is skipped with evidence`, async () => {
      configure({ token: false });
      const s = await one({ metadataEndpoint: endpoint }, ['--timeout', '1']);
      const f = s.findings.find((x) => x.code === 'probe.resource-metadata-missing');
      assert.ok(f, codes(s).join());
      assert.ok((f.evidence ?? []).length >= 2, 'every URL tried is listed');
    });
  }

  it('metadata that sends clients to another origin: fetched without credentials, the token stays home', async () => {
    configure();
    const s = await one({ resourceMetadataAuthorizationServers: 'canary' });
    assert.equal(s.probe?.authorizationServers[0]?.issuer, lab.canary.origin);
    assert.ok(lab.canary.requests().length > 0, 'the canary was asked for its metadata');
    assert.ok(lab.canary.requests().every((r) => !r.hasAuthorization));
  });

  it('many status runs register nothing and request no token', async () => {
    configure();
    for (let i = 0; i < 5; i++) await one({});
    const s = await one({ dynamicRegistration: true });
    assert.equal(s.state, 'valid');
  });

  it('goes through the proxy HTTPS_PROXY / HTTP_PROXY name, and not when NO_PROXY says so', async () => {
    const proxy = await startForwardProxy();
    try {
      configure();
      const through = await status(home, [], { HTTP_PROXY: proxy.origin, HTTPS_PROXY: proxy.origin });
      assert.equal(through.servers[0]?.state, 'valid');
      const targets = proxy.requests().map((r) => r.target);
      assert.ok(targets.some((t) => t.startsWith(lab.mcpUrl)), `the MCP request did not go through the proxy: ${targets.join(', ')}`);
      assert.ok(targets.some((t) => t.startsWith(lab.issuer)), 'the metadata request did not go through the proxy');
      const before = proxy.requests().length;
      const direct = await status(home, [], { HTTP_PROXY: proxy.origin, NO_PROXY: '127.0.0.1' });
      assert.equal(direct.servers[0]?.state, 'valid');
      assert.equal(proxy.requests().length, before, 'NO_PROXY was not honoured');
    } finally {
      await proxy.close();
    }
  });

  it('one hanging server does not hold up or spoil the others', async () => {
    const other = await startLab({ mcpEndpoint: 'hang' });
    try {
      configure({ servers: { lab: lab.mcpUrl, stuck: other.mcpUrl } });
      const started = Date.now();
      const r = await status(home, ['--timeout', '1']);
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
      const byName = Object.fromEntries(r.servers.map((s) => [s.name, s]));
      assert.equal(byName.stuck?.state, 'unreachable');
      assert.equal(byName.lab?.state, 'valid');
    } finally {
      await other.close();
    }
  });
});
