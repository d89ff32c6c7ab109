// Where desktop apps keep per-user data, by the Environment's OS (so a sandbox can stand for any):
// Windows `%APPDATA%` (default `%USERPROFILE%\AppData\Roaming`), macOS `~/Library/Application
// Support`, elsewhere `$XDG_CONFIG_HOME` (default `~/.config`). Electron's app.getPath('appData'),
// which VS Code (src/vs/base/node/userDataPath.ts) and Claude Desktop use; VS Code's own discovery
// of Claude Desktop's file uses the same three (nativeMcpDiscoveryAdapters.ts getFilePath).
import { pathFor, type Environment } from '../../environment';
import type { VariableContext } from './variables';

export function appDataDir(e: Environment): string {
  const p = pathFor(e);
  if (e.platform === 'win32') return e.env.APPDATA ? p.resolve(e.env.APPDATA) : p.join(e.home, 'AppData', 'Roaming');
  if (e.platform === 'darwin') return p.join(e.home, 'Library', 'Application Support');
  return e.env.XDG_CONFIG_HOME && p.isAbsolute(e.env.XDG_CONFIG_HOME) ? e.env.XDG_CONFIG_HOME : p.join(e.home, '.config');
}

/**
 * The variables' context for one file: a project file's `${workspaceFolder}` is its project; a
 * user file's is the open folder when exactly one is open (with several, the app asks which, so
 * it is left unresolved).
 */
export function variableContext(e: Environment, projectDir?: string): VariableContext {
  const folder = projectDir ?? (e.projectDirs.length === 1 ? e.projectDirs[0] : undefined);
  return {
    env: e.env,
    caseInsensitiveEnv: e.platform === 'win32',
    home: e.home,
    ...(folder !== undefined ? { workspaceFolder: folder } : {}),
    path: pathFor(e),
  };
}
