// The status bar and Problems on the demo sandbox (labs live): a user who never opens the view
// still learns that tokens expired, sees the finding at the server's line in ~/.claude.json,
// and is offered the repair as a quick fix.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { extensionApi, sandboxHome, waitFor } from '../helpers';

/** Our diagnostics on `file` once they carry `code` (Problems are drawn just after the pass). */
async function diagnosticsWith(file: vscode.Uri, code: string): Promise<vscode.Diagnostic[]> {
  const all = () => vscode.languages.getDiagnostics(file).filter((d) => d.source === 'MCP Auth');
  const found = await waitFor(() => (all().some((d) => typeof d.code === 'object' && d.code.value === code) ? all() : undefined), 5000);
  return found?.value ?? all();
}

describe('status bar and Problems', () => {
  before(async () => {
    const api = await extensionApi();
    await api.rescan();
  });

  it('the status bar warns about expired and failing servers, in error style, and names them', async () => {
    const api = await extensionApi();
    const bar = api.statusBar();
    assert.ok(bar, 'no status-bar item although the sandbox holds an expired token');
    assert.match(bar.text, /^\$\(key\) MCP: .*\d+ expired/);
    assert.ok(bar.error, 'a rejected and a misconfigured server make it an error');
    assert.match(bar.tooltip, /lab-expired \(Claude Code, user\): expired .* ago \(at .+\) · refresh token present/);
    assert.match(bar.tooltip, /lab-rejected \(Claude Code, user\): rejected by the server/);
  });

  it('Problems shows the expired token at its server entry in ~/.claude.json, with Refresh as the quick fix', async () => {
    const file = vscode.Uri.file(path.join(sandboxHome(), '.claude.json'));
    const diagnostics = await diagnosticsWith(file, 'token.expired-refreshable');
    const expired = diagnostics.find((d) => typeof d.code === 'object' && d.code.value === 'token.expired-refreshable');
    assert.ok(expired, `no token.expired-refreshable diagnostic; got ${diagnostics.map((d) => (typeof d.code === 'object' ? d.code.value : d.code)).join(', ')}`);
    const doc = await vscode.workspace.openTextDocument(file);
    const line = doc.lineAt(expired.range.start.line).text;
    assert.match(line, /"lab-expired"/, `the diagnostic sits on "${line.trim()}"`);
    assert.equal(expired.severity, vscode.DiagnosticSeverity.Warning);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', file, expired.range);
    const refresh = actions.find((a) => a.command?.command === 'mcpAuth.refresh');
    assert.ok(refresh, `quick fixes: ${actions.map((a) => a.title).join(' | ')}`);
    assert.equal(refresh.title, 'Refresh the token of "lab-expired"');
    assert.deepEqual(refresh.command?.arguments?.[0], { client: 'claude-code', scope: 'user', name: 'lab-expired' });
  });

  it('a misconfigured server gets an error in Problems at its entry', async () => {
    const file = vscode.Uri.file(path.join(sandboxHome(), '.codex', 'config.toml'));
    const diagnostics = await diagnosticsWith(file, 'probe.issuer-mismatch');
    const issuer = diagnostics.find((d) => typeof d.code === 'object' && d.code.value === 'probe.issuer-mismatch');
    assert.ok(issuer, `got ${diagnostics.map((d) => (typeof d.code === 'object' ? d.code.value : d.code)).join(', ')}`);
    assert.equal(issuer.severity, vscode.DiagnosticSeverity.Error);
    const doc = await vscode.workspace.openTextDocument(file);
    assert.match(doc.lineAt(issuer.range.start.line).text, /lab-misconfigured/);
  });
});
