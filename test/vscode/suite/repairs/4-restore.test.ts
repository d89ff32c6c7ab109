// Restore Credentials… from the editor: the user picks the snapshot taken before the refresh (in
// the real QuickPick, by typing as a user does), then lab-expired's entry; the confirmation is the
// store's own restore plan (old and new fingerprints); the restore puts back exactly the
// snapshot's entry, and the probe right after says the restored token is dead (revoked and
// expired since), which the notification reports with a way forward. Undo brings the refreshed
// grant back.
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import { snapshotStoreFor, type Snapshot } from '../../../../src/core/credentials/backups';
import { environmentFromProcess } from '../../../../src/core/environment';
import type { RestoreRun } from '../../../../src/vscode/restorePicker';
import { extensionApi, note, waitFor } from '../helpers';
import { askUi, uiDriverAvailable } from '../uiBridge';
import {
  answerDialogs,
  claudeKeyOf,
  claudeStoreFile,
  clearNotifications,
  clickToast,
  expectTreeState,
  rawText,
  readClaudeStore,
  toasts,
  treeState,
} from './repairUi';

interface Picked {
  title: string;
  items: string[];
}

describe('restore from a picked snapshot', function () {
  this.timeout(90_000);
  let key: string;
  let snapshot: Snapshot;

  before(async function () {
    if (!uiDriverAvailable()) this.skip();
    await (await extensionApi()).rescan();
    assert.equal(await treeState('Claude Code', 'lab-expired'), 'valid', 'the refresh test left lab-expired valid');
    const store = readClaudeStore();
    key = claudeKeyOf(store, 'lab-expired');
    // The snapshot the refresh took: the newest of this store whose lab-expired entry differs from now.
    const snapshots = snapshotStoreFor(environmentFromProcess([]));
    const listing = await snapshots.list({ client: 'claude-code', location: claudeStoreFile() });
    const current = JSON.stringify(store.data.mcpOAuth[key]);
    for (const info of listing.snapshots) {
      const full = await snapshots.read(info.id);
      const entry = full?.raw ? (JSON.parse(full.raw) as { mcpOAuth?: Record<string, unknown> }).mcpOAuth?.[key] : undefined;
      if (full && entry && JSON.stringify(entry) !== current) {
        snapshot = full;
        break;
      }
    }
    assert.ok(snapshot, `no snapshot holds an older lab-expired entry among ${listing.snapshots.length}`);
  });

  let refreshedEntry: unknown;

  it('restores the picked entry as the snapshot had it, and reports the restored token dead', async () => {
    await clearNotifications();
    const before = readClaudeStore();
    refreshedEntry = before.data.mcpOAuth[key];
    const old = snapshot.entries.find((e) => e.key === key)!;
    const { result, shown } = await answerDialogs(async () => {
      const running = vscode.commands.executeCommand<RestoreRun>('mcpAuth.restore');
      const first = await askUi<Picked>('pickQuickItem', { filter: snapshot.id });
      const second = await askUi<Picked>('pickQuickItem', { filter: key });
      note('      picked: %s → %s', first.items[0], second.items[0]);
      assert.equal(first.title, 'Restore Credentials (1/2): which snapshot?');
      assert.equal(first.items.length, 1, first.items.join(' | '));
      assert.ok(first.items[0]!.includes(`lab-expired ${old.accessToken}`), `the snapshot's entries by fingerprint: ${first.items[0]}`);
      assert.equal(second.title, 'Restore Credentials (2/2): all of it, or one entry?');
      return running;
    }, ['Restore']);

    assert.equal(shown.length, 1);
    const d = shown[0]!;
    assert.match(d.message, new RegExp(`^Restore entry ${escape(key)} from the snapshot of .+\\?$`));
    assert.ok(d.detail.includes(`Store: ${claudeStoreFile()} (file)`), d.detail);
    assert.ok(d.detail.includes(`From: snapshot ${snapshot.id}`), d.detail);
    assert.match(d.detail, new RegExp(`lab-expired \\(${escape(key)}\\): access sha256:[0-9a-f]{12}, refresh sha256:[0-9a-f]{12}.* → access ${old.accessToken}`));
    assert.match(d.detail, /A restored token may have been revoked/);

    assert.equal(result.restored, true);
    assert.ok(result.previousSnapshotId, 'the state before the restore is snapshotted');
    const after = readClaudeStore();
    assert.deepEqual(after.data.mcpOAuth[key], (JSON.parse(snapshot.raw!) as { mcpOAuth: Record<string, unknown> }).mcpOAuth[key]);
    for (const k of Object.keys(before.data.mcpOAuth).filter((k) => k !== key)) {
      assert.equal(rawText(after.raw, ['mcpOAuth', k]), rawText(before.raw, ['mcpOAuth', k]), `entry ${k} changed`);
    }
    // The lab revoked that access token at start-up, and its stored expiry has passed.
    assert.ok(result.states?.['lab-expired'] && result.states['lab-expired'] !== 'valid', `state after restore: ${result.states?.['lab-expired']}`);
    const seen = await waitFor(async () => (await toasts()).find((t) => t.message.startsWith(`Restored entry ${key}`)), 10_000, 200);
    assert.ok(seen, 'no result notification');
    note('      notification: %s [%s]', seen.value.message, seen.value.buttons.join(', '));
    assert.match(seen.value.message, /must be renewed/);
    assert.deepEqual(seen.value.buttons, ['Undo', 'Log In to lab-expired']);
  });

  it('Undo brings the refreshed grant back, valid', async () => {
    await clickToast(`Restored entry ${key}`, 'Undo');
    const back = await waitFor(() => (JSON.stringify(readClaudeStore().data.mcpOAuth[key]) === JSON.stringify(refreshedEntry) ? true : undefined), 10_000);
    assert.ok(back, 'Undo did not bring the refreshed entry back');
    await expectTreeState('Claude Code', 'lab-expired', 'valid');
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
