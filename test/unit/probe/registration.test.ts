// What the probe says about registration on hand-built servers: what each client's own login uses
// (CIMD, DCR, configured, stored, none), which findings follow, and how the verdict reaches
// `status --json`, `status -v` and the diagnostic report. The server is a fake fetch answering
// the probe's unauthenticated requests (401 challenge, RFC 9728 metadata, RFC 8414 metadata), so
// the metadata is exactly what each case says.
import { strict as assert } from 'node:assert';
import type { FetchLike } from '../../../src/core/probe/http';
import type { McpServer } from '../../../src/core/model';
import { probeServer, type ServerProbe } from '../../../src/core/probe/probe';
import { DiscoveryCache } from '../../../src/core/probe/authorizationServer';
import { describeRegistration } from '../../../src/core/present/describe';
import { diagnosticReport } from '../../../src/core/report/diagnosticReport';
import { statusJson } from '../../../src/cli/commands/status';
import type { StatusReport } from '../../../src/core/status';
import type { TokenStatus } from '../../../src/core/tokenStatus';
import { CLAUDE_CODE_CLIENT_METADATA_URL, CODEX_CLIENT_METADATA_URL } from '../../../src/core/clientRegistration';

const MCP = 'https://mcp.example/mcp';
const AS = 'https://login.example';
const PRM = 'https://mcp.example/.well-known/oauth-protected-resource/mcp';

function asMetadata(over: Record<string, unknown>): Record<string, unknown> {
  return {
    issuer: AS,
    authorization_endpoint: `${AS}/authorize`,
    token_endpoint: `${AS}/token`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    authorization_response_iss_parameter_supported: true,
    ...over,
  };
}

function serverFetch(metadata: Record<string, unknown>): FetchLike {
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  return async (input) => {
    const url = String(input);
    if (url === MCP) return new Response('{"error":"unauthorized"}', { status: 401, headers: { 'content-type': 'application/json', 'www-authenticate': `Bearer resource_metadata="${PRM}"` } });
    if (url === PRM) return json({ resource: MCP, authorization_servers: [AS] });
    if (url === `${AS}/.well-known/oauth-authorization-server`) return json(metadata);
    return new Response('not found', { status: 404 });
  };
}

function server(client: McpServer['client'], over: Partial<McpServer> = {}): McpServer {
  return {
    client,
    scope: 'user',
    name: 'work',
    transport: 'http',
    url: MCP,
    rawUrl: MCP,
    headerNames: [],
    headers: {},
    enabled: true,
    source: { file: client === 'codex' ? '/home/u/.codex/config.toml' : '/home/u/.claude.json', line: 3, column: 5 },
    findings: [],
    ...over,
  };
}

async function probe(s: McpServer, metadata: Record<string, unknown>, extra: { clientMetadataUrl?: string; token?: TokenStatus } = {}): Promise<ServerProbe> {
  return probeServer(
    { server: s, ...(extra.token ? { token: extra.token } : {}) },
    { http: { fetch: serverFetch(metadata), timeoutMs: 2000, maxBodyBytes: 1 << 20 }, cache: new DiscoveryCache(), ...(extra.clientMetadataUrl ? { clientMetadataUrl: extra.clientMetadataUrl } : {}) },
  );
}

const own = (p: ServerProbe, client: McpServer['client']) => p.registration.find((r) => r.client === client);
const codes = (p: ServerProbe) => p.findings.map((f) => f.code);
const finding = (p: ServerProbe, code: string) => p.findings.find((f) => f.code === code);
const verdictOf = (p: ServerProbe, client: string) => p.compatibility.find((c) => c.client === client)?.verdict;

const CIMD_AND_DCR = { client_id_metadata_document_supported: true, registration_endpoint: `${AS}/register`, token_endpoint_auth_methods_supported: ['none'] };
const CIMD_WITH_NONE = { client_id_metadata_document_supported: true, token_endpoint_auth_methods_supported: ['none'] };
const CIMD_WITHOUT_NONE = { client_id_metadata_document_supported: true, token_endpoint_auth_methods_supported: ['client_secret_basic'] };
const DCR_ONLY = { registration_endpoint: `${AS}/register`, token_endpoint_auth_methods_supported: ['none'] };
const NEITHER = { token_endpoint_auth_methods_supported: ['none'] };

describe('the probe: how each client registers', () => {
  it('CIMD and DCR: both clients use their documents, never a new registration', async () => {
    const p = await probe(server('claude-code'), asMetadata(CIMD_AND_DCR));
    assert.deepEqual(p.registration.map((r) => [r.client, r.method, r.clientId]), [
      ['claude-code', 'metadata-document', CLAUDE_CODE_CLIENT_METADATA_URL],
      ['codex', 'metadata-document', CODEX_CLIENT_METADATA_URL],
    ]);
    assert.ok(!codes(p).includes('probe.no-registration-path') && !codes(p).includes('probe.dcr-only'), codes(p).join());
    assert.equal(p.state, 'not-logged-in');
  });

  it('CIMD only, listing none: both use their documents; MCP_OAUTH_CLIENT_METADATA_URL changes Claude Code\'s', async () => {
    const p = await probe(server('claude-code'), asMetadata(CIMD_WITH_NONE), { clientMetadataUrl: 'https://corp.example/claude/client.json' });
    assert.equal(own(p, 'claude-code')?.clientId, 'https://corp.example/claude/client.json');
    assert.equal(own(p, 'codex')?.method, 'metadata-document');
    assert.ok(!codes(p).includes('probe.no-registration-path'), codes(p).join());
    const bad = await probe(server('claude-code'), asMetadata(CIMD_WITH_NONE), { clientMetadataUrl: 'http://corp.example/' });
    assert.equal(own(bad, 'claude-code')?.method, 'none');
    assert.match(finding(bad, 'probe.no-registration-path')?.detail ?? '', /MCP_OAUTH_CLIENT_METADATA_URL "http:\/\/corp\.example\/" is not an https URL/);
  });

  it('CIMD only, without none: a dead end for Codex (an error that says why), not for Claude Code', async () => {
    const codex = await probe(server('codex'), asMetadata(CIMD_WITHOUT_NONE));
    assert.equal(own(codex, 'codex')?.method, 'none');
    const f = finding(codex, 'probe.no-registration-path');
    assert.equal(f?.severity, 'error');
    assert.equal(f?.title, 'Codex has no way to register with the authorization server');
    assert.match(f?.detail ?? '', /token endpoint auth method `none`/);
    assert.match(f?.detail ?? '', /Claude Code could: Claude Code identifies itself with its Client ID Metadata Document/);
    assert.match(f?.detail ?? '', /\[mcp_servers\.<name>\.oauth\] client_id/);
    assert.equal(codex.state, 'misconfigured');
    assert.equal(verdictOf(codex, 'codex'), 'fails');
    assert.equal(verdictOf(codex, 'claude-code'), 'at-risk', 'public-clients-unsupported still warns; it does not fail Claude Code');

    const claude = await probe(server('claude-code'), asMetadata(CIMD_WITHOUT_NONE));
    assert.equal(own(claude, 'claude-code')?.method, 'metadata-document');
    assert.ok(!codes(claude).includes('probe.no-registration-path'), codes(claude).join());
    assert.equal(verdictOf(claude, 'codex'), 'fails', 'Codex would fail here if the server were added to it');
    assert.equal(claude.state, 'not-logged-in');
  });

  it('CIMD and DCR without none: Codex registers dynamically, and is told why', async () => {
    const p = await probe(server('codex'), asMetadata({ ...CIMD_WITHOUT_NONE, registration_endpoint: `${AS}/register` }));
    assert.equal(own(p, 'codex')?.method, 'dynamic-registration');
    assert.equal(finding(p, 'probe.cimd-without-public-clients')?.severity, 'info');
    const claude = await probe(server('claude-code'), asMetadata({ ...CIMD_WITHOUT_NONE, registration_endpoint: `${AS}/register` }));
    assert.ok(!codes(claude).includes('probe.cimd-without-public-clients'), 'a Claude Code entry uses its document: nothing to say');
  });

  it('DCR only: both register dynamically, a note, no error', async () => {
    const p = await probe(server('codex'), asMetadata(DCR_ONLY));
    assert.deepEqual(p.registration.map((r) => r.method), ['dynamic-registration', 'dynamic-registration']);
    assert.equal(finding(p, 'probe.dcr-only')?.severity, 'info');
    assert.match(finding(p, 'probe.dcr-only')?.detail ?? '', /each login by Claude Code or Codex registers a new client/);
    assert.ok(!codes(p).includes('probe.no-registration-path'));
  });

  it('neither: an error with the fix, unless a client id is configured (or, for Claude Code, stored)', async () => {
    const bare = await probe(server('claude-code'), asMetadata(NEITHER));
    const f = finding(bare, 'probe.no-registration-path');
    assert.equal(f?.severity, 'error');
    assert.match(f?.detail ?? '', /claude mcp add --client-id <id>/);
    assert.match(f?.detail ?? '', /Nor can Codex/);
    assert.deepEqual(['claude-code', 'codex', 'vscode', 'sdk'].map((c) => verdictOf(bare, c)), ['fails', 'fails', 'fails', 'fails']);

    const configured = await probe(server('codex', { oauth: { clientId: 'corp-app' } }), asMetadata(NEITHER));
    assert.deepEqual([own(configured, 'codex')?.method, own(configured, 'codex')?.clientId], ['configured', 'corp-app']);
    assert.ok(!codes(configured).includes('probe.no-registration-path'));

    const token: TokenStatus = { state: 'stored', expiresAt: null, fingerprint: 'sha256:0123456789ab', hasRefreshToken: true, store: '/s', storeKind: 'file', clientId: 'old-client', scopes: [] };
    const stored = await probe(server('claude-code'), asMetadata(NEITHER), { token });
    assert.equal(own(stored, 'claude-code')?.method, 'stored');
    assert.ok(!codes(stored).includes('probe.no-registration-path'));
    // Codex's login does not reuse a stored client: its next login fails; the refresh still works, so a warning.
    const codexStored = await probe(server('codex'), asMetadata(NEITHER), { token });
    assert.equal(finding(codexStored, 'probe.no-registration-path')?.severity, 'warning');
    assert.match(finding(codexStored, 'probe.no-registration-path')?.detail ?? '', /stored client \(old-client\) still refreshes/);
  });

  it('a jwt-bearer-only authorization server: enterprise-managed, no registration finding, a hand-off', async () => {
    const meta = asMetadata({ grant_types_supported: ['urn:ietf:params:oauth:grant-type:jwt-bearer'], token_endpoint_auth_methods_supported: ['client_secret_basic'] });
    const p = await probe(server('claude-code'), meta);
    assert.equal(p.enterpriseManaged, true);
    const f = finding(p, 'probe.enterprise-managed');
    assert.equal(f?.severity, 'warning', 'the client is not configured for it');
    assert.match(f?.detail ?? '', /never opens a browser login/);
    assert.match(f?.detail ?? '', /claude mcp add --transport http --xaa --client-id <id> --client-secret work <url>/);
    assert.ok(!codes(p).includes('probe.no-registration-path'), codes(p).join());
    const configured = await probe(server('claude-code', { oauth: { clientId: 'mcp-app', enterpriseManaged: true } }), meta);
    assert.equal(finding(configured, 'probe.enterprise-managed')?.severity, 'info');
    assert.match(finding(configured, 'probe.enterprise-managed')?.detail ?? '', /`claude mcp xaa login`/);
  });
});

describe('the registration verdict on each surface', () => {
  it('words each method for a detail line', () => {
    assert.equal(describeRegistration({ method: 'metadata-document', clientId: CLAUDE_CODE_CLIENT_METADATA_URL }), `Client ID Metadata Document (${CLAUDE_CODE_CLIENT_METADATA_URL})`);
    assert.equal(describeRegistration({ method: 'configured', clientId: 'corp-app' }), 'configured client id (corp-app)');
    assert.equal(describeRegistration({ method: 'dynamic-registration' }), 'dynamic registration (a new client at each login)');
  });

  it('reaches status --json and the diagnostic report', async () => {
    const s = server('claude-code');
    const p = await probe(s, asMetadata(CIMD_AND_DCR));
    const report: StatusReport = { scan: { servers: [s], findings: [], files: [s.source.file] }, servers: [{ server: s }], findings: [], readings: [], at: Date.UTC(2026, 11, 7) };
    const json = statusJson(report, { probes: [p], metadataFetches: 1, ms: 1, network: 'test' });
    const entry = json.servers[0]?.probe;
    assert.deepEqual(entry?.registration.map((r) => [r.client, r.method]), [['claude-code', 'metadata-document'], ['codex', 'metadata-document']]);
    assert.equal(entry?.enterpriseManaged, false);
    const text = diagnosticReport(report, [p], { extensionVersion: '0.1.0', hostVersion: 'test', platform: 'linux', at: report.at });
    assert.match(text, /^Registration, Claude Code: Client ID Metadata Document \(https:\/\/claude\.ai\/oauth\/claude-code-client-metadata\)\.$/m);
    assert.match(text, /^Registration, Codex \(if added there\): Client ID Metadata Document \(https:\/\/chatgpt\.com\/oauth\/codex\/client\.json\)\.$/m);
  });
});
