// Step 2 of the probe: RFC 9728 protected-resource metadata, found the way the MCP spec orders
// it (2025-11-25 §Protected Resource Metadata Discovery Requirements: the challenge's
// resource_metadata first, then the path-aware well-known URL, then the root one) and checked
// the way RFC 9728 §3.3 and the MCP spec require, beside what each client actually tolerates.
import type { Finding } from '../model';
import { probeFinding } from './catalogue';
import { exchange, describeExchange, type Exchange, type HttpSettings, type TraceEntry } from './http';
import { isJsonContentType, parseProtectedResourceMetadata, type ProtectedResourceMetadata } from './metadata';
import { compareResource, parseUrl, protectedResourceMetadataUrls, resourceIdentifier, type ResourceComparison, type ResourceMetadataSource } from './urls';

export interface FoundResourceMetadata {
  url: string;
  source: ResourceMetadataSource;
  document: ProtectedResourceMetadata;
  /** Absent when the document has no usable `resource`. */
  resource?: ResourceComparison;
}

export interface ResourceMetadataResult {
  found?: FoundResourceMetadata;
  /** Issuer URLs to discover, in the document's order (SDK clients use the first). */
  authorizationServers: string[];
  findings: Finding[];
  trace: TraceEntry[];
}

/** At most this many authorization servers are followed per resource (a hostile list stays bounded). */
export const MAX_AUTHORIZATION_SERVERS = 4;

export async function discoverResourceMetadata(http: HttpSettings, serverUrl: URL, configHeaders: Record<string, string>, headerUrl?: string): Promise<ResourceMetadataResult> {
  const findings: Finding[] = [];
  const trace: TraceEntry[] = [];
  const candidates: { url: string; source: ResourceMetadataSource }[] = [];
  if (headerUrl) candidates.push({ url: new URL(headerUrl, serverUrl).href, source: 'header' });
  for (const c of protectedResourceMetadataUrls(serverUrl)) if (!candidates.some((x) => x.url === c.url)) candidates.push(c);

  const tried: string[] = [];
  for (const candidate of candidates) {
    const ex = await fetchMetadata(http, candidate.url, serverUrl, configHeaders);
    trace.push(ex.entry);
    tried.push(describeExchange(ex.entry));
    if (ex.entry.outcome === 'refused' && candidate.source === 'header') {
      findings.push(
        probeFinding('probe.url-refused', {
          title: 'The challenge names a metadata URL the probe will not fetch',
          detail: `resource_metadata points at ${ex.entry.url}: ${ex.entry.error ?? 'not allowed'}. Clients that check URLs refuse it too; the well-known URLs were tried instead.`,
          evidence: [describeExchange(ex.entry)],
        }),
      );
      continue;
    }
    if (ex.entry.outcome !== 'ok') continue;
    const parsed = parseProtectedResourceMetadata(ex.body);
    if (!parsed.document) continue;
    const found: FoundResourceMetadata = { url: ex.entry.url, source: candidate.source, document: parsed.document };
    const problems = [...parsed.problems];
    if (!isJsonContentType(ex.entry.contentType)) problems.push(`it is served as ${ex.entry.contentType ?? 'no content type'}, not application/json`);
    if (!parsed.document.resource) problems.push('the required member resource is missing');
    if (problems.length) {
      findings.push(
        probeFinding('probe.resource-metadata-invalid', {
          title: 'The protected-resource metadata is malformed',
          detail: `${ex.entry.url}: ${problems.join('; ')}. Clients that validate the document (the SDKs parse it with a schema) refuse it.`,
          evidence: [describeExchange(ex.entry)],
          severity: parsed.document.resource && parsed.problems.length === 0 ? 'warning' : 'error',
        }),
      );
    }
    if (parsed.document.resource) found.resource = checkResource(parsed.document.resource, serverUrl, candidate.source, ex.entry, findings);
    const authorizationServers = checkAuthorizationServers(parsed.document, serverUrl, ex.entry, findings);
    checkScopesAndMethods(parsed.document, ex.entry, findings);
    return { found, authorizationServers, findings, trace };
  }

  findings.push(
    probeFinding('probe.resource-metadata-missing', {
      title: 'No protected-resource metadata (RFC 9728) was found',
      detail:
        'Clients of 2025-06-18 and later learn where to log in from this document. None of the URLs the spec names served it as JSON, so Claude Code and VS Code cannot start a login. ' +
        'If you know the authorization server, Claude Code can be pointed at its metadata with "oauth": {"authServerMetadataUrl": "…"} in the server entry. Ask the server\'s owner to serve /.well-known/oauth-protected-resource.',
      evidence: tried,
    }),
  );
  return { authorizationServers: [], findings, trace };
}

function fetchMetadata(http: HttpSettings, url: string, serverUrl: URL, configHeaders: Record<string, string>): Promise<Exchange> {
  const sameOrigin = parseUrl(url)?.origin === serverUrl.origin;
  return exchange(http, {
    step: 'resource-metadata',
    method: 'GET',
    url,
    headers: { accept: 'application/json' },
    // The config's headers (API keys, tenant ids) go only to the MCP server's own origin, as VS Code does.
    ...(sameOrigin ? { configHeaders } : {}),
    read: 'full',
  });
}

function checkResource(resource: string, serverUrl: URL, source: ResourceMetadataSource, entry: TraceEntry, findings: Finding[]): ResourceComparison {
  const expected = resourceIdentifier(serverUrl);
  // Found at the root well-known URL, the origin itself is the identifier the URL was built from (RFC 9728 §3.3).
  const alsoIdentical = source === 'root' ? [serverUrl.origin, `${serverUrl.origin}/`] : [];
  const cmp = compareResource(resource, expected, alsoIdentical);
  const evidence = [describeExchange(entry), `resource: ${resource}`, `expected: ${expected}`];
  switch (cmp.match) {
    case 'identical':
    case 'equivalent':
      break;
    case 'trailing-slash':
    case 'prefix':
      if (!cmp.sdkAccepts) {
        findings.push(
          probeFinding('probe.resource-mismatch', {
            title: 'The metadata\'s resource is longer than the server URL',
            detail: `resource is ${resource} but the server URL is ${expected}. RFC 9728 §3.3 requires them to be identical; VS Code refuses it, and so do SDK-based clients such as Claude Code (the server URL must start with the resource). Configure the URL exactly as the metadata names it if that URL serves MCP, or ask the server's owner to fix resource.`,
            evidence,
          }),
        );
        break;
      }
      findings.push(
        probeFinding('probe.resource-mismatch', {
          title: `The metadata's resource differs from the server URL (${cmp.match === 'prefix' ? 'a parent path' : 'a trailing slash'})`,
          detail: `resource is ${resource} but the server URL is ${expected}. RFC 9728 §3.3 requires them to be identical: VS Code refuses this server ("does not match MCP server resolved resource"), while SDK-based clients such as Claude Code accept a same-origin parent path. Configure the URL exactly as the metadata names it if that URL serves MCP, or ask the server's owner to fix resource.`,
          evidence,
          severity: 'warning',
        }),
      );
      break;
    default:
      findings.push(
        probeFinding('probe.resource-mismatch', {
          title: 'The metadata describes a different resource than the server URL',
          detail: `resource is ${cmp.match === 'invalid' ? `not a valid absolute URL without fragment (${resource})` : resource} but the server URL is ${expected}. Clients refuse it ("Protected resource … does not match expected …"); tokens would be issued for the wrong audience. Typical causes: a reverse proxy that rewrites the scheme or host, or a hard-coded resource. Ask the server's owner.`,
          evidence,
        }),
      );
  }
  return cmp;
}

function checkAuthorizationServers(doc: ProtectedResourceMetadata, serverUrl: URL, entry: TraceEntry, findings: Finding[]): string[] {
  const listed = doc.authorization_servers ?? [];
  const valid = listed.filter((s) => {
    const u = parseUrl(s);
    return u && (u.protocol === 'https:' || u.protocol === 'http:') && !u.hash;
  });
  if (valid.length === 0) {
    findings.push(
      probeFinding('probe.no-authorization-servers', {
        title: 'The metadata names no authorization server',
        detail: listed.length
          ? `authorization_servers lists ${listed.length} entr${listed.length === 1 ? 'y' : 'ies'}, none a valid issuer URL. Without one no client can log in.`
          : 'authorization_servers is missing or empty; the MCP spec requires at least one. Without it no client can log in.',
        evidence: [describeExchange(entry)],
      }),
    );
    return [];
  }
  if (valid.length > 1) {
    findings.push(
      probeFinding('probe.several-authorization-servers', {
        title: `The metadata lists ${valid.length} authorization servers`,
        detail: `SDK-based clients (Claude Code among them) use the first (${valid[0]}); each keeps its own registration per server. The probe checked the first ${Math.min(valid.length, MAX_AUTHORIZATION_SERVERS)}.`,
        evidence: valid.map((s) => `authorization_servers: ${s}`),
      }),
    );
  }
  const first = parseUrl(valid[0]);
  if (first && first.origin !== serverUrl.origin) {
    findings.push(
      probeFinding('probe.authorization-server-other-origin', {
        title: `Logins happen at another origin (${first.origin})`,
        detail: 'This is normal and allowed. Claude Code 2.1.202 to 2.1.206 built the login URLs from the MCP server\'s origin instead (claude-code#80731); if logins fail with one of those versions, update Claude Code.',
        evidence: [`authorization_servers: ${valid[0]}`],
      }),
    );
  }
  return valid.slice(0, MAX_AUTHORIZATION_SERVERS);
}

function checkScopesAndMethods(doc: ProtectedResourceMetadata, entry: TraceEntry, findings: Finding[]): void {
  if (doc.scopes_supported?.includes('offline_access')) {
    findings.push(
      probeFinding('probe.offline-access-in-resource-scopes', {
        title: 'The resource lists offline_access among its scopes',
        detail: 'offline_access is an authorization-server scope; 2026-07-28 says the resource SHOULD NOT list it. SDK clients that request every listed scope add a consent prompt for it.',
        evidence: [describeExchange(entry), `scopes_supported: ${doc.scopes_supported.join(' ')}`],
      }),
    );
  }
  if (doc.bearer_methods_supported && !doc.bearer_methods_supported.includes('header')) {
    findings.push(
      probeFinding('probe.bearer-header-not-supported', {
        title: 'The resource does not accept tokens in the Authorization header',
        detail: `bearer_methods_supported is [${doc.bearer_methods_supported.join(', ')}]; MCP clients only send the token in the Authorization header.`,
        evidence: [describeExchange(entry)],
      }),
    );
  }
}
