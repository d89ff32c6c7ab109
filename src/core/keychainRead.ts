// The explicit read of one Codex server's macOS Keychain item: the status pass sees Codex's items
// by their attributes only (only Codex may read them without macOS asking); once the user has read
// CODEX_KEYCHAIN_PROMPT_EXPLANATION and asked, this reads that one item (macOS shows its dialog
// once: the live check reuses the value read) and says the login's real state.
import { CODEX_FINDING } from './credentials/codexFindings';
import type { CredentialStoreOptions } from './credentials/index';
import type { Environment } from './environment';
import type { McpServer } from './model';
import type { ProbeSettings } from './probe/run';
import type { ServerProbe } from './probe/probe';
import { collectStatus, type ServerStatus, type StatusReport } from './status';
import { describeToken } from './tokenStatus';

export interface KeychainReadOptions {
  /** Probe the server with the token read (default: no probe, the stored state only). */
  probe?: ProbeSettings;
  expiryMarginMs?: number;
  /** Runners of the stores (tests: a `security` replay and a reader stand-in). */
  stores?: CredentialStoreOptions;
  now?: number;
}

export type KeychainReadResult =
  | { problem: string }
  | {
      status: ServerStatus;
      report: StatusReport;
      probe?: ServerProbe;
      /** The login's state now, in the words of the tree and the CLI. */
      words: string;
      /** Why the item could not be read (a denied dialog, a locked keychain), in the store's words. */
      problems: string[];
    };

/** Reads the Keychain item of the one Codex server `match` picks, with the user's permission. */
export async function readKeychainLogin(e: Environment, match: (s: McpServer) => boolean, options: KeychainReadOptions = {}): Promise<KeychainReadResult> {
  if (e.platform !== 'darwin') return { problem: 'Codex keeps MCP logins in Keychain items only on macOS.' };
  const common = { clients: ['codex' as const], ...(options.expiryMarginMs !== undefined ? { expiryMarginMs: options.expiryMarginMs } : {}), ...(options.now !== undefined ? { now: options.now } : {}) };
  // Which key to read: from a pass that reads no secret.
  const before = await collectStatus(e, { ...common, ...(options.stores ? { stores: options.stores } : {}) });
  const found = before.servers.find((r) => r.server.client === 'codex' && match(r.server));
  if (!found) return { problem: 'That Codex server is no longer configured.' };
  const key = found.server.storageKey;
  if (!key || found.server.transport === 'stdio') return { problem: `"${found.server.name}" has no OAuth login to read.` };
  const report = await collectStatus(e, { ...common, stores: { ...options.stores, allowKeychainPrompt: true, keychainReadAccounts: [key], keychainReadOnce: true } });
  const status = report.servers.find((r) => r.server.client === 'codex' && r.server.storageKey === key && match(r.server));
  if (!status) return { problem: 'That Codex server is no longer configured.' };
  const reading = report.readings.find((r) => r.client === 'codex');
  // A denied dialog or a locked keychain: the store's finding about this item says which.
  const problems = (reading?.findings ?? [])
    .filter((f) => (f.code === CODEX_FINDING.keyringValueInvalid && f.detail.includes(key)) || f.code === CODEX_FINDING.keyringUnavailable)
    .map((f) => f.detail);
  let probe: ServerProbe | undefined;
  if (options.probe && status.server.enabled && problems.length === 0) {
    const { probeReport } = await import('./probe/run');
    probe = (await probeReport({ ...report, servers: [status] }, options.probe)).probes[0];
  }
  const words =
    problems.length > 0
      ? "the Keychain item was not read"
      : probe && probe.state !== 'not-probed'
        ? `${probe.state}: ${probe.summary}`
        : status.token
          ? describeToken(status.token, report.at)
          : 'no login stored';
  return { status, report, ...(probe ? { probe } : {}), words, problems };
}
