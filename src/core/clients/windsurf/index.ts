// Windsurf (Codeium's editor, Cascade): `~/.codeium/windsurf/mcp_config.json`, `{"mcpServers": {…}}`;
// a `command` entry is stdio, a `serverUrl` (or `url`) entry remote with optional `headers`; an
// entry with "disabled": true is off. It expands `${env:VAR}` and `${file:/path}` in the file.
// Sources: docs.windsurf.com/windsurf/cascade/mcp ("mcp_config.json", remote HTTP example with
// "serverUrl", "Config interpolation"); VS Code's discovery of the same file
// (microsoft/vscode nativeMcpDiscoveryAdapters.ts WindsurfDesktopMpcDiscoveryAdapter) reads `url`
// as remote and parses with JSON.parse. Vendor pages disagree on `url` (newtalaria/docs: "url from
// a Cursor file does not connect"); both are read, serverUrl first. No source says whether comments
// or trailing commas are accepted: read as plain JSON. Windows: %USERPROFILE%\.codeium\windsurf.
// No project-scope file is documented for Windsurf's MCP servers.
import { CONFIG_FINDING } from '../../config/claudeCodeFindings';
import { pathFor, type Environment } from '../../environment';
import type { ConfigScan } from '../../model';
import type { AppRules } from '../editorConfig/entries';
import { scanFiles, type ConfigFile } from '../editorConfig/scan';
import type { ClientDefinition } from '../types';

export const WINDSURF_RULES: AppRules = {
  mcpRemoteElsewhere: true,
  client: 'windsurf',
  app: 'Windsurf',
  serversKey: 'mcpServers',
  urlKeys: ['serverUrl', 'url'],
  transport(raw, url) {
    if (url !== undefined) return { transport: raw.type === 'sse' ? 'sse' : 'http' };
    if (typeof raw.command === 'string' && raw.command !== '') return { transport: 'stdio' };
    return { finding: { code: CONFIG_FINDING.missingCommand, severity: 'error', title: 'No "serverUrl" and no "command"', detail: 'Windsurf starts an entry with "command" (stdio) or connects to one with "serverUrl"; this one has neither, so Windsurf cannot load it.' } };
  },
  variables: { supported: new Set(['env']), unsetEnv: 'unknown' },
  disabledKey: 'disabled',
};

export function windsurfConfigFiles(e: Environment): ConfigFile[] {
  const p = pathFor(e);
  return [{ file: p.join(e.home, '.codeium', 'windsurf', 'mcp_config.json'), scope: 'user', label: 'Windsurf MCP config (~/.codeium/windsurf/mcp_config.json)' }];
}

export function scanWindsurf(e: Environment): Promise<ConfigScan> {
  return scanFiles(e, WINDSURF_RULES, 'json', windsurfConfigFiles(e));
}

export const windsurf: ClientDefinition = {
  id: 'windsurf',
  label: 'Windsurf',
  scanConfigs: scanWindsurf,
  tokensNotRead:
    "Windsurf keeps MCP OAuth tokens in its own app storage (the editor's secret storage), which MCP Auth Doctor does not read. To log in again, use the server in Windsurf's MCP settings (Windsurf Settings → Cascade → MCP Servers).",
  // No documented shell or in-editor command logs a Windsurf MCP server out.
  handOff: () => undefined,
  compatibility: 'sdk',
};
