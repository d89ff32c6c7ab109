// Stress tests with real processes: many writers through ClaudeCodeStore plus one writing the way
// Claude Code does, and writers killed with SIGKILL at random points. What a user would check:
// no grant lost, the login intact, the file always parses, nothing left lying around.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { listTempFiles } from '../../src/core/credentials/atomicWrite';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { claudeCredentialsFile, claudeStorageLockTarget } from '../../src/core/credentials/claudeCodeStore';
import { CC_KEY, CRASH_KEY, workerKey } from './credentialsWorker';
import { REPO, mint, runNode, sandboxEnv, tempDir } from './credentialsHelpers';

const WRITERS = Number(process.env.CRED_STRESS_WRITERS ?? 8);
const WRITES = Number(process.env.CRED_STRESS_WRITES ?? 200);
const CRASH_TRIALS = Number(process.env.CRED_CRASH_TRIALS ?? 200);

describe('credential store under concurrency and crashes (real processes)', function () {
  this.timeout(240_000);
  let work: string;
  let worker: string;

  before(async () => {
    work = await tempDir('mad-stress-');
    worker = path.join(work, 'worker.js');
    // Bundled once: a tsx start per child would dominate the crash trials.
    await build({ entryPoints: [path.join(REPO, 'test/unit/credentialsWorker.ts')], bundle: true, platform: 'node', format: 'cjs', mainFields: ['module', 'main'], outfile: worker, logLevel: 'silent' });
  });
  after(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  function seed() {
    const blob = {
      claudeAiOauth: { accessToken: mint('acct'), refreshToken: mint('acct-r'), expiresAt: Date.now() + 3600_000, subscriptionType: 'max' },
      mcpOAuth: { 'keep|7777777777777777': { serverName: 'keep', serverUrl: 'https://keep.example/mcp', accessToken: mint('at'), expiresAt: 1_900_000_000_000 } },
      futureTopLevel: { x: [1, 2, 3] },
    };
    return blob;
  }

  it(`${WRITERS} writers x ${WRITES} read-modify-writes alongside a Claude Code-style writer lose nothing`, async () => {
    const home = path.join(work, 'concurrency');
    const e = sandboxEnv(home);
    const file = claudeCredentialsFile(e);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const initial = seed();
    await fs.writeFile(file, JSON.stringify(initial), { mode: 0o600 });
    const backupDir = path.join(home, 'backups');

    // Watch the file the whole time, as Claude Code sessions reading it would.
    let reads = 0;
    let unparsable = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        try {
          JSON.parse(readFileSync(file, 'utf8'));
        } catch {
          unparsable++;
        }
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();

    const started = Date.now();
    const children = [
      ...Array.from({ length: WRITERS }, (_, i) => runNode([worker, 'rmw', home, backupDir, String(i), String(WRITES)])),
      runNode([worker, 'claude', path.dirname(file), String(WRITES)]),
    ];
    const results = await Promise.all(children);
    const elapsed = Date.now() - started;
    watching = false;
    await watcher;

    results.forEach((r, i) => assert.equal(r.code, 0, `child ${i} failed: ${r.stdout.split('\n').filter((l) => l.startsWith('error')).join('; ')} ${r.stderr}`));
    const final = JSON.parse(await fs.readFile(file, 'utf8'));
    for (let i = 0; i < WRITERS; i++) {
      const lastToken = results[i]!.stdout.trim().split('\n').at(-1)!.split(' ')[2];
      assert.equal(final.mcpOAuth[workerKey(i)]?.expiresAt, WRITES - 1, `writer ${i}'s last write was lost`);
      assert.equal(final.mcpOAuth[workerKey(i)]?.accessToken, lastToken);
    }
    assert.equal(final.mcpOAuth[CC_KEY]?.expiresAt, WRITES - 1, "the Claude Code-style writer's last write was lost");
    assert.equal(final.claudeAiOauth.counter, WRITES - 1);
    assert.deepEqual({ ...final.claudeAiOauth, counter: undefined }, { ...initial.claudeAiOauth, counter: undefined });
    assert.deepEqual(final.mcpOAuth['keep|7777777777777777'], initial.mcpOAuth['keep|7777777777777777']);
    assert.deepEqual(final.futureTopLevel, initial.futureTopLevel);
    assert.equal(unparsable, 0, `${unparsable} of ${reads} reads saw an unparsable file`);
    assert.deepEqual(
      (await fs.readdir(path.dirname(file))).sort(),
      ['.credentials.json'],
      'no temp files (ours or Claude Code-style) and no lock left',
    );
    const budgetExhausted = Number(/lock-budget-exhausted (\d+)/.exec(results[WRITERS]!.stdout)?.[1]);
    console.log(
      `      ${WRITERS * WRITES + WRITES} writes in ${(elapsed / 1000).toFixed(1)} s; ${reads} concurrent reads, all parsed; ` +
        `Claude Code-style writer ran out of its 7.5 s lock budget ${budgetExhausted} time(s) and retried`,
    );
    assert.equal((await new SnapshotStore(backupDir).list()).snapshots.length, 20, 'snapshots pruned to 20');
  });

  it(`a writer killed with SIGKILL at random points (${CRASH_TRIALS} trials) leaves the old or the new entry, never a broken file`, async () => {
    const home = path.join(work, 'crash');
    const e = sandboxEnv(home);
    const file = claudeCredentialsFile(e);
    const lockDir = `${claudeStorageLockTarget(e)}.lock`;
    await fs.mkdir(path.dirname(file), { recursive: true });
    const initial = seed();
    (initial.mcpOAuth as Record<string, unknown>)[CRASH_KEY] = { serverName: 'crash', accessToken: '', expiresAt: 0 };
    await fs.writeFile(file, JSON.stringify(initial), { mode: 0o600 });
    const backupDir = path.join(home, 'backups');

    let committedValue = 0;
    let killedMidWrite = 0;
    let tempLeft = 0;
    let lockLeft = 0;
    const started = Date.now();
    for (let trial = 0; trial < CRASH_TRIALS; trial++) {
      const child = spawn(process.execPath, [worker, 'crash', home, backupDir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.resume();
      const exited = new Promise<void>((r) => child.on('close', () => r()));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => out.includes('ready') && resolve());
        child.on('close', () => reject(new Error(`worker exited early: ${out}`)));
      });
      // Each write takes a few ms: a uniform delay over ~10 writes lands the kill in every phase.
      await new Promise((r) => setTimeout(r, Math.random() * 30));
      child.kill('SIGKILL');
      await exited;

      const oks = [...out.matchAll(/^ok (\d+)$/gm)].map((m) => Number(m[1]));
      const lastReported = oks.length ? oks.at(-1)! : committedValue;
      let value: number;
      try {
        const data = JSON.parse(await fs.readFile(file, 'utf8'));
        value = data.mcpOAuth[CRASH_KEY].expiresAt;
        assert.deepEqual(data.claudeAiOauth, initial.claudeAiOauth, `trial ${trial}: login changed`);
        assert.deepEqual(data.mcpOAuth['keep|7777777777777777'], initial.mcpOAuth['keep|7777777777777777'], `trial ${trial}: other entry changed`);
        assert.deepEqual(data.futureTopLevel, initial.futureTopLevel);
      } catch (err) {
        throw new Error(`trial ${trial}: the store is broken after a kill: ${String(err)}`, { cause: err });
      }
      // The old entry (last reported commit) or the new one (committed, killed before reporting).
      assert.ok(value === lastReported || value === lastReported + 1, `trial ${trial}: entry holds ${value}, last commit reported ${lastReported}`);
      if (value === lastReported + 1) killedMidWrite++;
      committedValue = value;

      if ((await listTempFiles(file)).length > 0) tempLeft++;
      // A killed holder's lock goes stale only after Claude Code's 15 s; stand in for that wait.
      if (await fs.stat(lockDir).then(() => true, () => false)) {
        lockLeft++;
        await fs.rm(lockDir, { recursive: true, force: true });
      }
    }
    const elapsed = Date.now() - started;

    // The next write through our writer removes what killed writers left behind.
    const { code, stdout } = await runNode([worker, 'rmw', home, backupDir, '0', '1']);
    assert.equal(code, 0, stdout);
    assert.deepEqual(await listTempFiles(file), [], 'temp files swept by the next write');
    assert.deepEqual(
      (await fs.readdir(backupDir)).filter((n) => n.endsWith('.tmp')),
      [],
      'snapshot temp files swept by the next snapshot',
    );
    console.log(
      `      ${CRASH_TRIALS} kills in ${(elapsed / 1000).toFixed(1)} s: file parsed every time; ${killedMidWrite} killed after the rename but before reporting; ` +
        `${tempLeft} left a temp file and ${lockLeft} a lock, all cleaned up by the next writer`,
    );
  });
});
