// "MCP Auth: Copy Diagnostic Report": the Markdown report of the last pass (core/report) on the
// clipboard, with the editor's versions, each client's installed version (core/clientVersions,
// shared with status and the tree), and the settings that change what is read or sent.
import * as vscode from 'vscode';
import { describeVersion, detectClientVersions, nodeVersionIo } from '../core/clientVersions';
import { CLIENT_LABELS } from '../core/model';
import { CLIENT_IDS } from '../core/clients/ids';
import { diagnosticReport } from '../core/report/diagnosticReport';
import { editorEnvironment } from './environment';
import type { ScanUpdate } from './activate';
import { probeSettings } from './probeSettings';

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
    // One implementation with status and the tree (core/clientVersions): PATH and the extension folders.
    this.versions ??= detectClientVersions(nodeVersionIo(editorEnvironment()), CLIENT_IDS).then((infos) =>
      infos.map((info) => ({ label: CLIENT_LABELS[info.client], version: describeVersion(info) })),
    );
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
