// Claude Code 2.1.332's Keychain overflow: when its credential blob no longer fits one
// `security -i` line, it moves whole MCP grants (and, if need be, other sections) into an
// AES-256-GCM sealed item `<service>-overflow-a` or `-b`, and leaves a `keychainOverflow` pointer
// in the main item. Read from the shipped darwin-arm64 2.1.332 binary (`strings -n 8`, npm package
// @anthropic-ai/claude-code-darwin-arm64@2.1.332): the helper chunk exporting `eyt` (the overflow
// service name), `O` (the pointer), `LZl` (the split and seal), `w` (the layout), `U` (open), `A`
// (the merge) and `QQn` (a read with its overflow), and the Keychain store `L` beside `Io()`
// (`update`, `de`, `delete`). The linux-x64 build keeps only the reading half (`pzo`, `u`, `v`, `_`,
// `fga`): its macOS store is compiled out. Untested on macOS: this runs here only against a fake
// `security` and against the read functions of the installed linux-x64 binary.
//
// The key is no secret from anyone who can read the main item: it is 32 random bytes, base64, in
// the pointer itself (`{slot, key}`); the seal only binds an overflow item to the pointer that
// names it, so a stale or half-written slot fails to open instead of being merged.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod';

export const OVERFLOW_SLOTS = ['a', 'b'] as const;
export type OverflowSlot = (typeof OVERFLOW_SLOTS)[number];
/** `security -i` reads 4096-byte lines; 2.1.332 splits once its command line is longer than this (`X=4032`). */
export const KEYCHAIN_LINE_LIMIT = 4032;

const CIPHER = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** `eyt(service, slot)`: `${service}-overflow-${slot}`. */
export function overflowService(service: string, slot: OverflowSlot): string {
  return `${service}-overflow-${slot}`;
}

/**
 * The pointer (`keychainOverflow` in the main item). `login`, `organizationUuid` and `member` are
 * there only when a whole non-MCP section moved (then the item also gets `organizationUuid`, "" for
 * none): the merge puts such a section back only while the login it belonged to is still there.
 */
const PointerSchema = z
  .object({
    slot: z.enum(OVERFLOW_SLOTS),
    key: z.string(),
    login: z.string().optional(),
    organizationUuid: z.string().optional(),
    member: z.string().optional(),
  })
  .loose();
export type OverflowPointer = z.infer<typeof PointerSchema>;

/** `O(item)`: a pointer counts only with a known slot and a string key; anything else is ignored, as Claude Code does. */
export function overflowPointerOf(item: unknown): OverflowPointer | undefined {
  if (!isRecord(item)) return undefined;
  const r = PointerSchema.safeParse(item.keychainOverflow);
  return r.success ? r.data : undefined;
}

/** `N2o(item)`: the item without its pointer. */
export function withoutPointer(item: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...item };
  delete rest.keychainOverflow;
  return rest;
}

/** `U(pointer, sealed)`: base64 of iv(12) ‖ ciphertext ‖ tag(16), the plaintext being the sections' JSON. */
export function openOverflow(pointer: OverflowPointer, sealed: string): Record<string, unknown> | undefined {
  try {
    const bytes = Buffer.from(sealed.trim(), 'base64');
    const key = Buffer.from(pointer.key, 'base64');
    if (key.length !== KEY_BYTES || bytes.length < IV_BYTES + TAG_BYTES) return undefined;
    const d = createDecipheriv(CIPHER, key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    d.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const text = d.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES), undefined, 'utf8') + d.final('utf8');
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The sealing half of `LZl`: a fresh iv every time, the key from the pointer. */
export function sealOverflow(key: string, sections: Record<string, unknown>): string {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv(CIPHER, Buffer.from(key, 'base64'), iv, { authTagLength: TAG_BYTES });
  return Buffer.concat([iv, c.update(JSON.stringify(sections), 'utf8'), c.final(), c.getAuthTag()]).toString('base64');
}

// How each top-level section moves (`k` and `v(name, value)`): MCP grants and other maps "grow"
// entry by entry; login-bound sections move whole; "stays" never moves.
type SectionClass = 'login' | 'accountGrant' | 'stays' | 'grows' | 'organizationMoves' | 'organizationStays' | 'memberGrant';
const SECTION_CLASSES = new Map<string, SectionClass>(
  Object.entries({
    claudeAiOauth: 'login',
    designOauth: 'accountGrant',
    chatHistoryOauth: 'accountGrant',
    cloudSessionsOauth: 'accountGrant',
    cloudSessionsSignInEnded: 'stays',
    organizationUuid: 'stays',
    coworkRemoteDevice: 'grows',
    mcpOAuth: 'grows',
    mcpOAuthClientConfig: 'grows',
    pluginSecrets: 'grows',
    mcpXaaIdp: 'grows',
    mcpXaaIdpConfig: 'grows',
    enterpriseGateway: 'organizationMoves',
    gatewayTrust: 'stays',
    gatewayAllowlistEntries: 'stays',
    slackTag: 'stays',
    mcpDiscoveryCacheKey: 'stays',
  } satisfies Record<string, SectionClass>),
);
/** The order in which `LZl` considers moving sections: MCP grants first, the login last. */
const MOVE_ORDER: SectionClass[] = ['grows', 'memberGrant', 'accountGrant', 'login', 'organizationMoves'];

function classOf(name: string, value: unknown): SectionClass {
  if (name.startsWith('trusted')) return 'stays';
  return SECTION_CLASSES.get(name) ?? (field(value, 'organizationUuid') !== undefined && field(value, 'accountUuid') !== undefined ? 'organizationStays' : 'memberGrant');
}

/** `S(v)`: the first 16 hex of sha256 over the JSON. */
function fingerprint16(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);
}
/** `C(data)`: which login the item holds. */
function loginFingerprint(data: Record<string, unknown>): string {
  return fingerprint16([data.claudeAiOauth]);
}
/** `x(data)`: which organisation memberships the item holds. */
function memberFingerprint(data: Record<string, unknown>): string {
  return fingerprint16(
    Object.entries(data)
      .filter(([k, v]) => classOf(k, v) === 'organizationStays')
      .map(([k, v]) => JSON.stringify([k, field(v, 'organizationUuid'), field(v, 'accountUuid')]))
      .sort(),
  );
}

/**
 * `A(item, sections)`: what Claude Code reads. An MCP grant in the item wins over the overflow's
 * copy unless the item's copy has no access token; other maps merge item-over-overflow;
 * `pluginSecrets` merge field by field; a whole section comes back only while its login matches.
 */
export function mergeOverflow(item: Record<string, unknown>, sections: Record<string, unknown>): Record<string, unknown> {
  const plain = withoutPointer(item);
  const pointer = overflowPointerOf(item);
  const loginHolds =
    plain.claudeAiOauth === undefined || plain.organizationUuid === ''
      ? pointer?.login !== undefined && pointer.organizationUuid === plain.organizationUuid
      : pointer?.login === loginFingerprint(plain);
  const member = memberFingerprint(plain);
  const memberHolds = pointer?.member === member && (member === memberFingerprint({}) ? loginHolds : plain.organizationUuid !== undefined);
  const out = new Map(Object.entries(plain));
  if (plain.organizationUuid === '') out.delete('organizationUuid');
  for (const [name, value] of Object.entries(sections)) {
    const cls = classOf(name, value);
    if (cls === 'grows') {
      const merged = new Map(Object.entries(isRecord(value) ? value : {}));
      const inItem = out.get(name);
      for (const [key, entry] of Object.entries(isRecord(inItem) ? inItem : {})) {
        if (name !== 'mcpOAuth' || field(entry, 'accessToken') || !merged.has(key)) {
          merged.set(key, name === 'pluginSecrets' && merged.has(key) ? { ...(merged.get(key) as object), ...(entry as object) } : entry);
        }
      }
      out.set(name, Object.fromEntries(merged));
    } else if (cls !== 'stays' && (cls === 'memberGrant' ? memberHolds : loginHolds) && !out.has(name)) {
      out.set(name, value);
    }
  }
  return Object.fromEntries(out);
}

export interface OverflowLayout {
  /** The main item's content, pointer included. */
  item: Record<string, unknown>;
  pointer: OverflowPointer;
  sections: Record<string, unknown>;
  /** `S([sections])`: lets a later split keep the slot and key when the overflow did not change. */
  holds: string;
}

interface Candidate {
  section: string;
  entry?: string;
  size: number;
}

/** `w(data, moved, pointer)`: the item and the sections when `moved` leave the item. */
function layoutOf(data: Record<string, unknown>, moved: Candidate[], base: { slot: OverflowSlot; key: string }): Omit<OverflowLayout, 'holds'> {
  const leaving = new Set<string>();
  for (const { section, entry } of moved) {
    leaving.add(JSON.stringify([section, entry]));
    // An MCP grant takes its client config along; an organisation's gateway takes the login.
    if (section === 'mcpOAuth') leaving.add(JSON.stringify(['mcpOAuthClientConfig', entry]));
    else if (SECTION_CLASSES.get(section) === 'organizationMoves') leaving.add(JSON.stringify(['claudeAiOauth', entry]));
  }
  const kept = new Map(Object.entries(data));
  const sections = new Map<string, unknown>();
  let wholeMoved = false;
  for (const [name, value] of Object.entries(data)) {
    if (SECTION_CLASSES.get(name) === 'grows') {
      const all = Object.entries(isRecord(value) ? value : {});
      const stay = all.filter(([k]) => !leaving.has(JSON.stringify([name, k])));
      if (stay.length < all.length) {
        kept.set(name, Object.fromEntries(stay));
        sections.set(name, Object.fromEntries(all.filter(([k]) => leaving.has(JSON.stringify([name, k])))));
      }
    } else if (value && leaving.has(JSON.stringify([name, undefined]))) {
      kept.delete(name);
      sections.set(name, value);
      wholeMoved = true;
    }
  }
  if (wholeMoved) kept.set('organizationUuid', data.organizationUuid ?? '');
  const rest = Object.fromEntries(kept);
  const pointer: OverflowPointer = {
    ...base,
    ...(wholeMoved ? { login: loginFingerprint(rest), organizationUuid: rest.organizationUuid as string, member: memberFingerprint(rest) } : {}),
  };
  return { item: { ...rest, keychainOverflow: pointer }, pointer, sections: Object.fromEntries([...sections].sort(([a], [b]) => (a < b ? -1 : 1))) };
}

/**
 * `LZl(data, slot, fits, previous)`: the fewest sections, largest first, whose move lets the item
 * fit; `previous` layouts with the same overflow keep their slot and key (then the overflow item
 * need not change). Undefined when even moving everything movable does not fit.
 */
export function splitForKeychain(
  data: Record<string, unknown>,
  slot: OverflowSlot,
  fits: (item: Record<string, unknown>) => boolean,
  previous: Pick<OverflowLayout, 'pointer' | 'holds'>[] = [],
): (OverflowLayout & { sealed: string }) | undefined {
  const fresh = { slot, key: randomBytes(KEY_BYTES).toString('base64') };
  const present = Object.entries(data).filter(([, v]) => v !== undefined && v !== null);
  const orgBound = present.some(([k, v]) => ['organizationStays', 'organizationMoves'].includes(classOf(k, v)));
  const candidates = MOVE_ORDER.flatMap((cls) =>
    present
      .filter(([k, v]) => classOf(k, v) === cls && (cls !== 'login' || orgBound) && (cls === 'grows' || field(v, 'standalone') !== true))
      .flatMap(([k, v]): Candidate[] =>
        cls === 'grows'
          ? Object.entries(isRecord(v) ? v : {}).map(([entry, e]) => ({ section: k, entry, size: JSON.stringify([e]).length }))
          : [{ section: k, size: JSON.stringify(v).length }],
      )
      .sort((a, b) => b.size - a.size || a.section.localeCompare(b.section)),
  );
  const last = candidates.findIndex((_, i) => fits(layoutOf(data, candidates.slice(0, i + 1), fresh).item));
  if (last === -1) return undefined;
  let moved = candidates.slice(0, last + 1);
  for (const c of candidates.slice(0, last).reverse()) {
    const without = moved.filter((m) => m !== c);
    if (fits(layoutOf(data, without, fresh).item)) moved = without;
  }
  const holds = fingerprint16([layoutOf(data, moved, fresh).sections]);
  const reuse = previous.find((p) => p.holds === holds && p.pointer.key.length === fresh.key.length)?.pointer;
  const layout = layoutOf(data, moved, reuse ? { slot: reuse.slot, key: reuse.key } : fresh);
  return { ...layout, holds, sealed: sealOverflow(layout.pointer.key, layout.sections) };
}

export function overflowHolds(sections: Record<string, unknown>): string {
  return fingerprint16([sections]);
}

/**
 * `fe(data)`: the hex Claude Code 2.1.332 puts in `-X`, of the compact JSON with every character
 * outside printable ASCII as `\uXXXX`; its split is measured on this line.
 */
export function keychainHex(data: Record<string, unknown>): string {
  return Buffer.from(keychainText(data), 'utf8').toString('hex');
}

/** The text behind `fe`'s hex: what the item then holds. */
export function keychainText(data: Record<string, unknown>): string {
  return JSON.stringify(data).replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `x(account, service, data)`: the `security -i` line Claude Code writes the main item with. */
export function keychainLine(account: string, service: string, data: Record<string, unknown>): string {
  return `add-generic-password -U -a "${account}" -s "${service}" -X "${keychainHex(data)}"\n`;
}

export function sameSections(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return isDeepStrictEqual(a, b);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(v: unknown, k: string): unknown {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
}
