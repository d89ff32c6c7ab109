// `mcp-auth-doctor restore <id> [--entry <key>] [--yes]`: put a snapshot back, the whole store or
// one entry, through the same locked atomic write as every repair, after snapshotting the current
// state. Without --yes it only shows what would change (exit 1).
import { parseArgs } from 'node:util';
import { snapshotStoreFor } from '../../core/credentials/backups';
import { credentialStoresFor } from '../../core/credentials/index';
import type { RestorePlan } from '../../core/credentials/store';
import { CLIENT_LABELS } from '../../core/model';
import { cliEnvironment } from '../environment';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliIo } from '../io';
import { entryLine } from './backups';

export async function restore(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { entry: { type: 'string' }, yes: { type: 'boolean', default: false } },
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
  if (!values.yes) {
    io.stdout('Nothing written. Run again with --yes to restore (the current state is snapshotted first).\n');
    return EXIT_FINDINGS;
  }
  const outcome = await store.restore(snapshot, values.entry);
  io.stdout(
    `Restored ${outcome.plan.entryKey ? `entry ${outcome.plan.entryKey}` : 'the whole store'} into ${outcome.plan.location}.\n` +
      (outcome.previous ? `The state before the restore is snapshot ${outcome.previous.id}.\n` : '') +
      'Restored tokens may have been rotated since the snapshot; if a server refuses them, log in again (claude mcp login / codex mcp login).\n',
  );
  return EXIT_OK;
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
