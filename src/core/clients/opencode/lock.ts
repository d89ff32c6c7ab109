// opencode's own cross-process lock on mcp-auth.json, taken the way opencode 1.18.33 takes it
// (`EffectFlock` in its bundle; McpAuth wraps every read and every read-modify-write of the
// file in `withLock("mcp-auth:<absolute path of mcp-auth.json>")`):
// - the lock is the directory `<state>/locks/<sha1-hex(key)>.lock`, made with mkdir 0700 (an
//   atomic create), holding `heartbeat` (empty, its mtime touched every 20 s while held) and
//   `meta.json` `{"token","pid","hostname","createdAt"}`, both created exclusively (wx);
// - it is stale when the newest sign of life (heartbeat, else meta.json, else the directory)
//   is older than 60 s; a taker breaks a stale lock only while holding `<lock>.breaker` (mkdir
//   0700; a breaker itself older than 60 s is removed), re-checking staleness under it;
// - release re-reads meta.json, and removes the directory only when its token is the holder's.
// Checked with the real 1.18.33: while such a directory with a fresh heartbeat exists,
// `opencode mcp auth list` waits; once it is gone, it answers (test/interop/opencode.test.ts).
// opencode retries for up to 5 minutes; we give up sooner and say who holds it.
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as z from 'zod';

export const OPENCODE_LOCK_STALE_MS = 60_000;
const HEARTBEAT_MS = 20_000;

const LockMeta = z.object({ token: z.string(), pid: z.number(), hostname: z.string(), createdAt: z.string() });
export type OpencodeLockMeta = z.infer<typeof LockMeta>;

/** The lock directory opencode uses for `file` (mcp-auth.json's absolute path, as opencode joins it). */
export function opencodeLockDir(stateDir: string, file: string): string {
  const key = `mcp-auth:${file}`;
  return path.join(stateDir, 'locks', `${createHash('sha1').update(key).digest('hex')}.lock`);
}

export class OpencodeLockBusyError extends Error {
  constructor(
    readonly lockDir: string,
    readonly holder: OpencodeLockMeta | undefined,
  ) {
    super(
      `opencode's lock on its MCP logins is held${holder ? ` by pid ${holder.pid} on ${holder.hostname} since ${holder.createdAt}` : ''} (${lockDir}); nothing was written. ` +
        'An opencode that is reading or writing mcp-auth.json holds it for a moment; try again. A lock whose heartbeat is older than 60 s is stale and is broken on the next try.',
    );
    this.name = 'OpencodeLockBusyError';
  }
}

export async function readLockMeta(lockDir: string): Promise<OpencodeLockMeta | undefined> {
  try {
    const r = LockMeta.safeParse(JSON.parse(await fs.readFile(path.join(lockDir, 'meta.json'), 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

async function mtimeMs(p: string): Promise<number | undefined> {
  try {
    return (await fs.stat(p)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** opencode's staleness rule: the heartbeat's age, else meta.json's, else the directory's. */
export async function lockIsStale(lockDir: string, now = Date.now()): Promise<boolean> {
  for (const p of [path.join(lockDir, 'heartbeat'), path.join(lockDir, 'meta.json'), lockDir]) {
    const m = await mtimeMs(p);
    if (m !== undefined) return now - m > OPENCODE_LOCK_STALE_MS;
  }
  return false;
}

async function mkdirExclusive(dir: string): Promise<boolean> {
  try {
    await fs.mkdir(dir, { mode: 0o700 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function tryAcquire(lockDir: string): Promise<boolean> {
  if (!(await mkdirExclusive(lockDir))) {
    if (!(await lockIsStale(lockDir))) return false;
    const breaker = `${lockDir}.breaker`;
    if (!(await mkdirExclusive(breaker))) {
      const m = await mtimeMs(breaker);
      if (m !== undefined && Date.now() - m > OPENCODE_LOCK_STALE_MS) await fs.rm(breaker, { recursive: true, force: true });
      return false;
    }
    try {
      if (!(await lockIsStale(lockDir))) return false;
      await fs.rm(lockDir, { recursive: true, force: true });
      if (!(await mkdirExclusive(lockDir))) return false;
    } finally {
      await fs.rm(breaker, { recursive: true, force: true });
    }
  }
  return true;
}

export interface OpencodeLockOptions {
  /** How long to wait for a live holder (default 10 s). */
  timeoutMs?: number;
}

/** Runs `fn` holding opencode's lock on `file`; throws OpencodeLockBusyError when a live holder keeps it past the timeout. */
export async function withOpencodeLock<T>(stateDir: string, file: string, fn: () => Promise<T>, options: OpencodeLockOptions = {}): Promise<T> {
  const lockDir = opencodeLockDir(stateDir, file);
  await fs.mkdir(path.dirname(lockDir), { recursive: true });
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let wait = 100;
  while (!(await tryAcquire(lockDir))) {
    if (Date.now() >= deadline) throw new OpencodeLockBusyError(lockDir, await readLockMeta(lockDir));
    await new Promise((r) => setTimeout(r, Math.min(wait, Math.max(0, deadline - Date.now()))));
    wait = Math.min(2000, Math.round(wait * 1.7));
  }
  const token = randomUUID();
  const heartbeat = path.join(lockDir, 'heartbeat');
  let beat: NodeJS.Timeout | undefined;
  try {
    await fs.writeFile(heartbeat, '', { flag: 'wx' });
    const meta: OpencodeLockMeta = { token, pid: process.pid, hostname: os.hostname(), createdAt: new Date().toISOString() };
    await fs.writeFile(path.join(lockDir, 'meta.json'), JSON.stringify(meta), { flag: 'wx' });
    beat = setInterval(() => {
      const t = new Date();
      fs.utimes(heartbeat, t, t).catch(() => undefined);
    }, HEARTBEAT_MS);
    beat.unref();
    return await fn();
  } finally {
    if (beat) clearInterval(beat);
    // Only our own lock is removed: one broken as stale and retaken by another holds its token.
    const meta = await readLockMeta(lockDir);
    if (!meta || meta.token === token) await fs.rm(lockDir, { recursive: true, force: true });
  }
}
