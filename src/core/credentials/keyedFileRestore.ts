// Restore for a client whose logins are one JSON file of entries by key (opencode's mcp-auth.json,
// Gemini CLI's mcp-oauth-tokens.json): a snapshot put back whole, byte for byte (which also
// repairs a file the client cannot read), or some of its entries merged into the file as it is
// now, every other byte kept. The store supplies its format and its locked write; this module
// owns the plans (fingerprints only) and the rules: a restore never writes a file it cannot parse
// except whole, and `decide` (restore --lost) sees the content read under the client's lock.
import type { ClientId, Finding } from '../model';
import { atomicWriteFile } from './atomicWrite';
import { diffEntries, type EntryFingerprints, type NewSnapshot, type Snapshot, type SnapshotInfo, type SnapshotStore } from './backups';
import type { EntriesRestoreOutcome, EntriesRestorePlan, EntrySelection, RestoreDecision, RestoreOutcome, RestorePlan } from './store';
import { MalformedStoreError } from './storeFile';

export type LoadedFile<P> = { kind: 'absent' } | { kind: 'bad'; finding: Finding; text?: string } | { kind: 'ok'; parsed: P };

/** A store's file format, as restores need it. */
export interface KeyedFileFormat<P, E> {
  parse(text: string, label: string): { ok: true; parsed: P } | { ok: false; finding: Finding };
  text(parsed: P): string;
  /** The entries the client uses, one per key. */
  entries(parsed: P): E[];
  keyOf(entry: E): string;
  fingerprints(entry: E): EntryFingerprints;
  /** The text with `entries` (of another state of the file) put in, every other byte kept. */
  withEntries(current: P | undefined, entries: E[]): string;
  /** A key that must stay as it is now although asked for (opencode: its name holds a newer login for another URL). */
  keepsNow?(current: P | undefined, key: string): boolean;
  /** Why a file that parses must still not be merged into (Gemini: a null entry it stops reading at). */
  refusal?(current: P): Finding | undefined;
}

/** What the store lends: where it is, how it reads, how it writes under the client's lock. */
export interface KeyedFileHost<P> {
  readonly client: ClientId;
  readonly location: string;
  /** For messages: "opencode's login file". */
  readonly label: string;
  load(): Promise<LoadedFile<P>>;
  /** Read-modify-write under the client's lock after a snapshot (the store's one write path). */
  mutate(reason: string, plan: (current: P | undefined) => string | undefined): Promise<SnapshotInfo | undefined>;
  /** `fn` under the client's lock with the file as read there, broken included. */
  locked<T>(fn: (r: LoadedFile<P>) => Promise<T>): Promise<T>;
  snapshotOf(raw: string, parsed: P | undefined, reason: string): NewSnapshot;
  backups: SnapshotStore;
}

export class KeyedFileRestore<P, E> {
  constructor(
    private readonly host: KeyedFileHost<P>,
    private readonly format: KeyedFileFormat<P, E>,
  ) {}

  async planRestore(snapshot: Snapshot, entryKey?: string): Promise<RestorePlan> {
    const target = this.target(snapshot, entryKey);
    const r = await this.host.load();
    if (r.kind === 'bad' && entryKey) throw new MalformedStoreError(r.finding);
    const refused = r.kind === 'ok' && entryKey ? this.format.refusal?.(r.parsed) : undefined;
    if (refused) throw new MalformedStoreError(refused);
    return this.planOf(snapshot, r, entryKey ? [this.entry(target, entryKey)!] : this.format.entries(target), { entryKey });
  }

  async restore(snapshot: Snapshot, entryKey?: string): Promise<RestoreOutcome> {
    const target = this.target(snapshot, entryKey);
    let plan: RestorePlan | undefined;
    if (entryKey) {
      const entry = this.entry(target, entryKey)!;
      const previous = await this.host.mutate('before-restore', (current) => {
        plan = this.planOf(snapshot, loaded(current), [entry], { entryKey });
        const text = this.format.withEntries(current, [entry]);
        return current && text === this.format.text(current) ? undefined : text;
      });
      return { plan: plan!, previous };
    }
    const previous = await this.host.locked(async (r) => {
      plan = this.planOf(snapshot, r, this.format.entries(target), {});
      const raw = r.kind === 'ok' ? this.format.text(r.parsed) : r.kind === 'bad' ? r.text : undefined;
      if (raw === snapshot.raw) return undefined;
      const before = raw !== undefined ? await this.host.backups.save(this.host.snapshotOf(raw, r.kind === 'ok' ? r.parsed : undefined, 'before-restore')) : undefined;
      await atomicWriteFile(this.host.location, snapshot.raw!, { mode: 0o600 });
      return before;
    });
    return { plan: plan!, previous };
  }

  async planRestoreEntries(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestorePlan> {
    const target = this.target(snapshot);
    const asked = this.asked(snapshot, target, keys);
    const r = await this.host.load();
    if (r.kind === 'bad') throw new MalformedStoreError(r.finding);
    const refused = r.kind === 'ok' ? this.format.refusal?.(r.parsed) : undefined;
    if (refused) throw new MalformedStoreError(refused);
    const written = this.decided(asked, r.kind === 'ok' ? r.parsed : undefined, decide);
    return { plan: this.planOf(snapshot, r, written.map((k) => this.entry(target, k)!), { merge: true }), written: { entryKeys: written } };
  }

  async restoreEntries(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestoreOutcome> {
    const target = this.target(snapshot);
    const asked = this.asked(snapshot, target, keys);
    let result: EntriesRestorePlan | undefined;
    const previous = await this.host.mutate('before-restore', (current) => {
      const written = this.decided(asked, current, decide);
      const entries = written.map((k) => this.entry(target, k)!);
      result = { plan: this.planOf(snapshot, loaded(current), entries, { merge: true }), written: { entryKeys: written } };
      if (!entries.length) return undefined;
      const text = this.format.withEntries(current, entries);
      return current && text === this.format.text(current) ? undefined : text;
    });
    return { ...result!, previous };
  }

  private entry(parsed: P, key: string): E | undefined {
    return this.format.entries(parsed).find((x) => this.format.keyOf(x) === key);
  }

  private decided(asked: string[], current: P | undefined, decide?: RestoreDecision): string[] {
    const chosen = decide ? new Set(decide(current ? this.format.text(current) : null).entryKeys) : undefined;
    return asked.filter((k) => (!chosen || chosen.has(k)) && !this.format.keepsNow?.(current, k));
  }

  private asked(snapshot: Snapshot, target: P, keys: EntrySelection): string[] {
    if (keys.topLevelKeys?.length) throw new Error(`${this.host.label} has no account grants (${keys.topLevelKeys.join(', ')}).`);
    for (const k of keys.entryKeys) if (!this.entry(target, k)) throw new Error(`Snapshot ${snapshot.id} has no entry "${k}".`);
    return [...keys.entryKeys];
  }

  /** What writing `entries` changes: every entry of the file for a whole restore, else only theirs. */
  private planOf(snapshot: Snapshot, r: LoadedFile<P>, entries: E[], scope: { entryKey?: string | undefined; merge?: boolean }): RestorePlan {
    const current = r.kind === 'ok' ? this.format.entries(r.parsed).map((x) => this.format.fingerprints(x)) : [];
    const keys = new Set(entries.map((x) => this.format.keyOf(x)));
    let changes = diffEntries(current, entries.map((x) => this.format.fingerprints(x)));
    const partial = scope.entryKey !== undefined || scope.merge === true;
    if (partial) changes = changes.filter((c) => keys.has(c.key));
    const otherChanges = r.kind === 'bad' && !partial ? [`the current file is replaced (${r.finding.title})`] : [];
    return { snapshotId: snapshot.id, location: this.host.location, ...(scope.entryKey !== undefined ? { entryKey: scope.entryKey } : {}), entries: changes, otherChanges };
  }

  private target(snapshot: Snapshot, entryKey?: string): P {
    if (snapshot.client !== this.host.client) throw new Error(`Snapshot ${snapshot.id} is of ${snapshot.client}'s store, not ${this.host.label}.`);
    if (snapshot.location !== this.host.location) throw new Error(`Snapshot ${snapshot.id} was taken of ${snapshot.location}, but ${this.host.label} is now ${this.host.location}; nothing was written.`);
    if (snapshot.raw === null) throw new Error(`Snapshot ${snapshot.id} recorded no store content; nothing to restore.`);
    const parsed = this.format.parse(snapshot.raw, `Snapshot ${snapshot.id}`);
    if (!parsed.ok) throw new Error(`${parsed.finding.title} in snapshot ${snapshot.id}: it cannot be restored.`);
    if (entryKey !== undefined && !this.entry(parsed.parsed, entryKey)) throw new Error(`Snapshot ${snapshot.id} has no entry "${entryKey}".`);
    return parsed.parsed;
  }
}

function loaded<P>(current: P | undefined): LoadedFile<P> {
  return current ? { kind: 'ok', parsed: current } : { kind: 'absent' };
}
