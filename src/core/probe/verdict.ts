// Will each client accept this server as configured? The clients differ on exactly the points
// where servers are sloppy: resource strictness, issuer echo, a missing PKCE field, 403 handling,
// how they discover. Each rule cites where the behaviour was seen; "unknown" where no source says.
// Sources: shared/docs/spec-and-peers.md §1.2 (VS Code exact resource check; SDK prefix check),
// §1.11 D2 (issuer checks per client), §4 (VS Code), §5.1/5.2 (Claude Code, Codex);
// shared/docs/failure-modes.md B2, B4, B5, C1, G5; @modelcontextprotocol/sdk 1.32.2 client/auth.ts.
import type { Finding } from '../model';
import { clientDefinition } from '../clients/registry';
import type { ProbeFindingCode } from './catalogue';
import type { RegistrationSupport, RegistrationVerdict } from '../clientRegistration';

export type CompatClient = 'claude-code' | 'codex' | 'vscode' | 'sdk';

export const COMPAT_CLIENT_LABELS: Record<CompatClient, string> = {
  'claude-code': 'Claude Code',
  codex: 'Codex',
  vscode: 'VS Code',
  sdk: 'MCP SDK clients',
};

/** works; at-risk: works in some versions or setups; fails; unknown: no source says. */
export type Verdict = 'works' | 'at-risk' | 'fails' | 'unknown';

export interface ClientVerdict {
  client: CompatClient;
  verdict: Verdict;
  /** Why, one line per finding that decided it. */
  reasons: string[];
}

export interface VerdictContext {
  /** Protected-resource metadata was found (at any URL). */
  resourceMetadataFound: boolean;
  /** The 2025-03-26 fallback (metadata at the server origin) found an authorization server. */
  legacyMetadataFound: boolean;
  /** Claude Code's oauth.authServerMetadataUrl is set and served usable metadata. */
  claudeMetadataOverride: boolean;
  /** A client id is configured or stored for this server (no registration needed). */
  preRegistered: boolean;
  /** What the first authorization server offers for registration (absent: no metadata). */
  registrationOffered?: RegistrationSupport;
  /** Claude Code's and Codex's own registration verdicts (registrationJudgement.ts): `none` fails that client. */
  registration?: RegistrationVerdict[];
  /** Enterprise-managed authorization: registration is not how these clients get in. */
  enterpriseManaged?: boolean;
}

type Rule = Partial<Record<CompatClient, [Verdict, string]>> | ((ctx: VerdictContext, f: Finding) => Partial<Record<CompatClient, [Verdict, string]>>);

const ALL_FAIL = (why: string): Partial<Record<CompatClient, [Verdict, string]>> => ({
  'claude-code': ['fails', why],
  codex: ['fails', why],
  vscode: ['fails', why],
  sdk: ['fails', why],
});

const RULES: Partial<Record<ProbeFindingCode, Rule>> = {
  'probe.challenge-missing': (ctx) => ({
    'claude-code': ['fails', 'shows "Failed to connect" instead of a login when the 401 has no Bearer challenge (claude-code#61376, #31349)'],
    vscode: ctx.resourceMetadataFound ? ['works', 'falls back to the well-known metadata URL'] : ['fails', 'no metadata to fall back to'],
    sdk: ctx.resourceMetadataFound ? ['works', 'starts discovery on any 401 and finds the well-known metadata'] : ['fails', 'no metadata to fall back to'],
    codex: ['unknown', 'no source on how Codex treats a 401 without a challenge'],
  }),
  'probe.challenge-not-bearer': {
    'claude-code': ['fails', 'starts OAuth only for a Bearer challenge (failure mode A4)'],
    codex: ['unknown', 'no source'],
    vscode: ['unknown', 'no source'],
    sdk: ['at-risk', 'starts discovery on any 401; a login only helps if the server takes Bearer tokens'],
  },
  'probe.challenge-without-resource-metadata': (ctx) =>
    ctx.resourceMetadataFound
      ? {}
      : {
          'claude-code': ['fails', 'without resource_metadata or well-known metadata it reports "Failed to connect" (failure mode B2)'],
        },
  'probe.resource-metadata-missing': (ctx) => ({
    'claude-code': ctx.claudeMetadataOverride ? ['works', 'uses the configured oauth.authServerMetadataUrl'] : ['fails', 'cannot find the authorization server (failure mode B2); set oauth.authServerMetadataUrl'],
    vscode: ['fails', 'needs protected-resource metadata to find the authorization server'],
    sdk: ctx.legacyMetadataFound ? ['works', 'falls back to the 2025-03-26 rule: metadata at the server origin'] : ['fails', 'no metadata at the well-known URLs or the server origin'],
    codex: ['unknown', 'no source on its fallback'],
  }),
  'probe.legacy-discovery': {
    sdk: ['works', 'still implements the 2025-03-26 origin fallback (discoverOAuthServerInfo)'],
    'claude-code': ['at-risk', 'SDK-based; the fallback is not documented for Claude Code'],
    vscode: ['unknown', 'no source'],
    codex: ['unknown', 'no source'],
  },
  'probe.resource-mismatch': (_ctx, f) =>
    f.severity === 'warning'
      ? {
          vscode: ['fails', 'checks resource exactly (RFC 9728 §3.3): "does not match MCP server resolved resource"'],
          sdk: ['works', 'accepts a same-origin parent path (checkResourceAllowed)'],
          'claude-code': ['works', 'SDK-style prefix check'],
          codex: ['unknown', 'no source'],
        }
      : {
          vscode: ['fails', 'resource must match exactly'],
          sdk: ['fails', '"Protected resource … does not match expected …"'],
          'claude-code': ['fails', '"SDK auth failed: Protected resource … does not match expected …" (failure mode B4)'],
          codex: ['unknown', 'no source'],
        },
  'probe.issuer-mismatch': {
    codex: ['fails', 'rmcp checks the issuer strictly (openai/codex#38944)'],
    sdk: ['at-risk', 'SDK v1 accepts it, SDK v2 refuses (IssuerMismatchError)'],
    vscode: ['works', 'does not compare the issuer'],
    'claude-code': ['unknown', 'no source on Claude Code\'s issuer check'],
  },
  'probe.pkce-not-advertised': {
    sdk: ['works', 'proceeds when code_challenge_methods_supported is absent'],
    'claude-code': ['works', 'SDK-based, proceeds'],
    vscode: ['unknown', 'no source'],
    codex: ['unknown', 'no source; spec-strict clients refuse'],
  },
  'probe.pkce-s256-missing': ALL_FAIL('every MCP client uses PKCE with S256'),
  // Claude Code and Codex: from their registration verdicts (compatibility() below). VS Code and
  // SDK clients: only where the server offers neither way (no source on their CIMD rules).
  'probe.no-registration-path': (ctx) =>
    ctx.preRegistered || ctx.registrationOffered?.cimd || ctx.registrationOffered?.dcr
      ? {}
      : {
          vscode: ['fails', '"Dynamic Client Registration not supported"; set oauth.clientId in mcp.json'],
          sdk: ['fails', 'needs a pre-registered client id'],
        },
  'probe.enterprise-managed': (_ctx, f) =>
    f.severity === 'warning'
      ? {
          'claude-code': ['at-risk', 'works only with "oauth": {"xaa": true}, a client id and secret, and an IdP connection (`claude mcp xaa setup`, CLAUDE_CODE_ENABLE_XAA=1)'],
          codex: ['at-risk', 'works only with auth = "ema_auth" from host policy and Codex\'s enterprise sign-in'],
          vscode: ['unknown', 'no source'],
          sdk: ['unknown', 'no source'],
        }
      : {},
  'probe.public-clients-unsupported': {
    'claude-code': ['at-risk', 'a public client; works only if registration hands out a secret or one is configured'],
    codex: ['at-risk', 'a public client'],
    vscode: ['at-risk', 'a public client'],
    sdk: ['at-risk', 'picks client_secret_* only when it has a secret'],
  },
  'probe.endpoint-insecure': {
    sdk: ['at-risk', 'SDK v2 refuses an insecure token endpoint (InsecureTokenEndpointError)'],
    'claude-code': ['at-risk', 'sends codes and tokens over plain http'],
    codex: ['at-risk', 'sends codes and tokens over plain http'],
    vscode: ['at-risk', 'sends codes and tokens over plain http'],
  },
  'probe.oidc-discovery-only': {
    'claude-code': ['works', 'also tries openid-configuration (failure mode B1 lists its URLs)'],
    sdk: ['works', 'buildDiscoveryUrls includes OpenID discovery'],
    vscode: ['works', 'tries OpenID discovery after RFC 8414'],
    codex: ['unknown', 'no source'],
  },
  'probe.authorization-server-other-origin': {
    'claude-code': ['works', 'except 2.1.202–2.1.206 (claude-code#80731)'],
  },
};

const ORDER: Record<Verdict, number> = { fails: 3, 'at-risk': 2, unknown: 1, works: 0 };
const CLIENTS: CompatClient[] = ['claude-code', 'codex', 'vscode', 'sdk'];

/** Token findings describe this machine's login, not the server; only step-up handling differs by client. */
const STEP_UP: Partial<Record<CompatClient, [Verdict, string]>> = {
  vscode: ['works', 'asks you to grant the extra scope on 403 insufficient_scope'],
  sdk: ['at-risk', 'SDK v1 re-authorizes once and gives up when the same challenge repeats'],
  'claude-code': ['at-risk', 'step-up on 403 is unreliable (claude-code#44652, failure mode G5)'],
  codex: ['unknown', 'no source'],
};

export function compatibility(findings: Finding[], ctx: VerdictContext): ClientVerdict[] {
  const out = new Map<CompatClient, ClientVerdict>(CLIENTS.map((c) => [c, { client: c, verdict: 'works', reasons: [] }]));
  const apply = (client: CompatClient, verdict: Verdict, why: string) => {
    const v = out.get(client);
    if (!v) return;
    if (verdict !== 'works') v.reasons.push(why);
    if (ORDER[verdict] > ORDER[v.verdict]) v.verdict = verdict;
  };
  for (const f of findings) {
    if (f.code === 'token.insufficient-scope') {
      for (const [c, [v, why]] of Object.entries(STEP_UP) as [CompatClient, [Verdict, string]][]) apply(c, v, `${f.title}: ${why}`);
      continue;
    }
    if (!f.code.startsWith('probe.')) continue;
    const rule = RULES[f.code as ProbeFindingCode];
    if (!rule) {
      // Server-level errors without a client-specific rule stop every client (outages, wrong URL, no metadata).
      if (f.severity === 'error') for (const c of CLIENTS) apply(c, 'fails', f.title);
      continue;
    }
    const effects = typeof rule === 'function' ? rule(ctx, f) : rule;
    for (const [c, [v, why]] of Object.entries(effects) as [CompatClient, [Verdict, string]][]) apply(c, v, `${f.title}: ${why}`);
  }
  if (!ctx.enterpriseManaged) {
    for (const r of ctx.registration ?? []) if (r.method === 'none') apply(clientDefinition(r.client).compatibility, 'fails', `no way to register: ${r.why}`);
  }
  return CLIENTS.map((c) => out.get(c) as ClientVerdict);
}
