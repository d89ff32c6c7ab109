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
import { diffEntries, type Snapshot, type SnapshotInfo, type SnapshotStore, type StoreShape } from '../../credentials/backups';
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
import { MalformedStoreError, readStoreText } from '../../credentials/storeFile';
import { AUTH_FILE_LABEL, entryFor, fingerprintsOfEntry, parseAuthFile, patchedText, removedText, secretOf, summaryOf, withEntries, type AuthEntry, type ParsedAuth } from './authFile';
import { withOpencodeLock } from './lock';
import { opencodeAuthFile, opencodeStateDir } from './paths';

export interface OpencodeStoreOptions {
  backups: SnapshotStore;
  lockTimeoutMs?: number;
}

type Loaded = { kind: 'absent' } | { kind: 'bad'; finding: Finding } | { kind: 'ok'; parsed: ParsedAuth };

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

  // ── restore (backups and the journal's `restore --lost`) ──────────────────────────────────

  async planRestore(snapshot: Snapshot, entryKey?: string): Promise<RestorePlan> {
    const target = this.restoreTarget(snapshot, entryKey);
    const r = await this.load();
    if (r.kind === 'bad' && entryKey) throw new MalformedStoreError(r.finding);
    return this.planOf(snapshot, r, entryKey ? [entryFor(target, entryKey)!] : [...target.entries.values()], { entryKey });
  }

  /** The whole file as the snapshot holds it, byte for byte (this also repairs one opencode cannot read), or one entry merged in. */
  async restore(snapshot: Snapshot, entryKey?: string): Promise<RestoreOutcome> {
    const target = this.restoreTarget(snapshot, entryKey);
    let plan: RestorePlan | undefined;
    if (entryKey) {
      const entry = entryFor(target, entryKey)!;
      const previous = await this.mutate('before-restore', (current) => {
        plan = this.planOf(snapshot, current ? { kind: 'ok', parsed: current } : { kind: 'absent' }, [entry], { entryKey });
        const text = withEntries(current, [entry]);
        return text === current?.text ? undefined : text;
      });
      return { plan: plan!, previous };
    }
    const previous = await this.lockedRead(async (r) => {
      plan = this.planOf(snapshot, r, [...target.entries.values()]);
      const raw = r.kind === 'absent' ? undefined : r.kind === 'ok' ? r.parsed.text : await fs.readFile(this.location, 'utf8').catch(() => undefined);
      if (raw === snapshot.raw) return undefined;
      const before = raw !== undefined ? await this.options.backups.save(this.snapshotOf(raw, r.kind === 'ok' ? r.parsed : undefined, 'before-restore')) : undefined;
      await atomicWriteFile(this.location, snapshot.raw!, { mode: 0o600 });
      return before;
    });
    return { plan: plan!, previous };
  }

  async planRestoreEntries(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestorePlan> {
    const target = this.restoreTarget(snapshot);
    const asked = askedEntries(snapshot, target, keys);
    const r = await this.load();
    if (r.kind === 'bad') throw new MalformedStoreError(r.finding);
    const written = this.decided(asked, r.kind === 'ok' ? r.parsed : undefined, decide);
    return { plan: this.planOf(snapshot, r, written.map((k) => entryFor(target, k)!), { merge: true }), written: { entryKeys: written } };
  }

  /**
   * Puts logins of `snapshot` back, in one write under opencode's lock after a snapshot; every
   * other entry and byte stays. A name that holds a login for another URL now is left alone
   * (that login is newer: opencode binds a login to its URL, and a re-login there replaced it).
   */
  async restoreEntries(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestoreOutcome> {
    const target = this.restoreTarget(snapshot);
    const asked = askedEntries(snapshot, target, keys);
    let result: EntriesRestorePlan | undefined;
    const previous = await this.mutate('before-restore', (current) => {
      const written = this.decided(asked, current, decide);
      const entries = written.map((k) => entryFor(target, k)!);
      result = { plan: this.planOf(snapshot, current ? { kind: 'ok', parsed: current } : { kind: 'absent' }, entries, { merge: true }), written: { entryKeys: written } };
      if (!entries.length) return undefined;
      const text = withEntries(current, entries);
      return text === current?.text ? undefined : text;
    });
    return { ...result!, previous };
  }

  private decided(asked: string[], current: ParsedAuth | undefined, decide?: RestoreDecision): string[] {
    const chosen = decide ? new Set(decide(current?.text ?? null).entryKeys) : undefined;
    return asked.filter((k) => {
      if (chosen && !chosen.has(k)) return false;
      const name = k.slice(0, k.indexOf('|'));
      const now = current?.entries.get(name);
      return !(now && now.key !== k && now.raw.tokens);
    });
  }

  /** What writing `entries` would change: every entry of the file for a whole restore, else only theirs. */
  private planOf(snapshot: Snapshot, r: Loaded, entries: AuthEntry[], scope: { entryKey?: string; merge?: boolean } = {}): RestorePlan {
    const current = r.kind === 'ok' ? [...r.parsed.entries.values()].map(fingerprintsOfEntry) : [];
    const keys = new Set(entries.map((x) => x.key));
    let changes = diffEntries(current, entries.map(fingerprintsOfEntry));
    if (scope.entryKey !== undefined || scope.merge) changes = changes.filter((c) => keys.has(c.key));
    const otherChanges = r.kind === 'bad' && !scope.entryKey && !scope.merge ? [`the current file is replaced (${r.finding.title})`] : [];
    return { snapshotId: snapshot.id, location: this.location, ...(scope.entryKey !== undefined ? { entryKey: scope.entryKey } : {}), entries: changes, otherChanges };
  }

  private restoreTarget(snapshot: Snapshot, entryKey?: string): ParsedAuth {
    if (snapshot.client !== this.client) throw new Error(`Snapshot ${snapshot.id} is of ${snapshot.client}'s store, not opencode's.`);
    if (snapshot.location !== this.location) throw new Error(`Snapshot ${snapshot.id} was taken of ${snapshot.location}, but opencode's login file is now ${this.location}; nothing was written.`);
    if (snapshot.raw === null) throw new Error(`Snapshot ${snapshot.id} recorded no store content; nothing to restore.`);
    const parsed = parseAuthFile(snapshot.raw, `Snapshot ${snapshot.id}`);
    if (!parsed.ok) throw new Error(`${parsed.finding.title} in snapshot ${snapshot.id}: it cannot be restored.`);
    if (entryKey !== undefined && !entryFor(parsed.parsed, entryKey)) throw new Error(`Snapshot ${snapshot.id} has no entry "${entryKey}".`);
    return parsed.parsed;
  }

  /** `fn` under opencode's lock with the file as read there (any state, broken included). */
  private async lockedRead<T>(fn: (r: Loaded) => Promise<T>): Promise<T> {
    await fs.mkdir(path.dirname(this.location), { recursive: true, mode: 0o700 });
    return withOpencodeLock(opencodeStateDir(this.e), this.location, async () => fn(await this.load()), { timeoutMs: this.options.lockTimeoutMs ?? 10_000 });
  }

  private async load(): Promise<Loaded> {
    const read = await readStoreText(this.location, AUTH_FILE_LABEL);
    if (read.state === 'absent') return { kind: 'absent' };
    if (read.state === 'unreadable') return { kind: 'bad', finding: read.finding };
    const parsed = parseAuthFile(read.text, this.location);
    return parsed.ok ? { kind: 'ok', parsed: parsed.parsed } : { kind: 'bad', finding: parsed.finding };
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

  private async modeFindings(): Promise<Finding[]> {
    if (this.e.platform === 'win32') return [];
    try {
      const mode = (await fs.stat(this.location)).mode & 0o777;
      if ((mode & 0o077) === 0) return [];
      return [
        {
          code: 'credentials.file-permissions',
          severity: 'warning',
          title: "opencode's MCP login file is readable by other users",
          detail: `${this.location} has mode ${mode.toString(8).padStart(4, '0')}; it holds live tokens, and opencode creates it 0600. Run: chmod 600 '${this.location}'`,
          location: { file: this.location, line: 1, column: 1 },
        },
      ];
    } catch {
      return [];
    }
  }
}

function askedEntries(snapshot: Snapshot, target: ParsedAuth, keys: EntrySelection): string[] {
  if (keys.topLevelKeys?.length) throw new Error(`opencode's store has no account grants (${keys.topLevelKeys.join(', ')}).`);
  for (const k of keys.entryKeys) if (!entryFor(target, k)) throw new Error(`Snapshot ${snapshot.id} has no entry "${k}".`);
  return [...keys.entryKeys];
}

export function opencodeStore(e: Environment, options: OpencodeStoreOptions): OpencodeStore {
  return new OpencodeStore(e, options);
}
