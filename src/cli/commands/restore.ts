// `mcp-auth-doctor restore <id> [--entry <key>] [--yes] [--accept-unknown-fields]`: put a snapshot back, the whole store or
// one entry, through the same locked atomic write as every repair, after snapshotting the current
// state. Without --yes it only shows what would change (exit 1).
// `mcp-auth-doctor restore --lost [--client c] [--yes]`: put back only what the journal's most
// recent loss took (core/journal/restoreLost.ts), merged into the store as it is now.
import { parseArgs } from 'node:util';
import { snapshotStoreFor } from '../../core/credentials/backups';
import { credentialStoresFor } from '../../core/credentials/index';
import { clientsWithStores } from '../../core/clients/registry';
import type { CredentialStore, RestorePlan } from '../../core/credentials/store';
import { journalEnabled, journalFromEnvironment } from '../../core/journal/journal';
import { latestLoss, restoreLost, planLostRestore } from '../../core/journal/restoreLost';
import { journalSources } from '../../core/journal/sources';
import { CLIENT_LABELS, type ClientId } from '../../core/model';
import { checkRestoredEntries, describeRestoredChecks } from '../../core/restoreCheck';
import { cliEnvironment } from '../environment';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliIo } from '../io';
import { entryLine } from './backups';
import { ACCEPT_UNKNOWN_FIELDS, refusedForUnknownFields, storeWriteGuard } from '../unknownFields';

export async function restore(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      entry: { type: 'string' },
      lost: { type: 'boolean', default: false },
      client: { type: 'string' },
      yes: { type: 'boolean', default: false },
      'no-verify': { type: 'boolean', default: false },
      [ACCEPT_UNKNOWN_FIELDS]: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.lost) {
    if (positionals.length > 0 || values.entry !== undefined) throw new UsageError('restore --lost takes no snapshot id and no --entry (it restores the most recent loss in the journal)');
    return restoreLostCommand({ client: clientOption(values.client), yes: values.yes, verify: !values['no-verify'], acceptUnknownFields: values[ACCEPT_UNKNOWN_FIELDS] }, io);
  }
  if (values.client !== undefined) throw new UsageError('--client goes with --lost (a snapshot id names its client)');
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0) throw new UsageError('restore takes one snapshot id (see `mcp-auth-doctor backups`)');
  const e = cliEnvironment(io, undefined);
  const snapshots = snapshotStoreFor(e);
  // A journal state (guard and the loss findings name them) restores like any snapshot.
  const journal = journalFromEnvironment(e);
  const snapshot = (await snapshots.read(id)) ?? (await journal.snapshots.read(id));
  if (!snapshot) throw new UsageError(`no snapshot "${id}" in ${snapshots.dir} or ${journal.dir}`);
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

/** Each restored entry checked with its own server (core/restoreCheck.ts); the number of dead ones. */
async function verifyRestored(store: CredentialStore, plan: RestorePlan, io: CliIo): Promise<number> {
  const restored = plan.entries.filter((c) => c.change !== 'unchanged' && c.after).map((c) => c.after!.key);
  const checks = await checkRestoredEntries(store, restored);
  io.stdout(describeRestoredChecks(checks));
  return checks.filter((c) => c.dead).length;
}

function clientOption(v: string | undefined): ClientId | undefined {
  if (v === undefined) return undefined;
  const ids = clientsWithStores().map((c) => c.id);
  if ((ids as string[]).includes(v)) return v as ClientId;
  throw new UsageError(`--client must be ${ids.join(' or ')}, not "${v}"`);
}

/**
 * `restore --lost`: journal the stores now (so the plan is made against what is there), find the
 * most recent loss, print what comes back and what stays; with --yes write it, print the undo
 * command and each restored entry's check. Exit 0 when every restored entry is alive (or there
 * is no loss), 1 otherwise.
 */
async function restoreLostCommand(o: { client: ClientId | undefined; yes: boolean; verify: boolean; acceptUnknownFields: boolean }, io: CliIo): Promise<number> {
  const e = cliEnvironment(io, undefined);
  const journal = journalFromEnvironment(e);
  if (journalEnabled(e)) {
    for (const source of journalSources(e, { readSecureStores: true, ...(o.client ? { clients: [o.client] } : {}) })) await journal.observe(source);
  } else {
    io.stdout('The credential journal is off (MCP_AUTH_DOCTOR_JOURNAL); looking only at the states it holds.\n');
  }
  const loss = await latestLoss(journal, o.client);
  if (!loss) {
    io.stdout(`No loss in the journal${o.client ? ` of ${CLIENT_LABELS[o.client]}'s store` : ''} (${journal.dir}).\n`);
    return EXIT_OK;
  }
  const plan = await planLostRestore(e, journal, loss);
  io.stdout(plan.lines.join('\n') + '\n');
  if (plan.entries.every((p) => p.action !== 'restore')) return EXIT_OK;
  const mcpKeys = plan.entries.filter((p) => p.action === 'restore' && !p.account).map((p) => p.key);
  const guard = await storeWriteGuard(e, loss.client, mcpKeys.length === 1 ? mcpKeys[0] : undefined);
  if (refusedForUnknownFields(guard, o.yes, o.acceptUnknownFields, io)) return EXIT_FINDINGS;
  if (!o.yes) {
    io.stdout(
      plan.mode === 'whole-store'
        ? 'Nothing written. Run again with --yes to replace the unparsable store with the state before the loss (the broken content is snapshotted first).\n'
        : 'Nothing written. Run again with --yes to restore these entries (the current state is snapshotted first).\n',
    );
    return EXIT_FINDINGS;
  }
  const outcome = await restoreLost(e, journal, loss, { confirmWholeStore: true, verify: o.verify });
  const back = outcome.entries.filter((p) => p.action === 'restore');
  const kept = outcome.entries.filter((p) => p.action === 'kept-newer');
  if (!outcome.written) {
    io.stdout(`Nothing written${outcome.refused ? `: ${outcome.refused}` : ': every lost entry is back or newer now'}.\n`);
    return outcome.refused ? EXIT_FINDINGS : EXIT_OK;
  }
  io.stdout(
    (plan.mode === 'whole-store'
      ? `Replaced the whole store ${loss.location} with the journal's state ${loss.previousStateId}.\n`
      : `Restored ${back.length} lost ${back.length === 1 ? 'entry' : 'entries'} into ${loss.location}${kept.length ? `; kept ${kept.length} newer` : ''}.\n`) +
      (outcome.undoSnapshotId ? `Undo: mcp-auth-doctor restore ${outcome.undoSnapshotId} --yes\n` : 'The store held nothing before the restore: nothing to undo to.\n'),
  );
  if (outcome.needsAuthCleared.length) io.stdout(`Cleared Claude Code's "needs authentication" mark of ${outcome.needsAuthCleared.join(', ')}, so it uses the restored grant now.\n`);
  if (!o.verify) {
    io.stdout('Restored tokens may have been revoked or rotated since the loss; not checked (--no-verify).\n');
    return EXIT_OK;
  }
  io.stdout(describeRestoredChecks(outcome.checks));
  if (outcome.checks.some((c) => c.state === 'needs-refresh')) {
    io.stdout(`Entries marked with a refresh token may come back with a refresh: mcp-auth-doctor refresh <server> --client ${loss.client} --yes.\n`);
  }
  return outcome.checks.every((c) => c.state === 'alive') ? EXIT_OK : EXIT_FINDINGS;
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
