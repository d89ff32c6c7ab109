// The probe's node:http sender must look like fetch to a server and to the probe: the same request
// headers on the wire, the same response headers, gzip and deflate decoded, errors with the same
// words. Each check sends the same request both ways to one loopback server and compares.
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { exchange } from '../../../src/core/probe/http';
import { nodeProbeFetch, type ProbeResponse } from '../../../src/core/probe/nodeTransport';

describe('probe node:http sender', () => {
  let server: http.Server;
  let origin: string;
  let received: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string }[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body });
        if (req.url === '/gzip' || req.url === '/deflate') {
          const data = (req.url === '/gzip' ? zlib.gzipSync : zlib.deflateSync)(Buffer.from('{"compressed":true}'));
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': req.url.slice(1), 'content-length': String(data.length) });
          return res.end(data);
        }
        // Repeated and mixed-case fields: Headers joins them with ", " and lowercases names.
        res.writeHead(401, [
          ['Content-Type', 'application/json'],
          ['WWW-Authenticate', 'Bearer realm="a"'],
          ['www-authenticate', 'Bearer resource_metadata="b"'],
          ['X-Zed', '1'],
        ].flat());
        res.end('{"error":"unauthorized"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => (received = []));

  const init = (): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json', 'MCP-Protocol-Version': '2025-11-25' }, body: '{"jsonrpc":"2.0"}', redirect: 'manual', credentials: 'omit' });
  const headerList = (h: ProbeResponse['headers']) => {
    const out: [string, string][] = [];
    h.forEach((v, k) => out.push([k, v]));
    return out;
  };

  it('puts the same request on the wire as fetch', async () => {
    await (await fetch(`${origin}/mcp?x=1`, init())).text();
    const mine = await nodeProbeFetch(`${origin}/mcp?x=1`, init());
    await mine.body?.cancel();
    const [theirs, ours] = received;
    assert.equal(ours?.method, theirs?.method);
    assert.equal(ours?.url, theirs?.url);
    assert.equal(ours?.body, theirs?.body);
    const strip = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'connection').sort());
    assert.deepEqual(strip(ours!.headers), strip(theirs!.headers));
  });

  it('reads the same status and response headers as fetch', async () => {
    const a = await fetch(`${origin}/mcp`, init());
    const b = await nodeProbeFetch(`${origin}/mcp`, init());
    assert.equal(b.status, a.status);
    assert.deepEqual(headerList(b.headers).filter(([k]) => k !== 'date' && k !== 'keep-alive'), headerList(a.headers).filter(([k]) => k !== 'date' && k !== 'keep-alive'));
    assert.equal(b.headers.get('WWW-Authenticate'), a.headers.get('www-authenticate'));
    assert.equal(b.headers.get('absent'), null);
    assert.equal(await new Response(b.body).text(), await a.text());
  });

  for (const enc of ['gzip', 'deflate']) {
    it(`decodes a ${enc} body as fetch does`, async () => {
      const ex = await exchange({ fetch, probeFetch: nodeProbeFetch, timeoutMs: 2000, maxBodyBytes: 1024 }, { step: 'resource-metadata', method: 'GET', url: `${origin}/${enc}`, read: 'full' });
      assert.equal(ex.entry.outcome, 'ok');
      assert.equal(ex.body, '{"compressed":true}');
    });
  }

  it('fails on a refused connection with the words fetch gives', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/mcp`;
    await new Promise<void>((r) => closed.close(() => r()));
    const req = { step: 'mcp' as const, method: 'GET' as const, url, read: 'none' as const };
    const viaFetch = await exchange({ fetch, timeoutMs: 2000, maxBodyBytes: 1024 }, req);
    const viaNode = await exchange({ fetch, probeFetch: nodeProbeFetch, timeoutMs: 2000, maxBodyBytes: 1024 }, req);
    assert.equal(viaNode.entry.outcome, 'network-error');
    assert.equal(viaNode.errorCode, 'ECONNREFUSED');
    assert.equal(viaNode.entry.error, viaFetch.entry.error);
  });

  it('is aborted by its signal before an answer comes', async () => {
    const hang = http.createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    try {
      const reason = new Error('stop');
      const controller = new AbortController();
      setTimeout(() => controller.abort(reason), 50);
      await assert.rejects(nodeProbeFetch(`http://127.0.0.1:${(hang.address() as AddressInfo).port}/`, { signal: controller.signal }), (err) => err === reason);
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
  });

  it('reaches an IPv6 loopback literal', async function () {
    const v6 = http.createServer((_req, res) => res.end('six'));
    try {
      await new Promise<void>((resolve, reject) => v6.once('error', reject).listen(0, '::1', () => resolve()));
    } catch {
      this.skip(); // no ::1 on this machine
    }
    try {
      const res = await nodeProbeFetch(`http://[::1]:${(v6.address() as AddressInfo).port}/`);
      assert.equal(res.status, 200);
      assert.equal(await new Response(res.body).text(), 'six');
    } finally {
      v6.closeAllConnections();
      v6.close();
    }
  });
});
