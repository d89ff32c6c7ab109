// The "MCP Auth" output channel: one line per scan and per probe exchange (method, URL with its
// query masked, status, time), so a user can see what the extension sent where. Headers and
// bodies are never logged; the trace entries are already redacted by the probe.
import * as vscode from 'vscode';
import type { ServerProbe } from '../core/probe/probe';
import { describeExchange } from '../core/probe/http';
import type { StatusReport } from '../core/status';

export class ProbeLog implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('MCP Auth', { log: true });

  scanned(report: StatusReport): void {
    this.channel.info(`scan: ${report.servers.length} server(s) in ${report.scan.files.length} config file(s); ${report.findings.length} problem(s) outside servers`);
  }

  probed(report: StatusReport, probes: (ServerProbe | undefined)[]): void {
    report.servers.forEach(({ server }, i) => {
      const p = probes[i];
      if (!p || p.state === 'not-probed') return;
      this.channel.info(`probe ${server.name} (${server.client}): ${p.state} in ${p.ms} ms`);
      for (const t of p.trace) this.channel.debug(`  ${t.step}: ${describeExchange(t)}`);
      for (const f of p.findings) (f.severity === 'error' ? this.channel.warn : this.channel.info).call(this.channel, `  ${f.code}: ${f.title}`);
    });
  }

  /** Everything the channel holds is also in the report; tests read it through this. */
  dispose(): void {
    this.channel.dispose();
  }
}
