// "MCP Auth: Read Codex's Keychain Item…" (macOS): a scan sees Codex's Keychain items by their
// attributes only, since only Codex may read them without macOS asking. On the user's request,
// after a modal that says what macOS will ask and what each answer means, this reads the one
// server's item and says the login's real state. The tree keeps the unread state until the user
// asks again: nothing reads a Codex item in the background.
import * as vscode from 'vscode';
import { CODEX_KEYCHAIN_PROMPT_EXPLANATION } from '../core/credentials/macKeychainCodex';
import { readKeychainLogin } from '../core/keychainRead';
import { confirm } from './confirm';
import { editorEnvironment } from './environment';
import { probeSettings } from './probeSettings';
import { describeToken } from '../core/tokenStatus';
import { describeRef, pickServer, refOf, resolveServerRef, sameRef, serverRefOf } from './serverRef';

export const READ_KEYCHAIN_COMMAND = 'mcpAuth.readCodexKeychain';

export function registerKeychainRead(): vscode.Disposable {
  return vscode.commands.registerCommand(READ_KEYCHAIN_COMMAND, (arg?: unknown) => readKeychainCommand(arg));
}

async function readKeychainCommand(arg: unknown): Promise<void> {
  const e = editorEnvironment();
  if (e.platform !== 'darwin') {
    void vscode.window.showInformationMessage("Codex keeps MCP logins in Keychain items only on macOS; there is nothing to read here.");
    return;
  }
  const ref = serverRefOf(arg) ?? (await pickServer("Which Codex server's Keychain item should be read?"));
  if (!ref) return;
  if (ref.client !== 'codex') {
    void vscode.window.showInformationMessage(`${describeRef(ref)} is not a Codex server: only Codex's Keychain items need your permission to be read.`);
    return;
  }
  // Ask only about an item that is there and unread: a file login or none needs no dialog.
  const now = await resolveServerRef(ref);
  if ('problem' in now) {
    void vscode.window.showWarningMessage(now.problem);
    return;
  }
  const token = now.report.servers.find((r) => r.server === now.server)?.token;
  if (token?.state !== 'in-keychain') {
    void vscode.window.showInformationMessage(`${describeRef(ref)}: ${token ? describeToken(token, now.report.at) : 'no OAuth login'}; there is no unread Keychain item to read.`);
    return;
  }
  const go = await confirm(`Read Codex's Keychain item for "${ref.name}"?`, CODEX_KEYCHAIN_PROMPT_EXPLANATION, 'Read It');
  if (go !== 'Read It') return;
  const settings = probeSettings();
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Reading Codex's Keychain item for "${ref.name}"…` }, () =>
    readKeychainLogin(e, (s) => sameRef(refOf(s), ref), { ...(settings.enabled ? { probe: settings.probe } : {}), expiryMarginMs: settings.expiryMarginMs }),
  );
  if ('problem' in result) {
    void vscode.window.showWarningMessage(result.problem);
    return;
  }
  const say = result.problems.length > 0 ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  void say(`${describeRef(ref)}: ${result.words}${result.problems.length > 0 ? ` — ${result.problems.join('; ')}` : ''}`);
}
