// opencode 1.18.33's MCP logins, `<data>/mcp-auth.json` (authFile.ts), read and written in its
// own format under its own lock (lock.ts): a write waits while an opencode reads or writes the
// file, and an opencode waits while we write. opencode holds that lock only around each read and
// write, not across a token refresh, so a running opencode refreshing the same grant at the same
// moment can still spend the refresh token first (the process rule in definition.ts lets
// surfaces warn). Every write re-reads under the lock, snapshots the current file, and replaces
// it atomically (its mode kept; a new file is 0600 as opencode creates it).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Environment } from '../../environment';
import type { Finding } from '../../model';
import { atomicWriteFile } from '../../credentials/atomicWrite';
import type { Snapshot, SnapshotInfo, SnapshotStore, StoreShape } from '../../credentials/backups';
import { KeyedFileRestore, type LoadedFile } from '../../credentials/keyedFileRestore';
import type {
  CredentialPatch,
  CredentialSecret,
  CredentialStore,
  CredentialSummary,
  EntriesRestoreOutcome,
  EntriesRestorePlan,
  EntrySelection,
  RestoreDecision,
  RestoreOutcome,
  RestorePlan,
  StoreDeleteResult,
  StoreListing,
  StoreWriteResult,
} from '../../credentials/store';
import { filePermissionFindings, MalformedStoreError, readStoreText } from '../../credentials/storeFile';
import { AUTH_FILE_LABEL, entryFor, fingerprintsOfEntry, parseAuthFile, patchedText, removedText, secretOf, summaryOf, withEntries, type AuthEntry, type ParsedAuth } from './authFile';
import { withOpencodeLock } from './lock';
import { opencodeAuthFile, opencodeStateDir } from './paths';

export interface OpencodeStoreOptions {
  backups: SnapshotStore;
  lockTimeoutMs?: number;
}

type Loaded = LoadedFile<ParsedAuth>;

export class OpencodeStore implements CredentialStore {
  readonly client = 'opencode' as const;
  readonly kind = 'file' as const;
  readonly location: string;

  constructor(
    private readonly e: Environment,
    private readonly options: OpencodeStoreOptions,
  ) {
    this.location = opencodeAuthFile(e);
  }

  async list(): Promise<StoreListing> {
    const r = await this.load();
    if (r.kind === 'bad') return { entries: [], findings: [r.finding] };
    if (r.kind === 'absent') return { entries: [], findings: [] };
    return { entries: [...r.parsed.entries.values()].map(summaryOf), findings: [...r.parsed.findings, ...(await this.modeFindings())] };
  }

  async read(key: string): Promise<CredentialSummary | undefined> {
    const r = await this.load();
    const entry = r.kind === 'ok' ? entryFor(r.parsed, key) : undefined;
    return entry ? summaryOf(entry) : undefined;
  }

  async readSecret(key: string): Promise<CredentialSecret | undefined> {
    return (await this.readSecrets([key])).get(key);
  }

  async readSecrets(keys: string[]): Promise<Map<string, CredentialSecret>> {
    const out = new Map<string, CredentialSecret>();
    const r = await this.load();
    if (r.kind !== 'ok') return out;
    for (const k of keys) {
      const entry = entryFor(r.parsed, k);
      if (entry) out.set(k, secretOf(entry));
    }
    return out;
  }

  async write(key: string, patch: CredentialPatch): Promise<StoreWriteResult> {
    if (!key) throw new Error('An entry key is required.');
    const snapshot = await this.mutate('before-write', (current) => {
      const text = patchedText(current, key, patch);
      return text === current?.text ? undefined : text;
    });
    return snapshot ? { snapshotId: snapshot.id } : {};
  }

  async delete(key: string): Promise<StoreDeleteResult> {
    if (!key) throw new Error('An entry key is required.');
    let deleted = false;
    const snapshot = await this.mutate('before-delete', (current) => {
      if (!current || !entryFor(current, key)) return undefined;
      deleted = true;
      return removedText(current, key);
    });
    return { deleted, ...(snapshot ? { snapshotId: snapshot.id } : {}) };
  }

  async backup(): Promise<SnapshotInfo | undefined> {
    const read = await readStoreText(this.location, AUTH_FILE_LABEL);
    if (read.state !== 'present') return undefined;
    const parsed = parseAuthFile(read.text, this.location);
    return this.options.backups.save(this.snapshotOf(read.text, parsed.ok ? parsed.parsed : undefined, 'manual'));
  }

  // ── restore (backups and the journal's `restore --lost`): credentials/keyedFileRestore.ts ──

  private restorerCache: KeyedFileRestore<ParsedAuth, AuthEntry> | undefined;
  private get restorer(): KeyedFileRestore<ParsedAuth, AuthEntry> {
    return (this.restorerCache ??= new KeyedFileRestore<ParsedAuth, AuthEntry>(
    {
      client: this.client,
      location: this.location,
      label: "opencode's login file",
      backups: this.options.backups,
      load: () => this.load(),
      mutate: (reason, plan) => this.mutate(reason, plan),
      locked: async (fn) => {
        await fs.mkdir(path.dirname(this.location), { recursive: true, mode: 0o700 });
        return withOpencodeLock(opencodeStateDir(this.e), this.location, async () => fn(await this.load()), { timeoutMs: this.options.lockTimeoutMs ?? 10_000 });
      },
      snapshotOf: (raw, parsed, reason) => this.snapshotOf(raw, parsed, reason),
    },
    {
      parse: parseAuthFile,
      text: (p) => p.text,
      entries: (p) => [...p.entries.values()],
      keyOf: (x) => x.key,
      fingerprints: fingerprintsOfEntry,
      withEntries,
      // A name that holds a login for another URL now keeps it: opencode binds a login to its URL,
      // and a re-login there replaced the old one.
      keepsNow: (current, key) => {
        const now = current?.entries.get(key.slice(0, key.indexOf('|')));
        return !!(now && now.key !== key && now.raw.tokens);
      },
    },
    ));
  }

  planRestore(snapshot: Snapshot, entryKey?: string): Promise<RestorePlan> {
    return this.restorer.planRestore(snapshot, entryKey);
  }

  /** The whole file as the snapshot holds it, byte for byte (this also repairs one opencode cannot read), or one entry merged in. */
  restore(snapshot: Snapshot, entryKey?: string): Promise<RestoreOutcome> {
    return this.restorer.restore(snapshot, entryKey);
  }

  planRestoreEntries(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestorePlan> {
    return this.restorer.planRestoreEntries(snapshot, keys, decide);
  }

  /** Puts logins of `snapshot` back in one write under opencode's lock after a snapshot; every other entry and byte stays. */
  restoreEntries(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestoreOutcome> {
    return this.restorer.restoreEntries(snapshot, keys, decide);
  }

  private async load(): Promise<Loaded> {
    const read = await readStoreText(this.location, AUTH_FILE_LABEL);
    if (read.state === 'absent') return { kind: 'absent' };
    if (read.state === 'unreadable') return { kind: 'bad', finding: read.finding };
    const parsed = parseAuthFile(read.text, this.location);
    return parsed.ok ? { kind: 'ok', parsed: parsed.parsed } : { kind: 'bad', finding: parsed.finding, text: read.text };
  }

  private async mutate(reason: string, plan: (current: ParsedAuth | undefined) => string | undefined): Promise<SnapshotInfo | undefined> {
    const file = this.location;
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    return withOpencodeLock(
      opencodeStateDir(this.e),
      file,
      async () => {
        const r = await this.load();
        if (r.kind === 'bad') throw new MalformedStoreError(r.finding);
        const current = r.kind === 'ok' ? r.parsed : undefined;
        const next = plan(current);
        if (next === undefined) return undefined;
        const after = parseAuthFile(next, file);
        const shape: StoreShape = { topLevelKeys: [], entryKeys: after.ok ? [...after.parsed.entries.values()].map((x) => x.key) : [] };
        const previous = current ? await this.options.backups.save({ ...this.snapshotOf(current.text, current, reason), expectedAfter: shape }) : undefined;
        await atomicWriteFile(file, next, { mode: 0o600 });
        return previous;
      },
      { timeoutMs: this.options.lockTimeoutMs ?? 10_000 },
    );
  }

  private snapshotOf(raw: string, parsed: ParsedAuth | undefined, reason: string) {
    return {
      client: this.client,
      storeKind: 'file' as const,
      location: this.location,
      reason,
      raw,
      entries: parsed ? [...parsed.entries.values()].map(fingerprintsOfEntry) : [],
      topLevelKeys: [],
    };
  }

  private modeFindings(): Promise<Finding[]> {
    return filePermissionFindings(this.location, this.e.platform, "opencode's MCP login file", 'opencode');
  }
}

export function opencodeStore(e: Environment, options: OpencodeStoreOptions): OpencodeStore {
  return new OpencodeStore(e, options);
}
