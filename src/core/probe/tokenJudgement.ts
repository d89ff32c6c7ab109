// Step 4 of the probe: the stored credential, judged. The stored expiry says what the client
// believes; one authenticated MCP request (the same request as step 1, with the stored access
// token, sent only to the server's own origin, redirects not followed) says what the server
// believes now. JWT claims are decoded for cross-checks and display only, never trusted.
import type { Finding, McpServer } from '../model';
import type { CredentialSummary } from '../credentials/store';
import { describeSpan, type TokenStatus } from '../tokenStatus';
import { probeFinding } from './catalogue';
import { describeExchange, exchange, type HttpSettings, type TraceEntry } from './http';
import { decodeJwtClaims, type AccessTokenClaims } from './jwt';
import { mcpProbeRequest } from './mcpRequest';
import type { SpecRevision } from './revisions';
import { bearerChallenge, parseWwwAuthenticate } from './wwwAuthenticate';
import { sameUrl } from './urls';
import { isoTime } from '../time';

/**
 * accepted: 2xx; rejected: 401; insufficient-scope: 403 insufficient_scope; forbidden: another
 * 403; unexpected: another status; unreachable: no answer; not-checked: no token to send, the
 * token could not be read, or checking was turned off.
 */
export type LiveResult = 'accepted' | 'rejected' | 'insufficient-scope' | 'forbidden' | 'unexpected' | 'unreachable' | 'not-checked';

export interface TokenJudgement {
  live: LiveResult;
  liveStatus?: number;
  /** Why it was not checked, in words. */
  notCheckedBecause?: string;
  /** JWT claims of the access token, decoded without verification (no signature, no token). */
  claims?: Pick<AccessTokenClaims, 'iss' | 'aud' | 'exp' | 'scopes'>;
  findings: Finding[];
  trace: TraceEntry[];
}

export interface JudgeInput {
  server: McpServer;
  serverUrl: URL;
  token: TokenStatus;
  summary?: CredentialSummary;
  /** The stored access token, read only when a live check is allowed. */
  readAccessToken?: () => Promise<string | undefined>;
  revision: SpecRevision;
  now: number;
  /** Issuers found by discovery (empty when discovery failed). */
  discoveredIssuers: string[];
  /**
   * The `issuer` each usable authorization-server document states (the discovered one where it
   * states none): what the clients bind a grant to and compare the stored `issuer` with.
   */
  metadataIssuers?: string[];
  /** The protected-resource metadata URL discovery used, if any. */
  resourceMetadataUrl?: string;
  /** The resource identifier tokens should be bound to (PRM resource, else the server URL). */
  resource: string;
  /** Whether the authorization server lists refresh_token among its grants (undefined: unknown). */
  refreshAdvertised?: boolean;
}

/** Why a login kept in an unread Keychain item is not checked live. */
export const KEYCHAIN_NOT_CHECKED = 'the token is in the Keychain, unread';

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

export async function judgeStoredToken(http: HttpSettings, input: JudgeInput): Promise<TokenJudgement> {
  const { token, now } = input;
  const out: TokenJudgement = { live: 'not-checked', findings: [], trace: [] };
  const label = `${input.server.name}`;
  if (token.state === 'in-keychain') {
    // A login, not a missing one; its token was not read (macOS would ask), so nothing to send.
    out.notCheckedBecause = KEYCHAIN_NOT_CHECKED;
    return out;
  }
  if (token.state === 'missing' || token.state === 'not-logged-in') {
    out.notCheckedBecause = 'no access token is stored';
    out.findings.push(
      probeFinding('token.not-logged-in', {
        title: 'Not logged in',
        detail: `${token.state === 'missing' ? 'Nothing is stored' : 'An entry without an access token is stored'} for ${label} in ${token.store}. The client will ask you to log in; use Re-login.`,
        evidence: [`store: ${token.store}`, ...(token.clientId ? [`client id: ${token.clientId}`] : [])],
      }),
    );
    return out;
  }

  let accessToken: string | undefined;
  try {
    accessToken = input.readAccessToken ? await input.readAccessToken() : undefined;
    if (!accessToken) out.notCheckedBecause = input.readAccessToken ? 'the stored access token could not be read' : 'live checks are turned off';
  } catch (err) {
    out.notCheckedBecause = `the stored access token could not be read (${err instanceof Error ? err.message : String(err)})`;
  }

  if (accessToken) {
    const claims = decodeJwtClaims(accessToken);
    if (claims) out.claims = { ...(claims.iss ? { iss: claims.iss } : {}), aud: claims.aud, ...(claims.exp ? { exp: claims.exp } : {}), scopes: claims.scopes };
    await liveCheck(http, input, accessToken, out);
  }

  const evidence = [`store: ${token.store}`, ...(token.fingerprint ? [`access token: ${token.fingerprint}`] : []), ...(token.expiresAt ? [`stored expiry: ${isoTime(token.expiresAt)}`] : [])];
  const expiredByStore = token.expiresAt !== null && token.expiresAt <= now;

  switch (out.live) {
    case 'accepted':
      if (expiredByStore) {
        out.findings.push(
          probeFinding('token.expiry-disagrees', {
            title: 'The server still accepts a token the store says has expired',
            detail: 'The stored expiry is earlier than the server\'s; the client will refresh or ask for a login although the token works.',
            evidence,
          }),
        );
      } else if (token.state === 'expiring') expiring(out, token, evidence, now);
      break;
    case 'rejected':
      if (expiredByStore) expired(out, token, evidence, now);
      else {
        out.findings.push(
          probeFinding('token.rejected', {
            title: 'The server rejects the stored token',
            detail: `The access token has not expired by the store's clock, but the server answered 401${out.liveStatus ? '' : ''}: it was revoked, the server lost its sessions or keys, or it was issued for another resource. ${token.hasRefreshToken ? 'Refresh it; if that fails, log in again.' : 'Log in again.'}`,
            evidence: [...evidence, ...out.trace.slice(0, 1).map(describeExchange)],
          }),
        );
      }
      break;
    case 'insufficient-scope':
    case 'forbidden':
      // Findings were added by the live check (they need the challenge).
      break;
    default:
      if (expiredByStore) expired(out, token, evidence, now);
      else if (token.state === 'expiring') expiring(out, token, evidence, now);
      if (out.live === 'unexpected' || out.live === 'unreachable' || out.notCheckedBecause) {
        out.findings.push(
          probeFinding('token.not-checked', {
            title: 'The token was not checked with the server',
            detail: `${out.notCheckedBecause ?? (out.live === 'unreachable' ? 'the server did not answer' : `the server answered ${out.liveStatus ?? '?'}`)}; its state comes from the stored expiry only.`,
            evidence,
          }),
        );
      }
  }

  if (!token.hasRefreshToken && out.live !== 'rejected') {
    out.findings.push(
      probeFinding('token.no-refresh-token', {
        title: 'No refresh token is stored',
        detail:
          input.refreshAdvertised
            ? 'The authorization server offers refresh tokens, but none was issued for this login (servers often want the offline_access scope). When the access token expires you will have to log in again.'
            : 'When the access token expires you will have to log in again.',
        evidence,
        severity: input.refreshAdvertised ? 'warning' : 'info',
      }),
    );
  }
  if (!token.clientId) {
    out.findings.push(
      probeFinding('token.no-client-id', {
        title: 'The stored login has no client id',
        detail: 'A refresh must name the client the token was issued to; without it the client can only start a new login.',
        evidence,
      }),
    );
  }
  if (token.expiresAt !== null && (token.expiresAt < 1e12 || token.expiresAt - now > TEN_YEARS_MS)) {
    out.findings.push(
      probeFinding('token.expiry-implausible', {
        title: 'The stored expiry is implausible',
        detail: `The store says ${isoTime(token.expiresAt)}: ${token.expiresAt < 1e12 ? 'seconds were probably stored where milliseconds are expected' : 'more than ten years ahead'}. The client may keep sending a dead token or never refresh; log in again.`,
        evidence,
      }),
    );
  }
  crossCheck(input, out, evidence);
  return out;
}

/**
 * Whether the issuer a stored grant is bound to is the one an authorization server names now, as
 * the client holding the grant compares them:
 * - Codex 0.171 exactly: rmcp-client oauth issuer_binding.rs `validate_refresh_token_issuer`
 *   (`current_issuer != stored_issuer`, the metadata's `issuer` against the stored one; the 0.171.0
 *   binary carries its "OAuth authorization server issuer changed for server …; authorization
 *   required"). Our refresh (repair/refresh.ts) compares exactly too.
 * - Claude Code 2.1.332 up to one trailing slash: its bundled MCP SDK's SEP-2352 binding (read from
 *   the linux-x64 2.1.332 binary: tokens and client information whose `issuer` stamp differs from
 *   `metadata.issuer ?? the authorization server URL` are ignored, `a === b` or equal but for a
 *   trailing `/` on one side). That check alone does not keep the old refresh token from the new
 *   server: see issuerChanged.
 */
export function boundIssuerMatches(client: McpServer['client'], stored: string, current: string): boolean {
  if (stored === current) return true;
  if (client === 'codex') return false;
  return (stored.endsWith('/') && stored.slice(0, -1) === current) || (current.endsWith('/') && current.slice(0, -1) === stored);
}

/** The stored grant's issuer when no authorization server discovery found now matches it. */
function changedIssuer(input: JudgeInput): { stored: string; now: string[] } | undefined {
  const stored = input.summary?.issuer?.trim();
  const now = input.metadataIssuers ?? input.discoveredIssuers;
  if (!stored || !now.length || now.some((i) => boundIssuerMatches(input.server.client, stored, i))) return undefined;
  return { stored, now };
}

/**
 * RFC 9207 / RFC 8414 §3.3: a grant belongs to the authorization server that issued it. When the
 * server now names another one, the refresh token must not go there (it would reach a server that
 * did not issue it; under a mix-up attack, one that can use it). What each side does:
 * - Codex 0.171 refuses to refresh (issuer_binding.rs) and sends the access token alone while it
 *   lasts (rmcp_client.rs `use_stored_access_token_only`, "stored OAuth refresh credentials could not
 *   be bound to their issuer"); then it needs a login. Proved on the lab (issuerChanged.test.ts).
 * - Claude Code 2.1.332 does not keep the binding: seen on the lab, `claude mcp list` registers a new
 *   client at the new server, its saveClientInformation re-stamps the entry's one top-level `issuer`
 *   with the new issuer while keeping the old refresh token, and the SDK's next step sends that
 *   refresh token to the new server's token endpoint (refused there: invalid_grant), then it drops
 *   the tokens and needs a login. So for Claude Code a login should come first.
 * - Our refresh sends nothing (repair/refresh.ts); our login registers at the new server (the old
 *   client id is not offered, login.ts), replaces the old refresh token and records the new issuer.
 */
function issuerChanged(input: JudgeInput, out: TokenJudgement, change: { stored: string; now: string[] }, evidence: string[]): void {
  const { token, server } = input;
  const codex = server.client === 'codex';
  const slashOnly = change.now.some((i) => i.replace(/\/$/, '') === change.stored.replace(/\/$/, ''));
  const expiredByStore = token.expiresAt !== null && token.expiresAt <= input.now;
  const works = out.live === 'accepted' && !expiredByStore;
  const lasting = works
    ? `The server still accepts the stored access token, so it works${token.expiresAt ? ` until it expires (${isoTime(token.expiresAt)})` : ' until the server refuses it'}; then the client needs a login.`
    : expiredByStore
      ? 'The access token has expired, so the server cannot be used until you log in again.'
      : out.live === 'rejected'
        ? 'The server rejects the stored access token too, so it cannot be used until you log in again.'
        : 'When the access token stops working, the client needs a login.';
  const clients = codex
    ? 'Codex will not refresh it there ("OAuth authorization server issuer changed", "stored OAuth refresh credentials could not be bound to their issuer") and neither will MCP Auth Doctor: the refresh token is never sent to the new server.'
    : `MCP Auth Doctor will not refresh it there. Claude Code 2.1.332 does: when it next needs a token it registers at ${change.now[0]}, re-stamps the login with that issuer and sends the old refresh token to its token endpoint (seen on a test server, where it was refused), then asks for a login. Log in again before Claude Code next connects.`;
  out.findings.push(
    probeFinding('token.issuer-changed', {
      title: `The login is bound to ${change.stored}; the server now names ${change.now.join(', ')}`,
      detail:
        `The stored grant was issued by ${change.stored}, but the server's metadata now sends clients to ${change.now.join(', ')}${slashOnly && codex ? ' (they differ only by a trailing slash, and Codex compares issuers exactly)' : ''}. ` +
        `A refresh token belongs to the authorization server that issued it (RFC 9207, RFC 8414 §3.3 issuer comparison). ${clients} ${lasting} ` +
        `Log in again: Re-login here registers with the new server, replaces the old refresh token and records the new issuer (or \`${codex ? 'codex' : 'claude'} mcp login ${server.name}\`). If you did not expect this server to move to ${change.now[0]}, ask its owner before logging in there.`,
      evidence: [...evidence, `bound to: ${change.stored}`, `the server names: ${change.now.join(', ')}`],
      // Codex: fine while the access token lasts. Claude Code: its next refresh hands the old refresh token to the new server.
      severity: works && codex ? 'warning' : 'error',
    }),
  );
  // Advice to refresh no longer holds: we (and Codex) do not refresh at the new issuer.
  out.findings = out.findings
    .filter((f) => f.code !== 'token.expired-refreshable')
    .map((f) => (f.repairs?.includes('refresh') ? { ...f, repairs: f.repairs.filter((r) => r !== 'refresh') } : f));
}

async function liveCheck(http: HttpSettings, input: JudgeInput, accessToken: string, out: TokenJudgement): Promise<void> {
  const origin = input.serverUrl.origin;
  // The access token is sent to the MCP server, the resource it was issued for (its audience,
  // RFC 8707), never to an authorization server: a changed issuer moves where a refresh token may
  // go, not where the access token goes, so the check still runs then (Codex 0.171 does the same,
  // sending the stored access token alone while it lasts). What must hold is that this is the
  // origin the login was stored for: an entry that records another server URL is not sent here.
  const storedFor = input.summary?.serverUrl ? parseOrigin(input.summary.serverUrl) : undefined;
  if (storedFor && storedFor !== origin) {
    out.notCheckedBecause = `the stored login was made for ${storedFor}, not ${origin}; its access token is not sent to another origin`;
    return;
  }
  const req = mcpProbeRequest(input.server, input.revision, 'token-check', { token: accessToken, origin });
  const ex = await exchange(http, req);
  out.trace.push(ex.entry);
  const sessionId = ex.headers?.get('mcp-session-id');
  if (sessionId && ex.status && ex.status < 300) {
    // initialize opened a session; close it so the server does not keep it (Streamable HTTP §Session Management).
    const close = await exchange(http, { step: 'session-close', method: 'DELETE', url: input.serverUrl.href, headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': input.revision }, configHeaders: input.server.headers, bearer: { token: accessToken, origin }, read: 'none' });
    out.trace.push(close.entry);
  }
  if (ex.entry.outcome === 'refused') {
    out.notCheckedBecause = ex.entry.error ?? 'the token was not sent';
    return;
  }
  if (ex.status === undefined || ex.entry.outcome === 'timeout' || ex.entry.outcome === 'network-error') {
    out.live = 'unreachable';
    out.notCheckedBecause = `the server did not answer (${ex.entry.error ?? ex.entry.outcome})`;
    return;
  }
  out.liveStatus = ex.status;
  if (ex.status >= 200 && ex.status < 300) {
    out.live = 'accepted';
    return;
  }
  const challenge = bearerChallenge(parseWwwAuthenticate(ex.headers?.get('www-authenticate')));
  if (ex.status === 401) {
    out.live = 'rejected';
    return;
  }
  const evidence = [describeExchange(ex.entry), ...(challenge?.error ? [`error: ${challenge.error}`] : []), ...(challenge?.scope ? [`scope asked for: ${challenge.scope}`] : [])];
  if (ex.status === 403 && challenge?.error === 'insufficient_scope') {
    out.live = 'insufficient-scope';
    const have = input.token.scopes.length ? input.token.scopes : (out.claims?.scopes ?? []);
    const wanted = challenge.scope?.split(' ').filter(Boolean) ?? [];
    const lacking = wanted.filter((s) => !have.includes(s));
    out.findings.push(
      probeFinding('token.insufficient-scope', {
        title: `The token lacks scope${lacking.length === 1 ? '' : 's'} the server wants${lacking.length ? `: ${lacking.join(' ')}` : ''}`,
        detail: `The server answered 403 insufficient_scope. A refresh cannot widen a grant (RFC 6749 §6): log in again asking for ${wanted.length ? `the union of ${[...new Set([...have, ...wanted])].join(' ')}` : 'the scopes the server names'} (Claude Code: "oauth": {"scopes": …} in the entry; Codex: codex mcp login <name> --scopes …).`,
        evidence: [...evidence, `token scopes: ${have.join(' ') || '(none stored)'}`],
      }),
    );
    return;
  }
  if (ex.status === 403) {
    out.live = 'forbidden';
    out.findings.push(
      probeFinding('token.forbidden', {
        title: 'The server refuses the stored token (403)',
        detail: 'The server knows the token but does not let it in: the account may lack access, or a firewall answers instead of the server. Log in again with an account that has access, or ask the server\'s owner.',
        evidence,
      }),
    );
    return;
  }
  out.live = 'unexpected';
}

function parseOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function expired(out: TokenJudgement, token: TokenStatus, evidence: string[], now: number): void {
  const ago = describeSpan(now - (token.expiresAt ?? now));
  if (token.hasRefreshToken) {
    out.findings.push(
      probeFinding('token.expired-refreshable', {
        title: `Expired ${ago} ago; a refresh token is stored`,
        detail: 'The client should refresh it on next use. If it keeps asking you to log in instead, refresh it here (the new tokens are written back for the client) or log in again.',
        evidence,
      }),
    );
  } else {
    out.findings.push(
      probeFinding('token.expired', {
        title: `Expired ${ago} ago; no refresh token`,
        detail: 'Without a refresh token only a new login gives a working token.',
        evidence,
      }),
    );
  }
}

function expiring(out: TokenJudgement, token: TokenStatus, evidence: string[], now: number): void {
  out.findings.push(
    probeFinding('token.expiring', {
      title: `Expires in ${describeSpan((token.expiresAt ?? now) - now)}`,
      detail: token.hasRefreshToken ? 'A refresh token is stored; the client should refresh it when it next needs it.' : 'No refresh token is stored: when it expires you will have to log in again.',
      evidence,
      severity: token.hasRefreshToken ? 'info' : 'warning',
    }),
  );
}

/** Stored issuer, stored discovery state and token claims against what discovery found now. */
function crossCheck(input: JudgeInput, out: TokenJudgement, evidence: string[]): void {
  const { summary, discoveredIssuers } = input;
  const change = changedIssuer(input);
  if (change) issuerChanged(input, out, change, evidence);
  const stored = summary?.discovery;
  if (stored && discoveredIssuers.length) {
    const stale: string[] = [];
    // A changed issuer is reported above with what to do; the remembered authorization server is the same news.
    if (!change && stored.authorizationServerUrl && !discoveredIssuers.some((i) => sameUrl(i, stored.authorizationServerUrl ?? ''))) stale.push(`authorization server ${stored.authorizationServerUrl} (now ${discoveredIssuers[0]})`);
    if (stored.resourceMetadataUrl && input.resourceMetadataUrl && !sameUrl(stored.resourceMetadataUrl, input.resourceMetadataUrl)) stale.push(`resource metadata ${stored.resourceMetadataUrl} (now ${input.resourceMetadataUrl})`);
    if (stale.length) {
      out.findings.push(
        probeFinding('token.stale-discovery', {
          title: 'The client remembers an old discovery result',
          detail: `Claude Code stored ${stale.join(' and ')}. It refreshes against what it remembers, so refreshes can fail; reset the credential and log in again to rediscover.`,
          evidence,
        }),
      );
    }
  }
  const claims = out.claims;
  if (claims?.aud.length && !claims.aud.some((a) => sameUrl(a, input.resource) || sameUrl(a, input.serverUrl.href))) {
    out.findings.push(
      probeFinding('token.audience-mismatch', {
        title: 'The token was issued for another audience',
        detail: `Its aud claim is ${claims.aud.join(', ')}, not ${input.resource}. Servers that check the audience (as the spec requires) reject it. The login probably did not send the resource parameter, or the server URL changed since; log in again.`,
        evidence: [...evidence, `aud: ${claims.aud.join(', ')} (decoded, not verified)`],
      }),
    );
  }
  if (claims?.exp !== undefined && input.token.expiresAt !== null && Math.abs(claims.exp - input.token.expiresAt) > 60_000) {
    out.findings.push(
      probeFinding('token.expiry-disagrees', {
        title: 'The stored expiry differs from the token\'s own',
        detail: `The store says ${isoTime(input.token.expiresAt)}, the token says ${isoTime(claims.exp)}. The client will refresh too early or send a dead token.`,
        evidence,
      }),
    );
  }
}

/**
 * A stored expiry as a date. A store may hold any number (1e308 included), and toISOString throws
 * past ±8.64e15 ms, which took the whole probe of the server down.
 */
