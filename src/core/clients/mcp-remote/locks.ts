// What says a live mcp-remote is working on a server's state, release by release:
// - 0.15.1 refresh lease `<hash>_refresh_in_progress.json` `{pid, nonce, at}`, taken with an
//   exclusive create before a refresh and released after the write (acquireConfigLease /
//   readConfigLease / releaseConfigLease, chunk-KJCT2FXL.js:31869-31910; REFRESH_LEASE_MS 30 s,
//   34297). Live while `now - at < 30 s` and the pid exists (`kill(pid, 0)`, EPERM counts as alive).
//   A stale one is cleared by the next taker.
// - 0.15.1 sign-in: no lock file; the instance signing in holds its callback port and answers
//   `GET /.mcp-remote/id` with `{mcpRemote: true, serverUrlHash}` (33461-33463, portHeldBySiblingFor 35511-35522).
// - 0.1.x lockfile `<hash>_lock.json` `{pid, port, timestamp}`, valid while younger than 30 min,
//   its pid runs and `GET /wait-for-auth?poll=false` on its port answers 200/202
//   (geelen/mcp-remote src/lib/coordination.ts isLockValid; skipped on Windows).
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as z from 'zod';

export const REFRESH_LEASE_MS = 30_000;
export const LEGACY_LOCK_MAX_AGE_MS = 30 * 60_000;

export const LeaseSchema = z.object({ pid: z.number().int().positive(), nonce: z.string().min(1), at: z.number() });
export type Lease = z.infer<typeof LeaseSchema>;
export const LegacyLockSchema = z.object({ pid: z.number(), port: z.number(), timestamp: z.number() });
export type LegacyLock = z.infer<typeof LegacyLockSchema>;

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
  try {
    const parsed = schema.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function readLease(file: string): Promise<Lease | undefined> {
  return readJson(file, LeaseSchema);
}

export async function readLegacyLock(file: string): Promise<LegacyLock | undefined> {
  return readJson(file, LegacyLockSchema);
}

/** mcp-remote's own liveness rule for the refresh lease. */
export function leaseLive(lease: Lease, now = Date.now()): boolean {
  return now - lease.at < REFRESH_LEASE_MS && pidAlive(lease.pid);
}

/** The file-based half of 0.1.x isLockValid (the port answer is checked by the caller when it matters). */
export function legacyLockLive(lock: LegacyLock, now = Date.now()): boolean {
  return now - lock.timestamp <= LEGACY_LOCK_MAX_AGE_MS && pidAlive(lock.pid);
}

/** Something accepts connections on 127.0.0.1:port (a connect, never a bind: nothing is taken from the owner). */
export function portListening(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (v: boolean) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The mcp-remote signing in on `port`, when one answers there: the hash it signs in for. */
export async function mcpRemoteOnPort(port: number, timeoutMs = 1000): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/.mcp-remote/id`, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    // Whatever listens there is not ours to trust: read at most 4 KiB of it.
    const text = await cappedText(res, 4096);
    if (text === undefined) return undefined;
    const body = z.object({ mcpRemote: z.literal(true), serverUrlHash: z.string() }).safeParse(JSON.parse(text));
    return body.success ? body.data.serverUrlHash : undefined;
  } catch {
    return undefined;
  }
}

async function cappedText(res: Response, max: number): Promise<string | undefined> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class McpRemoteBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpRemoteBusyError';
  }
}

/**
 * Takes the refresh lease exactly as mcp-remote does (exclusive create of `{pid, nonce, at}`,
 * one retry after clearing a stale one), so a running mcp-remote that wants to refresh the same
 * grant waits for us, re-reads the tokens we wrote and uses them (awaitRefreshBySibling,
 * chunk-KJCT2FXL.js:35011-35021). Undefined when a live instance holds it.
 */
export async function acquireLease(file: string): Promise<string | undefined> {
  const nonce = randomUUID();
  for (const attempt of [0, 1]) {
    try {
      await fs.writeFile(file, JSON.stringify({ pid: process.pid, nonce, at: Date.now() }, null, 2), { encoding: 'utf8', mode: 0o600, flag: 'wx' });
      return (await readLease(file))?.nonce === nonce ? nonce : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
        throw err;
      }
      const held = await readLease(file);
      if (held && leaseLive(held)) return undefined;
      await fs.unlink(file).catch(() => undefined);
    }
  }
  return undefined;
}

export async function releaseLease(file: string, nonce: string): Promise<void> {
  if ((await readLease(file))?.nonce !== nonce) return;
  await fs.unlink(file).catch(() => undefined);
}

/** Takes the lease, waiting up to `waitMs` for a live holder (mcp-remote polls every 200 ms), and runs `fn` holding it. */
export async function withLease<T>(file: string, fn: () => Promise<T>, waitMs = 5_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  // A first login for a server when mcp-remote never ran here: its folder does not exist yet
  // (mcp-remote creates it with mkdir -p, chunk-KJCT2FXL.js:31770; ours is private, it holds tokens).
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  let nonce = await acquireLease(file);
  while (nonce === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    nonce = await acquireLease(file);
  }
  if (nonce === undefined) {
    const held = await readLease(file);
    throw new McpRemoteBusyError(`mcp-remote${held ? ` (pid ${held.pid})` : ''} is refreshing this server's token right now (it holds ${file}). Nothing was written; try again in a moment.`);
  }
  try {
    return await fn();
  } finally {
    await releaseLease(file, nonce);
  }
}
