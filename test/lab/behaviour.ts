// What the lab does, in one mutable object that every hook reads at request time, so a test can
// switch a behaviour between two requests (`lab.configure({...})`). Each misbehaviour is one field
// here, read where the behaviour happens; every default is the well-behaved server. The value
// lists are arrays so the CLI can check `--behaviour key=value` against them (LabBehaviourPatch).
import { z } from 'zod';

export type AccessTokenFormat = 'jwt' | 'opaque';

export const RESOURCE_METADATA_LOCATIONS = ['both', 'path', 'root', 'none'] as const;
export const CHALLENGES = ['bearer', 'bearer-without-metadata', 'basic', 'none'] as const;
export const ADVERTISED_RESOURCES = ['exact', 'origin', 'trailing-slash', 'other-host'] as const;
export const ADVERTISED_ISSUERS = ['exact', 'trailing-slash', 'other'] as const;
export const CODE_CHALLENGE_METHODS = ['S256', 'plain-only', 'absent'] as const;
export const MCP_ENDPOINTS = ['normal', 'public', 'forbidden', 'html-404', 'method-not-allowed', 'server-error', 'hang', 'oversized', 'redirect'] as const;
export const METADATA_ENDPOINTS = ['normal', 'html-404', 'hang', 'oversized', 'redirect'] as const;
export const METADATA_AUTHORIZATION_SERVERS = ['lab', 'canary'] as const;
export const CLIENT_DOCUMENT_REDIRECT_MATCHING = ['any-port', 'exact'] as const;

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
  /**
   * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, MCP 2025-11-25 on):
   * `client_id_metadata_document_supported: true` advertised, and an https URL client id resolved by
   * oidc-provider's own CIMD support, fetching from the lab's stand-ins for the clients' hosted
   * documents (test/lab/clientDocuments.ts). Off: no flag, and a URL client id is an unknown client.
   */
  clientIdMetadataDocuments: boolean;
  /**
   * How a CIMD client's loopback redirect is matched: `any-port` (RFC 8252 §7.3, what most
   * CIMD-capable servers do for the clients' port-less documents) or `exact` (string match, the
   * strict servers of anthropics/claude-code#37767 and #42301). Registered clients are unaffected.
   */
  clientDocumentRedirectMatching: (typeof CLIENT_DOCUMENT_REDIRECT_MATCHING)[number];
  /** `none` listed in the served `token_endpoint_auth_methods_supported` (Codex 0.171 uses CIMD only then). The AS still accepts public clients. */
  advertisePublicClients: boolean;
  /** Serve RFC 8414 metadata at /.well-known/oauth-authorization-server (alone false = OpenID-only discovery). */
  authorizationServerMetadata: boolean;
  /** Serve OpenID discovery at /.well-known/openid-configuration; with authorizationServerMetadata false there is no AS metadata at all. */
  openIdConfiguration: boolean;
  /**
   * Where the MCP server serves RFC 9728 metadata: the path-aware `/.well-known/oauth-protected-resource/mcp`,
   * the root `/.well-known/oauth-protected-resource`, both, or none (404 JSON). The challenge keeps
   * naming the path-aware URL, so `root` with the default challenge is a dangling pointer; pair it
   * with `challenge: 'bearer-without-metadata'` for a server that only has the root document.
   */
  resourceMetadataLocation: (typeof RESOURCE_METADATA_LOCATIONS)[number];
  /**
   * Every 401 of the MCP server: `Bearer resource_metadata="…"` (plus error="invalid_token" for a
   * bad token), Bearer without resource_metadata, `Basic realm="lab"`, or no WWW-Authenticate at all.
   */
  challenge: (typeof CHALLENGES)[number];
  /** `resource` in the RFC 9728 metadata: mcpUrl, its origin, mcpUrl + '/', or mcpUrl with host `localhost`. */
  advertisedResource: (typeof ADVERTISED_RESOURCES)[number];
  /** `authorization_servers` in the RFC 9728 metadata: the lab's AS, or the canary (which must never get a token). */
  resourceMetadataAuthorizationServers: (typeof METADATA_AUTHORIZATION_SERVERS)[number];
  /** `issuer` in the served AS metadata (both documents): the real one, + '/', or `http://localhost:<port>`. oidc-provider's own issuer stays. */
  advertisedIssuer: (typeof ADVERTISED_ISSUERS)[number];
  /** `code_challenge_methods_supported` in the served AS metadata: as oidc-provider says (S256), ['plain'], or no field. PKCE S256 stays required. */
  codeChallengeMethods: (typeof CODE_CHALLENGE_METHODS)[number];
  /**
   * Space-separated scopes a token must carry; a good token without all of them gets 403
   * `Bearer error="insufficient_scope", scope="…", resource_metadata="…"` (MCP 2025-11-25, Scope Challenge Handling).
   */
  requiredScope: string | undefined;
  /**
   * What the MCP URL answers before any token check: `public` serves MCP with no auth; `forbidden`
   * a WAF-style 403 page; `html-404` an SPA 404 page; `method-not-allowed` 405 `Allow: GET` to all
   * but GET (an SSE-only server); `server-error` 503 text; `hang` never answers; `oversized` a
   * ~3 MiB JSON body; `redirect` 302 to `<canary>/mcp`.
   */
  mcpEndpoint: (typeof MCP_ENDPOINTS)[number];
  /** The same for both RFC 9728 metadata URLs (before resourceMetadataLocation applies); `redirect` goes to the canary's path-aware one. */
  metadataEndpoint: (typeof METADATA_ENDPOINTS)[number];
  /** Milliseconds each answer of the MCP server and the AS waits first: a network round trip, for the benchmark (loopback has none). */
  latencyMs: number;
}

export const DEFAULT_BEHAVIOUR: LabBehaviour = {
  accessTokenTtl: 3600,
  refreshTokenTtl: 14 * 24 * 3600,
  rotateRefreshTokens: true,
  issueRefreshTokens: true,
  accessTokenFormat: 'jwt',
  scopes: ['mcp:tools'],
  dynamicRegistration: true,
  clientIdMetadataDocuments: false,
  clientDocumentRedirectMatching: 'any-port',
  advertisePublicClients: true,
  authorizationServerMetadata: true,
  openIdConfiguration: true,
  resourceMetadataLocation: 'both',
  challenge: 'bearer',
  advertisedResource: 'exact',
  resourceMetadataAuthorizationServers: 'lab',
  advertisedIssuer: 'exact',
  codeChallengeMethods: 'S256',
  requiredScope: undefined,
  mcpEndpoint: 'normal',
  metadataEndpoint: 'normal',
  latencyMs: 0,
};

/** A behaviour patch from outside TypeScript (the CLI's `--behaviour key=value`): unknown keys and values are errors. */
export const LabBehaviourPatch = z
  .object({
    accessTokenTtl: z.number().int().positive(),
    refreshTokenTtl: z.number().int().positive(),
    rotateRefreshTokens: z.boolean(),
    issueRefreshTokens: z.boolean(),
    accessTokenFormat: z.enum(['jwt', 'opaque']),
    scopes: z.array(z.string().min(1)),
    dynamicRegistration: z.boolean(),
    clientIdMetadataDocuments: z.boolean(),
    clientDocumentRedirectMatching: z.enum(CLIENT_DOCUMENT_REDIRECT_MATCHING),
    advertisePublicClients: z.boolean(),
    authorizationServerMetadata: z.boolean(),
    openIdConfiguration: z.boolean(),
    resourceMetadataLocation: z.enum(RESOURCE_METADATA_LOCATIONS),
    challenge: z.enum(CHALLENGES),
    advertisedResource: z.enum(ADVERTISED_RESOURCES),
    resourceMetadataAuthorizationServers: z.enum(METADATA_AUTHORIZATION_SERVERS),
    advertisedIssuer: z.enum(ADVERTISED_ISSUERS),
    codeChallengeMethods: z.enum(CODE_CHALLENGE_METHODS),
    requiredScope: z.string().min(1).optional(),
    mcpEndpoint: z.enum(MCP_ENDPOINTS),
    metadataEndpoint: z.enum(METADATA_ENDPOINTS),
    latencyMs: z.number().int().min(0).max(10_000),
  })
  .partial()
  .strict();
export type LabBehaviourPatch = z.infer<typeof LabBehaviourPatch>;

// The schema and the interface must list the same fields with the same types.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesInterface: Same<Required<z.infer<typeof LabBehaviourPatch>>, Required<{ [K in keyof LabBehaviour]: Exclude<LabBehaviour[K], undefined> }>> = true;
void schemaMatchesInterface;
