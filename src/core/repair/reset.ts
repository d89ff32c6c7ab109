// Reset: forget one server's stored credential, as the client's own `claude mcp logout <name>` /
// `codex mcp logout <name>` does, so the next connection starts a clean login (a new
// registration where the server's has gone). Exactly one entry goes, under the client's lock
// after a snapshot (Undo restores it); never another entry, never Claude Code's own account login
// (`claudeAiOauth`), never another top-level key (failure-modes §3 rule 3, seed 001). Claude Code:
// the server's needs-auth stamp goes too, so the next session does not skip the server.
import type { CredentialSummary } from '../credentials/store';
import { CLIENT_LABELS, type ClientId, type RepairId } from '../model';
import { clientLoginCommand, clientLogoutCommand, commandText, runningClients, type RunningClients } from './processes';
import type { RepairContext, RepairErrorKind, RepairOutcome, RepairPlan, RepairTarget } from './types';
import { isoTime } from '../time';

export interface ResetContext extends RepairContext {
  runningClients?: (client: ClientId) => Promise<RunningClients>;
}

/** A reset plan; `blocked` says why running it would change nothing. */
export type ResetPlan = RepairPlan & { blocked?: { error: RepairErrorKind; message: string; next: RepairId[] } };

const NEEDS_AUTH_CACHE = 'mcp-needs-auth-cache.json';

export async function planReset(target: RepairTarget, ctx: ResetContext): Promise<ResetPlan> {
  const { server, store, key } = target;
  const label = CLIENT_LABELS[server.client];
  const logout = clientLogoutCommand(server);
  // Read first: a store learns where it keeps this client's data (its `location`) by reading.
  const summary = await store.read(key);
  const plan: ResetPlan = {
    action: 'reset',
    target: { client: server.client, server: server.name, key, store: store.location },
    changes: [],
    warnings: [],
    ...(logout ? { handOff: logout } : {}),
  };
  if (!summary) {
    return { ...plan, blocked: { error: 'no-credential', message: `${label} has nothing stored for ${server.name} under ${key}; there is nothing to reset.`, next: ['relogin'] } };
  }
  plan.changes.push(`entry ${key} removed: ${describeEntry(summary)}`);
  if (server.client === 'codex') plan.changes.push('removed from both the OS keyring and the credentials file, wherever a copy is (as `codex mcp logout` does)');
  if (store.clearNeedsAuthStamp) plan.changes.push(`${NEEDS_AUTH_CACHE}: the stamp for "${server.name}" removed, if there is one`);
  plan.changes.push(
    server.client === 'claude-code'
      ? 'nothing else: every other entry, your Claude login (claudeAiOauth) and every other key stay byte for byte'
      : 'nothing else: every other entry stays as it is',
  );

  const login = clientLoginCommand(server);
  plan.warnings.push(`${label} will ask you to log in to ${server.name} again${login ? ` (\`${commandText(login)}\`)` : ''}.`);
  const running = await (ctx.runningClients ?? ((c: ClientId) => runningClients(c)))(server.client);
  if (running.processes.length > 0) {
    plan.warnings.push(
      `${label} is running (${running.processes.map((p) => `pid ${p.pid}: ${p.command}`).join('; ')}). It keeps the tokens in memory and may go on using them, or write them back, until it restarts: quit it first.`,
    );
  } else if (!running.known) {
    plan.warnings.push(`Whether ${label} is running could not be checked (${running.reason}). If it is, quit it first: it keeps the tokens in memory.`);
  }
  return plan;
}

export async function reset(target: RepairTarget, _ctx: ResetContext): Promise<RepairOutcome> {
  const { server, store, key } = target;
  const label = CLIENT_LABELS[server.client];
  let before: CredentialSummary | undefined;
  let removed: { deleted: boolean; snapshotId?: string; snapshotIds?: string[] };
  try {
    before = await store.read(key);
    removed = await store.delete(key);
  } catch (err) {
    return {
      ok: false,
      error: 'store',
      message: `${store.location} could not be changed: ${err instanceof Error ? err.message : String(err)}. Nothing was removed.`,
      next: ['reset'],
    };
  }
  if (!removed.deleted) {
    return { ok: false, error: 'no-credential', message: `${label} has nothing stored for ${server.name} under ${key}; nothing was written.`, next: ['relogin'] };
  }
  const changed = [`entry ${key} removed from ${store.location}${before ? `: ${describeEntry(before)}` : ''}`];
  if (removed.snapshotIds && removed.snapshotIds.length > 1) changed.push(`copies removed from ${removed.snapshotIds.length} stores; snapshots ${removed.snapshotIds.join(', ')}`);
  if (store.clearNeedsAuthStamp) {
    try {
      const stamp = await store.clearNeedsAuthStamp(server.name);
      if (stamp.removed) changed.push(`${NEEDS_AUTH_CACHE}: stamp for "${server.name}" removed`);
    } catch (err) {
      changed.push(`${NEEDS_AUTH_CACHE}: the stamp for "${server.name}" could not be removed (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  return {
    ok: true,
    summary: `Reset ${server.name}: its stored credential is gone from ${label}'s store; ${label} asks you to log in next time`,
    changed,
    ...(removed.snapshotId ? { undoSnapshotId: removed.snapshotId } : {}),
  };
}

function describeEntry(s: CredentialSummary): string {
  const parts = [
    `accessToken ${s.accessTokenFingerprint ?? 'none'}`,
    `refreshToken ${s.refreshTokenFingerprint ?? 'none'}`,
    ...(s.clientId ? [`client ${s.clientId}`] : []),
    ...(s.expiresAt ? [`expiresAt ${isoTime(s.expiresAt)}`] : []),
  ];
  return parts.join(', ');
}
