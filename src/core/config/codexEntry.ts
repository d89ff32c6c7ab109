// One `[mcp_servers.<name>]` table checked the way Codex 0.169 checks it, then turned into an
// McpServer. The rules are codex-rs/config/src/mcp_types.rs `RawMcpServerConfig` and its
// `TryFrom` into `McpServerConfig`, confirmed against the 0.169.0 binary (`codex mcp list`):
// - `command` makes a stdio server and `url` a streamable-HTTP one (Codex has no SSE); neither is
//   "invalid transport";
// - stdio refuses url, bearer_token_env_var, bearer_token, http_headers_helper, http_headers,
//   env_http_headers, oauth, oauth_resource; HTTP refuses args, env, env_vars, cwd, bearer_token
//   ("<field> is not supported for <transport>");
// - `enabled` defaults to true; `[mcp_servers.<name>.oauth]` has client_id, client_secret,
//   callback_url, callback_port (u16); client_secret must be non-empty and needs client_id;
//   http_headers_helper must be non-empty; `scopes` and `oauth_resource` sit beside `url`;
// - unknown keys are ignored, and Codex does not check the URL's form when loading.
// Any failing entry makes Codex refuse the whole file ("failed to load bootstrap configuration");
// we report it on that entry and keep reading the others.
import { z } from 'zod';
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
export function codexServer(entry: Entry, place: ServerPlace, e: Environment): McpServer {
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
  server.storageKey = storageKey(place.name, 'http', url, {});
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
  };
  if (Object.keys(oauth).length > 0) server.oauth = oauth;
  return server;
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
