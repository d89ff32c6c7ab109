// Entry point: wiring only; the VS Code layer lives in src/vscode/.
import type * as vscode from 'vscode';
import { activateExtension, type ExtensionApi } from './vscode/activate';

export function activate(context: vscode.ExtensionContext): Promise<ExtensionApi> {
  return activateExtension(context);
}

export function deactivate(): void {
  // Disposables are owned by the context's subscriptions.
}
