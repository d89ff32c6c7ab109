// The history of one server's credential entry across every snapshot we keep of its client's
// stores (whatever their reason: before-write, manual backup, journal observation), in time
// order, and two things only a history can show: a refresh-token rotation that was never
// persisted, and client registrations piling up (seed 004: Claude Code re-running DCR on every
// authenticate, "5 new client registrations for linear in 48 h"). Fingerprints only: nothing
// here ever holds a token past the parse of one snapshot.
import { clientDefinition } from '../clients/registry';
import type { ClientId } from '../model';
import { isoTime } from '../time';
import { fingerprint } from '../storageKey';
import { isPlainObject } from '../credentials/storeFile';
import { parseClaudeBlob, summaryOf as claudeSummaryOf } from '../credentials/claudeCodeBlob';
import { StoredTokensSchema, viewOfStored, type GrantView } from '../credentials/codexFormat';
import { codexFileView, parseFallbackFile } from '../credentials/codexStore';
import type { Snapshot, SnapshotStore } from '../credentials/backups';
import type { StoreKind } from '../credentials/store';

/** Default window and count for "registrations piling up" (seed 004: 5 in 48 h). */
export const REGISTRATION_WINDOW_MS = 48 * 3600 * 1000;
/**
 * Distinct client ids first seen within one window that count as a pile: one registration is a
 * login, a second can follow a legitimate reset of the server's client store (an AS that forgot
 * its DCR clients, `invalid_client`); a third within two days is a client re-registering.
 */
export const REGISTRATION_THRESHOLD = 3;

/** What one snapshot says about the entry. */
export interface EntryState {
  snapshotId: string;
  /** When the snapshot was taken (ISO 8601): the state was there then, written at or before it. */
  at: string;
  /** Why the snapshot was taken (`before-write`, `manual`, a journal's `observed`, ...). */
  reason: string;
  /**
   * `present`: the entry is in the snapshot; `absent`: the snapshot holds the whole store and the
   * entry is not in it; `unreadable`: the store (or the entry) could not be parsed, so nothing is
   * concluded from it.
   */
  entry: 'present' | 'absent' | 'unreadable';
  serverName?: string;
  serverUrl?: string;
  clientId?: string;
  accessToken?: string;
  refreshToken?: string;
  /** Epoch ms, as the store keeps it. */
  expiresAt?: number;
  scopes: string[];
  /** Set when this state was seen in more than one consecutive snapshot: the last of them. */
  lastSeenAt?: string;
  /** How many consecutive snapshots showed this same state. */
  seen: number;
}

export type ChangeKind =
  /** The entry appeared (a first login, or a stub written by a listing). */
  | 'added'
  /** The entry is gone from a snapshot of the whole store. */
  | 'removed'
  /** The entry stayed but its access token is now empty. */
  | 'access-token-blanked'
  /** The refresh token is gone (the entry stayed). */
  | 'refresh-token-dropped'
  /** The access token was replaced by another (a refresh or a login). */
  | 'access-token-renewed'
  /** The refresh token was replaced by another under the same client id. */
  | 'refresh-token-rotated'
  /** The access token changed but the refresh token stayed the same. */
  | 'refresh-token-kept'
  /** The refresh token went back to one this entry had already replaced. */
  | 'refresh-token-reverted'
  /** A different client id: a new registration (DCR) or a configured client changed. */
  | 'client-replaced'
  | 'scope-changed'
  | 'expiry-changed';

export interface Transition {
  /** Indices into the timeline's `states`. */
  from: number;
  to: number;
  at: string;
  changes: ChangeKind[];
}

/** One store's sequence of states of the entry (a Codex grant can have a file and a keyring copy). */
export interface Timeline {
  client: ClientId;
  storeKind: StoreKind;
  location: string;
  states: EntryState[];
  transitions: Transition[];
  /**
   * Keyring snapshots of Codex taken before one write hold only that item: an entry missing from
   * them says nothing, so `absent` never appears in such a timeline.
   */
  partialSnapshots: boolean;
}

export interface Diagnosis {
  kind: 'rotation-not-persisted' | 'registrations-piling-up';
  severity: 'warning';
  title: string;
  detail: string;
  /** What the conclusion rests on, one fact a line (fingerprints and times only). */
  basis: string[];
  /** The snapshots that show it. */
  snapshotIds: string[];
}

export interface ServerHistory {
  client: ClientId;
  key: string;
  serverName?: string;
  timelines: Timeline[];
  diagnoses: Diagnosis[];
  /** Distinct client ids seen for this entry, oldest first, with when each was first seen. */
  registrations: { clientId: string; firstSeenAt: string; location: string }[];
  /** Snapshots of this client that could not be read (listed, never deleted). */
  unreadableSnapshots: string[];
}

export interface HistoryOptions {
  registrationWindowMs?: number;
  registrationThreshold?: number;
  /**
   * Facts from outside the snapshots that the server rotates refresh tokens, e.g. a later refresh
   * with the kept token answered `invalid_grant`. Each is quoted as it is in the basis.
   */
  rotationEvidence?: { at: string; fact: string }[];
}

/** The history of entry `key` of `client`, from every snapshot of that client's stores. */
export async function serverHistory(
  stores: SnapshotStore | SnapshotStore[],
  target: { client: ClientId; key: string; serverName?: string },
  options: HistoryOptions = {},
): Promise<ServerHistory> {
  const full: Snapshot[] = [];
  const unreadable: string[] = [];
  // Our before-write snapshots and the journal live in separate folders (journal.ts): one history over both.
  for (const snapshots of Array.isArray(stores) ? stores : [stores]) {
    const listing = await snapshots.list({ client: target.client }).catch(() => ({ snapshots: [], unreadable: [] }));
    unreadable.push(...listing.unreadable.map((u) => u.file));
    for (const info of listing.snapshots) {
      const snap = await snapshots.read(info.id);
      if (snap) full.push(snap);
      else unreadable.push(info.id);
    }
  }
  return historyOf(full, target, options, unreadable);
}

/** The timeline lines of a history, as the CLI and the editor's History… show them (fingerprints only). */
export function timelineLines(h: ServerHistory): string[] {
  const lines: string[] = [];
  for (const t of h.timelines) {
    lines.push(`  ${t.location} (${t.storeKind}${t.partialSnapshots ? '; snapshots of single items: a missing entry is not a removal' : ''})`);
    t.states.forEach((s, i) => {
      const change = t.transitions.find((x) => x.to === i);
      if (change) lines.push(`      ↓ ${change.changes.join(', ')}`);
      const seen = s.seen > 1 ? ` (seen ${s.seen}× until ${s.lastSeenAt})` : '';
      lines.push(`    ${s.at}  ${s.reason.padEnd(13)} ${describeState(s)}${seen}`);
    });
  }
  return lines;
}

/** The same over snapshots already read (any order). */
export function historyOf(
  snapshots: Snapshot[],
  target: { client: ClientId; key: string; serverName?: string },
  options: HistoryOptions = {},
  unreadableSnapshots: string[] = [],
): ServerHistory {
  const byLocation = new Map<string, Snapshot[]>();
  for (const s of snapshots) {
    if (s.client !== target.client) continue;
    const where = `${s.storeKind}\u0000${s.location}`;
    byLocation.set(where, [...(byLocation.get(where) ?? []), s]);
  }
  const timelines: Timeline[] = [];
  for (const group of byLocation.values()) {
    // Ids sort by creation time (backups.ts compactTime); createdAt breaks no ties the id does not.
    group.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const t = timelineOf(group, target.key);
    if (t.states.some((s) => s.entry === 'present')) timelines.push(t);
  }
  timelines.sort((a, b) => (a.states[0]!.at < b.states[0]!.at ? -1 : 1));
  const registrations = registrationsOf(timelines);
  const serverName = target.serverName ?? timelines.flatMap((t) => t.states).find((s) => s.serverName)?.serverName;
  const diagnoses = [
    ...timelines.flatMap((t) => rotationDiagnoses(t, options.rotationEvidence ?? [])),
    ...registrationDiagnoses(registrations, serverName ?? target.key, options),
  ];
  return {
    client: target.client,
    key: target.key,
    ...(serverName ? { serverName } : {}),
    timelines,
    diagnoses,
    registrations,
    unreadableSnapshots,
  };
}

// ── reading one snapshot ─────────────────────────────────────────────────────────────────────

type Read = Omit<EntryState, 'snapshotId' | 'at' | 'reason' | 'seen' | 'lastSeenAt'>;

const UNREADABLE: Read = { entry: 'unreadable', scopes: [] };
const ABSENT: Read = { entry: 'absent', scopes: [] };

/** The entry as one snapshot holds it; `undefined` from a partial snapshot that does not hold it. */
export function entryInSnapshot(s: Snapshot, key: string): Read | undefined {
  if (s.raw === null) return s.client === 'codex' && s.storeKind === 'keyring' ? undefined : ABSENT;
  // Clients journaled through their definition read their own formats (clients/<id>/).
  const own = s.client === 'claude-code' || s.client === 'codex' ? undefined : clientDefinition(s.client).journal;
  if (own) {
    const all = own.summaries(s.raw);
    if (!all) return UNREADABLE;
    const sum = all.find((x) => x.key === key);
    if (!sum) return ABSENT;
    return clean({
      entry: 'present' as const,
      serverName: sum.serverName,
      serverUrl: sum.serverUrl,
      clientId: sum.clientId,
      accessToken: sum.accessTokenFingerprint,
      refreshToken: sum.refreshTokenFingerprint,
      expiresAt: sum.expiresAt,
      scopes: [...sum.scopes].sort(),
    });
  }
  if (s.client === 'claude-code') {
    // The blob as Claude Code writes it to its file or Keychain item (claudeCodeBlob.ts; 2.1.197 and 2.1.332).
    const parsed = parseClaudeBlob(s.raw, { kind: s.storeKind, location: s.location });
    if (!parsed.ok) return UNREADABLE;
    const e = parsed.blob.entries.find((x) => x.key === key);
    if (!e) return ABSENT;
    if (!e.entry) return UNREADABLE;
    const sum = claudeSummaryOf(key, e.entry);
    return clean({
      entry: 'present' as const,
      serverName: sum.serverName,
      serverUrl: sum.serverUrl,
      clientId: sum.clientId || undefined,
      accessToken: sum.accessTokenFingerprint,
      refreshToken: sum.refreshTokenFingerprint,
      // Claude Code writes expiresAt 0 for a stub (tokenStatus.ts).
      expiresAt: sum.expiresAt || undefined,
      scopes: [...sum.scopes].sort(),
    });
  }
  if (s.storeKind === 'file') {
    // Codex's file, read as Codex reads it: each grant under our key, wherever it is stored (codexStore.ts codexFileView).
    const file = parseFallbackFile(s.raw, s.location);
    if (file.state !== 'present') return file.state === 'absent' ? ABSENT : UNREADABLE;
    const view = codexFileView(file).file;
    const entry = view.state === 'present' ? view.entries.get(key) : undefined;
    return entry ? fromGrant(entry.view) : ABSENT;
  }
  // Codex keyring (or 0.171 secrets-file) snapshot: `{ key: itemText }`, possibly of one item only.
  let items: unknown;
  try {
    items = JSON.parse(s.raw);
  } catch {
    return UNREADABLE;
  }
  if (!isPlainObject(items)) return UNREADABLE;
  const text = items[key];
  if (text === undefined) return undefined;
  if (typeof text !== 'string') return UNREADABLE;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return UNREADABLE;
  }
  const r = StoredTokensSchema.safeParse(json);
  return r.success ? fromGrant(viewOfStored(r.data)) : UNREADABLE;
}

function fromGrant(v: GrantView): Read {
  return clean({
    entry: 'present' as const,
    serverName: v.serverName,
    serverUrl: v.serverUrl,
    clientId: v.clientId.trim() || undefined,
    accessToken: v.accessToken ? fingerprint(v.accessToken) : undefined,
    refreshToken: v.refreshToken ? fingerprint(v.refreshToken) : undefined,
    expiresAt: v.expiresAt,
    scopes: [...v.scopes].sort(),
  });
}

function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function sameState(a: Read, b: Read): boolean {
  return (
    a.entry === b.entry &&
    a.serverName === b.serverName &&
    a.serverUrl === b.serverUrl &&
    a.clientId === b.clientId &&
    a.accessToken === b.accessToken &&
    a.refreshToken === b.refreshToken &&
    a.expiresAt === b.expiresAt &&
    a.scopes.join(' ') === b.scopes.join(' ')
  );
}

// ── one store's timeline ─────────────────────────────────────────────────────────────────────

function timelineOf(group: Snapshot[], key: string): Timeline {
  const first = group[0]!;
  const partial = first.client === 'codex' && first.storeKind === 'keyring';
  const states: EntryState[] = [];
  for (const s of group) {
    const read = entryInSnapshot(s, key);
    if (!read) continue;
    const last = states[states.length - 1];
    if (last && sameState(last, read)) {
      last.seen++;
      last.lastSeenAt = s.createdAt;
      continue;
    }
    // Nothing before the first appearance is history of this entry.
    if (!last && read.entry !== 'present') continue;
    states.push({ snapshotId: s.id, at: s.createdAt, reason: s.reason, ...read, seen: 1 });
  }
  return { client: first.client, storeKind: first.storeKind, location: first.location, states, transitions: transitionsOf(states), partialSnapshots: partial };
}

/**
 * Changes between consecutive states. An unreadable state is stepped over: the change is taken
 * between the readable states either side of it, so a store broken for a while and repaired
 * does not look like a removal and a new login.
 */
function transitionsOf(states: EntryState[]): Transition[] {
  const out: Transition[] = [];
  const replacedRefresh = new Set<string>();
  let prev = -1;
  for (let i = 0; i < states.length; i++) {
    const b = states[i]!;
    if (b.entry === 'unreadable') continue;
    if (prev < 0) {
      prev = i;
      continue;
    }
    const a = states[prev]!;
    const changes: ChangeKind[] = [];
    if (a.entry !== 'present' && b.entry === 'present') {
      changes.push('added');
      // An entry that comes back with another client id is also a new registration.
      const lastClient = [...states.slice(0, prev)].reverse().find((s) => s.clientId)?.clientId;
      if (lastClient && b.clientId && b.clientId !== lastClient) changes.push('client-replaced');
    } else if (a.entry === 'present' && b.entry !== 'present') {
      changes.push('removed');
    } else if (a.entry === 'present' && b.entry === 'present') {
      if (a.clientId && b.clientId && a.clientId !== b.clientId) changes.push('client-replaced');
      if (a.accessToken && !b.accessToken) changes.push('access-token-blanked');
      if (a.refreshToken && !b.refreshToken) changes.push('refresh-token-dropped');
      const renewed = a.accessToken !== undefined && b.accessToken !== undefined && a.accessToken !== b.accessToken;
      if (renewed || (!a.accessToken && b.accessToken)) changes.push('access-token-renewed');
      const oneClient = a.clientId === b.clientId;
      if (a.refreshToken && b.refreshToken && a.refreshToken !== b.refreshToken) {
        changes.push(oneClient && replacedRefresh.has(b.refreshToken) ? 'refresh-token-reverted' : 'refresh-token-rotated');
        if (oneClient) replacedRefresh.add(a.refreshToken);
      } else if (renewed && a.refreshToken && a.refreshToken === b.refreshToken) changes.push('refresh-token-kept');
      if (a.scopes.join(' ') !== b.scopes.join(' ')) changes.push('scope-changed');
      if (a.expiresAt !== b.expiresAt && !renewed) changes.push('expiry-changed');
    }
    if (!sameClient(a, b)) replacedRefresh.clear();
    if (changes.length > 0) out.push({ from: prev, to: i, at: b.at, changes });
    prev = i;
  }
  return out;
}

function sameClient(a: EntryState, b: EntryState): boolean {
  return !a.clientId || !b.clientId || a.clientId === b.clientId;
}

// ── diagnoses ────────────────────────────────────────────────────────────────────────────────

/**
 * (a) A refresh-token rotation that was never persisted. Flagged, per timeline, when:
 *   1. a transition renewed the access token under the same client id while the stored refresh
 *      token stayed the same (`refresh-token-kept`): a refresh happened (or a login by a client
 *      that kept its old refresh token), and nothing new was stored for the refresh token; AND
 *   2. the server is known to rotate refresh tokens, from either
 *      - another transition of this same entry, under the same client id, that replaced the
 *        refresh token together with the access token (`refresh-token-rotated`): that server
 *        answered a refresh with a new refresh token. (A new login under the same registration
 *        does that too; both clients register again on a new login — seed 004 for Claude Code,
 *        and Codex stores the client id of each login — so a same-client replacement is taken as
 *        a refresh. The basis says which transition it was.) Or
 *      - a fact from outside the snapshots (`rotationEvidence`, e.g. a later `invalid_grant`).
 *   Without 2 a kept refresh token is normal (a server that does not rotate), and nothing is said.
 * And, on its own: a refresh token that comes back after this entry had replaced it under the
 * same client (`refresh-token-reverted`): the rotated one was overwritten by a writer holding the
 * old state (failure-modes.md; anthropics/claude-code#93537), and a rotating server has spent it.
 */
function rotationDiagnoses(t: Timeline, external: { at: string; fact: string }[]): Diagnosis[] {
  const out: Diagnosis[] = [];
  const rotations = t.transitions.filter((x) => x.changes.includes('refresh-token-rotated') && x.changes.includes('access-token-renewed') && !x.changes.includes('client-replaced'));
  for (const kept of t.transitions.filter((x) => x.changes.includes('refresh-token-kept'))) {
    const a = t.states[kept.from]!;
    const b = t.states[kept.to]!;
    const evidence = rotations.filter((r) => t.states[r.to]!.clientId === b.clientId);
    if (evidence.length === 0 && external.length === 0) continue;
    const basis = [
      `${kept.at}: the access token changed (${a.accessToken} → ${b.accessToken}) under client ${b.clientId ?? '(none)'}, but the refresh token stayed ${b.refreshToken}`,
      ...evidence.map((r) => `${r.at}: the server replaced the refresh token with the access token under the same client (${t.states[r.from]!.refreshToken} → ${t.states[r.to]!.refreshToken}), so it rotates refresh tokens`),
      ...external.map((x) => `${x.at}: ${x.fact}`),
    ];
    out.push({
      kind: 'rotation-not-persisted',
      severity: 'warning',
      title: `A refresh-token rotation was not persisted (${t.location})`,
      detail:
        `At ${kept.at} the stored access token was renewed but the refresh token stayed ${b.refreshToken}. This server rotates refresh tokens, so the refresh ` +
        `that produced the new access token also issued a new refresh token, which was not stored: the stored one is spent, the next refresh will fail ` +
        `(invalid_grant; a reuse may revoke the whole grant) and the client will need a new login (seed 004). A login now repairs it.`,
      basis,
      snapshotIds: [a.snapshotId, b.snapshotId, ...evidence.map((r) => t.states[r.to]!.snapshotId)],
    });
  }
  for (const back of t.transitions.filter((x) => x.changes.includes('refresh-token-reverted'))) {
    const a = t.states[back.from]!;
    const b = t.states[back.to]!;
    const earlier = t.states.findIndex((s) => s.refreshToken === b.refreshToken);
    out.push({
      kind: 'rotation-not-persisted',
      severity: 'warning',
      title: `A rotated refresh token was overwritten with an older one (${t.location})`,
      detail:
        `At ${back.at} the refresh token went back from ${a.refreshToken} to ${b.refreshToken}, which this entry had already replaced: a writer holding the old ` +
        `state put it back and the rotation was lost. A server that rotates has spent the older token; restore the newer one from snapshot ${a.snapshotId} or log in again.`,
      basis: [
        `${t.states[earlier]!.at}: refresh token ${b.refreshToken} stored`,
        `${a.at}: replaced by ${a.refreshToken} under the same client`,
        `${back.at}: ${b.refreshToken} stored again`,
      ],
      snapshotIds: [t.states[earlier]!.snapshotId, a.snapshotId, b.snapshotId],
    });
  }
  return out;
}

function registrationsOf(timelines: Timeline[]): ServerHistory['registrations'] {
  const first = new Map<string, { at: string; location: string }>();
  for (const t of timelines) {
    for (const s of t.states) {
      if (!s.clientId) continue;
      const seen = first.get(s.clientId);
      if (!seen || s.at < seen.at) first.set(s.clientId, { at: s.at, location: t.location });
    }
  }
  return [...first.entries()].map(([clientId, v]) => ({ clientId, firstSeenAt: v.at, location: v.location })).sort((a, b) => (a.firstSeenAt < b.firstSeenAt ? -1 : 1));
}

/**
 * (b) Client registrations piling up: at least `threshold` distinct client ids first seen within
 * one `window` (default 3 in 48 h). A lower bound: a registration replaced before any snapshot
 * saw it is not counted. The densest window is reported.
 */
function registrationDiagnoses(regs: ServerHistory['registrations'], name: string, options: HistoryOptions): Diagnosis[] {
  const windowMs = options.registrationWindowMs ?? REGISTRATION_WINDOW_MS;
  const threshold = options.registrationThreshold ?? REGISTRATION_THRESHOLD;
  let best: typeof regs = [];
  for (let i = 0; i < regs.length; i++) {
    const start = Date.parse(regs[i]!.firstSeenAt);
    const run = regs.slice(i).filter((r) => Date.parse(r.firstSeenAt) - start <= windowMs);
    if (run.length > best.length) best = run;
  }
  if (best.length < threshold) return [];
  const span = Date.parse(best[best.length - 1]!.firstSeenAt) - Date.parse(best[0]!.firstSeenAt);
  return [
    {
      kind: 'registrations-piling-up',
      severity: 'warning',
      title: `${best.length} new client registrations for ${name} in ${describeSpan(span)}`,
      detail:
        `The stored client id changed ${best.length - 1} time(s) between ${best[0]!.firstSeenAt} and ${best[best.length - 1]!.firstSeenAt}: each is a new ` +
        `registration (DCR) that orphans the previous client and every refresh token bound to it (seed 004). A client that re-registers on every login ` +
        `combined with refresh-token rotation becomes a re-login loop. At least this many: a registration replaced between two snapshots is not seen.`,
      basis: best.map((r) => `${r.firstSeenAt}: client ${r.clientId} first seen (${r.location})`),
      snapshotIds: [],
    },
  ];
}

function describeSpan(ms: number): string {
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (ms < 3600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3600_000)} h`;
}

/** One state as a line for people: fingerprints only. */
export function describeState(s: EntryState): string {
  if (s.entry !== 'present') return s.entry === 'absent' ? 'no entry' : 'store or entry unreadable';
  return [
    `client ${s.clientId ?? '-'}`,
    `access ${s.accessToken ?? '-'}`,
    `refresh ${s.refreshToken ?? '-'}`,
    `expires ${s.expiresAt ? isoTime(s.expiresAt) : '-'}`,
    `scope ${s.scopes.length ? s.scopes.join(' ') : '-'}`,
  ].join('  ');
}
