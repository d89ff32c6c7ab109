// Lock interop with the real Claude Code binary (node_modules/.bin/claude, 2.1.197), offline:
// `claude mcp logout` rewrites the credential store through its secure-storage mutate, so it must
// wait while we hold the lock, and it must read what our writer wrote.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { withFileLock } from '../../src/core/credentials/atomicWrite';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { CLAUDE_STORAGE_LOCK_STALE_MS, ClaudeCodeStore, claudeCredentialsFile, claudeStorageLockTarget } from '../../src/core/credentials/claudeCodeStore';
import { storageKey } from '../../src/core/storageKey';
import { REPO, mint, sandboxEnv, tempDir, type ChildResult } from './credentialsHelpers';

const CLAUDE = path.join(REPO, 'node_modules', '.bin', 'claude');
// A closed loopback port: logout's token revocation fails at once instead of reaching anything.
const URL = 'http://127.0.0.1:9/mcp';
const KEY = storageKey('lab', 'http', URL);

function claude(home: string, args: string[]): Promise<ChildResult & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(CLAUDE, args, {
      cwd: home,
      env: { PATH: process.env.PATH, HOME: home, DISABLE_TELEMETRY: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

(existsSync(CLAUDE) ? describe : describe.skip)('Claude Code credential store with the real claude binary', function () {
  this.timeout(60_000);
  let home: string;
  let file: string;

  beforeEach(async () => {
    home = await tempDir();
    await fs.writeFile(path.join(home, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true, mcpServers: { lab: { type: 'http', url: URL } } }));
    file = claudeCredentialsFile(sandboxEnv(home));
    await fs.mkdir(path.dirname(file), { recursive: true });
    // No claudeAiOauth: with a (fake) login present, claude spends ~17 s on account calls that
    // cannot succeed offline. An unknown top-level key stands in for "everything else in the blob".
    const blob = {
      mcpOAuth: { [KEY]: { serverName: 'lab', serverUrl: URL, accessToken: mint('at'), refreshToken: mint('rt'), expiresAt: Date.now() + 3600_000, scope: 'mcp:tools' } },
      futureTopLevel: { keep: true },
    };
    await fs.writeFile(file, JSON.stringify(blob), { mode: 0o600 });
  });
  afterEach(async () => {
    await fs.rm(home, { recursive: true, force: true });
  });

  it('claude mcp logout waits while we hold Claude Code\'s write lock, then writes', async () => {
    const e = sandboxEnv(home);
    const holdMs = 3000;
    let logout: Promise<ChildResult & { ms: number }> | undefined;
    await withFileLock(
      claudeStorageLockTarget(e),
      async () => {
        logout = claude(home, ['mcp', 'logout', 'lab']);
        await new Promise((r) => setTimeout(r, holdMs));
        // Claude Code must not have written while we held the lock.
        assert.ok(JSON.parse(await fs.readFile(file, 'utf8')).mcpOAuth[KEY], 'claude wrote while our lock was held');
      },
      { staleMs: CLAUDE_STORAGE_LOCK_STALE_MS },
    );
    const r = await logout!;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.ms >= holdMs, `logout took ${r.ms} ms: it should have waited for our release`);
    const after = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.equal(after.mcpOAuth[KEY], undefined, 'the entry is gone once the lock was free');
    assert.deepEqual(after.futureTopLevel, { keep: true });
  });

  it('claude reads the store our writer wrote (pretty-printed, with a new entry) and keeps what we kept', async () => {
    const e = sandboxEnv(home);
    const store = new ClaudeCodeStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) });
    // Re-lay the file out pretty, then add an entry through our writer.
    await fs.writeFile(file, JSON.stringify(JSON.parse(await fs.readFile(file, 'utf8')), null, 2) + '\n');
    const other = storageKey('other', 'http', 'http://127.0.0.1:9/other');
    await store.write(other, { serverName: 'other', serverUrl: 'http://127.0.0.1:9/other', accessToken: mint('at') });
    const before = JSON.parse(await fs.readFile(file, 'utf8'));
    const r = await claude(home, ['mcp', 'logout', 'lab']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Signed out of "lab"/);
    const after = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.equal(after.mcpOAuth[KEY], undefined);
    assert.deepEqual(after.mcpOAuth[other], before.mcpOAuth[other]);
    assert.deepEqual(after.futureTopLevel, before.futureTopLevel);
    assert.deepEqual((await store.list()).entries.map((x) => x.key), [other]);
  });
});
