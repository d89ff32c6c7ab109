// Cursor: `~/.cursor/mcp.json` (user, every project) and `<project>/.cursor/mcp.json` (project),
// both `{"mcpServers": {…}}`; a `command` entry is stdio, a `url` entry remote with optional
// `headers` and static OAuth `auth` (CLIENT_ID, CLIENT_SECRET, scopes); Cursor picks Streamable
// HTTP or SSE for a url itself, and reads "type": "sse" where one is written. It expands
// `${env:NAME}`, `${userHome}`, `${workspaceFolder}`, `${workspaceFolderBasename}`,
// `${pathSeparator}` / `${/}` in command, args, env, url and headers.
// Sources: cursor.com/docs/mcp (transports table, "Configuration locations", "Config
// interpolation", "Static OAuth"); VS Code's discovery of the same file reads it as JSON.parse
// with `url` meaning remote (microsoft/vscode nativeMcpDiscoveryAdapters.ts
// CursorDesktopMpcDiscoveryAdapter); a trailing comma breaks Cursor's file (upstash/context7#563),
// so it is read as plain JSON. Comments: no source says; read as errors, like JSON.parse.
// Windows: `~` is %USERPROFILE% (Environment.home).
import { CONFIG_FINDING } from '../../config/claudeCodeFindings';
import { pathFor, pathForDir, type Environment } from '../../environment';
import type { ConfigScan } from '../../model';
import type { AppRules } from '../editorConfig/entries';
import { scanFiles, type ConfigFile } from '../editorConfig/scan';
import type { ClientDefinition } from '../types';

export const CURSOR_RULES: AppRules = {
  mcpRemoteElsewhere: true,
  client: 'cursor',
  app: 'Cursor',
  serversKey: 'mcpServers',
  urlKeys: ['url'],
  transport(raw, url) {
    if (url !== undefined) return { transport: raw.type === 'sse' ? 'sse' : 'http' };
    if (typeof raw.command === 'string' && raw.command !== '') return { transport: 'stdio' };
    return { finding: { code: CONFIG_FINDING.missingCommand, severity: 'error', title: 'No "url" and no "command"', detail: 'Cursor starts an entry with "command" (stdio) or connects to one with "url"; this one has neither, so Cursor cannot load it.' } };
  },
  variables: { supported: new Set(['env', 'userHome', 'workspaceFolder', 'workspaceFolderBasename', 'pathSeparator']), unsetEnv: 'unknown' },
};

export function cursorConfigFiles(e: Environment): ConfigFile[] {
  const p = pathFor(e);
  return [
    { file: p.join(e.home, '.cursor', 'mcp.json'), scope: 'user', label: 'Cursor user MCP config (~/.cursor/mcp.json)' },
    ...e.projectDirs.map((dir): ConfigFile => ({ file: pathForDir(dir).join(dir, '.cursor', 'mcp.json'), scope: 'project', label: 'Cursor project MCP config (.cursor/mcp.json)', projectPath: dir })),
  ];
}

export function scanCursor(e: Environment): Promise<ConfigScan> {
  return scanFiles(e, CURSOR_RULES, 'json', cursorConfigFiles(e));
}

export const cursor: ClientDefinition = {
  id: 'cursor',
  label: 'Cursor',
  scanConfigs: scanCursor,
  tokensNotRead:
    "Cursor keeps MCP OAuth tokens in its own app storage (the editor's secret storage), which MCP Auth Doctor does not read. To log in again, use the server's entry in Cursor Settings → Tools & MCP (log out, then connect).",
  // Cursor files tokens in its own storage under ids of its own; no key we compute names them.
  // Cursor has no shell command that logs an MCP server in or out (its `cursor-agent mcp login`
  // belongs to the separate Cursor CLI, whose store is not the editor's; not verified here).
  handOff: () => undefined,
  compatibility: 'sdk',
};
