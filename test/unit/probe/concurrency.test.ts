// Many servers: the probe starts at most PROBE_CONCURRENCY of them at once and still answers for
// every one, in the report's order. A user with hundreds of configured servers must not get
// thousands of sockets opened at once (or a run that stalls on them).
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { probeServers, PROBE_CONCURRENCY } from '../../../src/core/probe/probe';
import { DEFAULT_MAX_BODY_BYTES } from '../../../src/core/probe/http';
import type { McpServer } from '../../../src/core/model';

function serverAt(name: string, url: string): McpServer {
  return { client: 'codex', scope: 'user', name, transport: 'http', url, rawUrl: url, headerNames: [], headers: {}, enabled: true, source: { file: '/x', line: 1, column: 1 }, findings: [] };
}

describe('probe concurrency', () => {
  let srv: http.Server;
  let origin: string;
  let inFlight = 0;
  let maxInFlight = 0;
  // Requests are held until `barrier` of them are in flight together (or 3 s pass), so what is
  // measured is how many the probe starts at once, not how fast this machine happens to be.
  let barrier = 1;
  let waiting: (() => void)[] = [];

  before(async () => {
    // An open MCP server (no auth).
    srv = http.createServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      req.resume();
      req.on('end', () => {
        const answer = () => {
          inFlight--;
          if (req.method !== 'POST') return res.writeHead(405).end();
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} }));
        };
        const timer = setTimeout(() => release(), 3000);
        waiting.push(() => {
          clearTimeout(timer);
          answer();
        });
        if (inFlight >= barrier) release();
      });
    });
    const release = () => {
      const now = waiting;
      waiting = [];
      for (const w of now) w();
    };
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    origin = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  });
  after(() => srv.close());
  beforeEach(() => {
    maxInFlight = 0;
  });

  const httpSettings = { fetch: (i: string | URL, init?: RequestInit) => fetch(i, init), timeoutMs: 5000, maxBodyBytes: DEFAULT_MAX_BODY_BYTES };
  const targets = (n: number) => Array.from({ length: n }, (_, i) => ({ server: serverAt(`s${i}`, `${origin}/mcp/${i}`) }));

  it('with a cap of 3, never has more than 3 servers in flight, and answers all 12 in order', async () => {
    barrier = 3;
    const probes = await probeServers(targets(12), { http: httpSettings, concurrency: 3 });
    assert.equal(probes.length, 12);
    assert.ok(maxInFlight <= 3, `at most 3 requests in flight (one per server at a time), saw ${maxInFlight}`);
    assert.equal(maxInFlight, 3, 'three servers do run side by side');
    probes.forEach((p, i) => assert.ok(p.trace[0]?.url.endsWith(`/mcp/${i}`), `probe ${i} is server ${i}'s (index-aligned): ${p.trace[0]?.url}`));
    for (const p of probes) assert.equal(p.state, 'no-auth-needed');
  });

  it('by default starts every server of a usual setup together (the cap is above 50)', async () => {
    assert.ok(PROBE_CONCURRENCY >= 50);
    barrier = 20;
    const started = Date.now();
    const probes = await probeServers(targets(20), { http: httpSettings });
    assert.equal(probes.length, 20);
    assert.equal(maxInFlight, 20, 'all 20 servers were in flight together');
    assert.ok(Date.now() - started < 2500, 'released by the barrier, not by the 3 s fallback');
  });
});
