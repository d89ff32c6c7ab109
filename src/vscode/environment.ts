// The core's Environment as seen from the editor: the extension host's HOME and variables, and
// the open workspace folders as the projects whose local and project scopes to read.
import * as vscode from 'vscode';
import { environmentFromProcess, type Environment } from '../core/environment';

export function editorEnvironment(): Environment {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  return environmentFromProcess(folders);
}
