// Claude Code's credential store: one JSON blob holding the user's own login (`claudeAiOauth`) and
// every MCP grant (`mcpOAuth`, keyed `<name>|<sha256-16>`). Linux/Windows: `.credentials.json` in
// the config dir; macOS: a login-Keychain item, with that file as fallback when the item is absent
// (createFallbackStorage in Claude Code's secureStorage). Because one blob holds everything, a write
// here re-reads it under Claude Code's own lock, changes one entry and leaves every other byte alone
// (seed 001, anthropics/claude-code#45551).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { applyEdits, modify } from 'jsonc-parser';
import { claudeConfigDir, pathFor, type Environment } from '../environment';
import type { Finding } from '../model';
import { atomicWriteFile, withFileLock, type HeldLock } from './atomicWrite';
import { diffEntries, snapshotStoreFor, type Snapshot, type SnapshotInfo, type SnapshotStore, type StoreShape } from './backups';
import {
  CLAUDE_STORE_LABEL,
  editBlob,
  fingerprintsOf,
  nonEmpty,
  omitUndefined,
  parseClaudeBlob,
  patchEntry,
  shapeOf,
  summaryOf,
  configuredClientSecret,
  type BlobEdit,
  type ParsedBlob,
} from './claudeCodeBlob';
import {
  CLAUDE_STORE_FINDING,
  emptiedGrantsFindings,
  entryFindings,
  keychainOverflowFinding,
  keychainOverflowLostFinding,
  keychainSizeFindings,
  keychainUnavailableFinding,
  lossFindings,
  needsAuthFindings,
  newestTokensByKey,
  splitStoreFinding,
  zeroedGrantsFindings,
} from './claudeCodeFindings';
import { ClaudeKeychain, KeychainError, claudeKeychainAccount, claudeKeychainService, runCommand, type CommandRunner } from './claudeCodeKeychain';
import {
  KEYCHAIN_LINE_LIMIT,
  keychainLine,
  keychainText,
  mergeOverflow,
  openOverflow,
  overflowHolds,
  overflowPointerOf,
  overflowService,
  sameSections,
  splitForKeychain,
  withoutPointer,
  type OverflowLayout,
  type OverflowSlot,
} from './claudeCodeKeychainOverflow';
import type {
  CredentialPatch,
  CredentialSecret,
  CredentialStore,
  CredentialSummary,
  EntriesRestoreOutcome,
  EntriesRestorePlan,
  EntrySelection,
  NeedsAuthStampRemoval,
  RestoreDecision,
  RestoreOutcome,
  RestorePlan,
  StoreDeleteResult,
  StoreKind,
  StoreListing,
  StoreWriteResult,
} from './store';
import { MalformedStoreError, STORE_FINDING, isPlainObject, parseJsonStore, readStoreText, type StoreText } from './storeFile';

/**
 * Claude Code 2.1.197 serialises every secure-storage write through proper-lockfile on
 * `<storage dir>/.storage-write` (lock directory `.storage-write.lock`), `realpath: false`,
 * `stale: 15000`, retries {10, 100–1000 ms} ≈ the 7.5 s budget of claude-code#24317 — read from
 * the shipped binary (`strings claude.exe`, function around `[secureStorage] write lock`).
 */
export const CLAUDE_STORAGE_LOCK_STALE_MS = 15_000;
/** Longer than Claude Code's own 7.5 s budget, so one of its writes in progress never fails ours. */
export const CLAUDE_STORAGE_LOCK_TIMEOUT_MS = 10_000;

/** Where the blob file and the lock live: `CLAUDE_SECURESTORAGE_CONFIG_DIR` if set, else the config dir. */
export function claudeSecureStorageDir(e: Environment): string {
  const secure = e.env.CLAUDE_SECURESTORAGE_CONFIG_DIR;
  const p = pathFor(e);
  if (secure !== undefined) return p.resolve(secure ? secure.normalize('NFC') : p.join(e.home, '.claude'));
  return claudeConfigDir(e);
}

/** Windows too: `%USERPROFILE%\.claude\.credentials.json` (2.1.332: `join(I6(), ".credentials.json")`, no Windows-only store). */
export function claudeCredentialsFile(e: Environment): string {
  return pathFor(e).join(claudeSecureStorageDir(e), '.credentials.json');
}

/** The file Claude Code locks (it need not exist); the lock itself is `<this>.lock`. */
export function claudeStorageLockTarget(e: Environment): string {
  return path.join(claudeSecureStorageDir(e), '.storage-write');
}

export function claudeNeedsAuthCacheFile(e: Environment): string {
  return path.join(claudeConfigDir(e), 'mcp-needs-auth-cache.json');
}

export interface ClaudeCodeStoreOptions {
  /** Where snapshots go; default `snapshotStoreFor(e)`. */
  backups?: SnapshotStore;
  lockTimeoutMs?: number;
  /** Tests only: Claude Code's stale time is fixed, and ours must match it. */
  lockStaleMs?: number;
  /** macOS: how to run /usr/bin/security (tests inject a fake). */
  security?: CommandRunner;
  now?: () => number;
}

interface Backend {
  readonly kind: StoreKind;
  readonly location: string;
  readonly file?: string;
  read(): Promise<StoreText>;
  write(text: string, lock: HeldLock): Promise<void>;
  /** After read(): a reason the store must not be written except by a whole restore (a lost Keychain overflow). */
  readonly problem?: Finding;
}

class FileBackend implements Backend {
  readonly kind = 'file';
  constructor(readonly file: string) {}
  get location(): string {
    return this.file;
  }
  read(): Promise<StoreText> {
    return readStoreText(this.file, CLAUDE_STORE_LABEL);
  }
  async write(text: string, lock: HeldLock): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await atomicWriteFile(this.file, text, { mode: 0o600, beforeCommit: () => lock.assertHeld() });
  }
}

/** What a read of an overflowed item found (2.1.332): the main item and the sections it points at. */
interface KeychainOverflowState {
  layout?: OverflowLayout;
  /** The pointer's slot item is missing or does not open. */
  lost?: Finding;
  /** The slot the main item points at (the next split goes to the other one). */
  slot: OverflowSlot;
  /** Size of the main item's own JSON, for the near-limit warning. */
  itemText: string;
}

class KeychainBackend implements Backend {
  readonly kind = 'keychain';
  /** Set by read(); write() relies on it, and mutate always reads first under the lock. */
  overflow?: KeychainOverflowState;
  constructor(
    private readonly keychain: ClaudeKeychain,
    private readonly account: string,
  ) {}
  get location(): string {
    return this.keychain.label;
  }
  get problem(): Finding | undefined {
    return this.overflow?.lost;
  }

  /**
   * The blob as Claude Code 2.1.332 reads it (store `de` → `QQn`): the main item, and when it holds
   * a `keychainOverflow` pointer, the sections sealed in `<service>-overflow-<slot>`, merged back
   * (`A`). A plain item is returned byte for byte, so edits keep every other byte.
   */
  async read(): Promise<StoreText> {
    this.overflow = undefined;
    const r = await this.keychain.read(this.account);
    if (!r.ok) {
      if (r.absent) return { state: 'absent' };
      return { state: 'unreadable', finding: keychainUnavailableFinding(this.keychain.label, r.reason) };
    }
    let item: unknown;
    try {
      item = JSON.parse(r.value);
    } catch {
      return { state: 'present', text: r.value };
    }
    const pointer = overflowPointerOf(item);
    if (!pointer || !isPlainObject(item)) return { state: 'present', text: r.value };
    const slotItem = overflowService(this.keychain.service, pointer.slot);
    // 2.1.332 reads the overflow with its own account (`rF()`), which is the one we expect.
    const o = await this.keychain.readOverflow(pointer.slot, this.keychain.expectedAccount);
    if (!o.ok && !o.absent) return { state: 'unreadable', finding: keychainUnavailableFinding(`Keychain item "${slotItem}"`, o.reason) };
    const sections = o.ok ? openOverflow(pointer, o.value) : undefined;
    if (!sections) {
      // What Claude Code then reads: the item alone (`isPartial`), its pointer dropped.
      this.overflow = { itemText: r.value, slot: pointer.slot, lost: keychainOverflowLostFinding(this.keychain.label, slotItem, o.ok ? 'does not open with the key the item holds (sealed for another version of it)' : 'is missing') };
      return { state: 'present', text: JSON.stringify(withoutPointer(item)) };
    }
    this.overflow = { itemText: r.value, slot: pointer.slot, layout: { item, pointer, sections, holds: overflowHolds(sections) } };
    return { state: 'present', text: JSON.stringify(mergeOverflow(item, sections)) };
  }

  overflowFindings(): Finding[] {
    const layout = this.overflow?.layout;
    if (this.overflow?.lost) return [this.overflow.lost];
    if (!layout) return [];
    const mcp = layout.sections.mcpOAuth;
    const entries = isPlainObject(mcp) ? Object.keys(mcp).length : 0;
    return [keychainOverflowFinding(this.keychain.label, overflowService(this.keychain.service, layout.pointer.slot), entries, Object.keys(layout.sections).filter((k) => k !== 'mcpOAuth'))];
  }

  /**
   * A plain item: updated in place (ClaudeKeychain.write). An overflowed one (or one whose overflow
   * is lost, only for a whole restore): written as 2.1.332's store `update` does — the whole blob in
   * the item when its `security -i` line fits (the old overflow item then lies unused, as Claude
   * Code leaves it); else split again (`LZl`) into the slot the item does not point at, that slot
   * written first, then the item with the new pointer, so a failure between leaves the old pair valid.
   */
  async write(text: string, lock: HeldLock): Promise<void> {
    lock.assertHeld();
    const state = this.overflow;
    if (!state?.layout && !state?.lost) {
      await this.keychain.write(this.account, text);
      return;
    }
    const data: unknown = JSON.parse(text);
    if (!isPlainObject(data)) throw new KeychainError(`The new content for ${this.location} is not a JSON object; nothing was written.`);
    const account = this.keychain.expectedAccount;
    const service = this.keychain.service;
    const plain = withoutPointer(data);
    if (keychainLine(account, service, plain).length <= KEYCHAIN_LINE_LIMIT) {
      await this.keychain.write(this.account, keychainText(plain));
      return;
    }
    const slot = state.slot === 'a' ? 'b' : 'a';
    const split = splitForKeychain(plain, slot, (item) => keychainLine(account, service, item).length <= KEYCHAIN_LINE_LIMIT, state.layout ? [state.layout] : []);
    if (!split) throw new KeychainError(`What has to stay in ${this.location} does not fit one \`security -i\` line even after moving every MCP grant out (as Claude Code 2.1.332 reports "keychain_too_long"); nothing was written.`);
    if (!isDeepStrictEqual(mergeOverflow(split.item, split.sections), plain)) {
      throw new Error(`Internal error: the split of ${this.location} would not reassemble to the intended content; nothing was written.`);
    }
    // The same slot and key hold the same sections already: leave that item as it is.
    const unchanged = state.layout && split.pointer.slot === state.layout.pointer.slot && split.pointer.key === state.layout.pointer.key && sameSections(split.sections, state.layout.sections);
    if (!unchanged) await this.keychain.writeOverflow(split.pointer.slot, account, split.sealed);
    lock.assertHeld();
    await this.keychain.write(this.account, keychainText(split.item));
  }
}

/** The Keychain answered neither "found" nor "absent": read nothing, write nothing. */
class UnavailableBackend implements Backend {
  readonly kind = 'keychain';
  constructor(
    readonly location: string,
    private readonly reason: string,
  ) {}
  async read(): Promise<StoreText> {
    return { state: 'unreadable', finding: keychainUnavailableFinding(this.location, this.reason) };
  }
  async write(): Promise<void> {
    throw new KeychainError(`${this.location} cannot be used (${this.reason}); nothing was written.`);
  }
}

export class ClaudeCodeStore implements CredentialStore {
  readonly client = 'claude-code';
  private readonly backups: SnapshotStore;
  private readonly keychain?: ClaudeKeychain;
  private readonly fileBackend: FileBackend;
  private current: Backend;
  private readonly now: () => number;

  constructor(
    private readonly e: Environment,
    private readonly options: ClaudeCodeStoreOptions = {},
  ) {
    this.backups = options.backups ?? snapshotStoreFor(e);
    this.now = options.now ?? Date.now;
    this.fileBackend = new FileBackend(claudeCredentialsFile(e));
    if (e.platform === 'darwin') {
      this.keychain = new ClaudeKeychain(claudeKeychainService(e), claudeKeychainAccount(e), options.security ?? runCommand);
      this.current = new UnavailableBackend(this.keychain.label, 'not looked up yet');
    } else {
      this.current = this.fileBackend;
    }
  }

  /** Where the blob was last found (macOS: the Keychain item, or the file when the item is absent). */
  get kind(): StoreKind {
    return this.current.kind;
  }
  get location(): string {
    return this.current.location;
  }

  async list(): Promise<StoreListing> {
    const backend = await this.resolveBackend();
    const read = await backend.read();
    const findings: Finding[] = [];
    let entries: CredentialSummary[] = [];
    if (read.state === 'unreadable') {
      findings.push(read.finding);
    } else if (read.state === 'absent') {
      findings.push(...lossFindings(await this.newestSnapshot(backend), backend.location, undefined));
    } else {
      const parsed = parseClaudeBlob(read.text, backend);
      if (!parsed.ok) {
        findings.push(parsed.finding);
      } else {
        const blob = parsed.blob;
        entries = blob.entries.flatMap((p) => (p.entry ? [summaryOf(p.key, p.entry)] : []));
        findings.push(...blob.entries.flatMap((p) => (p.problem ? [p.problem] : [])));
        findings.push(...entryFindings(blob, backend), ...(await this.needsAuthFindings(entries)));
        if (backend instanceof KeychainBackend) {
          // An overflowed blob is measured by its main item: the rest is in the overflow item.
          const overflow = backend.overflowFindings();
          findings.push(...(overflow.length ? overflow : keychainSizeFindings(read.text, backend.location)));
        }
        const newest = await this.newestSnapshot(backend);
        const wiped = await this.wipeFindings(blob, backend, newest);
        // A whole-store wipe says more than "N entries disappeared": one finding, not two.
        const losses = lossFindings(newest, backend.location, shapeOf(blob.data));
        findings.push(...wiped, ...(wiped.some((f) => f.code === CLAUDE_STORE_FINDING.grantsEmptied) ? losses.filter((f) => f.code !== STORE_FINDING.entriesLost) : losses));
      }
      if (backend.kind === 'keychain') {
        const file = await this.fileBackend.read();
        if (file.state === 'present') {
          const parsedFile = parseClaudeBlob(file.text, this.fileBackend);
          findings.push(splitStoreFinding(backend.location, this.fileBackend.file, parsedFile.ok ? parsedFile.blob.entries.length : 0));
        }
      }
    }
    return { entries, findings };
  }

  async read(key: string): Promise<CredentialSummary | undefined> {
    return (await this.list()).entries.find((s) => s.key === key);
  }

  async readSecret(key: string): Promise<CredentialSecret | undefined> {
    return (await this.readSecrets([key])).get(key);
  }

  async readSecrets(keys: string[]): Promise<Map<string, CredentialSecret>> {
    const out = new Map<string, CredentialSecret>();
    const backend = await this.resolveBackend();
    const read = await backend.read();
    if (read.state !== 'present') return out;
    const parsed = parseClaudeBlob(read.text, backend);
    if (!parsed.ok) return out;
    const wanted = new Set(keys);
    for (const p of parsed.blob.entries) {
      if (!wanted.has(p.key) || !p.entry) continue;
      out.set(
        p.key,
        omitUndefined({
          accessToken: nonEmpty(p.entry.accessToken),
          refreshToken: nonEmpty(p.entry.refreshToken),
          clientSecret: nonEmpty(p.entry.clientSecret) ?? configuredClientSecret(parsed.blob.data, p.key),
        }),
      );
    }
    return out;
  }

  async write(key: string, patch: CredentialPatch): Promise<StoreWriteResult> {
    assertKey(key);
    const snapshot = await this.mutate('before-write', (blob) => {
      const problem = blob?.entries.find((p) => p.key === key)?.problem;
      if (problem) throw new MalformedStoreError(problem);
      return patchEntry(blob, key, patch);
    });
    return snapshot ? { snapshotId: snapshot.id } : {};
  }

  async delete(key: string): Promise<StoreDeleteResult> {
    assertKey(key);
    let removed = false;
    const snapshot = await this.mutate('before-delete', (blob) => {
      if (!blob?.entries.some((p) => p.key === key)) return undefined;
      removed = true;
      return editBlob(blob, [{ path: ['mcpOAuth', key], value: undefined }]);
    });
    return { deleted: removed, ...(snapshot ? { snapshotId: snapshot.id } : {}) };
  }

  async backup(): Promise<SnapshotInfo | undefined> {
    // No lock: each write replaces the blob atomically, so one read sees one whole version.
    const backend = await this.resolveBackend();
    const read = await backend.read();
    if (read.state === 'absent') {
      // Record that the store is gone only when our last snapshot had one: the user accepts the loss.
      const last = await this.newestSnapshot(backend);
      if (!last || last.raw === null) return undefined;
      return this.backups.save({ client: 'claude-code', storeKind: backend.kind, location: backend.location, reason: 'manual', raw: null, entries: [], topLevelKeys: [] });
    }
    if (read.state !== 'present') return undefined;
    // A blob whose Keychain overflow is lost is not a state to accept: keep the last whole snapshot newest.
    if (backend.problem) return undefined;
    const parsed = parseClaudeBlob(read.text, backend);
    return this.backups.save(snapshotOf(backend, read.text, parsed.ok ? parsed.blob : undefined, 'manual'));
  }

  async planRestore(snapshot: Snapshot, entryKey?: string): Promise<RestorePlan> {
    const backend = this.restoreBackend(snapshot, await this.resolveBackend());
    const target = this.restoreTarget(snapshot, backend, entryKey);
    const read = await backend.read();
    if (read.state === 'unreadable') throw new MalformedStoreError(read.finding);
    const current = read.state === 'present' ? parseClaudeBlob(read.text, backend) : undefined;
    return planOf(snapshot, backend, target, current, entryKey);
  }

  async restore(snapshot: Snapshot, entryKey?: string): Promise<RestoreOutcome> {
    let plan: RestorePlan | undefined;
    const previous = await this.mutate(
      'before-restore',
      (blob, read, backend) => {
        const target = this.restoreTarget(snapshot, backend, entryKey);
        const current = read.state === 'present' ? parseClaudeBlob(read.text, backend) : undefined;
        plan = planOf(snapshot, backend, target, current, entryKey);
        if (!entryKey) {
          // The whole blob, byte for byte as it was; this also repairs a malformed store.
          return read.state === 'present' && read.text === snapshot.raw ? undefined : { text: snapshot.raw!, shape: shapeOf(target.data) };
        }
        const value = (target.data.mcpOAuth as Record<string, unknown>)[entryKey];
        if (!blob) {
          const data = { mcpOAuth: { [entryKey]: value } };
          return { text: JSON.stringify(data), shape: shapeOf(data) };
        }
        return editBlob(blob, [{ path: ['mcpOAuth', entryKey], value }]);
      },
      { allowMalformed: !entryKey, backendFor: (resolved) => this.restoreBackend(snapshot, resolved) },
    );
    return { plan: plan!, previous };
  }

  async planRestoreEntries(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestorePlan> {
    const backend = this.restoreBackend(snapshot, await this.resolveBackend());
    const read = await backend.read();
    const { blob } = currentBlobForEntries(read, backend);
    const target = this.restoreTarget(snapshot, backend);
    const written = chosenEntries(snapshot, target, keys, decide?.(read.state === 'present' ? read.text : null));
    return { plan: entriesPlanOf(snapshot, backend, target, blob, written), written };
  }

  /**
   * Several entries (and account grants) of `snapshot` back in one `mutate`: one lock, one
   * re-read, one edit of the blob that keeps every other byte, one snapshot first.
   */
  async restoreEntries(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestoreOutcome> {
    let result: EntriesRestorePlan | undefined;
    const previous = await this.mutate(
      'before-restore',
      (_blob, read, backend) => {
        // An empty file is what Claude Code reads as no store: merged into like an absent one.
        const { blob } = currentBlobForEntries(read, backend);
        const target = this.restoreTarget(snapshot, backend);
        const written = chosenEntries(snapshot, target, keys, decide?.(read.state === 'present' ? read.text : null));
        result = { plan: entriesPlanOf(snapshot, backend, target, blob, written), written };
        const mcp = isPlainObject(target.data.mcpOAuth) ? target.data.mcpOAuth : {};
        const edits: BlobEdit[] = [
          ...written.entryKeys.map((k): BlobEdit => ({ path: ['mcpOAuth', k], value: mcp[k] })),
          ...(written.topLevelKeys ?? []).map((k): BlobEdit => ({ path: [k], value: target.data[k] })),
        ];
        if (edits.length === 0) return undefined;
        if (!blob) {
          const data: Record<string, unknown> = {};
          for (const k of written.topLevelKeys ?? []) data[k] = target.data[k];
          if (written.entryKeys.length) data.mcpOAuth = Object.fromEntries(written.entryKeys.map((k) => [k, mcp[k]]));
          return { text: JSON.stringify(data), shape: shapeOf(data) };
        }
        return editBlob(blob, edits);
      },
      // The blob is parsed (and refused when malformed) by currentBlobForEntries itself.
      { allowMalformed: true, backendFor: (resolved) => this.restoreBackend(snapshot, resolved) },
    );
    return { ...result!, previous };
  }

  /**
   * A snapshot of the Keychain item restores into the item even when it has since been deleted
   * (logout or a reset deletes it: failure-modes E3); Claude Code then reads it again.
   */
  private restoreBackend(snapshot: Snapshot, resolved: Backend): Backend {
    if (this.keychain && resolved.kind === 'file' && snapshot.storeKind === 'keychain' && snapshot.location === this.keychain.label) {
      return new KeychainBackend(this.keychain, this.keychain.expectedAccount);
    }
    return resolved;
  }

  /** The snapshot's content, checked to belong to this store and to hold what is asked for. */
  private restoreTarget(snapshot: Snapshot, backend: Backend, entryKey?: string): { data: Record<string, unknown> } {
    if (snapshot.client !== 'claude-code') throw new Error(`Snapshot ${snapshot.id} is of ${snapshot.client}'s store, not Claude Code's.`);
    if (snapshot.location !== backend.location) {
      throw new Error(`Snapshot ${snapshot.id} was taken of ${snapshot.location}, but Claude Code's store is now ${backend.location}; nothing was written.`);
    }
    if (snapshot.raw === null) throw new Error(`Snapshot ${snapshot.id} recorded no store content; nothing to restore.`);
    const parsed = parseJsonStore(snapshot.raw, { label: `Snapshot ${snapshot.id}`, consequence: 'It cannot be restored.' });
    if (!parsed.ok) throw new Error(`${parsed.finding.title}: it cannot be restored.`);
    if (entryKey !== undefined) {
      const mcp = parsed.value.mcpOAuth;
      if (!isPlainObject(mcp) || !(entryKey in mcp)) throw new Error(`Snapshot ${snapshot.id} has no entry "${entryKey}".`);
    }
    return { data: parsed.value };
  }

  /**
   * The one write path: lock (Claude Code's own), resolve the backend, re-read, compute the new
   * blob, snapshot the current one, replace atomically. Returns the snapshot taken.
   */
  private async mutate(
    reason: string,
    plan: (blob: ParsedBlob | undefined, read: StoreText, backend: Backend) => { text: string; shape: StoreShape } | undefined,
    options: { allowMalformed?: boolean; backendFor?: (resolved: Backend) => Backend } = {},
  ): Promise<SnapshotInfo | undefined> {
    const dir = claudeSecureStorageDir(this.e);
    // Claude Code creates this directory before locking too; the lock lives in it.
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const lockTarget = claudeStorageLockTarget(this.e);
    return withFileLock(
      lockTarget,
      async (lock) => {
        const resolved = await this.resolveBackend();
        const backend = options.backendFor ? options.backendFor(resolved) : resolved;
        const read = await backend.read();
        if (read.state === 'unreadable') throw new MalformedStoreError(read.finding);
        // A lost overflow: any write but a whole restore would make the loss permanent.
        if (backend.problem && !options.allowMalformed) throw new MalformedStoreError(backend.problem);
        let blob: ParsedBlob | undefined;
        if (read.state === 'present') {
          const parsed = parseClaudeBlob(read.text, backend);
          if (parsed.ok) blob = parsed.blob;
          else if (!options.allowMalformed) throw new MalformedStoreError(parsed.finding);
        }
        const next = plan(blob, read, backend);
        if (!next) return undefined;
        const previous =
          read.state === 'present' ? await this.backups.save({ ...snapshotOf(backend, read.text, blob, reason), expectedAfter: next.shape }) : undefined;
        await backend.write(next.text, lock);
        return previous;
      },
      {
        timeoutMs: this.options.lockTimeoutMs ?? CLAUDE_STORAGE_LOCK_TIMEOUT_MS,
        lockfilePath: `${lockTarget}.lock`,
        staleMs: this.options.lockStaleMs ?? CLAUDE_STORAGE_LOCK_STALE_MS,
        realpath: false,
      },
    );
  }

  /**
   * Removes one server's stamp from `mcp-needs-auth-cache.json`, every other byte kept. Claude
   * Code 2.1.197 rewrites that file whole from an in-process promise chain, with no cross-process
   * lock of its own (read from the shipped binary: the functions around
   * "mcp-needs-auth-cache.json"); we still take its storage write lock for the moment of the
   * edit, so two of our own repairs never interleave, and replace the file atomically.
   */
  async clearNeedsAuthStamp(serverName: string): Promise<NeedsAuthStampRemoval> {
    const file = claudeNeedsAuthCacheFile(this.e);
    const dir = claudeSecureStorageDir(this.e);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const lockTarget = claudeStorageLockTarget(this.e);
    return withFileLock(
      lockTarget,
      async (lock) => {
        const read = await readStoreText(file, 'mcp-needs-auth-cache.json');
        if (read.state !== 'present') return { file, removed: false };
        const parsed = parseJsonStore(read.text, { label: 'mcp-needs-auth-cache.json', consequence: 'Claude Code reads it as empty.' });
        // A broken cache is read as empty by Claude Code and replaced on its next stamp: leave it.
        if (!parsed.ok || !Object.hasOwn(parsed.value, serverName)) return { file, removed: false };
        const stamp = parsed.value[serverName];
        const stampedAt = isPlainObject(stamp) && typeof stamp.timestamp === 'number' ? stamp.timestamp : undefined;
        const next = applyEdits(read.text, modify(read.text, [serverName], undefined, {}));
        await atomicWriteFile(file, next, { mode: 0o600, beforeCommit: () => lock.assertHeld() });
        return { file, removed: true, ...(stampedAt !== undefined ? { stampedAt } : {}) };
      },
      {
        timeoutMs: this.options.lockTimeoutMs ?? CLAUDE_STORAGE_LOCK_TIMEOUT_MS,
        lockfilePath: `${lockTarget}.lock`,
        staleMs: this.options.lockStaleMs ?? CLAUDE_STORAGE_LOCK_STALE_MS,
        realpath: false,
      },
    );
  }

  /**
   * Part of the store wiped at once (failure modes of anthropics/claude-code#93537, #84274,
   * #80422, #90647): registration-only entries everywhere, or mcpOAuth empty while our newest
   * snapshot held grants it meant to keep. Each names the snapshot that can restore it.
   */
  private async wipeFindings(blob: ParsedBlob, backend: Backend, newest: Snapshot | undefined): Promise<Finding[]> {
    const snaps = await this.backups
      .list({ client: 'claude-code', location: backend.location })
      .then((l) => l.snapshots)
      .catch(() => []);
    const tokensByKey = newestTokensByKey(snaps);
    const out = zeroedGrantsFindings(blob, backend, (key) => tokensByKey.get(key));
    if (blob.entries.length === 0 && newest) {
      const meant = newest.expectedAfter?.entryKeys ?? newest.entries.map((x) => x.key);
      const lost = newest.entries
        .filter((x) => meant.includes(x.key) && (x.accessToken || x.refreshToken))
        .map((x) => ({ key: x.key, name: x.serverName ?? x.key.split('|')[0]!, src: { snapshotId: newest.id, createdAt: newest.createdAt } }));
      out.push(...emptiedGrantsFindings(backend, lost, await this.needsAuthStamped()));
    }
    return out;
  }

  private async needsAuthStamped(): Promise<string[]> {
    const read = await readStoreText(claudeNeedsAuthCacheFile(this.e), 'mcp-needs-auth-cache.json');
    if (read.state !== 'present') return [];
    const parsed = parseJsonStore(read.text, { label: 'mcp-needs-auth-cache.json', consequence: 'Claude Code reads it as empty.' });
    return parsed.ok ? Object.keys(parsed.value) : [];
  }

  private async newestSnapshot(backend: Backend): Promise<Snapshot | undefined> {
    // A backup folder we cannot read must not hide the store's own findings.
    return this.backups.newest('claude-code', backend.location).catch(() => undefined);
  }

  private async needsAuthFindings(entries: CredentialSummary[]): Promise<Finding[]> {
    const file = claudeNeedsAuthCacheFile(this.e);
    const read = await readStoreText(file, 'mcp-needs-auth-cache.json');
    return read.state === 'present' ? needsAuthFindings(file, read.text, entries, this.now()) : [];
  }

  /** macOS: the Keychain item when it exists, else the file (as Claude Code falls back). */
  private async resolveBackend(): Promise<Backend> {
    if (!this.keychain) return this.current;
    const found = await this.keychain.find();
    if (found.state === 'found') this.current = new KeychainBackend(this.keychain, found.account);
    else if (found.state === 'absent') this.current = this.fileBackend;
    else this.current = new UnavailableBackend(this.keychain.label, found.reason);
    return this.current;
  }

}

export function claudeCodeStore(e: Environment, options: ClaudeCodeStoreOptions = {}): ClaudeCodeStore {
  return new ClaudeCodeStore(e, options);
}

function snapshotOf(backend: Backend, raw: string, blob: ParsedBlob | undefined, reason: string): Omit<Snapshot, 'id' | 'createdAt'> {
  return {
    client: 'claude-code',
    storeKind: backend.kind,
    location: backend.location,
    reason,
    raw,
    entries: blob ? blob.entries.map((p) => fingerprintsOf(p.key, p.raw)) : [],
    topLevelKeys: blob ? Object.keys(blob.data) : [],
  };
}

function planOf(
  snapshot: Snapshot,
  backend: Backend,
  target: { data: Record<string, unknown> },
  current: { ok: true; blob: ParsedBlob } | { ok: false; finding: Finding } | undefined,
  entryKey?: string,
): RestorePlan {
  const currentData = current?.ok ? current.blob.data : {};
  const entriesOf = (data: Record<string, unknown>) => (isPlainObject(data.mcpOAuth) ? data.mcpOAuth : {});
  const fingerprintsIn = (data: Record<string, unknown>) => Object.entries(entriesOf(data)).map(([k, v]) => fingerprintsOf(k, v));
  let entries = diffEntries(fingerprintsIn(currentData), fingerprintsIn(target.data)).map((c) =>
    // Same fingerprints can still differ elsewhere (client id, scope, discovery state).
    c.change === 'unchanged' && !isDeepStrictEqual(entriesOf(currentData)[c.key], entriesOf(target.data)[c.key]) ? { ...c, change: 'changed' as const } : c,
  );
  const otherChanges: string[] = [];
  if (entryKey !== undefined) {
    entries = entries.filter((c) => c.key === entryKey);
  } else {
    if (current && !current.ok) otherChanges.push(`the current store is replaced (${current.finding.title})`);
    for (const k of [...new Set([...Object.keys(currentData), ...Object.keys(target.data)])]) {
      if (k === 'mcpOAuth') continue;
      const [was, will] = [currentData[k], target.data[k]];
      if (was === undefined) otherChanges.push(`${k}: restored (missing now)`);
      else if (will === undefined) otherChanges.push(`${k}: removed (not in the snapshot)`);
      else if (!isDeepStrictEqual(was, will)) otherChanges.push(`${k}: replaced by the snapshot's version`);
    }
  }
  return { snapshotId: snapshot.id, location: backend.location, ...(entryKey !== undefined ? { entryKey } : {}), entries, otherChanges };
}

function assertKey(key: string): void {
  if (!key) throw new Error('An entry key is required.');
}


/**
 * The current blob an entry restore merges into: none when the store is absent or an empty file;
 * a blob that does not parse, or whose Keychain overflow is lost, is refused (only a whole restore
 * replaces such a store).
 */
function currentBlobForEntries(read: StoreText, backend: Backend): { blob: ParsedBlob | undefined } {
  if (read.state === 'unreadable') throw new MalformedStoreError(read.finding);
  if (backend.problem) throw new MalformedStoreError(backend.problem);
  if (read.state === 'absent' || read.text.trim() === '') return { blob: undefined };
  const parsed = parseClaudeBlob(read.text, backend);
  if (!parsed.ok) throw new MalformedStoreError(parsed.finding);
  return { blob: parsed.blob };
}

/** The asked-for keys `decide` kept, each checked to be in the snapshot. */
function chosenEntries(snapshot: Snapshot, target: { data: Record<string, unknown> }, keys: EntrySelection, decided: EntrySelection | undefined): EntrySelection {
  const mcp = isPlainObject(target.data.mcpOAuth) ? target.data.mcpOAuth : {};
  for (const k of keys.entryKeys) if (!Object.hasOwn(mcp, k)) throw new Error(`Snapshot ${snapshot.id} has no entry "${k}".`);
  for (const k of keys.topLevelKeys ?? []) {
    if (k === 'mcpOAuth' || !Object.hasOwn(target.data, k)) throw new Error(`Snapshot ${snapshot.id} has no account grant "${k}".`);
  }
  const keep = (asked: string[], said: string[] | undefined) => (said === undefined ? asked : asked.filter((k) => said.includes(k)));
  return { entryKeys: keep(keys.entryKeys, decided?.entryKeys), topLevelKeys: keep(keys.topLevelKeys ?? [], decided ? (decided.topLevelKeys ?? []) : undefined) };
}

function entriesPlanOf(snapshot: Snapshot, backend: Backend, target: { data: Record<string, unknown> }, blob: ParsedBlob | undefined, written: EntrySelection): RestorePlan {
  const full = planOf(snapshot, backend, target, blob ? { ok: true, blob } : undefined);
  const wanted = new Set(written.entryKeys);
  const current = blob?.data ?? {};
  const otherChanges = (written.topLevelKeys ?? []).flatMap((k) =>
    current[k] === undefined ? [`${k}: restored (missing now)`] : isDeepStrictEqual(current[k], target.data[k]) ? [] : [`${k}: replaced by the snapshot's version`],
  );
  return { ...full, entries: full.entries.filter((c) => wanted.has(c.key)), otherChanges };
}
