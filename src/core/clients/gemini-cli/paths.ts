// Where Gemini CLI 0.61.0 keeps its files, as its bundle computes them (node_modules/@google/
// gemini-cli/bundle; lines below are of that release's files):
// - home: `$GEMINI_CLI_HOME`, else os.homedir() (chunk-JDPZ4CE3.js:251981 `homedir()`), and
//   `<home>/.gemini` for settings, tokens, trusted folders, enablement (Storage.getGlobalGeminiDir,
//   :253138; GEMINI_DIR = ".gemini", :251978).
// - runtime dir: the same, except `<home>/.cache/.gemini` when `SANDBOX=sandbox-exec` (macOS
//   seatbelt; Storage.getGlobalRuntimeDir, :253170). mcp-oauth-tokens.json and trustedFolders.json
//   live there (:253152, :253196).
// - system settings: `$GEMINI_CLI_SYSTEM_SETTINGS_PATH`, else /Library/Application Support/GeminiCli/
//   settings.json (macOS), C:\ProgramData\gemini-cli\settings.json (Windows), /etc/gemini-cli/
//   settings.json; system defaults: `$GEMINI_CLI_SYSTEM_DEFAULTS_PATH`, else system-defaults.json
//   beside the system settings (chunk-2YTYPKEZ.js:16141-16163).
// - a project's settings: `<project>/.gemini/settings.json`, not read when the project is the
//   home itself (Storage.getWorkspaceSettingsPath :253355, isWorkspaceHomeDir :253257; chunk-2YTYPKEZ.js:16625).
import { pathFor, type Environment } from '../../environment';

export const GEMINI_DIR = '.gemini';

/** The home Gemini CLI uses: `$GEMINI_CLI_HOME` as given (not resolved, as Gemini), else the user's. */
export function geminiHome(e: Environment): string {
  return e.env.GEMINI_CLI_HOME || e.home;
}

/** `<home>/.gemini`: user settings, the enablement file. */
export function geminiGlobalDir(e: Environment): string {
  return pathFor(e).join(geminiHome(e), GEMINI_DIR);
}

/** Where tokens and trusted folders live: `<home>/.gemini`, or `<home>/.cache/.gemini` under macOS seatbelt. */
export function geminiRuntimeDir(e: Environment): string {
  if (e.env.SANDBOX === 'sandbox-exec') return pathFor(e).join(geminiHome(e), '.cache', GEMINI_DIR);
  return geminiGlobalDir(e);
}

export function geminiUserSettingsPath(e: Environment): string {
  return pathFor(e).join(geminiGlobalDir(e), 'settings.json');
}

export function geminiSystemSettingsPath(e: Environment): string {
  if (e.env.GEMINI_CLI_SYSTEM_SETTINGS_PATH) return e.env.GEMINI_CLI_SYSTEM_SETTINGS_PATH;
  if (e.platform === 'darwin') return '/Library/Application Support/GeminiCli/settings.json';
  if (e.platform === 'win32') return 'C:\\ProgramData\\gemini-cli\\settings.json';
  return '/etc/gemini-cli/settings.json';
}

export function geminiSystemDefaultsPath(e: Environment): string {
  if (e.env.GEMINI_CLI_SYSTEM_DEFAULTS_PATH) return e.env.GEMINI_CLI_SYSTEM_DEFAULTS_PATH;
  const system = geminiSystemSettingsPath(e);
  const p = e.platform === 'win32' && /^[A-Za-z]:\\/.test(system) ? pathFor({ platform: 'win32', home: 'C:\\' }) : pathFor(e);
  return p.join(p.dirname(system), 'system-defaults.json');
}

export function geminiProjectSettingsPath(e: Environment, projectDir: string): string {
  return pathFor(e).join(projectDir, GEMINI_DIR, 'settings.json');
}

/** `$GEMINI_CLI_TRUSTED_FOLDERS_PATH`, else `<runtime dir>/trustedFolders.json` (chunk-JDPZ4CE3.js:253196). */
export function geminiTrustedFoldersPath(e: Environment): string {
  return e.env.GEMINI_CLI_TRUSTED_FOLDERS_PATH || pathFor(e).join(geminiRuntimeDir(e), 'trustedFolders.json');
}

/** `gemini mcp disable` writes `{ "<lower-cased name>": { "enabled": false } }` here (chunk-HPLZM7PQ.js:66449, :66472). */
export function geminiEnablementPath(e: Environment): string {
  return pathFor(e).join(geminiGlobalDir(e), 'mcp-server-enablement.json');
}

/** The plain token file (MCPOAuthTokenStorage, chunk-JDPZ4CE3.js:368128; Storage.getMcpOAuthTokensPath :253152). */
export function geminiTokenFilePath(e: Environment): string {
  return pathFor(e).join(geminiRuntimeDir(e), 'mcp-oauth-tokens.json');
}

/** The encrypted keychain fallback (FileKeychain, chunk-JDPZ4CE3.js:278391): only with GEMINI_FORCE_ENCRYPTED_FILE_STORAGE=true. */
export function geminiEncryptedCredentialsPath(e: Environment): string {
  return pathFor(e).join(geminiGlobalDir(e), 'gemini-credentials.json');
}
