// After `restore --yes`, each restored entry is checked with its own server (the project's lab):
// a token the server still accepts is reported live, one it no longer accepts is reported dead and
// the command exits 1. Tokens are minted at test time and must never appear in the output.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import { storageKey } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab/index';

describe('restore checks what it restored with the server', function () {
  this.timeout(60_000);
  let lab: Lab;
  let home: string;
  before(async () => {
    lab = await startLab();
  });
  after(async () => lab?.close());
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-restore-'));
    fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: { lab: { type: 'http', url: lab.mcpUrl } } }));
    fs.mkdirSync(path.join(home, '.claude'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  const cli = async (args: string[]) => {
    let out = '';
    const io: CliIo = { stdout: (t) => (out += t), stderr: (t) => (out += t), env: { HOME: home }, cwd: home };
    const code = await runCli(args, io);
    return { code, out };
  };
  const writeGrant = (accessToken: string, refreshToken?: string) => {
    const key = storageKey('lab', 'http', lab.mcpUrl);
    const entry = { serverName: 'lab', serverUrl: lab.mcpUrl, clientId: 'c', accessToken, refreshToken, expiresAt: Date.now() + 3600_000, scope: 'mcp:tools' };
    fs.writeFileSync(path.join(home, '.claude', '.credentials.json'), JSON.stringify({ mcpOAuth: { [key]: entry } }), { mode: 0o600 });
    return key;
  };
  const backupId = async () => /^(\S+)\s+Claude Code/m.exec((await cli(['backup', '--client', 'claude-code'])).out)?.[1];

  it('reports a restored token the server accepts as live', async () => {
    const good = await lab.mintTokens();
    const key = writeGrant(good.accessToken, good.refreshToken);
    const id = await backupId();
    assert.ok(id, 'backup printed an id');
    writeGrant('overwritten-' + 'x'.repeat(20));
    const r = await cli(['restore', id!, '--entry', key, '--yes']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /live: the server accepted the access token/);
    assert.ok(!r.out.includes(good.accessToken) && !(good.refreshToken && r.out.includes(good.refreshToken)), 'a token leaked');
  });

  it('reports a restored token the server rejects as dead and exits 1', async () => {
    const other = await startLab(); // a token from another authorization server: this lab's MCP server refuses it
    try {
      const foreign = await other.mintTokens();
      const key = writeGrant(foreign.accessToken);
      const id = await backupId();
      const fresh = await lab.mintTokens();
      writeGrant(fresh.accessToken);
      const r = await cli(['restore', id!, '--entry', key, '--yes']);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /dead: the server rejected the access token \(401/);
      assert.match(r.out, /1 restored entry is dead/);
      assert.ok(!r.out.includes(foreign.accessToken), 'a token leaked');
    } finally {
      await other.close();
    }
  });
});
