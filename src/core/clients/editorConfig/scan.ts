// Reading a list of config files of one app into a ConfigScan: every file is named in `files`
// (present or not, so the editor can watch it), a broken one is one finding and the rest are read.
import type { Environment } from '../../environment';
import type { ConfigScan, Scope } from '../../model';
import { readServersFile, type AppRules } from './entries';
import { readEditorJson, type Dialect } from './json';
import { variableContext } from './paths';

export interface ConfigFile {
  file: string;
  scope: Scope;
  /** For the user: "Cursor user MCP config (~/.cursor/mcp.json)". */
  label: string;
  projectPath?: string;
  profile?: string;
}

export async function scanFiles(e: Environment, rules: AppRules, dialect: Dialect, files: ConfigFile[], opts: { allowEmpty?: boolean } = {}): Promise<ConfigScan> {
  const scan: ConfigScan = { servers: [], findings: [], files: [] };
  const reads = await Promise.all(files.map((f) => readEditorJson(f.file, { label: f.label, app: rules.app, dialect, ...(opts.allowEmpty ? { allowEmpty: true } : {}) })));
  files.forEach((f, i) => {
    if (!scan.files.includes(f.file)) scan.files.push(f.file);
    const read = reads[i];
    if (!read || read.kind === 'missing') return;
    if (read.kind === 'bad') {
      scan.findings.push(read.finding);
      return;
    }
    const r = readServersFile(
      rules,
      { doc: read.doc, scope: f.scope, vars: variableContext(e, f.projectPath), ...(f.projectPath ? { projectPath: f.projectPath } : {}), ...(f.profile ? { profile: f.profile } : {}) },
      f.label,
    );
    scan.servers.push(...r.servers);
    scan.findings.push(...r.findings);
  });
  return scan;
}
