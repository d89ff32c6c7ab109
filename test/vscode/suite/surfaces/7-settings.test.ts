// The settings that change what is read and kept, through the real configuration: an extra
// .mcp.json-shaped file adds its server (listed, probed, its findings in Problems in that file);
// `clients` drops a client's servers from every surface; `backups.keep` is the snapshot count a
// repair prunes to.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { clientNode, extensionApi, sandboxHome, waitFor, workspaceDir } from '../helpers';
import { codeOf, diagnosticsUntil, rememberTokens } from './lab';

const settings = () => vscode.workspace.getConfiguration('mcpAuthDoctor');

async function set(key: string, value: unknown): Promise<void> {
  await settings().update(key, value, vscode.ConfigurationTarget.Workspace);
}

describe('settings', function () {
  this.timeout(60_000);

  after(async () => {
    for (const key of ['extraConfigPaths', 'clients', 'backups.keep']) await set(key, undefined);
  });

  it('extraConfigPaths: the file\'s server is listed under Claude Code and its findings sit in that file', async () => {
    const api = await extensionApi();
    const { mcpUrl } = JSON.parse(fs.readFileSync(path.join(workspaceDir(), '.surfaces-lab.json'), 'utf8')) as { mcpUrl: string };
    const file = path.join(workspaceDir(), 'team', 'mcp.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `{\n  "mcpServers": {\n    "team-extra": { "type": "http", "url": "${mcpUrl}" }\n  }\n}\n`);
    await set('extraConfigPaths', ['team/mcp.json']);
    const listed = await waitFor(async () => clientNode(await api.treeSnapshot(), 'Claude Code')?.children.find((n) => n.label === 'team-extra'), 10_000, 100);
    assert.ok(listed, 'team-extra is not in the view');
    assert.match(listed.value.description ?? '', /dynamic/);
    // Never logged in: the probe's finding goes to the entry in the extra file.
    const ds = await diagnosticsUntil(vscode.Uri.file(file), (d) => d.length > 0, 'the extra file', 10_000);
    assert.ok(ds.every((d) => d.range.start.line === 2), ds.map((d) => `${codeOf(d)}@${d.range.start.line + 1}`).join(', '));
    // `claude mcp login` does not know --mcp-config servers: our login is offered, the hand-off is not.
    const login = ds.find((d) => codeOf(d) === 'token.not-logged-in');
    assert.ok(login, ds.map(codeOf).join(', '));
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, login.range, vscode.CodeActionKind.QuickFix.value);
    const commands = actions.map((a) => a.command?.command).filter((c) => c?.startsWith('mcpAuth.'));
    assert.ok(commands.includes('mcpAuth.login'), commands.join(', '));
    assert.ok(!commands.includes('mcpAuth.handOffLogin'), commands.join(', '));
  });

  it('clients: with only codex, no Claude Code server is listed or warned about', async () => {
    const api = await extensionApi();
    await set('clients', ['codex']);
    const gone = await waitFor(async () => (clientNode(await api.treeSnapshot(), 'Claude Code') ? undefined : true), 10_000, 100);
    assert.ok(gone, 'Claude Code is still listed');
    assert.ok(clientNode(await api.treeSnapshot(), 'Codex'), 'Codex went too');
    await set('clients', undefined);
    const back = await waitFor(async () => clientNode(await api.treeSnapshot(), 'Claude Code'), 10_000, 100);
    assert.ok(back, 'Claude Code did not come back');
  });

  it('backups.keep: a repair prunes the store\'s snapshots to that many', async () => {
    const api = await extensionApi();
    const dir = path.join(sandboxHome(), '.mcp-auth-doctor', 'backups');
    const codexSnapshots = () => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /-codex-[0-9a-f]{8}-[0-9a-f]+\.json$/.test(f)) : []);
    const before = codexSnapshots().length;
    assert.ok(before >= 2, `only ${before} Codex snapshots so far (the lab's re-mint and the auto-refresh each took one)`);
    await set('backups.keep', 1);
    assert.ok(api.answerConfirmations);
    api.answerConfirmations(['Refresh']);
    const run = await vscode.commands.executeCommand<{ outcome?: { ok: boolean } }>('mcpAuth.refresh', { client: 'codex', scope: 'user', name: 'lab-soon' });
    assert.ok(run.outcome?.ok, JSON.stringify(run));
    rememberTokens();
    assert.equal(codexSnapshots().length, 1, `snapshots left: ${codexSnapshots().join(', ')}`);
  });
});
