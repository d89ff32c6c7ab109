// Decodes the claims of a JWT access token for display and cross-checks only. The signature is
// never verified and the claims are never trusted (the key that would verify them comes from the
// same server that is being diagnosed); a token that is not a JWT is simply opaque.

/** The largest time a JavaScript Date holds (ECMA-262 §21.4.1.1), in seconds. */
const MAX_DATE_SECONDS = 8.64e12;

export interface AccessTokenClaims {
  iss?: string;
  aud: string[];
  /** Epoch milliseconds. */
  exp?: number;
  iat?: number;
  scopes: string[];
  clientId?: string;
}

export function decodeJwtClaims(token: string): AccessTokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const p = payload as Record<string, unknown>;
  // Past ±8.64e15 ms there is no Date (an exp of 1e308 became Infinity and broke every use).
  const seconds = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_DATE_SECONDS ? v * 1000 : undefined);
  const aud = typeof p.aud === 'string' ? [p.aud] : Array.isArray(p.aud) ? p.aud.filter((a): a is string => typeof a === 'string') : [];
  // RFC 9068 uses `scope` (space-separated); Entra and others use `scp` (string or list).
  const rawScope = p.scope ?? p.scp;
  const scopes = typeof rawScope === 'string' ? rawScope.split(' ').filter(Boolean) : Array.isArray(rawScope) ? rawScope.filter((s): s is string => typeof s === 'string') : [];
  const claims: AccessTokenClaims = { aud, scopes };
  if (typeof p.iss === 'string') claims.iss = p.iss;
  const exp = seconds(p.exp);
  if (exp !== undefined) claims.exp = exp;
  const iat = seconds(p.iat);
  if (iat !== undefined) claims.iat = iat;
  if (typeof p.client_id === 'string') claims.clientId = p.client_id;
  else if (typeof p.azp === 'string') claims.clientId = p.azp;
  return claims;
}
