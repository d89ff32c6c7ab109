// `restore --lost --yes` against the real Claude Code: two grants from real `claude mcp login`s at
// the lab, journaled by a first CLI run; then a writer zeroes every mcpOAuth entry's tokens (the
// #84274 / #93537 shape) and claude itself says both need authentication; `restore --lost --yes`
// puts back only those tokens, prints the undo command and finds both live at their server; and
// the real `claude mcp list` says ✔ Connected for both again. No token appears in the output.
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import { claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import type { Environment } from '../../src/core/environment';
import { startLab, type Lab } from '../lab';
import { CLAUDE_BIN, claudeLogin, claudeMcpAdd, claudeMcpList, makeSandboxHome, sandboxEnv, type ClaudeServerStatus } from '../support/realClients';

type RawBlob = { mcpOAuth: Record<string, Record<string, unknown>>; [k: string]: unknown };

(existsSync(CLAUDE_BIN) && process.platform !== 'darwin' ? describe : describe.skip)('restore --lost with the real Claude Code', function () {
  this.timeout(120_000);
  let lab: Lab;
  let home: string;
  let project: string;
  let file: string;

  const statusOf = async (): Promise<Record<string, ClaudeServerStatus>> => {
    const { servers } = await claudeMcpList(home, project, { timeoutMs: 30_000 });
    return Object.fromEntries(servers.map((s) => [s.name, s.status]));
  };
  const cli = async (args: string[]) => {
    let out = '';
    let err = '';
    const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: sandboxEnv(home), cwd: project };
    const code = await runCli(args, io);
    return { code, out, err };
  };
  const readBlob = async () => JSON.parse(await fs.readFile(file, 'utf8')) as RawBlob;

  before(async () => {
    lab = await startLab();
    home = await makeSandboxHome('mad-restore-lost-');
    project = path.join(home, 'work', 'proj');
    await fs.mkdir(project, { recursive: true });
    const e: Environment = { home, env: sandboxEnv(home), platform: process.platform, projectDirs: [project] };
    file = claudeCredentialsFile(e);
    await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'http', 'lab', lab.mcpUrl], { timeoutMs: 15_000 });
    await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'http', 'other', lab.mcpUrl, '--header', 'X-Lab-Team: other'], { timeoutMs: 15_000 });
    await claudeLogin(home, project, 'lab', lab, { timeoutMs: 20_000 });
    await claudeLogin(home, project, 'other', lab, { timeoutMs: 20_000 });
  });
  after(async () => {
    await lab?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('brings back exactly the zeroed grants, and claude connects with both again', async () => {
    const before = await readBlob();
    const keys = Object.keys(before.mcpOAuth).sort();
    assert.equal(keys.length, 2, 'claude stored two grants');
    assert.deepEqual(await statusOf(), { lab: 'connected', other: 'connected' });

    // The first run journals the good state (and finds nothing to restore).
    const first = await cli(['restore', '--lost', '--client', 'claude-code']);
    assert.equal(first.code, 0, first.out + first.err);
    assert.match(first.out, /No loss in the journal/);

    // The clobber: every entry kept, its tokens zeroed.
    const zeroed: RawBlob = { ...before, mcpOAuth: Object.fromEntries(keys.map((k) => [k, { ...before.mcpOAuth[k], accessToken: '', refreshToken: '', expiresAt: 0 }])) };
    await fs.writeFile(file, JSON.stringify(zeroed));
    const broken = await statusOf();
    assert.notEqual(broken.lab, 'connected', 'claude cannot use the zeroed lab grant');
    assert.notEqual(broken.other, 'connected', 'claude cannot use the zeroed other grant');

    const plan = await cli(['restore', '--lost']);
    assert.equal(plan.code, 1, plan.out + plan.err);
    assert.match(plan.out, /lost the tokens of 2 MCP logins/);
    assert.match(plan.out, /restore +lab /);
    assert.match(plan.out, /restore +other /);

    const done = await cli(['restore', '--lost', '--yes']);
    assert.equal(done.code, 0, done.out + done.err);
    assert.match(done.out, /Restored 2 lost entries/);
    assert.match(done.out, /Undo: mcp-auth-doctor restore \S+ --yes/);
    assert.equal((done.out.match(/live: the server accepted the access token/g) ?? []).length, 2, done.out);

    const now = await readBlob();
    for (const k of keys) {
      assert.equal(now.mcpOAuth[k]!.accessToken, before.mcpOAuth[k]!.accessToken, `${k}: access token back`);
      assert.equal(now.mcpOAuth[k]!.refreshToken, before.mcpOAuth[k]!.refreshToken, `${k}: refresh token back`);
    }
    const text = done.out + done.err + plan.out + plan.err;
    for (const k of keys) {
      for (const t of [before.mcpOAuth[k]!.accessToken, before.mcpOAuth[k]!.refreshToken]) if (typeof t === 'string' && t) assert.ok(!text.includes(t), 'a token was printed');
    }

    assert.deepEqual(await statusOf(), { lab: 'connected', other: 'connected' });
  });
});
