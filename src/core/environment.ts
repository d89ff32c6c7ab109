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
    home: process.env.HOME || process.env.USERPROFILE || os.homedir(),
    env: { ...process.env },
    platform: process.platform,
    projectDirs: projectDirs.map((d) => path.resolve(d)),
  };
}

/** `CLAUDE_CONFIG_DIR`, else `~/.claude` (credentials, caches, plugins live there). */
export function claudeConfigDir(e: Environment): string {
  return e.env.CLAUDE_CONFIG_DIR ? path.resolve(e.env.CLAUDE_CONFIG_DIR) : path.join(e.home, '.claude');
}

/** `$CODEX_HOME`, else `~/.codex`. */
export function codexHome(e: Environment): string {
  return e.env.CODEX_HOME ? path.resolve(e.env.CODEX_HOME) : path.join(e.home, '.codex');
}
