// The "MCP Auth" output channel (a LogOutputChannel: levels and timestamps are VS Code's): each
// pass and why it ran, each probed server's state, each exchange (method, URL with its query
// masked, status, time), findings by code, timers and auto-refreshes, so a user can see what the
// extension sent where and when. Headers and bodies are never logged; the trace entries are
// already redacted by the probe, and token-shaped runs are scrubbed once more.
import * as vscode from 'vscode';
import { CLIENT_LABELS } from '../core/model';
import { describeExchange } from '../core/probe/http';
import { scrub } from '../core/report/diagnosticReport';
import type { StatusReport } from '../core/status';
import type { ScanUpdate } from './activate';

export class ProbeLog implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('MCP Auth', { log: true });

  scanned(report: StatusReport): void {
    const stored = report.servers.filter((s) => s.token?.fingerprint).length;
    this.info(`scan: ${report.servers.length} server(s) in ${report.scan.files.length} config file(s) looked at, ${stored} stored token(s); ${report.findings.length} problem(s) outside servers`);
  }

  updated(u: ScanUpdate): void {
    const why = u.reasons.join(', ');
    if (!u.run) {
      this.info(`pass (${why}): stored state only, nothing sent (the probe starts once the MCP Auth view is opened, unless mcpAuthDoctor.probe.enabled is off)`);
      return;
    }
    this.info(`pass (${why}): probed in ${u.run.ms} ms, network ${u.run.network}, ${u.run.metadataFetches} metadata fetch(es)`);
    u.report.servers.forEach(({ server }, i) => {
      const p = u.probes[i];
      if (!p || p.state === 'not-probed') return;
      this.info(`probe ${server.name} (${CLIENT_LABELS[server.client]}, ${server.scope}): ${p.state} in ${p.ms} ms: ${p.summary}`);
      for (const t of p.trace) this.info(`  ${t.step}: ${describeExchange(t)}`);
      for (const f of p.findings) (f.severity === 'error' ? this.channel.warn : this.channel.info).call(this.channel, scrub(`  ${f.severity} ${f.code}: ${f.title}`));
    });
  }

  /** `ours`: text we made ourselves (a snapshot id), kept out of the scrub that would mask its length. */
  info(line: string, ours = ''): void {
    this.channel.info(scrub(line) + ours);
  }

  warn(line: string): void {
    this.channel.warn(scrub(line));
  }

  dispose(): void {
    this.channel.dispose();
  }
}
