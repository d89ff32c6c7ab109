// Which OAuth client a login uses, in the MCP spec's order (2025-11-25 / 2026-07-28 §Client
// Registration Approaches): a pre-registered client, or the one the client already registered and
// stored (reused while the authorization server still accepts it, so no registration is orphaned:
// seed 004, anthropics/claude-code#84614), then Client ID Metadata Documents, then Dynamic Client
// Registration (RFC 7591) as a native app. Whether the AS still accepts a client id with a redirect
// URI is asked without credentials: a GET of the authorization URL, redirects not followed, no
// cookies (failure modes C3/E6) — the login page means yes, an error page no.
import * as oauth from 'oauth4webapi';
import * as z from 'zod';
import { CLIENT_LABELS, type ClientId } from '../model';
import type { HttpSettings } from '../probe/http';
import { describeRefusal, refusalFor } from '../probe/urls';
import { classifyTokenError, requestOptionsFor, type TokenEndpointAuthMethod, type TokenEndpointError } from './tokenClient';

/** `metadata-document`: the client's own Client ID Metadata Document URL as client_id (nothing registered). */
export type ClientSource = 'stored' | 'configured' | 'registered' | 'metadata-document';

export interface LoginClient {
  clientId: string;
  clientSecret?: string;
  source: ClientSource;
  /** The method the registration response named (RFC 7591 §3.2.1); otherwise chosen from the AS metadata. */
  authMethod?: TokenEndpointAuthMethod;
}

export interface AuthorizationParameters {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state: string;
  /** RFC 8707: sent on the authorization and the token request (MCP 2025-06-18 on). */
  resource: string;
  scopes?: string[];
}

/**
 * The authorization URL, built only from validated metadata: the endpoint must be https, or http
 * to a loopback host, and carry no credentials (best practices §Authorization URL Validation;
 * a javascript:/file: URL never reaches a browser). PKCE S256 always.
 */
export function authorizationUrl(as: oauth.AuthorizationServer, p: AuthorizationParameters): { ok: true; url: URL } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(String(as.authorization_endpoint ?? ''));
  } catch {
    return { ok: false, reason: 'the authorization server publishes no usable authorization_endpoint' };
  }
  const refusal = refusalFor(url);
  if (refusal) return { ok: false, reason: `the authorization endpoint ${url.origin}${url.pathname} is refused: ${describeRefusal(refusal)}` };
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', p.clientId);
  url.searchParams.set('redirect_uri', p.redirectUri);
  url.searchParams.set('code_challenge', p.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', p.state);
  url.searchParams.set('resource', p.resource);
  if (p.scopes?.length) url.searchParams.set('scope', p.scopes.join(' '));
  return { ok: true, url };
}

/**
 * The scopes a login asks for: the discovered ones (challenge, else the resource's
 * scopes_supported), plus offline_access when the AS lists it, so a refresh token is issued
 * (2026-07-28 §Refresh Tokens, SEP-2207: MAY, and only when listed). With no scopes, scope is
 * omitted altogether (§Scope Selection Strategy).
 */
export function scopesToRequest(as: oauth.AuthorizationServer, discovered: string[] | undefined): string[] | undefined {
  if (!discovered?.length) return undefined;
  const out = [...new Set(discovered)];
  if (as.scopes_supported?.includes('offline_access') && !out.includes('offline_access')) out.push('offline_access');
  return out;
}

/** accepted: the AS goes on to its login page (or straight back with a code); the other verdicts name why not. */
export type PrecheckVerdict = 'accepted' | 'unknown-client' | 'redirect-rejected' | 'rejected' | 'unknown';

export interface Precheck {
  verdict: PrecheckVerdict;
  /** What was seen, e.g. `GET /authorize → 303 to /interaction/…`, `GET /auth → 400 invalid_redirect_uri`; never a secret. */
  evidence: string;
}

const ERROR_WORDS = /\b(invalid[_ ]client|unknown[_ ]client|client[_ ]not[_ ]found|invalid[_ ]redirect[_ ]uri|redirect[_ ]uri[_ ]mismatch|unauthorized[_ ]client)\b/i;

/**
 * E6: would the AS start a login for this client id and redirect URI? One GET, no cookies,
 * redirects not followed, a throwaway PKCE challenge and state (the code, if an AS hands one out
 * at once, is never exchanged). The AS must not redirect an unknown client or an unregistered
 * redirect URI back (RFC 6749 §4.1.2.1), so any redirect means both are accepted.
 */
export async function precheckClient(http: HttpSettings, as: oauth.AuthorizationServer, p: Omit<AuthorizationParameters, 'codeChallenge' | 'state'>): Promise<Precheck> {
  const built = authorizationUrl(as, { ...p, codeChallenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()), state: oauth.generateRandomState() });
  if (!built.ok) return { verdict: 'unknown', evidence: built.reason };
  const where = `GET ${built.url.pathname}`;
  let res: Response;
  try {
    res = await http.fetch(built.url, { redirect: 'manual', signal: AbortSignal.timeout(http.timeoutMs), headers: { accept: 'text/html,application/json' } });
  } catch (err) {
    return { verdict: 'unknown', evidence: `${where}: no answer (${(err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message})` };
  }
  const location = res.headers.get('location');
  if (res.status >= 300 && res.status < 400 && location) {
    await res.body?.cancel();
    let target: URL | undefined;
    try {
      target = new URL(location, built.url);
    } catch {
      target = undefined;
    }
    const error = target?.searchParams.get('error');
    if (error === 'unauthorized_client') return { verdict: 'rejected', evidence: `${where} → ${res.status} back to the redirect URI with error=unauthorized_client` };
    return { verdict: 'accepted', evidence: `${where} → ${res.status} to ${target ? `${target.origin}${target.pathname}` : 'a login page'}${error ? ` (error=${error})` : ''}` };
  }
  const text = await readCapped(res, 64 * 1024);
  const named = ERROR_WORDS.exec(text)?.[1]?.toLowerCase().replace(/ /g, '_');
  if (res.status >= 200 && res.status < 300) {
    // Some ASes render their error page with 200; a login page says none of these words.
    if (!named) return { verdict: 'accepted', evidence: `${where} → ${res.status} (a page, no error named)` };
  } else if (res.status >= 500) {
    return { verdict: 'unknown', evidence: `${where} → ${res.status} (a server error)` };
  }
  const evidence = `${where} → ${res.status}${named ? ` ${named}` : ''}`;
  if (named?.includes('redirect')) return { verdict: 'redirect-rejected', evidence };
  if (named === 'invalid_client' || named === 'unknown_client' || named === 'client_not_found') return { verdict: 'unknown-client', evidence };
  return { verdict: 'rejected', evidence };
}

async function readCapped(res: Response, cap: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < cap) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body that breaks off still says what it said so far.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, cap);
}

/**
 * The name the registration shows on the AS's consent page and client list. We register the
 * client, so the name says so, and for whom: `MCP Auth Doctor (for Claude Code)`. Taking the
 * client's own name ("Claude Code (linear)") would make the consent page and the AS's audit log
 * claim a registration Claude Code never made (seed 004: admins read these names to tell clients
 * apart).
 */
export function registrationName(client: ClientId): string {
  return `MCP Auth Doctor (for ${CLIENT_LABELS[client]})`;
}

/** RFC 7591 §3.2.1, the fields a login uses; the rest passes. */
const RegistrationResponse = z.looseObject({
  client_id: z.string().min(1),
  client_secret: z.string().optional(),
  token_endpoint_auth_method: z.string().optional(),
});

export type RegistrationResult = { ok: true; client: LoginClient } | { ok: false; error: TokenEndpointError };

/**
 * RFC 7591 registration of a native public client for one loopback redirect URI (2026-07-28 /
 * SEP-837: `application_type` MUST be sent; `native` for loopback redirects, which RFC 8252 §7.3
 * lets the AS match on any port). A public client (`none`) because neither client keeps a secret
 * it could use on every refresh (Codex 0.169 stores none); an AS that lists only secret methods
 * gets asked for one of those instead, and whatever the response names is used.
 */
export async function registerClient(
  http: HttpSettings,
  as: oauth.AuthorizationServer,
  r: { client: ClientId; redirectUri: string; scopes?: string[] },
): Promise<RegistrationResult> {
  const supported = as.token_endpoint_auth_methods_supported;
  const method: TokenEndpointAuthMethod =
    !supported?.length || supported.includes('none') ? 'none' : supported.includes('client_secret_basic') ? 'client_secret_basic' : 'client_secret_post';
  const metadata: Partial<oauth.Client> = {
    client_name: registrationName(r.client),
    application_type: 'native',
    redirect_uris: [r.redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: method,
    ...(r.scopes?.length ? { scope: r.scopes.join(' ') } : {}),
  };
  const endpoint = String(as.registration_endpoint);
  try {
    const res = await oauth.dynamicClientRegistrationRequest(as, metadata, requestOptionsFor(endpoint, http));
    // oauth4webapi refuses a secret without client_secret_expires_at (RFC 7591 §3.2.1 REQUIRED),
    // which many ASes leave out, the MCP conformance suite's among them; nothing here uses the
    // expiry, so a successful answer is read by our own schema and only errors go through it.
    const registered = res.status === 200 || res.status === 201 ? RegistrationResponse.parse(await res.json()) : await oauth.processDynamicClientRegistrationResponse(res);
    const named = registered.token_endpoint_auth_method;
    const secret = typeof registered.client_secret === 'string' && registered.client_secret ? registered.client_secret : undefined;
    const authMethod: TokenEndpointAuthMethod | undefined = named === 'none' || named === 'client_secret_basic' || named === 'client_secret_post' ? named : undefined;
    return { ok: true, client: { clientId: registered.client_id, ...(secret ? { clientSecret: secret } : {}), source: 'registered', ...(authMethod ? { authMethod } : {}) } };
  } catch (err) {
    if (err instanceof z.ZodError || err instanceof SyntaxError) {
      return { ok: false, error: { kind: 'invalid-client', transient: false, words: 'the registration endpoint answered without a usable client_id' } };
    }
    const e = await classifyTokenError(err, endpoint, http);
    // RFC 7591 §3.2.2 errors (invalid_redirect_uri, invalid_client_metadata, …) and a refused
    // registration all mean the same to the user: this AS will not register us as asked.
    if (e.kind === 'other' && e.oauthError) return { ok: false, error: { ...e, kind: 'invalid-client', words: `the registration endpoint refused the registration: ${e.words}` } };
    if (e.kind === 'other' && !e.oauthError) return { ok: false, error: { ...e, kind: 'invalid-client', words: `the registration endpoint did not register the client: ${e.words.replace(/token endpoint/g, 'registration endpoint')}` } };
    return { ok: false, error: { ...e, words: e.words.replace(/token endpoint/g, 'registration endpoint') } };
  }
}
