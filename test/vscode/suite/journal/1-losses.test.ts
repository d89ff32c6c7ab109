// The credential journal in the real VS Code (issue 13), on a Claude Code store the real client
// wrote (three MCP logins at the lab, and the user's Claude login): a writer destroys the store
// each way users have lost it, and the extension says so at once with the finding's title and
// Restore / History… / Details; Restore, confirmed in the repairs' modal, puts back exactly what
// was lost (an entry written in between stays as it is now; Undo puts the store back as it was),
// and the real `claude mcp list` then connects with the restored grants. A new client registration is journaled without an alarm;
// the real `claude mcp logout` of one server raises none.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { contentHash, journalFor } from '../../../../src/core/journal/journal';
import { environmentFromProcess } from '../../../../src/core/environment';
import { extensionApi, note, replaceFile, waitFor } from '../helpers';
import { uiDriverAvailable } from '../uiBridge';
import { answerDialogs, claudeKeyOf, claudeStoreFile, clearNotifications, readClaudeStore, toasts, type ClaudeStore } from '../repairs/repairUi';
import { claudeStatuses, clickToastButton, expectConnected, lossesShown, lossToasts, nextLoss, runClaude, SERVERS, WRITER } from './journalUi';
import type { ShownLoss } from '../../../../src/vscode/lossNotification';

describe('the credential journal: losses said at once, restored in one click', function () {
  this.timeout(120_000);
  let base: ClaudeStore;
  let keys: Record<(typeof SERVERS)[number], string>;

  /** The store as the logins left it: each case starts from it. */
  function putBase(): void {
    replaceFile(claudeStoreFile(), base.raw);
  }

  /** Waits until the journal's newest state of the store is what the file holds now. */
  async function journaled(): Promise<void> {
    const api = await extensionApi();
    await api.journal.observe();
    const journal = journalFor(environmentFromProcess([]));
    const newest = await journal.newest('claude-code', claudeStoreFile());
    assert.equal(contentHash(newest?.raw ?? null), contentHash(readClaudeStore().raw), 'the journal holds the store as it is now');
  }

  /** Clicks Restore on the loss's notification, confirms, and waits for the restore to finish. */
  async function restoreFromToast(loss: ShownLoss) {
    const { shown } = await answerDialogs(async () => {
      await clickToastButton(loss.finding.title, 'Restore');
      const done = await waitFor(async () => (await lossesShown()).find((l) => l.stateId === loss.stateId && l.finding.code === loss.finding.code)?.restore, 30_000, 100);
      assert.ok(done, 'the restore did not finish');
    }, ['Restore']);
    const run = (await lossesShown()).find((l) => l.stateId === loss.stateId && l.finding.code === loss.finding.code)!.restore!;
    return { run, dialog: shown[0] };
  }

  before(async function () {
    if (!uiDriverAvailable()) this.skip();
    const api = await extensionApi();
    await api.rescan();
    base = readClaudeStore();
    assert.ok(base.data.claudeAiOauth, 'the sandbox holds a Claude login');
    keys = Object.fromEntries(SERVERS.map((n) => [n, claudeKeyOf(base, n)])) as typeof keys;
    await expectConnected(SERVERS);
    await journaled();
  });

  beforeEach(async () => {
    await clearNotifications();
  });

  it('grants gone: said with its title; Restore puts back the lost grant and keeps those written in between; Undo', async () => {
    const before = (await lossesShown()).length;
    const { mcpOAuth, ...rest } = base.data;
    replaceFile(claudeStoreFile(), JSON.stringify({ ...rest, mcpOAuth: { [keys['lab-gamma']]: mcpOAuth[keys['lab-gamma']] } }));
    const { loss, toast } = await nextLoss(before);
    note('      notification: %s [%s]', toast.message, toast.buttons.join(', '));
    assert.match(toast.message, new RegExp(`^Claude Code lost 2 MCP logins at \\d\\d:\\d\\d ${WRITER}$`));
    assert.deepEqual(toast.buttons, ['Restore', 'History…', 'Details']);
    assert.equal(loss.loss.kind, 'grants-gone');

    // In between, the clients write again: lab-gamma (never lost) is persisted with a later expiry,
    // and lab-beta gets a new login (new tokens): both are newer now than the journal's state.
    const g = mcpOAuth[keys['lab-gamma']]!;
    const newerGamma = { ...g, expiresAt: Number(g.expiresAt) + 120_000 };
    const b = mcpOAuth[keys['lab-beta']]!;
    const newBeta = { ...b, accessToken: `${String(b.accessToken)}-relogin`, refreshToken: `${String(b.refreshToken)}-relogin` };
    replaceFile(claudeStoreFile(), JSON.stringify({ ...rest, mcpOAuth: { [keys['lab-gamma']]: newerGamma, [keys['lab-beta']]: newBeta } }));
    await journaled();
    const beforeRestore = readClaudeStore();

    const { run, dialog } = await restoreFromToast(loss);
    assert.ok(dialog, 'Restore asks first');
    note('      confirmation: %s', dialog.message);
    assert.match(dialog.message, /^Restore what Claude Code lost at \d\d:\d\d\?$/);
    assert.ok(dialog.detail.includes(`Store: ${claudeStoreFile()} (file)`), dialog.detail);
    assert.match(dialog.detail, new RegExp(`restore +lab-alpha +${escape(keys['lab-alpha'])}: access sha256:`));
    assert.match(dialog.detail, new RegExp(`keep \\(newer\\) +lab-beta +${escape(keys['lab-beta'])}`));
    for (const secret of [b.accessToken, b.refreshToken, mcpOAuth[keys['lab-alpha']]!.accessToken]) assert.ok(!dialog.detail.includes(String(secret)), 'fingerprints only');
    assert.ok(run.restored, `restored: ${JSON.stringify(run.problem)}`);
    const after = readClaudeStore();
    sameSecrets(after.data.mcpOAuth[keys['lab-alpha']], mcpOAuth[keys['lab-alpha']], 'lab-alpha came back as the journal had it');
    sameSecrets(after.data.mcpOAuth[keys['lab-beta']], newBeta, 'the newer login written in between stays');
    sameSecrets(after.data.mcpOAuth[keys['lab-gamma']], newerGamma, 'the entry written in between stays as it is now');
    sameSecrets(after.data.claudeAiOauth, base.data.claudeAiOauth, 'the Claude login is untouched');
    assert.deepEqual(run.restoredKeys, [keys['lab-alpha']]);
    assert.deepEqual(run.keptNewer, [keys['lab-beta']]);
    assert.deepEqual(run.dead, [], 'the restored token is alive at the lab');
    const result = await waitFor(async () => (await toasts()).find((t) => t.message.startsWith('Restored 1 of 2 lost')), 15_000, 200);
    assert.ok(result, `no result notification; seen: ${(await toasts()).map((t) => t.message).join(' | ')}`);
    note('      result: %s [%s]', result.value.message, result.value.buttons.join(', '));
    assert.match(result.value.message, /Kept because newer now: lab-beta\./);
    assert.deepEqual(result.value.buttons, ['Undo']);
    // Undo, as for every repair: the store as it was just before the restore, and no alarm for it.
    const alarms = (await lossesShown()).length;
    const last = (await lossesShown()).at(-1)!;
    assert.ok(last.restore?.undoSnapshotId, 'the restore left an undo snapshot');
    await clickToastButton('Restored 1 of 2 lost', 'Undo');
    const undone = await waitFor(() => (readClaudeStore().data.mcpOAuth[keys['lab-alpha']] === undefined ? true : undefined), 15_000, 100);
    assert.ok(undone, 'Undo did not take lab-alpha out again');
    // (claude mcp list above may have rewritten lab-beta's made-up login: Undo goes back past that too.)
    sameSecrets(readClaudeStore().data, beforeRestore.data, 'the store is as it was just before the restore');
    await journaled();
    assert.equal((await lossesShown()).length, alarms, 'our own Undo is no loss');
    putBase();
    await journaled();
  });

  it('tokens blanked: said with its title; Restore puts the tokens back and claude connects with them', async () => {
    putBase();
    await journaled();
    const before = (await lossesShown()).length;
    const blank = (k: string) => {
      const entry: Record<string, unknown> = { ...base.data.mcpOAuth[k]!, accessToken: '' };
      delete entry.refreshToken;
      return entry;
    };
    replaceFile(claudeStoreFile(), JSON.stringify({ ...base.data, mcpOAuth: { ...base.data.mcpOAuth, [keys['lab-alpha']]: blank(keys['lab-alpha']), [keys['lab-beta']]: blank(keys['lab-beta']) } }));
    const { loss, toast } = await nextLoss(before);
    note('      notification: %s', toast.message);
    assert.match(toast.message, new RegExp(`^Claude Code lost the tokens of 2 MCP logins at \\d\\d:\\d\\d ${WRITER}$`));
    const { run } = await restoreFromToast(loss);
    assert.ok(run.restored);
    const after = readClaudeStore();
    for (const n of ['lab-alpha', 'lab-beta'] as const) sameSecrets(after.data.mcpOAuth[keys[n]], base.data.mcpOAuth[keys[n]], `${n} is back`);
    await expectConnected(SERVERS);
  });

  it('the Claude login gone: said with its title; Restore puts back claudeAiOauth alone', async () => {
    putBase();
    await journaled();
    const before = (await lossesShown()).length;
    const rest: Record<string, unknown> = { ...base.data };
    delete rest.claudeAiOauth;
    replaceFile(claudeStoreFile(), JSON.stringify(rest));
    const { loss, toast } = await nextLoss(before);
    note('      notification: %s', toast.message);
    assert.match(toast.message, new RegExp(`^Claude Code lost your Claude login at \\d\\d:\\d\\d ${WRITER}$`));
    // Until restored, the loss is also a finding under "Credential stores" in the view.
    const inTree = async () => (await (await extensionApi()).treeSnapshot()).find((n) => n.label === 'Credential stores')?.children.some((c) => c.label === loss.finding.title);
    assert.ok(await inTree(), 'the loss is listed under Credential stores');
    const { run } = await restoreFromToast(loss);
    assert.ok(!(await inTree()), 'a restored loss leaves the view');
    assert.ok(run.restored);
    const after = readClaudeStore();
    sameSecrets(after.data.claudeAiOauth, base.data.claudeAiOauth, 'the Claude login is back');
    sameSecrets(after.data.mcpOAuth, base.data.mcpOAuth, 'the MCP grants are untouched');
  });

  it('the store emptied: said with its title; Restore brings every grant and the login back', async () => {
    putBase();
    await journaled();
    const before = (await lossesShown()).length;
    replaceFile(claudeStoreFile(), '{}');
    const { loss, toast } = await nextLoss(before);
    note('      notification: %s', toast.message);
    assert.match(toast.message, new RegExp(`^Claude Code's credential store was emptied at \\d\\d:\\d\\d: 3 MCP logins and your Claude login lost ${WRITER}$`));
    const { run } = await restoreFromToast(loss);
    assert.ok(run.restored);
    const after = readClaudeStore();
    sameSecrets(after.data.mcpOAuth, base.data.mcpOAuth, 'every grant is back');
    sameSecrets(after.data.claudeAiOauth, base.data.claudeAiOauth, 'the Claude login is back');
    await expectConnected(SERVERS);
  });

  it('the store unparsable: said with its title; Restore replaces a store it cannot parse only when told to', async () => {
    putBase();
    await journaled();
    const before = (await lossesShown()).length;
    const broken = base.raw.slice(0, Math.floor(base.raw.length / 2));
    replaceFile(claudeStoreFile(), broken);
    const { loss, toast } = await nextLoss(before);
    note('      notification: %s', toast.message);
    assert.match(toast.message, new RegExp(`^Claude Code's credential store became unreadable at \\d\\d:\\d\\d: 3 MCP logins and your Claude login at risk ${WRITER}$`));
    const api = await extensionApi();
    // Cancel: the store is left as it is.
    const cancelled = await answerDialogs(() => api.journal.restore(loss), [undefined]);
    assert.equal(cancelled.shown[0]?.message, "Claude Code's store cannot be read now: replace it whole with the journal's state before the loss?");
    assert.deepEqual(cancelled.shown[0]?.buttons, ['Replace the Whole Store', 'Cancel']);
    assert.match(cancelled.shown[0]!.detail, /unparsable now/);
    assert.equal(cancelled.result.restored, false);
    assert.ok(fs.readFileSync(claudeStoreFile(), 'utf8') === broken, 'the unparsable store is left as it is');
    // Only the explicit button replaces it, with the state before the loss.
    const replaced = await answerDialogs(() => api.journal.restore(loss), ['Replace the Whole Store']);
    assert.equal(replaced.result.restored, true, replaced.result.problem);
    sameSecrets(readClaudeStore().data, base.data, 'the state before the loss replaced the unreadable store');
  });

  it('a new client registration is journaled without an alarm', async () => {
    putBase();
    await journaled();
    const before = (await lossesShown()).length;
    const g = base.data.mcpOAuth[keys['lab-gamma']]!;
    const reRegistered = { ...g, clientId: `${String(g.clientId)}-new`, accessToken: `${String(g.accessToken)}x`, refreshToken: `${String(g.refreshToken)}x` };
    replaceFile(claudeStoreFile(), JSON.stringify({ ...base.data, mcpOAuth: { ...base.data.mcpOAuth, [keys['lab-gamma']]: reRegistered } }));
    await journaled();
    assert.equal((await lossesShown()).length, before, 'no loss shown');
    assert.deepEqual(await lossToasts(), []);
    putBase();
    await journaled();
  });

  it("the real `claude mcp logout` of one server raises no alarm", async () => {
    const before = (await lossesShown()).length;
    await runClaude(['mcp', 'logout', 'lab-gamma']);
    assert.equal(readClaudeStore().data.mcpOAuth[keys['lab-gamma']], undefined, 'claude removed its entry');
    await journaled();
    assert.equal((await lossesShown()).length, before, 'no loss shown');
    assert.deepEqual(await lossToasts(), []);
    const statuses = await claudeStatuses();
    assert.equal(statuses['lab-alpha'], '✔ Connected');
    assert.equal(statuses['lab-beta'], '✔ Connected');
    assert.notEqual(statuses['lab-gamma'], '✔ Connected', 'logged out');
  });
});

/** Equality of secret-bearing values that never prints them (a failed assert would). */
function sameSecrets(actual: unknown, expected: unknown, what: string): void {
  assert.ok(JSON.stringify(actual) === JSON.stringify(expected), what);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
