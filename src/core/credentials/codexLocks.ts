// Codex's own cross-process locks on its MCP OAuth credentials, taken the way Codex takes them so
// our writes and Codex's exclude each other. Codex 0.169 and 0.171 (codex-rs/rmcp-client/src/oauth/):
// - store_lock.rs: `$CODEX_HOME/mcp-oauth-locks/file-store.lock`, one whole-file flock held across
//   every read-modify-write of `.credentials.json` (exclusive) and every read (shared); waits 60 s,
//   retrying every 50 ms (`File::try_lock` / `try_lock_shared`, i.e. flock(2) on Unix).
//   0.171 takes the same lock, `secrets-store.lock`, around the encrypted secrets file
//   `secrets/mcp_oauth.age` (OAuthStore::Secrets; the 0.171 binary has both names, and a real
//   0.171 login created both files); an older source (06566159) had no secrets lock; 0.169 not checked.
// - refresh_lock.rs: `$CODEX_HOME/mcp-oauth-locks/<sha256 hex of the storage key>.lock`, exclusive,
//   held from the authoritative re-read through the token request to the write of the rotated
//   tokens; `save_oauth_tokens` (login) and `delete_oauth_tokens` (logout) take it too, before the
//   store lock. We take both in that order, so we never deadlock with Codex.
// Windows: the same lock files, but Rust's `File::try_lock`/`try_lock_shared` are LockFileEx
// (LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY; std::fs::File docs), a byte-range lock no
// flock(2) helper takes and Node cannot call without a native module we do not ship. So on Windows
// we refuse every write (FlockUnavailableError: the reason and Codex's own commands as the way out)
// and read without the lock, as we do when the lock stays busy (untested on Windows).
// Node has no flock(2). A small child process takes the lock and holds it until we close its stdin
// (or we die: the pipe closes, the child exits, the kernel drops the lock): `flock(1)` from
// util-linux/busybox where present, else `perl` (always on macOS and Debian), whose flock() is the
// same flock(2). No native module, so nothing to build; every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pathForDir } from '../environment';
import { LockTimeoutError } from './atomicWrite';

export const CODEX_LOCK_DIR = 'mcp-oauth-locks';
export const CODEX_FILE_STORE_LOCK = 'file-store.lock';
export const CODEX_SECRETS_STORE_LOCK = 'secrets-store.lock';
/** Codex waits 60 s for either lock; we give up sooner and say so (nothing is written then). */
export const CODEX_LOCK_TIMEOUT_MS = 10_000;

export function codexFileStoreLockPath(codexHome: string): string {
  return pathForDir(codexHome).join(codexHome, CODEX_LOCK_DIR, CODEX_FILE_STORE_LOCK);
}

export function codexSecretsStoreLockPath(codexHome: string): string {
  return pathForDir(codexHome).join(codexHome, CODEX_LOCK_DIR, CODEX_SECRETS_STORE_LOCK);
}

/** refresh_lock.rs: `format!("{:x}.lock", Sha256(store_key))`, the full 64 hex digits. */
export function codexRefreshLockPath(codexHome: string, storageKey: string): string {
  return pathForDir(codexHome).join(codexHome, CODEX_LOCK_DIR, `${createHash('sha256').update(storageKey).digest('hex')}.lock`);
}

export type FlockMode = 'exclusive' | 'shared';
export type FlockTool = 'flock' | 'perl';

export interface FlockOptions {
  mode?: FlockMode;
  timeoutMs?: number;
  /** Which helper holds the lock; default: `flock` if on PATH, else `perl`. */
  tool?: FlockTool;
  /** PATH to look the helpers up in; default process.env.PATH. */
  pathEnv?: string;
  /** The OS whose lock semantics apply (the store's Environment); default process.platform. */
  platform?: NodeJS.Platform;
}

export interface HeldFlock {
  readonly file: string;
  readonly tool: FlockTool;
  /** Releases the lock and waits (briefly) for the holder to exit. Safe to call twice. */
  release(): Promise<void>;
}

/** Why Windows writes refuse; the hand-off names the Codex commands that take Codex's lock themselves. */
export const WINDOWS_LOCK_REASON =
  "Codex locks its credential files with Windows' LockFileEx, which this tool cannot take, so writing now could race a running Codex; run `codex mcp login <server>` (or `codex mcp logout <server>`) instead";

export class FlockUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`Cannot take Codex's credential lock: ${reason}. Nothing was written.`);
    this.name = 'FlockUnavailableError';
  }
}

/** Exit status our helpers use for "the lock stayed busy until the deadline". */
const BUSY_EXIT = 75;
const READY = 'locked';

// Holds the lock until stdin closes. Time::HiRes and Fcntl are core modules.
const PERL_HOLDER = `
use strict; use Fcntl qw(:flock O_RDWR O_CREAT); use Time::HiRes qw(time sleep);
my ($file, $mode, $secs) = @ARGV;
sysopen(my $fh, $file, O_RDWR | O_CREAT, 0600) or do { print STDERR "open $file: $!\\n"; exit 2 };
my $op = ($mode eq 'shared' ? LOCK_SH : LOCK_EX) | LOCK_NB;
my $deadline = time + $secs;
until (flock($fh, $op)) {
  if (!$!{EWOULDBLOCK} && !$!{EAGAIN}) { print STDERR "flock $file: $!\\n"; exit 2 }
  exit ${BUSY_EXIT} if time >= $deadline;
  sleep 0.05;
}
$| = 1; print "${READY}\\n";
1 while sysread(STDIN, my $buf, 4096);
`;

export function findFlockTool(pathEnv = process.env.PATH ?? ''): FlockTool | undefined {
  const dirs = pathEnv.split(path.delimiter).filter(Boolean);
  for (const tool of ['flock', 'perl'] as const) {
    if (dirs.some((d) => existsSync(path.join(d, tool)))) return tool;
  }
  return undefined;
}

/**
 * Takes a flock(2) lock on `file` (created if missing, with its directory) within `timeoutMs`,
 * or throws LockTimeoutError. Windows has no flock; Codex uses LockFileEx there, which we do not
 * take (FlockUnavailableError), so writes refuse rather than race.
 */
export async function acquireFlock(file: string, options: FlockOptions = {}): Promise<HeldFlock> {
  if ((options.platform ?? process.platform) === 'win32') throw new FlockUnavailableError(WINDOWS_LOCK_REASON);
  const mode = options.mode ?? 'exclusive';
  const timeoutMs = options.timeoutMs ?? CODEX_LOCK_TIMEOUT_MS;
  const tool = options.tool ?? findFlockTool(options.pathEnv);
  if (!tool) throw new FlockUnavailableError('neither flock(1) nor perl is on PATH');
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });

  const secs = (Math.max(0, timeoutMs) / 1000).toFixed(3);
  const child =
    tool === 'flock'
      ? spawn('flock', [mode === 'shared' ? '--shared' : '--exclusive', '--wait', secs, '--conflict-exit-code', String(BUSY_EXIT), file, 'sh', '-c', `echo ${READY}; exec cat >/dev/null`], {
          stdio: ['pipe', 'pipe', 'pipe'],
        })
      : spawn('perl', ['-e', PERL_HOLDER, file, mode, secs], { stdio: ['pipe', 'pipe', 'pipe'] });

  await waitUntilLocked(child, file, tool, timeoutMs);
  let released: Promise<void> | undefined;
  return {
    file,
    tool,
    release() {
      released ??= releaseHolder(child);
      return released;
    },
  };
}

function waitUntilLocked(child: ChildProcess, file: string, tool: FlockTool, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else resolve();
    };
    // The helper enforces the deadline itself; this guard only covers a helper that never starts.
    const guard = setTimeout(() => settle(new LockTimeoutError(file, file, timeoutMs)), timeoutMs + 5_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.includes(`${READY}\n`)) settle();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d.slice(0, 2000)));
    child.on('error', (err) => settle(new FlockUnavailableError(`${tool} could not be started (${err.message})`)));
    child.on('exit', (code, signal) => {
      if (code === BUSY_EXIT) settle(new LockTimeoutError(file, file, timeoutMs));
      else settle(new FlockUnavailableError(`${tool} exited (${signal ?? code}) before taking ${file}${stderr ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

function releaseHolder(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 2_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.stdin!.end();
  });
}

/** Runs `fn` while holding the flock on `file`; the lock is released however `fn` ends. */
export async function withFlock<T>(file: string, fn: () => Promise<T>, options: FlockOptions = {}): Promise<T> {
  const held = await acquireFlock(file, options);
  try {
    return await fn();
  } finally {
    await held.release();
  }
}
