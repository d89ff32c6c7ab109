// One probe run over a status report: every remote server in parallel, one discovery cache for
// the run, the stored access token read (from the client's own store) only for the live check.
import type { StatusReport } from '../status';
import { DiscoveryCache } from './authorizationServer';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT_MS, type FetchLike } from './http';
import { probeServers, type ProbeTarget, type ServerProbe } from './probe';
import type { SpecRevision } from './revisions';

export interface ProbeSettings {
  fetch?: FetchLike;
  timeoutMs?: number;
  maxBodyBytes?: number;
  revision?: SpecRevision;
  /** Send each stored access token to its own server to see whether it is accepted (default true). */
  liveCheck?: boolean;
}

export interface ProbeRun {
  /** Index-aligned with report.servers. */
  probes: ServerProbe[];
  /** Authorization-server metadata fetches that went out (one per issuer and URL). */
  metadataFetches: number;
  ms: number;
}

export async function probeReport(report: StatusReport, settings: ProbeSettings = {}): Promise<ProbeRun> {
  const started = performance.now();
  const cache = new DiscoveryCache();
  const http = {
    fetch: settings.fetch ?? ((input, init) => fetch(input, init)),
    timeoutMs: settings.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxBodyBytes: settings.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  } satisfies Parameters<typeof probeServers>[1]['http'];
  const targets: ProbeTarget[] = report.servers.map(({ server, token }) => {
    const reading = report.readings.find((r) => r.client === server.client);
    const key = server.storageKey;
    const summary = key ? reading?.entries.get(key) : undefined;
    const target: ProbeTarget = { server, ...(token ? { token } : {}), ...(summary ? { summary } : {}) };
    if (settings.liveCheck !== false && reading && key && summary?.hasAccessToken) {
      target.readAccessToken = async () => (await reading.store.readSecret(key))?.accessToken;
    }
    return target;
  });
  const probes = await probeServers(targets, { http, cache, now: report.at, ...(settings.revision ? { revision: settings.revision } : {}) });
  return { probes, metadataFetches: cache.fetches, ms: Math.round(performance.now() - started) };
}
