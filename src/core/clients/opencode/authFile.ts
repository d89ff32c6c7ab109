// The text format of opencode 1.18.33's MCP logins, `<data>/mcp-auth.json` (McpAuth in its
// bundle): one JSON object keyed by the server's name in the config, written with
// JSON.stringify(…, null, 2) (no final newline) and mode 0600, each value
//   { tokens?: { accessToken, refreshToken?, expiresAt? (epoch SECONDS, with a fraction), scope? },
//     clientInfo?: { clientId, clientSecret?, clientIdIssuedAt?, clientSecretExpiresAt? },
//     codeVerifier?, oauthState?, serverUrl? }
// (checked against the file a real 1.18.33 login wrote). How opencode reads it:
// - the whole file is decoded at once as Record<string, Entry>; when ANY entry has a wrong type
//   (null, a number where a string belongs) or the file is not JSON, opencode reads no login at
//   all, and its next write of any server (a login, even `opencode mcp list` starting one) replaces
//   the file with that one server: everything else is gone. So such a file is an error here and
//   is never written;
// - an entry is used only for the URL it was stored for: `getForUrl` returns nothing when
//   `serverUrl` is missing or differs from the config's `url` (exact string comparison). So a
//   login's storage key here is `<name>|<serverUrl>`: a changed URL leaves the old login unused,
//   as opencode does, instead of showing it as this server's.
// Nothing here ever logs a token.
import { applyEdits, modify, type JSONPath } from 'jsonc-parser';
import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod';
import type { Finding } from '../../model';
import type { GrantState, StoreContent } from '../../journal/losses';
import type { EntryFingerprints } from '../../credentials/backups';
import type { CredentialPatch, CredentialSecret, CredentialSummary } from '../../credentials/store';
import { STORE_FINDING, describeJson, isPlainObject, locationIn, offsetOfPath } from '../../credentials/storeFile';
import { firstErrorOffset } from '../../config/jsonTree';
import { fingerprint } from '../../storageKey';

export const AUTH_FILE_LABEL = "opencode's MCP login file";

/** The storage key of a login: opencode's entry name and the URL it is bound to. */
export function opencodeStorageKey(name: string, url: string): string {
  return `${name}|${url}`;
}

// opencode's Effect schemas, field for field: optional means absent (JSON null is a wrong type).
const Tokens = z.looseObject({ accessToken: z.string(), refreshToken: z.string().optional(), expiresAt: z.number().optional(), scope: z.string().optional() });
const ClientInfo = z.looseObject({
  clientId: z.string(),
  clientSecret: z.string().optional(),
  clientIdIssuedAt: z.number().optional(),
  clientSecretExpiresAt: z.number().optional(),
});
const Entry = z.looseObject({
  tokens: Tokens.optional(),
  clientInfo: ClientInfo.optional(),
  codeVerifier: z.string().optional(),
  oauthState: z.string().optional(),
  serverUrl: z.string().optional(),
});
type Entry = z.infer<typeof Entry>;

const NOTHING_READ =
  'opencode then reads no MCP login from this file at all, and its next write (a login, or `opencode mcp list` starting one) replaces the file with that one server, dropping every other login. Nothing will be written here until it is fixed.';

export interface AuthEntry {
  /** opencode's key: the server's name. */
  name: string;
  /** Our storage key, `<name>|<serverUrl>`. */
  key: string;
  raw: Entry;
}

export interface ParsedAuth {
  text: string;
  data: Record<string, unknown>;
  entries: Map<string, AuthEntry>;
  findings: Finding[];
}

export type AuthParse = { ok: true; parsed: ParsedAuth } | { ok: false; finding: Finding };

export function parseAuthFile(text: string, file: string): AuthParse {
  const bad = (code: string, title: string, detail: string, offset = 0): AuthParse => ({
    ok: false,
    finding: { code, severity: 'error', title, detail: `${detail} ${NOTHING_READ}`, location: locationIn(file, text, offset) },
  });
  if (text.trim() === '') return bad(STORE_FINDING.empty, `${AUTH_FILE_LABEL} is empty`, `${file} holds no data.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const first = firstErrorOffset(text, { disallowComments: true, allowTrailingComma: false });
    return bad(STORE_FINDING.invalidJson, `${AUTH_FILE_LABEL} is not valid JSON`, `${file} could not be parsed.`, first.offset);
  }
  if (!isPlainObject(value)) return bad(STORE_FINDING.wrongType, `${AUTH_FILE_LABEL} is not a JSON object`, `${file} holds ${describeJson(value)} where opencode expects an object of logins by server name.`);
  const entries = new Map<string, AuthEntry>();
  const findings: Finding[] = [];
  for (const [name, raw] of Object.entries(value)) {
    const r = Entry.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      const at = [name, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
      return bad(
        'credentials.invalid-entry',
        `${AUTH_FILE_LABEL} has an entry opencode cannot read`,
        `${file}: "${at.join('.')}" ${issue.path.length ? `holds ${describeJson(valueAt(raw, issue.path))}` : `is ${describeJson(raw)}`}, which opencode's schema refuses.`,
        offsetOfPath(text, at),
      );
    }
    const url = r.data.serverUrl ?? '';
    entries.set(name, { name, key: opencodeStorageKey(name, url), raw: r.data });
    if (r.data.tokens && !r.data.serverUrl) {
      findings.push({
        code: 'credentials.unbound-login',
        severity: 'warning',
        title: `opencode's login for "${name}" names no server URL`,
        detail: `${file}: the entry "${name}" has tokens but no "serverUrl"; opencode uses a login only for the URL it was stored for, so it never sends this one. Log in again in opencode (opencode mcp auth ${name}), or reset the entry.`,
        location: locationIn(file, text, offsetOfPath(text, [name])),
      });
    }
  }
  return { ok: true, parsed: { text, data: value, entries, findings } };
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let v = raw;
  for (const k of path) v = isPlainObject(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[k as never] : undefined;
  return v;
}

/** The entry our key names: its name and the URL it is bound to both agree. */
export function entryFor(parsed: ParsedAuth, key: string): AuthEntry | undefined {
  for (const e of parsed.entries.values()) if (e.key === key) return e;
  return undefined;
}

/** Seconds with a fraction (opencode) to milliseconds (every store's summary). */
const toMs = (s: number) => Math.round(s * 1000);

export function summaryOf(entry: AuthEntry): CredentialSummary {
  const t = entry.raw.tokens;
  const s: CredentialSummary = {
    key: entry.key,
    serverName: entry.name,
    hasAccessToken: !!t?.accessToken,
    hasRefreshToken: !!t?.refreshToken,
    scopes: t?.scope ? t.scope.split(/\s+/).filter(Boolean) : [],
    hasClientSecret: !!entry.raw.clientInfo?.clientSecret,
  };
  if (entry.raw.serverUrl) s.serverUrl = entry.raw.serverUrl;
  if (t?.accessToken) s.accessTokenFingerprint = fingerprint(t.accessToken);
  if (t?.refreshToken) s.refreshTokenFingerprint = fingerprint(t.refreshToken);
  if (typeof t?.expiresAt === 'number') s.expiresAt = toMs(t.expiresAt);
  if (entry.raw.clientInfo?.clientId) s.clientId = entry.raw.clientInfo.clientId;
  return s;
}

export function secretOf(entry: AuthEntry): CredentialSecret {
  const out: CredentialSecret = {};
  const t = entry.raw.tokens;
  if (t?.accessToken) out.accessToken = t.accessToken;
  if (t?.refreshToken) out.refreshToken = t.refreshToken;
  if (entry.raw.clientInfo?.clientSecret) out.clientSecret = entry.raw.clientInfo.clientSecret;
  return out;
}

export function fingerprintsOfEntry(entry: AuthEntry): EntryFingerprints {
  const s = summaryOf(entry);
  const out: EntryFingerprints = { key: entry.key, serverName: entry.name };
  if (s.serverUrl) out.serverUrl = s.serverUrl;
  if (s.accessTokenFingerprint) out.accessToken = s.accessTokenFingerprint;
  if (s.refreshTokenFingerprint) out.refreshToken = s.refreshTokenFingerprint;
  if (s.expiresAt !== undefined) out.expiresAt = s.expiresAt;
  return out;
}

interface Edit {
  path: JSONPath;
  value: unknown;
}

/** opencode writes JSON.stringify(…, null, 2); inserted members follow that. */
const FORMATTING = { insertSpaces: true, tabSize: 2, eol: '\n' };

/** Name and URL of a key that has no entry yet: the patch's, else the key's own halves. */
function newEntryTarget(key: string, patch: CredentialPatch): { name: string; url: string } {
  if (patch.serverName !== undefined && patch.serverUrl !== undefined && key === opencodeStorageKey(patch.serverName, patch.serverUrl)) return { name: patch.serverName, url: patch.serverUrl };
  const bar = key.indexOf('|');
  if (bar <= 0 || bar === key.length - 1) throw new Error(`"${key}" is not an opencode login key (<name>|<server URL>); nothing was written.`);
  return { name: key.slice(0, bar), url: key.slice(bar + 1) };
}

/**
 * The file's text after `patch` is applied to `key`'s entry, every byte outside the changed
 * members kept. A login for a name that has no entry is added as opencode's saveTokens shapes
 * it; one whose name holds a login for another URL replaces it, as opencode's next login would
 * (that login was unused: opencode binds a login to its URL). Fields opencode has no place for
 * (issuer, redirect URI) are not written.
 */
export function patchedText(current: ParsedAuth | undefined, key: string, patch: CredentialPatch): string {
  const existing = current ? entryFor(current, key) : undefined;
  if (!existing) {
    if (patch.accessToken === undefined) throw new Error(`opencode has no login under "${key}" and the change has no access token to create one with; nothing was written.`);
    const { name, url } = newEntryTarget(key, patch);
    const tokens: Record<string, unknown> = { accessToken: patch.accessToken };
    if (typeof patch.refreshToken === 'string') tokens.refreshToken = patch.refreshToken;
    if (typeof patch.expiresAt === 'number') tokens.expiresAt = patch.expiresAt / 1000;
    if (patch.scopes?.length) tokens.scope = patch.scopes.join(' ');
    const created: Record<string, unknown> = { tokens };
    if (patch.clientId !== undefined) created.clientInfo = { clientId: patch.clientId, ...(typeof patch.clientSecret === 'string' ? { clientSecret: patch.clientSecret } : {}) };
    created.serverUrl = url;
    if (!current) return JSON.stringify({ [name]: created }, null, 2);
    return edited(current, [{ path: [name], value: created }]);
  }
  const at = existing.name;
  const edits: Edit[] = [];
  const tokenEdits: [string, unknown][] = [];
  if (patch.accessToken !== undefined) tokenEdits.push(['accessToken', patch.accessToken]);
  if (patch.refreshToken !== undefined) tokenEdits.push(['refreshToken', patch.refreshToken ?? undefined]);
  if (patch.expiresAt !== undefined) tokenEdits.push(['expiresAt', patch.expiresAt === null ? undefined : patch.expiresAt / 1000]);
  if (patch.scopes !== undefined) tokenEdits.push(['scope', patch.scopes.length ? patch.scopes.join(' ') : undefined]);
  if (!existing.raw.tokens && tokenEdits.length) {
    if (patch.accessToken === undefined) throw new Error(`opencode's entry "${at}" holds no tokens and the change has no access token; nothing was written.`);
    edits.push({ path: [at, 'tokens'], value: Object.fromEntries(tokenEdits.filter(([, v]) => v !== undefined)) });
  } else {
    for (const [k, v] of tokenEdits) edits.push({ path: [at, 'tokens', k], value: v });
  }
  if (patch.clientId !== undefined && patch.clientId !== existing.raw.clientInfo?.clientId) {
    // A new client: its registration details are not the old one's.
    edits.push({ path: [at, 'clientInfo'], value: { clientId: patch.clientId, ...(typeof patch.clientSecret === 'string' ? { clientSecret: patch.clientSecret } : {}) } });
  } else if (patch.clientSecret !== undefined && existing.raw.clientInfo) {
    edits.push({ path: [at, 'clientInfo', 'clientSecret'], value: patch.clientSecret ?? undefined });
  }
  if (!edits.length) return current!.text;
  return edited(current!, edits);
}

/**
 * The text with `entries` (whole entries of another state of the file, by name) put back, every
 * other byte kept: how a restore writes logins a loss took.
 */
export function withEntries(current: ParsedAuth | undefined, entries: AuthEntry[]): string {
  if (!current) return JSON.stringify(Object.fromEntries(entries.map((x) => [x.name, x.raw])), null, 2);
  return edited(current, entries.map((x) => ({ path: [x.name], value: x.raw })));
}

/** The text without `key`'s entry (opencode's `mcp logout` deletes the name's entry whole). */
export function removedText(current: ParsedAuth, key: string): string {
  const e = entryFor(current, key);
  if (!e) return current.text;
  return edited(current, [{ path: [e.name], value: undefined }]);
}

function edited(current: ParsedAuth, edits: Edit[]): string {
  const expected: Record<string, unknown> = structuredClone(current.data);
  let text = current.text;
  for (const edit of edits) {
    text = applyEdits(text, modify(text, edit.path, edit.value, { formattingOptions: FORMATTING }));
    setIn(expected, edit.path, edit.value);
  }
  let result: unknown;
  try {
    result = JSON.parse(text);
  } catch {
    result = undefined;
  }
  if (!isDeepStrictEqual(result, expected)) throw new Error("Internal error: the edited opencode login file would not match the intended change; nothing was written.");
  return text;
}

function setIn(root: Record<string, unknown>, path: JSONPath, value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const k = String(head);
  if (rest.length === 0) {
    if (value === undefined) delete root[k];
    else root[k] = structuredClone(value);
    return;
  }
  if (!isPlainObject(root[k])) root[k] = {};
  setIn(root[k] as Record<string, unknown>, rest, value);
}

/**
 * The journal's view of a state of the file: every login as opencode reads it, by fingerprints.
 * A file opencode reads no login from (not JSON, not an object, one entry of a wrong type) is
 * 'unparsable': from the user's side every login is gone, and opencode's next write keeps one.
 */
export function journalContent(raw: string): StoreContent {
  if (raw.trim() === '') return { state: 'parsed', grants: [], accountGrants: [] };
  const parsed = parseAuthFile(raw, AUTH_FILE_LABEL);
  if (!parsed.ok) return { state: 'unparsable', why: parsed.finding.title.replace(`${AUTH_FILE_LABEL} `, '') };
  const grants = [...parsed.parsed.entries.values()].map((e): GrantState => {
    const g: GrantState = { key: e.key, serverName: e.name };
    if (e.raw.tokens?.accessToken) g.accessToken = fingerprint(e.raw.tokens.accessToken);
    if (e.raw.tokens?.refreshToken) g.refreshToken = fingerprint(e.raw.tokens.refreshToken);
    if (e.raw.clientInfo?.clientId) g.clientId = e.raw.clientInfo.clientId;
    return g;
  });
  return { state: 'parsed', grants, accountGrants: [] };
}
