// Wires the VS Code layer: one context object owns state and disposables; commands are plain
// functions over it (rust-analyzer's shape, see shared/docs/style-anchors.md).
import * as vscode from 'vscode';
import { scanConfigs } from '../core/config/scan';
import type { ConfigScan, SourceLocation } from '../core/model';
import { ConfigWatcher } from './configWatcher';
import { editorEnvironment } from './environment';
import { ServerTreeProvider, type TreeNode, type TreeSnapshotNode } from './serverTree';

/** What activate() returns: used by the extension-host tests. */
export interface ExtensionApi {
  rescan(): Promise<ConfigScan>;
  treeSnapshot(): Promise<TreeSnapshotNode[]>;
}

class Ctx {
  readonly tree = new ServerTreeProvider();
  readonly watcher = new ConfigWatcher(() => void this.rescan());
  private scanning: Promise<ConfigScan> | undefined;
  private again = false;

  /** Runs one scan at a time; a request during a scan runs once more after it. */
  rescan(): Promise<ConfigScan> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      let scan: ConfigScan;
      do {
        this.again = false;
        scan = await scanConfigs(editorEnvironment());
        this.tree.update(scan);
        this.watcher.watch(scan.files);
      } while (this.again);
      await vscode.commands.executeCommand('setContext', 'mcpAuth.scanned', true);
      return scan;
    })().finally(() => (this.scanning = undefined));
    return this.scanning;
  }
}

export async function activateExtension(context: vscode.ExtensionContext): Promise<ExtensionApi> {
  const ctx = new Ctx();
  const view = vscode.window.createTreeView('mcpAuth.servers', { treeDataProvider: ctx.tree, showCollapseAll: true });
  context.subscriptions.push(
    view,
    ctx.watcher,
    vscode.workspace.onDidChangeWorkspaceFolders(() => void ctx.rescan()),
    vscode.commands.registerCommand('mcpAuth.rescan', () => ctx.rescan()),
    vscode.commands.registerCommand('mcpAuth.openConfig', (node?: TreeNode) => {
      if (node?.kind === 'server') return openLocation(node.server.source);
    }),
    vscode.commands.registerCommand('mcpAuth.openLocation', (at: SourceLocation) => openLocation(at)),
    vscode.commands.registerCommand('mcpAuth.showAddServerHelp', showAddServerHelp),
  );
  // Reading the config files is all activation does; no network.
  void ctx.rescan();
  return {
    rescan: () => ctx.rescan(),
    treeSnapshot: async () => ctx.tree.snapshot(),
  };
}

async function openLocation(at: SourceLocation): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(at.file));
  const pos = new vscode.Position(Math.max(at.line - 1, 0), Math.max(at.column - 1, 0));
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: false });
}

async function showAddServerHelp(): Promise<void> {
  await vscode.window.showInformationMessage(
    'Add an MCP server with "claude mcp add --transport http <name> <url>" or "codex mcp add <name> --url <url>" in a terminal; it appears here at once.',
    { modal: false },
  );
}
