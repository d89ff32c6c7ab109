// The credential journal: every new content of a store, kept as a snapshot (reason `observed`) in
// the same format and 0600 files as our other snapshots (credentials/backups.ts), so a store a
// client destroyed can be seen and put back from its state just before. A state is recorded only
// when the content differs from the journal's newest state of that store (by a content hash), and
// each new state is compared with that one for losses (losses.ts).
//
// The journal lives in its own folder, `<backup folder>/journal/`: our before-write snapshots keep
// their own bound there (SnapshotStore prunes a folder by count), and a client rewriting its store
// a hundred times cannot push them out. Bounds: `maxStates` per store and `maxAgeMs`; pruning
// never removes a store's newest state.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Environment } from '../environment';
import type { ClientId, Finding } from '../model';
import { SnapshotStore, defaultBackupDir, snapshotStoreFor, type Snapshot, type SnapshotInfo } from '../credentials/backups';
import type { StoreKind } from '../credentials/store';
import { classifyChange, lossFinding, parseStoreContent, type ChangeClassification, type Loss, type WriterInfo } from './losses';
import type { CapturedState, StateSource } from './sources';
import { guessWriter, type WriterProbe } from './writer';

export const JOURNAL_REASON = 'observed';
export const DEFAULT_JOURNAL_MAX_STATES = 100;
export const DEFAULT_JOURNAL_MAX_AGE_DAYS = 30;
const DAY_MS = 86_400_000;

/** Reasons of the snapshots our own writes take first (claudeCodeStore / codexStore `mutate`). */
const OUR_WRITES = new Set(['before-write', 'before-delete', 'before-restore']);

/** `$MCP_AUTH_DOCTOR_JOURNAL_DIR`, else `journal/` inside the backup folder. */
export function journalDir(e: Environment): string {
  const configured = e.env.MCP_AUTH_DOCTOR_JOURNAL_DIR;
  return configured ? path.resolve(configured) : path.join(defaultBackupDir(e), 'journal');
}

export interface JournalOptions {
  /** States kept per store (1–10000); default 100. */
  maxStates?: number;
  /** States older than this are pruned (the newest always stays); default 30 days. */
  maxAgeMs?: number;
  now?: () => number;
  /** How the writer of a new state is guessed (tests inject the process table). */
  writer?: WriterProbe;
  /** Where our own before-write snapshots are, to tell our removals from losses; default none. */
  ownSnapshots?: SnapshotStore;
}

/** What observing one store location found. */
export interface ObservedState {
  client: ClientId;
  storeKind: StoreKind;
  location: string;
  /** False when the content equals the journal's newest state (nothing written). */
  recorded: boolean;
  /** The state journaled now. */
  snapshot?: SnapshotInfo;
  /** The journal's state before it: what the new one was compared with. */
  previous?: SnapshotInfo;
  classification: ChangeClassification;
  losses: Loss[];
  /** One finding per loss (fingerprints only): what a notification shows. */
  findings: Finding[];
}

export interface JournalObservation {
  recorded: boolean;
  states: ObservedState[];
  losses: Loss[];
  findings: Finding[];
}

export class Journal {
  readonly snapshots: SnapshotStore;
  readonly maxStates: number;
  readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    readonly dir: string,
    private readonly options: JournalOptions = {},
  ) {
    this.maxStates = Math.min(Math.max(Math.trunc(options.maxStates ?? DEFAULT_JOURNAL_MAX_STATES), 1), 10_000);
    this.maxAgeMs = Math.max(options.maxAgeMs ?? DEFAULT_JOURNAL_MAX_AGE_DAYS * DAY_MS, 0);
    this.now = options.now ?? Date.now;
    this.snapshots = new SnapshotStore(dir, this.maxStates, this.now);
  }

  /** Reads every location `source` can read now and journals each one that changed. */
  async observe(source: StateSource): Promise<JournalObservation> {
    const captured = await source.capture((location) => this.newest(source.client, location));
    const states: ObservedState[] = [];
    for (const c of captured) states.push(await this.record(c));
    return {
      recorded: states.some((s) => s.recorded),
      states,
      losses: states.flatMap((s) => s.losses),
      findings: states.flatMap((s) => s.findings),
    };
  }

  /** Journals one captured state when it differs from the newest one, and classifies the change. */
  async record(state: CapturedState): Promise<ObservedState> {
    const base = { client: state.client, storeKind: state.storeKind, location: state.location };
    const previous = await this.newest(state.client, state.location);
    if (previous && contentHash(previous.raw) === contentHash(state.raw)) {
      return { ...base, recorded: false, previous: infoOf(previous), classification: { verdict: 'no-loss', losses: [], added: [], changed: [] }, losses: [], findings: [] };
    }
    const { writer, logoutOf } = await guessWriter(state.client, this.options.writer);
    const classification = await this.classify(previous, state, { logoutOf });
    const snapshot = await this.snapshots.save({ ...state, reason: JOURNAL_REASON, writer });
    await this.pruneByAge(state.client, state.location);
    const findings = classification.losses.map((l) =>
      lossFinding(l, { client: state.client, location: state.location, at: new Date(snapshot.createdAt), writer, stateId: snapshot.id, ...(previous ? { previousStateId: previous.id } : {}) }),
    );
    return { ...base, recorded: true, snapshot, ...(previous ? { previous: infoOf(previous) } : {}), classification, losses: classification.losses, findings };
  }

  /** The journal's newest state of one store location. */
  async newest(client: ClientId, location: string): Promise<Snapshot | undefined> {
    return this.snapshots.newest(client, location);
  }

  /** The journal's states of one store, newest first (no raw content). */
  async states(client: ClientId, location: string): Promise<SnapshotInfo[]> {
    return (await this.snapshots.list({ client, location })).snapshots.filter((s) => s.location === location);
  }

  /** Removes states older than maxAgeMs (count is bounded on every save); the newest stays. */
  async pruneByAge(client: ClientId, location: string): Promise<number> {
    const listed = await this.snapshots.list({ client, location });
    const cutoff = this.now() - this.maxAgeMs;
    const young = listed.snapshots.filter((s) => Date.parse(s.createdAt) >= cutoff).length;
    return this.snapshots.prune(client, location, Math.max(young, 1));
  }

  /**
   * The change from `previous` to `next` (two states of one store), our own removals in between
   * not counted: what `record` does for a new state, and what restoreLost.ts recomputes over the
   * journal's past states (`next.createdAt` bounds "in between" there).
   */
  async classify(
    previous: Snapshot | undefined,
    next: Pick<Snapshot, 'client' | 'storeKind' | 'raw'> & { createdAt?: string },
    options: { logoutOf?: readonly string[] } = {},
  ): Promise<ChangeClassification> {
    const intendedRemovals = previous ? await this.ourRemovalsBetween(previous, next.createdAt) : [];
    return classifyChange(
      previous ? parseStoreContent(previous.client, previous.storeKind, previous.raw) : undefined,
      parseStoreContent(next.client, next.storeKind, next.raw),
      { intendedRemovals, logoutOf: options.logoutOf ?? [] },
    );
  }

  /**
   * Entries (and Claude account grants) our own writes removed after `previous` (and, when
   * given, not after `until`): their before-write snapshots say what the store was meant to hold
   * after (`expectedAfter`).
   */
  private async ourRemovalsBetween(previous: Snapshot, until?: string): Promise<string[]> {
    const own = this.options.ownSnapshots;
    if (!own) return [];
    const listed = await own.list({ client: previous.client, location: previous.location }).catch(() => undefined);
    const out = new Set<string>();
    for (const s of listed?.snapshots ?? []) {
      if (s.location !== previous.location || !OUR_WRITES.has(s.reason) || !s.expectedAfter || s.createdAt < previous.createdAt) continue;
      if (until !== undefined && s.createdAt > until) continue;
      const kept = new Set(s.expectedAfter.entryKeys);
      for (const e of s.entries) if (!kept.has(e.key)) out.add(e.key);
      const keptTop = new Set(s.expectedAfter.topLevelKeys);
      // Claude Code: a top-level key we meant to drop (only ever an account grant by a reset).
      if (s.client === 'claude-code') for (const k of s.topLevelKeys) if (!keptTop.has(k)) out.add(k);
    }
    return [...out];
  }
}

/** The journal for an environment: its folder, and our own snapshots to tell our writes apart. */
export function journalFor(e: Environment, options: Omit<JournalOptions, 'ownSnapshots'> & { ownSnapshots?: SnapshotStore; dir?: string } = {}): Journal {
  return new Journal(options.dir ?? journalDir(e), { ...options, ownSnapshots: options.ownSnapshots ?? snapshotStoreFor(e) });
}

/** Whether the journal runs: off when `$MCP_AUTH_DOCTOR_JOURNAL` is `off`, `0` or `false` (the editor has its own setting). */
export function journalEnabled(e: Environment): boolean {
  const v = e.env.MCP_AUTH_DOCTOR_JOURNAL?.trim().toLowerCase();
  return !(v === 'off' || v === '0' || v === 'false' || v === 'no');
}

/**
 * The journal the CLI and `guard` use: bounds from `$MCP_AUTH_DOCTOR_JOURNAL_MAX_STATES` and
 * `$MCP_AUTH_DOCTOR_JOURNAL_MAX_AGE_DAYS` (a value that is not a positive number is ignored, so
 * a typo never prunes the journal to nothing), else the defaults; `overrides` win over both.
 */
export function journalFromEnvironment(e: Environment, overrides: Parameters<typeof journalFor>[1] = {}): Journal {
  const states = positiveNumber(e.env.MCP_AUTH_DOCTOR_JOURNAL_MAX_STATES);
  const days = positiveNumber(e.env.MCP_AUTH_DOCTOR_JOURNAL_MAX_AGE_DAYS);
  return journalFor(e, {
    ...(states !== undefined ? { maxStates: states } : {}),
    ...(days !== undefined ? { maxAgeMs: days * DAY_MS } : {}),
    ...overrides,
  });
}

function positiveNumber(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * A hash of the content as data: JSON with keys sorted (a client reformatting the same data is no
 * new state), else the raw bytes; `absent` for no store.
 */
export function contentHash(raw: string | null): string {
  if (raw === null) return 'absent';
  let text = raw;
  try {
    text = JSON.stringify(canonical(JSON.parse(raw)));
  } catch {
    // Not JSON: the bytes themselves.
  }
  return createHash('sha256').update(text).digest('hex');
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

function infoOf(s: Snapshot): SnapshotInfo {
  const info: SnapshotInfo & { raw?: string | null } = { ...s };
  delete info.raw;
  return info;
}

export type { WriterInfo };
