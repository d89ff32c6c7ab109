// Codex's MCP OAuth credential store: the fallback file `$CODEX_HOME/.credentials.json` and the
// keyring side, which is either direct OS-keyring items (service "Codex MCP Credentials") or, with
// `[features] secret_auth_storage` (the default on Windows), the encrypted secrets file
// `$CODEX_HOME/secrets/mcp_oauth.age` whose key is in the OS keyring (codexSecrets.ts). A grant is
// chosen the way Codex 0.169 and 0.171 choose, for either keyring backend
// (codex-rs/rmcp-client/src/oauth/resolved_store.rs `resolve_oauth_tokens_from_store_policy`):
// - `file`: only the file.
// - `keyring`: only the keyring; a keyring error is an error (no file fallback).
// - `auto` (default): the keyring entry if there is one; no entry, or a keyring error (including
//   an unreadable value), falls back to the file. Logins save to the keyring and then remove the
//   file copy; only when the keyring save fails do they go to the file (oauth.rs
//   `save_oauth_tokens_with_keyring_with_fallback_to_file`).
// A grant is read from one place; the other copy, if any, is what the drift findings are about.
// In the file, Codex finds a grant by the entry's own server name and URL, not by the map key
// (codexFormat.ts `codexReadsFileEntry`): an entry under a stale key is still the server's login,
// and of several entries for one server the first in key order is. We read the same one and
// write to it; keyring items and secrets-file entries are looked up by their exact name (oauth.rs
// `load_oauth_tokens_from_direct_keyring` / `_from_secrets_keyring`: the value's own name and URL
// are not compared), which is what we do there too.
// Every write takes Codex's per-server refresh lock and, for the file or the secrets file, that
// store's lock (codexLocks.ts), re-reads, changes one entry, snapshots the previous state and
// replaces the data atomically.
// Newer Codex builds (after 0.171) also write `.mcp-oauth-store-resolutions.json`; their source
// calls it a token-free diagnostic that "never influences this selection", and 0.171 has no such
// file (the name is not in its binary), so it does not change which copy we read.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { codexHome, pathFor, type Environment } from '../environment';
import { atomicWriteFile, LockTimeoutError } from './atomicWrite';
import { diffEntries, snapshotStoreFor, type EntryFingerprints, type Snapshot, type SnapshotInfo, type SnapshotStore } from './backups';
import {
  FallbackEntrySchema,
  StoredTokensSchema,
  codexFileIndex,
  codexKey,
  describeIssues,
  fingerprintsOfView,
  patchFallbackEntry,
  patchStoredTokens,
  summaryOfView,
  viewOfFallback,
  viewOfStored,
  type CodexCredentialSummary,
  type CodexStoreKind,
  type GrantView,
} from './codexFormat';
import { CODEX_KEYRING_SERVICE, childKeyringRunner, defaultKeyringModulePath, type KeyringOp, type KeyringRunner, windowsCredentialName } from './codexKeyring';
import { secretToolKeyringRunner } from './codexKeyringSecretTool';
import { scanKeychain, type KeychainScan } from './macKeychain';
import { CODEX_KEYCHAIN_NOT_READ, isKeychainNotRead, macCodexKeyringRunner } from './macKeychainCodex';
import { runCommand, type CommandRunner } from './runCommand';
import { CODEX_LOCK_TIMEOUT_MS, acquireFlock, codexFileStoreLockPath, codexRefreshLockPath, codexSecretsStoreLockPath, type FlockTool, type HeldFlock } from './codexLocks';
import { CODEX_SECRETS_KEYRING_SERVICE, codexSecretKey, codexSecretsFilePath } from './codexSecrets';
import { emptySecretsDoc, loadCodexSecrets, saveCodexSecrets, type CodexSecretsIo } from './codexSecretsStore';
import { CODEX_FINDING, codexFindings, fileEntry, type FileEntry, type FileState, type KeyringCopy, type KeyringState, type Picture } from './codexFindings';
import type { Finding } from '../model';
import { codexCredentialSettings, readCodexCredentialSettings, usesSecretsBackend, type CodexCredentialSettings, type CodexOAuthStoreMode } from './codexSettings';
import type {
  KeychainNotRead,
  CredentialPatch,
  CredentialSecret,
  CredentialStore,
  EntriesRestoreOutcome,
  EntriesRestorePlan,
  EntrySelection,
  RestoreDecision,
  RestoreOutcome,
  RefreshTransaction,
  RestorePlan,
  StoreDeleteResult,
  StoreKind,
  StoreListing,
  StoreWriteResult,
} from './store';
import { MalformedStoreError, locationIn, malformed, offsetOfPath, parseJsonStore, readStoreText, type StoreOrigin } from './storeFile';

const FILE_LABEL = "Codex's credentials file";
const FILE_CONSEQUENCE =
  'Codex cannot read any MCP login from it (it parses the whole file at once) and its logins and token refreshes fail until it is fixed; nothing will be written to it.';

export function codexCredentialsFile(e: Environment): string {
  return pathFor(e).join(codexHome(e), '.credentials.json');
}

/** Codex's encrypted secrets file, used instead of keyring items when `secret_auth_storage` is on. */
export function codexSecretsFile(e: Environment): string {
  return codexSecretsFilePath(codexHome(e));
}

export function codexSecretsLabel(e: Environment): string {
  return `Codex's encrypted secrets file (${codexSecretsFile(e)})`;
}

export function codexKeyringLabel(platform: NodeJS.Platform): string {
  // Credential Manager lists items by target name only, so name the targets as it shows them.
  if (platform === 'win32') return `Credential Manager (targets "${windowsCredentialName(CODEX_KEYRING_SERVICE, '<storage key>').target}")`;
  return `${platform === 'darwin' ? 'Keychain' : 'Secret Service'} (service "${CODEX_KEYRING_SERVICE}")`;
}

export interface CodexStoreOptions {
  /** Codex's settings; default: read from `$CODEX_HOME/config.toml` on every call. */
  settings?: CodexCredentialSettings;
  /** Storage keys to look up in the keyring besides configured servers and file entries. */
  extraKeys?: string[];
  backups?: SnapshotStore;
  /** How keyring calls run (tests inject fakes); default a killable child process. */
  keyring?: KeyringRunner;
  /** Keyring calls for service "codex", where the secrets file's key is (default like `keyring`). */
  secretsKeyring?: KeyringRunner;
  keyringTimeoutMs?: number;
  /** macOS: runs /usr/bin/security for attribute-only look-ups of Codex's Keychain items (tests: a replay). */
  security?: CommandRunner;
  /**
   * macOS: read (and write) Codex's Keychain items, which makes macOS ask the user (their access
   * list names only Codex). Only on an explicit action, after CODEX_KEYCHAIN_PROMPT_EXPLANATION;
   * without it each item is reported as CODEX_KEYCHAIN_NOT_READ. Default false.
   */
  allowKeychainPrompt?: boolean;
  /** macOS, with `allowKeychainPrompt`: read only these storage keys' items (the server the user asked about). */
  keychainReadAccounts?: string[];
  /** macOS, with `allowKeychainPrompt`: one dialog per item for a read-only action (macKeychainCodex.ts `readOnce`). */
  keychainReadOnce?: boolean;
  /** macOS: what reads an item's secret once allowed (default the keyring binding's child; tests: a stand-in). */
  keychainReader?: KeyringRunner;
  lockTimeoutMs?: number;
  /** Which flock helper holds Codex's locks (tests cover both). */
  flockTool?: FlockTool;
  now?: () => number;
}

/** Where Codex reads one grant from, and why. */
type Resolution = { store: CodexStoreKind } | { store: 'none' } | { store: 'error'; reason: string } | { store: 'unknown' };

export interface CodexListing extends StoreListing {
  entries: CodexCredentialSummary[];
  /** Every copy in either store, also those Codex does not read. */
  copies: CodexCredentialSummary[];
  mode: CodexOAuthStoreMode;
}

export class CodexStore implements CredentialStore {
  readonly client = 'codex';
  readonly file: string;
  private readonly backups: SnapshotStore;
  private readonly keyringRunner: KeyringRunner;
  private readonly secretsKeyringRunner: KeyringRunner;
  private readonly now: () => number;
  private primary: StoreKind;
  private readonly directKeyringLabel: string;
  /** The keyring side as Codex uses it now: keyring items, or the secrets file (`secret_auth_storage`). */
  private keyringLabel: string;
  private secretsBackend: boolean;

  constructor(
    private readonly e: Environment,
    private readonly options: CodexStoreOptions = {},
  ) {
    this.file = codexCredentialsFile(e);
    this.backups = options.backups ?? snapshotStoreFor(e);
    this.now = options.now ?? Date.now;
    this.directKeyringLabel = codexKeyringLabel(e.platform);
    this.keyringRunner = options.keyring ?? defaultKeyringRunner(e, options, options.keyringTimeoutMs);
    this.secretsKeyringRunner = options.secretsKeyring ?? defaultKeyringRunner(e, options, options.keyringTimeoutMs, CODEX_SECRETS_KEYRING_SERVICE);
    this.primary = options.settings?.mode === 'file' ? 'file' : 'keyring';
    this.secretsBackend = options.settings ? usesSecretsBackend(codexCredentialSettings(options.settings, e.platform)) : false;
    this.keyringLabel = this.secretsBackend ? codexSecretsLabel(e) : this.directKeyringLabel;
  }

  /** Where Codex saves new logins: the file in `file` mode (or when the keyring was out of reach in `auto`), else the keyring. */
  get kind(): StoreKind {
    return this.primary;
  }
  get location(): string {
    return this.primary === 'file' ? this.file : this.keyringLabel;
  }

  async list(): Promise<CodexListing> {
    const pic = await this.picture();
    const now = this.now();
    const entries: CodexCredentialSummary[] = [];
    const copies: CodexCredentialSummary[] = [];
    for (const key of pic.keys) {
      const f = fileEntry(pic.file, key);
      const k = pic.keyring.copies.get(key);
      if (f) copies.push(summaryOfView(key, f.view, 'file', now));
      if (k?.state === 'present') copies.push(summaryOfView(key, k.view, 'keyring', now));
      const r = resolve(pic, key);
      if (r.store === 'file' && f) entries.push(summaryOfView(key, f.view, 'file', now));
      else if (r.store === 'keyring' && k?.state === 'present') entries.push(summaryOfView(key, k.view, 'keyring', now));
      else if (r.store === 'unknown' && f) entries.push(summaryOfView(key, f.view, 'file', now));
    }
    for (const u of pic.unreadFileEntries) copies.push(summaryOfView(u.storedKey, u.view, 'file', now));
    const places = { file: this.file, keyringLabel: this.keyringLabel, secretsFile: codexSecretsFile(this.e) };
    const findings = await codexFindings(pic, entries, places);
    findings.push(...unreadEntryFindings(pic, this.file));
    return { entries, copies, findings, mode: pic.settings.mode, notRead: keychainNotRead(pic) };
  }

  async read(key: string): Promise<CodexCredentialSummary | undefined> {
    return (await this.list()).entries.find((s) => s.key === key);
  }

  async readSecret(key: string): Promise<CredentialSecret | undefined> {
    return (await this.readSecrets([key])).get(key);
  }

  async readSecrets(keys: string[]): Promise<Map<string, CredentialSecret>> {
    const out = new Map<string, CredentialSecret>();
    const pic = await this.picture(keys);
    for (const key of keys) {
      const r = resolve(pic, key);
      const view = r.store === 'file' || r.store === 'unknown' ? fileEntry(pic.file, key)?.view : r.store === 'keyring' ? keyringView(pic, key) : undefined;
      if (!view) continue;
      out.set(key, {
        ...(view.accessToken ? { accessToken: view.accessToken } : {}),
        ...(view.refreshToken ? { refreshToken: view.refreshToken } : {}),
      });
    }
    return out;
  }

  /**
   * Changes one grant where Codex reads it (a new grant goes where Codex would save a login),
   * under Codex's refresh lock for that key and, for the file, its store lock.
   */
  async write(key: string, patch: CredentialPatch): Promise<StoreWriteResult> {
    assertKey(key);
    return this.withRefreshLock(key, () => this.writeUnderRefreshLock(key, patch));
  }

  /**
   * Codex's refresh transaction (refresh_transaction.rs `refresh_transaction`): its per-server
   * refresh lock is held from the authoritative re-read through the token request to the write of
   * the rotated tokens, so a Codex process refreshing the same grant waits for us, then re-reads
   * and adopts what we wrote instead of spending the refresh token we rotated away.
   */
  async refreshTransaction<T>(key: string, fn: (tx: RefreshTransaction) => Promise<T>): Promise<T> {
    assertKey(key);
    return this.withRefreshLock(key, () =>
      fn({
        readSecret: () => this.readSecret(key),
        read: () => this.read(key),
        write: (patch) => this.writeUnderRefreshLock(key, patch),
      }),
    );
  }

  /** `write`'s body, for a caller that holds Codex's refresh lock for `key` already. */
  private async writeUnderRefreshLock(key: string, patch: CredentialPatch): Promise<StoreWriteResult> {
    const pic = await this.picture([key], undefined, { forWrite: true });
    const target = this.writeTarget(pic, key);
    const snapshot =
      target === 'file'
        ? await this.mutateFile('before-write', (entries, file) => writeFileGrant(entries, file, key, patch))
        : (await this.mutateKeyring(key, 'before-write', (current) => patchStoredTokens(current, patch, this.now()))).snapshot;
    return snapshot ? { snapshotId: snapshot.id } : {};
  }

  /** Removes a grant from the keyring and the file, as `codex mcp logout` does (oauth.rs `delete_oauth_tokens_from_keyring_and_file`). */
  async delete(key: string): Promise<StoreDeleteResult> {
    assertKey(key);
    return this.withRefreshLock(key, async () => {
      const settings = await this.settings();
      let removed = false;
      const snapshots: SnapshotInfo[] = [];
      const pic = await this.picture([key], settings, { forWrite: true });
      const copy = pic.keyring.copies.get(key);
      if (!pic.keyring.reachable || copy?.state === 'error') {
        // Codex gives up too unless it is in file mode, where keyring errors are ignored.
        if (settings.mode !== 'file') {
          throw new Error(`${this.keyringLabel} cannot be used (${pic.keyring.reason ?? (copy?.state === 'error' ? copy.reason : 'unknown')}); nothing was deleted.`);
        }
      } else if (copy && copy.state !== 'absent') {
        const r = await this.mutateKeyring(key, 'before-delete', () => undefined, { replaceInvalid: true });
        removed = r.changed;
        if (r.snapshot) snapshots.push(r.snapshot);
      }
      if (pic.keyring.backend === 'secrets') {
        // Codex's logout with the secrets backend also removes a keyring item of the same grant
        // (oauth.rs `delete_oauth_tokens_from_keyring`, AuthKeyringBackendKind::Secrets).
        const direct = await this.readKeyring([key]);
        if (direct.reachable && direct.copies.get(key)?.state === 'present') {
          const r = await this.mutateKeyring(key, 'before-delete', () => undefined, { replaceInvalid: true, backend: 'direct' });
          removed ||= r.changed;
          if (r.snapshot) snapshots.push(r.snapshot);
        }
      }
      let fileRemoved = false;
      const fileSnapshot = await this.mutateFile(
        'before-delete',
        (entries, file) => {
          fileRemoved = deleteFileGrant(entries, file, key);
        },
        { skipIfAbsent: true },
      );
      if (fileRemoved && fileSnapshot) snapshots.push(fileSnapshot);
      const [first] = snapshots;
      return {
        deleted: removed || fileRemoved,
        ...(first ? { snapshotId: first.id } : {}),
        ...(snapshots.length > 1 ? { snapshotIds: snapshots.map((x) => x.id) } : {}),
      };
    });
  }

  /**
   * macOS: Codex's Keychain items (service "Codex MCP Credentials") by their attributes only
   * (account = storage key, modification date, keychain); never prompts, reads no secret.
   * Undefined elsewhere, where keyring items have no attribute-only listing we rely on.
   */
  async keychainItems(): Promise<KeychainScan | undefined> {
    if (this.e.platform !== 'darwin') return undefined;
    return scanKeychain(this.options.security ?? runCommand, { service: CODEX_KEYRING_SERVICE }, this.options.keyringTimeoutMs);
  }

  /**
   * The keyring side's values as stored (our key of each grant → the JSON text: keyring items, or
   * the secrets file's MCP entries), read exactly as `list()` reads them; undefined when it was not
   * consulted or is out of reach. Read-only: for the unknown-fields check (storeFields.ts).
   */
  async keyringValues(): Promise<{ location: string; values: Record<string, string> } | undefined> {
    const pic = await this.picture();
    if (!pic.keyring.consulted || !pic.keyring.reachable) return undefined;
    return { location: this.keyringLabel, values: keyringItems(pic.keyring) };
  }

  /** Snapshots the file and the keyring items we know of; returns the snapshot of the store Codex saves to. */
  async backup(): Promise<SnapshotInfo | undefined> {
    const infos = await this.backupAll();
    return infos.find((i) => i.storeKind === this.primary) ?? infos[0];
  }

  /** Snapshots both stores (each that holds anything). */
  async backupAll(): Promise<SnapshotInfo[]> {
    const pic = await this.picture();
    const out: SnapshotInfo[] = [];
    // The file as stored (every entry under its own key), not as Codex reads it.
    const file = await this.readFileShared();
    if (file.state !== 'absent' && file.text !== undefined) out.push(await this.backups.save(this.fileSnapshot(file.text, file, 'manual')));
    const items = keyringItems(pic.keyring);
    if (Object.keys(items).length > 0) out.push(await this.backups.save(this.keyringSnapshot(items, 'manual')));
    return out;
  }

  async planRestore(snapshot: Snapshot, entryKey?: string): Promise<RestorePlan> {
    const target = this.restoreTarget(snapshot, entryKey);
    if (snapshot.storeKind === 'file') {
      const file = await this.readFile();
      if (file.state === 'broken' && entryKey) throw new MalformedStoreError(file.finding);
      return this.filePlan(snapshot, file, target, entryKey);
    }
    const pic = await this.picture(Object.keys(target));
    return this.keyringPlan(snapshot, pic.keyring, target, entryKey);
  }

  async restore(snapshot: Snapshot, entryKey?: string): Promise<RestoreOutcome> {
    const target = this.restoreTarget(snapshot, entryKey);
    let plan: RestorePlan | undefined;
    let previous: SnapshotInfo | undefined;
    if (snapshot.storeKind === 'file') {
      if (entryKey) {
        await this.withRefreshLock(entryKey, async () => {
          previous = await this.mutateFile(
            'before-restore',
            (entries, file) => {
              plan = this.filePlan(snapshot, file, target, entryKey);
              entries.set(entryKey, target[entryKey] as Record<string, unknown>);
            },
          );
        });
      } else {
        // The whole file, byte for byte as it was; this also repairs a malformed file.
        previous = await this.withStoreLock(async () => {
          const file = await this.readFile();
          plan = this.filePlan(snapshot, file, target);
          if (file.state === 'present' && file.text === snapshot.raw) return undefined;
          const before = file.state !== 'absent' && file.text !== undefined ? await this.backups.save(this.fileSnapshot(file.text, file, 'before-restore')) : undefined;
          await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
          await atomicWriteFile(this.file, snapshot.raw!, { mode: 0o600 });
          return before;
        });
      }
    } else {
      const keys = entryKey ? [entryKey] : Object.keys(target);
      plan = this.keyringPlan(snapshot, (await this.picture(keys, undefined, { forWrite: true })).keyring, target, entryKey);
      for (const key of keys) {
        await this.withRefreshLock(key, async () => {
          const before = await this.mutateKeyring(key, 'before-restore', () => target[key] as Record<string, unknown>, { replaceInvalid: true });
          if (before.snapshot) previous ??= before.snapshot;
        });
      }
    }
    return { plan: plan!, previous };
  }

  async planRestoreEntries(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestorePlan> {
    const target = this.restoreTarget(snapshot);
    const asked = askedEntries(snapshot, target, keys);
    if (snapshot.storeKind === 'file') {
      const file = await this.readFile();
      if (file.state === 'broken') throw new MalformedStoreError(file.finding);
      const written = decidedEntries(asked, decide?.(file.state === 'present' ? file.text : null));
      return { plan: this.entriesFilePlan(snapshot, file, target, written), written };
    }
    const pic = await this.picture(asked, undefined, { forWrite: true });
    const written = decidedEntries(asked, decide?.(JSON.stringify(this.keyringItemsOf(pic.keyring, asked))));
    return { plan: this.entriesKeyringPlan(snapshot, pic.keyring, target, written), written };
  }

  /**
   * Several grants of `snapshot` back. File: Codex's refresh lock of each grant, then one
   * read-modify-write under its store lock (other entries and fields stay). Keyring side: under
   * every grant's refresh lock, one snapshot of the side's current values of those grants, then
   * each value set as `restore` sets it.
   */
  async restoreEntries(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestoreOutcome> {
    const target = this.restoreTarget(snapshot);
    const asked = askedEntries(snapshot, target, keys);
    return this.withRefreshLocks([...asked].sort(), async () => {
      if (snapshot.storeKind === 'file') {
        let result: EntriesRestorePlan | undefined;
        const previous = await this.mutateFile('before-restore', (entries, file) => {
          const written = decidedEntries(asked, decide?.(file.state === 'present' ? file.text : null));
          result = { plan: this.entriesFilePlan(snapshot, file, target, written), written };
          for (const k of written.entryKeys) entries.set(k, target[k] as Record<string, unknown>);
        });
        return { ...result!, previous };
      }
      const pic = await this.picture(asked, undefined, { forWrite: true });
      if (!pic.keyring.reachable) throw new Error(`${this.keyringLabel} cannot be used (${pic.keyring.reason ?? 'not consulted'}); nothing was written.`);
      const current = this.keyringItemsOf(pic.keyring, asked);
      const written = decidedEntries(asked, decide?.(JSON.stringify(current)));
      const plan = this.entriesKeyringPlan(snapshot, pic.keyring, target, written);
      const before = Object.fromEntries(written.entryKeys.filter((k) => current[k] !== undefined).map((k) => [k, current[k]!]));
      const changing = written.entryKeys.filter((k) => current[k] !== JSON.stringify(target[k]));
      let previous: SnapshotInfo | undefined;
      if (changing.length > 0 && Object.keys(before).length > 0) {
        previous = await this.backups.save({ ...this.keyringSnapshot(before, 'before-restore'), expectedAfter: { topLevelKeys: [], entryKeys: [...new Set([...Object.keys(before), ...written.entryKeys])].sort() } });
      }
      for (const key of changing) {
        await this.mutateKeyring(key, 'before-restore', () => target[key] as Record<string, unknown>, { replaceInvalid: true, snapshotTaken: true });
      }
      return { plan, written, previous };
    });
  }

  /** The keyring side's current values of `keys` (present or unreadable), as stored. */
  private keyringItemsOf(keyring: KeyringState, keys: string[]): Record<string, string> {
    const items = keyringItems(keyring);
    return Object.fromEntries(keys.filter((k) => items[k] !== undefined).map((k) => [k, items[k]!]));
  }

  private entriesFilePlan(snapshot: Snapshot, file: FileState, target: Record<string, unknown>, written: EntrySelection): RestorePlan {
    const wanted = new Set(written.entryKeys);
    const plan = this.filePlan(snapshot, file, Object.fromEntries(Object.entries(target).filter(([k]) => wanted.has(k))));
    return { ...plan, entries: plan.entries.filter((c) => wanted.has(c.key)), otherChanges: [] };
  }

  private entriesKeyringPlan(snapshot: Snapshot, keyring: KeyringState, target: Record<string, unknown>, written: EntrySelection): RestorePlan {
    const plan = this.keyringPlan(snapshot, keyring, Object.fromEntries(written.entryKeys.map((k) => [k, target[k]])));
    return plan;
  }

  /** Codex's refresh locks of several grants, taken in key order (so two of ours never deadlock), then `fn`. */
  private async withRefreshLocks<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
    const [first, ...rest] = keys;
    if (first === undefined) return fn();
    return this.withRefreshLock(first, () => this.withRefreshLocks(rest, fn));
  }

  // ── reading ──────────────────────────────────────────────────────────────────────────────

  private async settings(): Promise<CodexCredentialSettings> {
    const s = this.options.settings ? codexCredentialSettings(this.options.settings, this.e.platform) : await readCodexCredentialSettings(this.e);
    if (s.mode === 'file') this.primary = 'file';
    this.secretsBackend = usesSecretsBackend(s);
    this.keyringLabel = this.secretsBackend ? codexSecretsLabel(this.e) : this.directKeyringLabel;
    return s;
  }

  /** Both stores as they are now, for the keys we know of (plus `keys`). */
  private async picture(keys: string[] = [], known?: CodexCredentialSettings, options: { forWrite?: boolean } = {}): Promise<StorePicture> {
    const settings = known ?? (await this.settings());
    // Writers re-read the file under the exclusive lock; the look here only picks the target.
    const stored = options.forWrite ? await this.readFile() : await this.readFileShared();
    const { file, unread } = codexFileView(stored);
    const wanted = new Set<string>([...keys, ...(this.options.extraKeys ?? [])]);
    for (const s of settings.servers ?? []) wanted.add(codexKey(s.name, s.url));
    if (file.state === 'present') for (const k of file.entries.keys()) wanted.add(k);
    const lookedFor = wanted.size;
    // No Codex here at all (no CODEX_HOME, nothing configured): do not wake the OS keyring.
    const codexPresent = lookedFor > 0 || (await exists(codexHome(this.e)));
    const keyring: KeyringState = !codexPresent
      ? { reachable: false, consulted: false, copies: new Map() }
      : usesSecretsBackend(settings)
        ? await this.readSecretsFile([...wanted], options.forWrite ? 'none' : 'shared')
        : await this.readKeyring([...wanted]);
    for (const k of keyring.copies.keys()) wanted.add(k);
    if (settings.mode !== 'file') this.primary = keyring.consulted && !keyring.reachable && settings.mode === 'auto' ? 'file' : 'keyring';
    return { settings, file, keyring, keys: [...wanted].sort(), lookedFor, unreadFileEntries: unread };
  }

  private async readFile(): Promise<FileState> {
    const read = await readStoreText(this.file, FILE_LABEL);
    if (read.state === 'absent') return { state: 'absent' };
    if (read.state === 'unreadable') return { state: 'broken', finding: read.finding };
    return parseFallbackFile(read.text, this.file);
  }

  /**
   * Codex rewrites the file in place (truncate, then write) under its store lock and reads under a
   * shared one; reading without it could catch a half-written file and call it broken.
   */
  private async readFileShared(): Promise<FileState> {
    // Locking would create CODEX_HOME and its lock folder; nothing to read means nothing to lock.
    if (!(await exists(this.file))) return this.readFile();
    let held: HeldFlock | undefined;
    try {
      held = await acquireFlock(codexFileStoreLockPath(codexHome(this.e)), { mode: 'shared', timeoutMs: 2_000, ...this.flockTool() });
    } catch {
      // Busy for long, or no flock helper: read anyway; a torn read shows as a finding, never a write.
    }
    try {
      return await this.readFile();
    } finally {
      await held?.release();
    }
  }

  private async readKeyring(keys: string[]): Promise<KeyringState> {
    const ops: KeyringOp[] = [{ op: 'find' }, ...keys.map((account) => ({ op: 'get' as const, account }))];
    const batch = await this.keyringRunner(ops);
    const copies = new Map<string, KeyringCopy>();
    if (!batch.reachable) return { reachable: false, reason: batch.reason, consulted: true, copies };
    const [found, ...gets] = batch.results;
    keys.forEach((key, i) => {
      const r = gets[i];
      if (!r) return;
      if (!r.ok) copies.set(key, { state: 'error', reason: r.error, ambiguous: !!r.ambiguous, ...(r.notRead ? { notRead: r.notRead } : {}) });
      else if (r.value === null || r.value === undefined) copies.set(key, { state: 'absent' });
      else copies.set(key, parseKeyringValue(r.value));
    });
    // Items no configured server or file entry pointed us at (where the platform can list them).
    if (found?.ok && found.found) {
      for (const item of found.found) if (!copies.has(item.account)) copies.set(item.account, parseKeyringValue(item.password));
    }
    // macOS without permission: items seen by their attributes only.
    for (const item of (found?.ok && found.notRead) || []) {
      if (!copies.has(item.account)) copies.set(item.account, { state: 'error', reason: CODEX_KEYCHAIN_NOT_READ, ambiguous: false, notRead: item });
    }
    for (const [k, c] of copies) if (c.state === 'absent' && !keys.includes(k)) copies.delete(k);
    return { reachable: true, consulted: true, copies };
  }

  private secretsIo(): CodexSecretsIo {
    return { codexHome: codexHome(this.e), platform: this.e.platform, keyring: this.secretsKeyringRunner };
  }

  /**
   * The secrets file's grants as keyring copies. An entry belongs to a grant when its name is that
   * grant's `MCP_OAUTH_<hash>` (the grant's key comes from the value itself, or from the keys we
   * look for); entries of other scopes or names are left alone. `lock`: 'shared' takes Codex's
   * store lock briefly (Codex replaces the file by rename, so a read without it is never torn).
   */
  private async readSecretsFile(keys: string[], lock: 'shared' | 'none'): Promise<KeyringState> {
    const empty = { consulted: true, copies: new Map<string, KeyringCopy>(), backend: 'secrets' as const };
    let held: HeldFlock | undefined;
    if (lock === 'shared' && (await exists(codexSecretsFile(this.e)))) {
      held = await acquireFlock(codexSecretsStoreLockPath(codexHome(this.e)), { mode: 'shared', timeoutMs: 2_000, ...this.flockTool() }).catch(() => undefined);
    }
    let loaded;
    try {
      loaded = await loadCodexSecrets(this.secretsIo());
    } finally {
      await held?.release();
    }
    if (loaded.state === 'unreadable') return { ...empty, reachable: false, reason: loaded.reason };
    const copies = empty.copies;
    const secrets = loaded.state === 'present' ? loaded.doc.secrets : {};
    for (const [name, text] of Object.entries(secrets)) {
      if (!name.startsWith('global/MCP_OAUTH_')) continue;
      const copy = parseKeyringValue(text);
      if (copy.state !== 'present') continue;
      const key = codexKey(copy.view.serverName, copy.view.serverUrl);
      if (codexSecretKey(key) === name) copies.set(key, copy);
    }
    for (const key of keys) {
      if (copies.has(key)) continue;
      const text = secrets[codexSecretKey(key)];
      copies.set(key, text === undefined ? { state: 'absent' } : parseKeyringValue(text));
    }
    return { ...empty, reachable: true, copies, secretEntries: Object.keys(secrets).length };
  }

  // ── writing ──────────────────────────────────────────────────────────────────────────────

  /** Where Codex would read this grant, or save it if it has none. */
  private writeTarget(pic: Picture, key: string): CodexStoreKind {
    const { mode } = pic.settings;
    if (mode === 'file') return 'file';
    const copy = pic.keyring.copies.get(key);
    if (mode === 'keyring') {
      if (!pic.keyring.reachable) throw new Error(`${this.keyringLabel} cannot be used (${pic.keyring.reason}); Codex is set to keyring only, so nothing was written.`);
      if (copy?.state === 'error') throw new Error(`${this.keyringLabel}: ${copy.reason}; nothing was written.`);
      return 'keyring';
    }
    // auto. An item we did not read is still the one Codex reads first: a file write would not take.
    if (copy?.state === 'error' && isKeychainNotRead(copy)) throw new Error(`${this.keyringLabel}: ${copy.reason}; nothing was written. Reading it needs your permission first.`);
    if (!pic.keyring.reachable || copy?.state === 'error' || copy?.state === 'invalid') return 'file';
    if (copy?.state === 'present') return 'keyring';
    return fileEntry(pic.file, key) ? 'file' : 'keyring';
  }

  /**
   * Read-modify-write of the file under Codex's store lock: re-read, refuse a malformed file,
   * apply `change` to the entry map, snapshot, replace atomically (Codex deletes the file once
   * it holds no entry; so do we). Returns the snapshot taken, if any.
   */
  private async mutateFile(
    reason: string,
    change: (entries: Map<string, Record<string, unknown>>, file: FileState) => void,
    options: { skipIfAbsent?: boolean } = {},
  ): Promise<SnapshotInfo | undefined> {
    return this.withStoreLock(async () => {
      const file = await this.readFile();
      if (file.state === 'broken') throw new MalformedStoreError(file.finding);
      if (file.state === 'absent' && options.skipIfAbsent) return undefined;
      const entries = new Map<string, Record<string, unknown>>(file.state === 'present' ? [...file.entries].map(([k, v]) => [k, v.raw]) : []);
      const before = JSON.stringify([...entries]);
      change(entries, file);
      if (JSON.stringify([...entries]) === before) return undefined;
      const previous = file.state === 'present' ? await this.backups.save({ ...this.fileSnapshot(file.text, file, reason), expectedAfter: { topLevelKeys: [], entryKeys: [...entries.keys()].sort() } }) : undefined;
      if (entries.size === 0) {
        await fs.unlink(this.file).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
        return previous;
      }
      await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      // serde_json::to_string of a BTreeMap: compact, keys in byte order.
      const sorted = Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      await atomicWriteFile(this.file, JSON.stringify(sorted), { mode: 0o600 });
      return previous;
    });
  }

  /**
   * One keyring item: read, compute (undefined = delete), snapshot the old value, write.
   * Returns whether anything changed and the snapshot taken (none when the item did not exist).
   */
  private async mutateKeyring(
    key: string,
    reason: string,
    compute: (current: Record<string, unknown> | undefined) => Record<string, unknown> | undefined,
    options: { replaceInvalid?: boolean; backend?: 'direct' | 'secrets'; snapshotTaken?: boolean } = {},
  ): Promise<{ changed: boolean; snapshot?: SnapshotInfo }> {
    const backend = options.backend ?? (this.secretsBackend ? 'secrets' : 'direct');
    if (backend === 'secrets') return this.mutateSecretsEntry(key, reason, compute, options);
    const label = this.directKeyringLabel;
    const batch = await this.keyringRunner([{ op: 'get', account: key }]);
    if (!batch.reachable) throw new Error(`${label} cannot be used (${batch.reason}); nothing was written.`);
    const got = batch.results[0];
    if (!got?.ok) throw new Error(`${label}: ${got?.error ?? 'no answer'}; nothing was written.`);
    const oldText = got.value ?? undefined;
    const current = grantToRewrite(oldText, `The keyring item for ${key}`, 'log in again with `codex mcp login` or delete the item', options.replaceInvalid);
    const next = compute(current);
    if (next === undefined && oldText === undefined) return { changed: false };
    const nextText = next === undefined ? undefined : JSON.stringify(next);
    if (nextText === oldText) return { changed: false };
    // `snapshotTaken`: the caller snapshotted several items at once before (restoreEntries).
    const snap = oldText !== undefined && !options.snapshotTaken ? await this.backups.save(this.keyringSnapshot({ [key]: oldText }, reason, label)) : undefined;
    const op: KeyringOp = nextText === undefined ? { op: 'delete', account: key } : { op: 'set', account: key, value: nextText };
    const done = await this.keyringRunner([op]);
    if (!done.reachable) throw new Error(`${label} cannot be used (${done.reason}); the write may not have happened.`);
    const r = done.results[0];
    if (!r?.ok) throw new Error(`${label}: ${r?.error ?? 'no answer'}; nothing was written.`);
    return { changed: true, ...(snap ? { snapshot: snap } : {}) };
  }

  /**
   * One grant of the secrets file, under Codex's `secrets-store.lock`: load, compute (undefined =
   * remove), snapshot the old value, re-encrypt with the same key and work factor, replace the file
   * atomically. Every other entry, and every top-level field, stays as it was.
   */
  private async mutateSecretsEntry(
    key: string,
    reason: string,
    compute: (current: Record<string, unknown> | undefined) => Record<string, unknown> | undefined,
    options: { replaceInvalid?: boolean; snapshotTaken?: boolean } = {},
  ): Promise<{ changed: boolean; snapshot?: SnapshotInfo }> {
    const label = codexSecretsLabel(this.e);
    return this.withLock(codexSecretsStoreLockPath(codexHome(this.e)), async () => {
      const loaded = await loadCodexSecrets(this.secretsIo(), { wantPassphrase: true });
      if (loaded.state === 'unreadable') throw new Error(`${label} cannot be used: ${loaded.reason}; nothing was written.`);
      const doc = loaded.state === 'present' ? loaded.doc : emptySecretsDoc();
      const name = codexSecretKey(key);
      const oldText = doc.secrets[name];
      const current = grantToRewrite(oldText, `The secrets file entry for ${key}`, 'log in again with `codex mcp login`', options.replaceInvalid);
      const next = compute(current);
      const nextText = next === undefined ? undefined : JSON.stringify(next);
      if (nextText === oldText) return { changed: false };
      const snap = oldText !== undefined && !options.snapshotTaken ? await this.backups.save(this.keyringSnapshot({ [key]: oldText }, reason, label)) : undefined;
      const secrets = { ...doc.secrets };
      if (nextText === undefined) delete secrets[name];
      else secrets[name] = nextText;
      await saveCodexSecrets(this.secretsIo(), { ...doc, secrets }, loaded);
      return { changed: true, ...(snap ? { snapshot: snap } : {}) };
    });
  }

  /** The helper and the OS whose lock semantics apply (Windows: no lock we can take, so writes refuse). */
  private flockTool(): { tool?: FlockTool; platform: NodeJS.Platform } {
    return { ...(this.options.flockTool ? { tool: this.options.flockTool } : {}), platform: this.e.platform };
  }

  private async withRefreshLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const held = await this.lock(codexRefreshLockPath(codexHome(this.e), key));
    try {
      return await fn();
    } finally {
      await held.release();
    }
  }

  private async withStoreLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.withLock(codexFileStoreLockPath(codexHome(this.e)), fn);
  }

  private async withLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
    const held = await this.lock(lockFile);
    try {
      return await fn();
    } finally {
      await held.release();
    }
  }

  private async lock(lockFile: string): Promise<HeldFlock> {
    const timeoutMs = this.options.lockTimeoutMs ?? CODEX_LOCK_TIMEOUT_MS;
    try {
      return await acquireFlock(lockFile, { timeoutMs, ...this.flockTool() });
    } catch (err) {
      if (err instanceof LockTimeoutError) throw new LockTimeoutError(this.file, lockFile, timeoutMs);
      throw err;
    }
  }

  // ── snapshots and restore ────────────────────────────────────────────────────────────────

  private fileSnapshot(raw: string, file: FileState, reason: string): Omit<Snapshot, 'id' | 'createdAt'> {
    const entries = file.state === 'present' ? [...file.entries].map(([k, v]) => fingerprintsOfView(storedKeyOf(k, v), v.view)) : [];
    return { client: 'codex', storeKind: 'file', location: this.file, reason, raw, entries, topLevelKeys: [] };
  }

  private keyringSnapshot(items: Record<string, string>, reason: string, location = this.keyringLabel): Omit<Snapshot, 'id' | 'createdAt'> {
    const entries = Object.entries(items).map(([k, text]) => {
      const c = parseKeyringValue(text);
      return fingerprintsOfView(k, c.state === 'present' ? c.view : undefined);
    });
    return { client: 'codex', storeKind: 'keyring', location, reason, raw: JSON.stringify(items), entries, topLevelKeys: [] };
  }

  /** The snapshot's entries (file: raw entry objects; keyring: parsed item values), checked. */
  private restoreTarget(snapshot: Snapshot, entryKey?: string): Record<string, unknown> {
    if (snapshot.client !== 'codex') throw new Error(`Snapshot ${snapshot.id} is of ${snapshot.client}'s store, not Codex's.`);
    const here = snapshot.storeKind === 'file' ? this.file : this.keyringLabel;
    if (snapshot.location !== here) throw new Error(`Snapshot ${snapshot.id} was taken of ${snapshot.location}, but Codex's store is now ${here}; nothing was written.`);
    if (snapshot.raw === null) throw new Error(`Snapshot ${snapshot.id} recorded no store content; nothing to restore.`);
    const parsed = parseJsonStore(snapshot.raw, { label: `Snapshot ${snapshot.id}`, consequence: 'It cannot be restored.' });
    if (!parsed.ok) throw new Error(`${parsed.finding.title}: it cannot be restored.`);
    let target: Record<string, unknown> = parsed.value;
    if (snapshot.storeKind === 'keyring') {
      target = {};
      for (const [k, text] of Object.entries(parsed.value)) {
        const c = typeof text === 'string' ? parseKeyringValue(text) : undefined;
        if (c?.state === 'present') target[k] = c.raw;
      }
    }
    if (entryKey !== undefined && !(entryKey in target)) throw new Error(`Snapshot ${snapshot.id} has no entry "${entryKey}".`);
    return target;
  }

  private filePlan(snapshot: Snapshot, file: FileState, target: Record<string, unknown>, entryKey?: string): RestorePlan {
    const current = file.state === 'present' ? [...file.entries].map(([k, v]) => fingerprintsOfView(k, v.view)) : [];
    let entries = diffEntries(current, fingerprintsOfRaw(target));
    const otherChanges: string[] = [];
    if (entryKey !== undefined) entries = entries.filter((c) => c.key === entryKey);
    else if (file.state === 'broken') otherChanges.push(`the current file is replaced (${file.finding.title})`);
    return { snapshotId: snapshot.id, location: this.file, ...(entryKey !== undefined ? { entryKey } : {}), entries, otherChanges };
  }

  private keyringPlan(snapshot: Snapshot, keyring: KeyringState, target: Record<string, unknown>, entryKey?: string): RestorePlan {
    if (!keyring.reachable) throw new Error(`${this.keyringLabel} cannot be used (${keyring.reason ?? 'not consulted'}); nothing to compare with.`);
    const keys = entryKey !== undefined ? [entryKey] : Object.keys(target);
    const current = keys.flatMap((k) => {
      const c = keyring.copies.get(k);
      return c?.state === 'present' ? [fingerprintsOfView(k, c.view)] : [];
    });
    const wanted = fingerprintsOfRaw(Object.fromEntries(keys.map((k) => [k, target[k]])), true);
    // A keyring restore only sets the snapshot's items; other items stay as they are.
    return { snapshotId: snapshot.id, location: this.keyringLabel, ...(entryKey !== undefined ? { entryKey } : {}), entries: diffEntries(current, wanted), otherChanges: [] };
  }

}

export function codexStore(e: Environment, options: CodexStoreOptions = {}): CodexStore {
  return new CodexStore(e, options);
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

function keyringView(pic: Picture, key: string): GrantView | undefined {
  const c = pic.keyring.copies.get(key);
  return c?.state === 'present' ? c.view : undefined;
}

function keyringItems(k: KeyringState): Record<string, string> {
  const items: Record<string, string> = {};
  for (const [key, c] of k.copies) if (c.state === 'present' || c.state === 'invalid') items[key] = c.text;
  return items;
}

/**
 * Grants whose Keychain item we saw by its attributes only (macOS, no permission to read): Codex
 * (auto or keyring) reads that item first, so it, not a file copy, is the login Codex uses.
 */
function keychainNotRead(pic: Picture): KeychainNotRead[] | undefined {
  if (pic.settings.mode === 'file' || !pic.keyring.reachable || pic.keyring.backend === 'secrets') return undefined;
  const out: KeychainNotRead[] = [];
  for (const [key, c] of pic.keyring.copies) {
    if (c.state !== 'error' || !isKeychainNotRead(c) || !c.notRead) continue;
    const { account, keychain, modified } = c.notRead;
    out.push({ key, account, keychain, ...(modified ? { modified } : {}) });
  }
  return out.length > 0 ? out : undefined;
}

/** resolved_store.rs `resolve_oauth_tokens_from_store_policy`, for one grant. */
function resolve(pic: Picture, key: string): Resolution {
  const { mode } = pic.settings;
  const inFile = !!fileEntry(pic.file, key);
  if (mode === 'file') return inFile ? { store: 'file' } : pic.file.state === 'broken' ? { store: 'error', reason: 'the file cannot be read' } : { store: 'none' };
  const copy = pic.keyring.copies.get(key);
  const keyringError = !pic.keyring.reachable ? pic.keyring.reason ?? 'unreachable' : copy?.state === 'error' ? copy.reason : copy?.state === 'invalid' ? copy.reason : undefined;
  if (mode === 'keyring') {
    if (keyringError) return { store: 'error', reason: keyringError };
    return copy?.state === 'present' ? { store: 'keyring' } : { store: 'none' };
  }
  if (!keyringError && copy?.state === 'present') return { store: 'keyring' };
  return inFile ? { store: 'file' } : { store: 'none' };
}

/** A file entry of the Codex view: where it is stored, when that is not our key of the grant. */
type ViewEntry = FileEntry & { storedKey?: string };
type StorePicture = Picture & { unreadFileEntries: { storedKey: string; view: GrantView }[] };

/**
 * The stored value (a keyring item or a secrets-file entry) a write starts from: undefined when
 * there is none; a value Codex cannot read is never rewritten unless the caller means to replace it.
 */
function grantToRewrite(oldText: string | undefined, what: string, fix: string, replaceInvalid = false): Record<string, unknown> | undefined {
  if (oldText === undefined) return undefined;
  const copy = parseKeyringValue(oldText);
  if (copy.state === 'present') return copy.raw;
  if (replaceInvalid) return undefined;
  throw new MalformedStoreError({
    code: CODEX_FINDING.keyringValueInvalid,
    severity: 'error',
    title: `${what} is not valid Codex credentials`,
    detail: `${copy.state === 'invalid' ? copy.reason : 'unreadable'}. Nothing was written; ${fix}.`,
  });
}

function storedKeyOf(key: string, entry: FileEntry): string {
  return (entry as ViewEntry).storedKey ?? key;
}

/**
 * The file as Codex reads it: each grant under our key of it (`codexKey(name, url)`), holding the
 * entry Codex reads for it wherever that is stored; entries Codex reads for no grant apart.
 */
export function codexFileView(file: FileState): { file: FileState; unread: { storedKey: string; view: GrantView }[] } {
  if (file.state !== 'present') return { file, unread: [] };
  const { readBy, unread } = codexFileIndex(file.entries);
  const entries = new Map<string, FileEntry>();
  for (const [key, storedKey] of readBy) {
    const e = file.entries.get(storedKey)!;
    entries.set(key, storedKey === key ? e : ({ ...e, storedKey } as ViewEntry));
  }
  return { file: { ...file, entries }, unread: unread.map((storedKey) => ({ storedKey, view: file.entries.get(storedKey)!.view })) };
}

/**
 * A write of grant `key` to the file (re-read under Codex's store lock): the entry Codex reads for
 * it is patched. One under another key moves to `key`, when that is free, so that Codex's own
 * later saves and `codex mcp logout` (which address `key`: oauth.rs `save_oauth_tokens_to_file`,
 * `delete_oauth_tokens_from_file`) change this same entry instead of adding a second one beside
 * it. A new grant goes under `key`; an entry there that is another server's login is refused.
 */
function writeFileGrant(entries: Map<string, Record<string, unknown>>, file: FileState, key: string, patch: CredentialPatch): void {
  const readBy = file.state === 'present' ? codexFileIndex(file.entries).readBy : new Map<string, string>();
  const storedKey = readBy.get(key);
  if (storedKey !== undefined) {
    const next = patchFallbackEntry(entries.get(storedKey), patch);
    if (storedKey !== key && !entries.has(key)) {
      entries.delete(storedKey);
      entries.set(key, next);
    } else entries.set(storedKey, next);
    return;
  }
  const occupant = file.state === 'present' ? file.entries.get(key) : undefined;
  if (occupant && [...readBy.values()].includes(key)) {
    throw new Error(`The entry ${key} in Codex's credentials file is the login of "${occupant.view.serverName}" at ${occupant.view.serverUrl}; nothing was written.`);
  }
  // (A new entry needs the server's name and URL in the patch: that, not the key, is how Codex finds it.)
  entries.set(key, patchFallbackEntry(entries.get(key), patch));
}

/**
 * Removes every file entry Codex would read for grant `key`, whatever it is stored under: with
 * only the first gone, Codex would read the next (Codex's own logout removes `key` alone).
 */
function deleteFileGrant(entries: Map<string, Record<string, unknown>>, file: FileState, key: string): boolean {
  if (file.state !== 'present') return false;
  const views = new Map(file.entries);
  let removed = false;
  for (;;) {
    const storedKey = codexFileIndex(views).readBy.get(key);
    if (storedKey === undefined) return removed;
    views.delete(storedKey);
    removed = entries.delete(storedKey) || removed;
  }
}

/** Entries Codex never reads: a second entry of one server (drift), or an internal name's entry under another key. */
function unreadEntryFindings(pic: StorePicture, file: string): Finding[] {
  const text = pic.file.state === 'present' ? pic.file.text : undefined;
  return pic.unreadFileEntries.map(({ storedKey, view }) => {
    const key = codexKey(view.serverName, view.serverUrl);
    const read = fileEntry(pic.file, key);
    const readAt = read ? storedKeyOf(key, read) : undefined;
    return {
      code: CODEX_FINDING.storeDrift,
      severity: 'warning' as const,
      title: read ? `Codex's credentials file holds two logins for "${view.serverName}"` : `Codex does not read the credentials-file entry ${storedKey}`,
      detail: read
        ? `The entries ${readAt} and ${storedKey} in ${file} are both for "${view.serverName}" at ${view.serverUrl}. Codex reads the first in key order, ${readAt}, and ignores ${storedKey}; but its own saves go to ${key}, so after a refresh it may read the older one. Remove the one you do not need, or log out and in once.`
        : `${storedKey} in ${file} (${view.serverName} at ${view.serverUrl}${view.executorOwned ? ', executor-owned' : ''}) is not under the key Codex looks up for that name (${key}), so Codex ignores it.`,
      ...(text ? { location: locationIn(file, text, offsetOfPath(text, [storedKey])) } : {}),
    };
  });
}

export function parseFallbackFile(text: string, file: string): FileState {
  const origin: StoreOrigin = { label: FILE_LABEL, file, consequence: FILE_CONSEQUENCE };
  const parsed = parseJsonStore(text, origin);
  if (!parsed.ok) return { state: 'broken', finding: parsed.finding, text };
  const entries = new Map<string, FileEntry>();
  for (const [key, value] of Object.entries(parsed.value)) {
    const r = FallbackEntrySchema.safeParse(value);
    if (!r.success) {
      const bad = malformed(
        origin,
        CODEX_FINDING.invalidEntry,
        `${FILE_LABEL} has an entry Codex cannot read`,
        `The entry ${key} in ${file} is not what Codex expects (${describeIssues(r.error)}). ${FILE_CONSEQUENCE}`,
        offsetOfPath(text, [key]),
        text,
      );
      return { state: 'broken', finding: bad.finding, text };
    }
    entries.set(key, { raw: value as Record<string, unknown>, view: viewOfFallback(r.data) });
  }
  return { state: 'present', text, entries };
}

function parseKeyringValue(text: string): KeyringCopy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { state: 'invalid', text, reason: 'its value is not JSON' };
  }
  const r = StoredTokensSchema.safeParse(json);
  if (!r.success) return { state: 'invalid', text, reason: `its value is not Codex's token record (${describeIssues(r.error)})` };
  return { state: 'present', text, raw: json as Record<string, unknown>, view: viewOfStored(r.data) };
}

function fingerprintsOfRaw(target: Record<string, unknown>, stored = false): EntryFingerprints[] {
  return Object.entries(target).map(([k, v]) => {
    if (stored) {
      const r = StoredTokensSchema.safeParse(v);
      return fingerprintsOfView(k, r.success ? viewOfStored(r.data) : undefined);
    }
    const r = FallbackEntrySchema.safeParse(v);
    return fingerprintsOfView(k, r.success ? viewOfFallback(r.data) : undefined);
  });
}

/** The asked-for grants, each checked to be in the snapshot (Codex has no account grants). */
function askedEntries(snapshot: Snapshot, target: Record<string, unknown>, keys: EntrySelection): string[] {
  if (keys.topLevelKeys?.length) throw new Error(`Codex's store has no account grants (${keys.topLevelKeys.join(', ')}).`);
  for (const k of keys.entryKeys) if (!Object.hasOwn(target, k)) throw new Error(`Snapshot ${snapshot.id} has no entry "${k}".`);
  return [...keys.entryKeys];
}

function decidedEntries(asked: string[], decided: EntrySelection | undefined): EntrySelection {
  return { entryKeys: decided ? asked.filter((k) => decided.entryKeys.includes(k)) : asked };
}

function assertKey(key: string): void {
  if (!key) throw new Error('An entry key is required.');
}

export type { CodexCredentialSummary } from './codexFormat';
export { CODEX_FINDING } from './codexFindings';
export { codexKey } from './codexFormat';

/**
 * The keyring binding where this tool has it (npm, or a per-target VSIX's dist/native/); on Linux
 * without it (the universal VSIX carries no native module), libsecret's secret-tool, which speaks
 * to the same Secret Service.
 */
function defaultKeyringRunner(e: Environment, store: CodexStoreOptions, timeoutMs?: number, service?: string): KeyringRunner {
  const options = { ...(timeoutMs ? { timeoutMs } : {}), ...(service ? { service } : {}) };
  if (e.platform === 'linux' && !defaultKeyringModulePath()) return secretToolKeyringRunner({ env: e.env, ...options });
  const reader = e.platform === 'darwin' && store.keychainReader ? store.keychainReader : childKeyringRunner({ env: e.env, platform: e.platform, ...options });
  if (e.platform !== 'darwin') return reader;
  // macOS: attribute look-ups through /usr/bin/security; the binding reads only with permission.
  return macCodexKeyringRunner({
    security: store.security ?? runCommand,
    reader,
    allowKeychainPrompt: !!store.allowKeychainPrompt,
    ...(store.keychainReadAccounts ? { readAccounts: store.keychainReadAccounts } : {}),
    ...(store.keychainReadOnce ? { readOnce: true } : {}),
    ...options,
  });
}
