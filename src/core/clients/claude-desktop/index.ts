// Claude Desktop: `claude_desktop_config.json` in its app-data folder (macOS `~/Library/Application
// Support/Claude`, Windows `%APPDATA%\Claude`, Linux `$XDG_CONFIG_HOME/Claude`, default
// `~/.config/Claude`; the three VS Code's own discovery uses, microsoft/vscode
// nativeMcpDiscoveryAdapters.ts ClaudeDesktopMpcDiscoveryAdapter). `{"mcpServers": {…}}` with
// `command`, `args`, `env`: this file starts local (stdio) servers only; remote servers are added
// in the app as Connectors (Settings → Connectors), which Claude keeps with the account, not here
// (modelcontextprotocol.io quickstart "For Claude Desktop Users"; support.claude.com "Getting
// started with custom connectors using remote MCP"). Read as plain JSON (an Electron app's
// JSON.parse; a trailing comma stops every server, mcpbundles.com/blog/claude-desktop-mcp).
// Remote servers reached through `npx mcp-remote <url>` here are the mcp-remote client's.
import { CONFIG_FINDING } from '../../config/claudeCodeFindings';
import { pathFor, type Environment } from '../../environment';
import type { ConfigScan } from '../../model';
import type { AppRules } from '../editorConfig/entries';
import { appDataDir } from '../editorConfig/paths';
import { scanFiles, type ConfigFile } from '../editorConfig/scan';
import type { ClientDefinition } from '../types';

export const CLAUDE_DESKTOP_RULES: AppRules = {
  mcpRemoteElsewhere: true,
  client: 'claude-desktop',
  app: 'Claude Desktop',
  serversKey: 'mcpServers',
  urlKeys: [],
  transport(raw) {
    if (typeof raw.command === 'string' && raw.command !== '') return { transport: 'stdio' };
    const remote = typeof raw.url === 'string' || typeof raw.serverUrl === 'string';
    return {
      finding: {
        code: CONFIG_FINDING.missingCommand,
        severity: 'error',
        title: remote ? 'A url entry, which this file cannot hold' : 'No "command"',
        detail: remote
          ? 'Claude Desktop starts only local servers ("command") from this file. Add a remote server in Claude Desktop as a Connector (Settings → Connectors), or run it through mcp-remote here.'
          : 'Claude Desktop starts each entry of this file with its "command"; this one has none, so it cannot start.',
        ...(remote ? { at: typeof raw.url === 'string' ? 'url' : 'serverUrl' } : {}),
      },
    };
  },
  variables: { supported: new Set(), unsetEnv: 'unknown' },
};

export function claudeDesktopConfigFiles(e: Environment): ConfigFile[] {
  const p = pathFor(e);
  return [{ file: p.join(appDataDir(e), 'Claude', 'claude_desktop_config.json'), scope: 'user', label: 'Claude Desktop config (claude_desktop_config.json)' }];
}

export function scanClaudeDesktop(e: Environment): Promise<ConfigScan> {
  return scanFiles(e, CLAUDE_DESKTOP_RULES, 'json', claudeDesktopConfigFiles(e));
}

export const claudeDesktop: ClientDefinition = {
  id: 'claude-desktop',
  label: 'Claude Desktop',
  scanConfigs: scanClaudeDesktop,
  tokensNotRead:
    'Claude Desktop logs in to remote servers as Connectors and keeps those logins with your Claude account and in its own app storage, which MCP Auth Doctor does not read; its config file lists only local servers, which need no OAuth. To log in again, disconnect and reconnect the Connector in Claude Desktop (Settings → Connectors).',
  handOff: () => undefined,
  compatibility: 'sdk',
};
