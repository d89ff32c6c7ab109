// The loss guard, on the bug of seed 001 (anthropics/claude-code#45551): a client writes Claude
// Code's store holding only the one grant it just changed, dropping every other grant and the
// user's Claude login. The next scan's store findings say so; the editor warns once with "Put back
// what was lost…", which restores exactly the lost grants from our newest snapshot (the grant the
// client changed keeps its new value) and says that the Claude login cannot be put back alone.
import { strict as assert } from 'node:assert';
import { snapshotStoreFor } from '../../../../src/core/credentials/backups';
import { environmentFromProcess } from '../../../../src/core/environment';
import { extensionApi, note, replaceFile, waitFor } from '../helpers';
import { uiDriverAvailable } from '../uiBridge';
import { claudeKeyOf, claudeStoreFile, clearNotifications, clickToast, readClaudeStore, toasts } from './repairUi';

describe('the loss guard', function () {
  this.timeout(90_000);

  before(async function () {
    if (!uiDriverAvailable()) this.skip();
    await (await extensionApi()).rescan();
  });

  it('offers once to put back exactly the grants a client dropped, and does', async () => {
    await clearNotifications();
    const api = await extensionApi();
    const before = readClaudeStore();
    assert.ok(before.data.claudeAiOauth, 'the sandbox holds a Claude login');
    const kept = claudeKeyOf(before, 'lab-step-up');
    const lost = Object.keys(before.data.mcpOAuth).filter((k) => k !== kept);
    assert.ok(lost.length >= 3, `grants to lose: ${lost.join(', ')}`);
    // What "put back" restores from: our newest snapshot of this store, as it held each grant.
    const newest = await snapshotStoreFor(environmentFromProcess([])).newest('claude-code', claudeStoreFile());
    assert.ok(newest?.raw, 'the earlier repairs left snapshots');
    const snapshotEntries = (JSON.parse(newest.raw) as { mcpOAuth: Record<string, unknown> }).mcpOAuth;

    // The client's write: its one changed grant, nothing else (no snapshot of ours precedes it).
    const changed = { ...before.data.mcpOAuth[kept]!, expiresAt: Number(before.data.mcpOAuth[kept]!.expiresAt) + 60_000 };
    const answers = api.answerConfirmations!(['Put Back']);
    try {
      replaceFile(claudeStoreFile(), JSON.stringify({ mcpOAuth: { [kept]: changed } }));
      // The file watcher re-scans; the warning follows that scan.
      const warned = await waitFor(async () => (await toasts()).find((t) => t.message.includes('lost')), 20_000, 250);
      assert.ok(warned, 'no warning about the lost grants');
      note('      warning: %s [%s]', warned.value.message, warned.value.buttons.join(', '));
      assert.match(warned.value.message, /^Claude Code's credential store \(.+\) lost your Claude login \(claudeAiOauth\) and \d+ MCP grant\(s\): /);
      for (const k of lost) assert.ok(warned.value.message.includes(String(before.data.mcpOAuth[k]!.serverName)), `${k} not named`);
      assert.deepEqual(warned.value.buttons, ['Put back what was lost…']);
      await clickToast('lost your Claude login', 'Put back what was lost…');

      const back = await waitFor(() => (lost.every((k) => readClaudeStore().data.mcpOAuth[k]) ? true : undefined), 20_000, 100);
      assert.ok(back, `not put back: ${lost.filter((k) => !readClaudeStore().data.mcpOAuth[k]).join(', ')}`);
    } finally {
      api.answerConfirmations!([]);
    }

    const [dialog] = answers.shown;
    assert.ok(dialog, 'no confirmation before putting back');
    assert.equal(dialog.message, `Put back ${lost.length} lost MCP grant(s) into Claude Code's store?`);
    for (const k of lost) assert.ok(dialog.detail.includes(`(${k}): put back`), `${k} not in the plan: ${dialog.detail}`);
    assert.match(dialog.detail, /Your Claude login \(claudeAiOauth\) cannot be put back alone/);

    const after = readClaudeStore();
    for (const k of lost) assert.deepEqual(after.data.mcpOAuth[k], snapshotEntries[k], `${k} is not the snapshot's entry`);
    assert.deepEqual(after.data.mcpOAuth[kept], changed, "the client's own change stays");
    assert.equal(after.data.claudeAiOauth, undefined, 'the login is not restored behind the user\'s back');

    // Once per loss: the next scans raise no new warning.
    await api.rescan();
    await new Promise((r) => setTimeout(r, 1000));
    const again = (await toasts()).filter((t) => t.message.includes(' lost '));
    assert.deepEqual(again, [], 'the loss was announced again');
    const result = await waitFor(async () => (await toasts()).find((t) => t.message.startsWith(`Put back ${lost.length} MCP grant(s)`)), 10_000, 200);
    assert.ok(result, 'no result notification');
    note('      result: %s', result.value.message);
  });
});
