// Claude Code's macOS Keychain item, reached only through /usr/bin/security: the item's ACL already
// trusts that binary, so reading or updating through it neither prompts nor re-stamps the
// partition list the way a write from another binary does (steipete/CodexBar#2588, Lcharvol/Claude-God
// PR#49; failure-modes E9). Never `-A`/`-T` (they rewrite the ACL). Every call has a timeout
// (a locked keychain over SSH can hang: failure-modes E8). The runner is injected: this path
// cannot run off macOS, and unit tests drive it with a recording fake.
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Environment } from '../environment';
import { overflowService, type OverflowSlot } from './claudeCodeKeychainOverflow';
import { scanKeychain, searchNotCreated, SECURITY_PATH, SECURITY_TIMEOUT_MS, type KeychainScan } from './macKeychain';
import type { CommandResult, CommandRunner } from './runCommand';

export { SECURITY_PATH, SECURITY_TIMEOUT_MS };

/**
 * Above this many bytes of JSON the Keychain blob is close to what Claude Code can store: it
 * writes the item as hex through `security -i`, whose stdin line buffer is 4096 bytes, so about
 * 2,013 bytes of JSON fit (anthropics/claude-code#28901, #30337); #28542 saw the blob cut at ~2,010
 * bytes and every MCP login lost on restart. Versions with the argv fallback (#30337 fix) still
 * lose large blobs (#92839).
 */
export const KEYCHAIN_NEAR_LIMIT_BYTES = 1800;

/** `security -i` reads each command with a 4096-byte fgets; Claude Code keeps 64 bytes of headroom. */
const SECURITY_STDIN_LINE_LIMIT = 4096 - 64;

export { runCommand, type CommandResult, type CommandRunner } from './runCommand';

/**
 * The item's service name, as Claude Code 2.1.197 computes it: `Claude Code-credentials`, plus
 * `-<first 8 hex of sha256(dir)>` when `CLAUDE_CONFIG_DIR` (or `CLAUDE_SECURESTORAGE_CONFIG_DIR`)
 * is set; the hash is of the path string as given (NFC), not a resolved path (read from the
 * shipped binary; earlier versions: CLAUDE_CONFIG_DIR only, 21st-dev/1code#48, claude-code#87702).
 */
export function claudeKeychainService(e: Environment): string {
  const secure = e.env.CLAUDE_SECURESTORAGE_CONFIG_DIR;
  const isDefault = secure !== undefined ? !secure : !e.env.CLAUDE_CONFIG_DIR;
  if (isDefault) return 'Claude Code-credentials';
  const dir = (secure !== undefined ? secure : (e.env.CLAUDE_CONFIG_DIR ?? path.join(e.home, '.claude'))).normalize('NFC');
  return `Claude Code-credentials-${createHash('sha256').update(dir).digest('hex').slice(0, 8)}`;
}

/** The account Claude Code 2.1.197 writes with: `$USER`, else the login name; odd names → `claude-code-user`. */
export function claudeKeychainAccount(e: Environment): string {
  let name: string;
  try {
    name = e.env.USER || os.userInfo().username;
  } catch {
    name = 'claude-code-user';
  }
  return /^[a-zA-Z0-9._-]+$/.test(name) ? name : 'claude-code-user';
}

export type KeychainLookup = { state: 'found'; account: string } | { state: 'absent' } | { state: 'unavailable'; reason: string };

export class KeychainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeychainError';
  }
}

export class ClaudeKeychain {
  constructor(
    readonly service: string,
    /** The account Claude Code would use; tried first, then any account under the service. */
    readonly expectedAccount: string,
    private readonly run: CommandRunner,
    private readonly timeoutMs = SECURITY_TIMEOUT_MS,
  ) {}

  get label(): string {
    return `Keychain item "${this.service}"`;
  }

  /**
   * Finds the item by its attributes only (no secret, so no prompt even when locked), first with
   * Claude Code's account, then by service alone: the account has been `$USER` in some builds and
   * empty in others (claude-code#3065), and a write must update the item that exists.
   */
  async find(): Promise<KeychainLookup> {
    const exact = await this.security(['find-generic-password', '-a', this.expectedAccount, '-s', this.service]);
    if (exact.code === 0) return { state: 'found', account: parseAccount(exact.stdout) ?? this.expectedAccount };
    // Exit 44 also follows a search macOS refused to create (a sandbox): that is no answer, not "absent".
    if (exact.code !== 44 || searchNotCreated(exact)) return { state: 'unavailable', reason: describeFailure(exact) };
    const any = await this.security(['find-generic-password', '-s', this.service]);
    if (any.code === 0) return { state: 'found', account: parseAccount(any.stdout) ?? '' };
    if (any.code === 44 && !searchNotCreated(any)) return { state: 'absent' };
    return { state: 'unavailable', reason: describeFailure(any) };
  }

  /**
   * Every item of the service in every keychain, by attributes only (`dump-keychain`, no `-d`):
   * account, modification date and keychain before any secret is read; several items of one
   * service happen (claude-code#3065: `$USER` and empty accounts).
   */
  scan(): Promise<KeychainScan> {
    return scanKeychain(this.run, { service: this.service }, this.timeoutMs);
  }

  /** The item's password (the JSON blob). */
  async read(account: string): Promise<{ ok: true; value: string } | { ok: false; absent: boolean; reason: string }> {
    const r = await this.security(['find-generic-password', ...accountArgs(account), '-s', this.service, '-w']);
    if (r.code !== 0) return { ok: false, absent: r.code === 44 && !searchNotCreated(r), reason: describeFailure(r) };
    return { ok: true, value: decodePassword(r.stdout) };
  }

  /**
   * Updates the item in place (`-U`), as Claude Code does: hex (`-X`) on `security -i`'s stdin so
   * the blob is not in any process list, or in argv when the line would overflow its buffer
   * (claude-code#30337). Reads the item back to prove the write landed.
   */
  async write(account: string, value: string): Promise<void> {
    const hex = Buffer.from(value, 'utf8').toString('hex');
    const line = `add-generic-password -U -a "${account}" -s "${this.service}" -X "${hex}"\n`;
    const quotable = !/["\\\n]/.test(account + this.service);
    const r =
      quotable && Buffer.byteLength(line) <= SECURITY_STDIN_LINE_LIMIT
        ? await this.security(['-i'], line)
        : await this.security(['add-generic-password', '-U', '-a', account, '-s', this.service, '-X', hex]);
    if (r.code !== 0) throw new KeychainError(`Updating ${this.label} failed (${describeFailure(r)}).`);
    const back = await this.read(account);
    if (!back.ok || back.value !== value) {
      throw new KeychainError(`${this.label} did not hold the new content after the update (${back.ok ? 'content differs' : back.reason}).`);
    }
  }

  /**
   * Claude Code 2.1.332's overflow item `<service>-overflow-<slot>` (claudeCodeKeychainOverflow.ts):
   * read with the same `find-generic-password -a <account> -w -s …` as the main item (store `de`),
   * so through the same trusted binary and with no prompt. Exit 44 is "gone", as 2.1.332 treats it.
   */
  async readOverflow(slot: OverflowSlot, account: string): Promise<{ ok: true; value: string } | { ok: false; absent: boolean; reason: string }> {
    const r = await this.security(['find-generic-password', '-a', account, '-w', '-s', overflowService(this.service, slot)]);
    if (r.code !== 0) return { ok: false, absent: r.code === 44 && !searchNotCreated(r), reason: describeFailure(r) };
    return { ok: true, value: r.stdout.trim() };
  }

  /**
   * Writes a sealed overflow item as 2.1.332's store `update` does: `add-generic-password -U -a
   * <account> -s <service>-overflow-<slot> -w <sealed> [keychain]`, the keychain being the one that
   * holds that overflow item already, else the main item's (both from attribute look-ups, which
   * never prompt). The sealed text is ciphertext whose key is only in the main item, which goes
   * through stdin; no `-A`/`-T`. Reads it back to prove it landed.
   */
  async writeOverflow(slot: OverflowSlot, account: string, sealed: string): Promise<void> {
    const service = overflowService(this.service, slot);
    const [own, main] = await Promise.all([
      this.security(['find-generic-password', '-a', account, '-s', service]),
      this.security(['find-generic-password', '-a', account, '-s', this.service]),
    ]);
    const attrs = own.code === 44 ? main : own;
    if (attrs.timedOut || attrs.code === null) throw new KeychainError(`Looking up Keychain item "${service}" failed (${describeFailure(attrs)}); nothing was written.`);
    const keychain = attrs.code === 0 ? parseKeychainPath(attrs.stdout) : undefined;
    const r = await this.security(['add-generic-password', '-U', '-a', account, '-s', service, '-w', sealed, ...(keychain ? [keychain] : [])]);
    if (r.code !== 0) throw new KeychainError(`Updating Keychain item "${service}" failed (${describeFailure(r)}).`);
    const back = await this.readOverflow(slot, account);
    if (!back.ok || back.value !== sealed) {
      throw new KeychainError(`Keychain item "${service}" did not hold the new content after the update (${back.ok ? 'content differs' : back.reason}).`);
    }
  }

  private security(args: string[], input?: string): Promise<CommandResult> {
    return this.run(SECURITY_PATH, args, { timeoutMs: this.timeoutMs, ...(input !== undefined ? { input } : {}) });
  }
}

function accountArgs(account: string): string[] {
  // An item stored with an empty account is matched by service alone.
  return account ? ['-a', account] : [];
}

/** The first line of `find-generic-password`'s attributes: `keychain: "/Users/u/Library/Keychains/login.keychain-db"`. */
export function parseKeychainPath(attributes: string): string | undefined {
  return /^keychain: "(\/[^"\\\n]+)"(?:\n|$)/.exec(attributes)?.[1];
}

/** `"acct"<blob>="name"`, `"acct"<blob>=0x6E616D65  "name"` or `"acct"<blob>=<NULL>`. */
export function parseAccount(attributes: string): string | undefined {
  const m = /"acct"<blob>=(?:"((?:[^"\\]|\\.)*)"|0x([0-9A-Fa-f]+)|<NULL>)/.exec(attributes);
  if (!m) return undefined;
  if (m[1] !== undefined) return m[1];
  if (m[2] !== undefined) return Buffer.from(m[2], 'hex').toString('utf8');
  return '';
}

/**
 * `-w` prints the password; macOS 26 prints hex instead when it holds bytes it deems binary
 * (zenn.dev "macOS Tahoe keychain hex encoding"). A JSON blob starts with `{`, never a hex digit.
 */
export function decodePassword(stdout: string): string {
  const s = stdout.replace(/\r?\n$/, '');
  if (/^(?:[0-9a-fA-F]{2})+$/.test(s)) {
    const decoded = Buffer.from(s, 'hex').toString('utf8');
    if (decoded.trimStart().startsWith('{')) return decoded;
  }
  return s;
}

/** `security` exit codes are the low byte of the OSStatus. */
function describeFailure(r: CommandResult): string {
  if (r.timedOut) return 'security did not answer in time';
  switch (r.code) {
    case 44:
      return 'item not found';
    case 36:
      return 'the keychain is locked or cannot prompt here (errSecInteractionNotAllowed, e.g. over SSH)';
    case 51:
      return 'access was denied (errSecAuthFailed)';
    case 128:
      return 'the access prompt was cancelled';
    case null:
      return `security could not run: ${r.stderr.trim().replace(/[0-9a-fA-F]{16,}/g, '…') || 'unknown error'}`;
    default: {
      // stderr may echo a command line: drop anything hex-encoded (the blob) before showing it.
      const first = r.stderr.trim().split('\n')[0]?.replace(/[0-9a-fA-F]{16,}/g, '…') ?? '';
      return `security exited with ${r.code}${first ? `: ${first}` : ''}`;
    }
  }
}
