// Where the user's eye goes without opening the view: a status-bar warning when a token has
// expired or expires within the margin (nothing while all is well), diagnostics in Problems on
// the config files at each affected server's entry with quick fixes that run the repairs, and a
// timer at the next expiry so the warning appears without any file changing.
import * as vscode from 'vscode';
import type { Finding, McpServer, RepairId, Severity } from '../core/model';
import type { ServerProbe, ServerState } from '../core/probe/probe';
import type { StatusReport } from '../core/status';
import { describeSpan } from '../core/tokenStatus';
import { refOf } from './serverRef';

/** The catalogue users are sent to from a diagnostic's code. */
const FINDINGS_DOC = 'https://github.com/mcp-auth-doctor/mcp-auth-doctor/blob/main/docs/findings.md';

/** States in which a server does not work until the user acts (error style in the status bar). */
const UNUSABLE: ReadonlySet<ServerState> = new Set(['rejected', 'insufficient-scope', 'forbidden', 'misconfigured']);

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

/** One line per server that needs attention, for the status bar's tooltip. */
interface Attention {
  server: McpServer;
  words: string;
  unusable: boolean;
}

export class AttentionSurfaces implements vscode.Disposable, vscode.CodeActionProvider {
  private readonly item = vscode.window.createStatusBarItem('mcpAuth.attention', vscode.StatusBarAlignment.Left, 50);
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('MCP Auth');
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Findings behind each diagnostic, so a quick fix knows the server and the repairs. */
  private readonly behind = new WeakMap<vscode.Diagnostic, { server: McpServer; finding: Finding }>();

  constructor(private readonly rescan: () => unknown) {
    this.item.name = 'MCP Auth: token warnings';
    this.item.command = 'mcpAuth.servers.focus';
    this.disposables.push(
      this.item,
      this.diagnostics,
      vscode.languages.registerCodeActionsProvider([{ scheme: 'file', pattern: '**/{.claude.json,.mcp.json,config.toml,*.config.toml,managed-mcp.json}' }], this, {
        providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
      }),
    );
  }

  /** After each scan and probe: the status bar, Problems and the next-expiry timer. */
  update(report: StatusReport, probes: (ServerProbe | undefined)[], marginMs: number): void {
    const now = Date.now();
    this.showStatus(report, probes, marginMs, now);
    this.showDiagnostics(report, probes);
    this.armTimer(report, marginMs, now);
  }

  /** What the status bar shows now, for tests: undefined while hidden. */
  statusSnapshot(): { text: string; tooltip: string; error: boolean } | undefined {
    if (!this.visible) return undefined;
    return { text: this.item.text, tooltip: String(this.item.tooltip ?? ''), error: this.errorStyle };
  }

  private visible = false;
  private errorStyle = false;

  private showStatus(report: StatusReport, probes: (ServerProbe | undefined)[], marginMs: number, now: number): void {
    const needs: Attention[] = [];
    report.servers.forEach(({ server, token }, i) => {
      const probe = probes[i];
      const expiresAt = token?.expiresAt ?? null;
      const state = probe?.state;
      if (state && UNUSABLE.has(state)) {
        needs.push({ server, words: probe.summary, unusable: true });
        return;
      }
      // By the clock, since the timer fires without a new judgement; but a token the server still
      // took after its stored expiry (probed valid after it) is not shown as expired.
      const acceptedAfterExpiry = state === 'valid' && expiresAt !== null && expiresAt <= report.at;
      if (state === 'expired' || (expiresAt !== null && expiresAt <= now && !acceptedAfterExpiry && state !== 'not-probed' && state !== 'no-auth-needed')) {
        needs.push({ server, words: `expired ${expiresAt ? `${describeSpan(now - expiresAt)} ago` : ''}${token?.hasRefreshToken ? ' · refresh token present' : ''}`, unusable: !token?.hasRefreshToken });
      } else if (expiresAt !== null && expiresAt > now && expiresAt - now <= marginMs && state !== 'not-probed') {
        needs.push({ server, words: `expires in ${describeSpan(expiresAt - now)}`, unusable: false });
      }
    });
    if (needs.length === 0) {
      this.item.hide();
      this.visible = false;
      return;
    }
    const expired = needs.filter((n) => n.words.startsWith('expired')).length;
    const expiring = needs.filter((n) => n.words.startsWith('expires')).length;
    const other = needs.length - expired - expiring;
    const parts = [expired ? `${expired} expired` : '', expiring ? `${expiring} expiring` : '', other ? `${other} failing` : ''].filter(Boolean);
    this.errorStyle = needs.some((n) => n.unusable);
    this.item.text = `$(key) MCP: ${parts.join(', ')}`;
    this.item.backgroundColor = new vscode.ThemeColor(this.errorStyle ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
    this.item.tooltip = needs.map((n) => `${n.server.name} (${n.server.client === 'codex' ? 'Codex' : 'Claude Code'}): ${n.words}`).join('\n');
    this.item.accessibilityInformation = { label: `MCP Auth: ${parts.join(', ')}. ${needs.map((n) => `${n.server.name}: ${n.words}`).join('. ')}` };
    this.item.show();
    this.visible = true;
  }

  private showDiagnostics(report: StatusReport, probes: (ServerProbe | undefined)[]): void {
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const add = (server: McpServer | undefined, finding: Finding, file: string, line: number, column: number) => {
      const at = new vscode.Position(Math.max(line - 1, 0), Math.max(column - 1, 0));
      const d = new vscode.Diagnostic(new vscode.Range(at, at.translate(0, server ? server.name.length + 2 : 1)), finding.title, SEVERITY[finding.severity]);
      d.source = 'MCP Auth';
      d.code = { value: finding.code, target: vscode.Uri.parse(`${FINDINGS_DOC}#${finding.code.replace(/\./g, '')}`) };
      if (server) this.behind.set(d, { server, finding });
      const list = byFile.get(file) ?? [];
      list.push(d);
      byFile.set(file, list);
    };
    report.servers.forEach(({ server }, i) => {
      for (const f of [...server.findings, ...(probes[i]?.findings ?? [])]) {
        if (f.severity === 'info') continue;
        const at = f.location ?? server.source;
        add(server, f, at.file, at.line, at.column);
      }
    });
    for (const f of report.findings) if (f.location) add(undefined, f, f.location.file, f.location.line, f.location.column);
    this.diagnostics.clear();
    for (const [file, list] of byFile) this.diagnostics.set(vscode.Uri.file(file), list);
  }

  /** Re-probe when the earliest token crosses the margin or expires, so no file change is needed. */
  private armTimer(report: StatusReport, marginMs: number, now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const moments = report.servers.flatMap(({ token }) => (token?.expiresAt ? [token.expiresAt - marginMs, token.expiresAt] : [])).filter((t) => t > now);
    if (moments.length === 0) return;
    const wait = Math.min(Math.max(Math.min(...moments) - now + 250, 1000), 24 * 3600_000);
    this.timer = setTimeout(() => void this.rescan(), wait);
  }

  provideCodeActions(_doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of context.diagnostics) {
      const behind = this.behind.get(d);
      if (!behind) continue;
      for (const repair of behind.finding.repairs ?? []) out.push(...quickFixes(repair, behind.server, d));
    }
    return out;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

const QUICK_FIXES: Partial<Record<RepairId, [string, string][]>> = {
  refresh: [['mcpAuth.refresh', 'Refresh the token of']],
  relogin: [
    ['mcpAuth.login', 'Log in again to'],
    ['mcpAuth.handOffLogin', "Log in with the client's own command to"],
  ],
  reset: [['mcpAuth.reset', 'Reset the stored credential of']],
};

function quickFixes(repair: RepairId, server: McpServer, d: vscode.Diagnostic): vscode.CodeAction[] {
  if (server.transport === 'stdio') return [];
  return (QUICK_FIXES[repair] ?? []).map(([command, words], i) => {
    const action = new vscode.CodeAction(`${words} "${server.name}"`, vscode.CodeActionKind.QuickFix);
    action.diagnostics = [d];
    action.isPreferred = i === 0 && repair !== 'reset';
    action.command = { command, title: action.title, arguments: [refOf(server)] };
    return action;
  });
}
