// Restore from the editor: "MCP Auth: Restore Credentials…" picks one of our snapshots (by time,
// client, store and entries by fingerprint), then the whole store or one entry, shows the
// store's own restore plan as the confirmation, restores, and checks the restored servers (a
// restored token may have been revoked or rotated away since). The loss guard watches each scan
// for a store that lost entries or the user's Claude login since our last snapshot (seed 001,
// anthropics/claude-code#45551) and offers, once per loss, to put back exactly what was lost.
import * as vscode from 'vscode';
import * as z from 'zod';
import { snapshotStoreFor, type EntryChange, type EntryFingerprints, type Snapshot, type SnapshotInfo } from '../core/credentials/backups';
import { credentialStoresFor } from '../core/credentials/index';
import { STORE_FINDING } from '../core/credentials/storeFile';
import type { CredentialStore, RestoreOutcome, RestorePlan } from '../core/credentials/store';
import { CLIENT_LABELS } from '../core/model';
import type { ServerState } from '../core/probe/probe';
import { restoreConfirmation } from '../core/restoreConfirmation';
import type { StatusReport } from '../core/status';
import { storeWriteGuard } from '../core/storeFields';
import type { StoreReading } from '../core/tokenStatus';
import { confirm, storeWords } from './confirm';
import { editorEnvironment } from './environment';
import { probeNow, type Reprobed } from './reprobe';
import type { RepairHost } from './repairs';
import { refOf, ServerRefSchema } from './serverRef';

/** `mcpAuth.undo`'s argument: the snapshot taken before a repair and the entry to put back (absent: the whole store). */
export const UndoArgsSchema = z.object({ snapshotId: z.string().min(1), entryKey: z.string().min(1).optional(), ref: ServerRefSchema.optional() });
export type UndoArgs = z.infer<typeof UndoArgsSchema>;

/** `mcpAuth.restore`'s optional argument: skip the pickers already answered. */
const RestoreArgsSchema = z.object({ snapshotId: z.string().min(1).optional(), entryKey: z.string().min(1).optional(), whole: z.boolean().optional() });

export interface RestoreRun {
  cancelled?: boolean;
  problem?: string;
  plan?: RestorePlan;
  restored?: boolean;
  /** The snapshot of the state just before the restore (Undo restores from it). */
  previousSnapshotId?: string;
  /** Each restored server's probed state, by name. */
  states?: Record<string, string>;
}

/** A restored token the server does not take now (expiring is still taken: not dead). */
const DEAD_STATES: ReadonlySet<ServerState> = new Set(['expired', 'rejected', 'not-logged-in']);

const REASON_WORDS: Record<string, string> = {
  manual: 'backup',
  'before-write': 'before a write',
  'before-delete': 'before a removal',
  'before-restore': 'before a restore',
};

export async function restoreCommand(arg: unknown, host: RepairHost): Promise<RestoreRun> {
  const parsedArgs = RestoreArgsSchema.safeParse(arg ?? {});
  const args = parsedArgs.success ? parsedArgs.data : {};
  const e = editorEnvironment();
  const snapshots = snapshotStoreFor(e);
  try {
    let id = args.snapshotId;
    if (!id) {
      const listing = await snapshots.list();
      if (listing.snapshots.length === 0) {
        void vscode.window.showInformationMessage(`No snapshots yet in ${snapshots.dir}: one is taken before every write MCP Auth Doctor makes.`);
        return { cancelled: true };
      }
      const picked = await vscode.window.showQuickPick(listing.snapshots.map(snapshotItem), {
        title: 'Restore Credentials (1/2): which snapshot?',
        placeHolder: 'Newest first; entries are shown by token fingerprint',
        matchOnDescription: true,
        matchOnDetail: true,
      });
      if (!picked) return { cancelled: true };
      id = picked.snapshot.id;
    }
    const snapshot = await snapshots.read(id);
    if (!snapshot) throw new Error(`snapshot ${id} is not in ${snapshots.dir}`);
    if (snapshot.raw === null) throw new Error(`snapshot ${id} recorded that the store did not exist; there is nothing to restore from it`);
    let entryKey = args.entryKey;
    if (!entryKey && !args.whole) {
      const picked = await vscode.window.showQuickPick(entryItems(snapshot), { title: 'Restore Credentials (2/2): all of it, or one entry?', matchOnDescription: true });
      if (!picked) return { cancelled: true };
      entryKey = picked.entryKey;
    }
    const store = storeFor(snapshot);
    return await confirmAndRestore(store, snapshot, entryKey, host);
  } catch (err) {
    const problem = err instanceof Error ? err.message : String(err);
    void vscode.window.showErrorMessage(`Restore: ${problem}. Nothing was written.`);
    return { problem };
  }
}

function storeFor(snapshot: SnapshotInfo): CredentialStore & Required<Pick<CredentialStore, 'planRestore' | 'restore'>> {
  const e = editorEnvironment();
  const store = credentialStoresFor(e, undefined, { backups: snapshotStoreFor(e), clients: [snapshot.client] })[0];
  if (!store?.planRestore || !store.restore) throw new Error(`restoring ${CLIENT_LABELS[snapshot.client]}'s store is not supported`);
  return store as CredentialStore & Required<Pick<CredentialStore, 'planRestore' | 'restore'>>;
}

async function confirmAndRestore(store: ReturnType<typeof storeFor>, snapshot: Snapshot, entryKey: string | undefined, host: RepairHost): Promise<RestoreRun> {
  const plan = await store.planRestore(snapshot, entryKey);
  if (!hasChanges(plan)) {
    void vscode.window.showInformationMessage(`Nothing to restore: ${plan.location} already matches the snapshot of ${when(snapshot)}.`);
    return { plan, restored: false };
  }
  const what = entryKey ? `entry ${entryKey}` : `the whole store`;
  // A client newer than the newest verified whose store holds fields we do not know: the modal names them (as a repair's does).
  const asked = restoreConfirmation('Restore', [await storeWriteGuard(editorEnvironment(), snapshot.client, entryKey).catch(() => undefined)], !entryKey);
  const choice = await confirm(
    `Restore ${what} from the snapshot of ${when(snapshot)}?`,
    restoreDetail(plan, snapshot, store, asked.warning),
    asked.primary,
  );
  if (choice !== asked.primary) return { plan, cancelled: true };
  const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Restoring ${what}…` }, () => store.restore(snapshot, entryKey));
  const probed = await afterRestore([outcome], snapshot.client, host);
  const undo: UndoArgs | undefined = outcome.previous ? { snapshotId: outcome.previous.id, ...(entryKey ? { entryKey } : {}) } : undefined;
  void reportRestored(`Restored ${what} into ${outcome.plan.location}.`, probed, undo);
  return { plan, restored: true, ...(outcome.previous ? { previousSnapshotId: outcome.previous.id } : {}), states: statesOf(probed) };
}

/** Re-scans, and probes the servers whose entries came back. */
async function afterRestore(outcomes: RestoreOutcome[], client: SnapshotInfo['client'], host: RepairHost): Promise<Reprobed[]> {
  const keys = new Set(outcomes.flatMap((o) => o.plan.entries.filter((c) => c.change !== 'unchanged' && c.after).map((c) => c.key)));
  // The restore is done by now: a probe that fails must not read as a failed restore.
  const probing = keys.size ? probeNow((s) => s.client === client && !!s.storageKey && keys.has(s.storageKey)).catch(() => []) : Promise.resolve([]);
  const [probed] = await Promise.all([probing, host.rescan()]);
  return probed;
}

/** Says what came back and whether each server takes it; dead tokens get a way forward. */
async function reportRestored(head: string, probed: Reprobed[], undo?: UndoArgs): Promise<void> {
  const dead = probed.filter((p) => DEAD_STATES.has(p.probe.state));
  const lines = probed.map((p) => `${p.server.name}: ${p.probe.summary}`);
  const message = [head, ...(lines.length ? [`Now: ${lines.join('; ')}.`] : [])].join(' ');
  const buttons = [...(undo ? ['Undo'] : []), ...dead.slice(0, 2).map((p) => `Log In to ${p.server.name}`)];
  const show = dead.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const picked = await show(dead.length ? `${message} A restored token the server no longer takes must be renewed.` : message, ...buttons);
  if (picked === 'Undo' && undo) await vscode.commands.executeCommand('mcpAuth.undo', undo);
  const login = dead.find((p) => picked === `Log In to ${p.server.name}`);
  if (login) await vscode.commands.executeCommand('mcpAuth.login', refOf(login.server));
}

function statesOf(probed: Reprobed[]): Record<string, string> {
  return Object.fromEntries(probed.map((p) => [p.server.name, p.probe.state]));
}

function hasChanges(plan: RestorePlan): boolean {
  return plan.otherChanges.length > 0 || plan.entries.some((c) => c.change !== 'unchanged');
}

function restoreDetail(plan: RestorePlan, snapshot: SnapshotInfo, store: CredentialStore, unknownFields?: string): string {
  const lines = [
    ...(unknownFields ? [`⚠ ${unknownFields}`, ''] : []),
    `Store: ${storeWords(plan.location, store.kind)}`,
    `From: snapshot ${snapshot.id} (${REASON_WORDS[snapshot.reason] ?? snapshot.reason}, ${when(snapshot)})`,
    '',
    'What changes:',
    ...plan.entries.filter((c) => c.change !== 'unchanged').map((c) => `• ${changeLine(c)}`),
    ...plan.otherChanges.map((o) => `• ${o}`),
    '',
    '⚠ A restored token may have been revoked, or its refresh token rotated away, since the snapshot: each restored server is checked right after.',
    '',
    'The current state is snapshotted first, so this can be undone.',
  ];
  return lines.join('\n');
}

function changeLine(c: EntryChange): string {
  const name = (c.after ?? c.before)?.serverName ?? '?';
  if (c.change === 'added') return `${name} (${c.key}): put back — ${fingerprints(c.after!)}`;
  if (c.change === 'removed') return `${name} (${c.key}): removed (not in the snapshot) — was ${fingerprints(c.before!)}`;
  return `${name} (${c.key}): ${fingerprints(c.before!)} → ${fingerprints(c.after!)}`;
}

function fingerprints(e: EntryFingerprints): string {
  return [`access ${e.accessToken ?? 'none'}`, `refresh ${e.refreshToken ?? 'none'}`, ...(e.expiresAt ? [`expires ${new Date(e.expiresAt).toLocaleString()}`] : [])].join(', ');
}

function when(s: SnapshotInfo): string {
  return new Date(s.createdAt).toLocaleString();
}

function snapshotItem(s: SnapshotInfo): vscode.QuickPickItem & { snapshot: SnapshotInfo } {
  const extra = s.topLevelKeys.filter((k) => k !== 'mcpOAuth');
  const grants = s.entries.length ? s.entries.map((e) => `${e.serverName ?? e.key} ${e.accessToken ?? '(no access token)'}`).join(', ') : 'no MCP grants';
  return {
    label: `$(history) ${when(s)}`,
    description: `${CLIENT_LABELS[s.client]} · ${REASON_WORDS[s.reason] ?? s.reason} · ${s.id}`,
    detail: `${s.location} — ${grants}${extra.length ? ` (also ${extra.join(', ')})` : ''}`,
    snapshot: s,
  };
}

function entryItems(s: Snapshot): (vscode.QuickPickItem & { entryKey?: string })[] {
  const extra = s.topLevelKeys.filter((k) => k !== 'mcpOAuth');
  return [
    {
      label: '$(archive) The whole store',
      description: `${s.entries.length} MCP grant(s)${extra.length ? ` and ${extra.join(', ')}` : ''}, as they were`,
      detail: 'Every entry the store holds now that is not in the snapshot is removed.',
    },
    ...s.entries.map((e) => ({ label: `$(key) ${e.serverName ?? e.key}`, description: e.key, detail: fingerprints(e), entryKey: e.key })),
  ];
}

const LOSS_CODES = new Set<string>([STORE_FINDING.entriesLost, STORE_FINDING.accountLoginLost, STORE_FINDING.storeGone]);
const SEEN_KEY = 'mcpAuth.lossesShown';

/**
 * After each scan: a store whose findings say it lost entries or the Claude login since our last
 * snapshot gets one warning per loss (remembered across sessions) offering to put back exactly
 * what was lost.
 */
export class LossGuard implements vscode.Disposable {
  private chain: Promise<void> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly memento: vscode.Memento,
    private readonly host: RepairHost,
  ) {}

  check(report: StatusReport): void {
    // One check at a time: two scans in a row must not show the same loss twice.
    this.chain = this.chain.then(() => this.checkNow(report)).catch(() => undefined);
  }

  dispose(): void {
    this.disposed = true;
  }

  private async checkNow(report: StatusReport): Promise<void> {
    for (const reading of report.readings) {
      const codes = reading.findings.map((f) => f.code).filter((c) => LOSS_CODES.has(c));
      if (codes.length === 0 || this.disposed) continue;
      const loss = await lossOf(reading, codes);
      if (!loss) continue;
      const seen = this.memento.get<string[]>(SEEN_KEY, []);
      if (seen.includes(loss.id)) continue;
      // Only the most recent losses are kept: the list must not grow forever.
      await this.memento.update(SEEN_KEY, [...seen, loss.id].slice(-50));
      void this.offer(reading.store, loss);
    }
  }

  private async offer(store: CredentialStore, loss: Loss): Promise<void> {
    const label = CLIENT_LABELS[loss.snapshot.client];
    const parts = [
      ...(loss.storeGone ? ['the whole store'] : []),
      ...(loss.loginLost ? ['your Claude login (claudeAiOauth)'] : []),
      ...(loss.entries.length ? [`${loss.entries.length} MCP grant(s): ${loss.entries.map((x) => x.serverName ?? x.key).join(', ')}`] : []),
    ];
    const picked = await vscode.window.showWarningMessage(
      `${label}'s credential store (${loss.snapshot.location}) lost ${parts.join(' and ')} since our snapshot of ${when(loss.snapshot)}. If you did not log out, put it back.`,
      'Put back what was lost…',
    );
    if (picked) await putBack(store, loss, this.host);
  }
}

interface Loss {
  /** Names this loss: the snapshot it is measured from and what is gone. */
  id: string;
  snapshot: Snapshot;
  entries: EntryFingerprints[];
  loginLost: boolean;
  storeGone: boolean;
}

/** What is gone, measured as lossFindings (claudeCodeFindings.ts) does: what the snapshot held and was meant to keep. */
async function lossOf(reading: StoreReading, codes: string[]): Promise<Loss | undefined> {
  const snapshot = await snapshotStoreFor(editorEnvironment())
    .newest(reading.client, reading.store.location)
    .catch(() => undefined);
  if (!snapshot || snapshot.raw === null) return undefined;
  const expected = snapshot.expectedAfter ?? { topLevelKeys: snapshot.topLevelKeys, entryKeys: snapshot.entries.map((x) => x.key) };
  const storeGone = codes.includes(STORE_FINDING.storeGone);
  const entries = snapshot.entries.filter((x) => expected.entryKeys.includes(x.key) && !reading.entries.has(x.key));
  const loginLost = codes.includes(STORE_FINDING.accountLoginLost);
  if (!storeGone && !loginLost && entries.length === 0) return undefined;
  const id = [snapshot.id, storeGone ? 'store' : '', loginLost ? 'login' : '', ...entries.map((x) => x.key)].join('|');
  return { id, snapshot, entries, loginLost, storeGone };
}

/**
 * Restores exactly what was lost. Entries go back one by one (the store restores single entries).
 * The store restores other top-level keys (the Claude login) only with the whole store: that is
 * done only when the whole-store plan changes nothing but the lost parts; otherwise the lost
 * entries go back alone and the user is told how to get the login back.
 */
async function putBack(store: CredentialStore, loss: Loss, host: RepairHost): Promise<void> {
  try {
    const restoring = storeFor(loss.snapshot);
    if (loss.storeGone || loss.loginLost) {
      const whole = await restoring.planRestore(loss.snapshot);
      if (onlyPutsBack(whole, loss)) {
        await confirmAndRestore(restoring, loss.snapshot, undefined, host);
        return;
      }
    }
    const plans = await Promise.all(loss.entries.map((x) => restoring.planRestore(loss.snapshot, x.key)));
    const lines = plans.flatMap((p) => p.entries.filter((c) => c.change !== 'unchanged').map((c) => `• ${changeLine(c)}`));
    const loginNote = loss.loginLost
      ? ["⚠ Your Claude login (claudeAiOauth) cannot be put back alone: the store restores it only with the whole store, which would also undo later changes. Run `claude` and /login, or use MCP Auth: Restore Credentials… and read the whole store's plan."]
      : [];
    if (lines.length === 0) {
      void vscode.window.showWarningMessage(loginNote[0] ?? 'Nothing to put back: the store already holds what the snapshot had.');
      return;
    }
    const env = editorEnvironment();
    const guards = [];
    for (const x of loss.entries) guards.push(await storeWriteGuard(env, loss.snapshot.client, x.key).catch(() => undefined));
    const asked = restoreConfirmation('Put Back', guards, false);
    const choice = await confirm(
      `Put back ${plans.length} lost MCP grant(s) into ${CLIENT_LABELS[loss.snapshot.client]}'s store?`,
      [
        ...(asked.warning ? [`⚠ ${asked.warning}`, ''] : []),
        `Store: ${storeWords(plans[0]!.location, store.kind)}`,
        `From: snapshot ${loss.snapshot.id} (${when(loss.snapshot)})`,
        '',
        'What changes (nothing else):',
        ...lines,
        ...(loginNote.length ? ['', ...loginNote] : []),
        '',
        '⚠ A restored token may have been revoked since: each restored server is checked right after.',
      ].join('\n'),
      asked.primary,
    );
    if (choice !== asked.primary) return;
    const outcomes: RestoreOutcome[] = [];
    for (const x of loss.entries) outcomes.push(await restoring.restore(loss.snapshot, x.key));
    const probed = await afterRestore(outcomes, loss.snapshot.client, host);
    const undo: UndoArgs | undefined = outcomes.length === 1 && outcomes[0]!.previous ? { snapshotId: outcomes[0]!.previous.id, entryKey: loss.entries[0]!.key } : undefined;
    void reportRestored(`Put back ${outcomes.length} MCP grant(s) into ${outcomes[0]?.plan.location ?? store.location}.`, probed, undo);
  } catch (err) {
    void vscode.window.showErrorMessage(`Putting back what was lost stopped: ${err instanceof Error ? err.message : String(err)}.`);
    void host.rescan();
  }
}

/** True when restoring the whole store changes nothing but what was lost (entries put back, keys restored). */
function onlyPutsBack(plan: RestorePlan, loss: Loss): boolean {
  const lost = new Set(loss.entries.map((x) => x.key));
  return (
    plan.entries.every((c) => c.change === 'unchanged' || (c.change === 'added' && lost.has(c.key))) &&
    plan.otherChanges.every((o) => /: restored \(missing now\)$/.test(o))
  );
}
