// Where a reader looks: the user's home, the clients' env overrides and the open projects.
// Passed in (not read from process globals inside readers) so tests and the CLI can point
// everything at a sandbox HOME.
import * as os from 'node:os';
import * as path from 'node:path';

export interface Environment {
  home: string;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  /** Absolute paths of the open workspace folders (CLI: --cwd), most relevant first. */
  projectDirs: string[];
  /** Override for Claude Code's managed-mcp.json (tests); default is the OS's system path. */
  managedMcpPath?: string;
  /** More files in .mcp.json form, as passed to `claude --mcp-config <file>` (editor setting mcpAuthDoctor.extraConfigPaths). */
  extraConfigPaths?: string[];
}

export function environmentFromProcess(projectDirs: string[] = [process.cwd()]): Environment {
  return {
    home: homeFor(process.platform, process.env, os.homedir()),
    env: { ...process.env },
    platform: process.platform,
    projectDirs: projectDirs.map((d) => path.resolve(d)),
  };
}

/**
 * The home the clients use. Windows: `%USERPROFILE%` (Node's and so Claude Code's `os.homedir()`;
 * Codex's `dirs::home_dir()` asks for the profile folder, which is what USERPROFILE holds), never
 * `HOME`, which Git Bash/MSYS/Cygwin set to a path neither client reads. Elsewhere `$HOME`.
 */
export function homeFor(platform: NodeJS.Platform, env: Record<string, string | undefined>, fallback: string): string {
  return (platform === 'win32' ? env.USERPROFILE : env.HOME || env.USERPROFILE) || fallback;
}

/**
 * The path rules of the Environment's OS: `path.win32` for a Windows home (`C:\…`, `\\server\…`),
 * so paths read as Windows shows them even where the host is not Windows (tests). A win32
 * Environment whose home is a POSIX path is a sandbox on this host: the host's rules then, so its
 * files are real files here. On Windows itself both are path.win32.
 */
export function pathFor(e: Pick<Environment, 'platform' | 'home'>): path.PlatformPath {
  return e.platform === 'win32' && !path.posix.isAbsolute(e.home) ? path.win32 : path;
}

/** The path rules of a directory's own form: path.win32 for `C:\…` or `\\server\…`, else the host's. */
export function pathForDir(dir: string): path.PlatformPath {
  return /^(?:[A-Za-z]:[\\/]|\\\\)/.test(dir) ? path.win32 : path;
}

/** `CLAUDE_CONFIG_DIR`, else `~/.claude` (credentials, caches, plugins live there). */
export function claudeConfigDir(e: Environment): string {
  const p = pathFor(e);
  return e.env.CLAUDE_CONFIG_DIR ? p.resolve(e.env.CLAUDE_CONFIG_DIR) : p.join(e.home, '.claude');
}

/** `$CODEX_HOME`, else `~/.codex` (Windows: `%USERPROFILE%\.codex`; codex-rs utils/home-dir `find_codex_home`). */
export function codexHome(e: Environment): string {
  const p = pathFor(e);
  return e.env.CODEX_HOME ? p.resolve(e.env.CODEX_HOME) : p.join(e.home, '.codex');
}
