// Which request the probe sends per revision, and how it finds a server's era (2026-07-28
// basic/versioning.mdx §Backward Compatibility). No server built on a released SDK speaks
// 2026-07-28 yet, so the modern-only server here is hand-written.
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { probeServer } from '../../../src/core/probe/probe';
import { DEFAULT_MAX_BODY_BYTES } from '../../../src/core/probe/http';
import type { McpServer } from '../../../src/core/model';

interface Received {
  method: string;
  mcpMethod?: string;
  version?: string;
  bodyMethod?: string;
}

function serverAt(url: string): McpServer {
  return { client: 'codex', scope: 'user', name: 'era', transport: 'http', url, rawUrl: url, headerNames: [], headers: {}, enabled: true, source: { file: '/x', line: 1, column: 1 }, findings: [] };
}

describe('probe revisions and eras', () => {
  let srv: http.Server;
  let origin: string;
  let era: 'modern' | 'legacy' | 'gated-tools' = 'modern';
  const received: Received[] = [];
  const httpSettings = { fetch: (i: string | URL, init?: RequestInit) => fetch(i, init), timeoutMs: 2000, maxBodyBytes: DEFAULT_MAX_BODY_BYTES };

  before(async () => {
    srv = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const parsed = body ? (JSON.parse(body) as { method?: string; params?: { _meta?: Record<string, unknown> } }) : {};
        received.push({ method: req.method ?? '', mcpMethod: req.headers['mcp-method'] as string | undefined, version: req.headers['mcp-protocol-version'] as string | undefined, bodyMethod: parsed.method });
        if (req.method === 'DELETE') return res.writeHead(200).end();
        const modernRequest = parsed.params?._meta?.['io.modelcontextprotocol/protocolVersion'] !== undefined;
        if (era === 'gated-tools' && parsed.method === 'tools/list' && !req.headers.authorization) {
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp", scope="tools:read"` });
          return res.end('{"error":"unauthorized"}');
        }
        if (era === 'modern' && !modernRequest) {
          res.writeHead(400, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32022, message: 'Unsupported protocol version', data: { supported: ['2026-07-28'], requested: '2025-11-25' } } }));
        }
        if (era === 'legacy' && modernRequest) {
          res.writeHead(400, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32600, message: 'Bad Request: Server not initialized' } }));
        }
        if (req.url?.startsWith('/.well-known/')) {
          res.writeHead(404, { 'content-type': 'application/json' });
          return res.end('{}');
        }
        res.writeHead(200, { 'content-type': 'application/json', ...(parsed.method === 'initialize' ? { 'mcp-session-id': 'session-1' } : {}) });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} }));
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    origin = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  });
  after(() => srv.close());
  beforeEach(() => (received.length = 0));

  it('speaks initialize by default and moves to server/discover when a modern server says so', async () => {
    era = 'modern';
    const p = await probeServer({ server: serverAt(`${origin}/mcp`) }, { http: httpSettings });
    // Open to server/discover, so the probe also asks for the tool list before calling it open.
    assert.deepEqual(received.map((r) => r.bodyMethod), ['initialize', 'server/discover', 'tools/list']);
    assert.equal(received[1]?.mcpMethod, 'server/discover');
    assert.equal(received[2]?.mcpMethod, 'tools/list');
    assert.equal(received[1]?.version, '2026-07-28');
    assert.equal(p.era, 'modern');
    assert.equal(p.revision, '2026-07-28');
    assert.equal(p.state, 'no-auth-needed');
  });

  it('told to speak 2026-07-28, falls back to initialize for a legacy server', async () => {
    era = 'legacy';
    const p = await probeServer({ server: serverAt(`${origin}/mcp`) }, { http: httpSettings, revision: '2026-07-28' });
    assert.deepEqual(received.map((r) => r.bodyMethod), ['server/discover', 'initialize', 'notifications/initialized', 'tools/list', undefined]);
    assert.equal(received[3]?.method, 'POST');
    assert.equal(received[4]?.method, 'DELETE', 'the session initialize opened is closed');
    assert.equal(received[1]?.version, '2025-11-25');
    assert.equal(p.era, 'legacy');
    assert.equal(p.state, 'no-auth-needed');
  });

  it('a server that lets initialize through but challenges tools/list is an OAuth server', async () => {
    era = 'gated-tools';
    const p = await probeServer({ server: serverAt(`${origin}/mcp`) }, { http: httpSettings });
    assert.ok(p.findings.some((f) => f.code === 'probe.auth-after-initialize'), p.findings.map((f) => f.code).join());
    assert.ok(!p.findings.some((f) => f.code === 'probe.no-auth-required'));
    assert.notEqual(p.state, 'no-auth-needed');
  });

  it('does not probe stdio or disabled servers at all', async () => {
    const stdio = await probeServer({ server: { ...serverAt(''), transport: 'stdio', url: undefined } }, { http: httpSettings });
    const disabled = await probeServer({ server: { ...serverAt(`${origin}/mcp`), enabled: false } }, { http: httpSettings });
    assert.equal(stdio.state, 'not-probed');
    assert.equal(disabled.state, 'not-probed');
    assert.deepEqual(received, []);
  });
});
