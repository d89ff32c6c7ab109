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
      else if (options.allowKeychainPrompt) toRead.push({ index, op });
      else results[index] = notRead(scan.items[0]!);
    }
    if (options.allowKeychainPrompt) {
      // Items `find` listed that no `get` asks for: read them too, as findCredentials would have.
      const asked = new Set(ops.flatMap((o) => (o.op === 'get' ? [o.account] : [])));
      const findIndex = ops.findIndex((o) => o.op === 'find');
      const extra = findIndex >= 0 && results[findIndex]?.ok ? (found ?? []).filter((i) => !asked.has(i.account)) : [];
      const readOps = [...toRead.map((t) => t.op), ...extra.map((i) => ({ op: 'get' as const, account: i.account }))];
      if (readOps.length > 0) {
        const batch = await options.reader(readOps);
        if (!batch.reachable) return { reachable: false, reason: describeReaderFailure(batch.reason) };
        toRead.forEach((t, i) => (results[t.index] = withReaderReason(batch.results[i])));
        if (findIndex >= 0) {
          const readBack = extra.flatMap((item, i) => {
            const r = batch.results[toRead.length + i];
            return r?.ok && typeof r.value === 'string' ? [{ account: item.account, password: r.value }] : [];
          });
          results[findIndex] = { ok: true, found: readBack };
        }
      } else if (findIndex >= 0 && results[findIndex]?.ok) results[findIndex] = { ok: true, found: [] };
    }
    // Every look-up failing means the Keychain itself is out of reach (locked over SSH, a hang).
    if (failures.length > 0 && failures.length === ops.length) return { reachable: false, reason: failures[0]! };
    return { reachable: true, results: results.map((r) => r ?? { ok: false, error: 'no answer' }) };
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
