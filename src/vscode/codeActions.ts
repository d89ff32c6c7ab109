// Quick fixes on our diagnostics, from the finding's `repairs`: refresh → Refresh; relogin → Log In
// Again and the client's own login in a terminal; reset → Reset; edit-config → the entry in its
// file; report-server → the diagnostic report for the server's owner. Each runs the repair
// commands (repairs.ts) with a ServerRef, so the repair confirms and acts on what is stored now.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { McpServer, RepairId, SourceLocation } from '../core/model';
import type { Placed } from './diagnostics';
import { clientCommandFor, handOffLabel } from './handOff';
import { refOf } from './serverRef';

export class RepairCodeActions implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  constructor(private readonly placedFor: (uri: vscode.Uri, d: vscode.Diagnostic) => Placed | undefined) {}

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    const seen = new Set<string>();
    for (const d of context.diagnostics) {
      if (d.source !== 'MCP Auth') continue;
      const placed = this.placedFor(doc.uri, d);
      if (!placed) continue;
      for (const repair of placed.finding.repairs ?? []) {
        for (const action of quickFixes(repair, placed, d)) {
          // Two findings of one server may both offer Refresh: once is enough.
          const id = `${action.title}\n${JSON.stringify(action.command?.arguments ?? [])}`;
          if (seen.has(id)) continue;
          seen.add(id);
          out.push(action);
        }
      }
    }
    return out;
  }
}

/** The quick fixes for one repair of one diagnostic; none for a stdio server (no OAuth) or a finding without a server. */
export function quickFixes(repair: RepairId, placed: Placed, d: vscode.Diagnostic): vscode.CodeAction[] {
  const { server, finding } = placed;
  const remote = server && server.transport !== 'stdio' ? server : undefined;
  const make = (title: string, command: string, args: unknown[], preferred = false): vscode.CodeAction => {
    const action = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
    action.diagnostics = [d];
    action.isPreferred = preferred;
    action.command = { command, title, arguments: args };
    return action;
  };
  switch (repair) {
    case 'refresh':
      return remote ? [make(`Refresh the token of "${remote.name}"`, 'mcpAuth.refresh', [refOf(remote)], true)] : [];
    case 'relogin':
      return remote
        ? [
            make(`Log in to "${remote.name}" again`, 'mcpAuth.login', [refOf(remote)], !finding.repairs?.includes('refresh')),
            ...(clientCommandFor(remote, 'login') ? [make(`${handOffLabel(remote, 'login')} in a terminal ("${remote.name}")`, 'mcpAuth.handOffLogin', [refOf(remote)])] : []),
          ]
        : [];
    case 'reset':
      return remote ? [make(`Reset the stored credential of "${remote.name}"…`, 'mcpAuth.reset', [refOf(remote)])] : [];
    case 'edit-config': {
      const at: SourceLocation | undefined = finding.location ?? server?.source;
      return at ? [make(`Edit ${describeEntry(server, at)}`, 'mcpAuth.openLocation', [at])] : [];
    }
    case 'report-server':
      return [make("Copy a diagnostic report for the server's owner", 'mcpAuth.copyReport', [])];
  }
}

function describeEntry(server: McpServer | undefined, at: SourceLocation): string {
  return `${server ? `the entry of "${server.name}"` : 'the setting'} in ${path.basename(at.file)} (line ${at.line})`;
}
