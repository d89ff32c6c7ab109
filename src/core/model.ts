// The normalized picture of what a user has configured, shared by every surface (tree, CLI, diagnostics).

import type { ClientId } from './clients/ids';

export type { ClientId } from './clients/ids';
export { CLIENT_LABELS } from './clients/ids';

/**
 * Where a server is configured, in the client's own words.
 * Claude Code: user (~/.claude.json top level), local (~/.claude.json projects[path]),
 * project (<workspace>/.mcp.json), managed (managed-mcp.json), plugin (a plugin's .mcp.json),
 * dynamic (a file passed with `claude --mcp-config`, named in mcpAuthDoctor.extraConfigPaths).
 * Codex: user ($CODEX_HOME/config.toml), project (a trusted project's .codex/config.toml).
 */
export type Scope = 'user' | 'local' | 'project' | 'managed' | 'plugin' | 'dynamic';

export type Transport = 'stdio' | 'http' | 'sse';

/** 1-based line and column, as editors and compilers print them. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export type Severity = 'error' | 'warning' | 'info';

/** Revisions of the MCP authorization spec a finding can be graded against, oldest first. */
export type SpecRevision = '2025-03-26' | '2025-06-18' | '2025-11-25' | '2026-07-28';

/**
 * What can be done about a finding: refresh the token, log in again, reset the stored client
 * registration, edit the config entry, or tell the server's owner (nothing to fix on this machine).
 */
export type RepairId = 'refresh' | 'relogin' | 'reset' | 'edit-config' | 'report-server';

export interface Finding {
  /** Stable identifier, e.g. `config.invalid-json`; documented in docs/findings.md. */
  code: string;
  severity: Severity;
  /** One line a user reads in a list. */
  title: string;
  /** What is wrong and what to do; never contains a secret. */
  detail: string;
  location?: SourceLocation;
  /** What was seen, one line each (requests and their answers, fields), secrets redacted. */
  evidence?: string[];
  /** The spec section, RFC clause or client issue the finding rests on. */
  reference?: string;
  /** The spec revisions the rule belongs to; absent when it is not a spec rule (config, stores). */
  revisions?: SpecRevision[];
  /** Repairs that address it, most fitting first. */
  repairs?: RepairId[];
}

/** Per-server OAuth settings a client lets the user pin in config. */
export interface OAuthSettings {
  clientId?: string;
  callbackPort?: number;
  callbackUrl?: string;
  authServerMetadataUrl?: string;
  scopes?: string[];
  /** RFC 8707 resource the client sends at login (Codex `oauth_resource`). */
  resource?: string;
  /**
   * Enterprise-managed authorization (SEP-990, ID-JAG) configured for the server: Claude Code
   * `oauth.xaa: true`, Codex `auth = "ema_auth"` (see enterpriseAuthorization.ts).
   */
  enterpriseManaged?: boolean;
}

export interface McpServer {
  client: ClientId;
  scope: Scope;
  name: string;
  transport: Transport;
  /** URL with `${VAR}` placeholders expanded (what the client connects to); remote servers only. */
  url?: string;
  /** URL exactly as written in the file, for display. */
  rawUrl?: string;
  /** stdio servers: the command (as written). */
  command?: string;
  /** Header names only: values may be secrets and are never displayed. */
  headerNames: string[];
  /** Header values as the client would send them (placeholders expanded). Never display or log. */
  headers: Record<string, string>;
  enabled: boolean;
  /** The file and position of the server's entry (its key), for diagnostics and "Open config". */
  source: SourceLocation;
  /** For local and project scopes: the project directory the entry belongs to. */
  projectPath?: string;
  /**
   * The app whose config holds the entry when that app is not the client that logs in: a bridge
   * such as mcp-remote runs from Claude Desktop's, Cursor's or Windsurf's config (e.g. "Cursor").
   */
  host?: string;
  /** Codex profile (`$CODEX_HOME/<profile>.config.toml`, the entry applies only under `codex --profile <profile>`) or VS Code profile name (the profile's own mcp.json). */
  profile?: string;
  /** Credential storage key `<name>|<sha256-16>` exactly as the client computes it (remote servers). */
  storageKey?: string;
  oauth?: OAuthSettings;
  /** Codex `bearer_token_env_var`: the server authenticates with a static token, not OAuth. */
  bearerTokenEnvVar?: string;
  /** Claude Code `headersHelper` / Codex `http_headers_helper`: a command that prints headers at connect time. */
  headersHelper?: string;
  /** Codex 0.171 `auth = "chatgpt"` on the ChatGPT origin: Codex sends the token of its own ChatGPT sign-in, not an MCP OAuth login. */
  chatgptAuth?: boolean;
  /** Problems with this entry (unset placeholder, missing url, ...). */
  findings: Finding[];
}

/** What one client's config reader found: servers plus problems that belong to no single server. */
export interface ConfigScan {
  servers: McpServer[];
  findings: Finding[];
  /** Every config file the reader looked at (present or not), so the editor can watch them. */
  files: string[];
}

export function emptyScan(): ConfigScan {
  return { servers: [], findings: [], files: [] };
}

export function mergeScans(scans: ConfigScan[]): ConfigScan {
  return {
    servers: scans.flatMap((s) => s.servers),
    findings: scans.flatMap((s) => s.findings),
    files: [...new Set(scans.flatMap((s) => s.files))],
  };
}
