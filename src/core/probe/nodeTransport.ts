// The probe's direct requests over node:http / node:https instead of the global fetch. Node's
// fetch is undici: its first request loads undici's JavaScript and compiles its WebAssembly HTTP
// parser, which costs a fresh `status` process about 40 MiB of peak memory and 40 ms (measured:
// four sequential loopback requests peak at 82 MiB with fetch, 43 MiB with node:http; bench
// issue 16). The probe needs only a status, headers and a body stream it can cap and cancel, so
// it gets those, with fetch's behaviour where the probe can see it: the same default request
// headers, gzip/deflate decoded, no redirect followed, no cookie kept, errors shaped as fetch's
// (TypeError "fetch failed" with the socket error as cause), abort by the signal at any point.
//
// Proxied URLs never come here (proxy.ts keeps undici for those), nor do the repairs, whose
// oauth4webapi needs a real Response.
import * as http from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';
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

function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

export const nodeProbeFetch: ProbeFetch = (input, init = {}) =>
  new Promise<ProbeResponse>((resolve, reject) => {
    const url = new URL(String(input));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(fetchFailed(new Error(`unsupported protocol ${url.protocol}`)));
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(signal.reason);
    const headers: Record<string, string> = {};
    for (const [k, v] of new Map(Object.entries((init.headers ?? {}) as Record<string, string>))) headers[k.toLowerCase()] = v;
    for (const [k, v] of Object.entries(FETCH_DEFAULT_HEADERS)) headers[k] ??= v;
    const body = typeof init.body === 'string' ? Buffer.from(init.body) : undefined;
    if (init.body !== undefined && init.body !== null && body === undefined) return reject(new TypeError('the probe sends string bodies only'));
    if (body) headers['content-length'] = String(body.length);
    const request = (url.protocol === 'https:' ? https : http).request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: init.method ?? 'GET',
      headers,
    });
    let settled = false;
    let stream: Readable | undefined;
    const onAbort = () => {
      const reason = signal?.reason;
      request.destroy(reason instanceof Error ? reason : new Error('aborted'));
      stream?.destroy(reason instanceof Error ? reason : new Error('aborted'));
      if (!settled) {
        settled = true;
        reject(reason);
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (err) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? signal.reason : fetchFailed(err));
    });
    request.on('response', (res) => {
      settled = true;
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
