// exchange() is the probe's only way onto the network; these tests hold it to its promises with a
// hand-written loopback server (the misbehaviours here, trickling bodies and the like, are ones
// no real MCP server is built to produce).
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exchange, type HttpSettings } from '../../../src/core/probe/http';
import { nodeProbeFetch, type ProbeFetch } from '../../../src/core/probe/nodeTransport';

interface Seen {
  path: string;
  authorization?: string;
}

// Both ways the probe sends: fetch (tests, proxies, repairs) and node:http (the probe's direct
// requests): every promise below holds for each.
for (const [transport, probeFetch] of [['fetch', undefined], ['node:http', nodeProbeFetch]] as const satisfies readonly (readonly [string, ProbeFetch | undefined])[]) {
describe(`probe HTTP exchange (${transport})`, () => {
  let server: http.Server;
  let origin: string;
  let other: http.Server;
  let otherOrigin: string;
  const seen: Seen[] = [];
  const settings: HttpSettings = { fetch: (i, init) => fetch(i, init), ...(probeFetch ? { probeFetch } : {}), timeoutMs: 800, maxBodyBytes: 64 * 1024 };

  const listen = (handler: http.RequestListener) =>
    new Promise<[http.Server, string]>((resolve) => {
      const s = http.createServer(handler);
      s.listen(0, '127.0.0.1', () => resolve([s, `http://127.0.0.1:${(s.address() as AddressInfo).port}`]));
    });

  before(async () => {
    [server, origin] = await listen((req, res) => {
      seen.push({ path: req.url ?? '', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      switch (req.url) {
        case '/big':
          res.writeHead(200, { 'content-type': 'application/json' });
          // 200 KiB without a content-length: the cap must cut it while streaming.
          for (let i = 0; i < 200; i++) res.write('x'.repeat(1024));
          return res.end();
        case '/declared-big':
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) });
          return res.end('{}');
        case '/trickle':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{');
          return; // never ends: the timeout must cover the body, not just the headers
        case '/redirect':
          res.writeHead(302, { location: `${otherOrigin}/landing?code=abc` });
          return res.end();
        case '/sse':
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('event: endpoint\ndata: /messages?session=1\n\n');
          return; // the stream stays open; one event is enough
        default:
          res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'session=secret' });
          return res.end('{"ok":true}');
      }
    });
    [other, otherOrigin] = await listen((req, res) => {
      seen.push({ path: `other:${req.url}`, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      res.end('{}');
    });
  });
  after(() => {
    server.closeAllConnections();
    other.closeAllConnections();
    server.close();
    other.close();
  });
  beforeEach(() => (seen.length = 0));

  it('cuts a body at the cap while streaming, and says so', async () => {
    const ex = await exchange(settings, { step: 'resource-metadata', method: 'GET', url: `${origin}/big`, read: 'full' });
    assert.equal(ex.entry.outcome, 'too-large');
    assert.equal(ex.entry.bytes, 64 * 1024);
    const declared = await exchange(settings, { step: 'resource-metadata', method: 'GET', url: `${origin}/declared-big`, read: 'full' });
    assert.equal(declared.entry.outcome, 'too-large');
    assert.equal(declared.body, undefined, 'a body declared over the cap is not read at all');
  });

  it('times out a body that never ends', async () => {
    const started = Date.now();
    const ex = await exchange(settings, { step: 'mcp', method: 'GET', url: `${origin}/trickle`, read: 'full' });
    assert.equal(ex.entry.outcome, 'timeout');
    assert.ok(Date.now() - started < 2000);
  });

  it('reports a redirect without following it, even with a token', async () => {
    const ex = await exchange(settings, { step: 'token-check', method: 'POST', url: `${origin}/redirect`, bearer: { token: 'secret-token-value', origin }, read: 'full' });
    assert.equal(ex.entry.outcome, 'redirect');
    assert.equal(ex.entry.location, `${otherOrigin}/landing?code=***`);
    assert.ok(!seen.some((s) => s.path.startsWith('other:')), 'the redirect target was contacted');
  });

  it('never sends a token to another origin', async () => {
    const ex = await exchange(settings, { step: 'token-check', method: 'GET', url: `${otherOrigin}/x`, bearer: { token: 'secret-token-value', origin }, read: 'full' });
    assert.equal(ex.refusal, 'foreign-origin');
    assert.deepEqual(seen, []);
  });

  it('sends the token and config headers, but the trace shows neither', async () => {
    const ex = await exchange(settings, {
      step: 'token-check',
      method: 'GET',
      url: `${origin}/ok`,
      configHeaders: { 'X-Api-Key': 'key-from-config', Authorization: 'Bearer static-one' },
      bearer: { token: 'secret-token-value', origin },
      read: 'full',
    });
    assert.equal(seen[0]?.authorization, 'Bearer secret-token-value', 'the bearer replaces a configured Authorization header');
    const trace = JSON.stringify(ex.entry);
    for (const secret of ['secret-token-value', 'key-from-config', 'static-one', 'session=secret']) assert.ok(!trace.includes(secret), `${secret} is in the trace`);
    assert.match(ex.entry.requestHeaders.authorization ?? '', /^Bearer \[redacted sha256:[0-9a-f]{12}\]$/);
  });

  it('reads an SSE stream up to its first event and lets it go', async () => {
    const ex = await exchange(settings, { step: 'mcp', method: 'GET', url: `${origin}/sse`, read: 'sse-event' });
    assert.equal(ex.entry.outcome, 'ok');
    assert.match(ex.body ?? '', /event: endpoint/);
  });

  it('refuses plain http to a host that is not loopback without sending anything', async () => {
    const ex = await exchange(settings, { step: 'mcp', method: 'GET', url: 'http://example.com/mcp', read: 'none' });
    assert.equal(ex.refusal, 'insecure');
    assert.equal(ex.entry.outcome, 'refused');
  });
});
}
