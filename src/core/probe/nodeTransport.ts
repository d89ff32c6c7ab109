// The probe's direct requests over node:http / node:https instead of the global fetch. Node's
// fetch is undici: its first request loads undici's JavaScript and compiles its WebAssembly HTTP
// parser, which costs a fresh `status` process about 40 MiB of peak memory and 40 ms (measured:
// four sequential loopback requests peak at 82 MiB with fetch, 43 MiB with node:http; bench
// issue 16). The probe needs only a status, headers and a body stream it can cap and cancel, so
// it gets those, with fetch's behaviour where the probe can see it: the same default request
// headers, gzip/deflate decoded, no redirect followed, no cookie kept, errors shaped as fetch's
// (TypeError "fetch failed" with the socket error as cause), abort by the signal at any point.
//
// The same sender goes through proxies (proxy.ts decides which URL takes which): absolute-form
// requests for http:// targets, a CONNECT tunnel for https:// ones (and for everything through an
// https:// proxy), TLS to the target verified end to end with Node's own store. The repairs,
// whose oauth4webapi needs real Responses, get `toWebResponse` of the same answer.
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';

/** The part of a Response the probe reads: Response itself satisfies it. */
export interface ProbeResponse {
  status: number;
  headers: { get(name: string): string | null; forEach(callback: (value: string, name: string) => void): void };
  body: ReadableStream<Uint8Array> | null;
}

export type ProbeFetch = (input: string | URL, init?: RequestInit) => Promise<ProbeResponse>;

/** What Node's fetch sends when the caller does not (captured from Node 20's fetch). */
const FETCH_DEFAULT_HEADERS: Readonly<Record<string, string>> = { accept: '*/*', 'accept-language': '*', 'sec-fetch-mode': 'cors', 'user-agent': 'node', 'accept-encoding': 'gzip, deflate' };

class ResponseHeaders {
  private readonly values = new Map<string, string>();
  constructor(raw: string[]) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      const value = raw[i + 1]!;
      const had = this.values.get(name);
      // As Headers does: repeated fields joined with ", " (set-cookie included; the probe keeps none).
      this.values.set(name, had === undefined ? value : `${had}, ${value}`);
    }
  }
  get(name: string): string | null {
    return this.values.get(name.toLowerCase()) ?? null;
  }
  /** In name order, as Headers iterates. */
  forEach(callback: (value: string, name: string) => void): void {
    for (const name of [...this.values.keys()].sort()) callback(this.values.get(name)!, name);
  }
}

/** A proxy to send through: its URL without credentials, the Proxy-Authorization to send, and its name for messages. */
export interface ProxyHop {
  url: URL;
  authorization?: string;
  /** http.proxyStrictSSL off: accept any certificate from an https:// proxy itself (never from the target). */
  relaxTls: boolean;
  /** The proxy's URL with credentials masked, for messages. */
  masked: string;
}

/** Connection errors that, through a proxy, mean the proxy cannot be reached. */
const PROXY_CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET']);
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

function proxyFailure(code: string, message: string): TypeError {
  return fetchFailed(Object.assign(new Error(message), { code }));
}

const bare = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * How a request is opened. Direct: the module's `request`, which in VS Code's extension host is
 * patched to apply the editor's proxy resolution (as its fetch is), so "direct" means what the
 * editor's own requests do. Through our proxy: `new http.ClientRequest`, which that patch does
 * not reach: it would replace the agent, and with it the tunnel, by its own.
 */
type Opener = (options: http.RequestOptions) => http.ClientRequest;
const unpatched: Opener = (options) => new http.ClientRequest(options);

interface Route {
  /** The request as the socket's far end must see it. */
  options: http.RequestOptions;
  /** The socket to speak over (a tunnel), instead of one the module opens. */
  socket?: Duplex;
  /** Through an absolute-form proxy: its 407 and connect failures are the proxy's. */
  hop?: ProxyHop;
  verb?: string;
}

/** Direct: the probe's own requests to a URL no proxy is configured for. */
export const nodeProbeFetch: ProbeFetch = (input, init = {}) => {
  const url = new URL(String(input));
  const module = url.protocol === 'https:' ? https : http;
  return send(url, init, { options: { protocol: url.protocol, hostname: bare(url.hostname), port: url.port || undefined, path: `${url.pathname}${url.search}` } }, (o) => module.request(o));
};

/** Through `hop`: absolute-form for http:// targets behind an http:// proxy, a CONNECT tunnel otherwise. */
export async function proxiedProbeFetch(input: string | URL, init: RequestInit, hop: ProxyHop): Promise<ProbeResponse> {
  const url = new URL(String(input));
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fetchFailed(new Error(`unsupported protocol ${url.protocol}`));
  const signal = init.signal ?? undefined;
  if (url.protocol === 'http:' && hop.url.protocol === 'http:') {
    const verb = `${(init.method ?? 'GET').toUpperCase()} ${url.origin}`;
    const headers = { host: url.host, ...(hop.authorization ? { 'proxy-authorization': hop.authorization } : {}) };
    return send(url, init, { options: { protocol: 'http:', hostname: bare(hop.url.hostname), port: hop.url.port || DEFAULT_PORTS['http:'], path: url.href, headers, agent: false }, hop, verb }, unpatched);
  }
  const tunnel = await openTunnel(url, hop, signal);
  let socket: Duplex = tunnel;
  if (url.protocol === 'https:') {
    const host = bare(url.hostname);
    socket = await new Promise<Duplex>((resolve, reject) => {
      // The target's certificate is checked as on a direct connection: Node's store, no exceptions.
      const secure = tls.connect({ socket: tunnel as Socket, host, ...(isIP(host) ? {} : { servername: host }), ALPNProtocols: ['http/1.1'] });
      const onAbort = () => secure.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      secure.once('secureConnect', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(secure);
      });
      secure.once('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(signal?.aborted ? signal.reason : fetchFailed(err));
      });
    });
  }
  // No `agent` here: with one (even `agent: false`) Node ignores createConnection and opens its
  // own connection straight to the target, past the proxy.
  return send(url, init, { options: { protocol: 'http:', hostname: bare(url.hostname), port: url.port || DEFAULT_PORTS[url.protocol], path: `${url.pathname}${url.search}` }, socket }, unpatched);
}

function openTunnel(url: URL, hop: ProxyHop, signal: AbortSignal | undefined): Promise<Duplex> {
  const authority = `${url.hostname}:${url.port || DEFAULT_PORTS[url.protocol]}`;
  const verb = `CONNECT ${bare(url.hostname)}:${url.port || DEFAULT_PORTS[url.protocol]}`;
  return new Promise<Duplex>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const proxyHost = bare(hop.url.hostname);
    const overTls = hop.url.protocol === 'https:';
    const req = unpatched({
      protocol: hop.url.protocol,
      hostname: proxyHost,
      port: hop.url.port || DEFAULT_PORTS[hop.url.protocol],
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...(hop.authorization ? { 'proxy-authorization': hop.authorization } : {}) },
      // A fresh agent of the proxy's scheme: none kept, and TLS to an https:// proxy.
      agent: overTls ? new https.Agent() : false,
      ...(overTls ? { rejectUnauthorized: !hop.relaxTls, ...(isIP(proxyHost) ? {} : { servername: proxyHost }) } : {}),
    });
    const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('connect', (res, socket, head) => {
      signal?.removeEventListener('abort', onAbort);
      if (res.statusCode !== 200) {
        socket.destroy();
        return reject(statusFailure(res.statusCode ?? 0, hop, verb));
      }
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    req.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? signal.reason : connectFailure(err, hop));
    });
    req.end();
  });
}

function statusFailure(status: number, hop: ProxyHop, verb: string): TypeError {
  return status === 407
    ? proxyFailure('PROXY_AUTH_REQUIRED', `the proxy ${hop.masked} answered 407 (proxy authentication required) to ${verb}`)
    : proxyFailure('PROXY_REFUSED', `the proxy ${hop.masked} answered ${status} to ${verb}`);
}

function connectFailure(err: Error & { code?: string }, hop: ProxyHop): TypeError {
  // Through a proxy every TCP connection goes to the proxy, so a connect failure is the proxy's.
  if (err.code && PROXY_CONNECT_ERRORS.has(err.code)) return proxyFailure(err.code, `cannot reach the proxy ${hop.masked}: ${err.message}`);
  return fetchFailed(err);
}

function send(url: URL, init: RequestInit, route: Route, open: Opener): Promise<ProbeResponse> {
  return new Promise<ProbeResponse>((resolve, reject) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(fetchFailed(new Error(`unsupported protocol ${url.protocol}`)));
    const signal = init.signal ?? undefined;
    if (signal?.aborted) {
      route.socket?.destroy();
      return reject(signal.reason);
    }
    const headers = requestHeaders(init.headers);
    const payload = requestBody(init.body);
    if (payload === 'unsupported') return reject(new TypeError('only string, URLSearchParams and byte bodies are sent'));
    if (payload?.type) headers['content-type'] ??= payload.type;
    for (const [k, v] of Object.entries(FETCH_DEFAULT_HEADERS)) headers[k] ??= v;
    for (const [k, v] of Object.entries((route.options.headers ?? {}) as Record<string, string>)) headers[k] = v;
    const body = payload?.bytes;
    if (body) headers['content-length'] = String(body.length);
    const socket = route.socket;
    const request = open({ ...route.options, method: init.method ?? 'GET', headers, ...(socket ? { createConnection: () => socket as Socket } : {}) });
    let settled = false;
    let stream: Readable | undefined;
    const onAbort = () => {
      const reason = signal?.reason;
      const err = reason instanceof Error ? reason : new Error('aborted');
      request.destroy(err);
      stream?.destroy(err);
      socket?.destroy();
      if (!settled) {
        settled = true;
        reject(reason);
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (err: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? signal.reason : route.hop ? connectFailure(err, route.hop) : fetchFailed(err));
    });
    request.on('response', (res) => {
      settled = true;
      if (route.hop && res.statusCode === 407) {
        // An absolute-form request's 407 is the proxy's, never the target's.
        res.resume();
        signal?.removeEventListener('abort', onAbort);
        return reject(statusFailure(407, route.hop, route.verb ?? url.origin));
      }
      const encoding = (res.headers['content-encoding'] ?? '').toLowerCase().trim();
      const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip() : encoding === 'deflate' ? zlib.createInflate() : undefined;
      stream = decoder ? res.pipe(decoder) : res;
      if (decoder) res.on('error', (err) => decoder.destroy(err));
      const noBody = res.statusCode === 204 || res.statusCode === 304 || init.method === 'HEAD';
      // The abort listener stays until the body ends: a timeout also cuts a body that never ends.
      stream.on('close', () => signal?.removeEventListener('abort', onAbort));
      resolve({
        status: res.statusCode ?? 0,
        headers: new ResponseHeaders(res.rawHeaders),
        body: noBody ? (res.resume(), null) : (Readable.toWeb(stream) as ReadableStream<Uint8Array>),
      });
    });
    request.end(body);
  });
}

/** Request headers as fetch takes them (a record, [name, value] pairs, or a Headers: oauth4webapi passes one), lowercased. */
function requestHeaders(h: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (Array.isArray(h)) {
    for (const [k, v] of h as [string, string][]) out[k.toLowerCase()] = v;
  } else if (typeof (h as Headers).forEach === 'function' && typeof (h as Headers).get === 'function') {
    (h as Headers).forEach((v, k) => (out[k.toLowerCase()] = v));
  } else {
    for (const [k, v] of Object.entries(h as Record<string, string>)) out[k.toLowerCase()] = v;
  }
  return out;
}

/** The body's bytes and the content type fetch would give it when none is set. */
function requestBody(b: RequestInit['body']): { bytes: Buffer; type?: string } | undefined | 'unsupported' {
  if (b === undefined || b === null) return undefined;
  if (typeof b === 'string') return { bytes: Buffer.from(b), type: 'text/plain;charset=UTF-8' };
  if (b instanceof URLSearchParams) return { bytes: Buffer.from(b.toString()), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  if (b instanceof ArrayBuffer) return { bytes: Buffer.from(b) };
  if (ArrayBuffer.isView(b)) return { bytes: Buffer.from(b.buffer, b.byteOffset, b.byteLength) };
  return 'unsupported';
}

/** The answer as a fetch Response, for callers that need one (oauth4webapi in the repairs). */
export function toWebResponse(res: ProbeResponse): Response {
  const headers: [string, string][] = [];
  res.headers.forEach((value, name) => headers.push([name, value]));
  const nullBody = res.status === 204 || res.status === 205 || res.status === 304 || res.body === null;
  if (nullBody) void res.body?.cancel().catch(() => undefined);
  return new Response(nullBody ? null : res.body, { status: res.status, headers });
}
