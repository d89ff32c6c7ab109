// One status pass: every client's config, every credential store read once, joined by storage key.
// The CLI's `status` and the editor's tree both show this.
import { detectClientVersions, type ClientVersionInfo, type VersionIo } from './clientVersions';
import { scanConfigs, ALL_CLIENTS } from './config/scan';
import { credentialStoresFor, type CredentialStoreOptions } from './credentials/index';
import type { Environment } from './environment';
import type { ClientId, ConfigScan, Finding, McpServer } from './model';
import { unknownFieldsFinding, unknownStoreFields, type UnknownStoreFields } from './storeFields';
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
  /** Each client's installed version (when asked for with `versions`). */
  clients?: ClientVersionInfo[];
  /** Fields in each client's credential file that we do not know (with `versions`). */
  unknownFields?: UnknownStoreFields[];
}

export interface StatusOptions {
  clients?: ClientId[];
  now?: number;
  expiryMarginMs?: number;
  stores?: CredentialStoreOptions;
  /**
   * Also find each client's installed version (binary on PATH, VS Code extension) and the
   * unknown fields of its credential file; a client newer than the newest verified whose store
   * has such fields gets an info finding (storeFields.ts).
   */
  versions?: VersionIo;
  /** Reads a credential file for the unknown-field check (tests); default the disk. */
  readStoreFile?: (file: string) => Promise<string>;
}

export async function collectStatus(e: Environment, options: StatusOptions = {}): Promise<StatusReport> {
  const clients = options.clients ?? ALL_CLIENTS;
  const at = options.now ?? Date.now();
  const [scan, readings, versions] = await Promise.all([
    scanConfigs(e, clients),
    readStores(credentialStoresFor(e, undefined, { ...options.stores, clients })),
    options.versions ? clientVersionsAndFields(e, clients, options.versions, options.readStoreFile) : undefined,
  ]);
  const versionFindings = versions ? versions.clients.flatMap((info) => {
    const unknown = versions.unknownFields.find((u) => u.client === info.client);
    const f = unknown ? unknownFieldsFinding(info, unknown) : undefined;
    return f ? [f] : [];
  }) : [];
  return {
    scan,
    servers: scan.servers.map((server) => {
      const token = tokenFor(server, readings, at, options.expiryMarginMs);
      return token ? { server, token } : { server };
    }),
    findings: [...scan.findings, ...readings.flatMap((r) => r.findings), ...versionFindings],
    readings,
    at,
    ...(versions ? { clients: versions.clients, unknownFields: versions.unknownFields } : {}),
  };
}

async function clientVersionsAndFields(e: Environment, clients: ClientId[], io: VersionIo, readFile?: (file: string) => Promise<string>) {
  const infos = await detectClientVersions(io, clients);
  // The Keychain / keyring stores are read only for a client newer than verified (a Keychain read can prompt).
  const newer = (c: ClientId) => infos.some((i) => i.client === c && i.newerThanVerified);
  const fields = await Promise.all(clients.map((c) => unknownStoreFields(e, c, { ...(readFile ? { readFile } : {}), keyrings: newer(c) })));
  return { clients: infos, unknownFields: fields.filter((f): f is UnknownStoreFields => f !== undefined) };
}
