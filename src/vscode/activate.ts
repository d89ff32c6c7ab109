// Wires the VS Code layer: one context object owns state and disposables; commands are plain
// functions over it (rust-analyzer's shape, see shared/docs/style-anchors.md).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { claudeConfigDir, codexHome, type Environment } from '../core/environment';
import type { ConfigScan, SourceLocation } from '../core/model';
import { collectStatus, type StatusReport } from '../core/status';
import { probeReport } from '../core/probe/run';
import { probeSettings } from './probeSettings';
import { ConfigWatcher } from './configWatcher';
import { editorEnvironment } from './environment';
import { ServerTreeProvider, type TreeNode, type TreeSnapshotNode } from './serverTree';
import { registerGuidedFlow } from './guided/command';
import { registerRepairs } from './repairs';
import { answerConfirmationsForTests } from './confirm';
import { AttentionSurfaces } from './attention';
import { ProbeLog } from './log';
import { diagnosticReport } from '../core/report/diagnosticReport';
import type { ServerProbe } from '../core/probe/probe';

/** What activate() returns: used by the extension-host tests. */
export interface ExtensionApi {
  rescan(): Promise<ConfigScan>;
  treeSnapshot(): Promise<TreeSnapshotNode[]>;
  /** Extension tests only (ExtensionMode.Test): answers the repairs' confirmations, which VS Code will not show under test. */
  answerConfirmations?: typeof answerConfirmationsForTests;
  /** The status-bar warning as shown now (undefined while hidden). */
  statusBar(): { text: string; tooltip: string; error: boolean } | undefined;
  /** The diagnostic report "Copy Diagnostic Report" puts on the clipboard. */
  diagnosticReport(): string;
}

class Ctx {
  readonly tree = new ServerTreeProvider();
  readonly watcher = new ConfigWatcher(() => void this.rescan());
  /** Fires after each local scan (configs and stores read), before the probe. */
  readonly scanned = new vscode.EventEmitter<StatusReport>();
  /** Fires after the probe (or right after the scan when probing is off). */
  readonly probed = new vscode.EventEmitter<{ report: StatusReport; probes: (ServerProbe | undefined)[]; marginMs: number }>();
  private scanning: Promise<StatusReport> | undefined;
  private again = false;
  private interval: { ms: number; timer: NodeJS.Timeout } | undefined;

  /** The optional periodic re-probe (mcpAuthDoctor.probe.intervalMinutes), re-armed when the setting changes. */
  private armInterval(ms: number): void {
    if (this.interval?.ms === ms) return;
    if (this.interval) clearInterval(this.interval.timer);
    this.interval = ms > 0 ? { ms, timer: setInterval(() => void this.rescan(), ms) } : undefined;
  }

  dispose(): void {
    if (this.interval) clearInterval(this.interval.timer);
  }

  /** Runs one scan at a time; a request during a scan runs once more after it. */
  rescan(): Promise<StatusReport> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      let report: StatusReport;
      do {
        this.again = false;
        const e = editorEnvironment();
        const settings = probeSettings();
        report = await collectStatus(e, { expiryMarginMs: settings.expiryMarginMs, clients: settings.clients });
        this.armInterval(settings.intervalMs);
        // What is stored shows at once; the probe's verdicts follow when the network answers.
        this.tree.update(report, settings.enabled);
        this.scanned.fire(report);
        // Credential stores change too (a login in a terminal): watch them beside the configs.
        this.watcher.watch([...report.scan.files, ...credentialFiles(e)]);
        if (settings.enabled) {
          const run = await probeReport(report, settings.probe);
          if (!this.again) {
            this.tree.updateProbes(run.probes);
            this.probed.fire({ report, probes: run.probes, marginMs: settings.expiryMarginMs });
          }
        } else {
          this.probed.fire({ report, probes: [], marginMs: settings.expiryMarginMs });
        }
      } while (this.again);
      await vscode.commands.executeCommand('setContext', 'mcpAuth.scanned', true);
      return report;
    })().finally(() => (this.scanning = undefined));
    return this.scanning;
  }
}

export async function activateExtension(context: vscode.ExtensionContext): Promise<ExtensionApi> {
  const ctx = new Ctx();
  const view = vscode.window.createTreeView('mcpAuth.servers', { treeDataProvider: ctx.tree, showCollapseAll: true });
  const attention = new AttentionSurfaces(() => ctx.rescan());
  const log = new ProbeLog();
  let last: { report: StatusReport; probes: (ServerProbe | undefined)[] } | undefined;
  const report = () =>
    last
      ? diagnosticReport(last.report, last.probes, {
          extensionVersion: String((context.extension.packageJSON as { version?: string }).version ?? '?'),
          hostVersion: `${vscode.env.appName} ${vscode.version}`,
          platform: `${process.platform} ${process.arch}`,
          at: Date.now(),
        })
      : '# MCP Auth Doctor diagnostic report\n\nNo scan has finished yet.\n';
  context.subscriptions.push(
    view,
    ctx,
    attention,
    log,
    ctx.probed,
    ctx.scanned.event((r) => log.scanned(r)),
    ctx.probed.event(({ report, probes, marginMs }) => {
      last = { report, probes };
      attention.update(report, probes, marginMs);
      log.probed(report, probes);
    }),
    vscode.commands.registerCommand('mcpAuth.copyReport', async () => {
      await vscode.env.clipboard.writeText(report());
      void vscode.window.showInformationMessage('MCP Auth: the diagnostic report is on the clipboard (no tokens, header values or URL query values in it).');
    }),
    vscode.commands.registerCommand('mcpAuth.showLog', () => log.channel.show(true)),
    ctx.watcher,
    ctx.scanned,
    vscode.workspace.onDidChangeWorkspaceFolders(() => void ctx.rescan()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('mcpAuthDoctor') || e.affectsConfiguration('http.proxy') || e.affectsConfiguration('http.noProxy')) void ctx.rescan();
    }),
    vscode.commands.registerCommand('mcpAuth.rescan', () => ctx.rescan()),
    vscode.commands.registerCommand('mcpAuth.openConfig', (node?: TreeNode) => {
      if (node?.kind === 'server') return openLocation(node.server.source);
    }),
    vscode.commands.registerCommand('mcpAuth.openLocation', (at: SourceLocation) => openLocation(at)),
    vscode.commands.registerCommand('mcpAuth.showAddServerHelp', showAddServerHelp),
  );
  registerRepairs(context, { rescan: () => ctx.rescan(), onDidScan: ctx.scanned.event });
  context.subscriptions.push(registerGuidedFlow(context));
  // Activation reads the config files; the probe (read-only, bounded) follows unless turned off.
  void ctx.rescan();
  return {
    rescan: async () => (await ctx.rescan()).scan,
    treeSnapshot: async () => ctx.tree.snapshot(),
    statusBar: () => attention.statusSnapshot(),
    diagnosticReport: report,
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
