// The text format of Gemini CLI 0.61.0's MCP token file, `~/.gemini/mcp-oauth-tokens.json`
// (MCPOAuthTokenStorage, chunk-JDPZ4CE3.js:368128-368290): a JSON array, written with
// JSON.stringify(array, null, 2) and mode 0600, of
//   { serverName, token: { accessToken, tokenType, refreshToken?, scope?, expiresAt? (epoch ms) },
//     clientId?, tokenUrl?, mcpServerUrl?, updatedAt (epoch ms) }
// (saveToken :368207; checked against the file a real 0.61.0 login wrote). Gemini reads it into a
// Map by serverName, so the last entry of a name wins (:368166). A file that is not JSON or not an
// array leaves it with no tokens at all (:368169); a null entry stops its loop there, so it keeps
// the entries before it and none after (seen with the real 0.61.0: with [lab, second, null] it
// still connects to both, "Failed to load MCP OAuth tokens: Cannot read properties of null"). Its
// next login then writes what it read plus the new one (setCredentials :368182): every entry from
// the null on is gone.
// A refresh keeps the old refresh token when the server sends none (:369004) and is filed by
// saveToken with a fresh updatedAt. Nothing here ever logs a token.
import { applyEdits, modify, type JSONPath } from 'jsonc-parser';
import { isDeepStrictEqual } from 'node:util';
import type { Finding } from '../../model';
import type { GrantState, StoreContent } from '../../journal/losses';
import type { EntryFingerprints } from '../../credentials/backups';
import type { CredentialPatch, CredentialSecret, CredentialSummary } from '../../credentials/store';
import { STORE_FINDING, describeJson, isPlainObject, locationIn, offsetOfPath } from '../../credentials/storeFile';
import { firstErrorOffset } from '../../config/jsonTree';
import { fingerprint } from '../../storageKey';

export const TOKEN_FILE_LABEL = "Gemini CLI's MCP token file";

/** Codes this store adds to STORE_FINDING's (both are in docs/findings.md). */
export const GEMINI_STORE_FINDING = { ...STORE_FINDING, invalidEntry: 'credentials.invalid-entry' } as const;

const NOTHING_READ = 'Gemini CLI then reads no MCP login from it at all, and its next login replaces the file with that one server only. Nothing will be written here until it is fixed.';

export interface TokenEntry {
  /** Position in the array. */
  index: number;
  /** The server name: Gemini's key. */
  key: string;
  raw: Record<string, unknown>;
}

export interface ParsedTokens {
  text: string;
  data: unknown[];
  /** Entries by key, the last of each name (the one Gemini uses). */
  entries: Map<string, TokenEntry>;
  /** Every index that holds each key (duplicates included), in file order. */
  indices: Map<string, number[]>;
  findings: Finding[];
  /**
   * The index of a null entry, where Gemini stops reading: the entries from there on are not read,
   * and are not in `entries`. Nothing is written to such a file (its finding says why).
   */
  unreadFrom?: { index: number; finding: Finding };
}

export type TokenParse = { ok: true; parsed: ParsedTokens } | { ok: false; finding: Finding };

export function parseTokenFile(text: string, file: string): TokenParse {
  const bad = (code: string, title: string, detail: string, offset = 0): TokenParse => ({
    ok: false,
    finding: { code, severity: 'error', title, detail: `${detail} ${NOTHING_READ}`, location: locationIn(file, text, offset) },
  });
  if (text.trim() === '') return bad(STORE_FINDING.empty, `${TOKEN_FILE_LABEL} is empty`, `${file} holds no data.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const first = firstErrorOffset(text, { disallowComments: true, allowTrailingComma: false });
    return bad(STORE_FINDING.invalidJson, `${TOKEN_FILE_LABEL} is not valid JSON`, `${file} could not be parsed.`, first.offset);
  }
  if (!Array.isArray(value)) return bad(STORE_FINDING.wrongType, `${TOKEN_FILE_LABEL} is not a JSON array`, `${file} holds ${describeJson(value)} where Gemini CLI expects an array of logins.`);
  const entries = new Map<string, TokenEntry>();
  const indices = new Map<string, number[]>();
  const findings: Finding[] = [];
  let unreadFrom: ParsedTokens['unreadFrom'];
  for (const [index, raw] of value.entries()) {
    // null.serverName throws inside Gemini's loop: it keeps what it read before, nothing after.
    if (raw === null || raw === undefined) {
      const after = value.length - index - 1;
      unreadFrom = {
        index,
        finding: {
          code: GEMINI_STORE_FINDING.invalidEntry,
          severity: 'error',
          title: `${TOKEN_FILE_LABEL} has an entry Gemini CLI cannot read`,
          detail:
            `Entry ${index + 1} of ${file} is ${describeJson(raw)}. Gemini CLI stops reading there: it uses the ${index} login(s) before it and none of the ${after} after it, ` +
            `and its next login rewrites the file without this entry and those ${after}. Nothing will be written here until it is fixed (remove that entry).`,
          location: locationIn(file, text, offsetOfPath(text, [index])),
        },
      };
      findings.unshift(unreadFrom.finding);
      break;
    }
    if (!isPlainObject(raw) || typeof raw.serverName !== 'string') {
      findings.push({
        code: GEMINI_STORE_FINDING.invalidEntry,
        severity: 'warning',
        title: `${TOKEN_FILE_LABEL} has an entry without a server name`,
        detail: `Entry ${index + 1} of ${file} holds ${isPlainObject(raw) ? 'an object without a string "serverName"' : describeJson(raw)}; Gemini CLI files it under no server.`,
        location: locationIn(file, text, offsetOfPath(text, [index])),
      });
      continue;
    }
    const key = raw.serverName;
    entries.set(key, { index, key, raw });
    indices.set(key, [...(indices.get(key) ?? []), index]);
    if (!isPlainObject(raw.token) || typeof raw.token.accessToken !== 'string') {
      findings.push({
        code: GEMINI_STORE_FINDING.invalidEntry,
        severity: 'error',
        title: `Gemini CLI's login for "${key}" has no token`,
        detail: `Entry ${index + 1} of ${file} has no "token" object with a string "accessToken"; Gemini CLI fails when it reads this server's login. Log in again (or reset the entry).`,
        location: locationIn(file, text, offsetOfPath(text, [index])),
      });
    }
  }
  for (const [key, at] of indices) {
    if (at.length < 2) continue;
    findings.push({
      code: STORE_FINDING.duplicateServer,
      severity: 'warning',
      title: `${at.length} credential entries for "${key}"`,
      detail: `Entries ${at.map((i) => i + 1).join(', ')} of ${file} are all for "${key}"; Gemini CLI uses the last one and drops the others on its next write.`,
      location: locationIn(file, text, offsetOfPath(text, [at[at.length - 1]!])),
    });
  }
  return { ok: true, parsed: { text, data: value, entries, indices, findings, ...(unreadFrom ? { unreadFrom } : {}) } };
}

function tokenOf(raw: Record<string, unknown>): Record<string, unknown> {
  return isPlainObject(raw.token) ? raw.token : {};
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

export function summaryOf(entry: TokenEntry): CredentialSummary {
  const t = tokenOf(entry.raw);
  const at = str(t.accessToken);
  const rt = str(t.refreshToken);
  const s: CredentialSummary = {
    key: entry.key,
    serverName: entry.key,
    hasAccessToken: at !== undefined,
    hasRefreshToken: rt !== undefined,
    scopes: typeof t.scope === 'string' ? t.scope.split(/\s+/).filter(Boolean) : [],
    // Gemini never stores a client secret: a confidential client's comes from oauth.clientSecret in settings.
    hasClientSecret: false,
  };
  const url = str(entry.raw.mcpServerUrl);
  if (url) s.serverUrl = url;
  if (at) s.accessTokenFingerprint = fingerprint(at);
  if (rt) s.refreshTokenFingerprint = fingerprint(rt);
  if (typeof t.expiresAt === 'number') s.expiresAt = t.expiresAt;
  const clientId = str(entry.raw.clientId);
  if (clientId) s.clientId = clientId;
  return s;
}

export function secretOf(entry: TokenEntry): CredentialSecret {
  const t = tokenOf(entry.raw);
  const out: CredentialSecret = {};
  const at = str(t.accessToken);
  const rt = str(t.refreshToken);
  if (at) out.accessToken = at;
  if (rt) out.refreshToken = rt;
  return out;
}

export function fingerprintsOfEntry(key: string, raw: unknown): EntryFingerprints {
  const e = isPlainObject(raw) ? raw : {};
  const t = tokenOf(e);
  const out: EntryFingerprints = { key };
  if (typeof e.serverName === 'string') out.serverName = e.serverName;
  const url = str(e.mcpServerUrl);
  if (url) out.serverUrl = url;
  const at = str(t.accessToken);
  const rt = str(t.refreshToken);
  if (at) out.accessToken = fingerprint(at);
  if (rt) out.refreshToken = fingerprint(rt);
  if (typeof t.expiresAt === 'number') out.expiresAt = t.expiresAt;
  return out;
}

interface Edit {
  path: JSONPath;
  value: unknown;
}

/** Gemini writes JSON.stringify(…, null, 2); inserted members follow that. */
const FORMATTING = { insertSpaces: true, tabSize: 2, eol: '\n' };

/**
 * The file's text after `patch` is applied to `key`'s entry (the one Gemini uses), every byte
 * outside the changed members kept; a new entry is appended as Gemini's saveToken shapes it.
 * Fields Gemini has no place for (client secret, issuer, redirect URI) are not written.
 */
export function patchedText(current: ParsedTokens | undefined, key: string, patch: CredentialPatch, now: number): string {
  const entry = current?.entries.get(key);
  if (!current || !entry) {
    if (patch.accessToken === undefined) throw new Error(`Gemini CLI has no login for "${key}" and the change has no access token to create one with; nothing was written.`);
    const token: Record<string, unknown> = { accessToken: patch.accessToken, tokenType: 'Bearer' };
    if (typeof patch.refreshToken === 'string') token.refreshToken = patch.refreshToken;
    if (patch.scopes?.length) token.scope = patch.scopes.join(' ');
    if (typeof patch.expiresAt === 'number') token.expiresAt = patch.expiresAt;
    const created: Record<string, unknown> = { serverName: key, token };
    if (patch.clientId !== undefined) created.clientId = patch.clientId;
    if (patch.serverUrl !== undefined) created.mcpServerUrl = patch.serverUrl;
    created.updatedAt = now;
    if (!current) return JSON.stringify([created], null, 2);
    return edited(current, [{ path: [current.data.length], value: created }], true);
  }
  const at = entry.index;
  const edits: Edit[] = [];
  const hasToken = isPlainObject(entry.raw.token);
  const tokenEdits: [string, unknown][] = [];
  if (patch.accessToken !== undefined) tokenEdits.push(['accessToken', patch.accessToken]);
  if (patch.refreshToken !== undefined) tokenEdits.push(['refreshToken', patch.refreshToken ?? undefined]);
  if (patch.expiresAt !== undefined) tokenEdits.push(['expiresAt', patch.expiresAt ?? undefined]);
  if (patch.scopes !== undefined) tokenEdits.push(['scope', patch.scopes.length ? patch.scopes.join(' ') : undefined]);
  if (!hasToken && tokenEdits.length) {
    edits.push({ path: [at, 'token'], value: { tokenType: 'Bearer', ...Object.fromEntries(tokenEdits.filter(([, v]) => v !== undefined)) } });
  } else {
    for (const [k, v] of tokenEdits) edits.push({ path: [at, 'token', k], value: v });
  }
  if (patch.clientId !== undefined) edits.push({ path: [at, 'clientId'], value: patch.clientId });
  if (patch.serverUrl !== undefined) edits.push({ path: [at, 'mcpServerUrl'], value: patch.serverUrl });
  if (!edits.length) return current.text;
  edits.push({ path: [at, 'updatedAt'], value: now });
  return edited(current, edits, false);
}

/**
 * The text with `entries` (whole entries of another state of the file) put back: each replaces
 * the entry Gemini uses for its name, or is appended; every other byte stays.
 */
export function withEntries(current: ParsedTokens | undefined, entries: TokenEntry[]): string {
  if (!current) return JSON.stringify(entries.map((x) => x.raw), null, 2);
  const replacing = entries.filter((x) => current.entries.has(x.key));
  let text = replacing.length ? edited(current, replacing.map((x) => ({ path: [current.entries.get(x.key)!.index], value: x.raw })), false) : current.text;
  const appending = entries.filter((x) => !current.entries.has(x.key));
  if (!appending.length) return text;
  const now = parseTokenFile(text, 'the edited file');
  if (!now.ok) throw new Error('Internal error: the edited Gemini CLI token file does not parse; nothing was written.');
  text = edited(now.parsed, appending.map((x, i) => ({ path: [now.parsed.data.length + i], value: x.raw })), true);
  return text;
}

/**
 * The journal's view of a state of the file, as Gemini reads it: a file it reads no login from
 * (not JSON, not an array, a null entry) is 'unparsable', since its next login then writes a file
 * holding that one server.
 */
export function journalContent(raw: string): StoreContent {
  if (raw.trim() === '') return { state: 'parsed', grants: [], accountGrants: [] };
  const parsed = parseTokenFile(raw, TOKEN_FILE_LABEL);
  if (!parsed.ok) return { state: 'unparsable', why: parsed.finding.title.replace(`${TOKEN_FILE_LABEL} `, '') };
  const grants = [...parsed.parsed.entries.values()].map((e): GrantState => {
    const f = fingerprintsOfEntry(e.key, e.raw);
    const g: GrantState = { key: e.key, serverName: e.key };
    if (f.accessToken) g.accessToken = f.accessToken;
    if (f.refreshToken) g.refreshToken = f.refreshToken;
    const clientId = str(e.raw.clientId);
    if (clientId) g.clientId = clientId;
    return g;
  });
  return { state: 'parsed', grants, accountGrants: [] };
}

/** The text without any entry of `key` (Gemini's deleteCredentials drops every one of that name). */
export function removedText(current: ParsedTokens, key: string): string {
  const at = [...(current.indices.get(key) ?? [])].sort((a, b) => b - a);
  return edited(
    current,
    at.map((i) => ({ path: [i], value: undefined })),
    false,
  );
}

function edited(current: ParsedTokens, edits: Edit[], append: boolean): string {
  const expected: unknown[] = structuredClone(current.data);
  let text = current.text;
  for (const edit of edits) {
    text = applyEdits(text, modify(text, edit.path, edit.value, { formattingOptions: FORMATTING, ...(append ? { isArrayInsertion: true } : {}) }));
    setIn(expected, edit.path, edit.value);
  }
  let result: unknown;
  try {
    result = JSON.parse(text);
  } catch {
    result = undefined;
  }
  if (!isDeepStrictEqual(result, expected)) throw new Error('Internal error: the edited Gemini CLI token file would not match the intended change; nothing was written.');
  return text;
}

function setIn(root: unknown[] | Record<string, unknown>, path: JSONPath, value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    if (Array.isArray(root) && typeof head === 'number') {
      if (value === undefined) root.splice(head, 1);
      else root[head] = structuredClone(value);
    } else {
      const obj = root as Record<string, unknown>;
      if (value === undefined) delete obj[String(head)];
      else obj[String(head)] = structuredClone(value);
    }
    return;
  }
  const next = (root as Record<string | number, unknown>)[head as never];
  setIn(next as Record<string, unknown>, rest, value);
}
