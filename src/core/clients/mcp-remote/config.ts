// mcp-remote entries in the host apps' configs: Claude Desktop's claude_desktop_config.json,
// Cursor's ~/.cursor/mcp.json and each project's .cursor/mcp.json, Windsurf's
// ~/.codeium/windsurf/mcp_config.json. Each file is `{"mcpServers": {"<name>": {"command",
// "args", "env", …}}}`; an entry is ours when its command line starts mcp-remote (argv.ts), and
// every other entry is left to the client that owns it. Files are parsed with JSON.parse (whether
// Cursor and Windsurf also accept comments is not verified: a file JSON.parse rejects is reported).
import type { Node } from 'jsonc-parser';
import { printParseErrorCode } from 'jsonc-parser';
import type { Environment } from '../../environment';
import { pathFor } from '../../environment';
import type { ClientId, ConfigScan, Finding, McpServer, Scope, SourceLocation } from '../../model';
import { CONFIG_FINDING } from '../../config/claudeCodeFindings';
import { firstErrorOffset, parseTreeBounded } from '../../config/jsonTree';
import { positionAt, readConfigText } from '../../config/sourceText';
import { describeJson, isPlainObject, locate, members } from '../../config/claudeCodeJson';
import { expandHeaderValue, parseHeaderFile, parseLaunch, parseMcpRemoteArgs, type Launch, type McpRemoteArgs } from './argv';
import { callbackPortCandidates, defaultCallbackPort, serverUrlHash } from './hash';
import { CURRENT_STORE_FOLDER, folderForPin } from './layout';
import { promises as fs } from 'node:fs';
import { portCollisionFindings } from './findings';

export const MCP_REMOTE_CLIENT: ClientId = 'mcp-remote';

export type HostApp = 'Claude Desktop' | 'Cursor' | 'Windsurf';

export interface HostFile {
  host: HostApp;
  file: string;
  scope: Scope;
  projectPath?: string;
}

/** Every host config file we look at, present or not. */
export function hostConfigFiles(e: Environment): HostFile[] {
  const p = pathFor(e);
  const claudeDir =
    e.platform === 'darwin'
      ? p.join(e.home, 'Library', 'Application Support', 'Claude')
      : e.platform === 'win32'
        ? p.join(e.env.APPDATA || p.join(e.home, 'AppData', 'Roaming'), 'Claude')
        : p.join(e.env.XDG_CONFIG_HOME || p.join(e.home, '.config'), 'Claude');
  const files: HostFile[] = [
    { host: 'Claude Desktop', file: p.join(claudeDir, 'claude_desktop_config.json'), scope: 'user' },
    { host: 'Cursor', file: p.join(e.home, '.cursor', 'mcp.json'), scope: 'user' },
  ];
  for (const dir of e.projectDirs) {
    const file = p.join(dir, '.cursor', 'mcp.json');
    // The home folder opened as a project is the user file, not a second copy of it.
    if (!files.some((f) => f.file === file)) files.push({ host: 'Cursor', file, scope: 'project', projectPath: dir });
  }
  files.push({ host: 'Windsurf', file: p.join(e.home, '.codeium', 'windsurf', 'mcp_config.json'), scope: 'user' });
  return files;
}

/** One mcp-remote entry with what the store and the findings need beyond the McpServer. */
export interface McpRemoteEntry {
  server: McpServer;
  launch: Launch;
  args: McpRemoteArgs;
  /** mcp-remote's own hash; undefined when it cannot be known here (an unreadable --header-file). */
  hash?: string;
  /** The store folder the entry's release reads (layout.ts folderForPin); undefined when unknown. */
  folder?: string;
  folderWhy: string;
  callbackPort?: number;
  portSource?: 'specified' | 'derived';
  /** Only that one port is tried (a port given, static client info or a metadata URL): proxy.js:12551. */
  strictPort: boolean;
  /** The callback port argument's position, or the entry's key when the port is derived. */
  portLocation: SourceLocation;
}

export interface McpRemoteScan {
  scan: ConfigScan;
  entries: McpRemoteEntry[];
}

export async function scanMcpRemote(e: Environment): Promise<ConfigScan> {
  return (await scanMcpRemoteEntries(e)).scan;
}

export async function scanMcpRemoteEntries(e: Environment): Promise<McpRemoteScan> {
  const scan: ConfigScan = { servers: [], findings: [], files: [] };
  const entries: McpRemoteEntry[] = [];
  for (const hf of hostConfigFiles(e)) {
    scan.files.push(hf.file);
    const read = await readHostJson(hf);
    if (read.kind === 'missing') continue;
    if (read.kind === 'bad') {
      scan.findings.push(read.finding);
      continue;
    }
    const { doc } = read;
    if (!isPlainObject(doc.value)) {
      scan.findings.push(invalid(hf, `${label(hf)} is not a JSON object`, `${hf.file} holds ${describeJson(doc.value)}; ${hf.host} reads no servers from it.`, locate(doc, doc.root)));
      continue;
    }
    const serversNode = members(doc.root).find((m) => m.name === 'mcpServers');
    const servers = (doc.value as Record<string, unknown>).mcpServers;
    if (servers === undefined || !serversNode) continue;
    if (!isPlainObject(servers)) {
      scan.findings.push(invalid(hf, `"mcpServers" in ${label(hf)} is not an object`, `${hf.file}: "mcpServers" holds ${describeJson(servers)}; ${hf.host} reads no servers from it.`, locate(doc, serversNode.value)));
      continue;
    }
    for (const m of members(serversNode.value)) {
      const raw = (servers as Record<string, unknown>)[m.name];
      const entry = await entryOf(e, hf, doc, m.name, raw, m.key, m.value);
      if (!entry) continue;
      if ('finding' in entry) scan.findings.push(entry.finding);
      else {
        entries.push(entry);
        scan.servers.push(entry.server);
      }
    }
  }
  // Static port clashes between entries; live checks (a port held by another program) are in findings.ts.
  scan.findings.push(...portCollisionFindings(entries));
  return { scan, entries };
}

interface Doc {
  file: string;
  text: string;
  value: unknown;
  root: Node;
}

type HostRead = { kind: 'missing' } | { kind: 'ok'; doc: Doc } | { kind: 'bad'; finding: Finding };

function label(hf: HostFile): string {
  return hf.scope === 'project' ? `${hf.host} project MCP config` : `${hf.host} MCP config`;
}

async function readHostJson(hf: HostFile): Promise<HostRead> {
  const read = await readConfigText(hf.file);
  if (read.kind === 'missing') return { kind: 'missing' };
  const at1 = { file: hf.file, line: 1, column: 1 };
  const consequence = `${hf.host} starts none of the servers in it, mcp-remote bridges included.`;
  if (read.kind === 'unreadable') {
    return { kind: 'bad', finding: { code: CONFIG_FINDING.unreadable, severity: 'error', title: `${label(hf)} cannot be read`, detail: `Reading ${hf.file} failed (${read.reason}). ${consequence}`, location: at1 } };
  }
  const text = read.text.startsWith('\uFEFF') ? read.text.slice(1) : read.text;
  if (text.trim() === '') return { kind: 'bad', finding: { code: CONFIG_FINDING.invalidJson, severity: 'error', title: `${label(hf)} is empty`, detail: `${hf.file} holds no JSON. ${consequence}`, location: at1 } };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const first = firstErrorOffset(text, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const why = first.error ? printParseErrorCode(first.error.error) : 'not JSON';
    const location = { file: hf.file, ...positionAt(text, first.offset) };
    return {
      kind: 'bad',
      finding: {
        code: CONFIG_FINDING.invalidJson,
        severity: 'error',
        title: `${label(hf)} is not valid JSON`,
        detail: `${hf.file}:${location.line}:${location.column}: ${why}. ${consequence}`,
        location,
      },
    };
  }
  const { root } = parseTreeBounded(text, [], { disallowComments: true, allowTrailingComma: false });
  if (!root) return { kind: 'bad', finding: { code: CONFIG_FINDING.invalidJson, severity: 'error', title: `${label(hf)} is not valid JSON`, detail: `${hf.file} could not be parsed. ${consequence}`, location: at1 } };
  return { kind: 'ok', doc: { file: hf.file, text, value, root } };
}

function invalid(hf: HostFile, title: string, detail: string, location: SourceLocation): Finding {
  return { code: CONFIG_FINDING.invalidEntry, severity: 'error', title, detail, location };
}

async function entryOf(
  e: Environment,
  hf: HostFile,
  doc: Doc,
  name: string,
  raw: unknown,
  keyNode: Node,
  valueNode: Node,
): Promise<McpRemoteEntry | { finding: Finding } | undefined> {
  const keyLoc: SourceLocation = { file: doc.file, ...positionAt(doc.text, keyNode.offset) };
  if (!isPlainObject(raw)) return undefined; // not ours to judge: no command line says it is mcp-remote
  const entry = raw as Record<string, unknown>;
  const { command, args } = entry;
  if (typeof command !== 'string') return undefined;
  // A command that names mcp-remote with malformed args is ours; any other command is not.
  const argsNode = members(valueNode).find((m) => m.name === 'args');
  if (args !== undefined && (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))) {
    if (!parseLaunch(command, Array.isArray(args) ? args.filter((a): a is string => typeof a === 'string') : [])) return undefined;
    return {
      finding: invalid(hf, `"${name}": args is invalid`, `${doc.file}: "${name}".args must be an array of strings, found ${describeJson(args)}; ${hf.host} cannot start this mcp-remote bridge.`, argsNode ? locate(doc, argsNode.value) : keyLoc),
    };
  }
  const argv = (args as string[] | undefined) ?? [];
  const launch = parseLaunch(command, argv);
  if (!launch) return undefined;
  const argLoc = (index: number): SourceLocation => {
    const n = argsNode?.value.children?.[index];
    return n ? { file: doc.file, ...positionAt(doc.text, n.offset) } : keyLoc;
  };
  const env = isPlainObject(entry.env) ? (entry.env as Record<string, unknown>) : {};
  const bridgeEnv: Record<string, string | undefined> = { ...e.env };
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') bridgeEnv[k] = v;

  const parsed = parseMcpRemoteArgs(launch.argv);
  const findings: Finding[] = [];
  for (const problem of parsed.problems) {
    findings.push({
      code: parsed.serverUrl === undefined ? CONFIG_FINDING.missingUrl : problem.includes('URL') || problem.includes('allow-http') ? CONFIG_FINDING.invalidUrl : CONFIG_FINDING.invalidEntry,
      severity: 'error',
      title: `"${name}": mcp-remote stops at start-up`,
      detail: `${problem}. mcp-remote exits before connecting, so ${hf.host} shows the server as failed.`,
      location: parsed.serverUrl === undefined ? keyLoc : argLoc(launch.argvOffset),
      reference: 'node_modules/mcp-remote/dist/chunk-KJCT2FXL.js parseCommandLineArgs (mcp-remote 0.15.1)',
    });
  }

  // Header files are read by mcp-remote at start-up and their lines are hashed with the rest.
  const fileHeaders: Record<string, string> = {};
  let hashKnown = true;
  const p = pathFor(e);
  for (const f of parsed.headerFiles) {
    if (!p.isAbsolute(f)) {
      hashKnown = false;
      findings.push({ code: 'config.mcp-remote-header-file-relative', severity: 'info', title: `"${name}": --header-file ${f} is relative`, detail: `mcp-remote reads it from the directory ${hf.host} starts it in, which is not known here, so its stored login cannot be matched to this entry.`, location: keyLoc });
      continue;
    }
    try {
      Object.assign(fileHeaders, parseHeaderFile(await fs.readFile(f, 'utf8')));
    } catch (err) {
      hashKnown = false;
      findings.push({ code: CONFIG_FINDING.invalidEntry, severity: 'error', title: `"${name}": --header-file cannot be read`, detail: `Reading ${f} failed (${(err as NodeJS.ErrnoException).code ?? String(err)}); mcp-remote stops at start-up when it cannot read it.`, location: keyLoc });
    }
  }
  const rawHeaders = { ...parsed.headers, ...fileHeaders };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawHeaders)) headers[k] = expandHeaderValue(v, bridgeEnv);
  for (const [k, v] of Object.entries(headers)) {
    const unset = /\$\{([^}]+)}/.exec(v);
    if (unset) findings.push({ code: CONFIG_FINDING.unsetVariable, severity: 'warning', title: `"${name}" uses \${${unset[1]}}, which is not set`, detail: `mcp-remote sends the header ${k} with the text \${${unset[1]}} as it is: set the variable in the entry's "env" or in ${hf.host}'s environment.`, location: keyLoc });
  }

  const hash =
    parsed.serverUrl !== undefined && hashKnown
      ? serverUrlHash({
          serverUrl: parsed.serverUrl,
          ...(parsed.authorizeResource ? { authorizeResource: parsed.authorizeResource } : {}),
          headers: rawHeaders,
          authorizeParams: parsed.authorizeParams,
          ...(parsed.clientMetadataUrl ? { clientMetadataUrl: parsed.clientMetadataUrl } : {}),
          ...(parsed.tokenEndpoint ? { tokenEndpoint: parsed.tokenEndpoint } : {}),
        })
      : undefined;
  const { folder, why: folderWhy } = folderForPin(launch.pin);
  const strictPort = !!parsed.specifiedPort || parsed.staticClientInfo !== 'none' || !!parsed.clientMetadataUrl;
  const callbackPort = parsed.specifiedPort ?? (hash ? defaultCallbackPort(hash) : undefined);
  const portIndex = launch.argv.findIndex((a, i) => i > 0 && parseInt(a, 10) === parsed.specifiedPort);

  const server: McpServer = {
    client: MCP_REMOTE_CLIENT,
    scope: hf.scope,
    name,
    transport: parsed.transportStrategy === 'sse-only' ? 'sse' : 'http',
    ...(parsed.serverUrl !== undefined ? { url: parsed.serverUrl, rawUrl: parsed.serverUrl } : {}),
    command: [command, ...argv].join(' '),
    headerNames: Object.keys(headers),
    headers,
    // Windsurf keeps `"disabled": true` in the entry; Claude Desktop and Cursor keep no such flag in these files.
    enabled: entry.disabled !== true,
    source: keyLoc,
    ...(hf.projectPath ? { projectPath: hf.projectPath } : {}),
    host: hf.host,
    ...(hash ? { storageKey: storageKeyFor(hash, folder) } : {}),
    ...oauthOf(parsed, callbackPort),
    findings,
  };
  return {
    server,
    launch,
    args: parsed,
    ...(hash ? { hash } : {}),
    ...(folder ? { folder } : {}),
    folderWhy,
    ...(callbackPort ? { callbackPort, portSource: parsed.specifiedPort ? ('specified' as const) : ('derived' as const) } : {}),
    strictPort,
    portLocation: parsed.specifiedPort && portIndex >= 0 ? argLoc(launch.argvOffset + portIndex) : keyLoc,
  };
}

function oauthOf(a: McpRemoteArgs, callbackPort: number | undefined): Pick<McpServer, 'oauth'> {
  const oauth: NonNullable<McpServer['oauth']> = {};
  if (a.staticClientId) oauth.clientId = a.staticClientId;
  if (callbackPort) {
    oauth.callbackPort = callbackPort;
    // buildRedirectUrl (chunk-KJCT2FXL.js:33571-33573); the host is localhost, 127.0.0.1 on Windows, or --host.
    if (a.host) oauth.callbackUrl = `http://${a.host}:${callbackPort}${a.callbackPath}`;
  }
  if (a.authorizeResource) oauth.resource = a.authorizeResource;
  return Object.keys(oauth).length ? { oauth } : {};
}

/**
 * The key our store files an entry under: mcp-remote's hash for the current folder
 * (`mcp-remote-v1`), `<folder>/<hash>` for any other (a 0.1.x release's own folder).
 */
export function storageKeyFor(hash: string, folder: string | undefined): string {
  return !folder || folder === CURRENT_STORE_FOLDER ? hash : `${folder}/${hash}`;
}

export { callbackPortCandidates };
