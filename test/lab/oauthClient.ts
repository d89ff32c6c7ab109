// A minimal OAuth client for tests, speaking to the lab the way an MCP client does: dynamic
// registration (RFC 7591), authorization code with PKCE S256 and a resource indicator
// (RFC 7636, RFC 8707), code exchange and refresh. Each step returns what the server said, so a
// test can assert on failures (a rotated-out refresh token) as well as successes.
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { followAuthorization } from './approve';

export const AuthorizationServerMetadata = z.looseObject({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  registration_endpoint: z.string().optional(),
  introspection_endpoint: z.string().optional(),
  jwks_uri: z.string().optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
});
export type AuthorizationServerMetadata = z.infer<typeof AuthorizationServerMetadata>;

export const TokenResponse = z.looseObject({
  access_token: z.string(),
  token_type: z.string(),
  expires_in: z.number().optional(),
  refresh_token: z.string().optional(),
  scope: z.string().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

export interface TokenResult {
  status: number;
  /** The token response when the server returned one. */
  tokens?: TokenResponse;
  /** `error` of an RFC 6749 error response. */
  error?: string;
  errorDescription?: string;
}

export async function discover(issuer: string): Promise<AuthorizationServerMetadata> {
  const res = await fetch(new URL('/.well-known/oauth-authorization-server', issuer), { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`RFC 8414 metadata: HTTP ${res.status}`);
  return AuthorizationServerMetadata.parse(await res.json());
}

export async function registerClient(
  metadata: AuthorizationServerMetadata,
  client: { redirect_uris: string[]; client_name?: string; grant_types?: string[]; token_endpoint_auth_method?: string },
): Promise<{ client_id: string }> {
  if (!metadata.registration_endpoint) throw new Error('the authorization server advertises no registration_endpoint');
  const res = await fetch(metadata.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], ...client }),
    signal: AbortSignal.timeout(5000),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`registration: HTTP ${res.status} ${JSON.stringify(body)}`);
  return z.looseObject({ client_id: z.string() }).parse(body);
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scope?: string;
  resource?: string;
  state: string;
  codeChallenge: string;
}

export function authorizationUrl(metadata: AuthorizationServerMetadata, r: AuthorizationRequest): string {
  const url = new URL(metadata.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: r.clientId,
    redirect_uri: r.redirectUri,
    state: r.state,
    code_challenge: r.codeChallenge,
    code_challenge_method: 'S256',
    ...(r.scope ? { scope: r.scope } : {}),
    ...(r.resource ? { resource: r.resource } : {}),
  }).toString();
  return url.href;
}

export async function tokenRequest(metadata: AuthorizationServerMetadata, params: Record<string, string>): Promise<TokenResult> {
  const res = await fetch(metadata.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(5000),
  });
  const body: unknown = await res.json().catch(() => undefined);
  const tokens = TokenResponse.safeParse(body);
  if (res.ok && tokens.success) return { status: res.status, tokens: tokens.data };
  const err = z.looseObject({ error: z.string(), error_description: z.string().optional() }).safeParse(body);
  return { status: res.status, error: err.success ? err.data.error : 'unparseable response', errorDescription: err.success ? err.data.error_description : undefined };
}

export function refreshRequest(metadata: AuthorizationServerMetadata, clientId: string, refreshToken: string, resource?: string): Promise<TokenResult> {
  return tokenRequest(metadata, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken, ...(resource ? { resource } : {}) });
}

/** Runs the whole code flow for a registered public client and returns the token response. */
export async function authorizationCodeFlow(
  metadata: AuthorizationServerMetadata,
  r: { clientId: string; redirectUri: string; scope?: string; resource?: string },
): Promise<TokenResult> {
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(12).toString('base64url');
  const redirect = new URL(await followAuthorization(authorizationUrl(metadata, { ...r, state, codeChallenge: challenge })));
  const error = redirect.searchParams.get('error');
  if (error) return { status: 0, error, errorDescription: redirect.searchParams.get('error_description') ?? undefined };
  if (redirect.searchParams.get('state') !== state) throw new Error('authorization response state does not match');
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error(`authorization response has no code: ${redirect.origin}${redirect.pathname}`);
  return tokenRequest(metadata, {
    grant_type: 'authorization_code',
    client_id: r.clientId,
    code,
    redirect_uri: r.redirectUri,
    code_verifier: verifier,
    ...(r.resource ? { resource: r.resource } : {}),
  });
}
