// Shared by the probe suite's files: the tree after a finished probe of the demo sandbox
// (test/vscode/fixture.mjs startProbeSandbox: scripts/demo/demo.ts --offline, labs live).
import { strict as assert } from 'node:assert';
import type { TreeSnapshotNode } from '../../../../src/vscode/serverTree';
import { clientNode, extensionApi } from '../helpers';

/** rescan() resolves once the probe has finished, so the snapshot shows probed states. */
export async function probedTree(): Promise<TreeSnapshotNode[]> {
  const api = await extensionApi();
  await api.rescan();
  return api.treeSnapshot();
}

export function serverNode(tree: TreeSnapshotNode[], client: 'Claude Code' | 'Codex', name: string): TreeSnapshotNode {
  const c = clientNode(tree, client);
  assert.ok(c, `no ${client} node; top level: ${tree.map((n) => n.label).join(', ')}`);
  const s = c.children.find((n) => n.label === name);
  assert.ok(s, `no ${client} server ${name}; it has ${c.children.map((n) => n.label).join(', ')}`);
  return s;
}

/** Every node of the tree, depth first. */
export function allNodes(tree: TreeSnapshotNode[]): TreeSnapshotNode[] {
  return tree.flatMap((n) => [n, ...allNodes(n.children)]);
}

/**
 * A tooltip as the user reads it. The snapshot holds MarkdownString source, where appendText
 * escapes \`*_{}[]()#+!~ and > with a backslash and turns spaces into &nbsp; (VS Code 1.139
 * MarkdownString.appendText); a token with an _ would not be found in the source as written.
 */
export function plain(markdown: string | undefined): string {
  return (markdown ?? '').replace(/&nbsp;/g, ' ').replace(/\\([\\`*_{}[\]()#+!~>$-])/g, '$1');
}

/**
 * The finding node whose tooltip ends with `code`, as findingItem (src/vscode/serverTree.ts) writes
 * it: a child of the server, or of its folded "N notes" node.
 */
export function findingWithCode(server: TreeSnapshotNode, code: string): TreeSnapshotNode | undefined {
  const findings = server.children.flatMap((c) => (c.contextValue === 'notes' ? c.children : [c]));
  return findings.find((f) => plain(f.tooltip).trimEnd().endsWith(code));
}
