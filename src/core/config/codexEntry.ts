// One `[mcp_servers.<name>]` table checked the way Codex checks it, then turned into an McpServer.
// The rules are codex-rs/config/src/mcp_types.rs `RawMcpServerConfig` and its `TryFrom` into
// `McpServerConfig`. 0.169 was confirmed against the 0.169.0 binary; 0.171 against the 0.171.0
// binary (`codex mcp list --json` on hand-written config.toml files, and the error strings in the
// binary: "struct RawMcpServerConfig with 30 elements") and an openai/codex snapshot of
// mcp_types.rs close to it (the rust-v0.171.0 tag itself was not in the source index):
// - `command` makes a stdio server and `url` a streamable-HTTP one (Codex has no SSE); neither is
//   "invalid transport";
// - stdio refuses url, bearer_token_env_var, bearer_token, http_headers_helper, http_headers,
//   env_http_headers, oauth, oauth_resource; HTTP refuses args, env, env_vars, cwd, bearer_token
//   ("<field> is not supported for <transport>");
// - `enabled` defaults to true; `[mcp_servers.<name>.oauth]` has client_id, client_secret,
//   callback_url, callback_port (u16); client_secret must be non-empty and needs client_id;
//   `scopes` and `oauth_resource` sit beside `url`;
// - http_headers_helper: 0.169 refuses "" only; 0.171 also refuses a blank one ("   ": the check
//   trims) and one on a server whose `environment_id` is not "local" ("only supported for local
//   MCP servers");
// - 0.171 adds `auth` = "oauth" (default) | "chatgpt" | "ema_auth" (any other value: "unknown
//   variant"), `environment_id`, and oauth.token_endpoint_auth_method /
//   oauth.authorization_server_issuer, which both need auth = "ema_auth". 0.169 has no `auth`
//   field: it ignores the key, as it ignores every unknown key;
// - unknown keys are ignored (0.169 and 0.171, also inside `oauth`), and Codex does not check the
//   URL's form when loading.
// Any failing entry makes Codex refuse the whole file ("failed to load bootstrap configuration");
// we report it on that entry and keep reading the others.
//
// How such a server authenticates (0.171, codex-mcp `effective_mcp_servers_from_configured`,
// `McpServerConnectionIdentity::new`, rmcp-client http_headers.rs `apply_headers`), which decides
// whether its MCP OAuth login matters at all:
// - bearer_token_env_var: the variable's value is the bearer token; stored OAuth is never read
//   (0.169 alike);
// - auth = "chatgpt" on the ChatGPT origin (https://chatgpt.com, or a chatgpt-staging.com
//   `chatgpt_base_url`): Codex sends the token of its own ChatGPT sign-in (`codex login`);
//   `codex mcp list --json` says auth_status "bearer_token" when signed in with ChatGPT. On any
//   other origin Codex downgrades it to "oauth" (measured: auth_status "not_logged_in");
// - http_headers_helper: a command Codex runs (sh -c, 10 s, JSON object of header names) whose
//   headers go on every request to the server's origin; its Authorization is used only when no
//   bearer token or OAuth credential is there (measured: a helper printing a valid
//   Authorization lists the server's tools, auth_status "unknown").
import * as z from 'zod';
import type { Environment } from '../environment';
import type { Finding, McpServer, OAuthSettings, Scope, SourceLocation } from '../model';
import { storageKey } from '../storageKey';
import { describeToml, isTable } from './codexToml';

const str = z.string();
const strings = z.array(z.string());
const stringMap = z.record(z.string(), z.string());
const seconds = z.union([z.number(), z.bigint()]).refine((v) => Number(v) >= 0, 'must not be negative');

const OAuthTable = z.looseObject({
  client_id: str.optional(),
  client_secret: str.optional(),
  callback_url: str.optional(),
  callback_port: z.bigint().min(0n).max(65535n).optional(),
  // 0.171: enterprise-managed auth only.
  token_endpoint_auth_method: str.optional(),
  authorization_server_issuer: str.optional(),
});

const EntryTable = z.looseObject({
  command: str.optional(),
  args: strings.optional(),
  env: stringMap.optional(),
  env_vars: z.array(z.union([str, z.looseObject({ name: str, source: z.enum(['local', 'remote']).optional() })])).optional(),
  cwd: str.optional(),
  url: str.optional(),
  bearer_token_env_var: str.optional(),
  http_headers: stringMap.optional(),
  env_http_headers: stringMap.optional(),
  http_headers_helper: str.optional(),
  enabled: z.boolean().optional(),
  required: z.boolean().optional(),
  startup_timeout_sec: seconds.optional(),
  startup_timeout_ms: z.bigint().min(0n).optional(),
  tool_timeout_sec: seconds.optional(),
  enabled_tools: strings.optional(),
  disabled_tools: strings.optional(),
  scopes: strings.optional(),
  oauth: OAuthTable.optional(),
  oauth_resource: str.optional(),
  // 0.171 only (0.169 ignores them as unknown keys).
  auth: z.enum(['oauth', 'chatgpt', 'ema_auth']).optional(),
  environment_id: str.optional(),
});

type Entry = z.infer<typeof EntryTable>;

const STDIO_REFUSES = ['url', 'bearer_token_env_var', 'bearer_token', 'http_headers_helper', 'http_headers', 'env_http_headers', 'oauth', 'oauth_resource'] as const;
const HTTP_REFUSES = ['args', 'env', 'env_vars', 'cwd', 'bearer_token'] as const;

export type EntryProblem = {
  code: 'config.invalid-entry' | 'config.missing-url';
  /** The offending key below the server, for its location (empty: the server itself). */
  field: string[];
  message: string;
};

export type EntryCheck = { ok: true; entry: Entry } | { ok: false; problem: EntryProblem };

export function checkCodexEntry(value: unknown): EntryCheck {
  if (!isTable(value)) return fail([], `is ${describeToml(value)}, not a table`);
  const parsed = EntryTable.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String);
    return fail(field, `${field.join('.')} ${issueWords(issue, valueAt(value, field))}`);
  }
  const entry = parsed.data;
  const has = (k: string) => entry[k] !== undefined;
  if (entry.command !== undefined) {
    const refused = STDIO_REFUSES.find(has);
    if (refused) return fail([refused], `${refused} is not supported for stdio (the entry has a command)`);
  } else if (entry.url !== undefined) {
    const refused = HTTP_REFUSES.find(has);
    if (refused) return fail([refused], `${refused} is not supported for streamable_http (the entry has a url)`);
  } else {
    return { ok: false, problem: { code: 'config.missing-url', field: [], message: 'has neither url (streamable HTTP) nor command (stdio)' } };
  }
  if (entry.http_headers_helper === '') return fail(['http_headers_helper'], 'http_headers_helper must not be empty');
  // 0.171 trims before the check, and runs helpers only on the local machine.
  if (entry.http_headers_helper !== undefined && entry.http_headers_helper.trim() === '') {
    return fail(['http_headers_helper'], 'http_headers_helper must not be empty (Codex 0.171 refuses a blank one)');
  }
  if (entry.http_headers_helper !== undefined && entry.environment_id !== undefined && entry.environment_id !== 'local') {
    return fail(['http_headers_helper'], 'http_headers_helper is only supported for local MCP servers (environment_id is not "local"; Codex 0.171)');
  }
  const emaOnly = (['token_endpoint_auth_method', 'authorization_server_issuer'] as const).find((k) => entry.oauth?.[k] !== undefined);
  if (emaOnly && entry.auth !== 'ema_auth') {
    return fail(['oauth', emaOnly], `oauth.${emaOnly} requires auth = "ema_auth" (Codex 0.171)`);
  }
  if (entry.oauth?.client_secret !== undefined) {
    if (entry.oauth.client_secret === '') return fail(['oauth', 'client_secret'], 'oauth.client_secret must not be empty');
    if (entry.oauth.client_id === undefined) return fail(['oauth', 'client_secret'], 'oauth.client_secret requires oauth.client_id');
  }
  return { ok: true, entry };
}

function fail(field: string[], message: string): EntryCheck {
  return { ok: false, problem: { code: 'config.invalid-entry', field, message } };
}

function issueWords(issue: z.core.$ZodIssue, actual: unknown): string {
  const found = actual === undefined ? '' : `, found ${describeToml(actual)}`;
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}${found}`;
    case 'invalid_union':
      return `must be a number${found}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}`;
    default:
      return issue.message;
  }
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  boolean: 'a boolean',
  bigint: 'an integer',
  number: 'a number',
  array: 'an array',
  object: 'a table',
  record: 'a table',
};

function valueAt(root: unknown, path: string[]): unknown {
  let v = root;
  for (const k of path) v = isTable(v) ? v[k] : Array.isArray(v) ? v[Number(k)] : undefined;
  return v;
}

export interface ServerPlace {
  name: string;
  scope: Scope;
  source: SourceLocation;
  projectPath?: string;
  profile?: string;
}

/**
 * The McpServer for a checked entry. Header values are what Codex sends: `http_headers` as written,
 * then each `env_http_headers` variable's value when set and not blank (rmcp-client utils.rs
 * `build_default_headers` skips the others). The credential key hashes type "http", the url and
 * no headers, whatever is configured (rmcp-client/src/oauth.rs `compute_store_key`).
 */
export function codexServer(entry: Entry, place: ServerPlace, e: Environment, client: CodexEntryContext = {}): McpServer {
  const server: McpServer = {
    client: 'codex',
    scope: place.scope,
    name: place.name,
    transport: entry.command !== undefined ? 'stdio' : 'http',
    headerNames: [...new Set([...Object.keys(entry.http_headers ?? {}), ...Object.keys(entry.env_http_headers ?? {})])],
    headers: { ...entry.http_headers },
    enabled: entry.enabled ?? true,
    source: place.source,
    findings: [],
    ...(place.projectPath !== undefined ? { projectPath: place.projectPath } : {}),
    ...(place.profile !== undefined ? { profile: place.profile } : {}),
  };
  if (entry.command !== undefined) {
    server.command = entry.command;
    return server;
  }
  const url = entry.url!;
  server.url = url;
  server.rawUrl = url;
  const chatgpt = entry.auth === 'chatgpt' && entry.bearer_token_env_var === undefined && isChatGptOrigin(url, client.chatgptBaseUrl);
  // Codex never reads a stored MCP OAuth login for these (see the header): no credential key, so
  // no surface offers a login, refresh or reset for them.
  if (entry.bearer_token_env_var === undefined && !chatgpt) server.storageKey = storageKey(place.name, 'http', url, {});
  if (chatgpt) server.chatgptAuth = true;
  else if (entry.auth === 'chatgpt') {
    server.findings.push({
      code: 'config.chatgpt-auth-ignored',
      severity: 'info',
      title: `Codex does not send your ChatGPT sign-in to "${place.name}"`,
      detail: `${where(place.source)}: auth = "chatgpt" applies only to servers on the ChatGPT origin (https://chatgpt.com)${entry.bearer_token_env_var !== undefined ? ' without bearer_token_env_var' : ''}; Codex 0.171 treats this one as auth = "oauth" and uses its MCP OAuth login.`,
      location: place.source,
    });
  }
  if (entry.auth === 'ema_auth') {
    // 0.171.0 lists such a server as disabled, auth "Unsupported" ("EMA MCP connections are not enabled in this version").
    server.enabled = false;
    server.findings.push({
      code: 'config.enterprise-auth-unsupported',
      severity: 'info',
      title: `Codex does not start "${place.name}": enterprise-managed auth (auth = "ema_auth")`,
      detail: `${where(place.source)}: Codex 0.171 lists this server as disabled with auth "Unsupported"; enterprise-managed MCP auth is configured by your organisation's host policy, not by a login here.`,
      location: place.source,
    });
  }
  if (!isHttpUrl(url)) {
    server.findings.push({
      code: 'config.invalid-url',
      severity: 'error',
      title: `Codex cannot connect to "${place.name}": the url is not an absolute http(s) URL`,
      detail: `${where(place.source)}: Codex loads this entry but its connection will fail. Write the server's full https:// (or loopback http://) address.`,
      location: place.source,
    });
  }
  for (const [header, variable] of Object.entries(entry.env_http_headers ?? {})) {
    const value = e.env[variable];
    if (value === undefined || value.trim() === '') {
      server.findings.push(unsetVariable(place, variable, `the ${header} header`, value !== undefined));
    } else server.headers[header] = value;
  }
  if (entry.http_headers_helper !== undefined) server.headersHelper = entry.http_headers_helper;
  if (entry.bearer_token_env_var !== undefined) {
    server.bearerTokenEnvVar = entry.bearer_token_env_var;
    const value = e.env[entry.bearer_token_env_var];
    if (value === undefined || value === '') server.findings.push(unsetVariable(place, entry.bearer_token_env_var, 'its bearer token', value !== undefined));
  }
  const oauth: OAuthSettings = {
    ...(entry.oauth?.client_id !== undefined ? { clientId: entry.oauth.client_id } : {}),
    ...(entry.oauth?.callback_port !== undefined ? { callbackPort: Number(entry.oauth.callback_port) } : {}),
    ...(entry.oauth?.callback_url !== undefined ? { callbackUrl: entry.oauth.callback_url } : {}),
    ...(entry.scopes !== undefined ? { scopes: entry.scopes } : {}),
    ...(entry.oauth_resource !== undefined ? { resource: entry.oauth_resource } : {}),
    ...(entry.auth === 'ema_auth' ? { enterpriseManaged: true } : {}),
  };
  if (Object.keys(oauth).length > 0) server.oauth = oauth;
  return server;
}

/** Client-wide settings an entry's meaning depends on (top level of the user's config.toml). */
export interface CodexEntryContext {
  /** `chatgpt_base_url`: a chatgpt-staging.com one makes that origin trusted for auth = "chatgpt" too. */
  chatgptBaseUrl?: string;
}

/** codex-mcp `is_trusted_chatgpt_mcp_server` (0.171): the ChatGPT origin, or a staging base URL's own origin. */
function isChatGptOrigin(url: string, chatgptBaseUrl: string | undefined): boolean {
  let server: URL;
  try {
    server = new URL(url);
  } catch {
    return false;
  }
  if (server.protocol !== 'http:' && server.protocol !== 'https:') return false;
  if (server.origin === 'https://chatgpt.com') return true;
  try {
    const base = new URL(chatgptBaseUrl ?? '');
    const staging = base.protocol === 'https:' && (base.hostname === 'chatgpt-staging.com' || base.hostname.endsWith('.chatgpt-staging.com'));
    return staging && base.origin === server.origin;
  } catch {
    return false;
  }
}

/** What an environment variable's name looks like; anything else is not echoed (it may be the token itself). */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function unsetVariable(place: ServerPlace, variable: string, what: string, blank: boolean): Finding {
  if (!VARIABLE_NAME.test(variable)) {
    // A common slip is to paste the token where its variable's name belongs: never repeat it.
    return {
      code: 'config.unset-variable',
      severity: 'warning',
      title: `"${place.name}": the variable named for ${what} is not a variable name`,
      detail: `${where(place.source)}: Codex reads ${what} from the environment variable named there, but that value (${variable.length} characters, not shown) is not a variable name, so it is never set. If it is the token itself, put the token in an environment variable and write that variable's name instead.`,
      location: place.source,
    };
  }
  return {
    code: 'config.unset-variable',
    severity: 'warning',
    title: `"${place.name}" uses $${variable}, which is ${blank ? 'empty' : 'not set'}`,
    detail: `${where(place.source)}: Codex reads ${what} from the environment variable ${variable}, which is ${blank ? 'empty' : 'not set'} where this check ran. Set it in the environment Codex starts from.`,
    location: place.source,
  };
}

function where(at: SourceLocation): string {
  return `${at.file}:${at.line}`;
}

function isHttpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
