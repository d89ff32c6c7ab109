// The two shapes Codex 0.169 and 0.171 store one MCP OAuth grant in (the file entry, and the JSON
// of a keyring item, which 0.171's encrypted secrets file holds as its entry values too), read and patched without losing fields
// we do not know. Source: codex-rs/rmcp-client/src/oauth.rs (openai/codex, the version whose
// `FallbackTokenEntry` has 9 fields and `StoredOAuthTokens` 6, matching the shipped binary's serde
// strings "struct FallbackTokenEntry with 9 elements" / "struct StoredOAuthTokens with 6 elements").
import * as z from 'zod';
import { fingerprint, storageKey } from '../storageKey';
import type { EntryFingerprints } from './backups';
import type { CredentialPatch, CredentialSummary } from './store';

/** Where a copy of a Codex grant lives. */
export type CodexStoreKind = 'file' | 'keyring';

/** A Codex summary also says which store the copy is in. */
export interface CodexCredentialSummary extends CredentialSummary {
  store: CodexStoreKind;
  /** oauth.rs `oauth_tokens_are_usable`: would Codex use it without a new login? */
  usable: boolean;
  /** Why not, when `usable` is false (for people). */
  unusableReason?: string;
  /** `executor_owned`: a grant of a remote executor, not of this machine's Codex. */
  executorOwned?: boolean;
}

/** oauth.rs REFRESH_SKEW_MILLIS: Codex refreshes (or gives up) 30 s before expiry. */
export const CODEX_REFRESH_SKEW_MS = 30_000;

const u64 = z.number().int().nonnegative();

/**
 * `FallbackTokenEntry` as serde reads it: these fields must have these types or Codex cannot read
 * the file at all (`serde_json::from_str::<FallbackFile>` fails as a whole). `#[serde(default)]`
 * allows a field to be missing, not null, except for the `Option`s. Unknown fields pass.
 */
export const FallbackEntrySchema = z
  .object({
    server_name: z.string(),
    server_url: z.string(),
    issuer: z.string().nullable().optional(),
    client_id: z.string(),
    access_token: z.string(),
    expires_at: u64.nullable().optional(),
    refresh_token: z.string().nullable().optional(),
    scopes: z.array(z.string()).optional(),
    executor_owned: z.boolean().optional(),
  })
  .loose();
export type FallbackEntry = z.infer<typeof FallbackEntrySchema>;

/**
 * oauth2's `StandardTokenResponse` as rmcp serialises it: `scope` is one space-separated string,
 * `expires_in` seconds; vendor extra fields are flattened in (kept as they are).
 */
export const TokenResponseSchema = z
  .object({
    access_token: z.string(),
    token_type: z.string(),
    expires_in: u64.optional(),
    refresh_token: z.string().optional(),
    scope: z.string().optional(),
  })
  .loose();

/** `StoredOAuthTokens`, the JSON Codex keeps as the keyring item's password. */
export const StoredTokensSchema = z
  .object({
    server_name: z.string(),
    url: z.string(),
    issuer: z.string().nullable().optional(),
    client_id: z.string(),
    token_response: TokenResponseSchema,
    expires_at: u64.nullable().optional(),
  })
  .loose();
export type StoredTokens = z.infer<typeof StoredTokensSchema>;

/** The grant as both shapes carry it, for summaries and usability. */
export interface GrantView {
  serverName: string;
  serverUrl: string;
  issuer?: string;
  clientId: string;
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
  scopes: string[];
  executorOwned?: boolean;
}

export function viewOfFallback(e: FallbackEntry): GrantView {
  return omitUndefined({
    serverName: e.server_name,
    serverUrl: e.server_url,
    issuer: e.issuer ?? undefined,
    clientId: e.client_id,
    accessToken: e.access_token,
    refreshToken: e.refresh_token ?? undefined,
    expiresAt: e.expires_at ?? undefined,
    scopes: e.scopes ?? [],
    executorOwned: e.executor_owned || undefined,
  });
}

export function viewOfStored(t: StoredTokens): GrantView {
  return omitUndefined({
    serverName: t.server_name,
    serverUrl: t.url,
    issuer: t.issuer ?? undefined,
    clientId: t.client_id,
    accessToken: t.token_response.access_token,
    refreshToken: t.token_response.refresh_token,
    expiresAt: t.expires_at ?? undefined,
    scopes: splitScopes(t.token_response.scope),
  });
}

/**
 * oauth.rs `oauth_tokens_are_usable` (0.169; unchanged in 0.171): a blank client id never works; a token due for
 * refresh (within 30 s of expiry) works only with a refresh token AND a bound issuer (older
 * entries without `issuer` need a new login once they expire); otherwise the access token must
 * be non-blank. An unknown expiry counts as not expiring.
 */
export function usability(v: GrantView, now: number): { usable: boolean; reason?: string } {
  if (!v.clientId.trim()) return { usable: false, reason: 'it has no client id' };
  const dueForRefresh = v.expiresAt !== undefined && now + CODEX_REFRESH_SKEW_MS >= v.expiresAt;
  if (dueForRefresh) {
    if (!v.refreshToken?.trim()) return { usable: false, reason: 'the access token has expired and there is no refresh token' };
    if (!v.issuer?.trim()) return { usable: false, reason: 'the access token has expired and the entry records no issuer, so Codex will not refresh it' };
    return { usable: true };
  }
  if (!v.accessToken.trim()) return { usable: false, reason: 'the access token is empty' };
  return { usable: true };
}

export function summaryOfView(key: string, v: GrantView, store: CodexStoreKind, now: number): CodexCredentialSummary {
  const u = usability(v, now);
  return omitUndefined({
    key,
    store,
    serverName: v.serverName,
    serverUrl: v.serverUrl,
    hasAccessToken: v.accessToken.length > 0,
    accessTokenFingerprint: v.accessToken ? fingerprint(v.accessToken) : undefined,
    hasRefreshToken: !!v.refreshToken,
    refreshTokenFingerprint: v.refreshToken ? fingerprint(v.refreshToken) : undefined,
    expiresAt: v.expiresAt,
    scopes: v.scopes,
    clientId: v.clientId,
    // Codex 0.169 keeps no client secret with its tokens (a secret, if any, comes from config).
    hasClientSecret: false,
    issuer: v.issuer,
    usable: u.usable,
    unusableReason: u.reason,
    executorOwned: v.executorOwned,
  });
}

export function fingerprintsOfView(key: string, v: GrantView | undefined): EntryFingerprints {
  if (!v) return { key };
  return omitUndefined({
    key,
    serverName: v.serverName,
    serverUrl: v.serverUrl,
    accessToken: v.accessToken ? fingerprint(v.accessToken) : undefined,
    refreshToken: v.refreshToken ? fingerprint(v.refreshToken) : undefined,
    expiresAt: v.expiresAt,
  });
}

/** A repair's patch applied to a file entry; unknown fields and field order are kept. */
export function patchFallbackEntry(existing: Record<string, unknown> | undefined, patch: CredentialPatch): Record<string, unknown> {
  rejectClientSecret(patch);
  // Field order of `FallbackTokenEntry`, so a new entry looks like one Codex wrote.
  const entry: Record<string, unknown> = existing
    ? { ...existing }
    : { server_name: undefined, server_url: undefined, issuer: undefined, client_id: undefined, access_token: '', expires_at: null, refresh_token: null, scopes: [] };
  if (patch.serverName !== undefined) entry.server_name = patch.serverName;
  if (patch.serverUrl !== undefined) entry.server_url = patch.serverUrl;
  if (patch.issuer !== undefined) entry.issuer = patch.issuer;
  if (patch.clientId !== undefined) entry.client_id = patch.clientId;
  if (patch.accessToken !== undefined) entry.access_token = patch.accessToken;
  if (patch.expiresAt !== undefined) entry.expires_at = patch.expiresAt === null ? null : Math.round(patch.expiresAt);
  if (patch.refreshToken !== undefined) entry.refresh_token = patch.refreshToken;
  if (patch.scopes !== undefined) entry.scopes = [...patch.scopes];
  for (const k of Object.keys(entry)) if (entry[k] === undefined) delete entry[k];
  assertComplete(FallbackEntrySchema, entry);
  return entry;
}

/** A repair's patch applied to a keyring value (`StoredOAuthTokens`); unknown fields are kept. */
export function patchStoredTokens(existing: Record<string, unknown> | undefined, patch: CredentialPatch, now: number): Record<string, unknown> {
  rejectClientSecret(patch);
  const stored: Record<string, unknown> = existing
    ? { ...existing }
    : { server_name: undefined, url: undefined, issuer: undefined, client_id: undefined, token_response: { access_token: '', token_type: 'bearer' }, expires_at: null };
  const tr: Record<string, unknown> = { ...((stored.token_response as Record<string, unknown> | undefined) ?? { token_type: 'bearer' }) };
  if (patch.serverName !== undefined) stored.server_name = patch.serverName;
  if (patch.serverUrl !== undefined) stored.url = patch.serverUrl;
  if (patch.issuer !== undefined) stored.issuer = patch.issuer;
  if (patch.clientId !== undefined) stored.client_id = patch.clientId;
  if (patch.accessToken !== undefined) tr.access_token = patch.accessToken;
  if (patch.refreshToken !== undefined) {
    if (patch.refreshToken === null) delete tr.refresh_token;
    else tr.refresh_token = patch.refreshToken;
  }
  if (patch.scopes !== undefined) {
    if (patch.scopes.length === 0) delete tr.scope;
    else tr.scope = patch.scopes.join(' ');
  }
  if (patch.expiresAt !== undefined) {
    // Codex derives expires_in from expires_at on every load; keep the pair consistent anyway.
    if (patch.expiresAt === null) {
      stored.expires_at = null;
      delete tr.expires_in;
    } else {
      stored.expires_at = Math.round(patch.expiresAt);
      tr.expires_in = Math.max(0, Math.floor((patch.expiresAt - now) / 1000));
    }
  }
  stored.token_response = tr;
  for (const k of Object.keys(stored)) if (stored[k] === undefined) delete stored[k];
  assertComplete(StoredTokensSchema, stored);
  return stored;
}

function rejectClientSecret(patch: CredentialPatch): void {
  if (patch.clientSecret !== undefined && patch.clientSecret !== null) {
    throw new Error('Codex does not store a client secret with its MCP tokens (it comes from the server config); nothing was written.');
  }
}

function assertComplete(schema: z.ZodType, value: unknown): void {
  const r = schema.safeParse(value);
  if (!r.success) {
    const missing = r.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`A new Codex credential entry needs ${missing}; nothing was written.`);
  }
}

export function splitScopes(scope: string | undefined): string[] {
  return scope ? scope.split(' ').filter(Boolean) : [];
}

/** Says what serde would object to in one entry, for a finding: `field: expected ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`)
    .join('; ');
}

export function omitUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * oauth.rs `compute_store_key`: always type "http" and empty headers. Codex 0.171 (its credential
 * key helpers, `CredentialStoreKeys::new`) also namespaces internal names: a `local:` prefix is
 * dropped and an `executor:` name (a remote executor's grant, `executor_owned` in the file) is
 * joined to the hash with ':' instead of '|'. Configured server names carry neither prefix.
 * (`ema-idp:` enterprise names hash CODEX_HOME too; we do not derive those.)
 */
export function codexKey(name: string, url: string): string {
  const bare = name.startsWith('local:') ? name.slice('local:'.length) : name;
  const separator = name.startsWith('executor:') ? ':' : '|';
  return `${bare}${separator}${storageKey(bare, 'http', url, {}).slice(bare.length + 1)}`;
}

/**
 * Whether Codex, looking for the grant of server `name` at `url`, takes the file entry stored
 * under `storedKey` (oauth.rs `load_oauth_tokens_from_file_with_lock_held`, the version with
 * `issuer`, `executor_owned` and the `ema-idp:` key, read from the stored openai/codex index; its
 * 0.171.0 build behaves so in test/interop/codexEntryLookup.test.ts). The map key does NOT
 * matter for a configured server: Codex compares the entry's own `server_name` and `server_url`
 * (exact strings), and skips entries marked `executor_owned`. Internal names are stricter: a
 * `local:` name takes only the entry under its own key, an `executor:` name only an
 * `executor_owned` entry under its own key with that exact name and URL.
 */
export function codexReadsFileEntry(storedKey: string, entry: Pick<GrantView, 'serverName' | 'serverUrl' | 'executorOwned'>, name: string, url: string): boolean {
  const key = codexKey(name, url);
  if (name.startsWith('executor:')) return storedKey === key && !!entry.executorOwned && entry.serverName === name && entry.serverUrl === url;
  if (entry.executorOwned) return false;
  const local = name.startsWith('local:') ? name.slice('local:'.length) : name;
  return (
    entry.serverUrl === url &&
    (!name.startsWith('local:') || storedKey === key) &&
    (entry.serverName === local || (storedKey === key && entry.serverName === name))
  );
}

/** serde_json writes (and Codex walks) a `BTreeMap<String, _>`: keys in UTF-8 byte order. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Which file entry Codex reads for each grant the file holds: the first entry, in byte order of
 * the stored keys, that `codexReadsFileEntry` accepts for that entry's server name and URL (Codex
 * returns the first match of its walk). `readBy` maps our key of a grant (`codexKey(name, url)`)
 * to the stored key of the entry Codex reads for it; `unread` are the entries Codex reads for no
 * grant (a later duplicate of a grant, or an entry an internal name does not accept where it is).
 * `local:x` and `x` share one key of ours; the plain name, the one config.toml can hold, wins.
 */
export function codexFileIndex(entries: ReadonlyMap<string, { view: Pick<GrantView, 'serverName' | 'serverUrl' | 'executorOwned'> }>): { readBy: Map<string, string>; unread: string[] } {
  const stored = [...entries.keys()].sort(byteOrder);
  const identities: { name: string; url: string }[] = [];
  const seen = new Set<string>();
  for (const k of stored) {
    const { serverName: name, serverUrl: url } = entries.get(k)!.view;
    const id = JSON.stringify([name, url]);
    if (seen.has(id)) continue;
    seen.add(id);
    identities.push({ name, url });
  }
  const internal = (n: string) => n.startsWith('local:') || n.startsWith('executor:');
  identities.sort((a, b) => Number(internal(a.name)) - Number(internal(b.name)));
  const readBy = new Map<string, string>();
  for (const { name, url } of identities) {
    const key = codexKey(name, url);
    if (readBy.has(key)) continue;
    const found = stored.find((k) => codexReadsFileEntry(k, entries.get(k)!.view, name, url));
    if (found !== undefined) readBy.set(key, found);
  }
  const read = new Set(readBy.values());
  return { readBy, unread: stored.filter((k) => !read.has(k)) };
}
