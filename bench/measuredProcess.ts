// One command as a user runs it (a fresh process, stdin closed, output to pipes), with its wall
// time, peak resident memory and CPU time. Peak RSS: the kernel's high-water mark VmHWM in
// /proc/<pid>/status, polled every `pollMs` while the process lives (it is monotonic, so the last
// read before exit is the peak up to that moment; only growth in the final poll interval can be
// missed). Processes the command starts are followed the same way (/proc/<pid>/task/*/children).
// /usr/bin/time is not on every machine and Node does not expose a child's rusage, hence polling.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { processCpuMs } from './labs';

export interface MeasuredRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Spawn to exit, milliseconds. */
  wallMs: number;
  /** VmHWM of the process itself, KiB (0 where /proc is missing). */
  peakRssKiB: number;
  /**
   * Processes it started, seen while polling, by command name (/proc/<pid>/comm). Their own peaks
   * are not added: right after fork a child's VmHWM counts the pages it shares with its parent.
   */
  descendants: string[];
  /** User + system CPU of the process (and descendants seen) at the last poll, milliseconds. */
  cpuMs: number;
  /** Successful /proc reads of the main process. */
  polls: number;
  stdout: string;
  stderr: string;
}

export function runMeasured(command: string, args: string[], options: { cwd: string; env: Record<string, string>; timeoutMs: number; pollMs?: number }): Promise<MeasuredRun> {
  const pollMs = options.pollMs ?? 10;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // detached: its own process group, so a timeout kills everything it started.
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const pid = child.pid;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const peaks = new Map<number, number>();
    const cpu = new Map<number, number>();
    const commands = new Map<number, string>();
    let polls = 0;
    const poll = () => {
      if (!pid) return;
      for (const p of [pid, ...descendantsOf(pid)]) {
        const hwm = vmHwmKiB(p);
        if (hwm === undefined) continue;
        if (p === pid) polls++;
        else if (!commands.has(p)) commands.set(p, commandOf(p));
        peaks.set(p, Math.max(peaks.get(p) ?? 0, hwm));
        const used = processCpuMs(p);
        if (used > 0) cpu.set(p, used);
      }
    };
    poll();
    const poller = setInterval(poll, pollMs);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (pid) process.kill(-pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }, options.timeoutMs);
    let wallMs = 0;
    child.on('exit', () => {
      wallMs = performance.now() - started;
      clearInterval(poller);
    });
    child.on('error', (err) => {
      clearInterval(poller);
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        timedOut,
        wallMs: wallMs || performance.now() - started,
        peakRssKiB: (pid && peaks.get(pid)) || 0,
        descendants: [...commands.values()],
        cpuMs: [...cpu.values()].reduce((a, b) => a + b, 0),
        polls,
        stdout,
        stderr,
      });
    });
  });
}

function vmHwmKiB(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    let tasks: string[];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number)) {
          found.push(c);
          queue.push(c);
        }
      } catch {
        // the task ended
      }
    }
  }
  return found;
}
