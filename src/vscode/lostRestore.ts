// Restore from a loss notification (issue 13): only what the loss took, merged into the store as
// it is now (core/journal/restoreLost.ts), asked first in the repairs' modal with the core's plan
// (what comes back, what stays because it is newer now, by fingerprints); then which entries came
// back, which were kept, and which restored tokens their server no longer takes, with Refresh /
// Log In for those and Undo as for every repair. A store that is unparsable now is replaced whole
// only when the modal says so and the user presses that button.
import * as vscode from 'vscode';
import type { Journal } from '../core/journal/journal';
import { findLosses, planLostRestore, restoreLost, type JournaledLoss, type LostEntryPlan, type LostRestoreOutcome, type LostRestorePlan } from '../core/journal/restoreLost';
import { clockTime } from '../core/journal/losses';
import { CLIENT_LABELS } from '../core/model';
import type { RestoredEntryCheck } from '../core/restoreCheck';
import { restoreConfirmation } from '../core/restoreConfirmation';
import type { StatusReport } from '../core/status';
import { storeWriteGuard } from '../core/storeFields';
import { confirm, storeWords } from './confirm';
import { editorEnvironment } from './environment';
import type { ShownLoss } from './lossNotification';
import { repairHttp } from './reprobe';
import type { UndoArgs } from './restorePicker';
import { refOf, type ServerRef } from './serverRef';

export interface LostRestoreHost {
  rescan(): Promise<StatusReport>;
  journal(): Journal;
  /** Journals the store right after our write, so the next change is compared with it. */
  afterWrite(): Promise<unknown>;
}

/** What a Restore from a loss did (the extension-host tests read it). */
export interface LostRestoreRun {
  restored: boolean;
  cancelled?: boolean;
  problem?: string;
  plan?: LostRestorePlan;
  outcome?: LostRestoreOutcome;
  /** Keys put back, kept because written since the loss, and already back. */
  restoredKeys: string[];
  keptNewer: string[];
  alreadyBack: string[];
  /** Restored entries whose server no longer takes the token. */
  dead: RestoredEntryCheck[];
  undoSnapshotId?: string;
}

const WHOLE_STORE = 'Replace the Whole Store';

export async function restoreLostCommand(shown: ShownLoss, host: LostRestoreHost): Promise<LostRestoreRun> {
  const none = { restored: false, restoredKeys: [], keptNewer: [], alreadyBack: [], dead: [] };
  const e = editorEnvironment();
  const journal = host.journal();
  try {
    const loss = (await findLosses(journal, shown.client)).find((l) => l.stateId === shown.stateId);
    if (!loss) throw new Error(`the journal no longer holds the state ${shown.stateId} or the one before it (pruned by mcpAuthDoctor.journal.maxStates / maxAgeDays)`);
    const plan = await planLostRestore(e, journal, loss);
    const restoring = plan.entries.filter((p) => p.action === 'restore');
    if (restoring.length === 0) {
      void vscode.window.showInformationMessage(`Nothing to restore: every entry ${CLIENT_LABELS[loss.client]} lost at ${clock(loss)} is back or newer now.`);
      return { ...none, plan, ...keysOf(plan.entries) };
    }
    const guards = [];
    for (const p of restoring) guards.push(await storeWriteGuard(e, loss.client, p.account ? undefined : p.key).catch(() => undefined));
    const asked = restoreConfirmation('Restore', guards, plan.mode === 'whole-store');
    const primary = plan.mode === 'whole-store' ? WHOLE_STORE : asked.primary;
    const choice = await confirm(
      plan.mode === 'whole-store'
        ? `${CLIENT_LABELS[loss.client]}'s store cannot be read now: replace it whole with the journal's state before the loss?`
        : `Restore what ${CLIENT_LABELS[loss.client]} lost at ${clock(loss)}?`,
      confirmationDetail(plan, loss, asked.warning),
      primary,
    );
    if (choice !== primary) return { ...none, cancelled: true, plan };

    const { http, close } = repairHttp();
    let outcome: LostRestoreOutcome;
    try {
      outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Restoring what ${CLIENT_LABELS[loss.client]} lost…` }, () =>
        restoreLost(e, journal, loss, { confirmWholeStore: plan.mode === 'whole-store', check: { fetch: http.fetch as typeof fetch, timeoutMs: http.timeoutMs } }),
      );
    } finally {
      await close();
    }
    if (outcome.refused) {
      void vscode.window.showErrorMessage(`Restore: ${outcome.refused}. Nothing was written.`);
      return { ...none, plan, outcome, problem: outcome.refused };
    }
    await host.afterWrite().catch(() => undefined);
    const report = await host.rescan();
    const run: LostRestoreRun = {
      restored: outcome.written,
      plan,
      outcome,
      ...keysOf(outcome.entries),
      dead: outcome.checks.filter((c) => c.dead),
      ...(outcome.undoSnapshotId ? { undoSnapshotId: outcome.undoSnapshotId } : {}),
    };
    void reportRestored(loss, run, report);
    return run;
  } catch (err) {
    const problem = err instanceof Error ? err.message : String(err);
    void vscode.window.showErrorMessage(`Restore what was lost: ${problem}. Nothing was written.`);
    return { ...none, problem };
  }
}

function keysOf(entries: LostEntryPlan[]): Pick<LostRestoreRun, 'restoredKeys' | 'keptNewer' | 'alreadyBack'> {
  const of = (a: LostEntryPlan['action']) => entries.filter((p) => p.action === a).map((p) => p.key);
  return { restoredKeys: of('restore'), keptNewer: of('kept-newer'), alreadyBack: of('already-back') };
}

function confirmationDetail(plan: LostRestorePlan, loss: JournaledLoss, unknownFields?: string): string {
  return [
    ...(unknownFields ? [`⚠ ${unknownFields}`, ''] : []),
    `Store: ${storeWords(loss.location, loss.storeKind)}`,
    '',
    // The core's plan, fingerprints only: what comes back, what stays and why.
    ...plan.lines,
    '',
    '⚠ A restored token may have been revoked, or its refresh token rotated away, since: each restored entry is checked with its server right after.',
    '',
    'The current state is snapshotted first, so this can be undone.',
  ].join('\n');
}

function nameOf(p: LostEntryPlan): string {
  return p.account ? (p.key === 'claudeAiOauth' ? 'your Claude login' : p.key) : (p.serverName ?? p.key);
}

/** Says what came back, what stayed, and which restored tokens are dead, with a way forward for those. */
async function reportRestored(loss: JournaledLoss, run: LostRestoreRun, report: StatusReport): Promise<void> {
  const entries = run.outcome?.entries ?? [];
  const by = (keys: string[]) => entries.filter((p) => keys.includes(p.key)).map(nameOf);
  // Short: the store's path is in the confirmation already, and a long toast hides its buttons.
  const parts = [`Restored ${run.restoredKeys.length} of ${entries.length} lost to ${CLIENT_LABELS[loss.client]}${run.restoredKeys.length ? `: ${by(run.restoredKeys).join(', ')}` : ''}.`];
  if (run.keptNewer.length) parts.push(`Kept because newer now: ${by(run.keptNewer).join(', ')}.`);
  if (run.alreadyBack.length) parts.push(`Already back: ${by(run.alreadyBack).join(', ')}.`);
  if (run.dead.length) parts.push(`Dead (the server no longer takes the restored token): ${run.dead.map((c) => `${c.serverName ?? c.key} (${c.verdict})`).join('; ')}.`);
  const alive = (run.outcome?.checks ?? []).filter((c) => c.state === 'alive');
  if (alive.length) parts.push(`Accepted by their servers: ${alive.map((c) => c.serverName ?? c.key).join(', ')}.`);

  const undo: UndoArgs | undefined = run.undoSnapshotId ? { snapshotId: run.undoSnapshotId } : undefined;
  const fixes = run.dead.slice(0, 2).flatMap((c) => {
    const ref = refFor(report, loss, c.key);
    if (!ref) return [];
    return c.state === 'needs-refresh'
      ? [{ title: `Refresh ${ref.name}`, command: 'mcpAuth.refresh', ref }]
      : [{ title: `Log In to ${ref.name}`, command: 'mcpAuth.login', ref }];
  });
  const show = run.dead.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const picked = await show(parts.join(' '), ...(undo ? ['Undo'] : []), ...fixes.map((f) => f.title));
  if (picked === 'Undo' && undo) await vscode.commands.executeCommand('mcpAuth.undo', undo);
  const fix = fixes.find((f) => f.title === picked);
  if (fix) await vscode.commands.executeCommand(fix.command, fix.ref);
}

function refFor(report: StatusReport, loss: JournaledLoss, key: string): ServerRef | undefined {
  const server = report.servers.map((s) => s.server).find((s) => s.client === loss.client && s.storageKey === key);
  return server ? refOf(server) : undefined;
}

function clock(loss: JournaledLoss): string {
  return clockTime(new Date(loss.at));
}
