// A loopback HTTP forward proxy for tests: absolute-form requests (`GET http://127.0.0.1:p/x`)
// for http:// targets and CONNECT tunnels for https://, as curl and undici's ProxyAgent send
// them. It records what went through, forwards to loopback targets only (anything else gets 403,
// so no test traffic leaves the machine), can demand Basic credentials (407 otherwise) and can
// itself listen over TLS (an https:// proxy). Bounded: a cap on connections, idle sockets time
// out, and close() destroys every socket it holds, client and upstream.
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ForwardProxyOptions {
  /** Demand `Proxy-Authorization: Basic` with these; anything else gets 407. */
  credentials?: { username: string; password: string };
  /** Listen over TLS with this key and certificate (an https:// proxy). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Simultaneous client connections (default 32). */
  maxConnections?: number;
}

export interface ProxiedRequest {
  /** `CONNECT` for a tunnel, else the request's method. */
  method: string;
  /** `host:port` for CONNECT, the absolute URL otherwise. */
  target: string;
  /** forwarded: passed on; denied: not loopback (403); auth-required: 407; bad-request: not absolute-form (400). */
  outcome: 'forwarded' | 'denied' | 'auth-required' | 'bad-request';
}

export interface ForwardProxy {
  /** `http://127.0.0.1:<port>` (or `https://` with `tls`). */
  origin: string;
  port: number;
  requests(): ProxiedRequest[];
  /** The local ports of the connections it opened to targets: a target that sees a request from one of these got it through this proxy. */
  upstreamPorts(): number[];
  close(): Promise<void>;
}

const IDLE_MS = 15_000;
const MAX_RECORDS = 1000;
// Hop-by-hop headers (RFC 9110 §7.6.1) and the proxy's own: never passed on.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const records: ProxiedRequest[] = [];
  const upstreamPorts: number[] = [];
  const noteUpstream = (socket: net.Socket) => socket.once('connect', () => upstreamPorts.length < MAX_RECORDS && socket.localPort !== undefined && upstreamPorts.push(socket.localPort));
  const sockets = new Set<net.Socket>();
  const record = (r: ProxiedRequest) => {
    if (records.length < MAX_RECORDS) records.push(r);
  };
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  };
  const expected = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`
    : undefined;
  const authorized = (req: http.IncomingMessage) => !expected || req.headers['proxy-authorization'] === expected;

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const method = req.method ?? 'GET';
    const target = req.url ?? '';
    if (!authorized(req)) {
      record({ method, target, outcome: 'auth-required' });
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="lab-proxy"', 'content-length': 0 });
      res.end();
      return;
    }
    const url = URL.canParse(target) ? new URL(target) : undefined;
    if (!url || url.protocol !== 'http:') {
      record({ method, target, outcome: 'bad-request' });
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('forward proxy: absolute-form http:// requests only (https goes through CONNECT)\n');
      return;
    }
    if (!isLoopback(url.hostname)) {
      record({ method, target, outcome: 'denied' });
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('forward proxy: loopback targets only\n');
      return;
    }
    record({ method, target, outcome: 'forwarded' });
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    const upstream = http.request(
      { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port || 80, method, path: `${url.pathname}${url.search}`, headers, agent: false },
      (up) => {
        const back: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) back[k] = v;
        res.writeHead(up.statusCode ?? 502, back);
        up.pipe(res);
      },
    );
    upstream.on('socket', (socket) => {
      track(socket);
      noteUpstream(socket);
    });
    upstream.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('forward proxy: target unreachable\n');
      } else {
        res.destroy();
      }
    });
    // The client gave up (abort, timeout): drop the upstream request with it.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };

  const onConnect = (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    const refuse = (status: string, outcome: ProxiedRequest['outcome'], extra = '') => {
      record({ method: 'CONNECT', target, outcome });
      client.end(`HTTP/1.1 ${status}\r\n${extra}content-length: 0\r\nconnection: close\r\n\r\n`);
    };
    if (!authorized(req)) return refuse('407 Proxy Authentication Required', 'auth-required', 'proxy-authenticate: Basic realm="lab-proxy"\r\n');
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(target);
    if (!m) return refuse('400 Bad Request', 'bad-request');
    const host = (m[1] ?? '').replace(/^\[(.*)\]$/, '$1');
    if (!isLoopback(host)) return refuse('403 Forbidden', 'denied');
    record({ method: 'CONNECT', target, outcome: 'forwarded' });
    const upstream = net.connect(Number(m[2]), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    noteUpstream(upstream);
    upstream.on('error', () => {
      if (client.writable && upstream.connecting) client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      else client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };

  const server: http.Server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, onRequest) : http.createServer(onRequest);
  server.maxConnections = options.maxConnections ?? 32;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('connection', track);
  server.on('connect', onConnect);
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests: () => records.map((r) => ({ ...r })),
    upstreamPorts: () => [...upstreamPorts],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      }),
  };
}
