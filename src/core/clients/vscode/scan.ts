// VS Code's MCP configs, as VS Code 1.10x reads them (microsoft/vscode, read 2026-12):
// - user: the profile's `mcp.json` (IUserDataProfile.mcpResource = <profile>/mcp.json; the default
//   profile's folder is `<appData>/Code/User`, others `<appData>/Code/User/profiles/<id>`), with
//   `Code - Insiders` beside `Code`; `$VSCODE_APPDATA` replaces <appData> (src/vs/base/node/userDataPath.ts).
//   A VS Code Server (Remote-SSH, WSL, containers) keeps its own in `~/.vscode-server/data/User`.
// - project: each workspace folder's `.vscode/mcp.json` (McpConfigPathsService: joinPath(folder,
//   FOLDER_SETTINGS_PATH, '../mcp.json')).
// - settings.json `"mcp": {"servers": …}`: no longer read. VS Code moves it into mcp.json at start
//   and, if it comes back, shows "MCP servers should no longer be configured in user settings"
//   (McpConfigMigrationContribution, src/vs/workbench/contrib/mcp/browser/mcpConfigMigration.contribution.ts);
//   it gets a finding here and no servers, so nothing is listed twice after the move.
// The file is JSONC with trailing commas (McpResourceScannerService: jsonc parse, allowTrailingComma,
// allowEmptyContent; any parse error and the file gives no servers). Entries sit under "servers";
// "type" is "stdio", "http" or "sse" ("sse" and a missing or unknown type are treated by
// sanitizeServer as `command ? stdio : http`, and VS Code's HTTP transport tries Streamable HTTP
// first, then falls back to SSE); `url`, `headers`, `inputs` and `${…}` variables (variables.ts).
import { promises as fs } from 'node:fs';
import * as z from 'zod';
import { CONFIG_FINDING } from '../../config/claudeCodeFindings';
import { locate, nodeAt } from '../../config/claudeCodeJson';
import { pathFor, pathForDir, type Environment } from '../../environment';
import type { ClientId, ConfigScan, Finding } from '../../model';
import type { AppRules } from '../editorConfig/entries';
import { readEditorJson } from '../editorConfig/json';
import { appDataDir } from '../editorConfig/paths';
import { scanFiles, type ConfigFile } from '../editorConfig/scan';
import { readConfigText } from '../../config/sourceText';
import { isPlainObject } from '../../jsonShape';

const CLIENT: ClientId = 'vscode';

/** docs/findings.md `config.invalid-setting`: a setting the client refuses (Codex's code, VS Code's case). */
const INVALID_SETTING = 'config.invalid-setting';

/** The products whose user data we read, with the folder name Electron gives each. */
const PRODUCTS = [
  { dir: 'Code', label: 'VS Code', server: '.vscode-server' },
  { dir: 'Code - Insiders', label: 'VS Code Insiders', server: '.vscode-server-insiders' },
] as const;

export const VSCODE_RULES: AppRules = {
  mcpRemoteElsewhere: false,
  client: CLIENT,
  app: 'VS Code',
  serversKey: 'servers',
  urlKeys: ['url'],
  transport(raw, url) {
    const type = raw.type;
    const known = type === undefined || type === 'stdio' || type === 'http' || type === 'sse';
    const unknown = !known
      ? { code: CONFIG_FINDING.unknownType, severity: 'warning' as const, title: `Unknown "type" ${JSON.stringify(type).slice(0, 40)}`, detail: `VS Code knows "stdio", "http" and "sse"; for anything else it takes an entry with "command" as stdio and any other as http.`, at: 'type' }
      : undefined;
    const stdio = type === 'stdio' || ((type === undefined || !known) && typeof raw.command === 'string');
    if (stdio) {
      if (typeof raw.command !== 'string' || raw.command === '') {
        return { finding: { code: CONFIG_FINDING.missingCommand, severity: 'error', title: 'A stdio server with no command', detail: 'A "stdio" server needs a non-empty "command"; VS Code cannot start it.' } };
      }
      return { transport: 'stdio', ...(unknown ? { finding: unknown } : {}) };
    }
    if (url === undefined) {
      return { finding: { code: CONFIG_FINDING.missingUrl, severity: 'error', title: 'No "url" and no "command"', detail: `An ${type === 'sse' ? 'sse' : 'http'} server needs "url" (a stdio one "command"); VS Code cannot load this entry.` } };
    }
    return { transport: type === 'sse' ? 'sse' : 'http', ...(unknown ? { finding: unknown } : {}) };
  },
  variables: { supported: new Set(['env', 'userHome', 'workspaceFolder', 'workspaceFolderBasename', 'pathSeparator']), unsetEnv: 'empty' },
};

/** `$VSCODE_APPDATA`, else the OS's app-data folder. */
function vscodeAppData(e: Environment): string {
  return e.env.VSCODE_APPDATA ? pathFor(e).resolve(e.env.VSCODE_APPDATA) : appDataDir(e);
}

const StoredProfiles = z.object({ userDataProfiles: z.array(z.object({ location: z.string(), name: z.string() }).loose()).optional() }).loose();

/** Named profiles: their folders under User/profiles, named from globalStorage/storage.json. */
async function profiles(userDir: string, e: Environment): Promise<{ id: string; name: string }[]> {
  const p = pathFor(e);
  let ids: string[];
  try {
    ids = (await fs.readdir(p.join(userDir, 'profiles'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
  const names = new Map<string, string>();
  const stored = await readConfigText(p.join(userDir, 'globalStorage', 'storage.json'));
  if (stored.kind === 'ok') {
    try {
      const parsed = StoredProfiles.safeParse(JSON.parse(stored.text));
      // `location` is the folder's name, or a URI ending in it.
      for (const prof of parsed.success ? (parsed.data.userDataProfiles ?? []) : []) names.set(prof.location.split(/[\\/]/).pop() ?? prof.location, prof.name);
    } catch {
      // storage.json unreadable: profiles keep their folder names.
    }
  }
  return ids.map((id) => ({ id, name: names.get(id) ?? id }));
}

export async function vscodeConfigFiles(e: Environment): Promise<{ files: ConfigFile[]; settings: { file: string; label: string }[] }> {
  const p = pathFor(e);
  const base = vscodeAppData(e);
  const files: ConfigFile[] = [];
  const settings: { file: string; label: string }[] = [];
  for (const product of PRODUCTS) {
    const userDir = p.join(base, product.dir, 'User');
    files.push({ file: p.join(userDir, 'mcp.json'), scope: 'user', label: `${product.label} user MCP config (mcp.json)` });
    settings.push({ file: p.join(userDir, 'settings.json'), label: `${product.label} user settings (settings.json)` });
    for (const prof of await profiles(userDir, e)) {
      files.push({ file: p.join(userDir, 'profiles', prof.id, 'mcp.json'), scope: 'user', label: `${product.label} MCP config of profile "${prof.name}"`, profile: prof.name });
    }
    files.push({ file: p.join(e.home, product.server, 'data', 'User', 'mcp.json'), scope: 'user', label: `${product.label} Server user MCP config (~/${product.server}/data/User/mcp.json)` });
  }
  for (const dir of e.projectDirs) {
    files.push({ file: pathForDir(dir).join(dir, '.vscode', 'mcp.json'), scope: 'project', label: 'Workspace MCP config (.vscode/mcp.json)', projectPath: dir });
  }
  return { files, settings };
}

export async function scanVsCode(e: Environment): Promise<ConfigScan> {
  const { files, settings } = await vscodeConfigFiles(e);
  const scan = await scanFiles(e, VSCODE_RULES, 'jsonc', files, { allowEmpty: true });
  // A file with Claude's "mcpServers" but no "servers" loads nothing in VS Code.
  for (const f of files) {
    const r = await readEditorJson(f.file, { label: f.label, app: 'VS Code', dialect: 'jsonc', allowEmpty: true });
    if (r.kind !== 'ok' || !isPlainObject(r.doc.value) || r.doc.value.servers !== undefined || r.doc.value.mcpServers === undefined) continue;
    scan.findings.push({
      code: CONFIG_FINDING.missingServers,
      severity: 'error',
      title: `${f.label} has "mcpServers", not "servers"`,
      detail: `VS Code reads servers from "servers" in mcp.json; "mcpServers" is the Claude Desktop / Cursor form and loads nothing here. Rename the key to "servers" (and give each remote entry "type": "http").`,
      location: locate(r.doc, nodeAt(r.doc.root, ['mcpServers'])),
    });
  }
  for (const s of settings) {
    scan.files.push(s.file);
    const finding = await legacySettingsFinding(s.file, s.label);
    if (finding) scan.findings.push(finding);
  }
  return scan;
}

async function legacySettingsFinding(file: string, label: string): Promise<Finding | undefined> {
  const r = await readEditorJson(file, { label, app: 'VS Code', dialect: 'jsonc', allowEmpty: true });
  // A broken settings.json is VS Code's own to report; only a readable "mcp" section matters here.
  if (r.kind !== 'ok' || !isPlainObject(r.doc.value)) return undefined;
  const mcp = r.doc.value.mcp;
  if (!isPlainObject(mcp) || !isPlainObject(mcp.servers) || Object.keys(mcp.servers).length === 0) return undefined;
  return {
    code: INVALID_SETTING,
    severity: 'warning',
    title: `MCP servers in ${label}`,
    detail: `VS Code no longer loads MCP servers from settings.json: at its next start it moves "mcp.servers" into the profile's mcp.json and removes it here, and while they stay it shows "MCP servers should no longer be configured in user settings". They are not listed until they are in mcp.json (run "MCP: Open User Configuration").`,
    location: locate(r.doc, nodeAt(r.doc.root, ['mcp'])),
  };
}
