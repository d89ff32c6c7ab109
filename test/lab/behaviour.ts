// What the lab does, in one mutable object that every hook reads at request time, so a test can
// switch a behaviour between two requests (`lab.configure({...})`). Misbehaviours for later
// scenarios (wrong resource in metadata, issuer mismatch, no S256, revoked refresh, ...) belong
// here as one field each, read where the behaviour happens.

export type AccessTokenFormat = 'jwt' | 'opaque';

export interface LabBehaviour {
  /** Access-token lifetime in seconds. */
  accessTokenTtl: number;
  /** Refresh-token lifetime in seconds. */
  refreshTokenTtl: number;
  /** Each refresh returns a new refresh token and consumes the old one (reuse then revokes the grant). */
  rotateRefreshTokens: boolean;
  /** Issue refresh tokens to clients registered for the refresh_token grant, offline_access or not. */
  issueRefreshTokens: boolean;
  /** `jwt`: RFC 9068 access tokens the MCP server verifies with the AS's JWKS; `opaque`: RFC 7662 introspection. */
  accessTokenFormat: AccessTokenFormat;
  /** Scopes of the MCP server (RFC 9728 scopes_supported); granted on approval. The AS's own list is fixed at start. */
  scopes: string[];
  /** RFC 7591 registration endpoint advertised and answering. */
  dynamicRegistration: boolean;
  /** Serve RFC 8414 metadata at /.well-known/oauth-authorization-server (the OpenID document is always served). */
  authorizationServerMetadata: boolean;
}

export const DEFAULT_BEHAVIOUR: LabBehaviour = {
  accessTokenTtl: 3600,
  refreshTokenTtl: 14 * 24 * 3600,
  rotateRefreshTokens: true,
  issueRefreshTokens: true,
  accessTokenFormat: 'jwt',
  scopes: ['mcp:tools'],
  dynamicRegistration: true,
  authorizationServerMetadata: true,
};
