// Claude Code's credential blob as data: parsing (with findings), summaries by fingerprint, and
// edits that change one entry while every other byte of the text stays as it was.
import { isDeepStrictEqual } from 'node:util';
import { applyEdits, modify, type FormattingOptions } from 'jsonc-parser';
import * as z from 'zod';
import type { Finding } from '../model';
import { fingerprint } from '../storageKey';
import type { EntryFingerprints, StoreShape } from './backups';
import type { CredentialPatch, CredentialSummary, StoreKind } from './store';
import { STORE_FINDING, describeJson, isPlainObject, locationIn, malformed, offsetOfPath, parseJsonStore, type StoreOrigin } from './storeFile';

export const CLAUDE_STORE_LABEL = "Claude Code's credential store";
export const CLAUDE_MALFORMED_CONSEQUENCE =
  'Claude Code reads such a store as empty, and its next login then saves a store holding only that one server, ' +
  'logging you out of Claude and every other MCP server (anthropics/claude-code#28542, #45551). ' +
  'Restore a snapshot (mcp-auth-doctor backups / restore) or fix it by hand; nothing is written to it until then.';

// An mcpOAuth entry as Claude Code writes it (shared/docs/client-formats.md for 2.1.197); other
// fields are kept. 2.1.332 (read from the shipped binary, bNn.saveClientInformation / saveTokens,
// and seen after `claude mcp list` / `claude mcp login` at the lab) adds a top-level `issuer`, a
// `stepUpScope`, and in discoveryState `authServerMetadataUrl` (null when none is configured),
// `tokenlessRejectedAt` (ms: the server answered 401 to a request without a token) and
// `registrationNotOfferedAt`. Its `claude mcp list` writes a discovery-only entry (no clientId,
// accessToken "") per server that asks for a login; 2.1.197 registered a client there instead.
export const EntrySchema = z
  .object({
    serverName: z.string().nullish(),
    issuer: z.string().nullish(),
    serverUrl: z.string().nullish(),
    clientId: z.string().nullish(),
    clientSecret: z.string().nullish(),
    redirectUri: z.string().nullish(),
    accessToken: z.string().nullish(),
    refreshToken: z.string().nullish(),
    expiresAt: z.number().nullish(),
    scope: z.string().nullish(),
    discoveryState: z
      .object({
        authorizationServerUrl: z.string().nullish(),
        resourceMetadataUrl: z.string().nullish(),
        oauthMetadataFound: z.boolean().nullish(),
        tokenlessRejectedAt: z.number().nullish(),
      })
      .loose()
      .nullish(),
  })
  .loose();
export type ClaudeEntry = z.infer<typeof EntrySchema>;

export interface ParsedEntry {
  key: string;
  raw: unknown;
  /** Undefined when the entry has fields of the wrong type; `problem` then says which. */
  entry?: ClaudeEntry;
  problem?: Finding;
}

export interface ParsedBlob {
  text: string;
  data: Record<string, unknown>;
  entries: ParsedEntry[];
}

/** Where a blob was read: the file (findings get a line) or the Keychain item. */
export interface BlobOrigin {
  kind: StoreKind;
  location: string;
  file?: string;
}


/**
 * The client secret 2.1.332 keeps apart from the grant, for a server configured with its own
 * `oauth.clientId` (`claude mcp add … --client-secret`): `mcpOAuthClientConfig[<key>].clientSecret`
 * (its resolveClientInformation reads it there; 2.1.197 had no such key). A secret stored in the
 * entry itself (a registered confidential client) comes first.
 */
export function configuredClientSecret(data: Record<string, unknown>, key: string): string | undefined {
  const config = data.mcpOAuthClientConfig;
  if (!isPlainObject(config)) return undefined;
  const forKey = config[key];
  return isPlainObject(forKey) && typeof forKey.clientSecret === 'string' && forKey.clientSecret.length > 0 ? forKey.clientSecret : undefined;
}
/** Parses the blob; a blob unusable as a whole is a finding, an entry of the wrong shape is kept aside with its own. */
export function parseClaudeBlob(text: string, where: BlobOrigin): { ok: true; blob: ParsedBlob } | { ok: false; finding: Finding } {
  const origin: StoreOrigin = {
    label: where.kind === 'keychain' ? `${CLAUDE_STORE_LABEL} (${where.location})` : CLAUDE_STORE_LABEL,
    file: where.file,
    consequence: CLAUDE_MALFORMED_CONSEQUENCE,
  };
  const parsed = parseJsonStore(text, origin);
  if (!parsed.ok) return parsed;
  const data = parsed.value;
  const mcp = data.mcpOAuth;
  if (mcp !== undefined && !isPlainObject(mcp)) {
    return malformed(
      origin,
      STORE_FINDING.wrongType,
      `${origin.label}: "mcpOAuth" is not an object`,
      `"mcpOAuth" holds ${describeJson(mcp)}; Claude Code expects a map of MCP grants. ${CLAUDE_MALFORMED_CONSEQUENCE}`,
      offsetOfPath(text, ['mcpOAuth']),
      text,
    );
  }
  const blob: ParsedBlob = { text, data, entries: [] };
  for (const [key, raw] of Object.entries(mcp ?? {})) {
    const r = EntrySchema.safeParse(raw);
    if (r.success) {
      blob.entries.push({ key, raw, entry: r.data });
    } else {
      const fields = [...new Set(r.error.issues.map((i) => i.path.join('.') || '(the entry itself)'))].join(', ');
      blob.entries.push({
        key,
        raw,
        problem: {
          code: STORE_FINDING.wrongType,
          severity: 'error',
          title: `MCP grant "${key}" has fields of the wrong type`,
          detail: `In ${where.location}, the entry ${key} has unexpected values in: ${fields}. Claude Code may fail to use it; it is left as it is and not written to.`,
          ...(where.file ? { location: locationIn(where.file, text, offsetOfPath(text, ['mcpOAuth', key])) } : {}),
        },
      });
    }
  }
  return { ok: true, blob };
}

export function summaryOf(key: string, e: ClaudeEntry): CredentialSummary {
  const at = nonEmpty(e.accessToken);
  const rt = nonEmpty(e.refreshToken);
  const d = e.discoveryState;
  return omitUndefined({
    key,
    serverName: e.serverName ?? undefined,
    serverUrl: e.serverUrl ?? undefined,
    hasAccessToken: at !== undefined,
    accessTokenFingerprint: at !== undefined ? fingerprint(at) : undefined,
    hasRefreshToken: rt !== undefined,
    refreshTokenFingerprint: rt !== undefined ? fingerprint(rt) : undefined,
    expiresAt: e.expiresAt ?? undefined,
    scopes: e.scope ? e.scope.split(/\s+/).filter(Boolean) : [],
    clientId: e.clientId ?? undefined,
    issuer: e.issuer ?? undefined,
    hasClientSecret: nonEmpty(e.clientSecret) !== undefined,
    redirectUri: e.redirectUri ?? undefined,
    discovery: d
      ? omitUndefined({
          authorizationServerUrl: d.authorizationServerUrl ?? undefined,
          resourceMetadataUrl: d.resourceMetadataUrl ?? undefined,
          oauthMetadataFound: d.oauthMetadataFound ?? undefined,
        })
      : undefined,
  });
}

export function fingerprintsOf(key: string, raw: unknown): EntryFingerprints {
  const e = isPlainObject(raw) ? raw : {};
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const at = str(e.accessToken);
  const rt = str(e.refreshToken);
  return omitUndefined({
    key,
    serverName: str(e.serverName),
    serverUrl: str(e.serverUrl),
    accessToken: at !== undefined ? fingerprint(at) : undefined,
    refreshToken: rt !== undefined ? fingerprint(rt) : undefined,
    expiresAt: typeof e.expiresAt === 'number' ? e.expiresAt : undefined,
  });
}

export function shapeOf(data: Record<string, unknown>): StoreShape {
  const mcp = data.mcpOAuth;
  return { topLevelKeys: Object.keys(data), entryKeys: isPlainObject(mcp) ? Object.keys(mcp) : [] };
}

export interface BlobEdit {
  path: [string, ...string[]];
  /** undefined removes the property. */
  value: unknown;
}

/** Sets or adds one entry from a patch, mapping CredentialPatch to Claude Code's field names. */
export function patchEntry(blob: ParsedBlob | undefined, key: string, patch: CredentialPatch): { text: string; shape: StoreShape } | undefined {
  const existing = blob?.entries.find((p) => p.key === key);
  if (!existing) {
    const entry = newEntry(key, patch);
    if (!blob) {
      // Claude Code's own serialisation: compact JSON.
      const data = { mcpOAuth: { [key]: entry } };
      return { text: JSON.stringify(data), shape: shapeOf(data) };
    }
    return editBlob(blob, [{ path: ['mcpOAuth', key], value: entry }]);
  }
  const edits: BlobEdit[] = fieldUpdates(patch).map(([field, value]) => ({ path: ['mcpOAuth', key, field], value }));
  const state = isPlainObject(existing.raw) ? existing.raw.discoveryState : undefined;
  // `discoveryState.tokenlessRejectedAt` stays as it is: a real 2.1.332 `claude mcp login` leaves it
  // beside the tokens it saves (saveDiscoveryState carries it over after saveTokens), and claude
  // only consults it for an entry with no token (seen in interop/claudeStore and repairLogin).
  if (patch.issuer !== undefined) {
    // Claude Code binds a login to its authorization server through discoveryState; keep that in
    // step with the issuer the tokens came from, so neither it nor we reuse them at another server.
    edits.push(
      isPlainObject(state)
        ? { path: ['mcpOAuth', key, 'discoveryState', 'authorizationServerUrl'], value: patch.issuer }
        : { path: ['mcpOAuth', key, 'discoveryState'], value: { authorizationServerUrl: patch.issuer } },
    );
  }
  return editBlob(blob!, edits);
}

/**
 * Claude Code's field names. `issuer` goes to discoveryState.authorizationServerUrl (what 2.1.197
 * binds a login to; patchEntry, newEntry) and, for 2.1.332, also to the entry's own `issuer`,
 * which it saves with every client and token and hands back to the SDK for its issuer check.
 */
function fieldUpdates(patch: CredentialPatch): [string, unknown][] {
  const out: [string, unknown][] = [];
  if (patch.issuer !== undefined) out.push(['issuer', patch.issuer]);
  if (patch.serverName !== undefined) out.push(['serverName', patch.serverName]);
  if (patch.serverUrl !== undefined) out.push(['serverUrl', patch.serverUrl]);
  if (patch.accessToken !== undefined) out.push(['accessToken', patch.accessToken]);
  if (patch.refreshToken !== undefined) out.push(['refreshToken', patch.refreshToken ?? undefined]);
  if (patch.expiresAt !== undefined) out.push(['expiresAt', patch.expiresAt ?? undefined]);
  if (patch.scopes !== undefined) out.push(['scope', patch.scopes.length ? patch.scopes.join(' ') : undefined]);
  if (patch.clientId !== undefined) out.push(['clientId', patch.clientId]);
  if (patch.clientSecret !== undefined) out.push(['clientSecret', patch.clientSecret ?? undefined]);
  if (patch.redirectUri !== undefined) out.push(['redirectUri', patch.redirectUri]);
  return out;
}

function newEntry(key: string, patch: CredentialPatch): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    serverName: patch.serverName ?? key.slice(0, key.lastIndexOf('|')),
    accessToken: '',
  };
  for (const [field, value] of fieldUpdates(patch)) if (value !== undefined) entry[field] = value;
  if (patch.issuer !== undefined) entry.discoveryState = { authorizationServerUrl: patch.issuer };
  return entry;
}

/**
 * Applies edits to the JSON text in place (jsonc-parser), so every byte outside the edited
 * properties stays as it was; then checks the result parses to exactly the intended value.
 */
export function editBlob(blob: ParsedBlob, edits: BlobEdit[]): { text: string; shape: StoreShape } | undefined {
  const formattingOptions = formattingOf(blob.text);
  const expected = structuredClone(blob.data);
  let text = blob.text;
  for (const edit of edits) {
    let changes = modify(text, edit.path, edit.value, { formattingOptions });
    // jsonc-parser writes `"key": value` when it inserts; a compact file stays compact.
    if (!formattingOptions) changes = changes.map((c) => ({ ...c, content: minifyJson(c.content) }));
    text = applyEdits(text, changes);
    setIn(expected, edit.path, edit.value);
  }
  if (text === blob.text) return undefined;
  let result: unknown;
  try {
    result = JSON.parse(text);
  } catch {
    result = undefined;
  }
  if (!isDeepStrictEqual(result, expected)) throw new Error(`Internal error: the edited credential store would not match the intended change; nothing was written.`);
  return { text, shape: shapeOf(expected) };
}

function setIn(root: Record<string, unknown>, [head, ...rest]: [string, ...string[]], value: unknown): void {
  if (rest.length === 0) {
    if (value === undefined) delete root[head];
    else root[head] = structuredClone(value);
    return;
  }
  if (!isPlainObject(root[head])) root[head] = {};
  setIn(root[head] as Record<string, unknown>, rest as [string, ...string[]], value);
}

/** Keep the file's style: compact (Claude Code's own), or its indent unit and line ending. */
function formattingOf(text: string): FormattingOptions | undefined {
  const m = /\n([ \t]+)"/.exec(text);
  if (!m) return undefined;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = m[1]!;
  return indent.startsWith('\t') ? { insertSpaces: false, tabSize: 1, eol } : { insertSpaces: true, tabSize: indent.length, eol };
}

/** Drops whitespace outside strings from a JSON fragment jsonc-parser generated. */
function minifyJson(fragment: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < fragment.length; i++) {
    const ch = fragment[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') out += fragment[++i] ?? '';
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (!/\s/.test(ch)) {
      out += ch;
    }
  }
  return out;
}

export function nonEmpty(v: string | null | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function omitUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
