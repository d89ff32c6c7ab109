// Which `.codex/config.toml` files Codex 0.169 layers in when started in a folder, and whether it
// trusts each. From codex-rs/config/src/loader/mod.rs (`load_config_layers_state`,
// `find_project_root`, `load_project_layers`, `ProjectTrustContext::decision_for_dir`) and
// codex-rs git-utils `resolve_root_git_project_for_trust`, checked with the 0.169.0 binary:
// - the project root is the nearest ancestor of the folder holding a `project_root_markers` entry
//   (default `.git`; an empty list means the folder itself); every `<dir>/.codex/config.toml` from
//   that root down to the folder is a layer, closer ones winning; a `.codex` that is CODEX_HOME
//   is skipped;
// - a layer counts only when `[projects."<key>"] trust_level = "trusted"` names its directory, else
//   the project root, else the main git checkout (worktrees resolve to it); keys are matched
//   exactly, as the canonical path or as given (case-insensitively on Windows); parents do not
//   pass trust down;
// - an untrusted layer is loaded "disabled": its servers do not start and even its parse errors
//   are ignored.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isTable, type TomlTable } from './codexToml';

export interface ProjectLayer {
  /** The directory holding `.codex/`. */
  dir: string;
  file: string;
  trusted: boolean;
  /** Why Codex ignores an untrusted layer, in Codex's words (loader `disabled_reason_for_decision`). */
  untrustedReason?: string;
}

export interface ProjectChain {
  /** Every candidate file from the project root down to the folder, present or not (to watch). */
  candidates: string[];
  /** Layers whose `.codex` directory exists, lowest precedence first. */
  layers: ProjectLayer[];
}

export async function projectChain(
  folder: string,
  userConfig: TomlTable | undefined,
  userFile: string,
  codexHomeDir: string,
  platform: NodeJS.Platform,
): Promise<ProjectChain> {
  const cwd = path.resolve(folder);
  const root = await projectRoot(cwd, rootMarkers(userConfig));
  const repo = await trustRepoRoot(cwd);
  const projects = trustTable(userConfig);
  const lookup = async (dir: string) => {
    for (const key of await trustKeys(dir)) {
      const hit = findTrust(projects, key, platform);
      if (hit) return hit;
    }
    return undefined;
  };

  const dirs: string[] = [];
  for (let d = cwd; ; d = path.dirname(d)) {
    dirs.unshift(d);
    if (d === root || path.dirname(d) === d) break;
  }
  const home = await canonical(path.resolve(codexHomeDir));
  const candidates: string[] = [];
  const layers: ProjectLayer[] = [];
  for (const dir of dirs) {
    const dotCodex = path.join(dir, '.codex');
    if ((await canonical(dotCodex)) === home || dotCodex === path.resolve(codexHomeDir)) continue;
    const file = path.join(dotCodex, 'config.toml');
    candidates.push(file);
    if (!(await isDirectory(dotCodex))) continue;
    const decision = (await lookup(dir)) ?? (await lookup(root)) ?? (repo ? await lookup(repo) : undefined);
    const trusted = decision?.level === 'trusted';
    const layer: ProjectLayer = { dir, file, trusted };
    if (!trusted) {
      const key = decision?.key ?? (await canonical(repo ?? root));
      layer.untrustedReason =
        decision?.level === 'untrusted'
          ? `${key} is marked as untrusted in ${userFile}. To load project-local config, hooks, and exec policies, mark it trusted.`
          : `To load project-local config, hooks, and exec policies, add ${key} as a trusted project in ${userFile}.`;
    }
    layers.push(layer);
  }
  return { candidates, layers };
}

function rootMarkers(userConfig: TomlTable | undefined): string[] {
  const m = userConfig?.project_root_markers;
  return Array.isArray(m) && m.every((x) => typeof x === 'string') ? m : ['.git'];
}

async function projectRoot(cwd: string, markers: string[]): Promise<string> {
  if (markers.length === 0) return cwd;
  for (let d = cwd; ; d = path.dirname(d)) {
    for (const marker of markers) if (await exists(path.join(d, marker))) return d;
    if (path.dirname(d) === d) return cwd;
  }
}

/** The checkout whose trust applies: the nearest `.git` directory's parent, or a worktree's main checkout. */
async function trustRepoRoot(cwd: string): Promise<string | undefined> {
  for (let d = cwd; ; d = path.dirname(d)) {
    const dotGit = path.join(d, '.git');
    const stat = await fs.stat(dotGit).catch(() => undefined);
    if (stat?.isDirectory()) return canonical(d);
    if (stat) {
      const text = await fs.readFile(dotGit, 'utf8').catch(() => '');
      const gitdir = /^gitdir:\s*(.+)$/m.exec(text.trim())?.[1]?.trim();
      if (!gitdir) return undefined;
      const gitDir = await canonical(path.resolve(d, gitdir));
      const worktrees = path.dirname(gitDir);
      if (path.basename(worktrees) !== 'worktrees') return undefined;
      return path.dirname(path.dirname(worktrees));
    }
    if (path.dirname(d) === d) return undefined;
  }
}

type TrustLevel = 'trusted' | 'untrusted';

function trustTable(userConfig: TomlTable | undefined): Map<string, TrustLevel> {
  const out = new Map<string, TrustLevel>();
  const projects = userConfig?.projects;
  if (!isTable(projects)) return out;
  for (const [key, settings] of Object.entries(projects)) {
    const level = isTable(settings) ? settings.trust_level : undefined;
    if (level === 'trusted' || level === 'untrusted') out.set(key, level);
  }
  return out;
}

function findTrust(projects: Map<string, TrustLevel>, key: string, platform: NodeJS.Platform): { key: string; level: TrustLevel } | undefined {
  const exact = projects.get(key);
  if (exact) return { key, level: exact };
  if (platform !== 'win32') return undefined;
  const wanted = key.toLowerCase();
  const hits = [...projects].filter(([k]) => k.toLowerCase() === wanted).sort(([a], [b]) => (a < b ? -1 : 1));
  return hits[0] ? { key: hits[0][0], level: hits[0][1] } : undefined;
}

/** Codex looks a directory up by its canonical path first, then as given. */
async function trustKeys(dir: string): Promise<string[]> {
  const real = await canonical(dir);
  return real === dir ? [real] : [real, dir];
}

async function canonical(p: string): Promise<string> {
  return fs.realpath(p).catch(() => p);
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

async function isDirectory(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
