// Refresh from the editor: lab-expired's access token is expired (and revoked at the lab) while its
// refresh token is good. The modal names the entry and each field that changes; when Claude Code
// is running (or that cannot be checked) it says so and offers the client's own login instead.
// Refresh turns the server valid with a new token, rotates the refresh token as the lab does,
// and leaves every other entry and the Claude login byte for byte.
import { strict as assert } from 'node:assert';
import type { RepairRun } from '../../../../src/vscode/repairs';
import { extensionApi, note, waitFor } from '../helpers';
import { askUi, uiDriverAvailable } from '../uiBridge';
import { answerDialog, claudeKeyOf, clearNotifications, command, rawText, readClaudeStore, toasts, treeState, type UiDialog, userRef } from './repairUi';

const ref = userRef('claude-code', 'lab-expired');

describe('refresh from the editor', function () {
  this.timeout(90_000);

  before(async function () {
    if (!uiDriverAvailable()) this.skip();
    await (await extensionApi()).rescan();
    assert.equal(await treeState('Claude Code', 'lab-expired'), 'expired', 'the demo stores an expired lab-expired token with a good refresh token');
  });

  function checkRefreshModal(d: Pick<UiDialog, 'message' | 'detail' | 'buttons'>, key: string): void {
    assert.equal(d.message, 'Refresh the stored token of "lab-expired" for Claude Code?');
    assert.ok(d.detail.includes(`Entry: ${key}`), d.detail);
    assert.match(d.detail, /accessToken: sha256:[0-9a-f]{12} → new/);
    assert.match(d.detail, /refreshToken: sha256:[0-9a-f]{12} → the server's new one if it rotates refresh tokens, else kept/);
    assert.match(d.detail, /expiresAt: \S+ \(expired\) → from the server's expires_in/);
    // The hand-off is offered exactly when the plan warns about a running (or unknown) Claude Code.
    const handOff = d.buttons.includes('Re-login with Claude Code instead');
    const warned = /Claude Code is running|Whether Claude Code is running could not be checked/.test(d.detail);
    assert.equal(handOff, warned, `hand-off button ${handOff} but running-client warning ${warned}: ${d.detail}`);
    assert.ok(d.buttons.includes('Refresh') && d.buttons.includes('Cancel'), d.buttons.join(', '));
  }

  it('shows the real modal for the refresh: the entry and each field that changes', async () => {
    await clearNotifications();
    const key = claudeKeyOf(readClaudeStore(), 'lab-expired');
    const before = readClaudeStore().raw;
    const shown = await askUi<UiDialog & { files: string[] }>(
      'realDialog',
      { command: 'MCP Auth: Refresh Token', pick: 'lab-expired', answer: 'Cancel', name: 'confirm-refresh' },
      120_000,
    );
    note('      modal as rendered: %s [%s]', shown.message, shown.buttons.join(' | '));
    checkRefreshModal(shown, key);
    assert.equal(readClaudeStore().raw, before, 'Cancel must leave the store byte for byte');
  });

  it('turns the expired server valid with a new, rotated grant and changes nothing else', async () => {
    await clearNotifications();
    const before = readClaudeStore();
    const key = claudeKeyOf(before, 'lab-expired');
    const old = before.data.mcpOAuth[key]!;
    const { result, dialog } = await answerDialog(command<RepairRun>('mcpAuth.refresh', ref), 'Refresh');
    checkRefreshModal(dialog, key);
    assert.ok(result.outcome?.ok, `refresh failed: ${JSON.stringify(result.outcome)}`);
    assert.ok(result.outcome.undoSnapshotId, 'a refresh offers Undo');
    assert.equal(result.state, 'valid', 'the server takes the new token');
    assert.equal(await treeState('Claude Code', 'lab-expired'), 'valid');

    const after = readClaudeStore();
    const now = after.data.mcpOAuth[key]!;
    assert.notEqual(now.accessToken, old.accessToken, 'a new access token is stored');
    assert.notEqual(now.refreshToken, old.refreshToken, 'the lab rotates refresh tokens; the new one is stored');
    assert.ok(Number(now.expiresAt) > Date.now(), 'the new expiry lies ahead');
    for (const k of Object.keys(before.data.mcpOAuth).filter((k) => k !== key)) {
      assert.equal(rawText(after.raw, ['mcpOAuth', k]), rawText(before.raw, ['mcpOAuth', k]), `entry ${k} changed`);
    }
    assert.equal(rawText(after.raw, ['claudeAiOauth']), rawText(before.raw, ['claudeAiOauth']), 'the Claude login changed');

    const seen = await waitFor(async () => (await toasts()).find((t) => t.message.startsWith('Refreshed lab-expired: new token sha256:')), 10_000, 200);
    assert.ok(seen, 'no result notification');
    assert.match(seen.value.message, /Now: valid/);
    assert.ok(seen.value.buttons.includes('Undo'), `buttons: ${seen.value.buttons.join(', ')}`);
    note('      notification: %s [%s]', seen.value.message, seen.value.buttons.join(', '));
  });
});
