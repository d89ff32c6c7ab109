// A decoy on another loopback origin: a server a well-behaved probe may fetch metadata from but
// must never hand a token. It answers everything 200 with JSON that invites the next step (its
// protected-resource metadata names itself as the authorization server, its AS metadata names its
// own endpoints), so a client that follows a cross-origin redirect or trusts a foreign
// `authorization_servers` entry shows it here: requests() and tokensReceived() record what came.
import type * as http from 'node:http';
import { listenLoopback, readBody, sendJson } from './loopbackServer';

export interface CanaryRequest {
  method: string;
  /** Path only: the query may hold a token and is never kept. */
  path: string;
  hasAuthorization: boolean;
  /** An Authorization header, or `access_token` / `refresh_token` in the query or body. */
  carriesToken: boolean;
}

export interface Canary {
  /** `http://127.0.0.1:<port>`, another origin than the lab's two servers. */
  origin: string;
  requests(): CanaryRequest[];
  /** Requests that carried any Authorization header or an access_token / refresh_token parameter. */
  tokensReceived(): number;
  close(): Promise<void>;
}

const TOKEN_PARAMS = ['access_token', 'refresh_token'];

export async function startCanary(options: { log?: (line: string) => void } = {}): Promise<Canary> {
  const log = options.log ?? (() => undefined);
  const seen: CanaryRequest[] = [];
  const listener = await listenLoopback(
    (req, res) => handle(req, res),
    (err) => log(`canary error: ${String(err)}`),
  );
  const { origin } = listener;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const body = await readBody(req).catch(() => '');
    const hasAuthorization = req.headers.authorization !== undefined;
    const carriesToken = hasAuthorization || TOKEN_PARAMS.some((p) => url.searchParams.has(p)) || bodyCarriesToken(body, req.headers['content-type']);
    seen.push({ method: req.method ?? 'GET', path: url.pathname, hasAuthorization, carriesToken });
    log(`canary ${req.method} ${url.pathname}${carriesToken ? ' (with a token)' : ''}`);
    sendJson(res, 200, temptingAnswer(origin, url.pathname));
  }

  return {
    origin,
    requests: () => seen.map((r) => ({ ...r })),
    tokensReceived: () => seen.filter((r) => r.carriesToken).length,
    close: () => listener.close(),
  };
}

/** RFC 9728 / RFC 8414 / OpenID documents that all lead back here; `{}` elsewhere. */
function temptingAnswer(origin: string, path: string): Record<string, unknown> {
  const prm = '/.well-known/oauth-protected-resource';
  if (path === prm || path.startsWith(`${prm}/`)) {
    return { resource: `${origin}${path.slice(prm.length)}`, authorization_servers: [origin], bearer_methods_supported: ['header'] };
  }
  if (path.includes('/.well-known/oauth-authorization-server') || path.includes('/.well-known/openid-configuration')) {
    return {
      issuer: origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/token`,
      registration_endpoint: `${origin}/register`,
      revocation_endpoint: `${origin}/revoke`,
      jwks_uri: `${origin}/jwks`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
    };
  }
  return {};
}

/**
 * Token parameters in a form or JSON body, by name: a registration's `grant_types: ["refresh_token"]`
 * is a value, not a token, and does not count.
 */
function bodyCarriesToken(body: string, contentType: string | undefined): boolean {
  if (!body) return false;
  if (contentType?.includes('json')) {
    try {
      return hasTokenKey(JSON.parse(body));
    } catch {
      return false;
    }
  }
  const form = new URLSearchParams(body);
  return TOKEN_PARAMS.some((p) => form.has(p));
}

function hasTokenKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasTokenKey);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => TOKEN_PARAMS.includes(k) || hasTokenKey(v));
}
