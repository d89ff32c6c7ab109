// Loss detection over two journaled states of one credential store: what a write did to the
// grants, by fingerprints only (never a token). The loss kinds are the ways users have woken up
// logged out (issue 13): grants removed wholesale (anthropics/claude-code#45551, #90647), tokens
// blanked while the registration stays (#84274: 19 of 20 entries reduced to registration fields;
// #93537: concurrent claude processes zeroing every mcpOAuth entry), the account login dropped
// (#80422, #36779), a client registration replaced (seed 004: a fresh DCR on every login orphans
// the old client and its refresh token), the whole store emptied or left unparsable.
//
// A deliberate removal of one entry is not a loss. Both clients' own `mcp logout <name>` remove
// exactly that entry and leave every other byte of every other entry as it was — seen with the
// real Claude Code 2.1.332 (`claude mcp logout`, mcpOAuth entry deleted) and Codex 0.171.0
// (`codex mcp logout`, `.credentials.json` entry deleted), test/interop/journalLogout.test.ts. The
// rule: exactly one entry removed completely, every other entry's tokens and client untouched, no
// account grant lost, and the store still holds something (or a `mcp logout` process of that
// client was running). A writer that removes exactly one entry by accident looks the same and is
// not reported: the price of never alarming on a user's own logout.
import * as z from 'zod';
import { CLIENT_LABELS, type ClientId, type Finding } from '../model';
import { fingerprint } from '../storageKey';
import { clientDefinition } from '../clients/registry';
import type { StoreKind } from '../credentials/store';

/** The finding codes of the journal's loss detection (docs/findings.md, "Credential stores"). */
export const JOURNAL_FINDING = {
  grantsGone: 'credentials.journal-grants-gone',
  tokensBlanked: 'credentials.journal-tokens-blanked',
  accountLoginGone: 'credentials.journal-account-login-gone',
  clientReplaced: 'credentials.journal-client-replaced',
  storeEmptied: 'credentials.journal-store-emptied',
  storeUnparsable: 'credentials.journal-store-unparsable',
} as const;

export type LossKind = 'grants-gone' | 'tokens-blanked' | 'account-login-gone' | 'client-replaced' | 'store-emptied' | 'store-unparsable';

export const LOSS_CODES: Readonly<Record<LossKind, string>> = Object.freeze({
  'grants-gone': JOURNAL_FINDING.grantsGone,
  'tokens-blanked': JOURNAL_FINDING.tokensBlanked,
  'account-login-gone': JOURNAL_FINDING.accountLoginGone,
  'client-replaced': JOURNAL_FINDING.clientReplaced,
  'store-emptied': JOURNAL_FINDING.storeEmptied,
  'store-unparsable': JOURNAL_FINDING.storeUnparsable,
});

/**
 * Claude Code's account grants at the top level of its blob: `claudeAiOauth` (the user's own
 * login, every version) and, in 2.1.332, `designOauth`, `chatHistoryOauth`, `cloudSessionsOauth`
 * (section classes read from the 2.1.332 binary; src/core/credentials/claudeCodeKeychainOverflow.ts).
 */
export const CLAUDE_ACCOUNT_GRANTS = ['claudeAiOauth', 'designOauth', 'chatHistoryOauth', 'cloudSessionsOauth'] as const;

/** One grant as the loss rules see it: fingerprints and the client id (not a secret). */
export interface GrantState {
  key: string;
  serverName?: string;
  accessToken?: string;
  refreshToken?: string;
  clientId?: string;
}

/** A store's content, parsed for comparison. */
export type StoreContent =
  | { state: 'absent' }
  /** Present but not usable by the client as a whole (not JSON, not an object, mcpOAuth of the wrong type). */
  | { state: 'unparsable'; why: string }
  | { state: 'parsed'; grants: GrantState[]; accountGrants: GrantState[] };

const str = z.string().min(1).optional().catch(undefined);
const Obj = z.record(z.string(), z.unknown());
const ClaudeGrant = z.looseObject({ serverName: str, accessToken: str, refreshToken: str, clientId: str });
const CodexFileGrant = z.looseObject({ server_name: str, access_token: str, refresh_token: str, client_id: str });
const CodexStoredGrant = z.looseObject({
  server_name: str,
  client_id: str,
  token_response: z.looseObject({ access_token: str, refresh_token: str }).optional().catch(undefined),
});

function grant(key: string, fields: { serverName?: string; accessToken?: string; refreshToken?: string; clientId?: string }): GrantState {
  const g: GrantState = { key };
  const name = fields.serverName ?? key.split('|')[0];
  if (name) g.serverName = name;
  if (fields.accessToken) g.accessToken = fingerprint(fields.accessToken);
  if (fields.refreshToken) g.refreshToken = fingerprint(fields.refreshToken);
  if (fields.clientId) g.clientId = fields.clientId;
  return g;
}

function parseJsonObject(raw: string): Record<string, unknown> | string {
  if (raw.trim() === '') return 'the store is empty (0 bytes of JSON)';
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return 'not valid JSON';
  }
  const o = Obj.safeParse(json);
  return o.success ? o.data : 'not a JSON object';
}

/**
 * Parses a store's raw content (as a snapshot holds it) into grants. Claude Code: the blob, its
 * `mcpOAuth` map and the account grants. Codex file: `.credentials.json`, a map of entries in
 * snake case. Codex keyring side (direct items or the secrets file): the snapshot's map of item
 * name → the item's JSON text (StoredTokens, token_response inside) — codexStore.ts keyringSnapshot.
 * Field-by-field and lenient: a writer that left odd shapes still has its grants counted.
 */
export function parseStoreContent(client: ClientId, storeKind: StoreKind, raw: string | null): StoreContent {
  if (raw === null) return { state: 'absent' };
  // Clients journaled through their definition read their own formats (clients/<id>/).
  const own = client === 'claude-code' || client === 'codex' ? undefined : clientDefinition(client).journal;
  if (own) return own.content(raw);
  const data = parseJsonObject(raw);
  if (typeof data === 'string') {
    // An empty file is the "emptied" kind, not "unparsable": Claude Code and Codex read it as empty.
    return raw.trim() === '' ? { state: 'parsed', grants: [], accountGrants: [] } : { state: 'unparsable', why: data };
  }
  if (client === 'claude-code') {
    let entries: Record<string, unknown> = {};
    if (data.mcpOAuth !== undefined) {
      const m = Obj.safeParse(data.mcpOAuth);
      // Claude Code cannot use such a blob (parseClaudeBlob: credentials.wrong-type).
      if (!m.success) return { state: 'unparsable', why: '"mcpOAuth" is not an object' };
      entries = m.data;
    }
    const grants = Object.entries(entries).map(([key, v]) => {
      const p = ClaudeGrant.safeParse(v);
      return grant(key, p.success ? p.data : {});
    });
    const accountGrants = CLAUDE_ACCOUNT_GRANTS.flatMap((name) => {
      const p = ClaudeGrant.safeParse(data[name]);
      return data[name] === undefined ? [] : [grant(name, p.success ? { ...p.data, serverName: name } : { serverName: name })];
    });
    return { state: 'parsed', grants, accountGrants };
  }
  if (storeKind === 'file') {
    const grants = Object.entries(data).map(([key, v]) => {
      const p = CodexFileGrant.safeParse(v);
      return grant(key, p.success ? { serverName: p.data.server_name, accessToken: p.data.access_token, refreshToken: p.data.refresh_token, clientId: p.data.client_id } : {});
    });
    return { state: 'parsed', grants, accountGrants: [] };
  }
  const grants = Object.entries(data).map(([key, text]) => {
    let v: unknown;
    try {
      v = typeof text === 'string' ? JSON.parse(text) : text;
    } catch {
      v = undefined;
    }
    const p = CodexStoredGrant.safeParse(v);
    return grant(
      key,
      p.success ? { serverName: p.data.server_name, clientId: p.data.client_id, accessToken: p.data.token_response?.access_token, refreshToken: p.data.token_response?.refresh_token } : {},
    );
  });
  return { state: 'parsed', grants, accountGrants: [] };
}

/** A grant that held a token: the thing a user loses. */
export function holdsToken(g: GrantState | undefined): boolean {
  return !!g && (g.accessToken !== undefined || g.refreshToken !== undefined);
}

/** What one lost entry was, by fingerprints. */
export interface LostEntry {
  key: string;
  serverName?: string;
  before: GrantState;
  /** Absent when the entry is gone. */
  after?: GrantState;
}

export interface Loss {
  kind: LossKind;
  code: string;
  /** How many grants (or account grants) were lost. */
  count: number;
  entries: LostEntry[];
  /** For store-unparsable: why the new content is unusable. */
  why?: string;
  /** client-replaced with a fresh login in the new entry: recorded, but no alarm (a user's re-login looks so). */
  alarm: boolean;
}

export type ChangeVerdict =
  /** Nothing a user would miss changed (first state, same grants, new grants, refreshed tokens). */
  | 'no-loss'
  /** Exactly one entry removed on purpose (`mcp logout <name>`, or our own delete). */
  | 'deliberate-removal'
  | 'loss';

export interface ChangeClassification {
  verdict: ChangeVerdict;
  losses: Loss[];
  /** The entry a deliberate removal took away. */
  removed?: { key: string; serverName?: string; by: 'one-entry-rule' | 'logout-process' | 'our-own-write' };
  added: string[];
  /** Entries whose tokens or client changed without a loss (refreshes, re-logins). */
  changed: string[];
}

export interface ClassifyOptions {
  /** Entry keys (and Claude account grant names) our own writes removed in between: never a loss. */
  intendedRemovals?: readonly string[];
  /** A running `<client> mcp logout <name>` was seen: that name's removal is the user's. */
  logoutOf?: readonly string[];
}

/**
 * Classifies the change from `before` to `after` (two states of the same store). Pure: the
 * caller has parsed both (parseStoreContent) and says which removals were its own.
 */
export function classifyChange(before: StoreContent | undefined, after: StoreContent, options: ClassifyOptions = {}): ChangeClassification {
  const none: ChangeClassification = { verdict: 'no-loss', losses: [], added: [], changed: [] };
  if (!before || before.state !== 'parsed') {
    // Nothing known to lose (first state), or it was unusable already.
    return after.state === 'parsed' ? { ...none, added: after.grants.map((g) => g.key) } : none;
  }
  const intended = new Set(options.intendedRemovals ?? []);
  const lostWith = (g: GrantState): LostEntry => ({ key: g.key, ...(g.serverName ? { serverName: g.serverName } : {}), before: g });
  const atRisk = before.grants.filter((g) => holdsToken(g) && !intended.has(g.key));
  const accountAtRisk = before.accountGrants.filter((g) => holdsToken(g) && !intended.has(g.key));

  if (after.state === 'unparsable') {
    if (atRisk.length === 0 && accountAtRisk.length === 0) return none;
    const entries = [...atRisk, ...accountAtRisk].map(lostWith);
    return { verdict: 'loss', losses: [loss('store-unparsable', entries, { why: after.why })], added: [], changed: [] };
  }

  const afterGrants = after.state === 'parsed' ? after.grants : [];
  const afterAccount = after.state === 'parsed' ? after.accountGrants : [];
  const now = new Map(afterGrants.map((g) => [g.key, g]));
  const nowAccount = new Map(afterAccount.map((g) => [g.key, g]));
  const beforeKeys = new Set(before.grants.map((g) => g.key));
  const added = afterGrants.filter((g) => !beforeKeys.has(g.key)).map((g) => g.key);

  const gone: LostEntry[] = [];
  const blanked: LostEntry[] = [];
  const replaced: LostEntry[] = [];
  const changed: string[] = [];
  for (const b of atRisk) {
    const a = now.get(b.key);
    if (!a) {
      gone.push(lostWith(b));
      continue;
    }
    const lostAccess = b.accessToken !== undefined && a.accessToken === undefined;
    const lostRefresh = b.refreshToken !== undefined && a.refreshToken === undefined;
    const newClient = b.clientId !== undefined && a.clientId !== undefined && a.clientId !== b.clientId;
    if (lostAccess || lostRefresh) blanked.push({ ...lostWith(b), after: a });
    else if (newClient) replaced.push({ ...lostWith(b), after: a });
    else if (a.accessToken !== b.accessToken || a.refreshToken !== b.refreshToken || a.clientId !== b.clientId) changed.push(b.key);
  }
  const accountGone = accountAtRisk.filter((b) => !holdsToken(nowAccount.get(b.key))).map((b) => ({ ...lostWith(b), ...(nowAccount.get(b.key) ? { after: nowAccount.get(b.key)! } : {}) }));

  // Our own removals in between (a delete or reset we made): not a loss, and said so.
  const ours = before.grants.find((g) => intended.has(g.key) && !now.has(g.key));

  const emptied = afterGrants.length === 0 && afterAccount.length === 0 && gone.length + accountGone.length > 0;
  const logoutNames = new Set(options.logoutOf ?? []);
  const oneRemoval = gone.length === 1 && blanked.length === 0 && replaced.length === 0 && accountGone.length === 0;
  if (oneRemoval) {
    const [only] = gone as [LostEntry];
    const byLogout = logoutNames.has(only.serverName ?? '') || logoutNames.has(only.key);
    if (!emptied || byLogout) {
      return { verdict: 'deliberate-removal', losses: [], removed: { key: only.key, ...(only.serverName ? { serverName: only.serverName } : {}), by: byLogout ? 'logout-process' : 'one-entry-rule' }, added, changed };
    }
  }

  const losses: Loss[] = [];
  if (after.state === 'absent' || emptied) {
    losses.push(loss('store-emptied', [...gone, ...accountGone]));
  } else {
    if (gone.length) losses.push(loss('grants-gone', gone));
    if (accountGone.length) losses.push(loss('account-login-gone', accountGone));
  }
  if (blanked.length) losses.push(loss('tokens-blanked', blanked));
  for (const r of replaced) {
    // A new client id with fresh tokens is what a re-login with a new registration leaves: kept
    // for the history (registrations piling up), no alarm. The blanked case is counted above.
    losses.push(loss('client-replaced', [r], { alarm: false }));
  }
  if (losses.length === 0) {
    return { verdict: 'no-loss', losses: [], ...(ours ? { removed: { key: ours.key, ...(ours.serverName ? { serverName: ours.serverName } : {}), by: 'our-own-write' as const } } : {}), added, changed };
  }
  return { verdict: losses.some((l) => l.alarm) ? 'loss' : 'no-loss', losses, added, changed };
}

function loss(kind: LossKind, entries: LostEntry[], extra: { why?: string; alarm?: boolean } = {}): Loss {
  return { kind, code: LOSS_CODES[kind], count: entries.length, entries, ...(extra.why ? { why: extra.why } : {}), alarm: extra.alarm ?? true };
}

/** Who we think wrote a state: a running client process when exactly one of that client ran. */
export interface WriterInfo {
  pid?: number;
  version?: string;
  /** The process's command, shortened and redacted (processes.ts describeCommand). */
  command?: string;
  /** Why no writer is named: no client running, several, or the process table is unknown. */
  unknownBecause?: string;
}

/** `claude 2.1.332, pid 4121`, or `writer unknown`. */
export function describeWriter(client: ClientId, w: WriterInfo | undefined): string {
  if (!w?.pid) return 'writer unknown';
  const bin = clientDefinition(client).version?.binary ?? CLIENT_LABELS[client];
  return `${bin}${w.version ? ` ${w.version}` : ''}, pid ${w.pid}`;
}

/** `14:02` in local time. */
export function clockTime(at: Date): string {
  return `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
}

export interface LossContext {
  client: ClientId;
  location: string;
  /** When the new state was journaled. */
  at: Date;
  writer?: WriterInfo;
  /** The journaled state before the loss: what a restore takes the lost entries from. */
  previousStateId?: string;
  /** The journaled state that shows the loss. */
  stateId?: string;
}

function logins(n: number): string {
  return `${n} MCP login${n === 1 ? '' : 's'}`;
}

function names(entries: LostEntry[]): string {
  const shown = entries.slice(0, 8).map((e) => e.serverName ?? e.key);
  return shown.join(', ') + (entries.length > shown.length ? ` and ${entries.length - shown.length} more` : '');
}

/** One finding per loss: a one-line title a notification can show, fingerprints only in the evidence. */
export function lossFinding(l: Loss, ctx: LossContext): Finding {
  const who = CLIENT_LABELS[ctx.client];
  const when = clockTime(ctx.at);
  const by = ctx.writer?.pid ? `written by ${describeWriter(ctx.client, ctx.writer)}` : 'writer unknown';
  const mcp = l.entries.filter((e) => !(CLAUDE_ACCOUNT_GRANTS as readonly string[]).includes(e.key));
  const account = l.entries.filter((e) => (CLAUDE_ACCOUNT_GRANTS as readonly string[]).includes(e.key));
  const accountWords = account.some((e) => e.key === 'claudeAiOauth')
    ? `your Claude login${account.length > 1 ? ` and ${account.length - 1} other account grant${account.length > 2 ? 's' : ''}` : ''}`
    : `${account.length} account grant${account.length === 1 ? '' : 's'} (${account.map((e) => e.key).join(', ')})`;
  let title: string;
  switch (l.kind) {
    case 'grants-gone':
      title = `${who} lost ${logins(l.count)} at ${when} (${by})`;
      break;
    case 'tokens-blanked':
      title = `${who} lost the tokens of ${logins(l.count)} at ${when} (${by})`;
      break;
    case 'account-login-gone':
      title = `${who} lost ${accountWords} at ${when} (${by})`;
      break;
    case 'client-replaced':
      title = `${who} replaced the client registration of ${names(l.entries)} at ${when} (${by})`;
      break;
    case 'store-emptied':
      title = `${who}'s credential store was emptied at ${when}: ${[mcp.length ? logins(mcp.length) : '', account.length ? accountWords : ''].filter(Boolean).join(' and ')} lost (${by})`;
      break;
    case 'store-unparsable':
      title = `${who}'s credential store became unreadable at ${when}: ${logins(mcp.length)}${account.length ? ` and ${accountWords}` : ''} at risk (${by})`;
      break;
  }
  const evidence = l.entries.map((e) => {
    const b = `before: access ${e.before.accessToken ?? 'none'}, refresh ${e.before.refreshToken ?? 'none'}${e.before.clientId ? `, client ${e.before.clientId}` : ''}`;
    const a = e.after ? `now: access ${e.after.accessToken ?? 'none'}, refresh ${e.after.refreshToken ?? 'none'}${e.after.clientId ? `, client ${e.after.clientId}` : ''}` : 'now: gone';
    return `${e.key}: ${b}; ${a}`;
  });
  const from = ctx.previousStateId ? ` The journal's state ${ctx.previousStateId} still holds ${l.count === 1 ? 'it' : 'them'}.` : '';
  const detail =
    l.kind === 'client-replaced'
      ? `In ${ctx.location}, ${names(l.entries)} now has a new client id and new tokens: a new registration (seed 004: each one orphans the old client and its refresh token). Nothing to restore unless the new login does not work.${from}`
      : `In ${ctx.location}, ${l.kind === 'store-unparsable' ? `the new content is unusable (${l.why ?? 'unparsable'}); ` : ''}${names(l.entries)} ${l.count === 1 ? 'was' : 'were'} lost by a write at ${ctx.at.toISOString()} (${by}). If you did not log out, restore only what was lost; the journal keeps the state before the write.${from}`;
  return {
    code: l.code,
    severity: l.alarm ? 'warning' : 'info',
    title,
    detail,
    evidence,
    reference:
      l.kind === 'client-replaced'
        ? 'seed 004 (Claude Code re-runs DCR on every authenticate)'
        : l.kind === 'tokens-blanked'
          ? 'anthropics/claude-code#84274, #93537'
          : l.kind === 'account-login-gone'
            ? 'anthropics/claude-code#80422, #36779'
            : 'anthropics/claude-code#45551, #90647, #93537',
  };
}
