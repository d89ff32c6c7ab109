// A loss the journal caught (issue 13), said at once: a warning with the finding's own title
// ("Claude Code lost 7 MCP logins at 14:02 (written by claude 2.1.274, pid 4121)") and Restore,
// History…, Details. Restore puts back only what was lost (core/journal/restoreLost.ts), asked in
// the repairs' modal, then says which entries came back, which were kept because they are newer
// now, and which restored tokens their server no longer takes, with Undo as for every repair.
// Until it is restored (or the store holds those grants again), the loss is also a finding under
// "Credential stores" in the tree.
import * as vscode from 'vscode';
import type { Finding } from '../core/model';
import { CLAUDE_ACCOUNT_GRANTS, type Loss } from '../core/journal/losses';
import type { ObservedState } from '../core/journal/journal';
import { latestLoss } from '../core/journal/restoreLost';
import type { StatusReport } from '../core/status';
import type { JournalPass, JournalWatcher } from './journalWatcher';
import type { ReadOnlyDocuments } from './journalHistory';
import type { LostRestoreRun } from './lostRestore';
import { refOf, type ServerRef } from './serverRef';
import { collectStatus } from '../core/status';
import { editorEnvironment } from './environment';

/** One alarmed loss as shown: what the tests and the tree read. */
export interface ShownLoss {
  finding: Finding;
  loss: Loss;
  client: ObservedState['client'];
  location: string;
  /** The journaled state that shows the loss, and the one before it (restored from). */
  stateId: string;
  previousStateId?: string;
  /** What the user picked on the notification (undefined while it is open or dismissed). */
  picked?: string;
  restore?: LostRestoreRun;
}

export interface LossHost {
  rescan(): Promise<StatusReport>;
  watcher: JournalWatcher;
  docs: ReadOnlyDocuments;
  log(line: string): void;
  /** The unresolved losses changed (the tree shows them). */
  onFindings(findings: Finding[]): void;
}

const BUTTONS = ['Restore', 'History…', 'Details'] as const;

export class LossAlarms implements vscode.Disposable {
  /** Every loss shown in this session, oldest first. */
  readonly shown: ShownLoss[] = [];
  /** Losses not restored yet, by store location. */
  private readonly open = new Map<string, ShownLoss[]>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly host: LossHost) {
    this.subscription = host.watcher.onDidObserve((pass) => this.onPass(pass));
  }

  private onPass(pass: JournalPass): void {
    for (const state of pass.observation.states) {
      if (!state.recorded || !state.snapshot) continue;
      this.resolveHeld(state);
      state.losses.forEach((loss, i) => {
        const finding = state.findings[i];
        if (!loss.alarm || !finding) return;
        const shown: ShownLoss = {
          finding,
          loss,
          client: state.client,
          location: state.location,
          stateId: state.snapshot!.id,
          ...(state.previous ? { previousStateId: state.previous.id } : {}),
        };
        this.shown.push(shown);
        this.open.set(state.location, [...(this.open.get(state.location) ?? []), shown]);
        this.host.log(`journal: loss ${finding.code}: ${finding.title}`);
        void this.alarm(shown);
      });
    }
    this.host.onFindings(this.findings());
  }

  /** The unresolved losses, as findings for the tree. */
  findings(): Finding[] {
    return [...this.open.values()].flat().map((s) => s.finding);
  }

  /** A loss whose grants the store holds again (a restore, a re-login) is no longer open. */
  private resolveHeld(state: ObservedState): void {
    const open = this.open.get(state.location);
    if (!open || !state.snapshot) return;
    const holding = new Set(state.snapshot.entries.filter((e) => e.accessToken || e.refreshToken).map((e) => e.key));
    const top = new Set(state.snapshot.topLevelKeys);
    const held = (key: string) => ((CLAUDE_ACCOUNT_GRANTS as readonly string[]).includes(key) ? top.has(key) : holding.has(key));
    const still = open.filter((s) => !s.loss.entries.every((e) => held(e.key)));
    if (still.length) this.open.set(state.location, still);
    else this.open.delete(state.location);
  }

  private async alarm(shown: ShownLoss): Promise<void> {
    const picked = await vscode.window.showWarningMessage(shown.finding.title, ...BUTTONS);
    if (picked) shown.picked = picked;
    if (picked === 'Restore') await this.restore(shown);
    else if (picked === 'History…') await this.history(shown);
    else if (picked === 'Details') await this.details(shown);
  }

  /** Restore, from the notification or a command: only what this loss took. */
  async restore(shown: ShownLoss): Promise<LostRestoreRun> {
    // Loaded with the first restore: activation only needs to notice a loss.
    const { restoreLostCommand } = await import('./lostRestore');
    const run = await restoreLostCommand(shown, { rescan: () => this.host.rescan(), journal: () => this.host.watcher.journal(), afterWrite: () => this.host.watcher.observe('after restore') });
    shown.restore = run;
    if (run.restored) {
      const open = (this.open.get(shown.location) ?? []).filter((s) => s !== shown);
      if (open.length) this.open.set(shown.location, open);
      else this.open.delete(shown.location);
      this.host.onFindings(this.findings());
    }
    return run;
  }

  /** `MCP Auth: Restore What Was Lost`: the newest loss not restored yet in this window, else the journal's latest. */
  async restoreLatest(): Promise<LostRestoreRun | undefined> {
    const open = [...this.open.values()].flat().sort((a, b) => (a.stateId < b.stateId ? 1 : -1));
    if (open[0]) return this.restore(open[0]);
    // None seen in this window: the journal's most recent loss (an earlier session, the CLI's guard).
    const latest = await latestLoss(this.host.watcher.journal()).catch(() => undefined);
    if (!latest?.losses[0]) {
      void vscode.window.showInformationMessage('The credential journal holds no loss.');
      return undefined;
    }
    const { client, location, stateId, previousStateId, finding } = latest;
    return this.restore({ finding, loss: latest.losses[0], client, location, stateId, previousStateId });
  }

  /** The history of the lost server (a pick when several were lost). */
  private async history(shown: ShownLoss): Promise<void> {
    const refs = await refsOf(shown);
    if (refs.length === 0) return this.details(shown);
    const ref =
      refs.length === 1
        ? refs[0]!.ref
        : (await vscode.window.showQuickPick(refs.map((r) => ({ label: r.name, ref: r.ref })), { placeHolder: 'Whose credential history?' }))?.ref;
    if (ref) await vscode.commands.executeCommand('mcpAuth.history', ref);
  }

  private async details(shown: ShownLoss): Promise<void> {
    const f = shown.finding;
    const text = [
      f.title,
      '',
      f.detail,
      '',
      'Entries (fingerprints only):',
      ...(f.evidence ?? []).map((e) => `  ${e}`),
      '',
      `Journaled state: ${shown.stateId}${shown.previousStateId ? `; the state before it: ${shown.previousStateId}` : ''}`,
      ...(f.reference ? [`See: ${f.reference}`] : []),
      f.code,
    ].join('\n');
    await this.host.docs.show(`Loss ${shown.stateId}.txt`, text + '\n');
  }

  dispose(): void {
    this.subscription.dispose();
  }
}

/** The configured servers whose entries a loss took. */
async function refsOf(shown: ShownLoss): Promise<{ name: string; ref: ServerRef }[]> {
  const keys = new Set(shown.loss.entries.map((e) => e.key));
  const report = await collectStatus(editorEnvironment(), { clients: [shown.client] });
  const servers = report.servers.map((s) => s.server).filter((s) => s.storageKey && keys.has(s.storageKey));
  return servers.map((s) => ({ name: s.name, ref: refOf(s) }));
}
