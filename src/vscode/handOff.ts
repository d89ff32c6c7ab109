// The hand-off: run the client's own `claude mcp login <name>` / `codex mcp login <name>` (or
// logout) in a VS Code terminal, where the user sees it and answers its prompts. It is typed into
// the user's own shell, so the shell's PATH finds the client as it does when the user types it
// (an editor started from a desktop often lacks the npm or ~/.local/bin PATH entries). That is
// done only for names that mean the same to every shell (letters, digits, `_ . -`); any other name
// runs the program directly (shellPath + shellArgs), one argument, never parsed by a shell. No
// secret is ever passed. The file watchers re-scan when the client writes its credentials file;
// a Keychain item or keyring cannot be watched, so closing the terminal re-scans too.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { CLIENT_LABELS, type McpServer } from '../core/model';
import { clientLoginCommand, clientLogoutCommand, type ClientCommand } from '../core/repair/processes';

export type HandOffKind = 'login' | 'logout';

/**
 * The client's own command for `server`, or undefined when the client has none for this entry.
 * In a remote window (SSH, WSL, a container, code-server) the client runs on the remote host,
 * where a browser it opens, or the loopback callback it waits on, is not the user's (failure mode
 * F3): its login gets `--no-browser`, so it prints the URL and takes the address the browser
 * lands on, pasted back (both clients have the flag: claude 2.1.197 and 2.1.332 — `claude mcp login
 * [options] <name>` with `--no-browser`, `claude mcp logout <name>` without options, checked by
 * test/interop/clientCommands.test.ts against the pinned binary — codex 0.169).
 */
export function clientCommandFor(server: McpServer, kind: HandOffKind, remoteName: string | undefined = vscode.env.remoteName): ClientCommand | undefined {
  const own = kind === 'login' ? clientLoginCommand(server) : clientLogoutCommand(server);
  return own && kind === 'login' && remoteName !== undefined ? { command: own.command, args: [...own.args, '--no-browser'] } : own;
}

/** "Re-login with Claude Code", as buttons and menus say it. */
export function handOffLabel(server: McpServer, kind: HandOffKind): string {
  return `${kind === 'login' ? 'Re-login' : 'Log out'} with ${CLIENT_LABELS[server.client]}`;
}

/**
 * Where the client must run to see the entry: a local or project entry belongs to its project
 * (Claude Code reads `projects[cwd]` and `<cwd>/.mcp.json`; Codex a trusted project's
 * `.codex/config.toml`); a user entry is seen from anywhere.
 */
export function handOffCwd(server: McpServer): string {
  if ((server.scope === 'local' || server.scope === 'project' || server.scope === 'dynamic') && server.projectPath) return server.projectPath;
  return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath ?? os.homedir();
}

/** Words no shell (sh, bash, zsh, fish, PowerShell, cmd) reads as anything but themselves (a `--flag` included). */
const SHELL_NEUTRAL = /^(--)?[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export class HandOffTerminals implements vscode.Disposable {
  private readonly ours = new Set<vscode.Terminal>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly onClosed: () => void) {
    this.subscription = vscode.window.onDidCloseTerminal((t) => {
      if (this.ours.delete(t)) this.onClosed();
    });
  }

  /** Starts the client's command in a new terminal and shows it; undefined when the client has none for this entry. */
  start(server: McpServer, kind: HandOffKind): vscode.Terminal | undefined {
    const own = clientCommandFor(server, kind);
    if (!own) return undefined;
    const { command, args } = own;
    const name = `${CLIENT_LABELS[server.client]}: ${[command, ...args].join(' ')}`;
    const common = { name, cwd: handOffCwd(server), iconPath: new vscode.ThemeIcon('key') };
    const typed = [command, ...args].every((a) => SHELL_NEUTRAL.test(a));
    const terminal = typed ? vscode.window.createTerminal(common) : vscode.window.createTerminal({ ...common, shellPath: command, shellArgs: args });
    if (typed) terminal.sendText([command, ...args].join(' '), true);
    this.ours.add(terminal);
    terminal.show();
    return terminal;
  }

  dispose(): void {
    this.subscription.dispose();
    this.ours.clear();
  }
}
