// Records every HTTP exchange a guided step makes, as the user may see it: the caller's fetch is
// wrapped, so discovery, the pre-check, registration, the token request and the MCP requests are
// all recorded the same way without the functions that send them knowing. What is recorded is
// redacted before it is kept: secret headers, the OAuth parameters that carry secrets (code,
// code_verifier, tokens, client secrets) in URLs, form and JSON bodies, and every secret value
// the flow has seen anywhere else in the text, each replaced by its fingerprint.
import type { FetchLike, HttpSettings } from '../probe/http';
import { redactUrl } from '../probe/urls';
import { fingerprint } from '../storageKey';
import type { RecordedExchange } from './steps';

/** OAuth and OpenID parameter names whose values are secrets (RFC 6749, 7636, 7591, 7523, 8693, OIDC). */
const SECRET_PARAMS = new Set([
  'code',
  'code_verifier',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'registration_access_token',
  'client_assertion',
  'assertion',
  'subject_token',
  'actor_token',
  'device_code',
  'password',
  'token',
]);

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Bodies are shown up to this many characters (a login page says enough in its first few KB). */
export const MAX_SHOWN_BODY = 8 * 1024;

/** Secrets shorter than this are not searched for in free text (they would match by chance). */
const MIN_SCRUBBED_LENGTH = 6;

export function redacted(secret: string): string {
  return `[redacted ${fingerprint(secret)}]`;
}

/**
 * Knows every secret the flow has handled (tokens, code, verifier, client secret, config header
 * values, the server URL's query values) and removes each from whatever text it is given.
 */
export class Redactor {
  private readonly secrets = new Set<string>();
  /** Header names from the user's config: sent, never shown. */
  private readonly configHeaders = new Set<string>();
  /** URLs whose query came from the user's config: shown with every query value masked. */
  private readonly configUrls = new Set<string>();

  constructor(config: { headers?: Record<string, string>; serverUrl?: string } = {}) {
    for (const [name, value] of Object.entries(config.headers ?? {})) {
      this.configHeaders.add(name.toLowerCase());
      this.remember(value);
    }
    if (config.serverUrl && URL.canParse(config.serverUrl)) {
      const u = new URL(config.serverUrl);
      this.configUrls.add(`${u.origin}${u.pathname}`);
      for (const v of u.searchParams.values()) this.remember(v);
      if (u.password) this.remember(decodeURIComponent(u.password));
    }
  }

  /** Remembers a secret so it is scrubbed from any later text. */
  remember(...values: (string | undefined)[]): void {
    for (const v of values) if (v && v.length >= MIN_SCRUBBED_LENGTH) this.secrets.add(v);
  }

  /** Every known secret in `text` replaced by its fingerprint (longest first, so none is cut in half). */
  text(text: string): string {
    let out = text;
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) {
      if (out.includes(s)) out = out.split(s).join(redacted(s));
      // The same secret as it appears inside a URL or form body.
      const encoded = encodeURIComponent(s);
      if (encoded !== s && out.includes(encoded)) out = out.split(encoded).join(redacted(s));
    }
    return out;
  }

  /** A URL for display: a config URL's query masked whole (it may hold an API key); elsewhere only secret parameters. */
  url(raw: string): string {
    if (!URL.canParse(raw)) return this.text(raw.split(/[?#]/)[0] ?? '');
    const u = new URL(raw);
    if (this.configUrls.has(`${u.origin}${u.pathname}`) && u.search) return this.text(redactUrl(raw));
    u.hash = '';
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    for (const [name, value] of [...u.searchParams.entries()]) {
      if (SECRET_PARAMS.has(name)) {
        this.remember(value);
        u.searchParams.set(name, redacted(value));
      }
    }
    return this.text(u.href.replace(/%5Bredacted\+(sha256%3A[0-9a-f]+)%5D/g, (_m, fp: string) => `[redacted ${decodeURIComponent(fp)}]`));
  }

  headers(headers: Headers | Record<string, string> | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers ?? {});
    let count = 0;
    for (const [rawName, value] of entries) {
      if (count++ >= 64) break;
      const name = rawName.toLowerCase();
      if (name === 'authorization' || name === 'proxy-authorization') {
        const [scheme, credentials] = splitScheme(value);
        this.remember(credentials);
        out[name] = credentials ? `${scheme} ${redacted(credentials)}` : '[redacted]';
      } else if (SECRET_HEADERS.has(name) || this.configHeaders.has(name)) {
        this.remember(value);
        out[name] = value ? redacted(value) : '[redacted]';
      } else {
        out[name] = this.text(value.length > 1024 ? `${value.slice(0, 1024)}…` : value);
      }
    }
    return out;
  }

  /** A request or response body for display: JSON and form bodies field by field, anything else scrubbed and capped. */
  body(text: string | undefined, contentType: string | undefined): string | undefined {
    if (text === undefined || text === '') return undefined;
    const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const trimmed = text.trimStart();
    if (type.includes('json') || trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        return cap(this.text(JSON.stringify(this.json(JSON.parse(text) as unknown, 0), null, 2)));
      } catch {
        // Not JSON after all: shown as text below.
      }
    }
    if (type === 'application/x-www-form-urlencoded') {
      const params = new URLSearchParams(text);
      const lines: string[] = [];
      for (const [name, value] of params) {
        if (SECRET_PARAMS.has(name)) this.remember(value);
        lines.push(`${name}=${SECRET_PARAMS.has(name) ? redacted(value) : value}`);
      }
      return cap(this.text(lines.join('\n')));
    }
    return cap(this.text(text));
  }

  private json(value: unknown, depth: number): unknown {
    if (depth > 32) return '…';
    if (Array.isArray(value)) return value.slice(0, 200).map((v) => this.json(v, depth + 1));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        if (SECRET_PARAMS.has(k) && typeof v === 'string') {
          this.remember(v);
          out[k] = redacted(v);
        } else {
          out[k] = this.json(v, depth + 1);
        }
      }
      return out;
    }
    return value;
  }
}

function splitScheme(value: string): [string, string] {
  const i = value.indexOf(' ');
  return i < 0 ? ['', value] : [value.slice(0, i), value.slice(i + 1).trim()];
}

function cap(text: string): string {
  return text.length > MAX_SHOWN_BODY ? `${text.slice(0, MAX_SHOWN_BODY)}\n… (${text.length - MAX_SHOWN_BODY} more characters not shown)` : text;
}

/** A fetch that records each exchange into `sink` (redacted), and HttpSettings around it. */
export interface Recording {
  http: HttpSettings;
  /** Resolves once every recorded response body has been read by its caller (or after the request timeout). */
  settled(): Promise<void>;
}

/** Statuses whose Response may not carry a body (Fetch standard "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * Wraps `http.fetch`. The response body is recorded as the caller reads it (a pass-through
 * stream), so the caller's own reading and limits are untouched and nothing is read that the
 * caller did not read: a body it discards is recorded as none, one it cuts after the first SSE
 * event as that event.
 */
export function recordingHttp(http: HttpSettings, redactor: Redactor, sink: (e: RecordedExchange, rawUrl: string) => void): Recording {
  const pending: Promise<void>[] = [];
  const fetch: FetchLike = async (input, init) => {
    const started = performance.now();
    const href = typeof input === 'string' ? input : input.href;
    const requestHeaders = new Headers(init?.headers);
    const requestBody = bodyText(init?.body);
    const entry: RecordedExchange = {
      direction: 'outgoing',
      method: (init?.method ?? 'GET').toUpperCase(),
      url: '',
      requestHeaders: {},
      responseHeaders: {},
      outcome: 'ok',
      ms: 0,
    };
    // Headers and body first: they teach the redactor the secrets the URL text may repeat.
    entry.requestHeaders = redactor.headers(requestHeaders);
    const shownBody = redactor.body(requestBody, requestHeaders.get('content-type') ?? undefined);
    if (shownBody !== undefined) entry.requestBody = shownBody;
    entry.url = redactor.url(href);
    let res: Response;
    try {
      res = await http.fetch(input, init);
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      entry.outcome = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timeout' : 'network-error';
      entry.error = redactor.text(e.cause?.code ? `${e.cause.code}: ${e.message}` : e.message);
      entry.ms = Math.round(performance.now() - started);
      sink(entry, href);
      throw err;
    }
    entry.status = res.status;
    entry.outcome = res.status >= 300 && res.status < 400 ? 'redirect' : res.status >= 400 ? 'http-error' : 'ok';
    entry.responseHeaders = redactor.headers(res.headers);
    const contentType = res.headers.get('content-type') ?? undefined;
    if (contentType) entry.contentType = contentType;
    const location = res.headers.get('location');
    if (location) entry.responseHeaders.location = redactor.url(URL.canParse(location, href) ? new URL(location, href).href : location);
    sink(entry, href);
    const finish = (text: string) => {
      const shown = redactor.body(text, contentType);
      if (shown !== undefined) entry.responseBody = shown;
      entry.ms = Math.round(performance.now() - started);
    };
    if (!res.body || NULL_BODY.has(res.status)) {
      finish('');
      return res;
    }
    const tapped = tap(res.body);
    pending.push(within(tapped.done, http.timeoutMs).then(() => finish(tapped.text())));
    return new Response(tapped.stream, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return {
    http: { ...http, fetch },
    settled: async () => {
      while (pending.length) await Promise.all(pending.splice(0));
    },
  };
}

/** A pass-through of `body` that keeps the first MAX_SHOWN_BODY + 1 KB of what is read through it. */
function tap(body: ReadableStream<Uint8Array>): { stream: ReadableStream<Uint8Array>; text: () => string; done: Promise<void> } {
  const decoder = new TextDecoder();
  let text = '';
  const through = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (text.length <= MAX_SHOWN_BODY + 1024) text += decoder.decode(chunk, { stream: true });
      controller.enqueue(chunk);
    },
  });
  // Ends when the caller has read it all, cancelled it, or the request failed; never throws.
  const done = body.pipeTo(through.writable).catch(() => undefined);
  return { stream: through.readable, text: () => text, done };
}

/** `p`, or nothing once `ms` have passed (a body nobody reads is recorded as far as it was read). */
async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

function bodyText(body: RequestInit['body'] | undefined): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  return '[binary body]';
}
