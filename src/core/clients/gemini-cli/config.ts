// Gemini CLI 0.61.0's MCP servers, from every settings file it reads (loadSettings,
// chunk-2YTYPKEZ.js:16529-16700), lowest precedence first as Gemini merges them (mergeSettings,
// :16209): system defaults, user (~/.gemini/settings.json), the project's
// .gemini/settings.json (only in a trusted folder, trust.ts), system settings (highest: an
// administrator's). `mcpServers` merges by name, a later file's entry replacing the earlier one
// whole ("shallow_merge", :12404 and mergeRecursively :15722). Each entry is listed from its own
// file; one that another file replaces gets a finding saying which.
// Scopes: system settings and system defaults are 'managed', the user file 'user', a project's
// 'project' (with projectPath). Paths and env overrides: paths.ts. A server is disabled when
// `gemini mcp disable` put it in mcp-server-enablement.json, `mcp.excluded` names it, or a
// `mcp.allowed` list leaves it out (canLoadServer, chunk-HPLZM7PQ.js:66392; lists consolidated
// from every file, :16377-16414; names compared lower-cased and trimmed, :66372).
// Not read: extensions' gemini-extension.json servers, remote admin settings, the system files'
// ownership check (Gemini skips a system file that others can write, :16599).
//
// Finding codes:
// - config.unreadable          error    a settings file exists but cannot be read
// - config.invalid-json        error    not JSON (comments are fine; a trailing comma or BOM is not):
//                                       Gemini CLI refuses to start
// - config.invalid-entry       error    the file is not an object (Gemini refuses to start);
//                              warning  mcpServers, an entry or a field of the wrong type (Gemini
//                                       warns and goes on)
// - config.missing-url         error    an entry without httpUrl, url or command
// - config.invalid-url         error    the url is not an absolute http(s) URL
// - config.unset-variable      warning  $VAR / ${VAR} without default naming an unset variable
// - config.untrusted-project   info     a project file Gemini ignores until the folder is trusted
// - config.project-override    info     a project entry replaces a user / system-defaults entry of that name
// - config.managed-exclusive   info     the system settings define a server of the same name,
//                                       which Gemini uses instead of this entry
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Environment } from '../../environment';
import type { ConfigScan, Finding, McpServer } from '../../model';
import { CONFIG_FINDING as SHARED } from '../../config/claudeCodeFindings';
import { isPlainObject } from '../../jsonShape';
import { readMcpServers } from './entries';
import {
  geminiEnablementPath,
  geminiHome,
  geminiProjectSettingsPath,
  geminiSystemDefaultsPath,
  geminiSystemSettingsPath,
  geminiTrustedFoldersPath,
  geminiUserSettingsPath,
} from './paths';
import { readSettingsFile, type SettingsDoc } from './settingsFile';
import { projectTrust, readTrustRules } from './trust';

/** The shared config codes, and the two Codex's reader spells out (docs/findings.md). */
const CONFIG_FINDING = { ...SHARED, projectUntrusted: 'config.untrusted-project', projectOverride: 'config.project-override' } as const;

type Layer = 'systemDefaults' | 'user' | 'project' | 'system';

interface LayerRead {
  layer: Layer;
  doc?: SettingsDoc;
  servers: McpServer[];
}

export async function scanGeminiCli(e: Environment): Promise<ConfigScan> {
  const scan: ConfigScan = { servers: [], findings: [], files: [] };
  const read = async (file: string, layer: Layer, label: string, projectPath?: string): Promise<LayerRead> => {
    scan.files.push(file);
    const r = await readSettingsFile(file, label);
    if (r.kind === 'missing') return { layer, servers: [] };
    if (r.kind === 'bad') {
      scan.findings.push(r.finding);
      return { layer, servers: [] };
    }
    const entries = readMcpServers({ doc: r.doc, scope: layer === 'user' ? 'user' : layer === 'project' ? 'project' : 'managed', env: e.env, label, ...(projectPath ? { projectPath } : {}) });
    scan.findings.push(...entries.findings);
    return { layer, doc: r.doc, servers: entries.servers };
  };

  const systemDefaults = await read(geminiSystemDefaultsPath(e), 'systemDefaults', 'Gemini CLI system defaults');
  const user = await read(geminiUserSettingsPath(e), 'user', 'Gemini CLI user settings');
  const system = await read(geminiSystemSettingsPath(e), 'system', 'Gemini CLI system settings');
  const globalLayers = [systemDefaults, user, system];

  const trustFile = geminiTrustedFoldersPath(e);
  scan.files.push(trustFile);
  const rules = await readTrustRules(trustFile);
  const folderTrust = boolSetting(globalLayers, ['security', 'folderTrust', 'enabled']) ?? true;
  const enablementFile = geminiEnablementPath(e);
  scan.files.push(enablementFile);
  const disabledByFile = await readEnablement(enablementFile);

  const systemNames = new Set(system.servers.map((s) => s.name));
  const listed = (layers: LayerRead[]) => ({ allowed: allowedList(layers), excluded: excludedList(layers) });
  const globalLists = listed(globalLayers);

  for (const layer of [systemDefaults, user, system]) {
    for (const s of layer.servers) {
      if (layer.layer !== 'system' && systemNames.has(s.name)) s.findings.push(replacedBySystem(s, system));
      s.enabled = isEnabled(s.name, globalLists, disabledByFile);
      scan.servers.push(s);
    }
  }

  const home = path.resolve(geminiHome(e));
  const seenProjects = new Set<string>();
  for (const dir of e.projectDirs) {
    const projectDir = path.resolve(dir);
    // Gemini never reads <home>/.gemini/settings.json as a workspace file: it is the user file.
    if (seenProjects.has(projectDir) || (await same(projectDir, home))) continue;
    seenProjects.add(projectDir);
    const project = await read(geminiProjectSettingsPath(e, projectDir), 'project', `Gemini CLI project settings of ${path.basename(projectDir)}`, projectDir);
    if (!project.servers.length) continue;
    const trust = await projectTrust(e, projectDir, folderTrust, rules);
    const lists = listed([...globalLayers, project]);
    const earlier = new Map([...systemDefaults.servers, ...user.servers].map((s) => [s.name, s]));
    for (const s of project.servers) {
      if (trust.state !== 'trusted') {
        s.enabled = false;
        s.findings.push({
          code: CONFIG_FINDING.projectUntrusted,
          severity: 'info',
          title: `${projectDir} is not a trusted folder for Gemini CLI`,
          detail:
            trust.state === 'undecided'
              ? `Gemini CLI reads this project's .gemini/settings.json only in a trusted folder (${trust.because}). The interactive CLI asks when it starts there; \`gemini mcp list\` and \`gemini -p\` treat the folder as untrusted. Trust the folder when Gemini CLI asks (or with /permissions in its TUI) to use "${s.name}".`
              : `Gemini CLI ignores this project's .gemini/settings.json here (${trust.because}), so "${s.name}" is not loaded.`,
          location: s.source,
        });
      } else {
        s.enabled = isEnabled(s.name, lists, disabledByFile);
        const shadowed = earlier.get(s.name);
        if (shadowed) {
          s.findings.push({
            code: CONFIG_FINDING.projectOverride,
            severity: 'info',
            title: `${path.basename(s.source.file)} in ${path.basename(projectDir)} replaces the ${shadowed.scope} server "${s.name}" in this project`,
            detail: `Gemini CLI merges mcpServers by name: in ${projectDir} it uses this entry whole instead of the one in ${shadowed.source.file}:${shadowed.source.line}; elsewhere it uses that one.`,
            location: s.source,
          });
        }
      }
      if (systemNames.has(s.name)) s.findings.push(replacedBySystem(s, system));
      scan.servers.push(s);
    }
  }
  return scan;
}

function replacedBySystem(s: McpServer, system: LayerRead): Finding {
  const winner = system.servers.find((x) => x.name === s.name);
  return {
    code: CONFIG_FINDING.managedExclusive,
    severity: 'info',
    title: `The system settings define "${s.name}" too; Gemini CLI uses theirs`,
    detail: `System settings win over every other file, and mcpServers merge by name, so Gemini CLI connects to the entry in ${winner?.source.file ?? system.doc?.file}${winner ? `:${winner.source.line}` : ''}, not this one.`,
    location: s.source,
  };
}

function boolSetting(layers: LayerRead[], keys: string[]): boolean | undefined {
  let out: boolean | undefined;
  for (const l of layers) {
    let v: unknown = l.doc?.value;
    for (const k of keys) v = isPlainObject(v) ? v[k] : undefined;
    if (typeof v === 'boolean') out = v;
  }
  return out;
}

const norm = (s: string) => s.toLowerCase().trim();

function stringList(l: LayerRead, key: 'allowed' | 'excluded'): string[] | undefined {
  const mcp = l.doc?.value.mcp;
  const v = isPlainObject(mcp) ? mcp[key] : undefined;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

/** The intersection of every defined `mcp.allowed`; undefined when none is defined. */
function allowedList(layers: LayerRead[]): Set<string> | undefined {
  const lists = layers.flatMap((l) => {
    const v = stringList(l, 'allowed');
    return v ? [new Set(v.map(norm))] : [];
  });
  if (!lists.length) return undefined;
  return new Set([...lists[0]!].filter((n) => lists.every((s) => s.has(n))));
}

function excludedList(layers: LayerRead[]): Set<string> {
  return new Set(layers.flatMap((l) => stringList(l, 'excluded') ?? []).map(norm));
}

function isEnabled(name: string, lists: { allowed?: Set<string>; excluded: Set<string> }, disabled: Set<string>): boolean {
  const n = norm(name);
  if (lists.allowed && !lists.allowed.has(n)) return false;
  if (lists.excluded.has(n)) return false;
  return !disabled.has(n);
}

/** Names `gemini mcp disable` switched off: `{ "<name>": { "enabled": false } }`; Gemini reads a bad file as empty. */
async function readEnablement(file: string): Promise<Set<string>> {
  try {
    const v: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    if (!isPlainObject(v)) return new Set();
    return new Set(Object.entries(v).flatMap(([k, s]) => (isPlainObject(s) && s.enabled === false ? [k] : [])));
  } catch {
    return new Set();
  }
}

async function same(a: string, b: string): Promise<boolean> {
  if (a === b) return true;
  const real = (p: string) => fs.realpath(p).catch(() => p);
  return (await real(a)) === (await real(b));
}

