// Problems on the probed sandbox: the expired token sits at lab-expired's entry in ~/.claude.json
// as a warning whose code opens its section of the findings catalogue and whose detail says what
// to do; its quick fixes run the repair commands with the server's ref. While the file has unsaved
// edits, Problems follow the text: the finding moves with its entry and a broken entry typed in
// shows at once; reverting the edit puts everything back.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { extensionApi, note } from '../helpers';
import { askUi, uiDriverAvailable } from '../uiBridge';
import { CLAUDE_CONFIG, codeOf, diagnosticsUntil, lineIndexOf, ours } from './lab';

const expiredRef = { client: 'claude-code', scope: 'user', name: 'lab-expired' };

describe('Problems at the server entries', function () {
  this.timeout(30_000);
  let file: vscode.Uri;

  before(async () => {
    await (await extensionApi()).rescan();
    file = vscode.Uri.file(CLAUDE_CONFIG());
    // Code actions are asked of an open document (as the light bulb does).
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file), { preview: false });
  });

  afterEach(async () => {
    // Leave no unsaved edit behind, whatever a test did.
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file.fsPath);
    if (doc?.isDirty) {
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
  });

  it('puts the expired token at lab-expired\'s key, as a warning with the catalogue link and what to do', async () => {
    const [d] = await diagnosticsUntil(file, (ds) => ds.some((x) => codeOf(x) === 'token.expired-refreshable'), 'the expired token').then((ds) => ds.filter((x) => codeOf(x) === 'token.expired-refreshable'));
    assert.ok(d);
    const line = lineIndexOf(file.fsPath, '"lab-expired"');
    assert.equal(d.range.start.line, line, 'on the line of the entry');
    const text = fs.readFileSync(file.fsPath, 'utf8').split('\n')[line]!;
    assert.equal(text.slice(d.range.start.character, d.range.end.character), '"lab-expired"', 'the range is the entry\'s key');
    assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(d.message, /^lab-expired: /);
    // The code links to the finding's own heading in the catalogue shipped with the extension.
    assert.ok(typeof d.code === 'object' && d.code.target, 'the code carries no link');
    const target = d.code.target;
    const heading = Number(/^L(\d+)$/.exec(target.fragment)?.[1]);
    const doc = fs.readFileSync(target.fsPath, 'utf8').split('\n');
    assert.equal(doc[heading - 1], '### `token.expired-refreshable`', `${target.toString()} points at "${doc[heading - 1]}"`);
    assert.ok(d.relatedInformation?.[0]?.message.length, 'no detail under the diagnostic');
    assert.match(d.relatedInformation[0].message, /refresh/i);
  });

  it('leaves the healthy servers without any diagnostic', async () => {
    const all = ours(file);
    const validLine = lineIndexOf(file.fsPath, '"lab-valid"');
    assert.deepEqual(all.filter((d) => d.range.start.line === validLine).map(codeOf), []);
  });

  it('offers Refresh first, then the two logins, each with lab-expired\'s ref', async () => {
    const d = ours(file).find((x) => codeOf(x) === 'token.expired-refreshable')!;
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', file, d.range, vscode.CodeActionKind.QuickFix.value);
    const mine = actions.filter((a) => a.command?.command.startsWith('mcpAuth.'));
    // token.expired-refreshable's repairs are refresh, relogin (src/core/probe/catalogue.ts).
    assert.deepEqual(
      mine.map((a) => [a.title, a.command?.command]),
      [
        ['Refresh the token of "lab-expired"', 'mcpAuth.refresh'],
        ['Log in to "lab-expired" again', 'mcpAuth.login'],
        ['Re-login with Claude Code in a terminal ("lab-expired")', 'mcpAuth.handOffLogin'],
      ],
    );
    const refresh = mine.find((a) => a.command?.command === 'mcpAuth.refresh');
    assert.ok(refresh, `quick fixes: ${mine.map((a) => a.title).join(' | ')}`);
    assert.equal(refresh.isPreferred, true);
    assert.deepEqual(refresh.command?.arguments, [expiredRef]);
    for (const a of mine) assert.equal(a.kind?.value, vscode.CodeActionKind.QuickFix.value);
  });

  it('follows unsaved edits: the finding moves with its entry, a broken entry shows while typing', async () => {
    const doc = await vscode.workspace.openTextDocument(file);
    const editor = await vscode.window.showTextDocument(doc);
    const line = lineIndexOf(file.fsPath, '"lab-expired"');
    const onDisk = fs.readFileSync(file.fsPath, 'utf8');
    // Three new lines above lab-expired, one of them a server without a url.
    await editor.edit((b) => b.insert(new vscode.Position(line, 0), '    "lab-typo": { "type": "http" },\n\n\n'));
    const moved = await diagnosticsUntil(
      file,
      (ds) => ds.some((d) => codeOf(d) === 'token.expired-refreshable' && d.range.start.line === line + 3) && ds.some((d) => codeOf(d) === 'config.missing-url'),
      'after typing',
    );
    const typo = moved.find((d) => codeOf(d) === 'config.missing-url')!;
    assert.equal(typo.range.start.line, line, 'the missing url is flagged at the typed entry');
    assert.equal(typo.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(fs.readFileSync(file.fsPath, 'utf8'), onDisk, 'nothing was saved');
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await diagnosticsUntil(file, (ds) => !ds.some((d) => codeOf(d) === 'config.missing-url') && ds.some((d) => codeOf(d) === 'token.expired-refreshable' && d.range.start.line === line), 'after the revert');
  });

  it('screenshots: the quick fixes at the entry, Problems and the status bar, dark and light', async function () {
    if (!uiDriverAvailable()) this.skip();
    const line = lineIndexOf(file.fsPath, '"lab-expired"');
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file), { preview: false });
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    const files: string[] = [];
    for (const [theme, name] of [
      ['Default Dark Modern', 'quickfix-dark'],
      ['Default Light Modern', 'quickfix-light'],
    ] as const) {
      await vscode.workspace.getConfiguration('workbench').update('colorTheme', theme, vscode.ConfigurationTarget.Global);
      await new Promise((r) => setTimeout(r, 1500));
      await vscode.window.showTextDocument(editor.document, { preview: false });
      editor.selection = new vscode.Selection(line, 6, line, 6);
      // The light bulb's menu, as Ctrl+. opens it.
      await vscode.commands.executeCommand('editor.action.quickFix');
      await new Promise((r) => setTimeout(r, 800));
      files.push(...(await askUi<{ files: string[] }>('screenshotWindow', { name })).files);
      await vscode.commands.executeCommand('hideCodeActionWidget');
    }
    await vscode.workspace.getConfiguration('workbench').update('colorTheme', undefined, vscode.ConfigurationTarget.Global);
    assert.ok(files.every((f) => fs.statSync(f).size > 10_000), files.join(', '));
    note('      screenshots: %s', files.join(', '));
  });
});
