// Child process for the concurrency and crash tests (bundled by esbuild at test time).
//   rmw <home> <backupDir> <index> <count>   read-modify-write entry w<index> <count> times through ClaudeCodeStore
//   claude <configDir> <count>               write the way Claude Code 2.1.197 does (proper-lockfile on .storage-write, temp + rename)
//   crash <home> <backupDir>                 write entry crash|… forever, reporting each commit; the parent SIGKILLs it
// Progress goes to stdout synchronously (`ok <n> <token>`), so a killed child has reported every commit but the last.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { ClaudeCodeStore, claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';

export const CRASH_KEY = 'crash|5555555555555555';
export const CC_KEY = 'cc|6666666666666666';
export const workerKey = (i: number) => `w${i}|${String(i).padStart(16, '0')}`;

function say(line: string): void {
  fs.writeSync(1, line + '\n');
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'rmw') {
    const [home, backupDir, index, count] = args as [string, string, string, string];
    const store = new ClaudeCodeStore(
      { home, env: { HOME: home }, platform: 'linux', projectDirs: [home] },
      { backups: new SnapshotStore(backupDir), lockTimeoutMs: 60_000 },
    );
    const i = Number(index);
    for (let n = 0; n < Number(count); n++) {
      const token = `w${i}-${n}-${randomBytes(8).toString('hex')}`;
      await store.write(workerKey(i), { serverName: `w${i}`, serverUrl: `http://127.0.0.1:${40000 + i}/mcp`, accessToken: token, expiresAt: n });
      say(`ok ${n} ${token}`);
    }
  } else if (mode === 'claude') {
    const [configDir, count] = args as [string, string];
    let lockRetries = 0;
    for (let n = 0; n < Number(count); n++) {
      // Claude Code gives up after its retry budget and the write fails; it tries again on its next write.
      for (;;) {
        try {
          await claudeLikeMutate(configDir, n);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
          lockRetries++;
        }
      }
      say(`ok ${n}`);
    }
    say(`lock-budget-exhausted ${lockRetries}`);
  } else if (mode === 'crash') {
    const [home, backupDir] = args as [string, string];
    const store = new ClaudeCodeStore(
      { home, env: { HOME: home }, platform: 'linux', projectDirs: [home] },
      { backups: new SnapshotStore(backupDir, 5), lockTimeoutMs: 5000 },
    );
    const file = claudeCredentialsFile({ home, env: { HOME: home }, platform: 'linux', projectDirs: [home] });
    let n = (JSON.parse(fs.readFileSync(file, 'utf8')).mcpOAuth[CRASH_KEY].expiresAt as number) + 1;
    say('ready');
    for (;;) {
      await store.write(CRASH_KEY, { accessToken: `crash-${n}-${randomBytes(8).toString('hex')}`, expiresAt: n });
      say(`ok ${n}`);
      n++;
    }
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

/** Claude Code 2.1.197's secure-storage mutate, as read from its binary (see claudeCodeStore.ts). */
async function claudeLikeMutate(configDir: string, n: number): Promise<void> {
  const release = await lockfile.lock(path.join(configDir, '.storage-write'), {
    realpath: false,
    retries: { retries: 10, minTimeout: 100, maxTimeout: 1000 },
    stale: 15000,
  });
  try {
    const file = path.join(configDir, '.credentials.json');
    // Claude Code reads a broken store as {} and would clobber it; here it must never be broken.
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    data.claudeAiOauth = { ...data.claudeAiOauth, counter: n };
    data.mcpOAuth = { ...data.mcpOAuth, [CC_KEY]: { ...data.mcpOAuth?.[CC_KEY], serverName: 'cc', accessToken: `cc-${n}`, expiresAt: n } };
    const temp = `${file}.tmp.${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(temp, JSON.stringify(data), { encoding: 'utf8', mode: 0o600 });
    fs.renameSync(temp, file);
    fs.chmodSync(file, 0o600);
  } finally {
    await release();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      say(`error ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
