// Where Claude Code 2.1.197 looks for MCP servers and the settings that switch them on or off,
// read off its bundled cli (function names are the minified ones of that build).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { claudeConfigDir, pathFor, type Environment } from '../environment';

/**
 * The global config: `$CLAUDE_CONFIG_DIR/.claude.json` when the variable is set, else
 * `~/.claude.json` (`w0`; confirmed by yarikleto/claude-profile#15 on 2.1.220). A legacy
 * `<config dir>/.config.json`, when it exists, is read instead.
 */
export async function globalConfigCandidates(e: Environment): Promise<{ file: string; looked: string[] }> {
  const p = pathFor(e);
  const legacy = p.join(claudeConfigDir(e), '.config.json');
  const current = p.join(e.env.CLAUDE_CONFIG_DIR ? p.resolve(e.env.CLAUDE_CONFIG_DIR) : e.home, '.claude.json');
  return (await exists(legacy)) ? { file: legacy, looked: [legacy, current] } : { file: current, looked: [legacy, current] };
}

/**
 * The system folder for managed files (`rI`). Windows moved from C:\ProgramData\ClaudeCode to
 * C:\Program Files\ClaudeCode in 2.1.2 (anthropics/claude-code#18720); 2.1.197 reads only the
 * latter, with the drive letter fixed (#77835), and so does 2.1.332 (`pr()`: "C:\\Program
 * Files\\ClaudeCode", then `join(…, "managed-settings.json")`; no ProgramData path for it). Its
 * HKLM/HKCU `SOFTWARE\Policies\ClaudeCode` registry policies are not read here.
 */
export function managedDir(e: Environment): string {
  if (e.managedMcpPath) return path.dirname(e.managedMcpPath);
  switch (e.platform) {
    case 'darwin':
      return '/Library/Application Support/ClaudeCode';
    case 'win32':
      return 'C:\\Program Files\\ClaudeCode';
    default:
      return '/etc/claude-code';
  }
}

export function managedMcpFile(e: Environment): string {
  return e.managedMcpPath ?? joinFor(e, managedDir(e), 'managed-mcp.json');
}

/**
 * The settings files that hold MCP approvals and enabled plugins, lowest precedence first:
 * user, project (.claude/settings.json), local (.claude/settings.local.json), managed.
 */
export function settingsFiles(e: Environment, projectDir: string | undefined): { user: string; project?: string; local?: string; managed: string } {
  return {
    user: pathFor(e).join(claudeConfigDir(e), 'settings.json'),
    ...(projectDir
      ? { project: path.join(projectDir, '.claude', 'settings.json'), local: path.join(projectDir, '.claude', 'settings.local.json') }
      : {}),
    managed: joinFor(e, managedDir(e), 'managed-settings.json'),
  };
}

/**
 * `.mcp.json` files a session started in `dir` reads (`CT("project")`): the directory's own and
 * every ancestor's up to, not including, the filesystem root; the nearest first here (Claude Code
 * lets a nearer file override a farther one's server of the same name).
 */
export function mcpJsonChain(dir: string): string[] {
  const files: string[] = [];
  let d = path.resolve(dir);
  while (d !== path.parse(d).root) {
    files.push(path.join(d, '.mcp.json'));
    d = path.dirname(d);
  }
  return files;
}

/**
 * The key of a project in ~/.claude.json `projects` (`bJ`/`tge`): the canonical git root of the
 * directory (a linked worktree maps to its main checkout), else the directory itself; on Windows
 * with forward slashes.
 */
export async function projectKey(dir: string, platform: NodeJS.Platform): Promise<{ key: string; inGitRepo: boolean }> {
  const resolved = path.resolve(dir);
  const found = await gitRoot(resolved);
  const key = path.normalize(found ? await canonicalRoot(found) : resolved);
  return { key: platform === 'win32' ? key.replaceAll('\\', '/') : key, inGitRepo: found !== undefined };
}

/** Plugin installs live in `$CLAUDE_CODE_PLUGIN_CACHE_DIR`, else `<config dir>/plugins` (`Yv`). */
export function pluginsDir(e: Environment): string {
  const override = e.env.CLAUDE_CODE_PLUGIN_CACHE_DIR;
  return override ? path.resolve(override) : path.join(claudeConfigDir(e), 'plugins');
}

async function gitRoot(dir: string): Promise<string | undefined> {
  for (let d = dir; ; d = path.dirname(d)) {
    if (await exists(path.join(d, '.git'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/** A linked worktree's `.git` file points into `<main>/.git/worktrees/<name>`: use `<main>`. */
async function canonicalRoot(root: string): Promise<string> {
  try {
    const dotGit = (await fs.readFile(path.join(root, '.git'), 'utf8')).trim();
    if (!dotGit.startsWith('gitdir:')) return root;
    const gitDir = path.resolve(root, dotGit.slice(7).trim());
    const common = path.resolve(gitDir, (await fs.readFile(path.join(gitDir, 'commondir'), 'utf8')).trim());
    if (path.resolve(path.dirname(gitDir)) !== path.join(common, 'worktrees')) return root;
    const back = await fs.realpath((await fs.readFile(path.join(gitDir, 'gitdir'), 'utf8')).trim());
    if (back !== path.join(await fs.realpath(root), '.git')) return root;
    return path.basename(common) === '.git' ? path.dirname(common) : common;
  } catch {
    // A directory `.git` (EISDIR) or a broken worktree link: the root itself.
    return root;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Joins with the target platform's separator, so a Windows path reads as Windows shows it. */
function joinFor(e: Environment, dir: string, file: string): string {
  return e.platform === 'win32' && !e.managedMcpPath ? path.win32.join(dir, file) : path.join(dir, file);
}
