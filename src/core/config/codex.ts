// Codex's MCP servers: `$CODEX_HOME/config.toml` (default ~/.codex) `[mcp_servers.<name>]`, and an
// open project's `.codex/config.toml`, which Codex layers in only for trusted projects
// (`[projects."<path>"] trust_level = "trusted"` in the user config; shared/docs/failure-modes.md §0).
// Entry fields follow codex-rs McpServerConfig: stdio `command`/`args`/`env`/`cwd`, streamable
// HTTP `url`/`bearer_token_env_var`/`http_headers`/`env_http_headers`, `enabled` (default true),
// `[mcp_servers.<name>.oauth]` (`client_id`, `callback_port`, `callback_url`, `scopes`).
// Codex has no SSE transport. Its credential key always hashes type "http" and empty headers
// (codex-rs/rmcp-client/src/oauth.rs compute_store_key).
//
// Finding codes: config.unreadable, config.invalid-toml, config.missing-servers (mcp_servers is not
// a table), config.invalid-entry, config.missing-url (neither url nor command, or both),
// config.invalid-url, config.unset-variable (env_http_headers / bearer_token_env_var),
// config.untrusted-project, config.invalid-setting (mcp_oauth_credentials_store).
import * as path from 'node:path';
import { z } from 'zod';
import type { Environment } from '../environment';
import { codexHome } from '../environment';
import type { ConfigScan, Finding, McpServer, Scope, SourceLocation } from '../model';
import { storageKey } from '../storageKey';
import { mcpServerPositions } from './codexTomlPositions';
import { readConfigText } from './sourceText';

const OAuthSchema = z
  .object({
    client_id: z.string().optional(),
    callback_port: z.number().int().min(0).max(65535).optional(),
    callback_url: z.string().optional(),
    scopes: z.array(z.string()).optional(),
  })
  .loose();

const ServerSchema = z
  .object({
    command: z.string().optional(),
    args: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    cwd: z.string().optional(),
    url: z.string().optional(),
    bearer_token_env_var: z.string().optional(),
    http_headers: z.record(z.string(), z.string()).optional(),
    env_http_headers: z.record(z.string(), z.string()).optional(),
    enabled: z.boolean().optional(),
    oauth: OAuthSchema.optional(),
  })
  .loose();

export const CODEX_CREDENTIAL_STORE_MODES = ['auto', 'file', 'keyring'] as const;

export async function scanCodex(e: Environment): Promise<ConfigScan> {
  const userFile = path.join(codexHome(e), 'config.toml');
  const user = await readCodexToml(userFile);
  const scan: ConfigScan = { servers: [], findings: [...user.findings], files: [userFile] };
  if (user.doc) {
    checkSettings(user.doc, userFile, user.text ?? '', scan.findings);
    serversFrom(user.doc, user.text ?? '', userFile, 'user', undefined, e, scan);
  }
  const trusted = trustedProjects(user.doc);
  for (const dir of e.projectDirs) {
    const file = path.join(dir, '.codex', 'config.toml');
    // A project at $HOME: its .codex/config.toml is the user config itself.
    if (path.resolve(file) === path.resolve(userFile)) continue;
    scan.files.push(file);
    const project = await readCodexToml(file);
    scan.findings.push(...project.findings);
    if (!project.doc) continue;
    const before = scan.servers.length;
    serversFrom(project.doc, project.text ?? '', file, 'project', dir, e, scan);
    if (!trusted.has(path.resolve(dir))) {
      for (const s of scan.servers.slice(before)) {
        s.enabled = false;
        s.findings.push({
          code: 'config.untrusted-project',
          severity: 'info',
          title: `Codex ignores "${s.name}" until this project is trusted`,
          detail: `Codex reads ${file} only for trusted projects. Trust the project in Codex (it asks on first run in the folder), or move the server to ${userFile}.`,
          location: s.source,
        });
      }
    }
  }
  return scan;
}

interface TomlRead {
  doc?: Record<string, unknown>;
  text?: string;
  findings: Finding[];
}

async function readCodexToml(file: string): Promise<TomlRead> {
  const read = await readConfigText(file);
  if (read.kind === 'missing') return { findings: [] };
  if (read.kind === 'unreadable') {
    return {
      findings: [
        {
          code: 'config.unreadable',
          severity: 'error',
          title: 'Codex config cannot be read',
          detail: `${file} exists but cannot be read (${read.reason}). Codex will fail to start until it can.`,
          location: { file, line: 1, column: 1 },
        },
      ],
    };
  }
  try {
    // smol-toml ships types for its ESM entry only; a dynamic import satisfies Node16 resolution.
    const { parse } = await import('smol-toml');
    return { doc: parse(read.text) as Record<string, unknown>, text: read.text, findings: [] };
  } catch (err) {
    const e = err as { line?: number; column?: number; message?: string };
    const reason = (e.message ?? String(err)).split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'invalid TOML';
    return {
      text: read.text,
      findings: [
        {
          code: 'config.invalid-toml',
          severity: 'error',
          title: 'Codex config is not valid TOML',
          detail: `${file}:${e.line ?? 1}:${e.column ?? 1}: ${reason}. Codex refuses to start with a config it cannot parse; none of its servers load until this is fixed.`,
          location: { file, line: e.line ?? 1, column: e.column ?? 1 },
        },
      ],
    };
  }
}

function serversFrom(
  doc: Record<string, unknown>,
  text: string,
  file: string,
  scope: Scope,
  projectPath: string | undefined,
  e: Environment,
  scan: ConfigScan,
): void {
  if (doc.mcp_servers === undefined) return;
  const positions = mcpServerPositions(text);
  const at = (name: string): SourceLocation => ({ file, line: positions.get(name)?.line ?? 1, column: positions.get(name)?.column ?? 1 });
  if (!isTable(doc.mcp_servers)) {
    scan.findings.push({
      code: 'config.missing-servers',
      severity: 'error',
      title: '`mcp_servers` is not a table',
      detail: `In ${file}, mcp_servers must be a table of servers ([mcp_servers.<name>]).`,
      location: { file, line: 1, column: 1 },
    });
    return;
  }
  for (const [name, value] of Object.entries(doc.mcp_servers)) {
    const source = at(name);
    const parsed = ServerSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      scan.findings.push({
        code: 'config.invalid-entry',
        severity: 'error',
        title: `Codex server "${name}" is not valid`,
        detail: `${file}:${source.line}: ${issue ? `${issue.path.join('.') || 'entry'}: ${issue.message}` : 'not a table'}. Codex will not load this server.`,
        location: source,
      });
      continue;
    }
    const entry = parsed.data;
    if ((entry.url === undefined) === (entry.command === undefined)) {
      scan.findings.push({
        code: 'config.missing-url',
        severity: 'error',
        title: `Codex server "${name}" needs either url or command`,
        detail: `${file}:${source.line}: a server has \`url\` (streamable HTTP) or \`command\` (stdio), ${entry.url === undefined ? 'and this one has neither' : 'not both'}.`,
        location: source,
      });
      continue;
    }
    const server: McpServer = {
      client: 'codex',
      scope,
      name,
      transport: entry.url !== undefined ? 'http' : 'stdio',
      headerNames: [...Object.keys(entry.http_headers ?? {}), ...Object.keys(entry.env_http_headers ?? {})],
      headers: { ...(entry.http_headers ?? {}) },
      enabled: entry.enabled ?? true,
      source,
      findings: [],
      ...(projectPath ? { projectPath } : {}),
    };
    if (entry.command !== undefined) server.command = entry.command;
    if (entry.url !== undefined) {
      server.url = entry.url;
      server.rawUrl = entry.url;
      server.storageKey = storageKey(name, 'http', entry.url, {});
      if (!isHttpUrl(entry.url)) {
        server.findings.push({
          code: 'config.invalid-url',
          severity: 'error',
          title: `"${name}" has a URL Codex cannot connect to`,
          detail: `${file}:${source.line}: url must be an absolute http(s) URL.`,
          location: source,
        });
      }
    }
    for (const [header, variable] of Object.entries(entry.env_http_headers ?? {})) {
      const value = e.env[variable];
      if (value === undefined) server.findings.push(unsetVariable(name, variable, `header ${header}`, source));
      else server.headers[header] = value;
    }
    if (entry.bearer_token_env_var !== undefined) {
      server.bearerTokenEnvVar = entry.bearer_token_env_var;
      if (e.env[entry.bearer_token_env_var] === undefined) {
        server.findings.push(unsetVariable(name, entry.bearer_token_env_var, 'its bearer token', source));
      }
    }
    if (entry.oauth) {
      const o = entry.oauth;
      server.oauth = {
        ...(o.client_id !== undefined ? { clientId: o.client_id } : {}),
        ...(o.callback_port !== undefined ? { callbackPort: o.callback_port } : {}),
        ...(o.callback_url !== undefined ? { callbackUrl: o.callback_url } : {}),
        ...(o.scopes !== undefined ? { scopes: o.scopes } : {}),
      };
    }
    scan.servers.push(server);
  }
}

function checkSettings(doc: Record<string, unknown>, file: string, text: string, findings: Finding[]): void {
  const mode = doc.mcp_oauth_credentials_store;
  if (mode === undefined || (CODEX_CREDENTIAL_STORE_MODES as readonly unknown[]).includes(mode)) return;
  const line = text.split(/\r?\n/).findIndex((l) => /^\s*mcp_oauth_credentials_store\s*=/.test(l)) + 1 || 1;
  findings.push({
    code: 'config.invalid-setting',
    severity: 'error',
    title: 'Unknown mcp_oauth_credentials_store',
    detail: `${file}:${line}: mcp_oauth_credentials_store must be "auto", "file" or "keyring"; Codex refuses the config otherwise.`,
    location: { file, line, column: 1 },
  });
}

function trustedProjects(doc: Record<string, unknown> | undefined): Set<string> {
  const trusted = new Set<string>();
  const projects = doc?.projects;
  if (!isTable(projects)) return trusted;
  for (const [dir, settings] of Object.entries(projects)) {
    if (isTable(settings) && settings.trust_level === 'trusted') trusted.add(path.resolve(dir));
  }
  return trusted;
}

function unsetVariable(server: string, variable: string, what: string, location: SourceLocation): Finding {
  return {
    code: 'config.unset-variable',
    severity: 'warning',
    title: `"${server}" uses $${variable}, which is not set`,
    detail: `Codex reads ${what} from the environment variable ${variable}, which is not set where the editor runs. Set it in the environment Codex starts from.`,
    location,
  };
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function isHttpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
