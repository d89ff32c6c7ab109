// One probe run over a status report: every remote server in parallel, one discovery cache for
// the run, the stored access token read (from the client's own store) only for the live check.
import type { StatusReport } from '../status';
import { DiscoveryCache } from './authorizationServer';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT_MS, type FetchLike } from './http';
import { probeServers, type ProbeTarget, type ServerProbe } from './probe';
import { proxyFetchFor, type ProxyOptions } from './proxy';
import type { SpecRevision } from './revisions';

export interface ProbeSettings {
  /** A fetch to use as is (tests); otherwise one is chosen from `proxy`. */
  fetch?: FetchLike;
  /** Proxy environment and VS Code's http.proxy / http.noProxy / http.proxyStrictSSL. */
  proxy?: ProxyOptions;
  timeoutMs?: number;
  maxBodyBytes?: number;
  revision?: SpecRevision;
  /** Send each stored access token to its own server to see whether it is accepted (default true). */
  liveCheck?: boolean;
  /** Claude Code's MCP_OAUTH_CLIENT_METADATA_URL; default: the one in `proxy.env`, the environment the probe runs in. */
  clientMetadataUrl?: string;
}

export interface ProbeRun {
  /** Index-aligned with report.servers. */
  probes: ServerProbe[];
  /** Authorization-server metadata fetches that went out (one per issuer and URL). */
  metadataFetches: number;
  ms: number;
  /** How requests went out, in words: "direct (no proxy configured)" or the proxy (credentials masked). */
  network: string;
}

export async function probeReport(report: StatusReport, settings: ProbeSettings = {}): Promise<ProbeRun> {
  const started = performance.now();
  const cache = new DiscoveryCache();
  const proxied = settings.fetch ? undefined : proxyFetchFor(settings.proxy ?? { env: {} });
  const http = {
    fetch: settings.fetch ?? (proxied as NonNullable<typeof proxied>).fetch,
    timeoutMs: settings.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxBodyBytes: settings.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    ...(proxied
      ? {
          routeFor: (url: string) => proxied.routeFor(url).description,
          // node:http, direct or through the proxy: no undici, no Response to build.
          probeFetch: proxied.send,
        }
      : {}),
  } satisfies Parameters<typeof probeServers>[1]['http'];
  // One read of each store for every live check of the run (one Keychain call, one parse), not one per server.
  const secretsOf = new Map<StatusReport['readings'][number], Promise<Map<string, { accessToken?: string }>>>();
  const wanted = (reading: StatusReport['readings'][number]) =>
    report.servers.flatMap(({ server }) => (server.client === reading.client && server.storageKey && reading.entries.get(server.storageKey)?.hasAccessToken ? [server.storageKey] : []));
  const readSecret = (reading: StatusReport['readings'][number], key: string) => {
    if (!reading.store.readSecrets) return reading.store.readSecret(key);
    let all = secretsOf.get(reading);
    if (!all) {
      all = reading.store.readSecrets(wanted(reading));
      secretsOf.set(reading, all);
    }
    return all.then((m) => m.get(key));
  };
  const targets: ProbeTarget[] = report.servers.map(({ server, token }) => {
    const reading = report.readings.find((r) => r.client === server.client);
    const key = server.storageKey;
    // A login in an unread Keychain item: a file copy, if any, is not what the client uses.
    const summary = key && token?.state !== 'in-keychain' ? reading?.entries.get(key) : undefined;
    const target: ProbeTarget = { server, ...(token ? { token } : {}), ...(summary ? { summary } : {}) };
    if (settings.liveCheck !== false && reading && key && summary?.hasAccessToken) {
      target.readAccessToken = async () => (await readSecret(reading, key))?.accessToken;
    }
    return target;
  });
  try {
    const clientMetadataUrl = settings.clientMetadataUrl ?? settings.proxy?.env.MCP_OAUTH_CLIENT_METADATA_URL;
    const probes = await probeServers(targets, { http, cache, now: report.at, ...(settings.revision ? { revision: settings.revision } : {}), ...(clientMetadataUrl ? { clientMetadataUrl } : {}) });
    return { probes, metadataFetches: cache.fetches, ms: Math.round(performance.now() - started), network: proxied?.description ?? 'the caller\'s fetch' };
  } finally {
    await proxied?.close();
  }
}
