// The probe: for each remote server, the unauthenticated MCP request, protected-resource
// metadata, authorization-server metadata and the stored token, in the order the MCP
// authorization spec gives, into one state, a list of findings and a per-client verdict.
// Read-only by construction: it never registers a client, never calls a token endpoint, never
// writes; every request goes through http.ts (timeouts, body cap, no redirects, token only to
// its own origin). All servers run in parallel; authorization-server metadata is fetched once
// per issuer per run (DiscoveryCache).
import type { Finding, McpServer } from '../model';
import { clientDefinition } from '../clients/registry';
import type { CredentialSummary } from '../credentials/store';
import { clientAuthentication, loginNotRead } from '../present/describe';
import { describeSpan, describeToken, type TokenStatus } from '../tokenStatus';
import { DiscoveryCache, type AuthorizationServerDiscovery } from './authorizationServer';
import { probeFinding } from './catalogue';
import { classifyChallenge, type ChallengeOutcome } from './challenge';
import { exchangeFailure } from './failures';
import { exchange, type HttpSettings, type TraceEntry } from './http';
import { mcpProbeRequest } from './mcpRequest';
import { discoverResourceMetadata, type FoundResourceMetadata, type ResourceMetadataResult } from './resourceMetadata';
import { DEFAULT_REVISION, isSpecRevision, isStateless, type SpecRevision } from './revisions';
import { judgeStoredToken, KEYCHAIN_NOT_CHECKED, type TokenJudgement } from './tokenJudgement';
import { judgeRegistration } from './registrationJudgement';
import { registrationSupport, type RegistrationVerdict } from '../clientRegistration';
import { refusalFor, resourceIdentifier } from './urls';
import { compatibility, type ClientVerdict } from './verdict';

export { HEALTHY_STATES, type ServerState } from './serverState';
import type { ServerState } from './serverState';

export interface ProbeTarget {
  server: McpServer;
  token?: TokenStatus;
  summary?: CredentialSummary;
  /** Reads the stored access token for the live check; absent means no live check. */
  readAccessToken?: () => Promise<string | undefined>;
}

export interface AuthorizationServerReport {
  issuer: string;
  via: AuthorizationServerDiscovery['via'];
  metadataUrl?: string;
  kind?: 'oauth' | 'oidc';
  /** How a client can get a client id here: pre-registered, cimd, dcr. */
  registration: string[];
  tokenEndpoint?: string;
}

export interface ServerProbe {
  state: ServerState;
  /** One line for the tree and the CLI, e.g. "expired 3 h ago · refresh token present". */
  summary: string;
  /** The revision the probe spoke, and the era the server turned out to speak. */
  revision: SpecRevision;
  era?: 'legacy' | 'modern';
  findings: Finding[];
  trace: TraceEntry[];
  resourceMetadata?: { url: string; source: FoundResourceMetadata['source']; resource?: string; resourceMatch?: string; scopesSupported?: string[] };
  authorizationServers: AuthorizationServerReport[];
  token?: Pick<TokenJudgement, 'live' | 'liveStatus' | 'notCheckedBecause' | 'claims'>;
  compatibility: ClientVerdict[];
  /**
   * What each of our clients' own login does at the first authorization server (configured,
   * stored, metadata-document, dynamic-registration, none): the server's own client first, then
   * the other as if the server were added there. Empty when no metadata was found.
   */
  registration: RegistrationVerdict[];
  /** The server uses enterprise-managed authorization (SEP-990): no browser login for it. */
  enterpriseManaged?: boolean;
  ms: number;
}

export interface ProbeOptions {
  http: HttpSettings;
  /** The revision spoken in the MCP request (default 2025-11-25, what the clients speak today). */
  revision?: SpecRevision;
  now?: number;
  /** One cache per run: pass the same one to every probe of a run. */
  cache?: DiscoveryCache;
  /** Claude Code's MCP_OAUTH_CLIENT_METADATA_URL in the environment it starts with. */
  clientMetadataUrl?: string;
}

/**
 * Servers probed at once. Up to this many (more than anyone configures) all start together; past
 * it, a thousand servers do not open four thousand sockets at once: each finished server lets the
 * next one start, so the run grows linearly instead of stalling the machine's sockets.
 */
export const PROBE_CONCURRENCY = 64;

export async function probeServers(targets: ProbeTarget[], options: ProbeOptions & { concurrency?: number }): Promise<ServerProbe[]> {
  const shared = { ...options, cache: options.cache ?? new DiscoveryCache() };
  const results: ServerProbe[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      results[i] = await probeServer(targets[i]!, shared);
    }
  };
  const lanes = Math.max(1, Math.min(options.concurrency ?? PROBE_CONCURRENCY, targets.length));
  await Promise.all(Array.from({ length: lanes }, worker));
  return results;
}

export async function probeServer(target: ProbeTarget, options: ProbeOptions): Promise<ServerProbe> {
  const started = performance.now();
  const revision = options.revision ?? DEFAULT_REVISION;
  const now = options.now ?? Date.now();
  const cache = options.cache ?? new DiscoveryCache();
  const { server } = target;
  const result: ServerProbe = { state: 'not-probed', summary: '', revision, findings: [], trace: [], authorizationServers: [], compatibility: [], registration: [], ms: 0 };
  const done = (r: ServerProbe = result): ServerProbe => {
    r.ms = Math.round(performance.now() - started);
    return r;
  };

  if (server.transport === 'stdio') return done(Object.assign(result, { summary: 'stdio: no OAuth' }));
  if (!server.enabled) return done(Object.assign(result, { summary: 'disabled: not probed' }));
  const managed = clientAuthentication(server, target.token !== undefined && target.token.state !== 'missing');
  if (managed) {
    // Nothing to send: the probe runs no helper command and sends no ChatGPT or environment token.
    result.state = 'client-auth';
    result.summary = managed.summary;
    result.findings.push(probeFinding('probe.client-authentication', { title: `Codex authenticates "${server.name}" itself: ${managed.summary}`, detail: managed.detail }));
    result.compatibility = [{ client: 'codex', verdict: 'unknown', reasons: ['not probed: Codex authenticates this server without an MCP OAuth login'] }];
    return done();
  }
  let serverUrl: URL;
  try {
    serverUrl = new URL(server.url ?? '');
  } catch {
    return done(Object.assign(result, { summary: 'no usable URL: not probed' }));
  }
  const refusal = refusalFor(serverUrl);
  if (refusal) {
    const f = exchangeFailure(
      { entry: { step: 'mcp', method: 'POST', url: serverUrl.origin, ms: 0, requestHeaders: {}, responseHeaders: {}, outcome: 'refused', error: `not sent: ${refusal}` }, refusal },
      'The server URL',
    );
    if (f) result.findings.push(f);
    result.state = 'misconfigured';
    result.summary = f?.title ?? 'URL not allowed';
    return done(finish(result, target, now, { resourceMetadataFound: false, legacyMetadataFound: false, claudeMetadataOverride: false, preRegistered: false }));
  }

  if (Object.keys(server.headers).some((h) => h.toLowerCase() === 'authorization')) {
    result.findings.push(
      probeFinding('probe.static-authorization-header', {
        title: 'The config sends its own Authorization header',
        detail: 'A static Authorization header is sent with every request, beside or instead of an OAuth token. If the server uses OAuth, remove the header so the client\'s login is used; if it takes a static key, OAuth findings below do not apply.',
        evidence: [`header names: ${server.headerNames.join(', ')}`],
      }),
    );
  }

  // Steps 1 and 2 depend only on the URL, transport and headers: servers configured alike (the
  // same server in both clients, or in several scopes) share one discovery per run.
  const side = await cache.resourceSide(resourceSideKey(server, revision), () => resourceSide(server, serverUrl, revision, options.http));
  result.revision = side.spoken;
  if (side.era) result.era = side.era;
  result.trace.push(...side.trace);
  result.findings.push(...side.findings);
  const outcome = side.outcome;
  if (outcome.kind === 'stop' || outcome.kind === 'modern-version' || outcome.kind === 'legacy-version') {
    result.state = outcome.kind === 'stop' && outcome.unreachable ? 'unreachable' : 'misconfigured';
    // The finding says what is wrong with the server; the summary keeps what is stored.
    result.summary = target.token ? describeToken(target.token, now) : (result.findings.find((f) => f.severity === 'error')?.title ?? 'not reachable');
    return done(finish(result, target, now, { resourceMetadataFound: false, legacyMetadataFound: false, claudeMetadataOverride: false, preRegistered: false }));
  }
  if (outcome.kind === 'no-auth') {
    result.state = 'no-auth-needed';
    result.summary = 'no login needed';
    return done(finish(result, target, now, { resourceMetadataFound: false, legacyMetadataFound: false, claudeMetadataOverride: false, preRegistered: false }));
  }
  const spoken = side.spoken;
  const prm = side.prm ?? { authorizationServers: [], findings: [], trace: [] };
  if (prm.found) {
    result.resourceMetadata = {
      url: prm.found.url,
      source: prm.found.source,
      ...(prm.found.document.resource ? { resource: prm.found.document.resource } : {}),
      ...(prm.found.resource ? { resourceMatch: prm.found.resource.match } : {}),
      ...(prm.found.document.scopes_supported ? { scopesSupported: prm.found.document.scopes_supported } : {}),
    };
  }

  // Step 3: authorization-server metadata (per issuer, cached for the run).
  const discoveries: AuthorizationServerDiscovery[] = [];
  let legacyMetadataFound = false;
  if (prm.found) {
    discoveries.push(...(await Promise.all(prm.authorizationServers.map((issuer) => cache.get(options.http, issuer, 'resource-metadata')))));
  } else {
    const legacy = await cache.get(options.http, serverUrl.origin, 'legacy');
    legacyMetadataFound = Boolean(legacy.document);
    if (legacy.document) {
      result.findings.push(
        probeFinding('probe.legacy-discovery', {
          title: 'Only the 2025-03-26 discovery works: metadata at the server origin',
          detail: 'The server has no protected-resource metadata, but its origin serves authorization-server metadata, as the 2025-03-26 revision had it. SDK clients still fall back to it; clients that follow 2025-06-18 and later do not.',
          evidence: [`metadata: ${legacy.metadataUrl}`],
        }),
      );
      discoveries.push(legacy);
    } else {
      result.trace.push(...legacy.trace);
    }
  }
  let claudeMetadataOverride = false;
  const configuredUrl = server.oauth?.authServerMetadataUrl;
  if (configuredUrl) {
    const configured = await cache.get(options.http, configuredUrl, 'configured', configuredUrl);
    claudeMetadataOverride = Boolean(configured.document);
    discoveries.push(configured);
  }
  for (const d of discoveries) {
    result.trace.push(...d.trace);
    result.findings.push(...d.findings);
  }
  const preRegistered = Boolean(server.oauth?.clientId || target.token?.clientId);
  for (const d of discoveries) {
    const registration: string[] = [];
    if (server.oauth?.clientId) registration.push('pre-registered (config)');
    else if (target.token?.clientId) registration.push('pre-registered (stored client)');
    if (d.document?.client_id_metadata_document_supported === true) registration.push('cimd');
    if (d.document?.registration_endpoint) registration.push('dcr');
    result.authorizationServers.push({
      issuer: d.issuer,
      via: d.via,
      ...(d.metadataUrl ? { metadataUrl: d.metadataUrl } : {}),
      ...(d.kind ? { kind: d.kind } : {}),
      registration,
      ...(d.document?.token_endpoint ? { tokenEndpoint: d.document.token_endpoint } : {}),
    });
  }
  const primary = discoveries.find((d) => d.document);
  const storedClientId = target.summary?.clientId ?? target.token?.clientId ?? undefined;
  const registration = judgeRegistration({
    server,
    ...(primary?.document ? { document: primary.document } : {}),
    ...(primary?.metadataUrl ? { metadataUrl: primary.metadataUrl } : {}),
    ...(storedClientId ? { storedClientId } : {}),
    ...(options.clientMetadataUrl ? { clientMetadataUrl: options.clientMetadataUrl } : {}),
  });
  result.registration = registration.verdicts;
  if (registration.enterprise.required) result.enterpriseManaged = true;
  result.findings.push(...registration.findings);

  // Step 4: the stored token.
  if (target.token) {
    const judgement = await judgeStoredToken(options.http, {
      server,
      serverUrl,
      token: target.token,
      ...(target.summary ? { summary: target.summary } : {}),
      ...(target.readAccessToken ? { readAccessToken: target.readAccessToken } : {}),
      revision: spoken,
      now,
      discoveredIssuers: discoveries.filter((d) => d.document).map((d) => d.issuer),
      // What the clients bind a grant to: the document's own issuer (Codex 0.171 and Claude Code 2.1.332 both read it).
      metadataIssuers: discoveries.flatMap((d) => (d.document ? [d.document.issuer ?? d.issuer] : [])),
      ...(prm.found ? { resourceMetadataUrl: prm.found.url } : {}),
      resource: prm.found?.document.resource ?? resourceIdentifier(serverUrl),
      ...(primary?.document?.grant_types_supported ? { refreshAdvertised: primary.document.grant_types_supported.includes('refresh_token') } : {}),
    });
    result.trace.push(...judgement.trace);
    result.findings.push(...judgement.findings);
    result.token = {
      live: judgement.live,
      ...(judgement.liveStatus !== undefined ? { liveStatus: judgement.liveStatus } : {}),
      ...(judgement.notCheckedBecause ? { notCheckedBecause: judgement.notCheckedBecause } : {}),
      ...(judgement.claims ? { claims: judgement.claims } : {}),
    };
    result.state = stateFrom(target.token, judgement, result.findings);
  } else {
    const misconfigured = result.findings.some((f) => f.severity === 'error' && f.code.startsWith('probe.'));
    result.state = misconfigured ? 'misconfigured' : clientDefinition(server.client).tokensNotRead ? 'login-not-read' : 'not-logged-in';
  }
  result.summary = (result.state === 'login-not-read' ? loginNotRead(server)?.summary : undefined) ?? summarize(result, target.token, now);
  return done(finish(result, target, now, { resourceMetadataFound: Boolean(prm.found), legacyMetadataFound, claudeMetadataOverride, preRegistered, registration: result.registration, ...(primary?.document ? { registrationOffered: registrationSupport(primary.document) } : {}), ...(result.enterpriseManaged ? { enterpriseManaged: true } : {}) }));
}

/** What steps 1 and 2 found for one URL: shared by every server configured with it in a run. */
export interface ResourceSide {
  spoken: SpecRevision;
  era?: 'legacy' | 'modern';
  outcome: ChallengeOutcome;
  findings: Finding[];
  trace: TraceEntry[];
  prm?: ResourceMetadataResult;
}

function resourceSideKey(server: McpServer, revision: SpecRevision): string {
  const headers = Object.entries(server.headers).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([server.transport, server.url, revision, headers]);
}

/** Step 1 (the unauthenticated request, one retry in the other era when the server says so) and step 2 (protected-resource metadata). */
export async function resourceSide(server: McpServer, serverUrl: URL, revision: SpecRevision, http: HttpSettings): Promise<ResourceSide> {
  const trace: TraceEntry[] = [];
  let spoken = revision;
  let era: ResourceSide['era'];
  let challenge = await unauthenticated(server, spoken, http, trace);
  if (challenge.outcome.kind === 'modern-version') {
    const supported = challenge.outcome.supported?.find(isSpecRevision);
    spoken = supported && isStateless(supported) ? supported : '2026-07-28';
    era = 'modern';
    challenge = await unauthenticated(server, spoken, http, trace);
  } else if (challenge.outcome.kind === 'legacy-version') {
    spoken = DEFAULT_REVISION;
    era = 'legacy';
    challenge = await unauthenticated(server, spoken, http, trace);
  } else if (challenge.outcome.kind === 'stop' && challenge.status === 400 && !isStateless(spoken) && server.transport !== 'sse') {
    // A modern-only server SHOULD name its versions when it refuses initialize, but may just say
    // 400 (2026-07-28 basic/versioning.mdx): one stateless try before calling the server broken.
    const modern = await unauthenticated(server, '2026-07-28', http, trace);
    if (modern.outcome.kind !== 'stop' && modern.outcome.kind !== 'legacy-version' && modern.outcome.kind !== 'modern-version') {
      spoken = '2026-07-28';
      era = 'modern';
      challenge = modern;
    }
  }
  const findings = [...challenge.findings];
  const outcome = challenge.outcome;
  const side: ResourceSide = { spoken, ...(era ? { era } : {}), outcome, findings, trace };
  if (outcome.kind === 'modern-version' || outcome.kind === 'legacy-version') {
    findings.push(
      probeFinding('probe.unsupported-protocol-version', {
        title: 'The server refuses every protocol revision the probe speaks',
        detail: 'It answered both the initialize request (2025-11-25) and the stateless request (2026-07-28) with a version error. Clients that speak neither cannot use it.',
      }),
    );
  }
  if (outcome.kind !== 'oauth' && outcome.kind !== 'unauthorized') return side;
  const bearer = outcome.kind === 'oauth' ? outcome.bearer : undefined;
  side.prm = await discoverResourceMetadata(http, serverUrl, server.headers, bearer?.resourceMetadata);
  trace.push(...side.prm.trace);
  if (bearer && !bearer.resourceMetadata) {
    // 2025-06-18 required the header; from 2025-11-25 the well-known URL alone is enough.
    findings.push(
      probeFinding('probe.challenge-without-resource-metadata', {
        title: 'The Bearer challenge does not name the resource metadata',
        detail: side.prm.found
          ? 'The metadata was found at the well-known URL, which clients of 2025-11-25 and later try; 2025-06-18 required resource_metadata in the challenge, and Claude Code versions that rely on it report "Failed to connect".'
          : 'Without resource_metadata in the challenge clients try the well-known URLs, and none served metadata (see below).',
        severity: side.prm.found ? 'info' : 'warning',
      }),
    );
  }
  findings.push(...side.prm.findings);
  return side;
}

async function unauthenticated(server: McpServer, revision: SpecRevision, http: HttpSettings, trace: TraceEntry[]) {
  const ex = await exchange(http, mcpProbeRequest(server, revision, 'mcp'));
  trace.push(ex.entry);
  const result = classifyChallenge(ex, `"${server.name}"`, isStateless(revision) && server.transport !== 'sse');
  if (result.outcome.kind !== 'no-auth' || server.transport === 'sse') return result;
  // Some servers let initialize through and challenge only the requests that do something
  // (MCP conformance auth/scope-step-up): ask for the tool list before calling it open.
  const followUp = await toolsListWithoutToken(server, revision, http, trace, ex.headers?.get('mcp-session-id') ?? undefined);
  if (!followUp || followUp.outcome.kind === 'no-auth' || followUp.outcome.kind === 'stop') return result;
  return {
    outcome: followUp.outcome,
    findings: [
      ...followUp.findings,
      probeFinding('probe.auth-after-initialize', {
        title: 'The server answers initialize without a token but wants one for tools/list',
        detail: 'Clients connect, then get a 401 on their first real request and start the login there. That works with clients that handle a 401 at any point (the SDKs do); a client that only expects it on connect shows the server as connected but without tools.',
        evidence: followUp.findings.flatMap((f) => f.evidence ?? []).slice(0, 2),
      }),
    ],
  };
}

/** tools/list without a token, in the session initialize opened (closed again afterwards). */
async function toolsListWithoutToken(server: McpServer, revision: SpecRevision, http: HttpSettings, trace: TraceEntry[], sessionId: string | undefined) {
  const base = mcpProbeRequest(server, revision, 'mcp');
  const session: Record<string, string> = sessionId ? { 'mcp-session-id': sessionId } : {};
  if (!isStateless(revision)) {
    const initialized = await exchange(http, { ...base, headers: { ...base.headers, ...session }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), read: 'none' });
    trace.push(initialized.entry);
  }
  const params = isStateless(revision) ? (JSON.parse(base.body ?? '{}') as { params?: unknown }).params : undefined;
  const headers: Record<string, string> = { ...base.headers, ...session, ...(isStateless(revision) ? { 'mcp-method': 'tools/list' } : {}) };
  const ex = await exchange(http, { ...base, headers, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', ...(params ? { params } : {}) }) });
  trace.push(ex.entry);
  if (sessionId) {
    const close = await exchange(http, { step: 'session-close', method: 'DELETE', url: base.url, headers: { ...session, 'mcp-protocol-version': revision }, configHeaders: server.headers, read: 'none' });
    trace.push(close.entry);
  }
  if (ex.status === undefined) return undefined;
  return classifyChallenge(ex, `"${server.name}"`, isStateless(revision));
}

function stateFrom(token: TokenStatus, j: TokenJudgement, findings: Finding[]): ServerState {
  switch (j.live) {
    case 'accepted':
      return token.state === 'expiring' ? 'expiring' : 'valid';
    case 'rejected':
      return token.expiresAt !== null && token.state === 'expired' ? 'expired' : 'rejected';
    case 'insufficient-scope':
      return 'insufficient-scope';
    case 'forbidden':
      return 'forbidden';
    default:
      break;
  }
  const blocked = findings.some((f) => f.severity === 'error' && f.code.startsWith('probe.'));
  if (token.state === 'missing' || token.state === 'not-logged-in') return blocked ? 'misconfigured' : 'not-logged-in';
  if (token.state === 'expired') return 'expired';
  // in-keychain: a login whose token we did not read; "stored" is all that can be said of it.

  if (blocked) return 'misconfigured';
  return token.state === 'expiring' ? 'expiring' : 'stored';
}

function summarize(p: ServerProbe, token: TokenStatus | undefined, now: number): string {
  const rt = !token?.hasRefreshToken ? 'no refresh token' : p.findings.some((f) => f.code === 'token.issuer-changed') ? 'refresh token bound to another issuer' : 'refresh token present';
  const firstError = p.findings.find((f) => f.severity === 'error' && f.code.startsWith('probe.'))?.title;
  switch (p.state) {
    case 'valid':
      return token?.expiresAt ? `valid, expires in ${describeSpan(token.expiresAt - now)} · ${rt}` : `valid · ${rt}`;
    case 'rejected':
      return `rejected by the server · ${rt}`;
    case 'insufficient-scope':
      return 'token lacks a scope the server wants';
    case 'forbidden':
      return 'the server refuses the token (403)';
    case 'misconfigured':
      return token && token.state !== 'missing' ? describeToken(token, now) : (firstError ?? 'misconfigured');
    case 'stored':
      if (token?.state === 'in-keychain') return `${describeToken(token, now)} (not checked: ${KEYCHAIN_NOT_CHECKED})`;
      return token ? `${describeToken(token, now)} (not checked live)` : 'token stored';
    default:
      return token ? describeToken(token, now) : 'not logged in';
  }
}

function finish(result: ServerProbe, _target: ProbeTarget, _now: number, ctx: Parameters<typeof compatibility>[1]): ServerProbe {
  result.compatibility = compatibility(result.findings, ctx);
  return result;
}
