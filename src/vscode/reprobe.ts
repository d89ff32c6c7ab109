// After a repair: what the servers it touched say now, probed with what is stored now, so the
// result notification can say "valid" or "rejected by the server" (a restored token may have been
// revoked or rotated away since its snapshot). Read-only, the same bounded probe as the tree.
import type { McpServer } from '../core/model';
import { DEFAULT_MAX_BODY_BYTES, type HttpSettings } from '../core/probe/http';
import type { ServerProbe } from '../core/probe/probe';
import { proxyFetchFor } from '../core/probe/proxy';
import { collectStatus } from '../core/status';
import { editorEnvironment } from './environment';
import { probeSettings } from './probeSettings';

/** Longer than the probe's default: a token endpoint may be slow, and a repair is one request the user asked for. */
const REPAIR_HTTP_TIMEOUT_MS = 15_000;

export interface Reprobed {
  server: McpServer;
  probe: ServerProbe;
}

/** Probes the remote servers `match` picks; empty when probing is turned off in the settings. */
export async function probeNow(match: (s: McpServer) => boolean): Promise<Reprobed[]> {
  const settings = probeSettings();
  if (!settings.enabled) return [];
  const report = await collectStatus(editorEnvironment(), { expiryMarginMs: settings.expiryMarginMs });
  const rows = report.servers.filter((r) => r.server.transport !== 'stdio' && r.server.enabled && match(r.server));
  if (rows.length === 0) return [];
  const { probeReport } = await import('../core/probe/run');
  const run = await probeReport({ ...report, servers: rows }, settings.probe);
  return rows.map((r, i) => ({ server: r.server, probe: run.probes[i]! }));
}

/** The network a repair uses: the editor's proxy settings, a repair's timeout. Close it when done. */
export function repairHttp(): { http: HttpSettings; close: () => Promise<void> } {
  const proxied = proxyFetchFor(probeSettings().probe.proxy ?? { env: process.env });
  return {
    http: { fetch: proxied.fetch, timeoutMs: REPAIR_HTTP_TIMEOUT_MS, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, routeFor: (url) => proxied.routeFor(url).description },
    close: () => proxied.close(),
  };
}
