// mcpAuthDoctor.autoRefresh (off by default): after each scan, refresh every expired or expiring
// token that has a refresh token, but only for a client that is not running. A running client
// holds its refresh token in memory; if the server rotates refresh tokens, our refresh would leave
// it with a dead one (failure-modes D3), so then we leave the refresh to the client. Each access
// token is tried once: a failed refresh is logged and not repeated until the token changes.
import * as vscode from 'vscode';
import { writeGuard } from '../core/storeFields';
import { CLIENT_LABELS, type ClientId } from '../core/model';
import { runningClients } from '../core/repair/processes';
import type { StatusReport } from '../core/status';
import type { RescanReason } from './activate';
import type { ProbeLog } from './log';
import { repairHttp } from './reprobe';

export class AutoRefresh {
  /** `<client>|<key>|<access-token fingerprint>` already tried. */
  private readonly tried = new Set<string>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly log: ProbeLog,
    private readonly rescan: (reason: RescanReason) => unknown,
  ) {}

  static enabled(): boolean {
    return vscode.workspace.getConfiguration('mcpAuthDoctor').get<boolean>('autoRefresh', false);
  }

  /** Called after each local scan; one round at a time (a scan during a round waits for the next). */
  scanned(report: StatusReport): void {
    if (this.running || !AutoRefresh.enabled()) return;
    this.running = this.round(report).finally(() => (this.running = undefined));
  }

  private async round(report: StatusReport): Promise<void> {
    const due = report.servers.filter(
      ({ server, token }) =>
        server.enabled && server.transport !== 'stdio' && server.storageKey && token?.hasRefreshToken && (token.state === 'expired' || token.state === 'expiring') && !this.tried.has(triedKey(server.client, server.storageKey, token.fingerprint)),
    );
    if (due.length === 0) return;
    const clients = [...new Set(due.map((d) => d.server.client))];
    const free = new Map<ClientId, boolean>();
    for (const client of clients) {
      const r = await runningClients(client);
      free.set(client, r.known && r.processes.length === 0);
      if (!r.known) this.log.info(`auto-refresh: skipped for ${CLIENT_LABELS[client]}: whether it is running could not be checked (${r.reason ?? 'unknown'})`);
      else if (r.processes.length) this.log.info(`auto-refresh: skipped for ${CLIENT_LABELS[client]}: it is running (${r.processes.map((p) => `pid ${p.pid}`).join(', ')}) and refreshes its own tokens`);
    }
    let refreshed = 0;
    for (const { server, token } of due) {
      if (!free.get(server.client)) continue;
      const key = server.storageKey!;
      this.tried.add(triedKey(server.client, key, token!.fingerprint));
      const store = report.readings.find((r) => r.client === server.client)?.store;
      if (!store) continue;
      // Nobody is there to confirm a write to a newer client's store with fields we do not know (core/storeFields).
      const guard = writeGuard(report.clients?.find((c) => c.client === server.client), report.unknownFields?.find((u) => u.client === server.client), key);
      if (guard) {
        this.log.info(`auto-refresh: skipped ${server.name}: ${guard.message} Refresh it by hand to confirm.`);
        continue;
      }
      const { http, close } = repairHttp();
      try {
        // The refresh (and oauth4webapi) load only when a token is due, not at activation.
        const { refresh } = await import('../core/repair/refresh');
        const outcome = await refresh({ server, store, key }, { http });
        if (outcome.ok) {
          refreshed++;
          this.log.info(`auto-refresh: ${server.name} (${CLIENT_LABELS[server.client]}): ${outcome.summary}`, outcome.undoSnapshotId ? ` (undo: MCP Auth: Restore Credentials…, snapshot ${outcome.undoSnapshotId})` : '');
        } else {
          this.log.warn(`auto-refresh: ${server.name} (${CLIENT_LABELS[server.client]}) failed (${outcome.error}): ${outcome.message}`);
        }
      } catch (err) {
        this.log.warn(`auto-refresh: ${server.name} (${CLIENT_LABELS[server.client]}) stopped: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        await close();
      }
    }
    // The store watcher sees file writes; a Keychain or keyring write it cannot see.
    if (refreshed > 0) void this.rescan('auto-refresh');
  }
}

function triedKey(client: ClientId, key: string, fingerprint: string | null | undefined): string {
  return `${client}|${key}|${fingerprint ?? ''}`;
}
