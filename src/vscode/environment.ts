// The core's Environment as seen from the editor: the extension host's HOME and variables, and
// the open workspace folders as the projects whose local and project scopes to read.
import * as vscode from 'vscode';
import { environmentFromProcess, type Environment } from '../core/environment';

export function editorEnvironment(): Environment {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  const e = environmentFromProcess(folders);
  // The settings that reach the core: extra .mcp.json-shaped files, and how many snapshots to keep
  // (the core's own variable, so the CLI honours the same knob).
  const c = vscode.workspace.getConfiguration('mcpAuthDoctor');
  const extra = c.get<unknown>('extraConfigPaths', []);
  if (Array.isArray(extra)) {
    const paths = extra.filter((p): p is string => typeof p === 'string' && p.trim() !== '');
    if (paths.length) e.extraConfigPaths = paths;
  }
  const keep = c.get<unknown>('backups.keep');
  if (typeof keep === 'number' && Number.isInteger(keep) && keep >= 1) e.env.MCP_AUTH_DOCTOR_BACKUP_KEEP = String(keep);
  return e;
}
