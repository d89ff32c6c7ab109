// `mcpAuth.guidedFlow` ("MCP Auth: Walk Through the OAuth Flow…"): from a server row in the tree,
// a ServerRef (another command, a test), or the palette (then a QuickPick of remote servers).
// The server is resolved against what is configured and stored now, as the repairs resolve it.
import * as vscode from 'vscode';
import { pickServer, repairTargetOf, resolveServerRef, serverRefOf } from '../serverRef';
// The panel, its page and the flow it drives load when the user opens it.
import type { GuidedPanelHandle } from './panel';

export const GUIDED_FLOW_COMMAND = 'mcpAuth.guidedFlow';

export function registerGuidedFlow(context: vscode.ExtensionContext): vscode.Disposable {
  return vscode.commands.registerCommand(GUIDED_FLOW_COMMAND, (arg?: unknown) => openGuidedFlow(context, arg));
}

/** Opens (or reveals) the panel; resolves to it, or undefined when there is no server to show. */
export async function openGuidedFlow(context: vscode.ExtensionContext, arg: unknown): Promise<GuidedPanelHandle | undefined> {
  const ref = arg === undefined || arg === null ? await pickServer('Walk through the OAuth flow of which server?') : serverRefOf(arg);
  if (!ref) {
    if (arg !== undefined && arg !== null) void vscode.window.showErrorMessage('MCP Auth: the guided flow needs a server (a tree row or {client, scope, name}).');
    return undefined;
  }
  const resolved = await resolveServerRef(ref);
  if ('problem' in resolved) {
    void vscode.window.showErrorMessage(`MCP Auth: ${resolved.problem}`);
    return undefined;
  }
  const target = repairTargetOf(resolved);
  if ('problem' in target) {
    void vscode.window.showErrorMessage(`MCP Auth: ${target.problem}`);
    return undefined;
  }
  const { GuidedFlowPanel } = await import('./panel');
  return GuidedFlowPanel.show(context.extensionUri, ref, target, () => void vscode.commands.executeCommand('mcpAuth.rescan'));
}
