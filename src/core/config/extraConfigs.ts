// Files the user names beyond the clients' own configs (editor setting mcpAuthDoctor.extraConfigPaths):
// `.mcp.json`-shaped files such as those passed to `claude --mcp-config <file>` (Claude Code
// 2.1.197 `--help`: "Load MCP servers from JSON files"), read as Claude Code reads a project's
// .mcp.json. Claude Code lists such servers under its "dynamic" scope, and so do we; they need no
// approval, and their credentials are keyed like any other entry's (name + config hash).
import * as path from 'node:path';
import { findNodeAtLocation } from 'jsonc-parser';
import type { Environment } from '../environment';
import type { ConfigScan } from '../model';
import { CONFIG_FINDING } from './claudeCodeFindings';
import { readServerMap } from './claudeCodeEntries';
import { describeJson, isPlainObject, locate, readJsonFile } from './claudeCodeJson';

/** Claude Code skips MCP config files above 2 MiB (as for .mcp.json). */
const MAX_BYTES = 2 * 1024 * 1024;

/** The servers of `e.extraConfigPaths` not already read as a client's own file (`alreadyRead`). */
export async function scanExtraConfigs(e: Environment, alreadyRead: ReadonlySet<string>): Promise<ConfigScan> {
  // `~/x` is the home's; a relative path is the first open project's (else the home's).
  const base = e.projectDirs[0] ?? e.home;
  const files = [...new Set((e.extraConfigPaths ?? []).map((f) => path.resolve(base, f.replace(/^~(?=$|[\\/])/, e.home))))].filter((f) => !alreadyRead.has(f));
  const scans = await Promise.all(files.map((f) => scanOne(f, e.env)));
  return { servers: scans.flatMap((s) => s.servers), findings: scans.flatMap((s) => s.findings), files };
}

async function scanOne(file: string, env: Record<string, string | undefined>): Promise<ConfigScan> {
  const out: ConfigScan = { servers: [], findings: [], files: [file] };
  const label = `Extra MCP config ${path.basename(file)}`;
  const read = await readJsonFile(file, { label, consequence: 'No servers are read from it.', maxBytes: MAX_BYTES });
  if (read.kind === 'missing') {
    out.findings.push({
      code: CONFIG_FINDING.unreadable,
      severity: 'warning',
      title: `${label} does not exist`,
      detail: `${file} is listed in mcpAuthDoctor.extraConfigPaths but is not there. Fix the path or remove it from the setting.`,
    });
    return out;
  }
  if (read.kind === 'bad') {
    out.findings.push(read.finding);
    return out;
  }
  const { doc } = read;
  const map = findNodeAtLocation(doc.root, ['mcpServers']);
  if (!isPlainObject(doc.value) || !map || map.type !== 'object') {
    out.findings.push({
      code: map ? CONFIG_FINDING.invalidEntry : CONFIG_FINDING.missingServers,
      severity: 'error',
      title: `${label} has no "mcpServers" object`,
      detail: `${file} must be {"mcpServers": {...}}${map ? `, but "mcpServers" holds ${describeJson(isPlainObject(doc.value) ? doc.value.mcpServers : undefined)}` : ''}. No servers are read from it.`,
      location: locate(doc, map ?? doc.root),
    });
    return out;
  }
  const r = readServerMap({ doc, scope: 'dynamic', projectPath: path.dirname(file), env }, map);
  out.servers = r.servers;
  out.findings = r.findings;
  return out;
}
