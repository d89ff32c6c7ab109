// The lab's authorization server: oidc-provider 9 on loopback with dynamic client registration
// (RFC 7591), PKCE S256 for every client, resource indicators (RFC 8707) bound to the MCP server,
// refresh tokens with switchable rotation, RFC 8414 metadata beside OpenID discovery, and an
// interaction handler that logs in one test account and approves every request without a page.
// The metadata documents are served by the lab (not oidc-provider), shaped per request by the
// behaviour: a wrong issuer or missing S256 changes what clients read, never what the AS does.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import type { ClientView, OidcContext, Provider as ProviderType } from 'oidc-provider';
import type { LabBehaviour } from './behaviour';
import { CLIENT_DOCUMENTS } from './clientDocuments';
import { listenLoopback, sendJson, type LoopbackServer } from './loopbackServer';
import { LabStore } from './memoryAdapter';

/** The one end-user every lab login resolves to. */
export const LAB_ACCOUNT = 'lab-user';

export interface AuthorizationServerCounters {
  registrations: number;
  accessTokens: number;
  refreshTokens: number;
  /** Successful refresh_token grants. */
  refreshes: number;
  /** Authorization codes delivered to a redirect_uri. */
  authorizations: number;
  /** Client ID Metadata Documents the AS fetched (oidc-provider caches each for 30 s at least). */
  clientDocumentFetches: number;
}

export interface AuthorizationServer {
  issuer: string;
  store: LabStore;
  counters: AuthorizationServerCounters;
  /** Credentials the MCP server uses at the introspection endpoint (a confidential client of its own). */
  resourceServerClient: { clientId: string; clientSecret: string };
  /** The metadata document as served now (RFC 8414 / OpenID discovery share it). */
  metadata(): Record<string, unknown>;
  /** Requests received so far, by path (any method, any answer), from the end of start-up. */
  requestsSeen(): Record<string, number>;
  /** Requests to the registration endpoint (`/reg` and `/reg/<id>`), whatever the answer. */
  registrationRequests(): number;
  /** Requests to the token endpoint, whatever the grant and the answer. */
  tokenEndpointRequests(): number;
  /**
   * Forgets every dynamically registered client, as when a server's client store is wiped: a
   * refresh or login with a stored client id then gets `invalid_client`. The resource-server
   * client is static configuration and stays. Returns how many were forgotten.
   */
  forgetClients(): number;
  /** RFC 7009 revocation of an opaque access or refresh token, as the resource-server client. */
  revoke(token: string): Promise<void>;
  close(): Promise<void>;
}

export interface AuthorizationServerOptions {
  /** The MCP server's URL: the only resource indicator the AS accepts, and the token audience. */
  resource: string;
  behaviour: LabBehaviour;
  log: (line: string) => void;
}

type ProviderModule = typeof import('oidc-provider');

/** oidc-provider is ESM-only; load it once. Its import-time notice about Node 20 is not ours to print. */
let providerModule: Promise<ProviderModule> | undefined;
function loadProvider(): Promise<ProviderModule> {
  providerModule ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (!String(args[0]).includes('Unsupported runtime')) warn(...args);
    };
    try {
      return await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  })();
  return providerModule;
}

export async function startAuthorizationServer(options: AuthorizationServerOptions): Promise<AuthorizationServer> {
  const { Provider, errors } = await loadProvider();
  const { behaviour, resource, log } = options;
  const store = new LabStore();
  const counters: AuthorizationServerCounters = { registrations: 0, accessTokens: 0, refreshTokens: 0, refreshes: 0, authorizations: 0, clientDocumentFetches: 0 };
  const resourceServerClient = { clientId: 'lab-mcp-server', clientSecret: randomBytes(24).toString('base64url') };

  // The handler is bound once the provider exists, and the provider needs the port for its issuer.
  let handle: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> = async (_req, res) => {
    res.writeHead(503).end();
  };
  const listener: LoopbackServer = await listenLoopback(
    (req, res) => handle(req, res),
    (err) => log(`authorization server error: ${String(err)}`),
  );
  const issuer = listener.origin;

  const signingKey = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'lab-rs256', use: 'sig', alg: 'RS256' };

  const provider: ProviderType = new Provider(issuer, {
    adapter: (model: string) => store.adapterFor(model),
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    clients: [
      {
        client_id: resourceServerClient.clientId,
        client_secret: resourceServerClient.clientSecret,
        grant_types: [],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    // MCP clients register without grant_types more often than not; refresh must still work.
    clientDefaults: { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' },
    // oidc-provider's only outbound fetch here is the CIMD one: answered from the stand-ins for the
    // clients' hosted documents, never the network (an unknown URL is a 404, as a missing page).
    fetch: async (url: string | URL) => {
      counters.clientDocumentFetches++;
      const doc = CLIENT_DOCUMENTS[String(url)];
      log(`AS fetched client document ${String(url)}: ${doc ? 200 : 404}`);
      return doc
        ? new Response(JSON.stringify(doc), { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'max-age=30' } })
        : new Response('{"error":"not_found"}', { status: 404, headers: { 'content-type': 'application/json' } });
    },
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false },
      // Always on in the provider; the behaviour decides whether it is advertised and allowed.
      clientIdMetadataDocument: {
        enabled: true,
        ack: 'draft-02',
        allowClient: async () => behaviour.clientIdMetadataDocuments,
        allowFetch: async () => behaviour.clientIdMetadataDocuments,
      },
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true, allowedPolicy: async () => true },
      resourceIndicators: {
        enabled: true,
        // A client that omits `resource` still gets a token for the one resource there is.
        defaultResource: async () => resource,
        // Refresh and code exchange without `resource` reuse the granted one.
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          if (indicator !== resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          return {
            scope: behaviour.scopes.join(' '),
            audience: resource,
            accessTokenTTL: behaviour.accessTokenTtl,
            accessTokenFormat: behaviour.accessTokenFormat,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    // Claude Code registers with `scope: "mcp:tools"`, which oidc-provider only accepts for scopes
    // it knows; listing the MCP scopes here too keeps them granted per resource as well.
    scopes: ['openid', 'offline_access', ...behaviour.scopes],
    issueRefreshToken: async (_ctx: unknown, client: ClientView) => behaviour.issueRefreshTokens && client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => behaviour.rotateRefreshTokens,
    // Tokens outlive the (cookie) session they were approved in, as at any real AS used by CLIs.
    expiresWithSession: async () => false,
    ttl: {
      AccessToken: () => behaviour.accessTokenTtl,
      AuthorizationCode: 120,
      ClientCredentials: 600,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
      IdToken: 3600,
      RefreshToken: () => behaviour.refreshTokenTtl,
      Interaction: 600,
      Session: 24 * 3600,
      Grant: 30 * 24 * 3600,
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    clientBasedCORS: () => true,
    renderError: async (ctx: { type: string; body: unknown }, out: Record<string, string>) => {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = `${out.error ?? 'error'}: ${out.error_description ?? ''}\n`;
    },
  });

  widenLoopbackMatching(provider, behaviour);

  provider.on('registration_create.success', () => counters.registrations++);
  provider.on('access_token.saved', () => counters.accessTokens++);
  provider.on('access_token.issued', () => counters.accessTokens++);
  provider.on('refresh_token.saved', () => counters.refreshTokens++);
  provider.on('authorization.success', () => counters.authorizations++);
  provider.on('grant.success', (ctx: OidcContext) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') counters.refreshes++;
  });
  for (const event of ['server_error', 'grant.error', 'registration_create.error', 'authorization.error', 'introspection.error']) {
    provider.on(event, (_ctx: unknown, err: Error & { error_description?: string }) => log(`authorization server ${event}: ${err.message} (${err.error_description ?? ''})`));
  }

  const callback = provider.callback();
  const pass = (req: http.IncomingMessage, res: http.ServerResponse) =>
    new Promise<void>((resolve) => {
      res.on('close', resolve);
      callback(req, res);
    });

  // oidc-provider's own discovery document, captured once; both metadata paths serve it shaped by
  // the current behaviour.
  const discovered: Record<string, unknown> = {};
  let captured = false;
  const metadata = (): Record<string, unknown> => {
    const doc = { ...discovered };
    if (!behaviour.dynamicRegistration) delete doc.registration_endpoint;
    if (!behaviour.clientIdMetadataDocuments) delete doc.client_id_metadata_document_supported;
    if (!behaviour.advertisePublicClients && Array.isArray(doc.token_endpoint_auth_methods_supported)) {
      doc.token_endpoint_auth_methods_supported = doc.token_endpoint_auth_methods_supported.filter((m) => m !== 'none');
    }
    if (behaviour.advertisedIssuer === 'trailing-slash') doc.issuer = `${issuer}/`;
    if (behaviour.advertisedIssuer === 'other') doc.issuer = `http://localhost:${listener.port}`;
    if (behaviour.codeChallengeMethods === 'plain-only') doc.code_challenge_methods_supported = ['plain'];
    if (behaviour.codeChallengeMethods === 'absent') delete doc.code_challenge_methods_supported;
    return doc;
  };
  const endpointPath = (name: string) => new URL(String(discovered[name]), issuer).pathname;

  // Counted from the end of start-up (the capture below is the lab's own request).
  const seen = new Map<string, number>();
  const requestsTo = (path: string, under = false) =>
    [...seen].filter(([p]) => p === path || (under && p.startsWith(`${path}/`))).reduce((n, [, count]) => n + count, 0);

  handle = async (req, res) => {
    if (captured && behaviour.latencyMs > 0) await new Promise((r) => setTimeout(r, behaviour.latencyMs));
    const url = new URL(req.url ?? '/', issuer);
    if (captured) seen.set(url.pathname, (seen.get(url.pathname) ?? 0) + 1);
    log(`AS ${req.method} ${url.pathname}`);
    if (captured && url.pathname === '/.well-known/openid-configuration') {
      if (!behaviour.openIdConfiguration) return sendJson(res, 404, { error: 'not_found' });
      return sendJson(res, 200, metadata());
    }
    if (captured && url.pathname === '/.well-known/oauth-authorization-server') {
      if (!behaviour.authorizationServerMetadata) return sendJson(res, 404, { error: 'not_found' });
      return sendJson(res, 200, metadata());
    }
    if (url.pathname === '/reg' && !behaviour.dynamicRegistration) return sendJson(res, 404, { error: 'not_found' });
    const interaction = /^\/interaction\/([^/]+)$/.exec(url.pathname);
    if (interaction && req.method === 'GET') return approve(provider, req, res);
    return pass(req, res);
  };

  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  Object.assign(discovered, (await response.json()) as Record<string, unknown>);
  captured = true;

  return {
    issuer,
    store,
    counters,
    resourceServerClient,
    metadata,
    requestsSeen: () => Object.fromEntries(seen),
    registrationRequests: () => requestsTo(endpointPath('registration_endpoint'), true),
    tokenEndpointRequests: () => requestsTo(endpointPath('token_endpoint')),
    // Static clients live in the provider's configuration, not the adapter: only DCR clients go.
    forgetClients: () => store.forget('Client'),
    async revoke(token) {
      const basic = Buffer.from(`${encodeURIComponent(resourceServerClient.clientId)}:${encodeURIComponent(resourceServerClient.clientSecret)}`).toString('base64');
      const res = await fetch(String(discovered.revocation_endpoint), {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.text();
      // RFC 7009 section 2.2: 200 whether or not the token was known.
      if (res.status !== 200) throw new Error(`revocation: HTTP ${res.status} ${text.slice(0, 200)}`);
    },
    close: () => listener.close(),
  };
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * oidc-provider ignores a loopback port only for `application_type: native`; the clients'
 * documents do not say native (Claude Code's: anthropics/claude-code#44378), so under `any-port`
 * a CIMD client's http loopback redirect matches its document's whatever the port (RFC 8252 §7.3).
 */
function widenLoopbackMatching(provider: ProviderType, behaviour: LabBehaviour): void {
  const proto = provider.Client.prototype;
  const exact = proto.redirectUriAllowed;
  const portless = (uri: string) => {
    const u = URL.parse(uri);
    if (!u || u.protocol !== 'http:' || !LOOPBACK_HOSTS.has(u.hostname)) return undefined;
    u.port = '';
    return u.href;
  };
  proto.redirectUriAllowed = function (value) {
    if (exact.call(this, value)) return true;
    if (!this.clientIdMetadataDocument || behaviour.clientDocumentRedirectMatching !== 'any-port') return false;
    const wanted = portless(value);
    return wanted !== undefined && this.redirectUris.some((r) => portless(r) === wanted);
  };
}

/**
 * Auto-approval: the login prompt resolves to LAB_ACCOUNT, the consent prompt grants every scope
 * and resource the request asked for (oidc-provider's prompt details list what is missing).
 */
async function approve(provider: ProviderType, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    return provider.interactionFinished(req, res, { login: { accountId: LAB_ACCOUNT } }, { mergeWithLastSubmission: false });
  }
  const accountId = details.session?.accountId ?? LAB_ACCOUNT;
  const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ?? new provider.Grant({ accountId, clientId: details.params.client_id });
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (missing.missingOIDCScope?.length) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}
