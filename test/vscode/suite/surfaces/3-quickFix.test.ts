// The quick fix does the repair: running the Refresh code action's own command (as choosing it in
// the light bulb does) refreshes lab-expired against the lab, after the repair's confirmation.
// Then nothing needs attention: the status-bar item goes away, the diagnostic clears, and the view
// says every server is healthy.
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { RepairRun } from '../../../../src/vscode/repairs';
import { extensionApi, note, waitFor } from '../helpers';
import { askUi, uiDriverAvailable } from '../uiBridge';
import { CLAUDE_CONFIG, codeOf, diagnosticsUntil, labStats, ours, rememberTokens, renderedStatusItem } from './lab';

describe('the Refresh quick fix', function () {
  this.timeout(60_000);

  it('refreshes lab-expired at the lab, after confirming, and the warnings go away', async () => {
    const api = await extensionApi();
    rememberTokens();
    const file = vscode.Uri.file(CLAUDE_CONFIG());
    const [d] = (await diagnosticsUntil(file, (ds) => ds.some((x) => codeOf(x) === 'token.expired-refreshable'), 'before the fix')).filter((x) => codeOf(x) === 'token.expired-refreshable');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', file, d!.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions.find((a) => a.isPreferred && a.command?.command === 'mcpAuth.refresh');
    assert.ok(fix?.command, `no preferred Refresh among ${actions.map((a) => a.title).join(' | ')}`);
    const before = await labStats();
    assert.ok(api.answerConfirmations, 'the test API answers the repair\'s confirmation');
    const asked = api.answerConfirmations(['Refresh']);

    const run = await vscode.commands.executeCommand<RepairRun>(fix.command.command, ...(fix.command.arguments ?? []));
    assert.equal(asked.shown.length, 1, 'the repair asked first');
    assert.equal(asked.shown[0]!.message, 'Refresh the stored token of "lab-expired" for Claude Code?');
    assert.ok(run.outcome?.ok, `refresh failed: ${JSON.stringify(run.outcome)}`);
    const after = await labStats();
    assert.equal(after.refreshes - before.refreshes, 1, 'one refresh_token grant at the lab');
    rememberTokens();

    const gone = await waitFor(() => (api.statusBar() === undefined ? true : undefined), 10_000);
    assert.ok(gone, `the status bar still shows ${JSON.stringify(api.statusBar())}`);
    await diagnosticsUntil(file, (ds) => ds.length === 0, 'after the fix');
    assert.deepEqual(ours(file).map(codeOf), []);
  });

  it('shows no status-bar entry in the window and says all servers are healthy in the view', async function () {
    if (!uiDriverAvailable()) this.skip();
    const hidden = await waitFor(async () => ((await renderedStatusItem()) ? undefined : true), 5000, 200);
    assert.ok(hidden, 'our status-bar entry is still rendered');
    const view = await askUi<{ rows: { label: string }[]; message?: string }>('showView');
    assert.ok(view.rows.some((r) => r.label === 'lab-expired'), 'the view lists the servers');
    const message = await waitFor(async () => {
      const text = await askUi<string | null>('readViewMessage');
      return text ?? undefined;
    }, 5000, 200);
    assert.ok(message, 'the view shows no message line');
    assert.match(message.value, /^All 3 servers are healthy \(checked at .+\)\.$/);
    note('      view: "%s"', message.value);
  });
});
