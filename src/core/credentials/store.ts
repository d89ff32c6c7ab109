// One small interface over every client's credential store (Claude Code's credentials file or
// Keychain item, Codex's file or OS keyring). Every surface reads summaries, which carry
// fingerprints and never a token; only repair flows ask for the secret material.
import type { ClientId, Finding } from '../model';
import type { EntryChange, Snapshot, SnapshotInfo } from './backups';

/** Where a store keeps its data: a file, the macOS Keychain (via /usr/bin/security), an OS keyring. */
export type StoreKind = 'file' | 'keychain' | 'keyring';

/** What a surface may show about one stored credential: no token, only fingerprints. */
export interface CredentialSummary {
  /** Storage key `<name>|<sha256-16>` (see storageKey.ts). */
  key: string;
  serverName?: string;
  serverUrl?: string;
  hasAccessToken: boolean;
  accessTokenFingerprint?: string;
  hasRefreshToken: boolean;
  refreshTokenFingerprint?: string;
  /** Epoch milliseconds, as both clients store it; undefined when not stored. */
  expiresAt?: number;
  scopes: string[];
  clientId?: string;
  hasClientSecret: boolean;
  /** The redirect URI the client was registered with, where the store keeps it (Claude Code's `redirectUri`). */
  redirectUri?: string;
  /** The issuer the grant is bound to: Codex (>= 0.149) and Claude Code (2.1.332 writes a top-level `issuer`; 2.1.197 kept only discovery state) store it. */
  issuer?: string;
  discovery?: { authorizationServerUrl?: string; resourceMetadataUrl?: string; oauthMetadataFound?: boolean };
}

/** The secret material of one entry, for refresh and re-login only. Never log or display. */
export interface CredentialSecret {
  accessToken?: string;
  refreshToken?: string;
  clientSecret?: string;
}

/** Fields a repair may set on one entry; omitted fields stay as they are, null removes. */
export interface CredentialPatch {
  serverName?: string;
  serverUrl?: string;
  accessToken?: string;
  refreshToken?: string | null;
  expiresAt?: number | null;
  scopes?: string[];
  clientId?: string;
  clientSecret?: string | null;
  /** Claude Code keeps it so its next login can reuse the registration; other stores ignore it. */
  redirectUri?: string;
  issuer?: string;
}

export interface StoreListing {
  entries: CredentialSummary[];
  /** Problems with the store itself (unreadable, malformed, near the Keychain size limit...). */
  findings: Finding[];
  /** Logins the client reads from a Keychain item we saw by its attributes only (macOS would ask before a read). */
  notRead?: KeychainNotRead[];
}

/** A login in the macOS Keychain, known by the item's attributes; its secret was not read. */
export interface KeychainNotRead {
  key: string;
  /** The item's account ('' when it has none). */
  account: string;
  /** The keychain file holding it. */
  keychain: string;
  /** Last modification, ISO 8601, when the item has one. */
  modified?: string;
}

/** What a write did: the id of the snapshot taken just before it, if the store held anything. */
export interface StoreWriteResult {
  snapshotId?: string;
}

export interface StoreDeleteResult {
  deleted: boolean;
  /** The snapshot taken just before the (first) removal; set only when something was removed. */
  snapshotId?: string;
  /** Every snapshot taken, when the removal touched more than one store (Codex: keyring and file). */
  snapshotIds?: string[];
}

/** One entry, read and written inside the client's refresh lock (see CredentialStore.refreshTransaction). */
export interface RefreshTransaction {
  read(): Promise<CredentialSummary | undefined>;
  readSecret(): Promise<CredentialSecret | undefined>;
  write(patch: CredentialPatch): Promise<StoreWriteResult>;
}

export interface NeedsAuthStampRemoval {
  file: string;
  removed: boolean;
  /** When the removed stamp was set (epoch ms). */
  stampedAt?: number;
}

export interface CredentialStore {
  readonly client: ClientId;
  readonly kind: StoreKind;
  /** For people: a file path, or e.g. `Keychain item "Claude Code-credentials"`. */
  readonly location: string;
  list(): Promise<StoreListing>;
  read(key: string): Promise<CredentialSummary | undefined>;
  readSecret(key: string): Promise<CredentialSecret | undefined>;
  /** Several entries' secrets from one read of the store (one Keychain call, one parse); absent keys are left out. */
  readSecrets?(keys: string[]): Promise<Map<string, CredentialSecret>>;
  /**
   * Read-modify-write of one entry under the client's own lock, after a snapshot; returns that
   * snapshot's id (restoring the entry from it is Undo), none when the store held nothing before.
   */
  write(key: string, patch: CredentialPatch): Promise<StoreWriteResult>;
  /** Removes one entry under the client's lock, after a snapshot; `deleted` false when there was none. */
  delete(key: string): Promise<StoreDeleteResult>;
  /**
   * Runs `fn` holding the client's own per-entry refresh lock, where the client has one (Codex:
   * `mcp-oauth-locks/<sha256(key)>.lock`), so a token refresh re-reads, asks the token endpoint
   * and writes back while the client's own refresh of that grant waits. Writes inside go through
   * `tx.write`. Absent where the client has only a write lock (Claude Code's `.storage-write`),
   * which must not be held across a network call.
   */
  refreshTransaction?<T>(key: string, fn: (tx: RefreshTransaction) => Promise<T>): Promise<T>;
  /**
   * Claude Code only: removes the server's stamp from `mcp-needs-auth-cache.json` (it makes Claude
   * Code skip the server for a while after a 401, even once a good token is stored).
   */
  clearNeedsAuthStamp?(serverName: string): Promise<NeedsAuthStampRemoval>;
  /** Snapshots the whole store now (CLI `backup`); undefined when the store holds nothing. */
  backup?(): Promise<SnapshotInfo | undefined>;
  /** What restoring `snapshot` (the whole store, or the one entry `entryKey`) would change; writes nothing. */
  planRestore?(snapshot: Snapshot, entryKey?: string): Promise<RestorePlan>;
  /** Restores under the client's lock, atomically, after a snapshot of the current state. */
  restore?(snapshot: Snapshot, entryKey?: string): Promise<RestoreOutcome>;
  /**
   * What restoreEntries would write now; writes nothing. `decide` is given the store's current
   * content (raw, as a snapshot would hold it; null when there is none).
   */
  planRestoreEntries?(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestorePlan>;
  /**
   * Puts several entries of `snapshot` back into the current store in one write under the
   * client's lock, after a snapshot of the current state; every other entry and byte stays.
   * `decide` sees the content read under that lock and says which of `keys` to write (the others
   * are left as they are now). Claude Code: `topLevelKeys` are account grants (`claudeAiOauth`).
   * Refuses a store it cannot parse (only a whole `restore` replaces that).
   */
  restoreEntries?(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestoreOutcome>;
}

/** Entries of a store by key: `entryKeys` are MCP grants; `topLevelKeys` Claude Code's account grants. */
export interface EntrySelection {
  entryKeys: string[];
  topLevelKeys?: string[];
}

/** Which of the asked-for entries to write, given the store's current raw content. */
export type RestoreDecision = (currentRaw: string | null) => EntrySelection;

export interface EntriesRestorePlan {
  plan: RestorePlan;
  /** What would be (or was) written: the asked-for keys `decide` kept. */
  written: EntrySelection;
}

export interface EntriesRestoreOutcome extends EntriesRestorePlan {
  /** The snapshot of the current state taken before the write (restoring it is Undo); undefined when nothing was written or the store held nothing. */
  previous: SnapshotInfo | undefined;
}

/** What a restore changes; fingerprints only. */
export interface RestorePlan {
  snapshotId: string;
  /** The store that would be written (must be where the snapshot was taken). */
  location: string;
  /** Set when restoring one entry; otherwise the whole store is replaced. */
  entryKey?: string;
  entries: EntryChange[];
  /** Changes outside the entries, in words, e.g. `claudeAiOauth: restored (was missing)`. */
  otherChanges: string[];
}

export interface RestoreOutcome {
  plan: RestorePlan;
  /** The snapshot of the store taken just before the restore; undefined when it held nothing. */
  previous: SnapshotInfo | undefined;
}
