// Child processes for interop tests: every run has a deadline, after which the child's whole
// process group (the client and anything it started: script's pty child, codex's native binary)
// is killed; output is collected for assertions and failure messages.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { plainTerminalText } from '../../src/core/terminalText';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  ms: number;
  /** The deadline passed and the process group was killed. */
  timedOut: boolean;
}

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Written to stdin, which is then closed (default: stdin closed at once). */
  input?: string;
  /** Keep stdin open for `running.child.stdin` writes. */
  keepStdin?: boolean;
}

export interface Running {
  child: ChildProcessWithoutNullStreams;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr, or rejects when the process ends first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Kills the process group now (idempotent). */
  kill(signal?: NodeJS.Signals): void;
  done: Promise<RunResult>;
}

export function startBounded(command: string, args: string[], options: RunOptions): Running {
  const started = Date.now();
  // detached: the child leads its own process group, so a timeout can kill all of it by -pid.
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exited = false;
  let timedOut = false;
  const watchers = new Set<() => void>();
  // Output is kept as plain text: clients print URLs as OSC 8 hyperlinks (claude 2.1.332), which
  // would glue a URL to its own label. A sequence split across chunks is stripped once complete.
  let rawStdout = '';
  let rawStderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    rawStdout += d;
    stdout = plainTerminalText(rawStdout);
    for (const w of watchers) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    rawStderr += d;
    stderr = plainTerminalText(rawStderr);
    for (const w of watchers) w();
  });
  child.stdin.on('error', () => undefined);
  if (options.input !== undefined) child.stdin.end(options.input);
  else if (!options.keepStdin) child.stdin.end();

  const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // the group is gone already
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, options.timeoutMs);

  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      for (const w of watchers) w();
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });

  const waitFor = (pattern: RegExp, timeoutMs = options.timeoutMs) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const deadline = setTimeout(() => finish(new Error(`no ${pattern} in the output within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        const m = pattern.exec(stdout + stderr);
        if (m) finish(undefined, m);
        else if (exited) finish(new Error(`${command} exited before printing ${pattern}`));
      };
      const finish = (err?: Error, m?: RegExpExecArray) => {
        clearTimeout(deadline);
        watchers.delete(check);
        if (m) resolve(m);
        else reject(new Error(`${err?.message ?? 'failed'}\n--- stdout ---\n${redactUrls(stdout)}\n--- stderr ---\n${redactUrls(stderr)}`));
      };
      watchers.add(check);
      check();
    });

  return { child, stdout: () => stdout, stderr: () => stderr, waitFor, kill, done };
}

export function runBounded(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  return startBounded(command, args, options).done;
}

/** A one-paragraph account of a run for assertion messages, authorization codes and tokens in URLs masked. */
export function describeRun(what: string, r: RunResult): string {
  return `${what}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''}${r.timedOut ? ' after its deadline' : ''} in ${r.ms} ms\n--- stdout ---\n${redactUrls(r.stdout)}\n--- stderr ---\n${redactUrls(r.stderr)}`;
}

/** Masks `code`, `access_token` and `refresh_token` query values (a pasted redirect URL carries a code). */
export function redactUrls(text: string): string {
  return text.replace(/([?&#](?:code|access_token|refresh_token)=)[^&\s]+/g, '$1<redacted>');
}
