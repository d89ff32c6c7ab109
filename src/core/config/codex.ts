// Codex's MCP servers, read the way Codex CLI 0.169 and 0.171 read them (codex-rs sources,
// confirmed with the 0.169.0 and 0.171.0 binaries' `codex mcp add` / `codex mcp list --json` on a
// sandbox CODEX_HOME; 0.171 re-checked every rule below, test/unit/codexConfig.test.ts):
// - user:    `[mcp_servers.<name>]` of `$CODEX_HOME/config.toml` (default ~/.codex), as table
//            headers, dotted keys or inline tables;
// - project: `.codex/config.toml` from each open folder's project root down to the folder, only when
//            trusted (`[projects."<path>"] trust_level = "trusted"`, codexProjects.ts). Codex merges
//            layers key by key (loader merge_toml_values), so a project entry may just override
//            fields of a user entry. Untrusted files are listed here disabled, as Codex keeps them
//            as disabled layers;
// - profile: `$CODEX_HOME/<profile>.config.toml`, layered over the user file only under
//            `codex --profile <profile>` (legacy `[profiles.x]` tables have no mcp_servers and
//            0.169 and 0.171 reject `profile = "x"`).
// Entry rules and the McpServer mapping are in codexEntry.ts; client-wide OAuth settings
// (mcp_oauth_credentials_store, mcp_oauth_callback_port/url) in codexClientSettings.ts.
// `/etc/codex/config.toml` and enterprise-managed layers are not read.
//
// Finding codes (severity for the user file / trusted projects; untrusted files are one step
// milder because Codex ignores them):
// - config.unreadable        error    a config file exists but cannot be read
// - config.invalid-toml      error    not TOML (file, line, column and the parser's reason)
// - config.invalid-entry     error    mcp_servers or a server of the wrong type, a field of the wrong
//                                      type, or a field the transport refuses (url with command, …)
// - config.missing-url       error    a server with neither url nor command ("invalid transport")
// - config.invalid-url       error    the url is not an absolute http(s) URL (Codex loads it, then
//                                      fails to connect)
// - config.unset-variable    warning  env_http_headers / bearer_token_env_var names an unset or empty
//                                      variable (the name only, never a value)
// - config.invalid-setting   error    mcp_oauth_credentials_store / _callback_port / _callback_url
//                                      that Codex refuses
// - config.untrusted-project info     a project file's server Codex ignores until the project is trusted
// - config.project-override  info     a trusted project file overrides a user server of the same name
// - config.profile-only      info     a server that applies only under `codex --profile <name>`
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Environment } from '../environment';
import { codexHome } from '../environment';
import type { ConfigScan, Finding, McpServer } from '../model';
import { codexSettingsFrom } from './codexClientSettings';
import { checkCodexEntry, codexServer, type CodexEntryContext, type ServerPlace } from './codexEntry';
import { projectChain } from './codexProjects';
import { describeToml, isTable, locate, readCodexToml, type BrokenFileWording, type CodexTomlFile, type TomlTable } from './codexToml';

export { CODEX_CREDENTIAL_STORE_MODES, readCodexSettings, type CodexClientSettings, type CodexCredentialsStoreMode } from './codexClientSettings';

type OkFile = Extract<CodexTomlFile, { kind: 'ok' }>;

/** The names a profile file may have (codex ProfileV2Name: ASCII letters, digits, `_`, `-`). */
const PROFILE_FILE = /^([A-Za-z0-9_-]+)\.config\.toml$/;

export async function scanCodex(e: Environment): Promise<ConfigScan> {
  const home = codexHome(e);
  const userFile = path.join(home, 'config.toml');
  const scan: ConfigScan = { servers: [], findings: [], files: [userFile] };
  const emitted = new Set<string>();
  const reported = new Set<string>();
  const add = (r: EntryResult) => {
    if (r.kind === 'problem') {
      const id = `${r.finding.code}\0${r.finding.location?.file}\0${r.finding.location?.line}`;
      if (!reported.has(id)) scan.findings.push(r.finding);
      reported.add(id);
      return;
    }
    const id = `${r.server.name}\0${r.server.source.file}\0${r.server.source.line}\0${r.server.profile ?? ''}`;
    if (!emitted.has(id)) scan.servers.push(r.server);
    emitted.add(id);
  };
  const fileProblem = (f: CodexTomlFile) => {
    if (f.kind === 'broken' && !reported.has(f.file)) scan.findings.push(f.finding);
    reported.add(f.file);
  };

  const user = await readCodexToml(userFile, { severity: 'error', consequence: 'Codex refuses to start until this is fixed; none of its servers load.' });
  fileProblem(user);
  const userOk = user.kind === 'ok' ? user : undefined;
  const userConsequence: Wording = { severity: 'error', consequence: `Codex refuses to load ${userFile} while this entry is invalid, so none of its servers start.` };
  const userServers = userOk ? serverTables(userOk, userConsequence, add) : new Map<string, unknown>();
  if (userOk) scan.findings.push(...codexSettingsFrom(userOk).findings);
  // Read from the user file only (a profile or project layer may set it too, for runs started there).
  const baseUrl = userOk?.doc.chatgpt_base_url;
  const client: CodexEntryContext = typeof baseUrl === 'string' ? { chatgptBaseUrl: baseUrl } : {};
  for (const [name, value] of userServers) {
    add(entryResult(name, value, { name, scope: 'user', source: locate(userOk!, ['mcp_servers', name]) }, [userOk!], userConsequence, e, client));
  }

  for (const profile of await profileFiles(home)) {
    const consequence = `Codex refuses to start with --profile ${profile.name} until this is fixed.`;
    const read = await readCodexToml(profile.file, { severity: 'warning', consequence });
    scan.files.push(profile.file);
    fileProblem(read);
    if (read.kind !== 'ok') continue;
    const wording: Wording = { severity: 'warning', consequence };
    for (const [name, value] of serverTables(read, wording, add)) {
      const place: ServerPlace = { name, scope: 'user', source: locate(read, ['mcp_servers', name]), profile: profile.name };
      const r = entryResult(name, mergeToml(userServers.get(name), value), place, [read, ...(userServers.has(name) ? [userOk!] : [])], wording, e, client);
      if (r.kind === 'server') {
        r.server.findings.push({
          code: 'config.profile-only',
          severity: 'info',
          title: `"${name}" applies only under codex --profile ${profile.name}`,
          detail: `${profile.file} is layered over ${userFile} only when Codex is started with --profile ${profile.name}.`,
          location: place.source,
        });
      }
      add(r);
    }
  }

  for (const folder of [...new Set(e.projectDirs.map((d) => path.resolve(d)))]) {
    const chain = await projectChain(folder, userOk?.doc, userFile, home, e.platform);
    for (const f of chain.candidates) if (!scan.files.includes(f)) scan.files.push(f);
    // What Codex sees in this folder: the user's servers with each trusted layer merged over them.
    const effective = new Map(userServers);
    const writtenIn = new Map<string, OkFile[]>([...userServers.keys()].map((n) => [n, [userOk!]]));
    const definedBy = new Map<string, { file: OkFile; dir: string }>();
    for (const layer of chain.layers) {
      const wording: Wording = layer.trusted
        ? { severity: 'error', consequence: `Codex refuses to start in ${folder} until this is fixed.` }
        : { severity: 'warning', consequence: `Codex ignores this file while the project is untrusted; once trusted, it would refuse to start there until this is fixed.` };
      const read = await readCodexToml(layer.file, wording);
      fileProblem(read);
      if (read.kind !== 'ok') continue;
      for (const [name, value] of serverTables(read, wording, add)) {
        const merged = mergeToml(effective.get(name), value);
        if (layer.trusted) {
          effective.set(name, merged);
          writtenIn.set(name, [read, ...(writtenIn.get(name) ?? [])]);
          definedBy.set(name, { file: read, dir: layer.dir });
          continue;
        }
        const place: ServerPlace = { name, scope: 'project', source: locate(read, ['mcp_servers', name]), projectPath: layer.dir };
        const r = entryResult(name, merged, place, [read, ...(writtenIn.get(name) ?? [])], wording, e, client);
        if (r.kind === 'server') {
          r.server.enabled = false;
          r.server.findings.push({
            code: 'config.untrusted-project',
            severity: 'info',
            title: `Codex ignores "${name}" until ${layer.dir} is trusted`,
            detail: `Codex loads ${layer.file} as a disabled layer. ${layer.untrustedReason ?? ''} Codex asks on the first run in the folder; or move the server to ${userFile}.`,
            location: place.source,
          });
        }
        add(r);
      }
    }
    for (const [name, { file, dir }] of definedBy) {
      const place: ServerPlace = { name, scope: 'project', source: locate(file, ['mcp_servers', name]), projectPath: dir };
      const wording: Wording = { severity: 'error', consequence: `Codex refuses to start in ${folder} while this entry is invalid.` };
      const r = entryResult(name, effective.get(name), place, writtenIn.get(name) ?? [file], wording, e, client);
      if (r.kind === 'server' && userServers.has(name)) {
        r.server.findings.push({
          code: 'config.project-override',
          severity: 'info',
          title: `${file.file} overrides the user server "${name}" in this project`,
          detail: `Codex merges the two entries key by key when it runs in ${folder}; elsewhere it uses the one in ${userFile}.`,
          location: place.source,
        });
      }
      add(r);
    }
  }
  return scan;
}

type Wording = BrokenFileWording;

type EntryResult = { kind: 'server'; server: McpServer } | { kind: 'problem'; finding: Finding };

/**
 * Checks one (merged) server entry. `writtenIn` lists the files that contribute to it, highest
 * precedence first: a bad field is located in the file that wins for it.
 */
function entryResult(name: string, value: unknown, place: ServerPlace, writtenIn: OkFile[], wording: Wording, e: Environment, client: CodexEntryContext): EntryResult {
  const check = checkCodexEntry(value);
  if (check.ok) return { kind: 'server', server: codexServer(check.entry, place, e, client) };
  const keyPath = ['mcp_servers', name, ...check.problem.field];
  const holder = writtenIn.find((f) => f.positions.get(keyPath));
  const location = holder ? locate(holder, keyPath) : place.source;
  return {
    kind: 'problem',
    finding: {
      code: check.problem.code,
      severity: wording.severity,
      title: check.problem.code === 'config.missing-url' ? `Codex server "${name}" needs a url or a command` : `Codex server "${name}" is not valid`,
      detail: `${location.file}:${location.line}: mcp_servers.${name} ${check.problem.message}. ${wording.consequence}`,
      location,
    },
  };
}

/** The `mcp_servers` table of a file, name by name; a non-table `mcp_servers` is reported. */
function serverTables(f: OkFile, wording: Wording, report: (r: EntryResult) => void): Map<string, unknown> {
  const table = f.doc.mcp_servers;
  if (table === undefined) return new Map();
  if (!isTable(table)) {
    report({
      kind: 'problem',
      finding: {
        code: 'config.invalid-entry',
        severity: wording.severity,
        title: '`mcp_servers` is not a table',
        detail: `${f.file}: mcp_servers must be a table of servers ([mcp_servers.<name>]), not ${describeToml(table)}. ${wording.consequence}`,
        location: locate(f, ['mcp_servers']),
      },
    });
    return new Map();
  }
  return new Map(Object.entries(table));
}

/** Codex's layer merge (config loader `merge_toml_values`): tables merge key by key, other values replace. */
function mergeToml(base: unknown, overlay: unknown): unknown {
  if (!isTable(base) || !isTable(overlay)) return overlay;
  const out: TomlTable = {};
  // defineProperty: a server or header named "__proto__" stays a plain key.
  const put = (k: string, v: unknown) => Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const [k, v] of Object.entries(base)) put(k, v);
  for (const [k, v] of Object.entries(overlay)) put(k, Object.hasOwn(base, k) ? mergeToml(base[k], v) : v);
  return out;
}

async function profileFiles(home: string): Promise<{ name: string; file: string }[]> {
  const names = await fs.readdir(home).catch(() => [] as string[]);
  return names
    .map((n) => PROFILE_FILE.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1]!, file: path.join(home, m[0]) }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}
