// The status-bar item: nothing while all is well; a warning when a token has expired or expires
// within the margin (mcpAuthDoctor.expiryWarningMinutes); error style when a server does not work
// until the user acts. It judges expiry by the clock at each update, so the expiry timer
// (schedule.ts) turns it on with no file changing. Click: the MCP Auth view.
import * as vscode from 'vscode';
import { CLIENT_LABELS, type McpServer } from '../core/model';
import type { ServerProbe, ServerState } from '../core/probe/probe';
import type { StatusReport } from '../core/status';
import { describeSpan } from '../core/tokenStatus';

/** Probed states in which a server does not work until the user acts. */
const UNUSABLE: ReadonlySet<ServerState> = new Set(['rejected', 'insufficient-scope', 'forbidden', 'misconfigured']);

/** One server the status bar names. */
export interface Attention {
  server: McpServer;
  kind: 'expired' | 'expiring' | 'failing';
  /** What the tooltip says after the server's name, e.g. "expired 5 min ago (at 14:03) · refresh token present". */
  words: string;
  /** Does not work until the user acts: error style. */
  unusable: boolean;
}

/** The servers that need attention now: by the probe's verdict where there is one, else by the stored expiry. */
export function attentionOf(report: StatusReport, probes: readonly (ServerProbe | undefined)[], marginMs: number, now: number): Attention[] {
  const out: Attention[] = [];
  report.servers.forEach(({ server, token }, i) => {
    // A disabled or stdio server's token is nobody's problem today.
    if (server.transport === 'stdio' || !server.enabled) return;
    const probe = probes[i];
    const state = probe?.state;
    if (state && UNUSABLE.has(state)) {
      out.push({ server, kind: 'failing', words: probe.summary, unusable: true });
      return;
    }
    if (state === 'not-probed' || state === 'no-auth-needed' || !token) return;
    const expiresAt = token.expiresAt;
    const refresh = token.hasRefreshToken ? ' · refresh token present' : ' · no refresh token: log in again';
    // A token the server still took after its stored expiry (probed valid after it) is fine.
    const acceptedAfterExpiry = state === 'valid' && expiresAt !== null && expiresAt <= report.at;
    if (state === 'expired' || (expiresAt !== null && expiresAt <= now && !acceptedAfterExpiry)) {
      const when = expiresAt !== null ? ` ${describeSpan(now - expiresAt)} ago (at ${clock(expiresAt)})` : '';
      out.push({ server, kind: 'expired', words: `expired${when}${refresh}`, unusable: !token.hasRefreshToken });
    } else if (expiresAt !== null && expiresAt > now && expiresAt - now <= marginMs) {
      out.push({ server, kind: 'expiring', words: `expires in ${describeSpan(expiresAt - now)} (at ${clock(expiresAt)})${refresh}`, unusable: false });
    }
  });
  return out;
}

/** What the item shows, for the extension-host tests. */
export interface StatusBarSnapshot {
  text: string;
  tooltip: string;
  error: boolean;
  ariaLabel: string;
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('mcpAuth.attention', vscode.StatusBarAlignment.Left, 50);
  private shown: StatusBarSnapshot | undefined;

  constructor() {
    this.item.name = 'MCP Auth token warnings';
    this.item.command = { command: 'mcpAuth.servers.focus', title: 'Open the MCP Auth view' };
  }

  update(report: StatusReport, probes: readonly (ServerProbe | undefined)[], marginMs: number, now = Date.now()): void {
    const needs = attentionOf(report, probes, marginMs, now);
    if (needs.length === 0) {
      this.item.hide();
      this.shown = undefined;
      return;
    }
    const count = (kind: Attention['kind']) => needs.filter((n) => n.kind === kind).length;
    const parts = [count('expired') && `${count('expired')} expired`, count('expiring') && `${count('expiring')} expiring`, count('failing') && `${count('failing')} failing`].filter(Boolean);
    const error = needs.some((n) => n.unusable);
    const lines = needs.map((n) => `${n.server.name} (${CLIENT_LABELS[n.server.client]}, ${n.server.scope}): ${n.words}`);
    const text = `$(key) MCP: ${parts.join(', ')}`;
    const tooltip = [`MCP Auth: ${needs.length === 1 ? 'a server needs' : `${needs.length} servers need`} attention`, '', ...lines, '', 'Click to open the MCP Auth view.'].join('\n');
    // Read aloud: no icon syntax, the servers named, what clicking does.
    const ariaLabel = `MCP Auth: ${parts.join(', ')}${error ? ', action needed' : ''}. ${needs.map((n) => `${n.server.name}: ${n.words.replace(/ · /g, ', ')}`).join('. ')}. Opens the MCP Auth view.`;
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = new vscode.ThemeColor(error ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
    this.item.color = new vscode.ThemeColor(error ? 'statusBarItem.errorForeground' : 'statusBarItem.warningForeground');
    this.item.accessibilityInformation = { label: ariaLabel, role: 'button' };
    this.item.show();
    this.shown = { text, tooltip, error, ariaLabel };
  }

  snapshot(): StatusBarSnapshot | undefined {
    return this.shown;
  }

  dispose(): void {
    this.item.dispose();
  }
}

/** 14:03 in the user's locale (the date too when it is not today). */
function clock(ms: number): string {
  const d = new Date(ms);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
