// Every finding the probe can report, in one place: its default severity, the rule it rests on
// (spec section, RFC clause or known client issue), the spec revisions the rule belongs to, and
// the repairs that address it. docs/findings.md documents each code (a unit test keeps the two in
// step). Sources: the MCP authorization spec per revision (modelcontextprotocol/modelcontextprotocol
// docs/specification/<revision>/basic/authorization*), shared/docs/spec-and-peers.md §1.11 (check
// ids in brackets) and shared/docs/failure-modes.md (failure-mode ids B1, D8, ...).
import type { Finding, RepairId, Severity, SpecRevision } from '../model';
import { ALL_REVISIONS, since, through } from './revisions';

export interface FindingSpec {
  severity: Severity;
  reference: string;
  revisions?: SpecRevision[];
  repairs: RepairId[];
}

const FROM_0618 = since('2025-06-18');
const FROM_1125 = since('2025-11-25');
const ONLY_LATEST = since('2026-07-28');

export const PROBE_CATALOGUE = {
  // ── The unauthenticated MCP request ──────────────────────────────────────────────────────────
  'probe.no-auth-required': {
    severity: 'info',
    reference: 'MCP authorization §Authorization Flow: authorization is optional; a server that answers without a token needs none (failure mode B1)',
    revisions: ALL_REVISIONS,
    repairs: [],
  },
  'probe.challenge-missing': {
    severity: 'error',
    reference: 'RFC 9110 §15.5.2 (a 401 MUST send WWW-Authenticate); MCP 2025-06-18 §2.3.1 [B2]; claude-code#61376 "Failed to connect" (B2)',
    revisions: ALL_REVISIONS,
    repairs: ['report-server'],
  },
  'probe.auth-after-initialize': {
    severity: 'info',
    reference: 'MCP 2025-11-25 §Scope Challenge Handling (a 401 or 403 may come on any request); MCP conformance auth/scope-step-up',
    revisions: FROM_1125,
    repairs: [],
  },
  'probe.challenge-not-bearer': {
    severity: 'error',
    reference: 'RFC 6750 §3 (OAuth resources challenge with Bearer); failure mode A4',
    revisions: ALL_REVISIONS,
    repairs: ['edit-config', 'report-server'],
  },
  'probe.challenge-malformed': {
    severity: 'warning',
    reference: 'RFC 9110 §11.6.1 WWW-Authenticate grammar',
    revisions: ALL_REVISIONS,
    repairs: ['report-server'],
  },
  'probe.challenge-without-resource-metadata': {
    severity: 'warning',
    reference: 'RFC 9728 §5.1; MCP 2025-06-18 §2.3.1 (MUST), 2025-11-25 §Protected Resource Metadata Discovery Requirements (header or well-known) [B3]',
    revisions: FROM_0618,
    repairs: ['report-server'],
  },
  'probe.forbidden-without-challenge': {
    severity: 'error',
    reference: 'MCP authorization §Error Handling (403 is for insufficient scope); failure mode B9, claude-code#78220',
    revisions: ALL_REVISIONS,
    repairs: ['report-server'],
  },
  'probe.redirect': {
    severity: 'error',
    reference: 'Failure mode B8 (SSO or WAF front door); python-sdk#3504 (cross-origin redirects refused)',
    revisions: ALL_REVISIONS,
    repairs: ['edit-config', 'report-server'],
  },
  'probe.not-found': {
    severity: 'error',
    reference: 'MCP transports §Streamable HTTP (one MCP endpoint path); failure mode A8',
    revisions: ALL_REVISIONS,
    repairs: ['edit-config'],
  },
  'probe.method-not-allowed': {
    severity: 'error',
    reference: 'MCP transports §Streamable HTTP vs the deprecated HTTP+SSE transport; failure mode A3',
    revisions: ALL_REVISIONS,
    repairs: ['edit-config'],
  },
  'probe.html-response': {
    severity: 'error',
    reference: 'Failure modes B1 and B8 (an HTML page where MCP or JSON was expected)',
    revisions: ALL_REVISIONS,
    repairs: ['edit-config', 'report-server'],
  },
  'probe.server-error': {
    severity: 'error',
    reference: 'Failure mode B9 (5xx and 530 are outages, not authentication problems)',
    revisions: ALL_REVISIONS,
    repairs: ['report-server'],
  },
  'probe.unexpected-status': {
    severity: 'warning',
    reference: 'MCP transports §Streamable HTTP; MCP authorization §Error Handling',
    revisions: ALL_REVISIONS,
    repairs: ['report-server'],
  },
  'probe.timeout': {
    severity: 'error',
    reference: 'Probe limit (per-request timeout, setting mcpAuthDoctor.probe.timeoutSeconds); failure mode F5',
    repairs: ['report-server'],
  },
  'probe.too-large': {
    severity: 'error',
    reference: 'Probe limit (body cap, 1 MiB by default); RFC 9728 §7.7 / spec Security Best Practices §SSRF (bounded fetches)',
    repairs: ['report-server'],
  },
  'probe.unreachable': {
    severity: 'error',
    reference: 'DNS, TCP or TLS failed [A4]; failure mode F2 (proxy)',
    repairs: [],
  },
  'probe.tls-untrusted': {
    severity: 'error',
    reference: 'Failure mode F1 (corporate TLS interception): Node trusts its own CA list plus NODE_EXTRA_CA_CERTS',
    repairs: [],
  },
  'probe.insecure-url': {
    severity: 'error',
    reference: 'MCP authorization §Communication Security (HTTPS everywhere; http only for loopback) [A1]',
    revisions: ALL_REVISIONS,
    repairs: ['edit-config'],
  },
  'probe.url-refused': {
    severity: 'error',
    reference: 'MCP Security Best Practices §SSRF; RFC 9728 §7.7 (URLs a server hands out are checked before they are fetched)',
    revisions: ALL_REVISIONS,
    repairs: ['report-server'],
  },
  'probe.static-authorization-header': {
    severity: 'info',
    reference: 'Static Authorization header beside OAuth [A3]; MCP authorization §Token Handling',
    revisions: ALL_REVISIONS,
    repairs: ['edit-config'],
  },
  'probe.client-authentication': {
    severity: 'info',
    reference: 'Codex 0.171 codex-mcp effective_mcp_servers_from_configured / McpServerConnectionIdentity (bearer_token_env_var, auth = "chatgpt", http_headers_helper decide what is sent; no MCP OAuth login is read)',
    repairs: [],
  },
  'probe.unsupported-protocol-version': {
    severity: 'warning',
    reference: 'MCP 2026-07-28 basic/versioning §Backward Compatibility (UnsupportedProtocolVersionError -32022)',
    revisions: ONLY_LATEST,
    repairs: ['report-server'],
  },

  // ── Protected-resource metadata (RFC 9728) ───────────────────────────────────────────────────
  'probe.resource-metadata-missing': {
    severity: 'error',
    reference: 'RFC 9728 §3; MCP 2025-06-18 §2.3.1, 2025-11-25 §Protected Resource Metadata Discovery Requirements (MUST) [C1]; failure modes B2, B3',
    revisions: FROM_0618,
    repairs: ['edit-config', 'report-server'],
  },
  'probe.resource-metadata-invalid': {
    severity: 'error',
    reference: 'RFC 9728 §2 and §3.2 (a JSON object, application/json) [C2, C3]',
    revisions: FROM_0618,
    repairs: ['report-server'],
  },
  'probe.resource-mismatch': {
    severity: 'error',
    reference: 'RFC 9728 §3.3 (resource MUST be identical); MCP §Canonical Server URI [C4, C5]; failure mode B4',
    revisions: FROM_0618,
    repairs: ['edit-config', 'report-server'],
  },
  'probe.no-authorization-servers': {
    severity: 'error',
    reference: 'MCP 2025-06-18+ §Authorization Server Location (authorization_servers MUST list at least one) [C6]',
    revisions: FROM_0618,
    repairs: ['report-server'],
  },
  'probe.several-authorization-servers': {
    severity: 'info',
    reference: 'RFC 9728 §7.6; MCP 2026-07-28 (separate registration state per authorization server) [C7]',
    revisions: FROM_0618,
    repairs: [],
  },
  'probe.authorization-server-other-origin': {
    severity: 'info',
    reference: 'Failure mode B6: claude-code#80731 (2.1.202–2.1.206 built /authorize and /token from the MCP origin)',
    revisions: FROM_0618,
    repairs: [],
  },
  'probe.offline-access-in-resource-scopes': {
    severity: 'info',
    reference: 'MCP 2026-07-28 §Refresh Tokens (the resource SHOULD NOT list offline_access) [C8]',
    revisions: ONLY_LATEST,
    repairs: ['report-server'],
  },
  'probe.bearer-header-not-supported': {
    severity: 'warning',
    reference: 'RFC 9728 §2 bearer_methods_supported; OAuth 2.1 §5.1.1 (MCP clients send the header) [C9]',
    revisions: FROM_0618,
    repairs: ['report-server'],
  },
  'probe.legacy-discovery': {
    severity: 'warning',
    reference: 'MCP 2025-03-26 §Server Metadata Discovery (the server origin is the authorization server) [D1]',
    revisions: through('2025-03-26'),
    repairs: ['report-server'],
  },

  // ── Authorization-server metadata (RFC 8414 / OpenID Connect Discovery) ──────────────────────
  'probe.authorization-server-metadata-missing': {
    severity: 'error',
    reference: 'RFC 8414 §3; MCP 2025-11-25 §Authorization Server Metadata Discovery (fixed order of 2 or 3 URLs) [D1]; failure modes B3, B7',
    revisions: ALL_REVISIONS,
    repairs: ['edit-config', 'report-server'],
  },
  'probe.authorization-server-metadata-invalid': {
    severity: 'error',
    reference: 'RFC 8414 §2 and §3.2 (a JSON object with the required members)',
    revisions: ALL_REVISIONS,
    repairs: ['report-server'],
  },
  'probe.oidc-discovery-only': {
    severity: 'info',
    reference: 'MCP 2025-11-25 §Authorization Server Metadata Discovery (OpenID Discovery allowed since 2025-11-25; 2025-06-18 clients only try RFC 8414)',
    revisions: FROM_1125,
    repairs: [],
  },
  'probe.issuer-mismatch': {
    severity: 'error',
    reference: 'RFC 8414 §3.3 / OpenID Discovery §4.3 (issuer MUST be identical), explicit in MCP 2026-07-28 [D2]; failure mode B5',
    revisions: ALL_REVISIONS,
    repairs: ['edit-config', 'report-server'],
  },
  'probe.endpoints-missing': {
    severity: 'error',
    reference: 'RFC 8414 §2 (authorization_endpoint, token_endpoint, response_types_supported ∋ code) [D4]',
    revisions: ALL_REVISIONS,
    repairs: ['report-server'],
  },
  'probe.endpoint-insecure': {
    severity: 'error',
    reference: 'OAuth 2.1 §1.5 (TLS for every endpoint); MCP authorization §Communication Security [D6]',
    revisions: ALL_REVISIONS,
    repairs: ['report-server'],
  },
  'probe.pkce-not-advertised': {
    severity: 'error',
    reference: 'MCP 2025-11-25 / 2026-07-28 §Authorization Code Protection: clients MUST refuse when code_challenge_methods_supported is absent [D5, D11]',
    revisions: FROM_1125,
    repairs: ['report-server'],
  },
  'probe.pkce-s256-missing': {
    severity: 'error',
    reference: 'OAuth 2.1 §4.1.1 (S256); MCP §Authorization Code Protection [D5]',
    revisions: ALL_REVISIONS,
    repairs: ['report-server'],
  },
  'probe.refresh-grant-not-advertised': {
    severity: 'warning',
    reference: 'RFC 8414 §2 grant_types_supported (default authorization_code, implicit) [D9]; failure mode D6',
    revisions: ALL_REVISIONS,
    repairs: ['report-server'],
  },
  'probe.public-clients-unsupported': {
    severity: 'warning',
    reference: 'RFC 8414 §2 token_endpoint_auth_methods_supported (default client_secret_basic); OAuth 2.1 §2.1 public clients [D9]; failure mode C7',
    revisions: ALL_REVISIONS,
    repairs: ['edit-config', 'report-server'],
  },
  'probe.no-registration-path': {
    severity: 'error',
    reference:
      'MCP 2025-11-25 / 2026-07-28 §Client Registration Approaches (pre-registered, CIMD, DCR) [D7, E1]; failure mode C1, claude-code#3433; each client\'s rule in src/core/clientRegistration.ts (Claude Code 2.1.332 and Codex 0.171 binaries, lab runs: Codex uses CIMD only where `none` is listed)',
    revisions: ALL_REVISIONS,
    repairs: ['edit-config', 'report-server'],
  },
  'probe.dcr-only': {
    severity: 'info',
    reference: 'MCP 2026-07-28 client-registration (Dynamic Client Registration deprecated in favour of Client ID Metadata Documents); Claude Code 2.1.332 and Codex 0.171 use CIMD where a server supports it (src/core/clientRegistration.ts)',
    revisions: ONLY_LATEST,
    repairs: [],
  },
  'probe.cimd-without-public-clients': {
    severity: 'info',
    reference:
      'draft-ietf-oauth-client-id-metadata-document (CIMD clients are public clients, token_endpoint_auth_method none); RFC 8414 §2 token_endpoint_auth_methods_supported; Codex 0.171 "MCP authorization server does not advertise CIMD with token endpoint auth method `none`" (lab: it registers by DCR instead)',
    revisions: FROM_1125,
    repairs: ['report-server'],
  },
  'probe.enterprise-managed': {
    severity: 'info',
    reference:
      'MCP extension io.modelcontextprotocol/enterprise-managed-authorization (SEP-990; ID-JAG: RFC 8693 token exchange at the IdP, RFC 7523 jwt-bearer grant at the AS); MCP conformance auth/enterprise-managed-authorization; Claude Code 2.1.332 oauth.xaa / `claude mcp xaa`; Codex 0.171 auth = "ema_auth"',
    repairs: [],
  },
  'probe.iss-parameter-not-advertised': {
    severity: 'info',
    reference: 'RFC 9207 §2.3; MCP 2026-07-28 §Authorization Response Validation [D8]',
    revisions: ONLY_LATEST,
    repairs: [],
  },

  // ── The stored token, judged ─────────────────────────────────────────────────────────────────
  'token.not-logged-in': {
    severity: 'warning',
    reference: 'Local store [L1]: the client has no access token for this server',
    repairs: ['relogin'],
  },
  'token.expired': {
    severity: 'error',
    reference: 'Stored expiry [L2]; no refresh token, so only a new login helps [L3]',
    repairs: ['relogin'],
  },
  'token.expired-refreshable': {
    severity: 'warning',
    reference: 'Stored expiry [L2] with a refresh token [L3]: the client should refresh; failure mode D1 (claude-code#5706)',
    repairs: ['refresh', 'relogin'],
  },
  'token.expiring': {
    severity: 'warning',
    reference: 'Stored expiry within the margin (setting mcpAuthDoctor.expiryWarningMinutes) [L2]; failure mode D7',
    repairs: ['refresh', 'relogin'],
  },
  'token.rejected': {
    severity: 'error',
    reference: 'MCP authorization §Error Handling (401 for invalid or expired tokens); RFC 6750 §3.1 invalid_token [H2]; failure mode D8',
    revisions: ALL_REVISIONS,
    repairs: ['refresh', 'relogin'],
  },
  'token.insufficient-scope': {
    severity: 'error',
    reference: 'MCP 2025-11-25 §Scope Challenge Handling (403 insufficient_scope → step-up authorization) [H5]; failure mode G5',
    revisions: FROM_1125,
    repairs: ['relogin'],
  },
  'token.forbidden': {
    severity: 'error',
    reference: 'MCP authorization §Error Handling (403 means the token is known but not enough) [H2]',
    revisions: ALL_REVISIONS,
    repairs: ['relogin', 'report-server'],
  },
  'token.not-checked': {
    severity: 'info',
    reference: 'The live check sends the stored access token only to the server it was issued for, over https or loopback',
    repairs: [],
  },
  'token.no-refresh-token': {
    severity: 'info',
    reference: 'Local store [L3]; MCP 2026-07-28 §Refresh Tokens (clients MUST NOT assume one is issued; offline_access); failure mode D6',
    repairs: ['relogin'],
  },
  'token.no-client-id': {
    severity: 'warning',
    reference: 'Local store: a refresh needs the client id the token was issued to (RFC 6749 §6)',
    repairs: ['relogin'],
  },
  // Not tied to a spec revision: Codex (>= 0.149, checked in 0.171) and Claude Code 2.1.332 enforce it whatever they speak.
  'token.issuer-changed': {
    severity: 'error',
    reference:
      'RFC 9207 (mix-up: a grant belongs to the issuer that issued it) and RFC 8414 §3.3 (issuer comparison); MCP 2026-07-28 client-registration §Authorization Server Binding (credentials keyed by issuer) [L5]; Codex 0.171 issuer_binding.rs "OAuth authorization server issuer changed … authorization required", rmcp_client.rs "stored OAuth refresh credentials could not be bound to their issuer"',
    repairs: ['relogin'],
  },
  'token.stale-discovery': {
    severity: 'warning',
    reference: 'Stored discovery state vs fresh discovery (failure modes B3, D10: refresh goes to the old authorization server)',
    repairs: ['reset', 'relogin'],
  },
  'token.audience-mismatch': {
    severity: 'warning',
    reference: 'RFC 8707 §2 and RFC 9068 aud; MCP 2025-06-18+ §Token Audience Binding [L7]; failure mode G1',
    revisions: FROM_0618,
    repairs: ['relogin', 'report-server'],
  },
  'token.expiry-disagrees': {
    severity: 'info',
    reference: 'Stored expiry vs the token itself (JWT exp, decoded for display only) [L2]; failure mode D5',
    repairs: [],
  },
  'token.expiry-implausible': {
    severity: 'warning',
    reference: 'Stored expiry in seconds where milliseconds are expected, or absurdly far [L2]; failure mode D5 (claude-code#95113)',
    repairs: ['relogin'],
  },
  // ── Failure modes seen from a failed refresh or the store's history (failureModes.ts) ────────
  'token.client-unregistered': {
    severity: 'error',
    reference: 'RFC 6749 §5.2 invalid_client; RFC 7591 (a dynamic registration the AS deleted); failure mode C3 (the stale client id is replayed forever)',
    repairs: ['reset', 'relogin'],
  },
  'token.refresh-family-revoked': {
    severity: 'error',
    reference: 'RFC 6749 §5.2 invalid_grant; RFC 9700 §4.14.2 (reuse of a rotated refresh token revokes the grant); failure mode D3',
    repairs: ['relogin'],
  },
  'token.refresh-token-overwritten': {
    severity: 'warning',
    reference: 'Failure mode D2 (a write-back without the rotated refresh token, or with an older one); Codex 0.171 rmcp-client oauth/refresh_transaction.rs refreshed_tokens carries the stored token forward',
    repairs: ['relogin'],
  },
} as const satisfies Record<string, FindingSpec>;

export type ProbeFindingCode = keyof typeof PROBE_CATALOGUE;

export interface FindingText {
  title: string;
  detail: string;
  evidence?: string[];
  /** Overrides the catalogue's severity where the context decides (e.g. a rule stricter in later revisions). */
  severity?: Severity;
}

/** A finding of the catalogue with its severity, reference, revisions and repairs filled in. */
export function probeFinding(code: ProbeFindingCode, text: FindingText): Finding {
  const spec: FindingSpec = PROBE_CATALOGUE[code];
  const f: Finding = { code, severity: text.severity ?? spec.severity, title: text.title, detail: text.detail, reference: spec.reference };
  if (text.evidence?.length) f.evidence = text.evidence;
  if (spec.revisions) f.revisions = [...spec.revisions];
  if (spec.repairs.length) f.repairs = [...spec.repairs];
  return f;
}

/** "2025-06-18 and later", "2026-07-28", "all revisions": how a finding names its revisions. */
export function describeRevisions(revisions: SpecRevision[] | undefined): string | undefined {
  if (!revisions?.length) return undefined;
  if (revisions.length === ALL_REVISIONS.length) return 'all revisions';
  const last = ALL_REVISIONS[ALL_REVISIONS.length - 1];
  if (revisions.length === 1) return revisions[0];
  if (revisions[revisions.length - 1] === last) return `${revisions[0]} and later`;
  return revisions.join(', ');
}
