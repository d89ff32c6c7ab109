// Three failure modes that only show once a refresh fails or a store is compared with its backups
// (shared/docs/failure-modes.md C3, D3, D2), judged from what we can see: the refresh outcome
// (invalid_client vs invalid_grant, RFC 6749 §5.2), the authorization endpoint's answer for the
// stored client (a GET without a session that creates nothing, registration.ts precheckClient),
// the running client processes, and the store beside our own snapshots (fingerprints only).
// Each gives a finding of the catalogue whose repair never replays what is dead:
// - token.client-unregistered: the AS deleted the dynamically registered client. Sending its
//   client_id again fails forever; reset the entry and log in, which registers a new client
//   (login.ts prechecks a stored client and registers anew when the AS does not know it).
// - token.refresh-family-revoked: invalid_grant on a refresh. With rotation, a second use of a
//   rotated-out refresh token makes the AS revoke the whole grant (oidc-provider does; RFC 9700
//   §4.14.2): every copy, in every process, is dead, so only a login helps, and the processes that
//   still hold the old one will fail next.
// - token.refresh-token-overwritten: the live entry lost its refresh token, or went back to one
//   an older snapshot held, while our newest snapshot has a newer one. Codex 0.171 no longer does
//   this on refresh (rmcp-client oauth/refresh_transaction.rs: re-read under the refresh lock,
//   `refreshed_tokens` carries the stored refresh token forward when the response has none, and
//   the merged response is installed so RMCP's persistence hook cannot write a partial one; the
//   0.171.0 binary holds that file's messages), but older Codex versions, other writers and hand
//   edits still can. The repair restores the newer token from the snapshot (Restore) and
//   refreshes with it; if the server refuses it, log in.
import type { ClientProcess, RepairOutcome } from '../repair/types';
import type { CredentialSummary } from '../credentials/store';
import type { SnapshotInfo } from '../credentials/backups';
import type { Finding, McpServer } from '../model';
import { CLIENT_LABELS } from '../model';
import { isoTime } from '../time';
import { probeFinding } from './catalogue';
import type { HttpSettings } from './http';
import { discoverForRepair } from '../repair/discovery';
import { precheckClient } from '../repair/registration';

type Failed = Extract<RepairOutcome, { ok: false }>;

/** What the authorization endpoint said about the stored client (registration.ts `precheckClient`). */
export interface ClientCheck {
  verdict: 'accepted' | 'unknown-client' | 'redirect-rejected' | 'rejected' | 'unknown';
  evidence: string;
}

export interface RefreshFailureInput {
  server: McpServer;
  outcome: Failed;
  /** The client id the refresh sent. */
  clientId?: string;
  /** Client processes running now (processes.ts runningClients): they may hold the same refresh token in memory. */
  running?: ClientProcess[];
  /** The stored client checked at the authorization endpoint, when the caller did (read-only). */
  clientCheck?: ClientCheck;
}

/**
 * Asks the server's authorization endpoint about the stored client id, without a session, a
 * redirect followed or anything registered (registration.ts precheckClient): "unknown-client"
 * confirms a deleted registration. The redirect URI is a loopback one as Codex and Claude Code
 * register; an AS that checks the client first (oidc-provider, RFC 6749 §4.1.2.1) answers
 * invalid_client whatever it is.
 */
export async function storedClientCheck(server: McpServer, clientId: string, http: HttpSettings): Promise<ClientCheck> {
  const found = await discoverForRepair(server, http);
  if (!found.ok) return { verdict: 'unknown', evidence: found.reason };
  const { authorizationServer: as, resource } = found.discovery;
  return precheckClient(http, as, { clientId, redirectUri: 'http://127.0.0.1/callback', resource });
}

/** The catalogue finding a failed refresh points to, or undefined when it is none of these modes. */
export function refreshFailureFinding(input: RefreshFailureInput): Finding | undefined {
  const { server, outcome } = input;
  const client = input.clientId ? `the client ${input.clientId}` : 'the stored client';
  if (outcome.error === 'invalid-client' || input.clientCheck?.verdict === 'unknown-client') {
    const evidence = [`token endpoint: ${outcome.error === 'invalid-client' ? 'invalid_client' : outcome.error}`, ...(input.clientCheck ? [`authorization endpoint: ${input.clientCheck.evidence}`] : [])];
    return probeFinding('token.client-unregistered', {
      title: 'The authorization server no longer knows the stored client',
      detail: `${CLIENT_LABELS[server.client]} keeps sending ${client} for ${server.name}, and the authorization server refuses it: its dynamic registration was deleted (expired, pruned, or the server's client store was wiped). Every refresh and every login with that client id fails the same way. Reset the stored entry and log in: the login registers a new client. Do not retry with the old client id.`,
      evidence,
    });
  }
  if (outcome.error === 'invalid-grant') {
    const holders = (input.running ?? []).filter((p) => p.client === server.client);
    const who = holders.length
      ? ` ${holders.map((p) => `pid ${p.pid} (${p.command})`).join(', ')} ${holders.length === 1 ? 'is' : 'are'} running with this login in memory: ${holders.length === 1 ? 'its' : 'their'} copy of the refresh token died with the grant, so ${holders.length === 1 ? 'it' : 'they'} will ask for a login too (restart ${holders.length === 1 ? 'it' : 'them'} after logging in).`
      : ' No other client process is running now; the one that used it first may have exited.';
    return probeFinding('token.refresh-family-revoked', {
      title: 'The refresh token was refused: the grant is revoked',
      detail: `The authorization server answered invalid_grant for ${server.name}. Where refresh tokens rotate, a second use of a rotated-out token (two processes refreshing with the same one) makes the server revoke the whole grant, every newer token included; it may also have expired or been revoked by hand. No refresh can bring it back: log in again.${who}`,
      evidence: [`token endpoint: invalid_grant`, ...holders.map((p) => `running: pid ${p.pid} ${p.command}`)],
    });
  }
  return undefined;
}

/**
 * An entry whose refresh token went missing or backwards against our snapshots of the same store
 * (newest first, as SnapshotStore.list gives them). The newest snapshot that has the entry is the
 * reference: its token must differ from the live one and be the newer of the two (no older
 * snapshot's token is the reference's, and the live one is absent or found only in an older
 * snapshot). Fingerprints only.
 */
export function overwrittenRefreshTokenFinding(server: McpServer, current: CredentialSummary | undefined, snapshots: SnapshotInfo[]): Finding | undefined {
  if (!current || !server.storageKey) return undefined;
  const history = snapshots
    .map((s) => ({ snapshot: s, entry: s.entries.find((e) => e.key === server.storageKey) }))
    .filter((h): h is { snapshot: SnapshotInfo; entry: NonNullable<typeof h.entry> } => h.entry !== undefined);
  const newest = history.find((h) => h.entry.refreshToken);
  if (!newest) return undefined;
  const reference = newest.entry.refreshToken!;
  const live = current.hasRefreshToken ? current.refreshTokenFingerprint : undefined;
  if (live === reference) return undefined;
  const older = history.slice(history.indexOf(newest) + 1);
  // A token we saw before the reference was written is older than it; one we never saw may be a new rotation.
  const wentBack = live !== undefined && older.some((h) => h.entry.refreshToken === live);
  if (live !== undefined && !wentBack) return undefined;
  const evidence = [
    `live refresh token: ${live ?? 'none'}`,
    `snapshot ${newest.snapshot.id} (${newest.snapshot.createdAt}, ${newest.snapshot.reason}): ${reference}`,
    ...(current.expiresAt ? [`live expiry: ${isoTime(current.expiresAt)}`] : []),
  ];
  return probeFinding('token.refresh-token-overwritten', {
    title: live === undefined ? 'The stored refresh token was dropped' : 'The stored refresh token went back to an older one',
    detail: `${CLIENT_LABELS[server.client]}'s entry for ${server.name} ${live === undefined ? 'has no refresh token any more' : 'holds a refresh token an older snapshot had'}, while the snapshot taken ${newest.snapshot.createdAt} holds a newer one: a write-back after a refresh lost it. Restore the entry from that snapshot and refresh; if the server refuses the restored token (it was already rotated away), log in again.`,
    evidence,
  });
}
