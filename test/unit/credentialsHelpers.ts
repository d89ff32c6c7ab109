// Shared by the credential-store tests: sandbox homes, minted secrets, child processes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Environment } from '../../src/core/environment';

export const REPO = path.resolve(__dirname, '../..');

export async function tempDir(prefix = 'mad-cred-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export function sandboxEnv(home: string, env: Record<string, string | undefined> = {}, platform: NodeJS.Platform = 'linux'): Environment {
  return { home, env: { HOME: home, ...env }, platform, projectDirs: [home] };
}

/** A random secret minted at test time (never a committed token-like literal). */
export function mint(label = 't'): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

export async function mode(file: string): Promise<number> {
  return (await fs.stat(file)).mode & 0o777;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` from the repo root and collects its output. */
export function runNode(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Holds a lock exactly as Claude Code 2.1.197 takes its secure-storage write lock
 * (proper-lockfile, realpath false, stale 15 s) for `holdMs`, printing `locked` once it has it.
 */
export function holdClaudeLock(lockTarget: string, holdMs: number): { ready: Promise<void>; done: Promise<ChildResult> } {
  const script = `
    const lockfile = require('proper-lockfile');
    lockfile.lock(process.argv[1], { realpath: false, stale: 15000, retries: { retries: 10, minTimeout: 100, maxTimeout: 1000 } })
      .then(async (release) => { process.stdout.write('locked\\n'); await new Promise((r) => setTimeout(r, Number(process.argv[2]))); await release(); })
      .catch((e) => { process.stderr.write(String(e)); process.exit(3); });`;
  const child = spawn(process.execPath, ['-e', script, lockTarget, String(holdMs)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (stdout.includes('locked')) onReady();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<ChildResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { ready, done };
}

/** The pid of a process that has exited (for "left behind by a dead writer" fixtures). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => child.on('close', r));
  return child.pid!;
}
