// Safe replacement of a credential store file, and the owning client's own cross-process lock.
// A store holds every grant of a client (and, for Claude Code, the user's own login): one torn or
// lost write logs the user out of everything (anthropics/claude-code#45551, #76561), so every write
// goes temp file → fsync → rename → fsync(dir), under the lock the client itself takes.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';

/** Marks our temp files, so a later writer can tell a crashed writer's leftovers from anyone else's. */
const TEMP_MARK = '.mcp-auth-doctor-';

export class DanglingSymlinkError extends Error {
  constructor(
    readonly file: string,
    readonly linkTarget: string,
  ) {
    super(`${file} is a symbolic link to ${linkTarget}, which does not exist`);
    this.name = 'DanglingSymlinkError';
  }
}

export class LockTimeoutError extends Error {
  constructor(
    readonly file: string,
    readonly lockfilePath: string,
    readonly timeoutMs: number,
  ) {
    super(
      `Could not lock ${file} within ${(timeoutMs / 1000).toFixed(1)} s: another process holds ${lockfilePath}. ` +
        'Nothing was written; try again when the client has finished writing.',
    );
    this.name = 'LockTimeoutError';
  }
}

export class LockCompromisedError extends Error {
  constructor(
    readonly lockfilePath: string,
    cause: Error,
  ) {
    super(`The lock ${lockfilePath} was lost while writing (${cause.message}); nothing was written.`);
    this.name = 'LockCompromisedError';
  }
}

/**
 * The file a write must replace: the target itself, or, for a symlink, the file it resolves to,
 * so the link survives (claude-code#76561: symlinked credential files were replaced by copies).
 */
export async function resolveWriteTarget(target: string): Promise<string> {
  let isLink: boolean;
  try {
    isLink = (await fs.lstat(target)).isSymbolicLink();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return path.resolve(target);
    throw err;
  }
  if (!isLink) return path.resolve(target);
  try {
    return await fs.realpath(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DanglingSymlinkError(target, await fs.readlink(target));
    throw err;
  }
}

export interface AtomicWriteOptions {
  /** Mode for a file that does not exist yet; an existing file keeps its own. Default 0600. */
  mode?: number;
  /** Runs after the temp file is durable and just before the rename; throwing aborts the write. */
  beforeCommit?: () => void | Promise<void>;
}

/**
 * Replaces `target` with `data` so that a reader (or a crash) sees either the old or the new
 * content, never a mix: temp file in the same directory, fsync, rename, fsync of the directory.
 * The file's mode is kept; a symlink is kept and its target replaced. On failure the temp file is
 * removed; a writer killed outright leaves one behind, which the next write removes.
 */
export async function atomicWriteFile(target: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const real = await resolveWriteTarget(target);
  const dir = path.dirname(real);
  await sweepOrphanTempFiles(real);

  let mode = options.mode ?? 0o600;
  let owner: { uid: number; gid: number } | undefined;
  try {
    const st = await fs.stat(real);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }

  const temp = path.join(dir, `${tempPrefix(real)}${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  let renamed = false;
  try {
    // Created private, widened to the final mode only after the content is in place.
    handle = await fs.open(temp, 'wx', 0o600);
    await handle.writeFile(data);
    await handle.chmod(mode);
    // Root (e.g. a sudo'd CLI) must not hand a user's credentials file over to root.
    if (owner && process.getuid?.() === 0 && (owner.uid !== 0 || owner.gid !== 0)) await handle.chown(owner.uid, owner.gid);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await options.beforeCommit?.();
    await renameReplacing(temp, real);
    renamed = true;
    await fsyncDirectory(dir);
  } finally {
    if (handle) await handle.close().catch(() => undefined);
    if (!renamed) await fs.unlink(temp).catch(() => undefined);
  }
}

function tempPrefix(realTarget: string): string {
  return `.${path.basename(realTarget)}${TEMP_MARK}`;
}

/** Temp files our writers left next to `target` (for tests and diagnostics). */
export async function listTempFiles(target: string): Promise<string[]> {
  const real = await resolveWriteTarget(target);
  const prefix = tempPrefix(real);
  let names: string[];
  try {
    names = await fs.readdir(path.dirname(real));
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix) && n.endsWith('.tmp')).map((n) => path.join(path.dirname(real), n));
}

/** Removes temp files of our writers that died (SIGKILL, power loss) before they could clean up. */
export async function sweepOrphanTempFiles(realTarget: string): Promise<number> {
  const prefix = tempPrefix(realTarget);
  let removed = 0;
  for (const file of await listTempFiles(realTarget)) {
    const pid = Number(path.basename(file).slice(prefix.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || isProcessAlive(pid)) continue;
    await fs.unlink(file).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/** Same as sweepOrphanTempFiles, for every target in a folder (a folder of write-once files). */
export async function sweepOrphanTempFilesIn(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = /^\..+\.mcp-auth-doctor-(\d+)-[0-9a-f]+\.tmp$/.exec(name);
    if (!m || Number(m[1]) === process.pid || isProcessAlive(Number(m[1]))) continue;
    await fs.unlink(path.join(dir, name)).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function renameReplacing(from: string, to: string): Promise<void> {
  // Windows refuses to replace a file another process has open for a moment (AV scanners, the
  // client reading it); retry briefly rather than fall back to a truncating write.
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rename(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (process.platform !== 'win32' || attempt >= 10 || !['EPERM', 'EBUSY', 'EACCES'].includes(code ?? '')) throw err;
      await sleep(50 * (attempt + 1));
    }
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Windows cannot open or fsync a directory; the rename itself is durable enough there.
    const code = (err as NodeJS.ErrnoException).code;
    if (!['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'EBADF'].includes(code ?? '')) throw err;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export interface FileLockOptions {
  /** How long to wait for the lock before giving up with LockTimeoutError. Default 10 s. */
  timeoutMs?: number;
  /** The lock directory; default `<file>.lock` (proper-lockfile's own default). */
  lockfilePath?: string;
  /** A lock whose mtime is older than this is taken over; must match the client's. Default 10 s. */
  staleMs?: number;
  /** Resolve symlinks in `file` before deriving the lock path (proper-lockfile `realpath`). Default false. */
  realpath?: boolean;
}

/** A lock we hold; `assertHeld` throws once proper-lockfile reports the lock compromised. */
export interface HeldLock {
  readonly lockfilePath: string;
  assertHeld(): void;
}

/**
 * Runs `fn` while holding the proper-lockfile lock on `file` (a `mkdir`-ed `<file>.lock`
 * directory whose mtime the holder refreshes), so our writes and the client's exclude each other
 * when both use the same lock path and stale time. Polls instead of proper-lockfile's own retry
 * schedule so the wait is bounded by `timeoutMs` exactly.
 */
export async function withFileLock<T>(file: string, fn: (lock: HeldLock) => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const realpath = options.realpath ?? false;
  const lockfilePath = options.lockfilePath ?? `${path.resolve(file)}.lock`;
  const deadline = Date.now() + timeoutMs;
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  for (let attempt = 0; ; attempt++) {
    try {
      release = await lockfile.lock(file, {
        lockfilePath,
        realpath,
        stale: options.staleMs ?? 10_000,
        retries: 0,
        onCompromised: (err) => {
          compromised = err;
        },
      });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      const left = deadline - Date.now();
      if (left <= 0) throw new LockTimeoutError(file, lockfilePath, timeoutMs);
      // Jittered, growing pauses: many waiters must not retry in lockstep.
      await sleep(Math.min(left, Math.min(200, 10 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random())));
    }
  }
  const held: HeldLock = {
    lockfilePath,
    assertHeld() {
      if (compromised) throw new LockCompromisedError(lockfilePath, compromised);
    },
  };
  try {
    return await fn(held);
  } finally {
    await release().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
