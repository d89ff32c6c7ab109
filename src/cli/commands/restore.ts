// `mcp-auth-doctor restore <id> [--entry <key>] [--yes] [--accept-unknown-fields]`: put a snapshot back, the whole store or
// one entry, through the same locked atomic write as every repair, after snapshotting the current
// state. Without --yes it only shows what would change (exit 1).
import { parseArgs } from 'node:util';
import { snapshotStoreFor } from '../../core/credentials/backups';
import { credentialStoresFor } from '../../core/credentials/index';
import type { CredentialStore, RestorePlan } from '../../core/credentials/store';
import { checkAccessToken, describeVerdict } from '../../core/accessTokenCheck';
import { CLIENT_LABELS } from '../../core/model';
import { cliEnvironment } from '../environment';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliIo } from '../io';
import { entryLine } from './backups';
import { ACCEPT_UNKNOWN_FIELDS, refusedForUnknownFields, storeWriteGuard } from '../unknownFields';

export async function restore(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { entry: { type: 'string' }, yes: { type: 'boolean', default: false }, 'no-verify': { type: 'boolean', default: false }, [ACCEPT_UNKNOWN_FIELDS]: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0) throw new UsageError('restore takes one snapshot id (see `mcp-auth-doctor backups`)');
  const e = cliEnvironment(io, undefined);
  const snapshots = snapshotStoreFor(e);
  const snapshot = await snapshots.read(id);
  if (!snapshot) throw new UsageError(`no snapshot "${id}" in ${snapshots.dir}`);
  const store = credentialStoresFor(e, undefined, { backups: snapshots, clients: [snapshot.client] })[0];
  if (!store?.planRestore || !store.restore) throw new Error(`restoring ${CLIENT_LABELS[snapshot.client]}'s store is not supported yet`);

  const plan = await store.planRestore(snapshot, values.entry);
  io.stdout(describePlan(plan, snapshot.createdAt));
  if (!changes(plan)) {
    io.stdout('Nothing to restore: the store already matches the snapshot.\n');
    return EXIT_OK;
  }
  if (refusedForUnknownFields(await storeWriteGuard(e, snapshot.client, values.entry), values.yes, values[ACCEPT_UNKNOWN_FIELDS], io)) return EXIT_FINDINGS;
  if (!values.yes) {
    io.stdout('Nothing written. Run again with --yes to restore (the current state is snapshotted first).\n');
    return EXIT_FINDINGS;
  }
  const outcome = await store.restore(snapshot, values.entry);
  io.stdout(
    `Restored ${outcome.plan.entryKey ? `entry ${outcome.plan.entryKey}` : 'the whole store'} into ${outcome.plan.location}.\n` +
      (outcome.previous ? `The state before the restore is snapshot ${outcome.previous.id}.\n` : ''),
  );
  if (values['no-verify']) {
    io.stdout('Restored tokens may have been revoked or rotated since the snapshot; not checked (--no-verify).\n');
    return EXIT_OK;
  }
  const dead = await verifyRestored(store, outcome.plan, io);
  return dead > 0 ? EXIT_FINDINGS : EXIT_OK;
}

/**
 * A restored token may have been revoked, or its refresh token rotated away, since the snapshot:
 * ask each restored entry's own server whether it accepts the access token now. Refresh tokens
 * are not tried: using one rotates it, which is a repair, not a check.
 */
async function verifyRestored(store: CredentialStore, plan: RestorePlan, io: CliIo): Promise<number> {
  const restored = plan.entries.filter((c) => c.change !== 'unchanged' && c.after).map((c) => c.after!.key);
  if (restored.length === 0) return 0;
  io.stdout('Checking the restored entries with their servers:\n');
  let dead = 0;
  const now = Date.now();
  for (const key of restored) {
    const summary = await store.read(key);
    const secret = await store.readSecret(key);
    const rt = summary?.hasRefreshToken ? 'refresh token present (not tried: using it would rotate it)' : 'no refresh token';
    let verdict: string;
    if (!summary || !secret?.accessToken) verdict = 'no access token stored';
    else if (summary.expiresAt && summary.expiresAt <= now) {
      verdict = `expired by its stored expiry; ${rt}`;
      if (!summary.hasRefreshToken) dead++;
    } else if (!summary.serverUrl) verdict = 'not checked: the entry has no server URL';
    else {
      const v = await checkAccessToken(summary.serverUrl, secret.accessToken);
      verdict = describeVerdict(v);
      if (v.state === 'rejected') {
        dead++;
        verdict += `; ${rt}`;
      }
    }
    io.stdout(`  ${key} ${summary?.accessTokenFingerprint ?? ''}: ${verdict}\n`);
  }
  if (dead > 0) io.stdout(`${dead} restored ${dead === 1 ? 'entry is' : 'entries are'} dead: log in again (claude mcp login <name> / codex mcp login <name>).\n`);
  return dead;
}

export const run = restore;

function changes(plan: RestorePlan): boolean {
  return plan.otherChanges.length > 0 || plan.entries.some((c) => c.change !== 'unchanged');
}

function describePlan(plan: RestorePlan, createdAt: string): string {
  const lines = [`Restore ${plan.entryKey ? `entry ${plan.entryKey} from` : 'the whole store from'} snapshot ${plan.snapshotId} (${createdAt}) into ${plan.location}:`];
  for (const c of plan.entries) {
    if (c.change === 'unchanged') continue;
    if (c.change === 'changed') lines.push(`  changed  ${entryLine(c.before!)}`, `       to  ${entryLine(c.after!)}`);
    else lines.push(`  ${c.change.padEnd(7)}  ${entryLine((c.after ?? c.before)!)}`);
  }
  for (const o of plan.otherChanges) lines.push(`  ${o}`);
  return lines.join('\n') + '\n';
}
