// History… on a server (issue 13): after the losses of 1-losses, lab-alpha's timeline across the
// journal shows its removal, its blanked tokens and its restores, in a read-only document, by
// fingerprints only; the loss notification's History… button opens it for the server picked among the lost.
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import { fingerprint } from '../../../../src/core/storageKey';
import type { HistoryShown } from '../../../../src/vscode/journalHistory';
import { extensionApi, replaceFile, waitFor } from '../helpers';
import { askUi, uiDriverAvailable } from '../uiBridge';
import { claudeKeyOf, claudeStoreFile, clearNotifications, readClaudeStore, userRef } from '../repairs/repairUi';
import { clickToastButton, lossesShown, nextLoss } from './journalUi';

describe('History… of a server', function () {
  this.timeout(60_000);

  it('shows the entry across the journal in a read-only document, fingerprints only', async () => {
    const store = readClaudeStore();
    const key = claudeKeyOf(store, 'lab-alpha');
    const entry = store.data.mcpOAuth[key]!;
    const shown = await vscode.commands.executeCommand<HistoryShown>('mcpAuth.history', userRef('claude-code', 'lab-alpha'));
    assert.ok(shown.text && shown.history, `no history: ${shown.problem}`);
    const text = shown.text;
    assert.ok(text.startsWith(`lab-alpha (Claude Code, entry ${key})`), text.slice(0, 200));
    // The losses of the first test file, as transitions of this entry.
    assert.match(text, /↓ removed/);
    assert.match(text, /↓ [^\n]*access-token-blanked/);
    assert.match(text, /observed/);
    assert.ok(text.includes(`access ${fingerprint(String(entry.accessToken))}`), 'the current access token by its fingerprint');
    for (const secret of [entry.accessToken, entry.refreshToken]) assert.ok(!text.includes(String(secret)), 'no token in the history');

    const editor = vscode.window.activeTextEditor;
    assert.ok(editor, 'the history is open in an editor');
    assert.equal(editor.document.uri.toString(), shown.uri);
    assert.equal(editor.document.uri.scheme, 'mcp-auth-journal', 'a read-only document, not a file');
    assert.equal(editor.document.getText(), text);
  });

  it("opens from a loss notification's History… button, for the server picked among the lost", async function () {
    if (!uiDriverAvailable()) this.skip();
    const base = readClaudeStore();
    const alpha = claudeKeyOf(base, 'lab-alpha');
    const beta = claudeKeyOf(base, 'lab-beta');
    const before = (await lossesShown()).length;
    await clearNotifications();
    const rest = Object.fromEntries(Object.entries(base.data.mcpOAuth).filter(([k]) => k !== alpha && k !== beta));
    replaceFile(claudeStoreFile(), JSON.stringify({ ...base.data, mcpOAuth: rest }));
    try {
      const { loss } = await nextLoss(before);
      await clickToastButton(loss.finding.title, 'History…');
      const picked = await askUi<{ title: string; items: string[] }>('pickQuickItem', { filter: 'lab-alpha' });
      assert.equal(picked.items.length, 1, picked.items.join(' | '));
      const opened = await waitFor(() => (vscode.window.activeTextEditor?.document.uri.path === '/History of lab-alpha (Claude Code).txt' ? vscode.window.activeTextEditor : undefined), 15_000, 100);
      assert.ok(opened, `the history did not open; active: ${vscode.window.activeTextEditor?.document.uri.toString()}`);
      assert.match(opened.value.document.getText(), /↓ removed/);
    } finally {
      replaceFile(claudeStoreFile(), base.raw);
      await (await extensionApi()).journal.observe();
    }
  });
});
