// Codex's Keychain items on macOS (service "Codex MCP Credentials", account = storage key) without
// surprise prompts. keyring-rs created them from Codex's binary, so their access list trusts only
// Codex: any read from our process (@napi-rs/keyring in a node/Electron child) makes macOS ask.
// So by default we only look at attributes through /usr/bin/security (which never prompts: see
// macKeychain.ts) and report each item as "in the Keychain (not read)"; the secret is read, with
// the binding as before, only when the caller passes an explicit permission the user gave after
// reading CODEX_KEYCHAIN_PROMPT_EXPLANATION. Writes need the same permission (a write from our
// process would also re-stamp the item's access list: failure-modes E9).
import { CODEX_KEYRING_SERVICE, type KeyringBatch, type KeyringOp, type KeyringOpResult, type KeyringRunner } from './codexKeyring';
import { scanKeychain, SECURITY_TIMEOUT_MS, type KeychainItem } from './macKeychain';
import type { CommandRunner } from './runCommand';

/** The state of a Codex item we found by its attributes and did not read. */
export const CODEX_KEYCHAIN_NOT_READ = 'in the Keychain (not read: macOS would ask)';

/** A write refused because the user has not allowed using Codex's item from here. */
export const CODEX_KEYCHAIN_NOT_WRITTEN = "not changed: Codex's Keychain item is used from here only with your permission (macOS would ask)";

/**
 * What the user reads before allowing the read: the dialog macOS will show, and what each button
 * means. "Always Allow" adds the asking program (node, or VS Code's helper) to the item's access
 * list for good, so any script run by that program could read Codex's tokens silently later.
 */
export const CODEX_KEYCHAIN_PROMPT_EXPLANATION =
  'macOS will ask whether this program (node, or VS Code) may use "Codex MCP Credentials" in your keychain, because only Codex was allowed to read it; "Allow" lets it read once, while "Always Allow" lets every later node/VS Code process read Codex\'s logins without asking, so "Allow" is the safer answer.';

export interface MacCodexKeyringOptions {
  /** Runs /usr/bin/security (tests: a replay of recorded outputs). */
  security: CommandRunner;
  /** Reads and writes secrets (the @napi-rs/keyring child); called only with `allowKeychainPrompt`. */
  reader: KeyringRunner;
  /** The user asked for the secret after seeing CODEX_KEYCHAIN_PROMPT_EXPLANATION. Default false. */
  allowKeychainPrompt?: boolean;
  /**
   * With `allowKeychainPrompt`: read only these accounts (the one server the user asked about);
   * every other item stays CODEX_KEYCHAIN_NOT_READ. Default: every item that exists.
   */
  readAccounts?: readonly string[];
  /**
   * Keep each secret read for this runner's lifetime, so one action (a listing, then the live
   * check's read of the same item) shows macOS's dialog once per item. Only for a runner that
   * serves one short read-only action: a cached value would hide a change made meanwhile by Codex.
   */
  readOnce?: boolean;
  service?: string;
  timeoutMs?: number;
}

/** A keyring result for an item seen by attributes only: an error whose reason says so, plus the attributes. */
export type NotReadResult = Extract<KeyringOpResult, { ok: false }> & { notRead: KeychainItem };

export function isKeychainNotRead(r: { reason?: string; error?: string } | undefined): boolean {
  return !!r && (r.reason ?? r.error) === CODEX_KEYCHAIN_NOT_READ;
}

/**
 * A KeyringRunner for macOS: `get` of a known account is an attribute look-up
 * (`find-generic-password -s <service> -a <account>`), `find` lists the service's items with
 * `dump-keychain`. Without permission an existing item answers CODEX_KEYCHAIN_NOT_READ (with its
 * attributes), `find` answers no readable item and the attributes in `notRead`; writes are
 * refused. With permission, items that exist are read through `reader` in one batch.
 */
export function macCodexKeyringRunner(options: MacCodexKeyringOptions): KeyringRunner {
  const service = options.service ?? CODEX_KEYRING_SERVICE;
  const timeoutMs = options.timeoutMs ?? SECURITY_TIMEOUT_MS;
  const reader = options.readOnce ? readOnce(options.reader) : options.reader;
  const mayRead = (account: string) => !!options.allowKeychainPrompt && (!options.readAccounts || options.readAccounts.includes(account));
  return async (ops: KeyringOp[]): Promise<KeyringBatch> => {
    const results: (KeyringOpResult | undefined)[] = new Array(ops.length);
    const toRead: { index: number; op: KeyringOp }[] = [];
    let found: KeychainItem[] | undefined;
    const failures: string[] = [];
    for (const [index, op] of ops.entries()) {
      if (op.op === 'set' || op.op === 'delete') {
        if (options.allowKeychainPrompt) toRead.push({ index, op });
        else results[index] = { ok: false, error: CODEX_KEYCHAIN_NOT_WRITTEN };
        continue;
      }
      if (op.op === 'find') {
        const scan = await scanKeychain(options.security, { service }, timeoutMs);
        if (!scan.ok) {
          failures.push(scan.failure.message);
          results[index] = { ok: false, error: scan.failure.message };
          continue;
        }
        found = scan.items;
        results[index] = { ok: true, found: [], notRead: scan.items };
        continue;
      }
      const scan = await scanKeychain(options.security, { service, account: op.account }, timeoutMs);
      if (!scan.ok) {
        failures.push(scan.failure.message);
        results[index] = { ok: false, error: scan.failure.message };
      } else if (scan.items.length === 0) results[index] = { ok: true, value: null };
      else if (mayRead(op.account)) toRead.push({ index, op });
      else results[index] = notRead(scan.items[0]!);
    }
    if (options.allowKeychainPrompt) {
      // Items `find` listed that no `get` asks for: read them too, as findCredentials would have.
      const asked = new Set(ops.flatMap((o) => (o.op === 'get' ? [o.account] : [])));
      const findIndex = ops.findIndex((o) => o.op === 'find');
      const listed = findIndex >= 0 && results[findIndex]?.ok ? (found ?? []).filter((i) => !asked.has(i.account)) : [];
      const extra = listed.filter((i) => mayRead(i.account));
      const unread = listed.filter((i) => !mayRead(i.account));
      const readOps = [...toRead.map((t) => t.op), ...extra.map((i) => ({ op: 'get' as const, account: i.account }))];
      if (readOps.length > 0) {
        const batch = await reader(readOps);
        if (!batch.reachable) return { reachable: false, reason: describeReaderFailure(batch.reason) };
        toRead.forEach((t, i) => (results[t.index] = withReaderReason(batch.results[i])));
        if (findIndex >= 0) {
          const readBack = extra.flatMap((item, i) => {
            const r = batch.results[toRead.length + i];
            return r?.ok && typeof r.value === 'string' ? [{ account: item.account, password: r.value }] : [];
          });
          results[findIndex] = { ok: true, found: readBack, ...(unread.length ? { notRead: unread } : {}) };
        }
      } else if (findIndex >= 0 && results[findIndex]?.ok) results[findIndex] = { ok: true, found: [], ...(unread.length ? { notRead: unread } : {}) };
    }
    // Every look-up failing means the Keychain itself is out of reach (locked over SSH, a hang).
    if (failures.length > 0 && failures.length === ops.length) return { reachable: false, reason: failures[0]! };
    return { reachable: true, results: results.map((r) => r ?? { ok: false, error: 'no answer' }) };
  };
}

/** A reader that answers a `get` it answered before from memory; a write or delete of an account forgets it. */
function readOnce(reader: KeyringRunner): KeyringRunner {
  const seen = new Map<string, KeyringOpResult>();
  return async (ops) => {
    const pending = ops.map((op, index) => ({ op, index })).filter(({ op }) => !(op.op === 'get' && seen.has(op.account)));
    for (const { op } of pending) if (op.op === 'set' || op.op === 'delete') seen.delete(op.account);
    const batch = pending.length > 0 ? await reader(pending.map((p) => p.op)) : { reachable: true as const, results: [] };
    if (!batch.reachable) return batch;
    const results: KeyringOpResult[] = ops.map((op) => (op.op === 'get' ? seen.get(op.account) : undefined) ?? { ok: false, error: 'no answer' });
    pending.forEach(({ op, index }, j) => {
      const r = batch.results[j] ?? { ok: false, error: 'no answer' };
      results[index] = r;
      if (op.op === 'get' && r.ok) seen.set(op.account, r);
    });
    return { reachable: true, results };
  };
}

function notRead(item: KeychainItem): NotReadResult {
  return { ok: false, error: CODEX_KEYCHAIN_NOT_READ, notRead: item };
}

/** keyring-rs's macOS errors carry the OSStatus text; say what it means for the user. */
function describeReaderFailure(reason: string): string {
  if (/User interaction is not allowed/i.test(reason)) return `${reason} (the keychain is locked and macOS may not ask for its password here, e.g. over SSH)`;
  if (/cancel/i.test(reason)) return `${reason} (the macOS access dialog was denied or dismissed; nothing was read)`;
  return reason;
}

function withReaderReason(r: KeyringOpResult | undefined): KeyringOpResult {
  if (!r) return { ok: false, error: 'no answer' };
  return r.ok ? r : { ...r, error: describeReaderFailure(r.error) };
}

/** Every Codex item in the Keychain by its attributes: what a view shows before any secret is read. */
export async function scanCodexKeychain(security: CommandRunner, timeoutMs = SECURITY_TIMEOUT_MS): ReturnType<typeof scanKeychain> {
  return scanKeychain(security, { service: CODEX_KEYRING_SERVICE }, timeoutMs);
}
