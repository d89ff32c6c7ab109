// The editor surfaces' decisions that need no editor: when the expiry timer wakes (next moment,
// clamped), and what the diagnostic report says and leaves out.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type { McpServer } from '../../src/core/model';
import type { ServerProbe } from '../../src/core/probe/probe';
import { diagnosticReport, scrub } from '../../src/core/report/diagnosticReport';
import type { StatusReport } from '../../src/core/status';
import { fingerprint } from '../../src/core/storageKey';
import type { TokenStatus } from '../../src/core/tokenStatus';
import { nextExpiryMoment, waitFor } from '../../src/vscode/schedule';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

function server(name: string, over: Partial<McpServer> = {}): McpServer {
  return {
    client: 'claude-code',
    scope: 'user',
    name,
    transport: 'http',
    url: `https://${name}.example/mcp`,
    rawUrl: `https://${name}.example/mcp`,
    headerNames: [],
    headers: {},
    enabled: true,
    source: { file: '/home/u/.claude.json', line: 3, column: 5 },
    findings: [],
    ...over,
  };
}

function token(expiresAt: number | null, over: Partial<TokenStatus> = {}): TokenStatus {
  return { state: 'stored', expiresAt, fingerprint: 'sha256:0123456789ab', hasRefreshToken: true, store: '/home/u/.claude/.credentials.json', storeKind: 'file', clientId: 'c', scopes: [], ...over };
}

function report(rows: { server: McpServer; token?: TokenStatus }[]): StatusReport {
  return { scan: { servers: rows.map((r) => r.server), findings: [], files: ['/home/u/.claude.json'] }, servers: rows, findings: [], readings: [], at: NOW };
}

describe('the expiry timer', () => {
  const MIN = 60_000;

  it('wakes at the earliest of each token\'s margin start and expiry still ahead', () => {
    const r = report([
      { server: server('a'), token: token(NOW + 60 * MIN) },
      { server: server('b'), token: token(NOW + 20 * MIN) },
      { server: server('c'), token: token(NOW - MIN) },
    ]);
    assert.equal(nextExpiryMoment(r, 5 * MIN, NOW), NOW + 15 * MIN, 'b enters the 5-minute margin first');
    // Inside b's margin already: its expiry is next.
    assert.equal(nextExpiryMoment(r, 30 * MIN, NOW), NOW + 20 * MIN);
  });

  it('ignores disabled and stdio servers, tokens without an expiry, and moments past', () => {
    const r = report([
      { server: server('off', { enabled: false }), token: token(NOW + MIN) },
      { server: server('local', { transport: 'stdio' }), token: token(NOW + MIN) },
      { server: server('forever'), token: token(null) },
      { server: server('gone'), token: token(NOW - MIN) },
    ]);
    assert.equal(nextExpiryMoment(r, 0, NOW), undefined);
  });

  it('waits at least a second, at most a day, and a little past the moment', () => {
    assert.equal(waitFor(NOW + 10, NOW), 1000);
    assert.equal(waitFor(NOW + 10_000, NOW), 10_250);
    assert.equal(waitFor(NOW + 30 * 24 * 3600_000, NOW), 24 * 3600_000);
  });
});

describe('the diagnostic report', () => {
  const access = randomBytes(32).toString('base64url');
  const pathKey = randomBytes(16).toString('hex');

  function probe(over: Partial<ServerProbe> = {}): ServerProbe {
    return {
      state: 'expired',
      summary: 'expired 3 h ago · refresh token present',
      revision: '2025-11-25',
      findings: [{ code: 'token.expired-refreshable', severity: 'warning', title: 'Expired 3 h ago; a refresh token is stored', detail: 'Refresh it.' }],
      trace: [
        { step: 'mcp', method: 'POST', url: `https://keyed.example/${pathKey}/mcp`, status: 401, ms: 12, requestHeaders: { authorization: `Bearer ${access}` }, responseHeaders: {}, outcome: 'ok' },
        { step: 'resource-metadata', method: 'GET', url: 'https://keyed.example/.well-known/oauth-protected-resource?api_key=***', status: 200, ms: 8, requestHeaders: {}, responseHeaders: {}, outcome: 'ok' },
      ],
      authorizationServers: [{ issuer: 'https://login.example', via: 'resource-metadata', kind: 'oauth', registration: ['dcr'] }],
      compatibility: [],
      ms: 40,
      ...over,
    } as ServerProbe;
  }

  it('names servers by transport, host and scope, with states, findings, the trace and the versions', () => {
    const keyed = server('keyed', { url: `https://keyed.example/${pathKey}/mcp?api_key=sk-live-1`, rawUrl: `https://keyed.example/${pathKey}/mcp?api_key=sk-live-1`, headerNames: ['X-Api-Key'], headers: { 'X-Api-Key': access } });
    const text = diagnosticReport(report([{ server: keyed, token: token(NOW - 3 * 3600_000, { state: 'expired', fingerprint: fingerprint(access) }) }]), [probe()], {
      extensionVersion: '0.1.0',
      hostVersion: 'Visual Studio Code 1.139.1',
      platform: 'linux x64',
      at: NOW,
      network: 'direct (no proxy configured)',
      clients: [{ label: 'claude', version: '2.1.197 (Claude Code)' }],
      settings: ['probe on'],
    });
    assert.match(text, /^- MCP Auth Doctor 0\.1\.0, Visual Studio Code 1\.139\.1, linux x64$/m);
    assert.match(text, /^- Client versions: claude 2\.1\.197 \(Claude Code\)$/m);
    assert.match(text, /^\| keyed \| http \| keyed\.example · user \| expired 3 h ago · refresh token present \|$/m);
    assert.match(text, /^Header names: X-Api-Key$/m);
    assert.match(text, /^- \*\*warning\*\* `token\.expired-refreshable`: Expired 3 h ago; a refresh token is stored$/m);
    assert.match(text, /^POST https:\/\/keyed\.example\/\[redacted\]\/mcp → 401 \(12 ms\)$/m, 'a key-like path segment is masked');
    assert.match(text, /^Authorization server https:\/\/login\.example \(oauth; client registration: dcr\)\.$/m);
    for (const secret of [access, pathKey, 'sk-live-1']) assert.ok(!text.includes(secret), `the report holds ${secret.slice(0, 4)}…`);
  });

  it('says when nothing was probed', () => {
    const text = diagnosticReport(report([{ server: server('a'), token: token(NOW + 3600_000) }]), [], { extensionVersion: '0.1.0', hostVersion: 'VS Code', platform: 'linux', at: NOW });
    assert.match(text, /^- 1 server from 1 config file looked at; not probed \(states from the stored expiry\)$/m);
  });

  it('scrubs query values, JWTs, long opaque runs and key-like path segments, and keeps ordinary paths', () => {
    const jwt = `eyJhbGciOiJSUzI1NiJ9.${randomBytes(40).toString('base64url')}.${randomBytes(40).toString('base64url')}`;
    const opaque = randomBytes(40).toString('base64url');
    const out = scrub(`GET https://a.example/.well-known/oauth-authorization-server/tenant?x=1&y=2 token ${jwt} and ${opaque} at https://a.example/v1/2f1c9a7e-5b3d-4c7a-9e2f-0123456789ab/sse`);
    assert.equal(out, 'GET https://a.example/.well-known/oauth-authorization-server/tenant?x=***&y=*** token [jwt] and [redacted] at https://a.example/v1/[redacted]/sse');
  });
});
