// Wires the VS Code layer: one context object owns state and disposables; commands are plain
// functions over it (rust-analyzer's shape, see shared/docs/style-anchors.md).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { claudeConfigDir, codexHome, type Environment } from '../core/environment';
import type { ConfigScan, SourceLocation } from '../core/model';
import { cachedVersionIo, nodeVersionIo, type VersionIo } from '../core/clientVersions';
import { persistentVersionIo } from '../core/versionCache';
import { collectStatus, type StatusReport } from '../core/status';
import type { ProbeRun } from '../core/probe/run';
import { probeSettings } from './probeSettings';
import { ConfigWatcher } from './configWatcher';
import { editorEnvironment } from './environment';
import { ServerTreeProvider, type TreeGrouping, type TreeNode, type TreeSnapshotNode } from './serverTree';
import { VSCODE_REMOVE_DYNAMIC_AUTH_COMMAND } from '../core/clients/vscode';
import { registerGuidedFlow } from './guided/command';
import { registerKeychainRead } from './keychainRead';
import { registerRepairs } from './repairs';
import { answerConfirmationsForTests } from './confirm';
import { registerSurfaces, type Surfaces } from './surfaces';
import type { ServerProbe } from '../core/probe/probe';
import { JournalWatcher, type JournalPass } from './journalWatcher';
import { historyCommand, ReadOnlyDocuments, type HistoryShown } from './journalHistory';
import { LossAlarms, type ShownLoss } from './lossNotification';
import type { LostRestoreRun } from './lostRestore';

/** What activate() returns: used by the extension-host tests. */
export interface ExtensionApi {
  rescan(): Promise<ConfigScan>;
  treeSnapshot(): Promise<TreeSnapshotNode[]>;
  /** Extension tests only (ExtensionMode.Test): answers the repairs' confirmations, which VS Code will not show under test. */
  answerConfirmations?: typeof answerConfirmationsForTests;
  /** The status-bar warning as shown now (undefined while hidden). */
  statusBar(): { text: string; tooltip: string; error: boolean; ariaLabel: string } | undefined;
  /** The diagnostic report "Copy Diagnostic Report" puts on the clipboard. */
  diagnosticReport(): Promise<string>;
  /** The last finished pass: why it ran and whether it probed (undefined before the first). */
  lastUpdate(): { reasons: RescanReason[]; probed: boolean; at: number } | undefined;
  /** When the expiry timer fires next (epoch ms), if armed. */
  nextWake(): number | undefined;
  /** Where the extension's logs go (the "MCP Auth" output channel's file is below). */
  logDir: string;
  /** The credential journal: the losses shown this session, and one observation on demand. */
  journal: {
    losses(): ShownLoss[];
    observe(): Promise<JournalPass | undefined>;
    restore(loss: ShownLoss): Promise<LostRestoreRun>;
    history(arg: unknown): Promise<HistoryShown>;
  };
}

/** Why a pass runs; the log names it. */
export type RescanReason = 'activation' | 'file change' | 'settings' | 'workspace folders' | 'command' | 'repair' | 'view opened' | 'expiry timer' | 'interval' | 'auto-refresh' | 'test';

/** Asked for by the user (or a test): these wake the probe, which otherwise waits for the view to be opened. */
const EXPLICIT: ReadonlySet<RescanReason> = new Set(['command', 'repair', 'view opened', 'test']);

/** One finished pass: the local status, and its probe run when one ran. */
export interface ScanUpdate {
  report: StatusReport;
  /** Index-aligned with report.servers; empty when nothing was probed. */
  probes: (ServerProbe | undefined)[];
  run?: ProbeRun;
  marginMs: number;
  reasons: RescanReason[];
}

class Ctx {
  readonly tree = new ServerTreeProvider();
  readonly watcher = new ConfigWatcher(() => void this.rescan('file change'));
  /** Fires after each local scan (configs and stores read), before the probe. */
  readonly scanned = new vscode.EventEmitter<StatusReport>();
  /** Fires after each finished pass: after the probe, or right after the scan when there is none. */
  readonly updated = new vscode.EventEmitter<ScanUpdate>();
  /**
   * Whether passes probe (network). Not at activation unless the view is visible: until the user
   * opens the view, runs a command or sets an interval, what is stored (expiry, config) is shown.
   */
  awake = false;
  private scanning: Promise<StatusReport> | undefined;
  /** Reasons of the passes asked for and not yet finished. */
  private pending: RescanReason[] = [];
  /** The clients' `--version` answers, kept for 10 min: every scan shows them, few need a new process. */
  private versionIo: VersionIo | undefined;

  /** Runs one pass at a time; requests during a pass make one more pass after it. */
  rescan(reason: RescanReason): Promise<StatusReport> {
    this.pending.push(reason);
    if (this.scanning) return this.scanning;
    this.scanning = this.drain().finally(() => {
      this.scanning = undefined;
      // Asked for after the last pass looked (it cannot be answered by a pass already finished).
      const late = this.pending.splice(0);
      for (const r of late) void this.rescan(r);
    });
    return this.scanning;
  }

  private async drain(): Promise<StatusReport> {
    let report: StatusReport;
    do {
      const reasons = this.pending.splice(0);
      if (reasons.some((r) => EXPLICIT.has(r))) this.awake = true;
      const e = editorEnvironment();
      const settings = probeSettings();
      this.versionIo ??= cachedVersionIo(persistentVersionIo(nodeVersionIo(e), e));
      report = await collectStatus(e, { expiryMarginMs: settings.expiryMarginMs, clients: settings.clients, versions: this.versionIo });
      const probe = settings.enabled && (this.awake || settings.intervalMs > 0);
      // What is stored shows at once; the probe's verdicts follow when the network answers.
      this.tree.update(report, probe);
      this.scanned.fire(report);
      // Credential stores change too (a login in a terminal): watch them beside the configs.
      void this.watcher.watch([...report.scan.files, ...credentialFiles(e)]);
      if (probe) {
        // The probe loads with its first run (the view opened, or an interval set), not at activation.
        const { probeReport } = await import('../core/probe/run');
        const run = await probeReport(report, settings.probe);
        if (this.pending.length === 0) {
          this.tree.updateProbes(run.probes);
          this.updated.fire({ report, probes: run.probes, run, marginMs: settings.expiryMarginMs, reasons });
        } else {
          // Outdated by a change meanwhile: the next pass answers these reasons too.
          this.pending.push(...reasons);
        }
      } else {
        this.updated.fire({ report, probes: [], marginMs: settings.expiryMarginMs, reasons });
      }
      // Awaited inside the loop: a request arriving during this await is still answered by it.
      if (this.pending.length === 0) await vscode.commands.executeCommand('setContext', 'mcpAuth.scanned', true);
    } while (this.pending.length > 0);
    return report;
  }
}

const GROUPING_KEY = 'mcpAuth.grouping';

/** The tree's grouping, remembered across windows, and the context key its title buttons follow. */
async function setGrouping(context: vscode.ExtensionContext, tree: ServerTreeProvider, grouping: TreeGrouping): Promise<void> {
  tree.setGrouping(grouping);
  await context.globalState.update(GROUPING_KEY, grouping);
  await vscode.commands.executeCommand('setContext', 'mcpAuth.grouping', grouping);
}

export async function activateExtension(context: vscode.ExtensionContext): Promise<ExtensionApi> {
  const ctx = new Ctx();
  const view = vscode.window.createTreeView('mcpAuth.servers', { treeDataProvider: ctx.tree, showCollapseAll: true });
  ctx.awake = view.visible;
  const surfaces: Surfaces = registerSurfaces(context, { view, rescan: (reason) => ctx.rescan(reason), onDidScan: ctx.scanned.event, onDidUpdate: ctx.updated.event });
  context.subscriptions.push(
    view,
    ctx.updated,
    // The first time the view shows, probe what it lists (activation did not, unless it was visible).
    view.onDidChangeVisibility((e) => {
      if (e.visible && !ctx.awake) void ctx.rescan('view opened');
    }),
    ctx.watcher,
    ctx.scanned,
    vscode.workspace.onDidChangeWorkspaceFolders(() => void ctx.rescan('workspace folders')),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('mcpAuthDoctor') || e.affectsConfiguration('http.proxy') || e.affectsConfiguration('http.noProxy')) void ctx.rescan('settings');
    }),
    vscode.commands.registerCommand('mcpAuth.rescan', () => ctx.rescan('command')),
    vscode.commands.registerCommand('mcpAuth.openConfig', (node?: TreeNode) => {
      if (node?.kind === 'server') return openLocation(node.server.source);
    }),
    vscode.commands.registerCommand('mcpAuth.openLocation', (at: SourceLocation) => openLocation(at)),
    vscode.commands.registerCommand('mcpAuth.showAddServerHelp', showAddServerHelp),
    vscode.commands.registerCommand('mcpAuth.groupByServer', () => setGrouping(context, ctx.tree, 'server')),
    vscode.commands.registerCommand('mcpAuth.groupByClient', () => setGrouping(context, ctx.tree, 'client')),
    // VS Code keeps an MCP server's login as a dynamic authentication provider; its own command forgets it.
    vscode.commands.registerCommand('mcpAuth.signOutInEditor', () => vscode.commands.executeCommand(VSCODE_REMOVE_DYNAMIC_AUTH_COMMAND)),
  );
  void setGrouping(context, ctx.tree, context.globalState.get<TreeGrouping>(GROUPING_KEY) === 'server' ? 'server' : 'client');
  registerRepairs(context, { rescan: () => ctx.rescan('repair'), onDidScan: ctx.scanned.event });
  // The credential journal: every new content of a store kept, every loss said at once (issue 13).
  const docs = new ReadOnlyDocuments();
  const journal = new JournalWatcher((line) => surfaces.info(line));
  const alarms = new LossAlarms({ rescan: () => ctx.rescan('repair'), watcher: journal, docs, log: (line) => surfaces.info(line), onFindings: (f) => ctx.tree.setJournalFindings(f) });
  const history = (arg?: unknown) => historyCommand(arg, () => journal.journal(), docs);
  context.subscriptions.push(
    docs,
    alarms,
    journal,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('mcpAuthDoctor.journal')) void journal.start();
    }),
    vscode.commands.registerCommand('mcpAuth.history', history),
    vscode.commands.registerCommand('mcpAuth.restoreLost', () => alarms.restoreLatest()),
  );
  void journal.start();
  context.subscriptions.push(registerGuidedFlow(context));
  context.subscriptions.push(registerKeychainRead());
  // Activation reads the config files and stores; the probe (read-only, bounded) follows only if the view is visible.
  void ctx.rescan('activation');
  return {
    rescan: async () => (await ctx.rescan('test')).scan,
    treeSnapshot: async () => ctx.tree.snapshot(),
    statusBar: () => surfaces.statusBar(),
    diagnosticReport: () => surfaces.diagnosticReport(),
    lastUpdate: () => surfaces.lastUpdate(),
    nextWake: () => surfaces.nextWake(),
    logDir: context.logUri.fsPath,
    journal: {
      losses: () => [...alarms.shown],
      observe: () => journal.observe('test'),
      restore: (loss) => alarms.restore(loss),
      history,
    },
    ...(context.extensionMode === vscode.ExtensionMode.Test ? { answerConfirmations: answerConfirmationsForTests } : {}),
  };
}

/** The credential files the clients write on Linux and Windows (Keychain and keyrings can't be watched). */
function credentialFiles(e: Environment): string[] {
  return [path.join(claudeConfigDir(e), '.credentials.json'), path.join(codexHome(e), '.credentials.json')];
}

async function openLocation(at: SourceLocation): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(at.file));
  const pos = new vscode.Position(Math.max(at.line - 1, 0), Math.max(at.column - 1, 0));
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: false });
}

async function showAddServerHelp(): Promise<void> {
  await vscode.window.showInformationMessage(
    'Add an MCP server with "claude mcp add --transport http <name> <url>" or "codex mcp add <name> --url <url>" in a terminal; it appears here at once.',
    { modal: false },
  );
}
