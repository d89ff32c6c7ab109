// How the lab's MCP server decides whether a bearer token is good: a JWT access token (RFC 9068)
// is verified against the AS's JWKS; anything else goes to the AS's introspection endpoint
// (RFC 7662). Either way the token must be for this resource (audience = the MCP server URL,
// RFC 8707) and unexpired.
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export interface TokenInfo {
  clientId: string;
  scopes: string[];
  /** Epoch seconds. */
  expiresAt: number;
  subject?: string;
}

export type TokenVerdict = { ok: true; info: TokenInfo } | { ok: false; reason: string };

export interface TokenCheckConfig {
  issuer: string;
  audience: string;
  jwksUri: string;
  introspectionEndpoint: string;
  clientId: string;
  clientSecret: string;
}

const Claims = z.object({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  exp: z.number(),
  client_id: z.string(),
  scope: z.string().optional(),
  sub: z.string().optional(),
});

const Introspection = z.object({
  active: z.boolean(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  exp: z.number().optional(),
  client_id: z.string().optional(),
  scope: z.string().optional(),
  sub: z.string().optional(),
  iss: z.string().optional(),
});

const Jwks = z.object({ keys: z.array(z.looseObject({ kid: z.string().optional(), kty: z.string() })) });

export class TokenCheck {
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly config: TokenCheckConfig) {}

  async check(token: string): Promise<TokenVerdict> {
    return token.split('.').length === 3 ? this.checkJwt(token) : this.introspect(token);
  }

  private async checkJwt(token: string): Promise<TokenVerdict> {
    const [h = '', p = '', s = ''] = token.split('.');
    let header: { alg?: string; kid?: string; typ?: string };
    let payload: unknown;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed JWT' };
    }
    if (header.alg !== 'RS256') return { ok: false, reason: `unexpected alg ${header.alg}` };
    if (header.typ !== 'at+jwt') return { ok: false, reason: 'not an RFC 9068 access token (typ)' };
    const key = await this.key(header.kid);
    if (!key) return { ok: false, reason: 'unknown signing key' };
    if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) return { ok: false, reason: 'bad signature' };
    const claims = Claims.safeParse(payload);
    if (!claims.success) return { ok: false, reason: 'missing claims' };
    const c = claims.data;
    if (c.iss !== this.config.issuer) return { ok: false, reason: 'wrong issuer' };
    return this.judge({ aud: c.aud, exp: c.exp, clientId: c.client_id, scope: c.scope, sub: c.sub });
  }

  private async introspect(token: string): Promise<TokenVerdict> {
    const basic = Buffer.from(`${encodeURIComponent(this.config.clientId)}:${encodeURIComponent(this.config.clientSecret)}`).toString('base64');
    const res = await fetch(this.config.introspectionEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
      signal: AbortSignal.timeout(5000),
    });
    const parsed = Introspection.safeParse(await res.json().catch(() => undefined));
    if (!res.ok || !parsed.success) return { ok: false, reason: `introspection failed (HTTP ${res.status})` };
    const r = parsed.data;
    if (!r.active) return { ok: false, reason: 'token not active' };
    return this.judge({ aud: r.aud, exp: r.exp, clientId: r.client_id, scope: r.scope, sub: r.sub });
  }

  private judge(t: { aud?: string | string[]; exp?: number; clientId?: string; scope?: string; sub?: string }): TokenVerdict {
    const audiences = typeof t.aud === 'string' ? [t.aud] : (t.aud ?? []);
    if (!audiences.includes(this.config.audience)) return { ok: false, reason: 'token is for another resource (aud)' };
    if (t.exp === undefined || t.exp * 1000 <= Date.now()) return { ok: false, reason: 'token expired' };
    return { ok: true, info: { clientId: t.clientId ?? '', scopes: t.scope ? t.scope.split(' ') : [], expiresAt: t.exp, subject: t.sub } };
  }

  private async key(kid: string | undefined): Promise<KeyObject | undefined> {
    if (kid && this.keys.has(kid)) return this.keys.get(kid);
    const res = await fetch(this.config.jwksUri, { signal: AbortSignal.timeout(5000) });
    const jwks = Jwks.parse(await res.json());
    for (const jwk of jwks.keys) if (jwk.kid) this.keys.set(jwk.kid, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
    return kid ? this.keys.get(kid) : undefined;
  }
}
