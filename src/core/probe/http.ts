// The probe's one way onto the network. Every request goes through `exchange`, which enforces
// what the probe promises: a per-request timeout that also covers the body, a body cap enforced
// while streaming, redirects never followed (reported instead), only https (plain http to
// loopback only), a bearer token only to the origin it belongs to, and a trace entry per request
// with secrets replaced (Authorization, Cookie, Set-Cookie and every header value taken from the
// user's config). The fetch itself is a seam: global fetch by default, a test double or a
// proxy-aware fetch from the caller.
import { fingerprint } from '../storageKey';
import type { ProbeFetch, ProbeResponse } from './nodeTransport';
import { describeRefusal, redactUrl, refusalFor, type UrlRefusal } from './urls';

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Which probe step sent a request (the trace reads like the sequence). */
export type ProbeStep = 'mcp' | 'resource-metadata' | 'authorization-server-metadata' | 'token-check' | 'session-close';

/**
 * ok: a 2xx read in full (or as far as asked); redirect: a 3xx, not followed; http-error: 4xx/5xx;
 * timeout: no complete answer in time; too-large: the body passed the cap and was cut;
 * network-error: DNS, TCP or TLS failed; refused: not sent (URL not allowed, or a token for another origin).
 */
export type Outcome = 'ok' | 'redirect' | 'http-error' | 'timeout' | 'too-large' | 'network-error' | 'refused';

export interface TraceEntry {
  step: ProbeStep;
  method: string;
  /** Query values masked. */
  url: string;
  status?: number;
  /** Wall time of the whole exchange, body included. */
  ms: number;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
  outcome: Outcome;
  /** A redirect's target (query masked). */
  location?: string;
  contentType?: string;
  /** Body bytes read. */
  bytes?: number;
  /** Why it failed or was refused, in words (never a secret). */
  error?: string;
  /** Served from this run's AS-metadata cache: no request went out for this entry. */
  cached?: boolean;
}

export interface Exchange {
  entry: TraceEntry;
  status?: number;
  headers?: ProbeResponse['headers'];
  /** The body as text, as far as it was read; undefined when not read. */
  body?: string;
  /** Node's error code for a network failure (ECONNREFUSED, CERT_HAS_EXPIRED, …). */
  errorCode?: string;
  refusal?: UrlRefusal | 'foreign-origin';
}

export interface HttpSettings {
  fetch: FetchLike;
  /**
   * What `exchange` sends with, when set: the probe's run uses node:http for direct URLs
   * (nodeTransport.ts) and `fetch` for proxied ones. Repairs leave it unset: oauth4webapi, which
   * they hand `fetch` to, needs real Responses.
   */
  probeFetch?: ProbeFetch;
  timeoutMs: number;
  maxBodyBytes: number;
  /** How a URL goes out (direct, or which proxy), for the words of a failure. */
  routeFor?: (url: string) => string;
}

/** none: headers only; full: the whole body up to the cap; sse-event: up to the end of the first SSE event. */
export type BodyRead = 'none' | 'full' | 'sse-event';

export interface ProbeRequest {
  step: ProbeStep;
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  /** Protocol headers (Accept, MCP-Protocol-Version, …): shown in the trace as they are. */
  headers?: Record<string, string>;
  /** Headers from the user's config: sent, but their values never appear in the trace. */
  configHeaders?: Record<string, string>;
  body?: string;
  /** Sent as `Authorization: Bearer` only when the URL's origin is exactly `origin`. */
  bearer?: { token: string; origin: string };
  read: BodyRead;
}

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Node's TLS verification failures: a proxy or corporate CA the process does not trust. */
export const TLS_ERROR_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

class ProbeTimeout extends Error {
  override name = 'ProbeTimeout';
}

export async function exchange(settings: HttpSettings, req: ProbeRequest): Promise<Exchange> {
  const started = performance.now();
  const entry: TraceEntry = {
    step: req.step,
    method: req.method,
    url: redactUrl(req.url),
    ms: 0,
    requestHeaders: {},
    responseHeaders: {},
    outcome: 'refused',
  };
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    entry.error = 'not a URL';
    return { entry, refusal: 'not-http' };
  }
  const refusal = refusalFor(url);
  if (refusal) {
    entry.error = `not sent: ${describeRefusal(refusal)}`;
    return { entry, refusal };
  }
  if (req.bearer && url.origin !== req.bearer.origin) {
    // The token belongs to the MCP server's origin; no other host ever sees it (spec: Token Handling).
    entry.error = `not sent: the token belongs to ${req.bearer.origin}, not ${url.origin}`;
    return { entry, refusal: 'foreign-origin' };
  }

  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.configHeaders ?? {})) {
    headers[k] = v;
    entry.requestHeaders[k.toLowerCase()] = '[redacted]';
  }
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    headers[k] = v;
    entry.requestHeaders[k.toLowerCase()] = SECRET_HEADERS.has(k.toLowerCase()) ? '[redacted]' : v;
  }
  if (req.bearer) {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete headers[k];
    headers.authorization = `Bearer ${req.bearer.token}`;
    entry.requestHeaders.authorization = `Bearer [redacted ${fingerprint(req.bearer.token)}]`;
  } else {
    const configured = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization');
    if (configured) entry.requestHeaders.authorization = `[redacted ${fingerprint(configured[1])}]`;
  }

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new ProbeTimeout(`no complete answer within ${settings.timeoutMs} ms`)), settings.timeoutMs);
  let res: ProbeResponse | undefined;
  try {
    res = await (settings.probeFetch ?? settings.fetch)(url.href, {
      method: req.method,
      headers,
      body: req.body,
      redirect: 'manual',
      signal: controller.signal,
      // Cookies are never sent or kept: the probe has no cookie jar.
      credentials: 'omit',
    });
    entry.status = res.status;
    entry.responseHeaders = redactedHeaders(res.headers);
    entry.contentType = res.headers.get('content-type') ?? undefined;
    const out: Exchange = { entry, status: res.status, headers: res.headers };
    if (res.status >= 300 && res.status < 400) {
      entry.outcome = 'redirect';
      const location = res.headers.get('location');
      if (location) entry.location = redactUrl(URL.canParse(location, url.href) ? new URL(location, url).href : location);
      await discard(res);
      return out;
    }
    entry.outcome = res.status >= 200 && res.status < 300 ? 'ok' : 'http-error';
    if (req.read === 'none') {
      await discard(res);
      return out;
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > settings.maxBodyBytes) {
      entry.outcome = 'too-large';
      entry.error = `the body is ${declared} bytes, over the ${settings.maxBodyBytes}-byte cap`;
      await discard(res);
      return out;
    }
    const read = await readCapped(res, settings.maxBodyBytes, req.read === 'sse-event');
    entry.bytes = read.bytes;
    out.body = read.text;
    if (read.overCap) {
      entry.outcome = 'too-large';
      entry.error = `the body passed the ${settings.maxBodyBytes}-byte cap and was cut`;
    }
    return out;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason = controller.signal.aborted ? controller.signal.reason : undefined;
    if (reason instanceof ProbeTimeout || e.name === 'TimeoutError' || e instanceof ProbeTimeout) {
      entry.outcome = 'timeout';
      entry.error = `no complete answer within ${settings.timeoutMs / 1000} s`;
      if (res) void discard(res);
      return { entry, status: entry.status, headers: res?.headers };
    }
    entry.outcome = 'network-error';
    const code = e.cause?.code ?? (e as { code?: string }).code;
    entry.error = code ? `${code}${e.cause?.message ? `: ${e.cause.message}` : ''}` : e.message;
    // Whether a proxy was in the way decides what the user should check.
    if (settings.routeFor) entry.error += ` (${settings.routeFor(url.href)})`;
    return { entry, errorCode: code };
  } finally {
    clearTimeout(timer);
    entry.ms = Math.round(performance.now() - started);
  }
}

async function discard(res: ProbeResponse): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // Already closed or errored: nothing to release.
  }
}

async function readCapped(res: ProbeResponse, cap: number, untilFirstEvent: boolean): Promise<{ text: string; bytes: number; overCap: boolean }> {
  const body = res.body;
  if (!body) return { text: '', bytes: 0, overCap: false };
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (bytes + value.byteLength > cap) {
        text += decoder.decode(value.subarray(0, cap - bytes), { stream: true });
        bytes = cap;
        await reader.cancel().catch(() => undefined);
        return { text, bytes, overCap: true };
      }
      bytes += value.byteLength;
      text += decoder.decode(value, { stream: true });
      // One SSE event is enough to judge an MCP answer; the stream itself may stay open.
      if (untilFirstEvent && /\r?\n\r?\n/.test(text) && /(^|\n)data:/.test(text)) {
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
    text += decoder.decode();
    return { text, bytes, overCap: false };
  } finally {
    reader.releaseLock();
  }
}

function redactedHeaders(h: ProbeResponse['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  let count = 0;
  h.forEach((value, name) => {
    if (count++ >= 64) return;
    out[name] = SECRET_HEADERS.has(name) ? '[redacted]' : value.length > 1024 ? `${value.slice(0, 1024)}…` : value;
  });
  return out;
}

/** One line per exchange for a finding's evidence: `GET <url> → 404 text/html (12 ms)`. */
export function describeExchange(e: TraceEntry): string {
  const head = `${e.method} ${e.url}`;
  const cached = e.cached ? ', cached' : '';
  switch (e.outcome) {
    case 'refused':
      return `${head}: ${e.error ?? 'not sent'}`;
    case 'timeout':
      return `${head} → timeout (${e.error ?? ''}${cached})`;
    case 'network-error':
      return `${head} → network error: ${e.error ?? 'unknown'} (${e.ms} ms)`;
    default: {
      const ct = e.contentType ? ` ${e.contentType.split(';')[0]}` : '';
      const loc = e.location ? ` → Location ${e.location}` : '';
      const big = e.outcome === 'too-large' ? ` (${e.error})` : '';
      return `${head} → ${e.status ?? '?'}${ct}${loc}${big} (${e.ms} ms${cached})`;
    }
  }
}
