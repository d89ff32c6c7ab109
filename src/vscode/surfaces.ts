// Where the user looks besides the view: the status bar, Problems with quick fixes, the log, the
// diagnostic report, the timers that keep them current without polling, the opt-in auto-refresh,
// and the view's "all healthy" line. Each listens to the passes the context runs (activate.ts)
// instead of being called from inside them.
import * as vscode from 'vscode';
import { HEALTHY_STATES } from '../core/probe/serverState';
import type { StatusReport } from '../core/status';
import type { RescanReason, ScanUpdate } from './activate';
import { AutoRefresh } from './autoRefresh';
import { RepairCodeActions } from './codeActions';
import { FindingDocs, Problems } from './diagnostics';
import { ProbeLog } from './log';
import { probeSettings } from './probeSettings';
import { DiagnosticReportCommand } from './report';
import { RescanSchedule } from './schedule';
import { attentionOf, StatusBar, type StatusBarSnapshot } from './statusBar';

export interface SurfaceHost {
  /** The view, for its message line. */
  view: { message?: string | undefined };
  rescan(reason: RescanReason): Promise<StatusReport>;
  onDidScan: vscode.Event<StatusReport>;
  onDidUpdate: vscode.Event<ScanUpdate>;
}

/** What the extension-host tests read through the extension's API. */
export interface Surfaces {
  statusBar(): StatusBarSnapshot | undefined;
  diagnosticReport(): Promise<string>;
  lastUpdate(): { reasons: RescanReason[]; probed: boolean; at: number } | undefined;
  nextWake(): number | undefined;
  /** A line in the "MCP Auth" log (the journal's states and losses). */
  info(line: string): void;
}

export function registerSurfaces(context: vscode.ExtensionContext, host: SurfaceHost): Surfaces {
  const log = new ProbeLog();
  const statusBar = new StatusBar();
  const problems = new Problems(new FindingDocs(vscode.Uri.joinPath(context.extensionUri, 'docs', 'findings.md')));
  const schedule = new RescanSchedule((reason) => host.rescan(reason));
  const report = new DiagnosticReportCommand(String((context.extension.packageJSON as { version?: string }).version ?? '?'));
  const autoRefresh = new AutoRefresh(log, (reason) => host.rescan(reason));
  let last: { reasons: RescanReason[]; probed: boolean; at: number } | undefined;
  context.subscriptions.push(
    log,
    statusBar,
    problems,
    schedule,
    report,
    // Every file scheme: findings sit in ~/.claude.json, .mcp.json, config.toml, settings and store files.
    vscode.languages.registerCodeActionsProvider({ scheme: 'file' }, new RepairCodeActions((uri, d) => problems.placedFor(uri, d)), RepairCodeActions.metadata),
    host.onDidScan((r) => {
      log.scanned(r);
      autoRefresh.scanned(r);
    }),
    host.onDidUpdate((u) => {
      const now = Date.now();
      last = { reasons: u.reasons, probed: Boolean(u.run), at: now };
      log.updated(u);
      statusBar.update(u.report, u.probes, u.marginMs, now);
      problems.update(u);
      schedule.armExpiry(u.report, u.marginMs, now);
      schedule.armInterval(probeSettings().intervalMs);
      const wake = schedule.nextWake();
      if (wake) log.info(`next expiry check at ${new Date(wake).toISOString()}`);
      report.update(u);
      host.view.message = healthLine(u, now);
    }),
    vscode.commands.registerCommand('mcpAuth.showLog', () => log.channel.show(true)),
  );
  return {
    statusBar: () => statusBar.snapshot(),
    diagnosticReport: () => report.build(),
    lastUpdate: () => last,
    nextWake: () => schedule.nextWake(),
    info: (line) => log.info(line),
  };
}

/** "All 4 servers are healthy": only after a probe, with nothing to act on anywhere. */
function healthLine(u: ScanUpdate, now: number): string | undefined {
  if (!u.run || u.report.servers.length === 0) return undefined;
  const unhealthy = u.probes.some((p) => p && !HEALTHY_STATES.has(p.state));
  const problems = u.report.findings.some((f) => f.severity === 'error');
  if (unhealthy || problems || attentionOf(u.report, u.probes, u.marginMs, now).length > 0) return undefined;
  const n = u.report.servers.length;
  const at = new Date(now).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return `${n === 1 ? 'The server is' : `All ${n} servers are`} healthy (checked at ${at}).`;
}
