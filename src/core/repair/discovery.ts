// What a repair needs to know about a server before it talks to its authorization server: the
// issuer and its metadata, the resource indicator and the scopes to ask for, found by the same
// discovery the probe runs (so the two never disagree) and refused when the probe would report
// an error that makes the exchange unsafe (issuer mismatch, insecure endpoints, no PKCE S256).
import type * as oauth from 'oauth4webapi';
import type { Finding, McpServer } from '../model';
import { DiscoveryCache } from '../probe/authorizationServer';
import type { AuthorizationServerMetadata } from '../probe/metadata';
import type { HttpSettings } from '../probe/http';
import { resourceSide } from '../probe/probe';
import { DEFAULT_REVISION, type SpecRevision } from '../probe/revisions';
import { resourceIdentifier } from '../probe/urls';

export interface RepairDiscovery {
  issuer: string;
  /** The metadata as oauth4webapi takes it; `issuer` is the one discovery asked for and got back. */
  authorizationServer: oauth.AuthorizationServer;
  /** RFC 8707 resource indicator: the metadata's `resource`, else the server URL without fragment. */
  resource: string;
  /** Scopes to ask for at login (MCP 2025-11-25 §Scope Selection Strategy): the challenge's, else the resource's scopes_supported; undefined: omit scope. */
  scopes?: string[];
  /** Every finding discovery produced (for the user's confirmation and errors). */
  findings: Finding[];
}

export type RepairDiscoveryResult = { ok: true; discovery: RepairDiscovery } | { ok: false; reason: string; findings: Finding[] };

/** Probe findings that make talking to the authorization server unsafe or pointless. */
const BLOCKING = new Set([
  'probe.issuer-mismatch',
  'probe.endpoint-insecure',
  'probe.pkce-s256-missing',
  'probe.endpoints-missing',
  'probe.insecure-url',
  'probe.url-refused',
]);

function legacyDefaults(serverUrl: URL): AuthorizationServerMetadata {
  const origin = serverUrl.origin;
  return {
    issuer: origin,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    registration_endpoint: `${origin}/register`,
    response_types_supported: ['code'],
  };
}

export async function discoverForRepair(server: McpServer, http: HttpSettings, revision: SpecRevision = DEFAULT_REVISION): Promise<RepairDiscoveryResult> {
  let serverUrl: URL;
  try {
    serverUrl = new URL(server.url ?? '');
  } catch {
    return { ok: false, reason: `${server.name} has no usable URL`, findings: [] };
  }
  const side = await resourceSide(server, serverUrl, revision, http);
  const findings = [...side.findings];
  if (side.outcome.kind === 'no-auth') return { ok: false, reason: `${server.name} answers without a token; there is nothing to log in to`, findings };
  if (side.outcome.kind !== 'oauth' && side.outcome.kind !== 'unauthorized') {
    return { ok: false, reason: findings.find((f) => f.severity === 'error')?.title ?? `${server.name} could not be reached`, findings };
  }
  const cache = new DiscoveryCache();
  const issuers = side.prm?.authorizationServers ?? [];
  const configured = server.oauth?.authServerMetadataUrl;
  // Claude Code's authServerMetadataUrl overrides discovery for that client; otherwise the first listed issuer (as SDK clients do), else the 2025-03-26 origin rule.
  const d = configured
    ? await cache.get(http, configured, 'configured', configured)
    : issuers[0]
      ? await cache.get(http, issuers[0], 'resource-metadata')
      : await cache.get(http, serverUrl.origin, 'legacy');
  findings.push(...d.findings);
  // 2025-03-26 §Fallbacks: without metadata at the server origin, clients use its /authorize,
  // /token and /register (the SDKs still do); only for servers without protected-resource metadata.
  const doc = d.document ?? (d.via === 'legacy' ? legacyDefaults(serverUrl) : undefined);
  if (!doc?.issuer || !doc.token_endpoint) {
    return { ok: false, reason: findings.find((f) => f.severity === 'error')?.title ?? 'the authorization server publishes no usable metadata', findings };
  }
  // A resource the metadata names that is not this server's would bind tokens to the wrong audience
  // (RFC 9728 §3.3), unless the user pinned the resource themselves (Codex oauth_resource).
  const blocking = findings.find((f) => (BLOCKING.has(f.code) || (f.code === 'probe.resource-mismatch' && !server.oauth?.resource)) && f.severity === 'error');
  if (blocking) {
    const named = blocking.code === 'probe.resource-mismatch' ? side.prm?.found?.document.resource : undefined;
    return { ok: false, reason: named ? `${blocking.title} (${named})` : blocking.title, findings };
  }
  const bearer = side.outcome.kind === 'oauth' ? side.outcome.bearer : undefined;
  const challengeScopes = bearer?.scope?.split(' ').filter(Boolean);
  const scopes = server.oauth?.scopes?.length ? server.oauth.scopes : challengeScopes?.length ? challengeScopes : side.prm?.found?.document.scopes_supported;
  const as: oauth.AuthorizationServer = { ...(doc as Record<string, unknown>), issuer: d.issuer === doc.issuer ? d.issuer : doc.issuer } as oauth.AuthorizationServer;
  return {
    ok: true,
    discovery: {
      issuer: as.issuer,
      authorizationServer: as,
      resource: server.oauth?.resource ?? side.prm?.found?.document.resource ?? resourceIdentifier(serverUrl),
      ...(scopes?.length ? { scopes } : {}),
      findings,
    },
  };
}
