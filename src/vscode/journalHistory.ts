// "History…" on a server (issue 13): the timeline of its credential entry across every state the
// journal and our before-write snapshots hold (core/journal/history.ts), with rotations never
// persisted and client registrations piling up, shown in a read-only document. Fingerprints only:
// the text is built from the history, which never holds a token.
import * as vscode from 'vscode';
import { snapshotStoreFor } from '../core/credentials/backups';
import { serverHistory, timelineLines, type ServerHistory } from '../core/journal/history';
import type { Journal } from '../core/journal/journal';
import { CLIENT_LABELS, type McpServer } from '../core/model';
import { editorEnvironment } from './environment';
import { pickServer, resolveServerRef, serverRefOf } from './serverRef';

/** The scheme of the extension's read-only documents (histories, loss details). */
export const READ_ONLY_SCHEME = 'mcp-auth-journal';

/** Holds the text of each read-only document this extension opened. */
export class ReadOnlyDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(READ_ONLY_SCHEME, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** Opens (or refreshes) the document `name` with `text`. */
  async show(name: string, text: string): Promise<vscode.TextDocument> {
    const uri = vscode.Uri.from({ scheme: READ_ONLY_SCHEME, path: `/${name.replace(/[\\/]/g, '_')}` });
    const had = this.texts.has(uri.toString());
    this.texts.set(uri.toString(), text);
    if (had) this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: false });
    return doc;
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}

/** What `mcpAuth.history` resolves to (the extension-host tests read it). */
export interface HistoryShown {
  problem?: string;
  cancelled?: boolean;
  history?: ServerHistory;
  text?: string;
  uri?: string;
}

export async function historyCommand(arg: unknown, journal: () => Journal, docs: ReadOnlyDocuments): Promise<HistoryShown> {
  const ref = serverRefOf(arg) ?? (arg === undefined ? await pickServer('Whose credential history?') : undefined);
  if (!ref) return { cancelled: true };
  const resolved = await resolveServerRef(ref);
  if ('problem' in resolved) {
    void vscode.window.showErrorMessage(resolved.problem);
    return { problem: resolved.problem };
  }
  if (!resolved.key) {
    const problem = `${resolved.server.name} has no OAuth credential entry (stdio, or no usable URL): it has no history.`;
    void vscode.window.showInformationMessage(problem);
    return { problem };
  }
  const e = editorEnvironment();
  const stores = [journal().snapshots, snapshotStoreFor(e)];
  const history = await serverHistory(stores, { client: resolved.server.client, key: resolved.key, serverName: resolved.server.name });
  const text = historyText(resolved.server, history, stores.map((s) => s.dir));
  const doc = await docs.show(`History of ${resolved.server.name} (${CLIENT_LABELS[resolved.server.client]}).txt`, text);
  return { history, text, uri: doc.uri.toString() };
}

/** The history for people, as `mcp-auth-doctor history` prints it: one state a line, what changed between. */
export function historyText(server: McpServer, h: ServerHistory, dirs: string[]): string {
  const lines = [`${server.name} (${CLIENT_LABELS[server.client]}, entry ${h.key})`, `From the journal and snapshots in ${dirs.join(' and ')}; token fingerprints only.`, ''];
  if (h.timelines.length === 0) lines.push('  No journaled state or snapshot holds this entry yet.');
  lines.push(...timelineLines(h));
  if (h.registrations.length > 1) {
    lines.push('', `  Client registrations: ${h.registrations.map((r) => `${r.clientId} (first seen ${r.firstSeenAt})`).join(', ')}`);
  }
  for (const d of h.diagnoses) lines.push('', `  ! ${d.title}`, `    ${d.detail}`, '    Rests on:', ...d.basis.map((b) => `      - ${b}`));
  if (h.unreadableSnapshots.length > 0) lines.push('', `  (${h.unreadableSnapshots.length} unreadable snapshot(s) skipped)`);
  return lines.join('\n') + '\n';
}
