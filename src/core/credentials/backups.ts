// Snapshots of whole credential stores, taken before every write we make and on request, so a
// bad write (ours or a client's) can be seen and undone (seed 001: a user hand-rolled exactly this
// after anthropics/claude-code#45551). Snapshots hold live secrets: a private directory, 0600 files,
// outside any workspace; surfaces only ever show fingerprints.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import type { Environment } from '../environment';
import type { ClientId } from '../model';
import { CLIENT_IDS } from '../clients/ids';
import { atomicWriteFile, sweepOrphanTempFilesIn } from './atomicWrite';
import type { StoreKind } from './store';

export const DEFAULT_SNAPSHOT_KEEP = 20;

/** What a snapshot shows about one entry: fingerprints, never a token. */
export interface EntryFingerprints {
  key: string;
  serverName?: string;
  serverUrl?: string;
  accessToken?: string;
  refreshToken?: string;
  expiresAt?: number;
}

/** The key sets of a store's content, for "what did this write remove" comparisons. */
export interface StoreShape {
  /** Top-level keys of the blob (Claude Code: `claudeAiOauth`, `mcpOAuth`, ...). */
  topLevelKeys: string[];
  entryKeys: string[];
}

export interface SnapshotInfo {
  /** Sortable: `<UTC time>-<client>-<location hash>-<random>`; newer ids sort later. */
  id: string;
  createdAt: string;
  client: ClientId;
  storeKind: StoreKind;
  /** The store's `location` when the snapshot was taken (a path or a Keychain item). */
  location: string;
  /** Why it was taken: `manual`, `before-write`, `before-delete`, `before-restore`. */
  reason: string;
  entries: EntryFingerprints[];
  topLevelKeys: string[];
  /**
   * What the store was meant to hold right after the write this snapshot preceded (absent for
   * manual snapshots): lets a later reader tell our intended removals from losses.
   */
  expectedAfter?: StoreShape;
  /**
   * Who we think wrote this state (journal snapshots, reason `observed`): a running client's pid
   * and version when exactly one ran, else why it is unknown. Absent in older snapshots.
   */
  writer?: SnapshotWriter;
}

export interface SnapshotWriter {
  pid?: number;
  version?: string;
  command?: string;
  unknownBecause?: string;
}

export interface Snapshot extends SnapshotInfo {
  /** The whole store content (secrets included), exactly as read; null when there was none. */
  raw: string | null;
}

export type NewSnapshot = Omit<Snapshot, 'id' | 'createdAt'>;

const FingerprintsSchema = z.object({
  key: z.string(),
  serverName: z.string().optional(),
  serverUrl: z.string().optional(),
  accessToken: z.string().optional(),
  refreshToken: z.string().optional(),
  expiresAt: z.number().optional(),
});
const ShapeSchema = z.object({ topLevelKeys: z.array(z.string()), entryKeys: z.array(z.string()) });
const SnapshotSchema = z.object({
  format: z.literal(1),
  id: z.string(),
  createdAt: z.string(),
  client: z.enum(CLIENT_IDS),
  storeKind: z.enum(['file', 'keychain', 'keyring']),
  location: z.string(),
  reason: z.string(),
  entries: z.array(FingerprintsSchema),
  topLevelKeys: z.array(z.string()),
  expectedAfter: ShapeSchema.optional(),
  writer: z
    .object({ pid: z.number().int().optional(), version: z.string().optional(), command: z.string().optional(), unknownBecause: z.string().optional() })
    .optional(),
  raw: z.string().nullable(),
});

/** `$MCP_AUTH_DOCTOR_BACKUP_DIR`, else `~/.mcp-auth-doctor/backups`: per user, outside workspaces. */
export function defaultBackupDir(e: Environment): string {
  const configured = e.env.MCP_AUTH_DOCTOR_BACKUP_DIR;
  return configured ? path.resolve(configured) : path.join(e.home, '.mcp-auth-doctor', 'backups');
}

export interface SnapshotListing {
  snapshots: SnapshotInfo[];
  /** Files in the folder that are not readable snapshots (named, never deleted by us). */
  unreadable: { file: string; reason: string }[];
}

export class SnapshotStore {
  constructor(
    readonly dir: string,
    readonly keep: number = DEFAULT_SNAPSHOT_KEEP,
    private readonly now: () => number = Date.now,
  ) {}

  /** Writes a snapshot (0600, in a 0700 folder), then prunes that store's older ones. */
  async save(snapshot: NewSnapshot): Promise<SnapshotInfo> {
    await this.ensureDir();
    const created = new Date(this.now());
    const id = `${compactTime(created)}-${snapshot.client}-${locationTag(snapshot.location)}-${randomBytes(3).toString('hex')}`;
    const full: Snapshot = { ...snapshot, id, createdAt: created.toISOString() };
    await atomicWriteFile(this.fileOf(id), JSON.stringify({ format: 1, ...full }, null, 2) + '\n', { mode: 0o600 });
    await this.prune(snapshot.client, snapshot.location);
    return infoOf(full);
  }

  /** Every readable snapshot, newest first. */
  async list(filter: { client?: ClientId; location?: string } = {}): Promise<SnapshotListing> {
    const listing: SnapshotListing = { snapshots: [], unreadable: [] };
    for (const id of await this.ids(filter.client, filter.location)) {
      const read = await this.readFile(id);
      if (read.ok) listing.snapshots.push(infoOf(read.snapshot));
      else listing.unreadable.push({ file: this.fileOf(id), reason: read.problem });
    }
    return listing;
  }

  /** The full snapshot (with the raw secret-bearing content), or undefined when there is none. */
  async read(id: string): Promise<Snapshot | undefined> {
    if (!/^[A-Za-z0-9-]+$/.test(id)) return undefined;
    const read = await this.readFile(id);
    return read.ok ? read.snapshot : undefined;
  }

  /** The newest readable snapshot of one store. */
  async newest(client: ClientId, location: string): Promise<Snapshot | undefined> {
    for (const id of await this.ids(client, location)) {
      const snap = await this.read(id);
      if (snap && snap.location === location) return snap;
    }
    return undefined;
  }

  /** Keeps the newest `keep` snapshots of one store; returns how many were removed. */
  async prune(client: ClientId, location: string, keep = this.keep): Promise<number> {
    const ids = await this.ids(client, location);
    let removed = 0;
    for (const id of ids.slice(Math.max(keep, 1))) {
      // A concurrent pruner may have removed it already.
      await fs.unlink(this.fileOf(id)).then(
        () => removed++,
        () => undefined,
      );
    }
    return removed;
  }

  private fileOf(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  /** Snapshot ids, newest first; filtered by the client and location tag encoded in the name. */
  private async ids(client?: ClientId, location?: string): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const tag = location === undefined ? undefined : locationTag(location);
    return names
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .map((n) => n.slice(0, -'.json'.length))
      .filter((id) => {
        const parts = parseId(id);
        if (!parts) return false;
        return (client === undefined || parts.client === client) && (tag === undefined || parts.tag === tag);
      })
      .sort()
      .reverse();
  }

  private async readFile(id: string): Promise<{ ok: true; snapshot: Snapshot } | { ok: false; problem: string }> {
    let text: string;
    try {
      text = await fs.readFile(this.fileOf(id), 'utf8');
    } catch (err) {
      return { ok: false, problem: (err as NodeJS.ErrnoException).code ?? String(err) };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, problem: 'not valid JSON' };
    }
    const parsed = SnapshotSchema.safeParse(json);
    if (!parsed.success) return { ok: false, problem: 'not a snapshot of this format' };
    const snapshot: Snapshot & { format?: number } = { ...parsed.data };
    delete snapshot.format;
    return { ok: true, snapshot };
  }

  private async ensureDir(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Our own folder: tighten it even if someone created it with a looser umask.
    await fs.chmod(this.dir, 0o700);
    // Each snapshot file is written once, so a killed writer's temp file would never be swept
    // by a later write to the same name: sweep the folder instead.
    await sweepOrphanTempFilesIn(this.dir);
  }
}

export function snapshotStoreFor(e: Environment, options: { dir?: string; keep?: number } = {}): SnapshotStore {
  return new SnapshotStore(options.dir ?? defaultBackupDir(e), options.keep ?? snapshotKeep(e));
}

/** `$MCP_AUTH_DOCTOR_BACKUP_KEEP` (1–1000; the editor sets it from mcpAuthDoctor.backups.keep), else 20. */
export function snapshotKeep(e: Environment): number {
  const n = Number(e.env.MCP_AUTH_DOCTOR_BACKUP_KEEP);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1000) : DEFAULT_SNAPSHOT_KEEP;
}

function infoOf(s: Snapshot): SnapshotInfo {
  const info: SnapshotInfo & { raw?: string | null } = { ...s };
  delete info.raw;
  return info;
}

/** `20261122T181600123Z`: fixed width, so string order is time order. */
function compactTime(d: Date): string {
  return d.toISOString().replace(/[-:.]/g, '');
}

/** 8 hex chars naming the store location, so prune and lookups need no file reads. */
function locationTag(location: string): string {
  return createHash('sha256').update(location).digest('hex').slice(0, 8);
}

function parseId(id: string): { client: string; tag: string } | undefined {
  // Client ids are lowercase words joined by `-`, so the tag is the last 8-hex part before the counter.
  const m = /^\d{8}T\d{9}Z-([a-z][a-z0-9-]*)-([0-9a-f]{8})-[0-9a-f]+$/.exec(id);
  return m && (CLIENT_IDS as readonly string[]).includes(m[1]!) ? { client: m[1]!, tag: m[2]! } : undefined;
}

/** What changes, entry by entry, when the store goes from `current` to `target`. */
export interface EntryChange {
  key: string;
  change: 'added' | 'removed' | 'changed' | 'unchanged';
  before?: EntryFingerprints;
  after?: EntryFingerprints;
}

export function diffEntries(current: EntryFingerprints[], target: EntryFingerprints[]): EntryChange[] {
  const before = new Map(current.map((e) => [e.key, e]));
  const after = new Map(target.map((e) => [e.key, e]));
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  return keys.map((key) => {
    const b = before.get(key);
    const a = after.get(key);
    const change = !b ? 'added' : !a ? 'removed' : sameFingerprints(a, b) ? 'unchanged' : 'changed';
    return { key, change, ...(b ? { before: b } : {}), ...(a ? { after: a } : {}) };
  });
}

function sameFingerprints(a: EntryFingerprints, b: EntryFingerprints): boolean {
  return (
    a.serverName === b.serverName &&
    a.serverUrl === b.serverUrl &&
    a.accessToken === b.accessToken &&
    a.refreshToken === b.refreshToken &&
    a.expiresAt === b.expiresAt
  );
}
