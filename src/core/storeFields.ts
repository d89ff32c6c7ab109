// Fields in a client's credential store that we do not know. The known fields are the shapes of
// the zod schemas the stores already parse with (claudeCodeBlob EntrySchema, codexFormat
// FallbackEntrySchema / StoredTokensSchema), so this list cannot drift from what we read. Our
// writes keep unknown fields byte for byte (claudeCodeBlob edits the text in place; Codex entries
// are spread, not rebuilt); what we cannot know is whether a newer client expects them to change
// together with the fields we write. So a write to such a store, by a client newer than the
// newest we verified, asks first (writeGuard).
import { promises as fs } from 'node:fs';
import * as z from 'zod';
import { EntrySchema as ClaudeEntrySchema } from './credentials/claudeCodeBlob';
import { claudeCredentialsFile } from './credentials/claudeCodeStore';
import { FallbackEntrySchema, StoredTokensSchema } from './credentials/codexFormat';
import { ClaudeKeychain, claudeKeychainAccount, claudeKeychainService, runCommand, type CommandRunner } from './credentials/claudeCodeKeychain';
import { CodexStore, codexCredentialsFile, type CodexStoreOptions } from './credentials/codexStore';
import { describeClientVersion, detectClientVersions, nodeVersionIo, type ClientVersionInfo, type VersionIo } from './clientVersions';
import type { Environment } from './environment';
import { isPlainObject } from './jsonShape';
import { CLIENT_LABELS, type ClientId, type Finding } from './model';

/**
 * Top-level keys of Claude Code's blob: the user's login and the MCP grants (2.1.197,
 * shared/docs/client-formats.md); 2.1.332 adds `mcpOAuthClientConfig` (the secret of a configured
 * client id, per storage key) and, in a macOS Keychain item, the `keychainOverflow` pointer
 * (claudeCodeKeychainOverflow.ts).
 */
export const CLAUDE_BLOB_KEYS: readonly string[] = [
  'claudeAiOauth',
  'mcpOAuth',
  'mcpOAuthClientConfig',
  'keychainOverflow',
  // The other sections 2.1.332's Keychain overflow split knows by name (its section table, read
  // from the shipped binary); we read none of them, but a 2.1.332 store holding them is not new.
  'designOauth',
  'chatHistoryOauth',
  'cloudSessionsOauth',
  'cloudSessionsSignInEnded',
  'organizationUuid',
  'coworkRemoteDevice',
  'pluginSecrets',
  'mcpXaaIdp',
  'mcpXaaIdpConfig',
  'enterpriseGateway',
  'gatewayTrust',
  'gatewayAllowlistEntries',
  'slackTag',
  'mcpDiscoveryCacheKey',
];

export const STORE_FIELDS_FINDING = 'credentials.unknown-fields-newer-client';

/** One unknown field: where (`entry` is the storage key; absent at the top level) and its path inside. */
export interface UnknownField {
  entry?: string;
  path: string;
  /** The store it is in, when that is not the credentials file (a Keychain item, the keyring, the secrets file). */
  store?: string;
}

export interface UnknownStoreFields {
  client: ClientId;
  /** Where the unknown fields are (the file, and any other store that holds some); the file when none. */
  location: string;
  fields: UnknownField[];
}

/**
 * Paths in `value` that `schema` does not name, descending into nested objects the schema
 * describes. Fields under an object the schema leaves open-ended are not walked further.
 */
export function unknownPaths(value: unknown, schema: z.ZodType, prefix = ''): string[] {
  const object = objectSchema(schema);
  if (!object || !isPlainObject(value)) return [];
  const shape = object.shape as Record<string, z.ZodType>;
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const p = prefix ? `${prefix}.${k}` : k;
    const inner = shape[k];
    if (!inner) out.push(p);
    else out.push(...unknownPaths(v, inner, p));
  }
  return out;
}

function objectSchema(schema: z.ZodType): z.ZodObject | undefined {
  let s: z.ZodType = schema;
  for (let i = 0; i < 5; i++) {
    if (s instanceof z.ZodObject) return s;
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else return undefined;
  }
  return undefined;
}

/** Claude Code's blob: unknown top-level keys, and unknown fields of each `mcpOAuth` entry. */
export function unknownClaudeFields(data: unknown): UnknownField[] {
  if (!isPlainObject(data)) return [];
  const out: UnknownField[] = Object.keys(data).filter((k) => !CLAUDE_BLOB_KEYS.includes(k)).map((path) => ({ path }));
  if (isPlainObject(data.mcpOAuth)) {
    for (const [entry, raw] of Object.entries(data.mcpOAuth)) out.push(...unknownPaths(raw, ClaudeEntrySchema).map((path) => ({ entry, path })));
  }
  return out;
}

/** Codex's `.credentials.json`: a map of storage key → FallbackTokenEntry. */
export function unknownCodexFileFields(data: unknown): UnknownField[] {
  if (!isPlainObject(data)) return [];
  return Object.entries(data).flatMap(([entry, raw]) => unknownPaths(raw, FallbackEntrySchema).map((path) => ({ entry, path })));
}

/**
 * A Codex keyring value (`StoredOAuthTokens`). `token_response` is oauth2's StandardTokenResponse
 * with the authorization server's extra fields flattened in: those come from the server, not from
 * the Codex version, so they are not counted.
 */
export function unknownCodexStoredFields(entry: string, value: unknown): UnknownField[] {
  return unknownPaths(value, StoredTokensSchema)
    .filter((p) => !p.startsWith('token_response.'))
    .map((path) => ({ entry, path }));
}

/** How the stores are read (tests inject fakes); the defaults are the stores' own readers. */
export interface StoreFieldReaders {
  readFile?: (file: string) => Promise<string>;
  /**
   * Also check the stores beside the file: Claude Code's macOS Keychain item, Codex's keyring items
   * or encrypted secrets file. Off by default: a Keychain read can prompt, so only a caller that is
   * about to act on the answer (a newer client than verified) asks for it.
   */
  keyrings?: boolean;
  /** `security` for the Keychain read (default /usr/bin/security through runCommand). */
  security?: CommandRunner;
  /** The Codex store's keyring runners and settings, as CodexStore takes them. */
  codex?: CodexStoreOptions;
}

/**
 * Reads the client's credential file (and, with `keyrings`, its other stores) and lists the
 * fields we do not know; undefined when nothing could be read (the stores' own findings say why).
 * The other stores are read through the stores' own read-only readers, with the same calls a
 * listing makes: Claude Code's Keychain item on macOS (one `find-generic-password -w`, after the
 * attribute-only `find` that never prompts; an overflowed item's sealed sections are not opened,
 * only the item's own JSON is checked), Codex's keyring items or secrets-file entries.
 */
export async function unknownStoreFields(
  e: Environment,
  client: ClientId,
  readers: StoreFieldReaders | ((file: string) => Promise<string>) = {},
): Promise<UnknownStoreFields | undefined> {
  // The field lists are Claude Code's and Codex's (their verified formats); other stores have none yet.
  if (client !== 'claude-code' && client !== 'codex') return undefined;
  const r: StoreFieldReaders = typeof readers === 'function' ? { readFile: readers } : readers;
  const readFile = r.readFile ?? ((f: string) => fs.readFile(f, 'utf8'));
  const file = client === 'claude-code' ? claudeCredentialsFile(e) : codexCredentialsFile(e);
  let fields: UnknownField[] | undefined;
  try {
    const data: unknown = JSON.parse(await readFile(file));
    fields = client === 'claude-code' ? unknownClaudeFields(data) : unknownCodexFileFields(data);
  } catch {
    // No file, or not JSON.
  }
  const places = fields && fields.length > 0 ? [file] : [];
  if (r.keyrings) {
    const other = client === 'claude-code' ? await claudeKeychainFields(e, r.security ?? runCommand) : await codexKeyringFields(e, r.codex);
    if (other) {
      fields = [...(fields ?? []), ...other.fields];
      if (other.fields.length > 0) places.push(other.location);
    }
  }
  if (!fields) return undefined;
  return { client, location: places.length > 0 ? places.join(' and ') : file, fields };
}

/** Claude Code's Keychain item (macOS only; the item is the store there, the file its fallback). */
async function claudeKeychainFields(e: Environment, security: CommandRunner): Promise<{ location: string; fields: UnknownField[] } | undefined> {
  if (e.platform !== 'darwin') return undefined;
  const keychain = new ClaudeKeychain(claudeKeychainService(e), claudeKeychainAccount(e), security);
  const found = await keychain.find().catch(() => undefined);
  if (found?.state !== 'found') return undefined;
  const read = await keychain.read(found.account).catch(() => undefined);
  if (!read?.ok) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(read.value);
  } catch {
    return undefined;
  }
  return { location: keychain.label, fields: unknownClaudeFields(data).map((f) => ({ ...f, store: keychain.label })) };
}

/** Codex's keyring side: keyring items (service "Codex MCP Credentials") or the secrets file's MCP entries. */
async function codexKeyringFields(e: Environment, options: CodexStoreOptions = {}): Promise<{ location: string; fields: UnknownField[] } | undefined> {
  const got = await new CodexStore(e, options).keyringValues().catch(() => undefined);
  if (!got) return undefined;
  const fields: UnknownField[] = [];
  for (const [entry, text] of Object.entries(got.values)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue; // the store's own finding says the value is not JSON
    }
    fields.push(...unknownCodexStoredFields(entry, value).map((f) => ({ ...f, store: got.location })));
  }
  return { location: got.location, fields };
}

/** `expires_in_ms (entry linear|1b2c…)`, `newTopLevel (top level)`. */
export function describeUnknownField(f: UnknownField): string {
  const where = f.store ? ` in ${f.store}` : '';
  return f.entry ? `${f.path} (entry ${f.entry}${where})` : `${f.path} (top level${where})`;
}

/** What a write must ask before it goes ahead. */
export interface WriteGuard {
  client: ClientId;
  version: string;
  newestVerified: string;
  location: string;
  /** The unknown fields that matter for this write: the entry's own and the top level's (all of them for a whole-store write). */
  fields: UnknownField[];
  /** For people, naming the fields. */
  message: string;
}

/**
 * A guard when the installed client is newer than the newest we verified AND the store holds
 * fields we do not know. `entryKey`: the one entry the write touches (refresh, re-login, reset,
 * a one-entry restore); omitted for a whole-store restore.
 */
export function writeGuard(info: ClientVersionInfo | undefined, unknown: UnknownStoreFields | undefined, entryKey?: string): WriteGuard | undefined {
  if (!info?.version || !info.newerThanVerified || !unknown) return undefined;
  const fields = unknown.fields.filter((f) => entryKey === undefined || f.entry === undefined || f.entry === entryKey);
  if (fields.length === 0) return undefined;
  const label = CLIENT_LABELS[info.client];
  return {
    client: info.client,
    version: info.version,
    newestVerified: info.newestVerified,
    location: unknown.location,
    fields,
    message:
      `${label} ${info.version} is newer than the newest version we verified (${info.newestVerified}), and ${unknown.location} holds ` +
      `field${fields.length === 1 ? '' : 's'} we do not know: ${fields.map(describeUnknownField).join(', ')}. ` +
      `They are kept byte for byte, but ${label} may expect them to change together with what is written.`,
  };
}

/** The info finding `status` shows: a newer client whose store has fields we do not know. */
export function unknownFieldsFinding(info: ClientVersionInfo, unknown: UnknownStoreFields): Finding | undefined {
  if (!info.newerThanVerified || unknown.fields.length === 0) return undefined;
  const label = CLIENT_LABELS[info.client];
  return {
    code: STORE_FIELDS_FINDING,
    severity: 'info',
    title: `${label} ${info.version} is newer than verified (${info.newestVerified}) and its store has fields we do not know`,
    detail:
      `${describeClientVersion(info)}. ${unknown.location} holds ${unknown.fields.map(describeUnknownField).join(', ')}. ` +
      'Reading is unaffected; a repair that writes to this store keeps these fields byte for byte and asks first, naming them.',
  };
}

/** The guard for a write to `client`'s store now (one entry, or the whole store without `entryKey`): the CLI's and the editor's confirmations. */
export async function storeWriteGuard(e: Environment, client: ClientId, entryKey?: string, io: VersionIo = nodeVersionIo(e)): Promise<WriteGuard | undefined> {
  const [info] = await detectClientVersions(io, [client]);
  // The stores beside the file only matter (and are only read, a Keychain read can prompt) when the client is newer than verified.
  if (!info?.newerThanVerified) return undefined;
  return writeGuard(info, await unknownStoreFields(e, client, { keyrings: true }), entryKey);
}
