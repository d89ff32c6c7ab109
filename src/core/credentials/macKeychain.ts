// The macOS Keychain seen through /usr/bin/security by attributes only: which generic passwords
// exist (service, account, keychain, modification date), never their secret. Attribute look-ups
// (`find-generic-password` without `-w`/`-g`, `dump-keychain` without `-d`) never show an access
// prompt, even for an item whose access list does not name `security` (failure-modes E8/E9):
// only reading the item's data does. Output format from Apple's SecurityTool source
// (apple-open-source/macos Security/SecurityTool/macOS/keychain_utilities.c
// `print_keychain_item_attributes` / `print_buffer`, shared by find-generic-password and
// dump-keychain's `do_keychain_dump_class` in keychain_find.c).
import type { CommandResult, CommandRunner } from './runCommand';

export const SECURITY_PATH = '/usr/bin/security';
/** Claude Code's own `security` timeout (10 s in 2.1.197's keychain prefetch); ours for every call. */
export const SECURITY_TIMEOUT_MS = 10_000;

/** One generic password as its attributes describe it; there is deliberately no secret here. */
export interface KeychainItem {
  /** The keychain file holding it, e.g. `/Users/u/Library/Keychains/login.keychain-db`. */
  keychain: string;
  service: string;
  /** '' when the item has no account (`"acct"<blob>=<NULL>`). */
  account: string;
  /** Last modification, ISO 8601 (from `"mdat"<timedate>`), when the item has one. */
  modified?: string;
  created?: string;
  /** The item's label (attribute 0x00000007, "Name" in Keychain Access). */
  label?: string;
}

/** Why a `security` call gave no answer we can use; each kind has its own message. */
export type KeychainFailureKind = 'interaction-not-allowed' | 'auth-failed' | 'user-canceled' | 'search-failed' | 'timeout' | 'could-not-run' | 'other';

export interface KeychainFailure {
  kind: KeychainFailureKind;
  /** One sentence for the user, no secret (stderr echoes are cut at the first line, hex runs removed). */
  message: string;
  /** The exit code `security` ended with (null: killed or did not start). */
  code: number | null;
}

export type KeychainScan = { ok: true; items: KeychainItem[] } | { ok: false; failure: KeychainFailure };

/**
 * `security` exits with the low byte of the OSStatus it failed with (SecBase.h). Recordings in
 * test/fixtures/macos-security/ (their `source` and `note` say what was seen where).
 */
export const SECURITY_EXIT = {
  /** errSecItemNotFound -25300; "SecKeychainSearchCopyNext: The specified item could not be found" (rauchg/wifi-password#22). */
  itemNotFound: 44,
  /** errSecInteractionNotAllowed -25308; locked keychain, no GUI (fastlane-community/security#5, microsoft/Git-Credential-Manager-for-Mac-and-Linux PR#26). */
  interactionNotAllowed: 36,
  /** errSecAuthFailed -25293; "The user name or passphrase you entered is not correct." (hashicorp/go-rootcerts#12). */
  authFailed: 51,
  /** errSecUserCanceled / userCanceledErr -128; the access dialog denied (keybase/go-keychain PR#91). */
  userCanceled: 128,
} as const;

/** Whether an argv would read an item's secret (`-w`/`-g` of find-*, `-d`/`-r` of dump-keychain) or rewrite its access list (`-A`/`-T`). */
export function argvReadsSecretOrAcl(args: readonly string[]): boolean {
  const [command, ...rest] = args;
  if (command === '-i') return false; // interactive: the command line goes on stdin (write path)
  const flags = rest.filter((a) => /^-[A-Za-z]+$/.test(a));
  const letters = flags.join('').replace(/-/g, '');
  if (/[AT]/.test(letters)) return true;
  if (command === 'dump-keychain') return /[dra]/.test(letters);
  if (command?.startsWith('find-')) return /[wg]/.test(letters);
  return false;
}

/**
 * Lists the generic passwords of `service` by their attributes only. With `account`, the one
 * item `find-generic-password -s <service> -a <account>` finds (it reports the first match of the
 * search list); without, every item of the service in every keychain of the search list, from
 * `dump-keychain` (no `-d`), since find-generic-password shows only the first match and the
 * account is the unknown here. Not found is an empty list, not a failure.
 */
export async function scanKeychain(run: CommandRunner, query: { service: string; account?: string }, timeoutMs = SECURITY_TIMEOUT_MS): Promise<KeychainScan> {
  // An empty account cannot be asked for (`-a ""` is not "no account"): list the service instead.
  const args = query.account ? ['find-generic-password', '-s', query.service, '-a', query.account] : ['dump-keychain'];
  const r = await run(SECURITY_PATH, args, { timeoutMs });
  if (!r.timedOut && r.code === SECURITY_EXIT.itemNotFound && !searchNotCreated(r)) return { ok: true, items: [] };
  if (r.timedOut || r.code !== 0) return { ok: false, failure: classifySecurityFailure(r) };
  const items = parseKeychainItems(r.stdout).filter((i) => i.service === query.service && (query.account === undefined || i.account === query.account));
  return { ok: true, items };
}

/**
 * find-generic-password exits 44 ("could not be found") also when the search itself could not be
 * created: keychain_find.c prints the SecKeychainSearchCreateFromAttributes error, finds no item and
 * then prints the not-found line. Seen in a sandbox that denies the keychain
 * (eugene1g/agent-safehouse#71; test/fixtures/macos-security/find-search-refused-sandbox.json).
 */
export function searchNotCreated(r: CommandResult): boolean {
  return /SecKeychainSearchCreateFromAttributes/.test(r.stderr);
}

/** What a failed `security` call means, from its exit code (timeouts first: the runner killed it). */
export function classifySecurityFailure(r: CommandResult): KeychainFailure {
  if (r.timedOut) {
    return { kind: 'timeout', code: null, message: 'security did not answer in time (a keychain waiting on a dialog nobody can see looks like this); it was stopped and nothing was read' };
  }
  if (searchNotCreated(r)) {
    return {
      kind: 'search-failed',
      code: r.code,
      message: `security could not search the keychain here (it said "${firstLineClean(r.stderr).replace(/^security: /, '')}"; a sandbox or a session without keychain access looks like this): nothing was read, and the item may well exist`,
    };
  }
  switch (r.code) {
    case SECURITY_EXIT.interactionNotAllowed:
      return {
        kind: 'interaction-not-allowed',
        code: r.code,
        message: 'the keychain is locked and macOS may not ask for its password here (errSecInteractionNotAllowed: an SSH session or another context without the login window); unlock it with `security unlock-keychain` in that session, or log in at the Mac',
      };
    case SECURITY_EXIT.authFailed:
      return { kind: 'auth-failed', code: r.code, message: 'macOS refused access to the keychain (errSecAuthFailed: "The user name or passphrase you entered is not correct.")' };
    case SECURITY_EXIT.userCanceled:
      return { kind: 'user-canceled', code: r.code, message: 'the macOS access dialog was denied or dismissed (errSecUserCanceled); nothing was read' };
    case null:
      return { kind: 'could-not-run', code: null, message: `security could not run: ${firstLineClean(r.stderr) || 'unknown error'}` };
    default: {
      const first = firstLineClean(r.stderr);
      return { kind: 'other', code: r.code, message: `security exited with ${r.code}${first ? `: ${first}` : ''}` };
    }
  }
}

/** stderr may echo a command line (a hex-encoded blob on the write path): first line, hex runs cut. */
function firstLineClean(stderr: string): string {
  return (stderr.trim().split('\n')[0] ?? '').replace(/[0-9a-fA-F]{16,}/g, '…');
}

/** Every generic password (class "genp") in `find-generic-password` or `dump-keychain` output. */
export function parseKeychainItems(stdout: string): KeychainItem[] {
  const items: KeychainItem[] = [];
  const blocks = stdout.split(/^(?=keychain: )/m).filter((b) => b.startsWith('keychain: '));
  for (const block of blocks) {
    const lines = block.split('\n');
    const keychain = decodeValue(lines[0]!.slice('keychain: '.length));
    const klass = lines.find((l) => l.startsWith('class: '));
    if (!klass || decodeValue(klass.slice('class: '.length)) !== 'genp') continue;
    const attrs = new Map<string, string | null>();
    for (const line of lines) {
      const m = /^\s+(?:"([^"]{4})"|0x([0-9A-Fa-f]{8}) )<[a-z0-9]+>=(.*)$/.exec(line);
      if (!m) continue;
      attrs.set(m[1] ?? `0x${m[2]!.toUpperCase()}`, decodeValue(m[3]!));
    }
    const service = attrs.get('svce');
    if (service === undefined || service === null || keychain === null) continue;
    const modified = timedate(attrs.get('mdat'));
    const created = timedate(attrs.get('cdat'));
    const label = attrs.get('0x00000007');
    items.push({
      keychain,
      service,
      account: attrs.get('acct') ?? '',
      ...(modified ? { modified } : {}),
      ...(created ? { created } : {}),
      ...(label ? { label } : {}),
    });
  }
  return items;
}

/**
 * One value as `print_buffer` writes it: `"text"` (bytes outside space..~ and the backslash as
 * `\ooo` octal escapes; quotes are not escaped), `0xHEX  "text"` when some bytes are not printable
 * (the hex is authoritative), `0xHEX ` when none is, `<NULL>` for no value, nothing for empty.
 */
export function decodeValue(raw: string): string | null {
  const s = raw.replace(/\r$/, '');
  if (s === '<NULL>') return null;
  const hex = /^0x([0-9A-Fa-f]*) /.exec(s);
  if (hex) return Buffer.from(hex[1]!, 'hex').toString('utf8');
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    const bytes: number[] = [];
    const body = s.slice(1, -1);
    for (let i = 0; i < body.length; i++) {
      const oct = body[i] === '\\' ? /^[0-7]{3}/.exec(body.slice(i + 1)) : null;
      if (oct) {
        bytes.push(parseInt(oct[0], 8));
        i += 3;
      } else bytes.push(body.charCodeAt(i) & 0xff);
    }
    return Buffer.from(bytes).toString('utf8');
  }
  return s.trim();
}

/** `"20250101120000Z\000"` (a CSSM time string, NUL-terminated) → ISO 8601. */
function timedate(v: string | null | undefined): string | undefined {
  const m = v ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z/.exec(v) : null;
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : undefined;
}

/**
 * `-w` prints the password bytes, or all of them as lowercase hex when any byte is not
 * printable (keychain_find.c `do_password_item_printing`); macOS 26 hex-encodes blobs older
 * releases printed as text (zenn.dev/omori432 "macOS Tahoe keychain hex encoding"). Only a run
 * of hex pairs that decodes to JSON text is taken as hex: a JSON blob starts with `{`, never a hex digit.
 */
export function decodeSecurityPassword(stdout: string): string {
  const s = stdout.replace(/\r?\n$/, '');
  if (/^(?:[0-9a-fA-F]{2})+$/.test(s)) {
    const decoded = Buffer.from(s, 'hex').toString('utf8');
    if (decoded.trimStart().startsWith('{')) return decoded;
  }
  return s;
}
