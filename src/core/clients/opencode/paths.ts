// Where opencode 1.18.33 (npm opencode-ai) keeps its files. Read from the shipped binary, whose
// bundle carries its source (`Global` module: xdg-basedir's rule, the same on every OS):
// - data   `$XDG_DATA_HOME/opencode`, else `<home>/.local/share/opencode`: mcp-auth.json, the MCP logins;
// - config `$XDG_CONFIG_HOME/opencode`, else `<home>/.config/opencode`: config.json, opencode.json, opencode.jsonc;
// - state  `$XDG_STATE_HOME/opencode`, else `<home>/.local/state/opencode`: locks/ (lock.ts);
// - managed config (`ConfigManaged.managedConfigDir`): /Library/Application Support/opencode
//   (macOS), %ProgramData%\opencode (Windows), /etc/opencode, holding opencode.json(c) that win
//   over every other file.
// An empty variable counts as unset (`R.XDG_DATA_HOME || …`). Checked on Linux with the real
// 1.18.33 (a login wrote <home>/.local/share/opencode/mcp-auth.json, 0600); the macOS and Windows
// paths are what the same code computes there, untested.
import { pathFor, type Environment } from '../../environment';

export const OPENCODE_APP = 'opencode';

function xdg(e: Environment, variable: string, fallback: string[]): string {
  const p = pathFor(e);
  return p.join(e.env[variable] || p.join(e.home, ...fallback), OPENCODE_APP);
}

export function opencodeDataDir(e: Environment): string {
  return xdg(e, 'XDG_DATA_HOME', ['.local', 'share']);
}

export function opencodeConfigDir(e: Environment): string {
  return xdg(e, 'XDG_CONFIG_HOME', ['.config']);
}

export function opencodeStateDir(e: Environment): string {
  return xdg(e, 'XDG_STATE_HOME', ['.local', 'state']);
}

/** `<data>/mcp-auth.json`: every MCP login, by server name. */
export function opencodeAuthFile(e: Environment): string {
  return pathFor(e).join(opencodeDataDir(e), 'mcp-auth.json');
}

export function opencodeManagedDir(e: Environment): string {
  if (e.platform === 'darwin') return '/Library/Application Support/opencode';
  if (e.platform === 'win32') return pathFor(e).join(e.env.ProgramData || 'C:\\ProgramData', OPENCODE_APP);
  return '/etc/opencode';
}
