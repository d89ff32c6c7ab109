// Reset from the editor on the demo's live labs: the modal names the store file, the entry and its
// fields before anything is written (checked once as rendered, in a second window, since VS Code
// shows no dialogs to a window running extension tests); Cancel writes nothing; Reset removes
// exactly that entry (every other entry and the user's Claude login stay byte for byte); Undo in
// the result notification, clicked in the workbench, puts it back and the server is valid again.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import type { RepairRun } from '../../../../src/vscode/repairs';
import { extensionApi, note, waitFor } from '../helpers';
import { askUi, uiDriverAvailable } from '../uiBridge';
import {
  answerDialog,
  claudeKeyOf,
  claudeStoreFile,
  clearNotifications,
  clickToast,
  codexStoreFile,
  command,
  expectTreeState,
  rawText,
  readClaudeStore,
  toasts,
  treeState,
  type UiDialog,
  userRef,
} from './repairUi';

const ref = userRef('claude-code', 'lab-notes');

describe('reset from the editor', function () {
  this.timeout(90_000);

  before(async function () {
    if (!uiDriverAvailable()) this.skip();
    await (await extensionApi()).rescan();
    assert.equal(await treeState('Claude Code', 'lab-notes'), 'valid', 'the demo stores a valid lab-notes token');
  });

  /** What the reset modal of lab-notes must say, as rendered or as put to the seam. */
  function checkResetModal(d: Pick<UiDialog, 'message' | 'detail' | 'buttons'>, key: string): void {
    assert.equal(d.message, 'Remove the stored credential of "lab-notes" from Claude Code\'s store?');
    assert.ok(d.detail.includes(`Store: ${claudeStoreFile()} (file)`), d.detail);
    assert.ok(d.detail.includes(`Entry: ${key}`), d.detail);
    assert.match(d.detail, new RegExp(`entry ${escape(key)} removed: accessToken sha256:[0-9a-f]{12}, refreshToken sha256:[0-9a-f]{12}, client \\S+`));
    assert.match(d.detail, /your Claude login \(claudeAiOauth\) and every other key stay byte for byte/);
    assert.match(d.detail, /The store is snapshotted first, so this can be undone\./);
    assert.ok(d.buttons.includes('Reset') && d.buttons.includes('Cancel'), d.buttons.join(', '));
  }

  it('shows the real modal from the Command Palette: store file, entry key, fields; Cancel writes nothing', async () => {
    await clearNotifications();
    const before = fs.readFileSync(claudeStoreFile(), 'utf8');
    const key = claudeKeyOf(readClaudeStore(), 'lab-notes');
    const shown = await askUi<UiDialog & { files: string[] }>(
      'realDialog',
      { command: 'MCP Auth: Reset Stored Credential', pick: 'lab-notes', answer: 'Cancel', name: 'confirm-reset' },
      120_000,
    );
    note('      modal as rendered: %s [%s] → %s', shown.message, shown.buttons.join(' | '), shown.files.join(', '));
    checkResetModal(shown, key);
    assert.equal(fs.readFileSync(claudeStoreFile(), 'utf8'), before, 'Cancel must leave the store byte for byte');
  });

  it('asks the same through the command with a ServerRef; Cancel writes nothing', async () => {
    await clearNotifications();
    const before = fs.readFileSync(claudeStoreFile(), 'utf8');
    const { result, dialog } = await answerDialog(command<RepairRun>('mcpAuth.reset', ref), 'Cancel');
    checkResetModal(dialog, claudeKeyOf(readClaudeStore(), 'lab-notes'));
    assert.equal(result.cancelled, true);
    assert.equal(fs.readFileSync(claudeStoreFile(), 'utf8'), before, 'Cancel must leave the store byte for byte');
  });

  let removedEntry: unknown;

  it('removes only that entry: every other entry and the Claude login stay byte for byte', async () => {
    await clearNotifications();
    const before = readClaudeStore();
    const key = claudeKeyOf(before, 'lab-notes');
    removedEntry = before.data.mcpOAuth[key];
    const others = Object.keys(before.data.mcpOAuth).filter((k) => k !== key);
    assert.ok(others.length >= 3 && before.data.claudeAiOauth, 'the sandbox holds other grants and a Claude login');

    // A tree node works as the argument too (the context menu passes one).
    const node = { kind: 'server', server: { client: 'claude-code', scope: 'user', name: 'lab-notes', headers: { ignored: 'x' } } };
    const { result } = await answerDialog(command<RepairRun>('mcpAuth.reset', node), 'Reset');
    assert.ok(result.outcome?.ok, `reset failed: ${JSON.stringify(result.outcome)}`);
    assert.ok(result.outcome.undoSnapshotId, 'a reset offers Undo');

    const after = readClaudeStore();
    assert.equal(after.data.mcpOAuth[key], undefined, 'the entry is gone');
    assert.deepEqual(Object.keys(after.data.mcpOAuth).sort(), [...others].sort());
    for (const k of others) assert.equal(rawText(after.raw, ['mcpOAuth', k]), rawText(before.raw, ['mcpOAuth', k]), `entry ${k} changed`);
    assert.equal(rawText(after.raw, ['claudeAiOauth']), rawText(before.raw, ['claudeAiOauth']), 'the Claude login changed');
    assert.equal(await treeState('Claude Code', 'lab-notes'), 'not-logged-in');
    note('      %d other entries and claudeAiOauth unchanged; lab-notes now not logged in', others.length);
  });

  it('Undo in the result notification puts the entry back, and the server is valid again', async () => {
    const message = await clickToast('Reset lab-notes', 'Undo');
    note('      notification: %s', message);
    const back = await waitFor(() => {
      const s = readClaudeStore();
      const key = Object.keys(s.data.mcpOAuth).find((k) => s.data.mcpOAuth[k]?.serverName === 'lab-notes');
      return key ? s.data.mcpOAuth[key] : undefined;
    }, 10_000);
    assert.ok(back, 'Undo did not put the entry back');
    assert.deepEqual(back.value, removedEntry);
    const ms = await expectTreeState('Claude Code', 'lab-notes', 'valid');
    note('      valid again %d ms after Undo', ms);
  });

  it('says so, and writes nothing, when there is nothing stored to reset', async () => {
    await clearNotifications();
    const codexStore = codexStoreFile();
    const before = fs.existsSync(codexStore) ? fs.readFileSync(codexStore, 'utf8') : undefined;
    const run = (await command<RepairRun>('mcpAuth.reset', userRef('codex', 'lab-misconfigured'))()) as RepairRun;
    assert.match(run.problem ?? '', /has nothing stored for lab-misconfigured/);
    const seen = await waitFor(async () => (await toasts()).find((t) => t.message.includes('nothing stored for lab-misconfigured')), 10_000, 200);
    if (!seen) await askUi('dumpHtml', { name: 'toast-debug' });
    assert.ok(seen, 'no warning about the empty entry');
    assert.ok(seen.value.buttons.includes('Log In Again'), `buttons: ${seen.value.buttons.join(', ')}`);
    assert.equal(fs.existsSync(codexStore) ? fs.readFileSync(codexStore, 'utf8') : undefined, before);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
