// Step 3 of the probe: authorization-server metadata for each issuer, fetched once per run
// however many servers share the issuer (a run-scoped cache), in the order the MCP spec gives
// (2025-11-25 §Authorization Server Metadata Discovery: RFC 8414 path insertion, then OpenID
// Discovery insertion and appending), and checked against RFC 8414 §2/§3.3 and the MCP rules.
import type { Finding } from '../model';
import { probeFinding } from './catalogue';
import { exchange, describeExchange, type HttpSettings, type TraceEntry } from './http';
import { isJsonContentType, parseAuthorizationServerMetadata, type AuthorizationServerMetadata } from './metadata';
import { authorizationServerMetadataUrls, parseUrl, refusalFor, type MetadataKind } from './urls';

/** resource-metadata: named in RFC 9728 metadata; legacy: the server origin (2025-03-26); configured: Claude Code oauth.authServerMetadataUrl. */
export type DiscoveryVia = 'resource-metadata' | 'legacy' | 'configured';

export interface AuthorizationServerDiscovery {
  /** The issuer as asked for (from the metadata, the server origin, or the document at a configured URL). */
  issuer: string;
  via: DiscoveryVia;
  metadataUrl?: string;
  kind?: MetadataKind;
  document?: AuthorizationServerMetadata;
  /** Problems of the authorization server itself; the same for every MCP server that uses it. */
  findings: Finding[];
  trace: TraceEntry[];
}

/**
 * One discovery per issuer, and one unauthenticated look at each configured URL, per run:
 * concurrent probes of servers that share them wait on the same fetches.
 */
export class DiscoveryCache {
  private readonly entries = new Map<string, Promise<AuthorizationServerDiscovery>>();
  private readonly sides = new Map<string, Promise<{ trace: TraceEntry[]; findings: Finding[] }>>();

  /** The resource-side discovery for `key`, computed once; later callers see its trace marked cached. */
  async resourceSide<T extends { trace: TraceEntry[]; findings: Finding[] }>(key: string, compute: () => Promise<T>): Promise<T> {
    const existing = this.sides.get(key) as Promise<T> | undefined;
    if (existing) {
      const d = await existing;
      return { ...d, findings: [...d.findings], trace: d.trace.map((t) => ({ ...t, cached: true })) };
    }
    const pending = compute();
    this.sides.set(key, pending);
    return pending;
  }
  /** Metadata fetches that went out in this run (cache hits excluded): for tests and the benchmark. */
  fetches = 0;

  async get(http: HttpSettings, issuer: string, via: DiscoveryVia, configuredUrl?: string): Promise<AuthorizationServerDiscovery> {
    const key = `${via}\n${configuredUrl ?? issuer}`;
    const existing = this.entries.get(key);
    if (existing) {
      const d = await existing;
      return { ...d, trace: d.trace.map((t) => ({ ...t, cached: true })) };
    }
    const pending = discover(http, issuer, via, configuredUrl, () => this.fetches++);
    this.entries.set(key, pending);
    return pending;
  }
}

async function discover(http: HttpSettings, issuer: string, via: DiscoveryVia, configuredUrl: string | undefined, counted: () => void): Promise<AuthorizationServerDiscovery> {
  const trace: TraceEntry[] = [];
  const findings: Finding[] = [];
  const result: AuthorizationServerDiscovery = { issuer, via, findings, trace };
  const issuerUrl = parseUrl(issuer);
  let candidates: { url: string; kind: MetadataKind }[];
  if (via === 'configured' && configuredUrl) candidates = [{ url: configuredUrl, kind: configuredUrl.includes('openid-configuration') ? 'oidc' : 'oauth' }];
  else if (!issuerUrl) candidates = [];
  else if (via === 'legacy') candidates = [{ url: `${issuerUrl.origin}/.well-known/oauth-authorization-server`, kind: 'oauth' }];
  else candidates = authorizationServerMetadataUrls(issuerUrl);

  if (issuerUrl && via !== 'configured') {
    const refusal = refusalFor(issuerUrl);
    if (refusal) {
      findings.push(
        probeFinding(refusal === 'insecure' ? 'probe.insecure-url' : 'probe.url-refused', {
          title: `The authorization server ${issuer} is not fetched`,
          detail: `Its URL ${refusal === 'insecure' ? 'is plain http to a host that is not loopback' : 'is not allowed (link-local, credentials in it, or not http)'}; clients that check URLs refuse it too.`,
          evidence: [`issuer: ${issuer}`],
        }),
      );
      return result;
    }
  }

  const tried: string[] = [];
  let oauthVariantFailed = false;
  for (const c of candidates) {
    counted();
    const ex = await exchange(http, { step: 'authorization-server-metadata', method: 'GET', url: c.url, headers: { accept: 'application/json' }, read: 'full' });
    trace.push(ex.entry);
    tried.push(describeExchange(ex.entry));
    const parsed = ex.entry.outcome === 'ok' ? parseAuthorizationServerMetadata(ex.body) : undefined;
    if (!parsed?.document) {
      if (c.kind === 'oauth') oauthVariantFailed = true;
      continue;
    }
    result.metadataUrl = ex.entry.url;
    result.kind = c.kind;
    result.document = parsed.document;
    if (via === 'configured' && parsed.document.issuer) result.issuer = parsed.document.issuer;
    const problems = [...parsed.problems];
    if (!isJsonContentType(ex.entry.contentType)) problems.push(`it is served as ${ex.entry.contentType ?? 'no content type'}, not application/json`);
    if (!parsed.document.issuer) problems.push('the required member issuer is missing');
    if (problems.length) {
      findings.push(
        probeFinding('probe.authorization-server-metadata-invalid', {
          title: 'The authorization-server metadata is malformed',
          detail: `${ex.entry.url}: ${problems.join('; ')}.`,
          evidence: [describeExchange(ex.entry)],
        }),
      );
    }
    if (c.kind === 'oidc' && oauthVariantFailed && via === 'resource-metadata') {
      findings.push(
        probeFinding('probe.oidc-discovery-only', {
          title: 'Only OpenID Connect discovery describes this authorization server',
          detail: 'There is no RFC 8414 document; clients of 2025-11-25 and later also try OpenID discovery and find it, clients that implement 2025-06-18 only (RFC 8414) do not.',
          evidence: tried,
        }),
      );
    }
    checkDocument(result, parsed.document, via);
    return result;
  }

  findings.push(
    probeFinding('probe.authorization-server-metadata-missing', {
      title: `No metadata for the authorization server ${issuer}`,
      detail:
        via === 'legacy'
          ? 'Without protected-resource metadata, 2025-03-26 clients look for RFC 8414 metadata at the MCP server\'s origin and otherwise guess /authorize, /token and /register there; no metadata was found.'
          : 'None of the URLs the spec prescribes (RFC 8414, then OpenID discovery) served a JSON document, so clients cannot find the login and token endpoints. If you know the right metadata URL, Claude Code accepts it as "oauth": {"authServerMetadataUrl": "…"}.',
      evidence: tried,
    }),
  );
  return result;
}

function checkDocument(d: AuthorizationServerDiscovery, doc: AuthorizationServerMetadata, via: DiscoveryVia): void {
  const evidence = d.metadataUrl ? [`metadata: ${d.metadataUrl}`] : [];
  const add = (f: Finding) => d.findings.push(f);

  if (doc.issuer && via !== 'configured' && doc.issuer !== d.issuer) {
    const slashOnly = doc.issuer.replace(/\/$/, '') === d.issuer.replace(/\/$/, '');
    add(
      probeFinding('probe.issuer-mismatch', {
        title: slashOnly ? 'The issuer differs by a trailing slash' : `The metadata's issuer is ${doc.issuer}, not ${d.issuer}`,
        detail:
          `RFC 8414 §3.3 requires the issuer in the document to be identical to the one it was discovered from (a guard against mix-up attacks). ` +
          'Strict clients (Codex, SDK v2, Copilot CLI) refuse this server; lenient ones (SDK v1, VS Code) go on. Ask the server\'s owner to publish the metadata under its real issuer; do not trust a mismatched issuer by hand unless you know the server.',
        evidence: [...evidence, `asked for: ${d.issuer}`, `issuer: ${doc.issuer}`],
      }),
    );
  }

  const missing: string[] = [];
  if (!doc.authorization_endpoint) missing.push('authorization_endpoint');
  if (!doc.token_endpoint) missing.push('token_endpoint');
  if (!doc.response_types_supported) missing.push('response_types_supported');
  else if (!doc.response_types_supported.includes('code')) missing.push('"code" in response_types_supported');
  if (missing.length) {
    add(
      probeFinding('probe.endpoints-missing', {
        title: `The authorization server lacks ${missing.join(', ')}`,
        detail: 'RFC 8414 §2 requires them for the authorization-code flow every MCP client uses; SDK clients fail with "Incompatible auth server".',
        evidence,
      }),
    );
  }

  const endpoints: [string, string | undefined][] = [
    ['authorization_endpoint', doc.authorization_endpoint],
    ['token_endpoint', doc.token_endpoint],
    ['registration_endpoint', doc.registration_endpoint],
  ];
  for (const [name, value] of endpoints) {
    if (!value) continue;
    const u = parseUrl(value);
    const refusal = u ? refusalFor(u) : 'not-http';
    if (refusal) {
      add(
        probeFinding('probe.endpoint-insecure', {
          title: `${name} is not a safe URL`,
          detail: `${name} is ${u ? value.split('?')[0] : 'not a URL'}: ${refusal === 'insecure' ? 'plain http to a host that is not loopback' : refusal}. Codes, tokens or client secrets would travel unprotected; SDK v2 refuses an insecure token endpoint.`,
          evidence,
        }),
      );
    }
  }

  if (!doc.code_challenge_methods_supported) {
    add(
      probeFinding('probe.pkce-not-advertised', {
        title: 'The authorization server does not say it supports PKCE',
        detail:
          'code_challenge_methods_supported is missing. From 2025-11-25 on, clients MUST refuse such a server (and OpenID providers MUST publish the field); SDK-based clients still go on, so whether a login works depends on the client. Ask the server\'s owner to publish ["S256"].',
        evidence,
      }),
    );
  } else if (!doc.code_challenge_methods_supported.includes('S256')) {
    add(
      probeFinding('probe.pkce-s256-missing', {
        title: 'The authorization server does not support PKCE with S256',
        detail: `code_challenge_methods_supported is [${doc.code_challenge_methods_supported.join(', ')}]. MCP clients use S256 only; SDK clients fail with "does not support code challenge method S256".`,
        evidence,
      }),
    );
  }

  if (!doc.grant_types_supported) {
    add(
      probeFinding('probe.refresh-grant-not-advertised', {
        title: 'The authorization server does not list its grant types',
        detail: 'Without grant_types_supported RFC 8414 assumes authorization_code and implicit only, so it is unknown whether tokens can be refreshed; many servers refresh anyway.',
        evidence,
        severity: 'info',
      }),
    );
  } else if (!doc.grant_types_supported.includes('refresh_token')) {
    add(
      probeFinding('probe.refresh-grant-not-advertised', {
        title: 'The authorization server does not offer refresh tokens',
        detail: `grant_types_supported is [${doc.grant_types_supported.join(', ')}]: when the access token expires, clients must send you through a new login.`,
        evidence,
      }),
    );
  }

  const methods = doc.token_endpoint_auth_methods_supported;
  if (methods && !methods.includes('none')) {
    add(
      probeFinding('probe.public-clients-unsupported', {
        title: 'The token endpoint does not take public clients',
        detail: `token_endpoint_auth_methods_supported is [${methods.join(', ')}], without "none". MCP clients on your machine are public clients; they need a registration that returns a client secret, or a pre-registered client id and secret in the config.${doc.client_id_metadata_document_supported === true ? ' Codex does not use its Client ID Metadata Document here for that reason (it registers dynamically, or cannot log in without dynamic registration); Claude Code still uses its document, a public client, which works where the server accepts public clients anyway.' : ''}`,
        evidence,
      }),
    );
  }

  if (doc.registration_endpoint && doc.client_id_metadata_document_supported !== true) {
    add(
      probeFinding('probe.dcr-only', {
        title: 'Clients can only register dynamically (no Client ID Metadata Documents)',
        detail:
          'Without a configured client id, each login by Claude Code or Codex registers a new client here (RFC 7591); where a server supports Client ID Metadata Documents both identify themselves with their published documents instead (Claude Code 2.1.332, Codex 0.171 when `none` is listed). 2026-07-28 deprecates Dynamic Client Registration in favour of them. Nothing to fix on your side; a registration per login is what the server\'s owner can spare clients by supporting them.',
        evidence,
      }),
    );
  }

  if (doc.authorization_response_iss_parameter_supported !== true) {
    add(
      probeFinding('probe.iss-parameter-not-advertised', {
        title: 'The authorization server does not return its issuer with the code (RFC 9207)',
        detail: 'authorization_response_iss_parameter_supported is not true, so 2026-07-28 clients cannot check the iss parameter that protects against mix-up attacks; they go on without it.',
        evidence,
      }),
    );
  }
}
