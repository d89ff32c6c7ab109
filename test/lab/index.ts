// The loopback OAuth + MCP lab: a real authorization server (oidc-provider) and a real MCP
// server (@modelcontextprotocol/sdk) on 127.0.0.1 random ports, for tests that drive the real
// Claude Code and Codex, and for the demo (test/lab/cli.ts).
//
// Approval needs no UI: GET the authorization URL and follow redirects carrying cookies
// (`lab.approve(url)` does it and returns the redirect to the client's redirect_uri, code included).
// Beside them runs a canary (canary.ts) on a third origin: where the misbehaving lab sends clients
// that follow redirects or foreign metadata, so a test can check no token ever arrived there.
import { DEFAULT_BEHAVIOUR, type LabBehaviour } from './behaviour';
import { followAuthorization } from './approve';
import { startAuthorizationServer } from './authorizationServer';
import { startCanary, type Canary } from './canary';
import { startMcpServer } from './mcpServer';
import { AuthorizationServerMetadata, authorizationCodeFlow, refreshRequest, registerClient, type TokenResult } from './oauthClient';

export type { LabBehaviour } from './behaviour';
export type { TokenResult } from './oauthClient';
export type { Canary, CanaryRequest } from './canary';

export interface LabOptions extends Partial<LabBehaviour> {
  /** Path of the MCP endpoint (default `/mcp`). */
  mcpPath?: string;
  /** Receives one line per request and every server-side error (default: nowhere). */
  log?: (line: string) => void;
}

export interface RegisteredClient {
  clientId: string;
  clientName?: string;
  redirectUris: string[];
  grantTypes: string[];
}

export interface MintedTokens {
  clientId: string;
  redirectUri: string;
  accessToken: string;
  refreshToken?: string;
  /** Seconds, as the token response said. */
  expiresIn: number;
  scope: string;
}

export interface Lab {
  /** The MCP endpoint, e.g. `http://127.0.0.1:40123/mcp`: also the resource indicator and token audience. */
  mcpUrl: string;
  /** The AS issuer, e.g. `http://127.0.0.1:40124`. */
  issuer: string;
  /** RFC 9728 metadata URL named in the 401 challenge. */
  protectedResourceMetadataUrl: string;
  /** Another origin that records every request; the lab's redirects and `resourceMetadataAuthorizationServers: 'canary'` point there. */
  canary: Canary;
  /** The behaviour in force (read-only view; change it with configure). */
  readonly behaviour: Readonly<LabBehaviour>;
  /** Switches behaviours between requests (TTL, rotation, token format, DCR on/off, ...). */
  configure(patch: Partial<LabBehaviour>): void;
  /** Clients registered through DCR so far. */
  registrations(): number;
  /** Client ID Metadata Documents the AS fetched from the stand-ins (clientDocuments.ts). */
  clientDocumentFetches(): number;
  /** Access tokens issued so far (code exchanges and refreshes). */
  tokensIssued(): number;
  /** Successful refresh_token grants so far. */
  refreshes(): number;
  /** MCP requests with a good token / answered 401 / good token answered 403 insufficient_scope. */
  mcpRequests(): { authorized: number; rejected: number; forbidden: number };
  /**
   * Requests each server received, by path, whatever the method and answer. They include the
   * lab's own: mintTokens() and refresh() (registration, token endpoint), the MCP server's JWKS
   * fetch and introspection at the AS; compare counts before and after the step under test.
   */
  requestsSeen(): { mcpServer: Record<string, number>; authorizationServer: Record<string, number> };
  /** Requests to the AS's registration endpoint, successful or not (DCR off still counts the 404). */
  registrationRequests(): number;
  /** Requests to the AS's token endpoint (any grant, any answer); revocation and introspection are not. */
  tokenEndpointRequests(): number;
  /**
   * Revokes an access or refresh token. Opaque tokens (every refresh token, and access tokens under
   * `accessTokenFormat: 'opaque'`) go to the AS's RFC 7009 endpoint, which also ends their grant.
   * A JWT access token is checked by signature alone and the endpoint refuses it, so the MCP
   * server keeps a deny list instead; its grant and refresh token live on.
   */
  revoke(token: string): Promise<void>;
  /**
   * The AS forgets every client registered by DCR (its client store wiped): a refresh or login
   * with a stored client id gets `invalid_client` from then on. Tokens already issued stay as they
   * are. Returns how many clients were forgotten.
   */
  forgetClients(): number;
  /** Clients the AS knows now (registered by DCR), without secrets. */
  clients(): RegisteredClient[];
  /** The AS metadata document as served (RFC 8414). */
  metadata(): AuthorizationServerMetadata;
  /** Follows an authorization URL through the auto-approval; returns the redirect to the client (code or error). */
  approve(authorizationUrl: string): Promise<string>;
  /**
   * A fresh access + refresh token by the real code flow (PKCE, resource = mcpUrl). With a
   * clientId, for that registered client and its first redirect URI; without, for a new client
   * registered by DCR (which counts in registrations()).
   */
  mintTokens(options?: { clientId?: string; scope?: string }): Promise<MintedTokens>;
  /** A refresh_token grant as a public client would send it. */
  refresh(clientId: string, refreshToken: string): Promise<TokenResult>;
  /** Stops both servers and the canary, dropping every connection (a hanging request included). */
  close(): Promise<void>;
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const { mcpPath, log = () => undefined, ...overrides } = options;
  // An option given as undefined (`accessTokenTtl: flag ? n : undefined`) keeps the default.
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<LabBehaviour>;
  const behaviour: LabBehaviour = { ...DEFAULT_BEHAVIOUR, ...given, scopes: [...(given.scopes ?? DEFAULT_BEHAVIOUR.scopes)] };
  const canary = await startCanary({ log });
  let mcp;
  let as;
  try {
    mcp = await startMcpServer({ behaviour, log, path: mcpPath, canaryOrigin: canary.origin });
    as = await startAuthorizationServer({ resource: mcp.mcpUrl, behaviour, log });
  } catch (err) {
    await Promise.all([canary.close(), mcp?.close()]);
    throw err;
  }
  const authorizationServer = as;
  const metadata = () => AuthorizationServerMetadata.parse(authorizationServer.metadata());
  const m = metadata();
  mcp.trust({
    issuer: authorizationServer.issuer,
    audience: mcp.mcpUrl,
    jwksUri: m.jwks_uri ?? `${authorizationServer.issuer}/jwks`,
    introspectionEndpoint: m.introspection_endpoint ?? `${authorizationServer.issuer}/token/introspection`,
    clientId: authorizationServer.resourceServerClient.clientId,
    clientSecret: authorizationServer.resourceServerClient.clientSecret,
  });

  const clients = (): RegisteredClient[] =>
    authorizationServer.store
      .list('Client')
      .filter((c) => c.client_id !== authorizationServer.resourceServerClient.clientId)
      .map((c) => ({
        clientId: String(c.client_id),
        clientName: typeof c.client_name === 'string' ? c.client_name : undefined,
        redirectUris: Array.isArray(c.redirect_uris) ? c.redirect_uris.map(String) : [],
        grantTypes: Array.isArray(c.grant_types) ? c.grant_types.map(String) : [],
      }));

  let closed = false;
  return {
    mcpUrl: mcp.mcpUrl,
    issuer: authorizationServer.issuer,
    protectedResourceMetadataUrl: mcp.protectedResourceMetadataUrl,
    canary,
    behaviour,
    configure(patch) {
      Object.assign(behaviour, patch);
    },
    registrations: () => authorizationServer.counters.registrations,
    clientDocumentFetches: () => authorizationServer.counters.clientDocumentFetches,
    tokensIssued: () => authorizationServer.counters.accessTokens,
    refreshes: () => authorizationServer.counters.refreshes,
    mcpRequests: () => ({ ...mcp.counters }),
    requestsSeen: () => ({ mcpServer: mcp.requestsSeen(), authorizationServer: authorizationServer.requestsSeen() }),
    registrationRequests: () => authorizationServer.registrationRequests(),
    tokenEndpointRequests: () => authorizationServer.tokenEndpointRequests(),
    async revoke(token) {
      // The same test as TokenCheck's: three dot-separated parts is a JWT.
      if (token.split('.').length === 3) mcp.revokeAccessToken(token);
      else await authorizationServer.revoke(token);
    },
    forgetClients: () => authorizationServer.forgetClients(),
    clients,
    metadata,
    approve: (url) => followAuthorization(url),
    async mintTokens(o = {}) {
      let clientId = o.clientId;
      let redirectUri: string | undefined;
      if (clientId) {
        redirectUri = clients().find((c) => c.clientId === clientId)?.redirectUris[0];
        if (!redirectUri) throw new Error(`the lab has no client ${clientId} with a redirect URI`);
      } else {
        redirectUri = 'http://127.0.0.1:1/callback';
        clientId = (await registerClient(metadata(), { redirect_uris: [redirectUri], client_name: 'lab mintTokens' })).client_id;
      }
      const scope = o.scope ?? [...behaviour.scopes, 'offline_access'].join(' ');
      const r = await authorizationCodeFlow(metadata(), { clientId, redirectUri, scope, resource: mcp.mcpUrl });
      if (!r.tokens) throw new Error(`mintTokens: ${r.error ?? 'no tokens'} ${r.errorDescription ?? ''}`);
      return {
        clientId,
        redirectUri,
        accessToken: r.tokens.access_token,
        refreshToken: r.tokens.refresh_token,
        expiresIn: r.tokens.expires_in ?? behaviour.accessTokenTtl,
        scope: r.tokens.scope ?? scope,
      };
    },
    refresh: (clientId, refreshToken) => refreshRequest(metadata(), clientId, refreshToken),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([authorizationServer.close(), mcp.close(), canary.close()]);
    },
  };
}
