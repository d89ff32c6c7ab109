// "MCP Auth: Copy Diagnostic Report": the Markdown report of the last pass (core/report) on the
// clipboard, with the editor's versions, the clients' own version lines when they answer within a
// few seconds, and the settings that change what is read or sent.
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import { diagnosticReport } from '../core/report/diagnosticReport';
import type { ScanUpdate } from './activate';
import { probeSettings } from './probeSettings';

const VERSION_TIMEOUT_MS = 3000;

/** `claude --version` / `codex --version`, first line; why not, when it did not answer. */
function versionOf(command: string): Promise<string> {
  return new Promise((resolve) => {
    // No shell except on Windows, where the npm shims are .cmd files; fixed arguments either way.
    execFile(command, ['--version'], { timeout: VERSION_TIMEOUT_MS, windowsHide: true, shell: process.platform === 'win32', env: process.env }, (err, stdout) => {
      const line = String(stdout ?? '').split('\n')[0]?.trim().slice(0, 80);
      if (line && !err) resolve(line);
      else resolve((err as NodeJS.ErrnoException | null)?.code === 'ENOENT' ? 'not on PATH' : 'did not answer');
    });
  });
}

export class DiagnosticReportCommand implements vscode.Disposable {
  private last: ScanUpdate | undefined;
  /** Asked once per window: the clients' versions change rarely and each call costs a process. */
  private versions: Promise<{ label: string; version: string }[]> | undefined;
  private readonly command: vscode.Disposable;

  constructor(private readonly extensionVersion: string) {
    this.command = vscode.commands.registerCommand('mcpAuth.copyReport', async () => {
      const text = await this.build();
      await vscode.env.clipboard.writeText(text);
      void vscode.window.showInformationMessage('MCP Auth: the diagnostic report is on the clipboard (no tokens, header values or URL query values in it).');
      return text.length;
    });
  }

  update(u: ScanUpdate): void {
    this.last = u;
  }

  async build(): Promise<string> {
    if (!this.last) return '# MCP Auth Doctor diagnostic report\n\nNo scan has finished yet.\n';
    this.versions ??= Promise.all([
      versionOf('claude').then((version) => ({ label: 'claude', version })),
      versionOf('codex').then((version) => ({ label: 'codex', version })),
    ]);
    const s = probeSettings();
    const { report, probes, run } = this.last;
    return diagnosticReport(report, probes, {
      extensionVersion: this.extensionVersion,
      hostVersion: `${vscode.env.appName} ${vscode.version}${vscode.env.remoteName ? ` (remote: ${vscode.env.remoteName})` : ''}`,
      platform: `${process.platform} ${process.arch}, Node ${process.versions.node}`,
      at: Date.now(),
      ...(run ? { network: run.network } : {}),
      clients: await this.versions,
      settings: [
        `clients ${s.clients.join(', ')}`,
        `probe ${s.enabled ? 'on' : 'off'}`,
        `live check ${s.probe.liveCheck === false ? 'off' : 'on'}`,
        `timeout ${(s.probe.timeoutMs ?? 0) / 1000} s`,
        `revision ${s.probe.revision ?? 'default'}`,
        `expiry margin ${s.expiryMarginMs / 60_000} min`,
        `interval ${s.intervalMs ? `${s.intervalMs / 60_000} min` : 'off'}`,
      ],
    });
  }

  dispose(): void {
    this.command.dispose();
  }
}
