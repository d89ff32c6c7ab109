// A loopback server whose endpoints misbehave the way a hostile or broken MCP server can: a body
// dripped a byte at a time, a body that never ends, 100 MB streamed, a gzip bomb, redirect loops,
// oversized headers, broken and mislabelled JSON, no answer at all. Each case is reachable two
// ways: as the MCP endpoint itself (`/mcp/<case>`), and as the protected-resource metadata a
// well-behaved MCP endpoint points to (`/via-prm/<case>/mcp` → 401 naming `/prm/<case>`).
// It records requests per path and the bytes it managed to write, and stops writing as soon as
// the client goes away (every writer waits for 'drain', so nothing piles up in this process).
import { promisify } from 'node:util';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';

export const HOSTILE_CASES = [
  'drip',
  'endless',
  'big-100mb',
  'big-declared',
  'gzip-bomb',
  'redirect-loop',
  'redirect-pingpong',
  'huge-header',
  'many-headers',
  'bad-json',
  'html',
  'wrong-content-type',
  'no-answer',
] as const;
export type HostileCase = (typeof HOSTILE_CASES)[number];

export interface HostileServer {
  origin: string;
  /** Requests seen per path (query left out). */
  requests: Map<string, number>;
  /** Body bytes written per case (compressed bytes for the gzip bomb). */
  written: Map<string, number>;
  /** How many bytes the gzip bomb inflates to. */
  bombInflatedBytes: number;
  bombWireBytes: number;
  close(): Promise<void>;
}

const MB = 1024 * 1024;

export async function startHostileServer(options: { bombMegabytes?: number } = {}): Promise<HostileServer> {
  const bombInflatedBytes = (options.bombMegabytes ?? 256) * MB;
  // Zeros deflate ~1000:1: a quarter of a gigabyte is a quarter of a megabyte on the wire.
  const bomb = await promisify(zlib.gzip)(Buffer.alloc(bombInflatedBytes), { level: 9 });
  const requests = new Map<string, number>();
  const written = new Map<string, number>();
  const count = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);
  let origin = '';

  /** Writes chunks from `next` while the client reads; stops on close, error, or when `next` runs out. */
  const pump = (res: http.ServerResponse, kase: string, next: () => Buffer | undefined, pauseMs = 0) => {
    let stopped = false;
    res.on('close', () => (stopped = true));
    const step = () => {
      while (!stopped) {
        const chunk = next();
        if (!chunk) {
          res.end();
          return;
        }
        count(written, kase, chunk.length);
        const ok = res.write(chunk);
        if (pauseMs > 0) {
          setTimeout(step, pauseMs);
          return;
        }
        if (!ok) {
          res.once('drain', step);
          return;
        }
      }
    };
    step();
  };

  const misbehave = (kase: string, req: http.IncomingMessage, res: http.ServerResponse, selfPath: string) => {
    const json = { 'content-type': 'application/json' };
    switch (kase as HostileCase) {
      case 'drip': {
        res.writeHead(200, json);
        const text = Buffer.from('{"resource": "' + 'x'.repeat(1_000_000));
        let i = 0;
        return pump(res, kase, () => (i < text.length ? text.subarray(i, ++i) : undefined), 200);
      }
      case 'endless': {
        res.writeHead(200, json);
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        return pump(res, kase, () => chunk);
      }
      case 'big-100mb': {
        res.writeHead(200, json);
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let left = 100 * MB;
        return pump(res, kase, () => {
          if (left <= 0) return undefined;
          left -= chunk.length;
          return chunk;
        });
      }
      case 'big-declared':
        res.writeHead(200, { ...json, 'content-length': String(100 * MB) });
        count(written, kase, 2);
        // Declares 100 MB, sends two bytes and keeps the socket: the declared size alone must do.
        return void res.write('{}');
      case 'gzip-bomb': {
        res.writeHead(200, { ...json, 'content-encoding': 'gzip', 'content-length': String(bomb.length) });
        let sent = 0;
        return pump(res, kase, () => {
          if (sent >= bomb.length) return undefined;
          const chunk = bomb.subarray(sent, sent + 16 * 1024);
          sent += chunk.length;
          return chunk;
        });
      }
      case 'redirect-loop':
        res.writeHead(302, { location: selfPath });
        return void res.end();
      case 'redirect-pingpong':
        res.writeHead(307, { location: req.url?.endsWith('/b') ? selfPath.replace(/\/b$/, '') : `${selfPath}/b` });
        return void res.end();
      case 'huge-header':
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${'r'.repeat(64 * 1024)}"`, 'x-filler': 'f'.repeat(64 * 1024) });
        return void res.end('{}');
      case 'many-headers': {
        const headers: [string, string][] = Array.from({ length: 5000 }, (_, i) => [`x-h${i}`, String(i)]);
        res.writeHead(401, [...headers, ['www-authenticate', 'Bearer realm="many"']].flat());
        return void res.end('{}');
      }
      case 'bad-json':
        res.writeHead(200, json);
        return void res.end('{"resource": "http://127.0.0.1/mcp", "authorization_servers": [');
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end('<!doctype html><html><body>Sign in</body></html>');
      case 'wrong-content-type':
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end(JSON.stringify({ resource: `${origin}/via-prm/wrong-content-type/mcp`, authorization_servers: [origin] }));
      case 'no-answer':
        // Takes the request and never sends a status line.
        return;
      default:
        res.writeHead(404, json);
        return void res.end('{"error":"unknown case"}');
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    count(requests, url.pathname);
    req.resume();
    let m = /^\/mcp\/([a-z0-9-]+)(\/b)?$/.exec(url.pathname);
    if (m) return misbehave(m[1]!, req, res, `${origin}/mcp/${m[1]}`);
    m = /^\/prm\/([a-z0-9-]+)(\/b)?$/.exec(url.pathname);
    if (m) return misbehave(m[1]!, req, res, `${origin}/prm/${m[1]}`);
    m = /^\/via-prm\/([a-z0-9-]+)\/mcp$/.exec(url.pathname);
    if (m) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': `Bearer resource_metadata="${origin}/prm/${m[1]}"` });
      return void res.end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"unauthorized"},"id":null}');
    }
    // Well-known URLs and anything else: a quick 404, so one hostile endpoint is the only slow one.
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not_found"}');
  });
  // Node's own 16 KiB limit is for requests; responses are unlimited here, as a hostile server's are.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    written,
    bombInflatedBytes,
    bombWireBytes: bomb.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
