// One status pass: every client's config, every credential store read once, joined by storage key.
// The CLI's `status` and the editor's tree both show this.
import { scanConfigs, ALL_CLIENTS } from './config/scan';
import { credentialStoresFor, type CredentialStoreOptions } from './credentials/index';
import type { Environment } from './environment';
import type { ClientId, ConfigScan, Finding, McpServer } from './model';
import { readStores, tokenFor, type StoreReading, type TokenStatus } from './tokenStatus';

export interface ServerStatus {
  server: McpServer;
  token?: TokenStatus;
}

export interface StatusReport {
  scan: ConfigScan;
  servers: ServerStatus[];
  /** Config problems that belong to no single server, and problems of the stores themselves. */
  findings: Finding[];
  readings: StoreReading[];
  at: number;
}

export interface StatusOptions {
  clients?: ClientId[];
  now?: number;
  expiryMarginMs?: number;
  stores?: CredentialStoreOptions;
}

export async function collectStatus(e: Environment, options: StatusOptions = {}): Promise<StatusReport> {
  const clients = options.clients ?? ALL_CLIENTS;
  const at = options.now ?? Date.now();
  const [scan, readings] = await Promise.all([
    scanConfigs(e, clients),
    readStores(credentialStoresFor(e, undefined, { ...options.stores, clients })),
  ]);
  return {
    scan,
    servers: scan.servers.map((server) => {
      const token = tokenFor(server, readings, at, options.expiryMarginMs);
      return token ? { server, token } : { server };
    }),
    findings: [...scan.findings, ...readings.flatMap((r) => r.findings)],
    readings,
    at,
  };
}
