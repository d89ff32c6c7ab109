// The credential stores of every client we know, built for one environment; surfaces (CLI
// backup/backups/restore, the editor) go through this factory rather than constructing stores.
import type { Environment } from '../environment';
import type { ClientId } from '../model';
import { snapshotStoreFor, type SnapshotStore } from './backups';
import type { CommandRunner } from './claudeCodeKeychain';
import type { KeyringRunner } from './codexKeyring';
import { clientsWithStores } from '../clients/registry';
import type { CredentialStore } from './store';

export interface CredentialStoreOptions {
  /** Shared by every store; default `snapshotStoreFor(e)` (`~/.mcp-auth-doctor/backups`). */
  backups?: SnapshotStore;
  /** macOS: runs /usr/bin/security for Claude Code's Keychain item (tests inject a fake). */
  security?: CommandRunner;
  /** Only these clients' stores; default all. */
  clients?: ClientId[];
  /**
   * macOS: the user allowed reading Codex's Keychain items, after CODEX_KEYCHAIN_PROMPT_EXPLANATION
   * (macOS will ask, since their access list names only Codex). Default false: items are listed
   * by their attributes and reported as not read.
   */
  allowKeychainPrompt?: boolean;
  /** With allowKeychainPrompt: read only these storage keys' items (the server the user asked about). */
  keychainReadAccounts?: string[];
  /** With allowKeychainPrompt, for a read-only pass (status): one dialog per item, not one per read. */
  keychainReadOnce?: boolean;
  /** macOS: runs /usr/bin/security for Codex's attribute-only look-ups (tests: a replay). */
  codexSecurity?: CommandRunner;
  /** macOS: reads a Codex item's secret once allowed (default the keyring binding; tests: a stand-in). */
  codexKeychainReader?: KeyringRunner;
}

export function credentialStoresFor(e: Environment, codexSettings?: unknown, options: CredentialStoreOptions = {}): CredentialStore[] {
  const backups = options.backups ?? snapshotStoreFor(e);
  const { clients, ...rest } = options;
  // Each store takes from the options what concerns it (Codex alone reads `settings`).
  return clientsWithStores(clients).map((c) => c.credentialStore!(e, { ...rest, backups, ...(codexSettings !== undefined ? { settings: codexSettings } : {}) }));
}
