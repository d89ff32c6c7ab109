// Refresh: one refresh_token grant (RFC 6749 §6) with the client's stored refresh token, its
// stored client, and the RFC 8707 resource, at the token endpoint discovery finds; the new tokens
// go back into the client's own store in its own format, one locked write after a snapshot. The
// rotated refresh token replaces the old one; the old one stays only when the server returned
// none (TS SDK PR#483; Codex refresh_transaction.rs `refreshed_tokens` does the same).
//
// Where the client has a refresh lock (Codex: `mcp-oauth-locks/<sha256(key)>.lock`, held by Codex
// from its re-read through the token request to the write), we hold it the same way, so the two
// never spend the same refresh token. Claude Code 2.1.197 locks writes only (`.storage-write`),
// which must not be held across the network; a running client is warned about instead (its
// in-memory refresh token dies when the server rotates it: failure-modes D3).
import * as oauth from 'oauth4webapi';
import { LockTimeoutError } from '../credentials/atomicWrite';
import type { CredentialPatch, CredentialStore, RefreshTransaction } from '../credentials/store';
import { CLIENT_LABELS, type ClientId, type RepairId } from '../model';
import { fingerprint } from '../storageKey';
import { describeSpan } from '../tokenStatus';
import { discoverForRepair } from './discovery';
import { clientLoginCommand, commandText, runningClients, type RunningClients } from './processes';
import { classifyTokenError, clientAuthFor, requestOptionsFor, type TokenEndpointError } from './tokenClient';
import type { RepairContext, RepairErrorKind, RepairOutcome, RepairPlan, RepairTarget } from './types';
import { isoTime } from '../time';

export interface RefreshContext extends RepairContext {
  /** Which clients are running (default: the process table, see processes.ts); tests pass their own. */
  runningClients?: (client: ClientId) => Promise<RunningClients>;
}

type Blocked = { error: RepairErrorKind; message: string; next: RepairId[] };

/** A refresh plan; `blocked` says why running it would fail without writing (nothing to refresh with). */
export type RefreshPlan = RepairPlan & { blocked?: Blocked };

const NEEDS_AUTH_CACHE = 'mcp-needs-auth-cache.json';

/** What a refresh will change, and what to weigh first; reads the store and the process table, no network. */
export async function planRefresh(target: RepairTarget, ctx: RefreshContext): Promise<RefreshPlan> {
  const { server, store, key } = target;
  const now = (ctx.now ?? Date.now)();
  const summary = await store.read(key);
  const plan: RefreshPlan = {
    action: 'refresh',
    target: { client: server.client, server: server.name, key, store: store.location },
    changes: [],
    warnings: [],
  };
  const blocked = missingPieces(target, summary);
  if (blocked) return { ...plan, blocked };
  plan.changes.push(
    `accessToken: ${summary!.accessTokenFingerprint ?? 'none'} → new`,
    `refreshToken: ${summary!.refreshTokenFingerprint} → the server's new one if it rotates refresh tokens, else kept`,
    `expiresAt: ${summary!.expiresAt ? `${isoTime(summary!.expiresAt)} (${summary!.expiresAt <= now ? 'expired' : `in ${describeSpan(summary!.expiresAt - now)}`})` : 'none'} → from the server's expires_in`,
  );
  if (summary!.scopes.length) plan.changes.push(`scope: ${summary!.scopes.join(' ')} asked again (the server's answer is stored)`);
  if (store.clearNeedsAuthStamp) plan.changes.push(`${NEEDS_AUTH_CACHE}: the stamp for "${server.name}" removed, if there is one`);

  const running = await (ctx.runningClients ?? ((c: ClientId) => runningClients(c)))(server.client);
  const label = CLIENT_LABELS[server.client];
  const login = clientLoginCommand(server);
  if (running.processes.length > 0) {
    const list = running.processes.map((p) => `pid ${p.pid}: ${p.command}`).join('; ');
    plan.warnings.push(
      `${label} is running (${list}). It keeps the current refresh token in memory: if the server rotates refresh tokens, its next refresh fails and it asks you to log in again. Quit it first${login ? `, or let it log in itself: \`${commandText(login)}\`` : ''}.`,
    );
    if (login) plan.handOff = login;
  } else if (!running.known) {
    plan.warnings.push(`Whether ${label} is running could not be checked (${running.reason}). If it is, quit it first: it keeps the current refresh token in memory.`);
    if (login) plan.handOff = login;
  }
  return plan;
}

/**
 * Refreshes the grant: discovery, one refresh_token grant (a second without `scope` only after
 * invalid_scope), one locked write. Never writes on failure; the message says what to do.
 */
export async function refresh(target: RepairTarget, ctx: RefreshContext): Promise<RepairOutcome> {
  const { server, store, key } = target;
  const now = ctx.now ?? Date.now;
  const summary = await store.read(key).catch(() => undefined);
  const missing = missingPieces(target, summary);
  if (missing) return { ok: false, ...missing };

  const found = await discoverForRepair(server, ctx.http);
  if (!found.ok) {
    const network = found.findings.some((f) => ['probe.unreachable', 'probe.timeout', 'probe.tls-untrusted'].includes(f.code));
    return {
      ok: false,
      error: network ? 'network' : 'discovery',
      message: `Nothing was sent to the token endpoint and nothing was written: ${found.reason}.`,
      next: network ? ['refresh'] : ['report-server', 'relogin'],
    };
  }
  const { authorizationServer: as, resource } = found.discovery;
  const tokenEndpoint = as.token_endpoint!;

  let sent = false;
  const transaction = async (tx: RefreshTransaction): Promise<RepairOutcome> => {
    // Inside the lock this re-read is authoritative: a client that refreshed meanwhile wrote its new refresh token.
    const current = await tx.read();
    const secret = await tx.readSecret();
    const refreshToken = secret?.refreshToken;
    const clientId = current?.clientId ?? server.oauth?.clientId;
    if (!refreshToken || !clientId) return { ok: false, ...(missingPieces(target, current) ?? noRefreshToken(server.name)) };
    // A grant bound to one issuer is never refreshed at another (RFC 9207 mix-up; Codex >= 0.149
    // refuses the same): the refresh token would go to an authorization server that did not issue it.
    const boundIssuer = current?.issuer?.trim();
    if (boundIssuer && as.issuer && boundIssuer !== as.issuer) {
      return {
        ok: false,
        error: 'discovery',
        message: `Nothing was sent: ${server.name}'s stored grant was issued by ${boundIssuer}, but the server now names the authorization server ${as.issuer}. Sending the refresh token there would hand it to a server that did not issue it. Log in again if ${as.issuer} is the server you mean.`,
        next: ['relogin', 'report-server'],
      };
    }
    const { client, auth } = clientAuthFor(as, clientId, secret.clientSecret);

    const grant = async (scope: string | undefined): Promise<oauth.TokenEndpointResponse> => {
      sent = true;
      const params: Record<string, string> = { resource, ...(scope ? { scope } : {}) };
      const response = await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, { additionalParameters: params, ...requestOptionsFor(tokenEndpoint, ctx.http) });
      return oauth.processRefreshTokenResponse(as, client, response);
    };
    const storedScope = current?.scopes.length ? current.scopes.join(' ') : undefined;
    let tokens: oauth.TokenEndpointResponse;
    let scopeNote: string | undefined;
    try {
      tokens = await grant(storedScope);
    } catch (err) {
      const first = await classifyTokenError(err, tokenEndpoint, ctx.http);
      // RFC 6749 §6: scope is optional and means "as granted"; one retry without it.
      if (first.kind !== 'invalid-scope' || !storedScope) return failure(first, server.name, clientId);
      try {
        tokens = await grant(undefined);
        scopeNote = `scope: the server refused "${storedScope}" (${first.oauthError}); refreshed without asking for a scope`;
      } catch (err2) {
        return failure(await classifyTokenError(err2, tokenEndpoint, ctx.http), server.name, clientId);
      }
    }

    const at = now();
    const patch: CredentialPatch = {
      accessToken: tokens.access_token,
      // No expires_in: store no expiry rather than keep an old one that is already past.
      expiresAt: typeof tokens.expires_in === 'number' ? at + tokens.expires_in * 1000 : null,
    };
    // Codex (0.169, 0.171) refreshes only a grant bound to its issuer; one stored without any (written
    // before Codex kept `issuer`) is bound to the issuer that just accepted its refresh token.
    if (server.client === 'codex' && !current?.issuer?.trim() && as.issuer) patch.issuer = as.issuer;
    const rotated = !!tokens.refresh_token && tokens.refresh_token !== refreshToken;
    if (rotated) patch.refreshToken = tokens.refresh_token;
    const grantedScopes = typeof tokens.scope === 'string' ? tokens.scope.split(' ').filter(Boolean) : undefined;
    if (grantedScopes) patch.scopes = grantedScopes;

    let written: { snapshotId?: string };
    try {
      written = await tx.write(patch);
    } catch (err) {
      return {
        ok: false,
        error: 'store',
        message: `The server issued new tokens, but they could not be saved (${err instanceof Error ? err.message : String(err)}). ${
          rotated ? 'The server rotated the refresh token, so the stored one no longer works: log in again.' : 'The stored refresh token still works: try again.'
        }`,
        next: rotated ? ['relogin'] : ['refresh', 'relogin'],
      };
    }

    const changed = [
      `accessToken: ${secret.accessToken ? fingerprint(secret.accessToken) : 'none'} → ${fingerprint(tokens.access_token)}`,
      rotated
        ? `refreshToken: ${fingerprint(refreshToken)} → ${fingerprint(tokens.refresh_token!)} (rotated)`
        : `refreshToken: ${fingerprint(refreshToken)} kept (${tokens.refresh_token ? 'the server returned the same one' : 'the server returned none'})`,
      patch.expiresAt ? `expiresAt: ${isoTime(patch.expiresAt)} (in ${describeSpan(patch.expiresAt - at)})` : 'expiresAt: none (the server sent no expires_in)',
    ];
    if (grantedScopes && grantedScopes.join(' ') !== current?.scopes.join(' ')) changed.push(`scope: ${current?.scopes.join(' ') || 'none'} → ${grantedScopes.join(' ') || 'none'}`);
    if (scopeNote) changed.push(scopeNote);
    const expires = patch.expiresAt ? `, expires in ${describeSpan(patch.expiresAt - at)}` : '';
    return {
      ok: true,
      summary: `Refreshed ${server.name}: new token ${fingerprint(tokens.access_token)}${expires}`,
      changed,
      ...(written.snapshotId ? { undoSnapshotId: written.snapshotId } : {}),
    };
  };

  let outcome: RepairOutcome;
  try {
    outcome = store.refreshTransaction ? await store.refreshTransaction(key, transaction) : await transaction(plainTransaction(store, key));
  } catch (err) {
    if (err instanceof LockTimeoutError && !sent) {
      return {
        ok: false,
        error: 'store',
        message: `${CLIENT_LABELS[server.client]} is refreshing or writing this grant right now (its lock stayed busy). Nothing was sent or written: try again in a moment.`,
        next: ['refresh'],
      };
    }
    return {
      ok: false,
      error: 'store',
      message: `${sent ? 'The refresh did not complete' : 'Nothing was sent'} and nothing was written: ${err instanceof Error ? err.message : String(err)}`,
      next: ['refresh', 'relogin'],
    };
  }
  if (outcome.ok && store.clearNeedsAuthStamp) {
    // After the write only: the stamp makes Claude Code skip a server it could now connect to (B10).
    try {
      const removed = await store.clearNeedsAuthStamp(server.name);
      if (removed.removed) {
        outcome.changed.push(`${NEEDS_AUTH_CACHE}: stamp for "${server.name}"${removed.stampedAt ? ` (set ${isoTime(removed.stampedAt)})` : ''} removed`);
      }
    } catch (err) {
      outcome.changed.push(`${NEEDS_AUTH_CACHE}: the stamp for "${server.name}" could not be removed (${err instanceof Error ? err.message : String(err)}); Claude Code may skip the server until it expires`);
    }
  }
  return outcome;
}

/** The store's own locked write, for a client without a refresh lock (Claude Code). */
function plainTransaction(store: CredentialStore, key: string): RefreshTransaction {
  return {
    read: () => store.read(key),
    readSecret: () => store.readSecret(key),
    write: (patch) => store.write(key, patch),
  };
}

function missingPieces(target: RepairTarget, summary: Awaited<ReturnType<CredentialStore['read']>>): Blocked | undefined {
  const name = target.server.name;
  if (!summary) {
    return { error: 'no-credential', message: `${CLIENT_LABELS[target.server.client]} has nothing stored for ${name} under ${target.key}: log in first.`, next: ['relogin'] };
  }
  if (!summary.hasRefreshToken) return noRefreshToken(name);
  if (!summary.clientId && !target.server.oauth?.clientId) {
    return { error: 'no-credential', message: `No client id is stored for ${name}, so its refresh token cannot be used: log in again.`, next: ['relogin'] };
  }
  return undefined;
}

function noRefreshToken(name: string): Blocked {
  return {
    error: 'no-credential',
    message: `No refresh token is stored for ${name} (the server issued none, or it was removed): only a new login gets a token.`,
    next: ['relogin'],
  };
}

/** Words and next steps for a refused or failed refresh; nothing was written in any of these. */
function failure(e: TokenEndpointError, name: string, clientId: string): RepairOutcome {
  const none = 'Nothing was written.';
  switch (e.kind) {
    case 'invalid-grant':
      return {
        ok: false,
        error: 'invalid-grant',
        message: `The refresh token for ${name} no longer works: ${e.words}. It was revoked, expired, or already rotated away (another client may have used it). ${none} Log in again.`,
        next: ['relogin'],
      };
    case 'invalid-client':
      return {
        ok: false,
        error: 'invalid-client',
        message: `The authorization server no longer knows the client ${clientId} for ${name}: ${e.words}. Its registration was probably removed on the server. ${none} Log in again with a new registration.`,
        next: ['relogin', 'reset'],
      };
    case 'invalid-scope':
      return { ok: false, error: 'invalid-scope', message: `${e.words}, even without asking for a scope. ${none} Log in again.`, next: ['relogin'] };
    case 'unauthorized-client':
      return {
        ok: false,
        error: 'unauthorized-client',
        message: `The client ${clientId} may not use refresh tokens at this server: ${e.words}. ${none} Log in again; if that keeps happening, the server's owner should allow the refresh_token grant.`,
        next: ['relogin', 'report-server'],
      };
    case 'network':
      return {
        ok: false,
        error: 'network',
        message: `${capitalise(e.words)}. ${none} This is not an authorization failure: the stored refresh token was not refused. Try again later${e.timedOut ? ' (if the server did receive the request and rotates refresh tokens, a retry fails with invalid_grant and you log in again)' : ''}.`,
        next: ['refresh'],
      };
    default:
      return { ok: false, error: e.kind, message: `The refresh failed: ${e.words}. ${none}`, next: ['relogin', 'report-server'] };
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
