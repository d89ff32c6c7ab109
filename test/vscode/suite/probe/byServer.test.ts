// "By server": the demo's lab-notes server is configured in Claude Code, Codex, Gemini CLI, opencode,
// Claude Desktop (through mcp-remote), Cursor and VS Code (scripts/demo/home.mjs SHARED_SERVER). Grouped by its
// URL, one row says how it stands in each client, and each client's entry sits under it with its
// own state, as probed against the live lab. Read from the tree and from the rendered DOM, with a
// screenshot of the sidebar.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { TreeSnapshotNode } from '../../../../src/vscode/serverTree';
import { extensionApi, note, waitFor } from '../helpers';
import { askUi, screenshotsInThemes, uiDriverAvailable, type UiView } from '../uiBridge';

describe('the "by server" view', () => {
  let tree: TreeSnapshotNode[];
  const timeoutSeconds = vscode.workspace.getConfiguration('mcpAuthDoctor').get<number>('probe.timeoutSeconds', 5);

  before(async function () {
    this.timeout(timeoutSeconds * 1000 + 30_000);
    await vscode.commands.executeCommand('mcpAuth.groupByServer');
    const api = await extensionApi();
    await api.rescan();
    tree = await api.treeSnapshot();
  });

  after(async () => {
    await vscode.commands.executeCommand('mcpAuth.groupByClient');
  });

  it('groups the lab server configured in seven clients under one row, each with its own state', () => {
    const groups = tree.filter((n) => n.contextValue === 'group');
    const shared = groups.filter((g) => g.label === 'lab-notes');
    assert.equal(shared.length, 1, `groups: ${groups.map((g) => `${g.label} (${g.children.length})`).join(', ')}`);
    const group = shared[0]!;
    // Codex also has the same URL under a second name (lab-fresh, never logged in): it is the same
    // server, so it is in the group too, named in its row.
    assert.equal(group.children.length, 8, group.children.map((c) => `${c.label}: ${c.description}`).join('; '));
    const named = (name: string) => group.children.filter((c) => (c.description ?? '').includes(` — ${name} · `));
    const members = Object.fromEntries(named('lab-notes').map((c) => [c.label, c]));
    assert.deepEqual(Object.keys(members).sort(), ['Claude Code', 'Codex', 'Cursor', 'Gemini CLI', 'VS Code', 'mcp-remote (Claude Desktop)', 'opencode']);
    assert.deepEqual(named('lab-fresh').map((c) => [c.label, c.contextValue]), [['Codex', 'server.remote.not-logged-in']]);
    // The states come from the probe of the live lab: valid tokens in Claude Code, Codex and Gemini
    // CLI, a revoked and expired one in mcp-remote's store, logins we do not read in the editors.
    assert.match(members['Claude Code']!.contextValue ?? '', /^server\.remote\.valid/);
    assert.match(members['Codex']!.contextValue ?? '', /^server\.remote\.valid/);
    // Gemini's store is read and its token checked live; our Re-login is not offered for it (not verified).
    assert.match(members['Gemini CLI']!.contextValue ?? '', /^server\.remote\.valid\.refreshable\.nologin$/);
    assert.match(members['mcp-remote (Claude Desktop)']!.contextValue ?? '', /^server\.remote\.expired\.refreshable\.nologin$/);
    // opencode's store is read: its stored expiry has passed, and its refresh token is there.
    assert.match(members['opencode']!.contextValue ?? '', /^server\.remote\.expired\.refreshable\.nologin$/);
    assert.equal(members['Cursor']!.contextValue, 'server.elsewhere.cursor');
    assert.equal(members['VS Code']!.contextValue, 'server.elsewhere.vscode');
    assert.equal(
      group.description,
      'valid in Claude Code, valid in Codex, not logged in in Codex, valid in Gemini CLI, expired in opencode, expired in mcp-remote (Claude Desktop), login not read in VS Code, login not read in Cursor',
    );
    assert.match(members['Cursor']!.description ?? '', /^login kept by Cursor \(not read\) — lab-notes · 127\.0\.0\.1:\d+ · user$/);
    assert.match(members['mcp-remote (Claude Desktop)']!.description ?? '', / — lab-notes · 127\.0\.0\.1:\d+ · user · Claude Desktop$/);
  });

  it('keeps every server of the by-client view: each entry is in exactly one group', () => {
    const members = tree.filter((n) => n.contextValue === 'group').flatMap((g) => g.children);
    const ids = members.map((m) => `${m.label}|${m.description}`);
    assert.equal(new Set(ids).size, ids.length, 'an entry shows twice');
    // Claude Code's 12 and Codex's 6 demo entries, plus Gemini CLI, opencode, mcp-remote, Cursor and VS Code's lab-notes.
    assert.equal(members.length, 23, members.map((m) => m.label).join(', '));
  });

  it('renders the group row with its clients below it, and a screenshot', async function () {
    if (!uiDriverAvailable()) this.skip();
    this.timeout(60_000);
    await askUi<UiView>('showView');
    const seen = await waitFor(async () => {
      const view = await askUi<UiView>('readView');
      const at = view.rows.findIndex((r) => r.level === 1 && r.label === 'lab-notes');
      if (at < 0) return undefined;
      // Its clients are the level-2 rows up to the next group (an entry with findings shows them at level 3).
      const end = view.rows.findIndex((r, i) => i > at && r.level === 1);
      const clients = view.rows.slice(at + 1, end < 0 ? undefined : end).filter((r) => r.level === 2);
      return clients.length === 8 ? { view, at, clients } : undefined;
    }, 15_000, 250);
    assert.ok(seen, 'the lab-notes group with its eight entries never rendered');
    const { view, at, clients } = seen.value;
    assert.deepEqual(clients.map((r) => r.label).sort(), ['Claude Code', 'Codex', 'Codex', 'Cursor', 'Gemini CLI', 'VS Code', 'mcp-remote (Claude Desktop)', 'opencode']);
    assert.ok(view.rows[at]!.description.startsWith('valid in Claude Code, valid in Codex, not logged in in Codex, valid in Gemini CLI, expired in opencode, expired in mcp-remote'), `the group row reads "${view.rows[at]!.description}"`);
    const files = await screenshotsInThemes([[undefined, 'by-server']]);
    assert.ok(files.every((f) => fs.statSync(f).size > 10_000), `screenshots: ${files.join(', ')}`);
    note(`screenshots: ${files.join(', ')}`);
  });
});
