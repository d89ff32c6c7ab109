// One external program (security, secret-tool) run without a shell: input on stdin, never in
// argv where other users' `ps` could read it; killed when it does not finish in time (a locked
// keychain or keyring can wait forever on a prompt).
import { spawn } from 'node:child_process';

export interface CommandResult {
  /** Exit code; null when killed (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export type CommandRunner = (file: string, args: string[], options: { input?: string; timeoutMs: number; env?: Record<string, string | undefined> }) => Promise<CommandResult>;

/** Runs a program without a shell, feeding `input` on stdin, killing it after the timeout. */
export const runCommand: CommandRunner = (file, args, { input, timeoutMs, env }) =>
  new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true, ...(env ? { env } : {}) });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr + err.message, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
