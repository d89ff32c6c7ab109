// Running-client detection: command lines as the real clients start (Claude Code's Bun binary and
// its older node entry point, Codex's node launcher and native binary), what is not a client,
// secrets kept out of the shown command, this process's own tree left out, and (Linux) a live
// process table with dummy processes started the way the npm packages start.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clientOfCommand, clientProcessesIn, describeCommand, runningClients, type ProcessRow } from '../../src/core/repair/processes';

describe('running clients', () => {
  describe('which command lines are clients', () => {
    const cases: [string[], string | undefined, string | undefined][] = [
      // Claude Code 2.1.197 from npm: bin/claude.exe is the Bun binary; argv[0] is what the shell ran.
      [['claude'], '/usr/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe', 'claude-code'],
      [['/home/u/.npm-global/bin/claude', 'mcp', 'list'], undefined, 'claude-code'],
      // The native installer: ~/.local/bin/claude → ~/.local/share/claude/versions/2.1.197.
      [['claude', '--resume'], '/home/u/.local/share/claude/versions/2.1.197', 'claude-code'],
      [['/home/u/.local/share/claude/versions/2.1.197'], undefined, 'claude-code'],
      // Older npm versions: a node script, started through the bin link's shebang.
      [['node', '/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js'], '/usr/bin/node', 'claude-code'],
      [['/usr/bin/node', '--max-old-space-size=8192', '/opt/n/lib/node_modules/@anthropic-ai/claude-code/cli.js', '-p', 'hi'], undefined, 'claude-code'],
      [['node', 'C:\\Users\\u\\AppData\\Roaming\\npm\\node_modules\\@anthropic-ai\\claude-code\\cli-wrapper.cjs'], undefined, 'claude-code'],
      // Codex 0.169: the node launcher, and the native binary it spawns.
      [['node', '/work/node_modules/.bin/codex', 'app-server'], '/usr/bin/node', 'codex'],
      [['node', '/usr/lib/node_modules/@openai/codex/bin/codex.js'], '/usr/bin/node', 'codex'],
      [['/work/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex', 'app-server'], undefined, 'codex'],
      // The VS Code extension's bundled binary.
      [['/home/u/.vscode/extensions/openai.chatgpt-26.5/bin/linux-x86_64/codex', 'app-server', '--analytics-default-enabled'], undefined, 'codex'],
      // Not clients: the name as an argument, another script, a wrapper around a client.
      [['vim', 'claude.md'], '/usr/bin/vim', undefined],
      [['grep', '-r', 'codex', '.'], '/usr/bin/grep', undefined],
      [['timeout', '20', '/x/node_modules/.bin/claude', 'mcp', 'serve'], '/usr/bin/timeout', undefined],
      [['node', '/home/u/src/mcp-auth-doctor/dist/cli.js', 'status'], '/usr/bin/node', undefined],
      [['node', '-e', 'require("codex")'], '/usr/bin/node', undefined],
      [['/usr/bin/python3', '/home/u/claude-tools/run.py'], undefined, undefined],
    ];
    for (const [argv, exe, expected] of cases) {
      it(`${argv.join(' ')}${exe ? ` (exe ${path.basename(exe)})` : ''} → ${expected ?? 'not a client'}`, () => {
        assert.equal(clientOfCommand(argv, exe), expected);
      });
    }
  });

  it('shows the command without anything that may be a secret', () => {
    const token = randomBytes(24).toString('base64url');
    const shown = describeCommand(['/usr/local/bin/codex', '--api-key', token, `OPENAI_API_KEY=${token}`, 'exec', token, '/very/long/path/to/project']);
    assert.ok(!shown.includes(token), 'no token in the shown command');
    assert.equal(shown, 'codex --api-key [redacted] OPENAI_API_KEY=[redacted] exec [redacted] …/to/project');
  });

  it("leaves out this process, its ancestors and descendants, and counts a launcher with its client once", () => {
    const row = (pid: number, ppid: number, ...argv: string[]): ProcessRow => ({ pid, ppid, argv });
    const rows = [
      row(1, 0, '/sbin/init'),
      row(10, 1, 'claude'), // the Claude Code session that runs us (an ancestor)
      row(11, 10, 'bash', '-c', 'mcp-auth-doctor refresh lab'),
      row(12, 11, 'node', '/x/mcp-auth-doctor/dist/cli.js', 'refresh', 'lab'), // self
      row(13, 12, 'claude', 'mcp', 'list'), // started by us to check a repair
      row(20, 1, 'claude'), // another session: counts
      row(30, 1, 'node', '/x/node_modules/.bin/codex', 'app-server'),
      row(31, 30, '/x/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex', 'app-server'),
    ];
    assert.deepEqual(
      clientProcessesIn(rows, 12).map((p) => [p.client, p.pid]),
      [
        ['claude-code', 20],
        ['codex', 30],
      ],
    );
    assert.deepEqual(
      clientProcessesIn(rows, 12, 'codex').map((p) => p.pid),
      [30],
    );
  });

  it('says "unknown", not "none", where the process table cannot be read', async () => {
    const r = await runningClients(undefined, { platform: 'win32' });
    assert.equal(r.known, false);
    assert.match(r.reason ?? '', /win32/);
  });

  (process.platform === 'linux' ? describe : describe.skip)('live process table (Linux /proc)', function () {
    this.timeout(15_000);
    let dir: string;
    const started: number[] = [];

    before(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-procs-'));
      // A node script where the npm package keeps Claude Code's entry point, and a binary named codex.
      const cli = path.join(dir, 'lib', 'node_modules', '@anthropic-ai', 'claude-code', 'cli.js');
      await fs.mkdir(path.dirname(cli), { recursive: true });
      await fs.writeFile(cli, 'setTimeout(() => {}, 20000);\n');
      await fs.mkdir(path.join(dir, 'bin'));
      await fs.copyFile('/bin/sleep', path.join(dir, 'bin', 'codex'));
      await fs.chmod(path.join(dir, 'bin', 'codex'), 0o755);
    });

    after(async () => {
      for (const pid of started) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await fs.rm(dir, { recursive: true, force: true });
    });

    /** Starts a process outside this process's tree (its shell parent exits at once), as a user's own session would be. */
    function startOutside(command: string): number {
      const pid = Number(execFileSync('sh', ['-c', `${command} >/dev/null 2>&1 </dev/null & echo $!`], { encoding: 'utf8' }).trim());
      started.push(pid);
      return pid;
    }

    async function waitForExec(pid: number, marker: string): Promise<void> {
      for (let i = 0; i < 50; i++) {
        const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmdline.includes(marker)) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`process ${pid} never ran ${marker}`);
    }

    it('finds a Claude Code started as the npm package starts it, and a codex binary, outside our tree', async () => {
      const cli = path.join(dir, 'lib', 'node_modules', '@anthropic-ai', 'claude-code', 'cli.js');
      const claudePid = startOutside(`${JSON.stringify(process.execPath)} ${JSON.stringify(cli)}`);
      const codexPid = startOutside(`${JSON.stringify(path.join(dir, 'bin', 'codex'))} 20`);
      await waitForExec(claudePid, 'claude-code/cli.js');
      await waitForExec(codexPid, 'codex');

      const all = await runningClients();
      assert.equal(all.known, true);
      const claude = all.processes.find((p) => p.pid === claudePid);
      assert.equal(claude?.client, 'claude-code', `pid ${claudePid} not found among ${JSON.stringify(all.processes)}`);
      assert.equal(claude.command, 'node …/claude-code/cli.js');
      assert.equal(all.processes.find((p) => p.pid === codexPid)?.client, 'codex');

      const onlyCodex = await runningClients('codex');
      assert.ok(onlyCodex.processes.some((p) => p.pid === codexPid));
      assert.ok(!onlyCodex.processes.some((p) => p.pid === claudePid), 'filtered by client');

      process.kill(claudePid, 'SIGKILL');
      for (let i = 0; i < 50 && (await fs.stat(`/proc/${claudePid}`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 20));
      const after = await runningClients('claude-code');
      assert.ok(!after.processes.some((p) => p.pid === claudePid), 'a stopped client is no longer listed');
    });

    it('leaves out a client this process started itself', async () => {
      const cli = path.join(dir, 'lib', 'node_modules', '@anthropic-ai', 'claude-code', 'cli.js');
      const child = spawn(process.execPath, [cli], { stdio: 'ignore' });
      started.push(child.pid!);
      await waitForExec(child.pid!, 'claude-code/cli.js');
      const r = await runningClients('claude-code');
      assert.ok(!r.processes.some((p) => p.pid === child.pid), 'our own child is not a running client');
      // Seen from no process's tree in particular (pid 0), the same process is a running client.
      const fromNowhere = await runningClients('claude-code', { selfPid: 0 });
      assert.ok(fromNowhere.processes.some((p) => p.pid === child.pid));
      child.kill('SIGKILL');
    });
  });
});
