// Restore what was lost, not the whole past (issue 13): the journal's losses recomputed from its
// states, and a restore that puts back only the lost entries (and Claude Code's account grants
// when they were lost) from the state just before the loss, merged into the store as it is now in
// one write under the client's own lock, after a snapshot of the current state (reason
// `before-restore`: restoring that snapshot is Undo, as for every repair). An entry written since
// the loss (the user logged in again) is never overwritten: it is kept and said so. A store that
// is unparsable now cannot be merged into; only the whole state before the loss can replace it,
// and only when the caller confirms (the broken content is snapshotted first, and is in the
// journal already). Afterwards each restored access token is checked with its own server.
import type { Environment } from '../environment';
import { CLIENT_LABELS, type ClientId, type Finding } from '../model';
import { snapshotStoreFor, type Snapshot, type SnapshotInfo } from '../credentials/backups';
import { credentialStoresFor } from '../credentials/index';
import type { CredentialStore, EntrySelection, RestorePlan, StoreKind } from '../credentials/store';
import { MalformedStoreError } from '../credentials/storeFile';
import { checkRestoredEntries, type RestoreCheckOptions, type RestoredEntryCheck } from '../restoreCheck';
import { JOURNAL_REASON, type Journal } from './journal';
import { journalSources, type StateSource } from './sources';
import { CLAUDE_ACCOUNT_GRANTS, describeWriter, holdsToken, lossFinding, parseStoreContent, type GrantState, type Loss, type LostEntry, type WriterInfo } from './losses';

/** One journaled state that lost grants (alarmed losses only), and the state before it that holds them. */
export interface JournaledLoss {
  client: ClientId;
  location: string;
  storeKind: StoreKind;
  /** The journal state that shows the loss. */
  stateId: string;
  /** The journal state before it: where the lost entries are taken from. */
  previousStateId: string;
  /** When the loss state was journaled (ISO). */
  at: string;
  writer?: WriterInfo;
  losses: Loss[];
  /** One per loss (fingerprints only). */
  findings: Finding[];
  /** The first of `findings`: what a one-line notification shows. */
  finding: Finding;
}

/**
 * Every loss in the journal (of one client, or both), newest first: each state compared with its
 * predecessor in the same location, as Journal.record compared them when it was new (our own
 * removals in between are not losses; a `mcp logout` seen as the writer is the user's).
 */
export async function findLosses(journal: Journal, client?: ClientId): Promise<JournaledLoss[]> {
  return scanLosses(journal, client, Infinity);
}

/** The most recent loss in the journal, if any. */
export async function latestLoss(journal: Journal, client?: ClientId): Promise<JournaledLoss | undefined> {
  return (await scanLosses(journal, client, 1))[0];
}

async function scanLosses(journal: Journal, client: ClientId | undefined, limit: number): Promise<JournaledLoss[]> {
  const listed = await journal.snapshots.list(client ? { client } : {});
  const states = listed.snapshots.filter((s) => s.reason === JOURNAL_REASON); // newest first
  const byLocation = new Map<string, SnapshotInfo[]>();
  for (const s of states) {
    const k = `${s.client}\u0000${s.location}`;
    byLocation.set(k, [...(byLocation.get(k) ?? []), s]);
  }
  const raw = new Map<string, Snapshot | undefined>();
  const read = async (id: string) => {
    if (!raw.has(id)) raw.set(id, await journal.snapshots.read(id));
    return raw.get(id);
  };
  // Walk all locations newest first, so `limit` stops at the most recent losses overall.
  const pairs = [...byLocation.values()].flatMap((list) => list.slice(0, -1).map((state, i) => ({ state, previous: list[i + 1]! })));
  pairs.sort((a, b) => (a.state.id < b.state.id ? 1 : a.state.id > b.state.id ? -1 : 0));
  const out: JournaledLoss[] = [];
  for (const { state, previous } of pairs) {
    if (out.length >= limit) break;
    const [s, p] = [await read(state.id), await read(previous.id)];
    if (!s || !p) continue;
    const classification = await journal.classify(p, s, { logoutOf: logoutNamesOf(s.writer?.command) });
    const losses = classification.losses.filter((l) => l.alarm);
    if (losses.length === 0) continue;
    const at = new Date(s.createdAt);
    const findings = losses.map((l) => lossFinding(l, { client: s.client, location: s.location, at, ...(s.writer ? { writer: s.writer } : {}), stateId: s.id, previousStateId: p.id }));
    out.push({
      client: s.client,
      location: s.location,
      storeKind: s.storeKind,
      stateId: s.id,
      previousStateId: p.id,
      at: s.createdAt,
      ...(s.writer ? { writer: s.writer } : {}),
      losses,
      findings,
      finding: findings[0]!,
    });
  }
  return out;
}

/** A `<client> mcp logout <name>` the writer was (writer.ts reads the same from the process table). */
function logoutNamesOf(command: string | undefined): string[] {
  const m = command ? /\bmcp logout (\S+)/.exec(command) : null;
  return m ? [m[1]!] : [];
}

export type LostEntryAction =
  /** Put back from the state before the loss. */
  | 'restore'
  /** Written since the loss (a new login or registration with tokens): kept as it is now. */
  | 'kept-newer'
  /** The store holds the lost tokens again already. */
  | 'already-back';

export interface LostEntryPlan {
  key: string;
  serverName?: string;
  /** A Claude Code account grant (`claudeAiOauth`, …), not an MCP entry. */
  account: boolean;
  action: LostEntryAction;
  /** What was lost (fingerprints). */
  lost: GrantState;
  /** The entry in the store now, if any (fingerprints). */
  current?: GrantState;
}

export interface LostRestorePlan {
  loss: JournaledLoss;
  /** `merge`: only the lost entries into the current store; `whole-store`: the store is unparsable now. */
  mode: 'merge' | 'whole-store';
  entries: LostEntryPlan[];
  /** A whole-store restore is written only when the caller confirms. */
  needsConfirmation: boolean;
  /** What the store's restore would change (fingerprints). */
  storePlan: RestorePlan;
  /** For people, fingerprints only: what comes back, what stays and why. */
  lines: string[];
}

export interface LostRestoreOptions {
  /** The client's store (tests inject runners); default credentialStoresFor(e) with snapshots in the backup folder. */
  store?: CredentialStore;
  /** Codex settings from the config reader. */
  codexSettings?: unknown;
  /** Replace an unparsable store whole with the state before the loss (the CLI's --yes). */
  confirmWholeStore?: boolean;
  /** Check each restored access token with its own server afterwards (default true). */
  verify?: boolean;
  check?: RestoreCheckOptions;
  /**
   * Where the restored state is journaled right after the write; default the client's journal
   * sources, or none when `store` is injected (its runners are the test's, not the sources').
   */
  journalAfter?: StateSource | null;
}

export interface LostRestoreOutcome {
  plan: LostRestorePlan;
  /** False when nothing needed writing, or a whole-store restore was not confirmed. */
  written: boolean;
  /** The actions as decided under the client's lock, at the write. */
  entries: LostEntryPlan[];
  /** The snapshot of the store taken just before the write: `mcp-auth-doctor restore <id>` undoes it. */
  undoSnapshotId?: string;
  /** Why nothing was written, when something would have been. */
  refused?: string;
  /** One per restored MCP entry (account grants have no MCP server to ask). */
  checks: RestoredEntryCheck[];
  /** Claude Code: servers whose "needs auth" stamp was removed, so it uses the restored grant at once. */
  needsAuthCleared: string[];
}

const ACCOUNT = new Set<string>(CLAUDE_ACCOUNT_GRANTS);

/** The entries the loss took (each once, alarmed losses only), and the key selection for the store. */
function lostEntriesOf(loss: JournaledLoss): { entries: LostEntry[]; keys: EntrySelection } {
  const seen = new Map<string, LostEntry>();
  for (const l of loss.losses) for (const e of l.entries) if (!seen.has(e.key)) seen.set(e.key, e);
  const entries = [...seen.values()];
  const isAccount = (k: string) => loss.client === 'claude-code' && ACCOUNT.has(k);
  return {
    entries,
    keys: { entryKeys: entries.filter((e) => !isAccount(e.key)).map((e) => e.key), topLevelKeys: entries.filter((e) => isAccount(e.key)).map((e) => e.key) },
  };
}

function sameGrant(a: GrantState | undefined, b: GrantState | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.accessToken === b.accessToken && a.refreshToken === b.refreshToken && a.clientId === b.clientId;
}

/**
 * What to do with one lost entry given the store now: back already when it holds the lost tokens;
 * kept when it differs from what the loss left and holds a token (written since: newer); else put
 * back (a registration left without tokens has nothing a restore could take away).
 */
export function decideLostEntry(lost: LostEntry, current: GrantState | undefined): LostEntryAction {
  if (current && sameGrant(current, lost.before)) return 'already-back';
  if (sameGrant(current, lost.after) || !holdsToken(current)) return 'restore';
  return 'kept-newer';
}

function decideAll(loss: JournaledLoss, entries: LostEntry[], currentRaw: string | null): LostEntryPlan[] {
  const now = parseStoreContent(loss.client, loss.storeKind, currentRaw);
  const grants = new Map<string, GrantState>(now.state === 'parsed' ? [...now.grants, ...(loss.client === 'claude-code' ? now.accountGrants : [])].map((g) => [g.key, g]) : []);
  return entries.map((e) => {
    const current = grants.get(e.key);
    return {
      key: e.key,
      ...(e.serverName ? { serverName: e.serverName } : {}),
      account: loss.client === 'claude-code' && ACCOUNT.has(e.key),
      action: decideLostEntry(e, current),
      lost: e.before,
      ...(current ? { current } : {}),
    };
  });
}

function selectionOf(plans: LostEntryPlan[]): EntrySelection {
  const restore = plans.filter((p) => p.action === 'restore');
  return { entryKeys: restore.filter((p) => !p.account).map((p) => p.key), topLevelKeys: restore.filter((p) => p.account).map((p) => p.key) };
}

async function contextOf(e: Environment, journal: Journal, loss: JournaledLoss, options: LostRestoreOptions) {
  const snapshot = await journal.snapshots.read(loss.previousStateId);
  if (!snapshot) throw new Error(`The journal's state ${loss.previousStateId} (before the loss) is gone from ${journal.dir}; nothing can be restored from it.`);
  const store = options.store ?? credentialStoresFor(e, options.codexSettings, { backups: snapshotStoreFor(e), clients: [loss.client] })[0];
  if (!store?.planRestoreEntries || !store.restoreEntries || !store.planRestore || !store.restore) {
    throw new Error(`restoring ${CLIENT_LABELS[loss.client]}'s store is not supported`);
  }
  return { snapshot, store, ...lostEntriesOf(loss) };
}

/** What restoreLost would do now; writes nothing. */
export async function planLostRestore(e: Environment, journal: Journal, loss: JournaledLoss, options: LostRestoreOptions = {}): Promise<LostRestorePlan> {
  return planWith(loss, await contextOf(e, journal, loss, options));
}

async function planWith(loss: JournaledLoss, ctx: Awaited<ReturnType<typeof contextOf>>): Promise<LostRestorePlan> {
  const { snapshot, store, entries, keys } = ctx;
  let decided: LostEntryPlan[] = [];
  try {
    const r = await store.planRestoreEntries!(snapshot, keys, (raw) => selectionOf((decided = decideAll(loss, entries, raw))));
    return planOf(loss, 'merge', decided, r.plan);
  } catch (err) {
    if (!(err instanceof MalformedStoreError)) throw err;
    const storePlan = await store.planRestore!(snapshot);
    return planOf(loss, 'whole-store', entries.map((x) => wholeStoreEntry(loss, x)), storePlan, err.finding.title);
  }
}

/**
 * Puts back only what `loss` took, into the store as it is now, in one write under the client's
 * lock after a snapshot of the current state; then checks each restored access token.
 */
export async function restoreLost(e: Environment, journal: Journal, loss: JournaledLoss, options: LostRestoreOptions = {}): Promise<LostRestoreOutcome> {
  const ctx = await contextOf(e, journal, loss, options);
  const { snapshot, store, entries, keys } = ctx;
  const plan = await planWith(loss, ctx);
  const verify = async (restoredKeys: string[]) => (options.verify === false || restoredKeys.length === 0 ? [] : checkRestoredEntries(store, restoredKeys, options.check ?? {}));
  // Claude Code skips a server it stamped after a 401 for a while, even once a good token is
  // stored: a restored grant is one it should use now.
  const clearStamps = async (restored: LostEntryPlan[]) => {
    const cleared: string[] = [];
    for (const name of new Set(restored.filter((p) => !p.account && p.serverName).map((p) => p.serverName!))) {
      if ((await store.clearNeedsAuthStamp?.(name))?.removed) cleared.push(name);
    }
    return cleared;
  };

  if (plan.mode === 'whole-store') {
    if (!options.confirmWholeStore) {
      return { plan, written: false, entries: plan.entries, refused: 'the store is unparsable now: replacing it whole with the state before the loss needs confirmation', checks: [], needsAuthCleared: [] };
    }
    const outcome = await store.restore!(snapshot);
    await journalRestored(e, journal, loss.client, options);
    const mcp = plan.entries.filter((p) => !p.account).map((p) => p.key);
    const needsAuthCleared = await clearStamps(plan.entries);
    return { plan: { ...plan, storePlan: outcome.plan }, written: true, entries: plan.entries, ...(outcome.previous ? { undoSnapshotId: outcome.previous.id } : {}), checks: await verify(mcp), needsAuthCleared };
  }
  if (plan.entries.every((p) => p.action !== 'restore')) return { plan, written: false, entries: plan.entries, checks: [], needsAuthCleared: [] };

  let decided: LostEntryPlan[] = plan.entries;
  const outcome = await store.restoreEntries!(snapshot, keys, (raw) => selectionOf((decided = decideAll(loss, entries, raw))));
  const written = outcome.written.entryKeys.length + (outcome.written.topLevelKeys?.length ?? 0) > 0;
  if (written) await journalRestored(e, journal, loss.client, options);
  const needsAuthCleared = written ? await clearStamps(decided.filter((p) => p.action === 'restore')) : [];
  return {
    plan: { ...plan, storePlan: outcome.plan },
    written,
    entries: decided,
    ...(outcome.previous ? { undoSnapshotId: outcome.previous.id } : {}),
    checks: await verify(outcome.written.entryKeys),
    needsAuthCleared,
  };
}

/**
 * The restored state goes into the journal at once: a clobber that lands before the next watcher
 * or poll would otherwise be compared with the clobbered state before the restore and go unseen.
 * Best effort: the restore is done either way.
 */
async function journalRestored(e: Environment, journal: Journal, client: ClientId, options: LostRestoreOptions): Promise<void> {
  const source =
    options.journalAfter !== undefined ? options.journalAfter : options.store ? null : journalSources(e, { readSecureStores: true, clients: [client], codexSettings: options.codexSettings })[0];
  if (!source) return;
  await journal.observe(source).catch(() => undefined);
}

function wholeStoreEntry(loss: JournaledLoss, e: LostEntry): LostEntryPlan {
  return { key: e.key, ...(e.serverName ? { serverName: e.serverName } : {}), account: loss.client === 'claude-code' && ACCOUNT.has(e.key), action: 'restore', lost: e.before };
}

function fps(g: GrantState | undefined): string {
  if (!g) return 'gone';
  return `access ${g.accessToken ?? 'none'}, refresh ${g.refreshToken ?? 'none'}${g.clientId ? `, client ${g.clientId}` : ''}`;
}

function planOf(loss: JournaledLoss, mode: LostRestorePlan['mode'], entries: LostEntryPlan[], storePlan: RestorePlan, unparsable?: string): LostRestorePlan {
  const who = CLIENT_LABELS[loss.client];
  const lines = [
    `${loss.finding.title}.`,
    `Restore only what was lost from the journal's state ${loss.previousStateId} (before the write at ${loss.at}, ${describeWriter(loss.client, loss.writer)}) into ${loss.location}:`,
  ];
  if (mode === 'whole-store') {
    lines.push(
      `  ${who}'s store is unparsable now (${unparsable ?? 'unreadable'}): the lost entries cannot be merged into content that cannot be read.`,
      `  Only the whole state before the loss can be put back, replacing the store; the broken content is snapshotted first (the journal holds it too, as state ${loss.stateId}). This needs your confirmation.`,
    );
  }
  for (const p of entries) {
    const name = `${p.serverName ?? p.key}${p.account ? ' (account login)' : ''}`;
    if (p.action === 'restore') lines.push(`  restore       ${name}  ${p.key}: ${fps(p.lost)}${mode === 'merge' ? `  (now: ${fps(p.current)})` : ''}`);
    else if (p.action === 'kept-newer') lines.push(`  keep (newer)  ${name}  ${p.key}: now ${fps(p.current)}, written after the loss; it stays (lost: ${fps(p.lost)})`);
    else lines.push(`  already back  ${name}  ${p.key}: ${fps(p.current)}`);
  }
  const restoring = entries.filter((p) => p.action === 'restore').length;
  if (mode === 'merge') lines.push(restoring === 0 ? 'Nothing to restore: every lost entry is back or newer now.' : `Every other entry and byte of the store stays as it is now.`);
  return { loss, mode, entries, needsConfirmation: mode === 'whole-store', storePlan, lines };
}
