// Screenshots for the README, taken on the live demo sandbox: the view with every state, the
// status-bar warning and Problems with the expired token at its line, in the dark, light and
// high-contrast themes. They are what a user sees, so the README shows exactly these.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { extensionApi, note, sandboxHome } from '../helpers';
import { screenshotsInThemes, uiDriverAvailable } from '../uiBridge';

describe('screenshots of the view, the status bar and Problems', () => {
  it('in the dark, light and both high-contrast themes', async function () {
    if (!uiDriverAvailable()) this.skip();
    this.timeout(60_000);
    await (await extensionApi()).rescan();
    const file = vscode.Uri.file(path.join(sandboxHome(), '.claude.json'));
    const doc = await vscode.workspace.openTextDocument(file);
    const line = doc.getText().split('\n').findIndex((l) => l.includes('"lab-expired"'));
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(line, 0, line, 0), preview: false });
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    await vscode.commands.executeCommand('mcpAuth.servers.focus');
    const files = await screenshotsInThemes([
      ['Default Dark Modern', 'surfaces-dark'],
      ['Default Light Modern', 'surfaces-light'],
      ['Default High Contrast', 'surfaces-hc'],
      ['Default High Contrast Light', 'surfaces-hc-light'],
    ]);
    assert.ok(files.every((f) => fs.statSync(f).size > 10_000), `screenshots: ${files.join(', ')}`);
    note(`screenshots: ${files.join(', ')}`);
  });
});
