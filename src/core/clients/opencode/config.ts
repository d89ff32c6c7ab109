// opencode 1.18.33's MCP servers (`mcp` in its config files), read as its bundle's
// `Config.loadInstanceState` reads them. Files, lowest precedence first (a later one wins):
//  1. global: `<config>/config.json`, `opencode.json`, `opencode.jsonc` (paths.ts);
//  2. `$OPENCODE_CONFIG`, a file of the user's choosing;
//  3. the project's `opencode.jsonc` / `opencode.json`, from the git worktree's root down to the
//     folder opencode runs in (the nearest wins; `.jsonc` over `.json` in one folder), unless
//     `OPENCODE_DISABLE_PROJECT_CONFIG` is set;
//  4. `opencode.json`, `opencode.jsonc` in each `.opencode` folder from the project folder up to
//     the worktree root (unless disabled as above), then `~/.opencode`, then `$OPENCODE_CONFIG_DIR`;
//  5. the managed folder's `opencode.json`, `opencode.jsonc` (paths.ts), over everything.
// Files merge deeply (remeda mergeDeep): `mcp.<name>` merges field by field, so a project file
// holding `{"mcp": {"lab": {"enabled": false}}}` switches off the user's "lab". An entry is a
// server only when the merged object has a "type" (`q1`, "type" in entry). Each file is JSONC
// (comments and trailing commas allowed, `ConfigParse.jsonc`); a file that does not parse stops
// opencode ("Config file at <path> is not valid JSON(C)"). `{env:VAR}` becomes the variable's
// value or nothing, `{file:path}` the file's trimmed text (relative to the config file, `~/`
// allowed; a missing file stops opencode: "bad file reference"), both before parsing
// (`ConfigVariable.substitute`); here they are applied to string values, where they are used.
// Not read: OPENCODE_CONFIG_CONTENT (inline JSON in the environment of opencode's own process),
// an organisation's remote config and `.well-known/opencode` configs (network), and the macOS
// managed preferences (`ai.opencode.managed` profiles).
//
// Finding codes (docs/findings.md):
// - config.unreadable / config.invalid-json   error    opencode stops at start
// - config.invalid-entry     warning  `mcp`, an entry or a field of the wrong type
// - config.missing-url       error    a remote entry without "url"
// - config.invalid-url       error    the url is not an absolute http(s) URL
// - config.unset-variable    warning  {env:VAR} of an unset variable (opencode puts nothing there)
// - config.bad-file-reference error   {file:…} of a file that cannot be read (opencode stops)
// - config.project-override  info     a project file changes a user entry of that name
// - config.managed-exclusive info     the managed config defines the name too, and wins
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { Environment } from '../../environment';
import type { ConfigScan, Finding, McpServer, OAuthSettings, Scope } from '../../model';
import { CONFIG_FINDING as SHARED } from '../../config/claudeCodeFindings';
import { locate, members, nodeAt, type JsonDoc, type Member } from '../../config/claudeCodeJson';
import { parseTreeBounded } from '../../config/jsonTree';
import { positionAt, readConfigText } from '../../config/sourceText';
import { urlProblem } from '../../config/urlProblem';
import { describeJson, isPlainObject } from '../../jsonShape';
import { opencodeStorageKey } from './authFile';
import { opencodeConfigDir, opencodeManagedDir } from './paths';

const CONFIG_FINDING = { ...SHARED, badFileReference: 'config.bad-file-reference', projectOverride: 'config.project-override' } as const;

export const OPENCODE_CLIENT: McpServer['client'] = 'opencode';

const PARSE_OPTIONS = { disallowComments: false, allowTrailingComma: true, allowEmptyContent: true };
const FILE_REFERENCE_MAX = 64 * 1024;
/** The global files, in load order (`config` + `.json` is the oldest name; spelled so it reads as a file, not a finding code). */
const GLOBAL_FILES = [['config', 'json'].join('.'), 'opencode.json', 'opencode.jsonc'];

interface Layer {
  doc: JsonDoc & { value: Record<string, unknown> };
  scope: Scope;
  projectPath?: string;
  label: string;
}

type Read = { kind: 'missing' } | { kind: 'ok'; layer: Layer } | { kind: 'bad'; finding: Finding };

async function readLayer(file: string, scope: Scope, label: string, projectPath?: string): Promise<Read> {
  const read = await readConfigText(file);
  if (read.kind === 'missing') return { kind: 'missing' };
  const stops = `opencode stops at start ("Config file at ${file} is not valid JSON(C)") until it is fixed.`;
  if (read.kind === 'unreadable') {
    return { kind: 'bad', finding: { code: CONFIG_FINDING.unreadable, severity: 'error', title: `${label} cannot be read`, detail: `Reading ${file} failed (${read.reason}).`, location: { file, line: 1, column: 1 } } };
  }
  const text = read.text;
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, PARSE_OPTIONS);
  if (errors.length) {
    const at = positionAt(text, errors[0]!.offset);
    return {
      kind: 'bad',
      finding: { code: CONFIG_FINDING.invalidJson, severity: 'error', title: `${label} is not valid JSON(C)`, detail: `${file}:${at.line}:${at.column}: ${printParseErrorCode(errors[0]!.error)}. Comments and trailing commas are fine here. ${stops}`, location: { file, ...at } },
    };
  }
  // An empty file reads as nothing (opencode skips it); anything else must be an object.
  if (value === undefined) return { kind: 'missing' };
  if (!isPlainObject(value)) {
    return { kind: 'bad', finding: { code: CONFIG_FINDING.invalidEntry, severity: 'error', title: `${label} is not a JSON object`, detail: `${file} holds ${describeJson(value)} where opencode expects its config object.`, location: { file, line: 1, column: 1 } } };
  }
  const { root } = parseTreeBounded(text, [], PARSE_OPTIONS);
  if (!root) return { kind: 'missing' };
  return { kind: 'ok', layer: { doc: { file, text, value, root }, scope, label, ...(projectPath ? { projectPath } : {}) } };
}

/** The folders from `dir` up to its git worktree's root (nearest first); just `dir` outside git. */
async function upToWorktree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    out.push(d);
    if (await fs.stat(path.join(d, '.git')).then(() => true, () => false)) return out;
    if (path.dirname(d) === d) return [path.resolve(dir)];
  }
}

const truthy = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';

export async function scanOpencode(e: Environment): Promise<ConfigScan> {
  const scan: ConfigScan = { servers: [], findings: [], files: [] };
  const load = async (file: string, scope: Scope, label: string, projectPath?: string): Promise<Layer[]> => {
    scan.files.push(file);
    const r = await readLayer(file, scope, label, projectPath);
    if (r.kind === 'bad') scan.findings.push(r.finding);
    return r.kind === 'ok' ? [r.layer] : [];
  };
  const configDir = opencodeConfigDir(e);
  const global: Layer[] = [];
  for (const f of GLOBAL_FILES) global.push(...(await load(path.join(configDir, f), 'user', 'opencode global config')));
  if (e.env.OPENCODE_CONFIG) global.push(...(await load(e.env.OPENCODE_CONFIG, 'user', 'opencode config ($OPENCODE_CONFIG)')));
  const later: Layer[] = [];
  for (const dir of [path.join(e.home, '.opencode'), ...(e.env.OPENCODE_CONFIG_DIR ? [e.env.OPENCODE_CONFIG_DIR] : [])]) {
    for (const f of ['opencode.json', 'opencode.jsonc']) later.push(...(await load(path.join(dir, f), 'user', `opencode config in ${dir}`)));
  }
  const managed: Layer[] = [];
  const managedDir = opencodeManagedDir(e);
  for (const f of ['opencode.json', 'opencode.jsonc']) managed.push(...(await load(path.join(managedDir, f), 'managed', 'opencode managed config')));

  const userLayers = [...global, ...later, ...managed];
  const userServers = serversOf(userLayers, undefined, e, scan);
  const userByName = new Map<string, McpServer>();
  for (const s of await userServers) {
    userByName.set(s.name, s);
    scan.servers.push(s);
  }
  if (truthy(e.env.OPENCODE_DISABLE_PROJECT_CONFIG)) return scan;

  const seen = new Set<string>();
  for (const dir of e.projectDirs) {
    const projectDir = path.resolve(dir);
    if (seen.has(projectDir)) continue;
    seen.add(projectDir);
    const chain = await upToWorktree(projectDir);
    const projectFiles: Layer[] = [];
    // Root first, the project folder last; in one folder .json, then .jsonc (which wins).
    for (const d of [...chain].reverse()) {
      for (const f of ['opencode.json', 'opencode.jsonc']) projectFiles.push(...(await load(path.join(d, f), 'project', `opencode project config of ${path.basename(projectDir)}`, projectDir)));
    }
    const dotDirs: Layer[] = [];
    for (const d of chain) {
      for (const f of ['opencode.json', 'opencode.jsonc']) dotDirs.push(...(await load(path.join(d, '.opencode', f), 'project', `opencode .opencode config of ${path.basename(projectDir)}`, projectDir)));
    }
    const projectLayers = [...projectFiles, ...dotDirs];
    if (!projectLayers.length) continue;
    const names = new Set(projectLayers.flatMap((l) => (isPlainObject(l.doc.value.mcp) ? Object.keys(l.doc.value.mcp) : [])));
    if (!names.size) continue;
    const all = [...global, ...projectFiles, ...dotDirs, ...later, ...managed];
    for (const s of await serversOf(all, names, e, scan, projectDir)) {
      const user = userByName.get(s.name);
      if (user) {
        s.findings.push({
          code: CONFIG_FINDING.projectOverride,
          severity: 'info',
          title: `${path.basename(s.source.file)} in ${path.basename(projectDir)} changes the user server "${s.name}" in this project`,
          detail: `opencode merges config files field by field: in ${projectDir} it uses "${s.name}" as merged with this file, not as ${user.source.file}:${user.source.line} alone has it.`,
          location: s.source,
        });
      }
      scan.servers.push(s);
    }
  }
  return scan;
}

/** The servers named in `layers` (or only `names`), each merged over every layer as opencode merges them. */
async function serversOf(layers: Layer[], names: Set<string> | undefined, e: Environment, scan: ConfigScan, projectPath?: string): Promise<McpServer[]> {
  const byName = new Map<string, { merged: Record<string, unknown>; layers: Layer[]; member: Member }>();
  for (const layer of layers) {
    const mcp = layer.doc.value.mcp;
    if (mcp === undefined) continue;
    const node = nodeAt(layer.doc.root, ['mcp']);
    if (!isPlainObject(mcp) || node.type !== 'object') {
      scan.findings.push({
        code: CONFIG_FINDING.invalidEntry,
        severity: 'warning',
        title: `"mcp" in ${layer.label} is not an object`,
        detail: `${layer.doc.file}: mcp holds ${describeJson(mcp)} where an object of servers by name is expected.`,
        location: locate(layer.doc, node),
      });
      continue;
    }
    for (const m of members(node)) {
      if (names && !names.has(m.name)) continue;
      const raw = mcp[m.name];
      const prev = byName.get(m.name);
      const merged = isPlainObject(raw) ? mergeDeep(isPlainObject(prev?.merged) ? prev.merged : {}, raw) : (raw as Record<string, unknown>);
      byName.set(m.name, { merged, layers: [...(prev?.layers ?? []), layer], member: m });
    }
  }
  const out: McpServer[] = [];
  for (const [name, { merged, layers: from, member }] of byName) {
    const last = from[from.length - 1]!;
    const s = await serverOf(name, merged, last, member, e, projectPath);
    if (!s) continue;
    const others = from.filter((l) => l.scope !== 'managed');
    if (last.scope === 'managed' && others.length) {
      s.findings.push({
        code: CONFIG_FINDING.managedExclusive,
        severity: 'info',
        title: `The managed config defines "${name}" too; opencode merges it over the other entries`,
        detail: `${last.doc.file} is read last and wins field by field, so opencode connects as that file has "${name}", merged over ${others.map((l) => l.doc.file).join(', ')}.`,
        location: s.source,
      });
    }
    out.push(s);
  }
  return out;
}

async function serverOf(name: string, raw: unknown, layer: Layer, m: Member, e: Environment, projectPath?: string): Promise<McpServer | undefined> {
  const where = locate(layer.doc, m.key);
  const findings: Finding[] = [];
  const warn = (title: string, detail: string, node: Node = m.key) => findings.push({ code: CONFIG_FINDING.invalidEntry, severity: 'warning', title, detail, location: locate(layer.doc, node) });
  if (!isPlainObject(raw)) {
    warn(`"${name}" is not a server entry`, `mcp.${name} holds ${describeJson(raw)} where an object with "type": "remote" or "local" is expected.`);
    return { client: OPENCODE_CLIENT, scope: layer.scope, name, transport: 'http', headerNames: [], headers: {}, enabled: false, source: where, findings, ...(projectPath ? { projectPath } : {}) };
  }
  // Without "type" an entry only changes fields of one defined elsewhere; alone it is no server.
  if (raw.type === undefined) return undefined;
  const server: McpServer = {
    client: OPENCODE_CLIENT,
    scope: layer.scope,
    name,
    transport: raw.type === 'local' ? 'stdio' : 'http',
    headerNames: [],
    headers: {},
    enabled: raw.enabled !== false,
    source: where,
    ...(projectPath ? { projectPath } : layer.projectPath ? { projectPath: layer.projectPath } : {}),
    findings,
  };
  if (raw.enabled !== undefined && typeof raw.enabled !== 'boolean') warn(`"${name}": enabled is not a boolean`, `mcp.${name}.enabled holds ${describeJson(raw.enabled)}.`, nodeAt(m.value, ['enabled']));
  const sub = (text: string, at: (string | number)[], what: string) => substitute(text, { e, layer, node: nodeAt(m.value, at), name, what, findings });
  if (raw.type === 'local') {
    if (Array.isArray(raw.command) && typeof raw.command[0] === 'string') server.command = raw.command[0];
    else findings.push({ code: CONFIG_FINDING.missingCommand, severity: 'error', title: `"${name}" has no command`, detail: `A "local" entry needs "command", an array of the program and its arguments.`, location: where });
    return server;
  }
  if (raw.type !== 'remote') {
    findings.push({ code: CONFIG_FINDING.unknownType, severity: 'error', title: `"${name}" has an unknown type`, detail: `mcp.${name}.type is ${describeJson(raw.type)}; opencode knows "remote" and "local".`, location: locate(layer.doc, nodeAt(m.value, ['type'])) });
    return server;
  }
  if (typeof raw.url !== 'string') {
    findings.push({ code: CONFIG_FINDING.missingUrl, severity: 'error', title: `"${name}" has no url`, detail: `A "remote" entry needs "url", the MCP server's address.`, location: where });
    return server;
  }
  server.rawUrl = raw.url;
  const before = findings.length;
  server.url = await sub(raw.url, ['url'], 'The url');
  if (findings.length === before) {
    const problem = urlProblem(server.url);
    if (problem) findings.push({ code: CONFIG_FINDING.invalidUrl, severity: 'error', title: `"${name}" has an invalid url`, detail: `The url ${problem}; opencode cannot connect to it.`, location: locate(layer.doc, nodeAt(m.value, ['url'])) });
  }
  if (raw.headers !== undefined) {
    if (!isPlainObject(raw.headers)) warn(`"${name}": headers is not an object`, `mcp.${name}.headers holds ${describeJson(raw.headers)}.`, nodeAt(m.value, ['headers']));
    else {
      for (const [k, v] of Object.entries(raw.headers)) {
        if (typeof v !== 'string') continue;
        server.headerNames.push(k);
        server.headers[k] = await sub(v, ['headers', k], `The ${k} header`);
      }
    }
  }
  // `"oauth": false` turns opencode's OAuth off for the server: it never reads a stored login.
  if (raw.oauth === false) return server;
  if (raw.oauth !== undefined && !isPlainObject(raw.oauth)) warn(`"${name}": oauth is neither an object nor false`, `mcp.${name}.oauth holds ${describeJson(raw.oauth)}.`, nodeAt(m.value, ['oauth']));
  if (isPlainObject(raw.oauth)) {
    const o: OAuthSettings = {};
    if (typeof raw.oauth.clientId === 'string') o.clientId = await sub(raw.oauth.clientId, ['oauth', 'clientId'], 'oauth.clientId');
    if (typeof raw.oauth.scope === 'string') o.scopes = (await sub(raw.oauth.scope, ['oauth', 'scope'], 'oauth.scope')).split(/\s+/).filter(Boolean);
    if (typeof raw.oauth.redirectUri === 'string') {
      o.callbackUrl = await sub(raw.oauth.redirectUri, ['oauth', 'redirectUri'], 'oauth.redirectUri');
      const port = Number.parseInt(safeUrl(o.callbackUrl)?.port ?? '', 10);
      if (port > 0) o.callbackPort = port;
    } else if (typeof raw.oauth.callbackPort === 'number') o.callbackPort = raw.oauth.callbackPort;
    if (Object.keys(o).length) server.oauth = o;
  }
  server.storageKey = opencodeStorageKey(name, server.url);
  return server;
}

function safeUrl(u: string): URL | undefined {
  try {
    return new URL(u);
  } catch {
    return undefined;
  }
}

interface SubContext {
  e: Environment;
  layer: Layer;
  node: Node;
  name: string;
  what: string;
  findings: Finding[];
}

/** `{env:VAR}` and `{file:path}` as opencode's ConfigVariable.substitute resolves them. */
async function substitute(text: string, c: SubContext): Promise<string> {
  let out = text.replace(/\{env:([^}]+)\}/g, (_m, v: string) => {
    const value = c.e.env[v];
    if (!value) {
      c.findings.push({
        code: CONFIG_FINDING.unsetVariable,
        severity: 'warning',
        title: `"${c.name}" uses {env:${v}}, which is not set`,
        detail: `${c.what} refers to ${v}, which is not set (or empty) in this environment; opencode puts nothing in its place. Set ${v} where opencode starts.`,
        location: locate(c.layer.doc, c.node),
      });
    }
    return value ?? '';
  });
  const refs = [...out.matchAll(/\{file:[^}]+\}/g)];
  for (const ref of refs.reverse()) {
    let p = ref[0].slice('{file:'.length, -1);
    if (p.startsWith('~/')) p = path.join(c.e.home, p.slice(2));
    const file = path.isAbsolute(p) ? p : path.resolve(path.dirname(c.layer.doc.file), p);
    let content: string;
    try {
      const fh = await fs.open(file, 'r');
      try {
        const buf = Buffer.alloc(FILE_REFERENCE_MAX);
        const { bytesRead } = await fh.read(buf, 0, FILE_REFERENCE_MAX, 0);
        content = buf.subarray(0, bytesRead).toString('utf8').trim();
      } finally {
        await fh.close();
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      c.findings.push({
        code: CONFIG_FINDING.badFileReference,
        severity: 'error',
        title: `"${c.name}" refers to a file that cannot be read`,
        detail: `${c.what} uses ${ref[0]}, but ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}; opencode stops at start ("bad file reference").`,
        location: locate(c.layer.doc, c.node),
      });
      content = '';
    }
    out = out.slice(0, ref.index) + content + out.slice(ref.index! + ref[0].length);
  }
  return out;
}

/** remeda's mergeDeep as opencode uses it: objects merge key by key, anything else replaces. */
function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeDeep(out[k] as Record<string, unknown>, v) : v;
  return out;
}
