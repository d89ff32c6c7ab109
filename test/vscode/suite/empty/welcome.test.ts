// A first-time user: no Claude Code or Codex config in HOME. The view explains what it reads
// instead of showing an empty tree, and picks up the first server as soon as a client writes it.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extensionApi, sandboxHome, waitFor } from '../helpers';
import { askUi, uiDriverAvailable, type UiView } from '../uiBridge';

describe('an empty HOME', () => {
  it('has nothing to scan and an empty tree', async () => {
    assert.equal(fs.existsSync(path.join(sandboxHome(), '.claude.json')), false, 'the runner did not give an empty HOME');
    const api = await extensionApi();
    const scan = await api.rescan();
    assert.deepEqual(scan.servers, []);
    assert.deepEqual(scan.findings, []);
    assert.deepEqual(await api.treeSnapshot(), []);
  });

  it('shows the welcome text "No MCP servers found" in the view', async function () {
    if (!uiDriverAvailable()) this.skip();
    const view = await askUi<UiView>('showView');
    const welcome = view.welcome ?? (await waitFor(async () => (await askUi<UiView>('readView')).welcome ?? undefined, 10_000, 200))?.value;
    assert.ok(welcome, 'the view shows no welcome text');
    assert.match(welcome, /No MCP servers found/);
    assert.deepEqual(view.rows, []);
    await askUi('screenshot', { name: 'welcome' });
  });

  it('replaces the welcome text with the first server once ~/.claude.json appears', async function () {
    const file = path.join(sandboxHome(), '.claude.json');
    fs.writeFileSync(file, JSON.stringify({ mcpServers: { 'first-server': { type: 'http', url: 'http://127.0.0.1:7407/mcp' } } }, null, 2), { mode: 0o600 });
    try {
      const api = await extensionApi();
      const appeared = await waitFor(async () => ((await api.treeSnapshot())[0]?.children[0]?.label === 'first-server' ? true : undefined), 2000);
      assert.ok(appeared, 'first-server is not in the tree 2 s after ~/.claude.json appeared');
      if (!uiDriverAvailable()) return;
      const rendered = await waitFor(async () => {
        const view = await askUi<UiView>('readView');
        return view.rows.some((r) => r.label === 'first-server') && view.welcome === null ? view : undefined;
      }, 10_000, 200);
      assert.ok(rendered, 'the view still shows the welcome text, or not the server');
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
