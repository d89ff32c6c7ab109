// The redirect URI a login uses and the loopback listener behind it (RFC 8252 §7.3): which
// host, port and path each client would register, so the tokens and the client registration we
// hand over are ones the client can keep using; and one small bounded HTTP listener that takes
// exactly one callback, answers it with a plain page (no code, no token in it) and closes.
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readCodexSettings } from '../config/codexClientSettings';
import type { Environment } from '../environment';
import type { ClientId, McpServer } from '../model';
import { isLoopbackHost } from '../probe/urls';

/** Client-wide callback settings (not per server): Claude Code's env, Codex's config.toml top level. */
export interface ClientCallbackSettings {
  port?: number;
  /** Codex `mcp_oauth_callback_url`: the redirect URI sent instead of the listener's address. */
  url?: string;
  /** Claude Code `MCP_OAUTH_CLIENT_METADATA_URL`: its Client ID Metadata Document instead of the published one. */
  clientMetadataUrl?: string;
}

/**
 * Claude Code 2.1.197 and 2.1.332: `MCP_OAUTH_CALLBACK_PORT` (a positive integer up to 65535; read
 * from the shipped binaries, function around `Using redirect port`) and, 2.1.332,
 * `MCP_OAUTH_CLIENT_METADATA_URL` (`ot()` in the binary). Codex 0.169: `mcp_oauth_callback_port` and
 * `mcp_oauth_callback_url` at the top of config.toml (codex-rs config_toml.rs).
 */
export async function clientCallbackSettings(e: Environment, client: ClientId): Promise<ClientCallbackSettings> {
  if (client === 'claude-code') {
    const port = Number.parseInt(e.env.MCP_OAUTH_CALLBACK_PORT ?? '', 10);
    const clientMetadataUrl = e.env.MCP_OAUTH_CLIENT_METADATA_URL?.trim();
    return { ...(port > 0 && port < 65536 ? { port } : {}), ...(clientMetadataUrl ? { clientMetadataUrl } : {}) };
  }
  const s = await readCodexSettings(e);
  return { ...(s.callbackPort ? { port: s.callbackPort } : {}), ...(s.callbackUrl ? { url: s.callbackUrl } : {}) };
}

/**
 * One redirect URI to try: the URI itself once the port is known, where to listen, and why this
 * one. `port: 0` means any free port (the URI is made once the listener has one).
 */
export interface RedirectChoice {
  /** The redirect URI's host as the client writes it (`localhost` for Claude Code, `127.0.0.1` for Codex). */
  host: string;
  port: number;
  path: string;
  /** A configured redirect URI sent as is (Codex callback_url); otherwise built from host, port, path. */
  fixedUri?: string;
  /** For people: `configured oauth.callbackPort`, `the port the stored client was registered with`, `any free port`. */
  why: string;
}

export function redirectUriOf(choice: RedirectChoice, port = choice.port): string {
  if (choice.fixedUri) return choice.fixedUri;
  const host = choice.host.includes(':') && !choice.host.startsWith('[') ? `[${choice.host}]` : choice.host;
  return `http://${host}:${port}${choice.path}`;
}

/**
 * Claude Code's fallback redirect port (3118 in 2.1.197 and 2.1.332). 2.1.197 registered its
 * client on it when it connected without a login (`claude mcp list`), so stores it wrote hold
 * clients bound to it; 2.1.332 registers only at login time, on a random free port
 * (49152–65535; 39152–49151 on Windows) and falls back to 3118 only when none is free.
 */
export const CLAUDE_DEFAULT_CALLBACK_PORT = 3118;

/**
 * Where a login may listen: `reuse` lists every redirect URI an existing client may have been
 * registered with, most likely first (each is pre-checked at the AS before use); `register` is the
 * one a new registration gets: the one the client itself would use next time.
 */
export interface RedirectChoices {
  reuse: RedirectChoice[];
  register: RedirectChoice;
}

/**
 * Claude Code 2.1.197 and 2.1.332 send `http://localhost:<port>/callback` (host `localhost`, the
 * listener bound to 127.0.0.1: `vls` / `Wao` in 2.1.332, and its `claude mcp login` printed
 * `redirect_uri=http%3A%2F%2Flocalhost%3A<port>%2Fcallback` at the lab; no 127.0.0.1 redirect was
 * found in either build), port = the server's `oauth.callbackPort`, else MCP_OAUTH_CALLBACK_PORT,
 * else the port of the redirect URI its client was registered with (entry `redirectUri`) when
 * free, else a random one. 2.1.332 re-registers at its own login when the stored `redirectUri`
 * differs from the one it will send ("Cached client_id was registered for …"), so the stored URI is
 * reused exactly as written, never rebuilt. A client 2.1.197 registered while only connecting
 * (`claude mcp list`) has the fallback port 3118. Codex 0.169 sends `callback_url` when set, else
 * `http://127.0.0.1:<port>/callback`, port = `oauth.callback_port`, else
 * `mcp_oauth_callback_port`, else a random one (seen at the lab; newer Codex appends a callback id
 * to the path, 0.169 does not). A configured port or URL is what a new registration gets: the
 * client would listen nowhere else.
 */
export function redirectChoicesFor(server: McpServer, settings: ClientCallbackSettings, storedRedirectUri?: string): RedirectChoices | { refused: string } {
  const free = (host: string): RedirectChoice => ({ host, port: 0, path: '/callback', why: 'a free loopback port' });
  const add = (list: RedirectChoice[], c: RedirectChoice) => {
    if (!list.some((o) => redirectUriOf(o) === redirectUriOf(c) && o.port !== 0)) list.push(c);
  };
  if (server.client === 'claude-code') {
    const port = server.oauth?.callbackPort ?? settings.port;
    const configured: RedirectChoice | undefined = port
      ? { host: 'localhost', port, path: '/callback', why: server.oauth?.callbackPort ? 'the configured oauth.callbackPort' : 'MCP_OAUTH_CALLBACK_PORT' }
      : undefined;
    const reuse: RedirectChoice[] = configured ? [configured] : [];
    const stored = parseLoopbackUri(storedRedirectUri);
    if (stored) {
      // Byte for byte as stored (fixedUri): the AS compares the redirect URI as a string.
      add(reuse, { host: stored.hostname, port: Number(stored.port), path: stored.pathname, fixedUri: storedRedirectUri!, why: 'the redirect URI the stored client was registered with' });
    }
    // Only a store written by 2.1.197 (or a 2.1.332 with no free port) holds a client on 3118.
    if (!storedRedirectUri) add(reuse, { host: 'localhost', port: CLAUDE_DEFAULT_CALLBACK_PORT, path: '/callback', why: "Claude Code's fallback port, on which 2.1.197 registered its client while listing servers" });
    const register = configured ?? free('localhost');
    if (!configured) reuse.push(register);
    return { reuse, register };
  }
  const url = server.oauth?.callbackUrl ?? settings.url;
  const port = server.oauth?.callbackPort ?? settings.port;
  if (url) {
    const loopback = parseLoopbackUri(url);
    if (loopback) {
      const c = { host: loopback.hostname, port: Number(loopback.port), path: loopback.pathname, fixedUri: url, why: 'the configured callback_url' };
      return { reuse: [c], register: c };
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      return { refused: `the configured callback_url "${url}" is not a URL` };
    }
    // A forwarded callback (e.g. a dev container's port forward) reaches the listener on callback_port.
    if (!port) return { refused: `the configured callback_url ${parsed.origin} is not loopback and no callback_port says where it is forwarded to` };
    const c = { host: '127.0.0.1', port, path: parsed.pathname || '/', fixedUri: url, why: 'the configured callback_url, forwarded to callback_port' };
    return { reuse: [c], register: c };
  }
  if (port) {
    const c = { host: '127.0.0.1', port, path: '/callback', why: server.oauth?.callbackPort ? 'the configured oauth.callback_port' : 'mcp_oauth_callback_port' };
    return { reuse: [c], register: c };
  }
  const c = free('127.0.0.1');
  return { reuse: [c], register: c };
}

/** An explicit-port http URL on a loopback host, else undefined. */
function parseLoopbackUri(uri: string | undefined): URL | undefined {
  if (!uri) return undefined;
  try {
    const u = new URL(uri);
    return u.protocol === 'http:' && isLoopbackHost(u.hostname) && u.port ? u : undefined;
  } catch {
    return undefined;
  }
}

/** What the page in the user's browser says once the login is decided. */
export interface CallbackAnswer {
  ok: boolean;
  /** One or two sentences, plain text; never a code, token or secret. */
  message: string;
}

export interface RedirectListener {
  redirectUri: string;
  port: number;
  /**
   * The first callback on the redirect path that carries `code` or `error`: its full URL, and a
   * function that answers the browser (call it once the login is decided; it is answered with a
   * failure page on its own if never called within `answerTimeoutMs`).
   */
  callback: Promise<{ url: URL; answer: (a: CallbackAnswer) => void }>;
  close(): Promise<void>;
}

export class RedirectTimeout extends Error {
  override name = 'RedirectTimeout';
}
export class RedirectCancelled extends Error {
  override name = 'RedirectCancelled';
}
export class RedirectPortBusy extends Error {
  override name = 'RedirectPortBusy';
}

export interface ListenOptions {
  /** How long to wait for the browser to come back (default 5 min, as Codex waits). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Answer the browser with a failure page if the login has not decided within this time (default 30 s). */
  answerTimeoutMs?: number;
  /** Requests the listener serves in all before it stops answering (favicon, prefetch, the callback). */
  maxRequests?: number;
}

const DEFAULT_WAIT_MS = 5 * 60_000;

/**
 * Listens on 127.0.0.1 (and ::1 too when the URI says `localhost`, which a browser may resolve
 * either way) at the choice's port. Only GET on the exact redirect path with `code` or `error`
 * counts; anything else gets 404/400 and the listener keeps waiting. After the one callback, on
 * timeout or on cancellation it stops accepting and closes.
 */
export async function listenForRedirect(choice: RedirectChoice, options: ListenOptions = {}): Promise<RedirectListener> {
  const servers: http.Server[] = [];
  let settled = false;
  let served = 0;
  let resolveCallback!: (v: { url: URL; answer: (a: CallbackAnswer) => void }) => void;
  let rejectCallback!: (e: Error) => void;
  const callback = new Promise<{ url: URL; answer: (a: CallbackAnswer) => void }>((resolve, reject) => {
    resolveCallback = resolve;
    rejectCallback = reject;
  });
  // Nobody may be awaiting yet (the browser is still being opened); the rejection is still seen later.
  callback.catch(() => undefined);
  // Set once listening; close() may run before that (a port that cannot be bound).
  const wait: { timer?: NodeJS.Timeout } = {};
  let redirectUri = '';

  const close = async () => {
    if (wait.timer) clearTimeout(wait.timer);
    options.signal?.removeEventListener('abort', onAbort);
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  };
  const fail = (err: Error) => {
    if (settled) return;
    settled = true;
    rejectCallback(err);
    void close();
  };
  const onAbort = () => fail(new RedirectCancelled('the login was cancelled'));

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    served++;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (settled || served > (options.maxRequests ?? 20)) return page(res, 410, { ok: false, message: 'This login is over. You can close this window.' });
    if (req.method !== 'GET' || url.pathname !== choice.path) return page(res, 404, { ok: false, message: 'Nothing here.' });
    if (!url.searchParams.has('code') && !url.searchParams.has('error')) {
      return page(res, 400, { ok: false, message: 'This is not an OAuth callback (no code, no error). The login is still waiting.' });
    }
    settled = true;
    if (wait.timer) clearTimeout(wait.timer);
    let answered = false;
    const answer = (a: CallbackAnswer) => {
      if (answered) return;
      answered = true;
      clearTimeout(fallback);
      page(res, a.ok ? 200 : 400, a);
      void close();
    };
    const fallback = setTimeout(() => answer({ ok: false, message: 'MCP Auth Doctor did not finish the login in time. See its output for why.' }), options.answerTimeoutMs ?? 30_000);
    resolveCallback({ url: new URL(req.url ?? '/', redirectUri), answer });
  };

  const hosts = choice.host === 'localhost' ? ['127.0.0.1', '::1'] : [choice.host === '[::1]' || choice.host === '::1' ? '::1' : '127.0.0.1'];
  let port = choice.port;
  for (const [i, host] of hosts.entries()) {
    const server = http.createServer(handler);
    server.on('error', () => undefined);
    try {
      server.listen({ host, port, exclusive: true });
      await once(server, 'listening');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ::1 beside 127.0.0.1 is a courtesy: a machine without IPv6 loopback still works.
      if (i > 0) continue;
      await close();
      if (code === 'EADDRINUSE' || code === 'EACCES') {
        throw new RedirectPortBusy(`port ${port} on ${host} is in use or not allowed (${choice.why}); close what holds it (perhaps the client's own login waiting there) and try again`);
      }
      throw err;
    }
    servers.push(server);
    port = (server.address() as AddressInfo).port;
  }
  redirectUri = redirectUriOf(choice, port);
  wait.timer = setTimeout(() => fail(new RedirectTimeout(`no answer from the browser within ${Math.round((options.timeoutMs ?? DEFAULT_WAIT_MS) / 1000)} s`)), options.timeoutMs ?? DEFAULT_WAIT_MS);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return { redirectUri, port, callback, close };
}

/** A free port on 127.0.0.1 right now (for a plan, which names a redirect URI without listening). */
export async function freeLoopbackPort(): Promise<number> {
  const server = http.createServer();
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function page(res: http.ServerResponse, status: number, a: CallbackAnswer): void {
  const title = a.ok ? 'Logged in' : 'Login not completed';
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>MCP Auth Doctor: ${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}</style></head>
<body><h1>${a.ok ? '✔' : '✘'} ${title}</h1><p>${escapeHtml(a.message)}</p><p>You can close this window.</p></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    connection: 'close',
  });
  res.end(body);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/**
 * What to tell the user when our own login runs in a remote window and VS Code forwards its
 * loopback callback (`asExternalUri`) somewhere the browser's redirect does not go: the
 * authorization server sends the browser back to `redirectUri` exactly. Undefined when the
 * forward keeps the same loopback port (Remote-SSH and WSL usually do), or in a local window.
 */
export function forwardedCallbackNote(redirectUri: string, external: string, remoteName: string | undefined, handOff: string | undefined): string | undefined {
  if (remoteName === undefined) return undefined;
  const want = new URL(redirectUri);
  const got = new URL(external);
  const loopback = (h: string) => h === 'localhost' || h === '127.0.0.1' || h === '[::1]';
  if (loopback(got.hostname) && got.port === want.port && got.protocol === want.protocol) return undefined;
  const instead = handOff ? `cancel and use "${handOff}" (its --no-browser login takes the pasted address)` : 'cancel, and log in with the client itself on that host';
  const reached = `${got.origin}${got.pathname}`.replace(/\/$/, '');
  return `this window runs on a remote host (${remoteName}): the browser returns to ${want.origin}, which VS Code reaches only as ${reached}; if the browser cannot open ${want.origin}, ${instead}`;
}
