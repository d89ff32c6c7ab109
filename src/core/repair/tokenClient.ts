// What every repair that talks to a token endpoint shares (refresh, login): how the stored client
// authenticates, how oauth4webapi goes onto the network (the caller's fetch, a timeout that covers
// the body, plain http only to loopback), and what an error answer means for the user.
import * as oauth from 'oauth4webapi';
import type { HttpSettings } from '../probe/http';
import { describeRefusal, isLoopbackHost, refusalFor } from '../probe/urls';
import type { RepairErrorKind } from './types';
import { fingerprint } from '../storageKey';

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

export interface TokenEndpointClient {
  client: oauth.Client;
  auth: oauth.ClientAuth;
  method: TokenEndpointAuthMethod;
}

/**
 * How the stored client authenticates at the token endpoint. A public client (no secret) sends
 * only client_id. With a secret: client_secret_basic when the AS lists it or lists nothing (RFC
 * 8414 §2: the default), else client_secret_post when listed; the MCP TS SDK's
 * selectClientAuthMethod prefers them in the same order.
 */
export function clientAuthFor(as: oauth.AuthorizationServer, clientId: string, clientSecret?: string): TokenEndpointClient {
  if (!clientSecret) {
    return { client: { client_id: clientId, token_endpoint_auth_method: 'none' }, auth: oauth.None(), method: 'none' };
  }
  const supported = as.token_endpoint_auth_methods_supported;
  const method: TokenEndpointAuthMethod =
    !supported?.length || supported.includes('client_secret_basic') || !supported.includes('client_secret_post') ? 'client_secret_basic' : 'client_secret_post';
  return {
    client: { client_id: clientId, token_endpoint_auth_method: method },
    auth: method === 'client_secret_basic' ? formEncodedBasic(clientSecret) : oauth.ClientSecretPost(clientSecret),
    method,
  };
}

/**
 * client_secret_basic with RFC 6749 §2.3.1's application/x-www-form-urlencoded encoding of id and
 * secret, as WHATWG URLSearchParams does it. oauth4webapi's ClientSecretBasic also escapes
 * `-_.!~*'()`, which a decoding AS undoes but one that compares the raw Basic credentials does not
 * (the MCP conformance suite's AS, for one, saw `pre%2Dregistered%2Dclient`).
 */
export function formEncodedBasic(clientSecret: string): oauth.ClientAuth {
  const encode = (v: string) => new URLSearchParams({ v }).toString().slice(2);
  return (_as, client, _body, headers) => {
    headers.set('authorization', `Basic ${Buffer.from(`${encode(client.client_id)}:${encode(clientSecret)}`).toString('base64')}`);
  };
}

/** Plain http is allowed only to a loopback host (127.0.0.0/8, ::1, localhost), as the probe allows it. */
export function allowLoopbackHttp(url: string | URL | undefined): boolean {
  if (url === undefined) return false;
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return false;
  }
  return u.protocol === 'http:' && isLoopbackHost(u.hostname);
}

/** A repair request not sent: the URL an authorization server gave is one the probe would refuse too. */
export class RefusedRequest extends Error {
  override readonly name = 'RefusedRequest';
}

/**
 * oauth4webapi request options for one request to `url`: the caller's fetch (proxy-aware in the
 * CLI and the editor), a fresh timeout per request that also ends a stalled body (the signal
 * reaches fetch), and http permitted only when `url` is loopback. Every request, whatever
 * endpoint the metadata named, passes the probe's URL rules first: a token or registration
 * endpoint at a link-local address (cloud metadata) or with credentials in it gets nothing.
 */
export function requestOptionsFor(url: string | URL | undefined, http: HttpSettings): { [oauth.customFetch]: typeof fetch; [oauth.allowInsecureRequests]?: boolean; signal: () => AbortSignal } {
  return {
    [oauth.customFetch]: (async (input: string | URL, init?: RequestInit) => {
      const target = new URL(String(input));
      const refusal = refusalFor(target);
      if (refusal) throw new RefusedRequest(`${target.origin} was not contacted: ${describeRefusal(refusal)}`);
      return http.fetch(input, init);
    }) as typeof fetch,
    ...(allowLoopbackHttp(url) ? { [oauth.allowInsecureRequests]: true } : {}),
    signal: () => AbortSignal.timeout(http.timeoutMs),
  };
}

export interface TokenEndpointError {
  kind: RepairErrorKind;
  /** RFC 6749 §5.2 `error`, when the AS sent one. */
  oauthError?: string;
  status?: number;
  /** The AS's error_description, shortened and stripped of control characters (it is the AS's text, not ours). */
  description?: string;
  /** A later try may work (timeouts, 5xx, temporarily_unavailable); nothing about the grant is known to be wrong. */
  transient: boolean;
  /** No answer in time: the server may or may not have acted on the request. */
  timedOut?: boolean;
  /** One sentence, never a secret. */
  words: string;
}

/**
 * What a failed token request means. RFC 6749 §5.2: invalid_grant (the refresh token or code is
 * revoked, expired or already used), invalid_client (the AS does not know or accept the client;
 * 401), invalid_scope, unauthorized_client; 5xx and temporarily_unavailable are transient.
 */
export async function classifyTokenError(err: unknown, url: string, http: HttpSettings): Promise<TokenEndpointError> {
  if (err instanceof oauth.ResponseBodyError) return fromOAuthError(err.error, err.status, err.error_description);
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    // A 401 with a challenge (Basic realm=…): the body may still name the error.
    const body = await readErrorBody(err.response);
    const fromChallenge = err.cause.find((c) => typeof c.parameters.error === 'string')?.parameters.error;
    return fromOAuthError(body?.error ?? fromChallenge ?? (err.status === 401 ? 'invalid_client' : 'invalid_request'), err.status, body?.error_description);
  }
  if (err instanceof oauth.OperationProcessingError) {
    const status = err.cause instanceof Response ? err.cause.status : undefined;
    if (status !== undefined && status >= 500) {
      return { kind: 'network', status, transient: true, words: `the token endpoint answered HTTP ${status} (a server error)` };
    }
    if (status === 401) return fromOAuthError('invalid_client', status);
    return { kind: 'other', ...(status !== undefined ? { status } : {}), transient: false, words: `the token endpoint's answer is not a valid token response (${err.message})` };
  }
  if (err instanceof RefusedRequest) return { kind: 'other', transient: false, words: `the token endpoint ${err.message}` };
  const e = err as Error & { cause?: { code?: string; message?: string }; code?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return { kind: 'network', transient: true, timedOut: true, words: `the token endpoint gave no complete answer within ${http.timeoutMs / 1000} s` };
  }
  if (e instanceof TypeError || e?.cause?.code) {
    const code = e.cause?.code ?? e.code;
    const route = http.routeFor ? ` (${http.routeFor(url)})` : '';
    const detail = code && e.cause?.message ? `${code}: ${e.cause.message}` : (code ?? e.cause?.message ?? e.message);
    return { kind: 'network', transient: true, words: `the token endpoint could not be reached (${detail})${route}` };
  }
  return { kind: 'other', transient: false, words: e instanceof Error ? e.message : String(err) };
}

function fromOAuthError(rawError: string, status?: number, description?: unknown): TokenEndpointError {
  const d = cleanDescription(description);
  // The code is the server's words too: a 14,000-character one is cut, not repeated.
  const error = cleanServerWords(rawError, 64) ?? 'an unnamed error';
  const base = { oauthError: error, ...(status !== undefined ? { status } : {}), ...(d ? { description: d } : {}) };
  const said = `the authorization server answered ${error}${d ? ` ("${d}")` : ''}`;
  switch (error) {
    case 'invalid_grant':
      return { ...base, kind: 'invalid-grant', transient: false, words: said };
    case 'invalid_client':
      return { ...base, kind: 'invalid-client', transient: false, words: said };
    case 'invalid_scope':
      return { ...base, kind: 'invalid-scope', transient: false, words: said };
    case 'unauthorized_client':
      return { ...base, kind: 'unauthorized-client', transient: false, words: said };
    case 'temporarily_unavailable':
    case 'server_error':
      return { ...base, kind: 'network', transient: true, words: said };
    default:
      if (status !== undefined && status >= 500) return { ...base, kind: 'network', transient: true, words: said };
      return { ...base, kind: 'other', transient: false, words: said };
  }
}

async function readErrorBody(res: Response | undefined): Promise<{ error?: string; error_description?: string } | undefined> {
  if (!res || res.bodyUsed) return undefined;
  try {
    const json = (await res.json()) as unknown;
    if (typeof json !== 'object' || json === null) return undefined;
    const o = json as Record<string, unknown>;
    return {
      ...(typeof o.error === 'string' ? { error: o.error } : {}),
      ...(typeof o.error_description === 'string' ? { error_description: o.error_description } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Words a server sent, fit to show: any type, control characters out, at most `max` characters,
 * and every run of 16 or more token characters replaced by its fingerprint, since a server may
 * echo the refresh token or code it was sent (we never know which of its words are secret).
 */
export function cleanServerWords(value: unknown, max = 200): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const short = clean.length > max ? `${clean.slice(0, max)}…` : clean;
  return short.replace(/[A-Za-z0-9\-._~+/=]{16,}/g, (run) => (/^https?:|^[a-z_]+$/.test(run) ? run : `[${fingerprint(run)}]`)) || undefined;
}

function cleanDescription(text: unknown): string | undefined {
  return cleanServerWords(text);
}
