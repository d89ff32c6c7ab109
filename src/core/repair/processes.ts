// Which Claude Code and Codex processes are running now. A running client holds its MCP tokens in
// memory: when we refresh a grant whose refresh token the server rotates, that client's next
// refresh presents the old token and fails (failure-modes D3), so a repair warns first and offers
// the client's own command instead. Read-only: nothing here signals or stops a process (D4).
//
// What the real clients look like in a process table (checked on Linux with the packages in
// node_modules): Claude Code 2.1.197's npm package and native installer run a Bun-compiled binary
// (`bin/claude.exe`, `~/.local/share/claude/versions/<v>`; argv[0] `claude`, comm `claude`);
// older npm versions and the `cli-wrapper.cjs` fallback run under node
// (`node …/@anthropic-ai/claude-code/cli.js`). Codex 0.169's npm launcher is
// `node …/.bin/codex <args>` (…/@openai/codex/bin/codex.js), which spawns the native
// `…/vendor/<triple>/bin/codex <args>`; the VS Code extension and the desktop app spawn a native
// `codex app-server` directly.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ClientId, McpServer } from '../model';
import type { ClientProcess } from './types';
import { CLIENTS, clientDefinition } from '../clients/registry';
import type { ClientCommand } from '../clients/types';

export interface RunningClients {
  processes: ClientProcess[];
  /** False where this platform's process table cannot be read (Windows, or the read failed): "unknown", not "none". */
  known: boolean;
  /** Why `known` is false. */
  reason?: string;
}

export interface ProcessScanOptions {
  platform?: NodeJS.Platform;
  /** The process whose own tree is left out (default: this process). */
  selfPid?: number;
  /** Linux: where procfs is mounted (tests). */
  procRoot?: string;
}

/** One row of a process table. */
export interface ProcessRow {
  pid: number;
  ppid: number;
  argv: string[];
  /** The executable's path, where known (Linux /proc/<pid>/exe; macOS ps comm). */
  exe?: string;
}

/**
 * Running Claude Code and Codex processes (or only `client`'s), leaving out this process, its
 * ancestors (e.g. the Claude Code session that ran this CLI, or the editor) and its descendants
 * (clients this process started, e.g. to check a repair). A launcher and the client it spawned
 * count once (the outermost: the command the user started).
 */
export async function runningClients(client?: ClientId, options: ProcessScanOptions = {}): Promise<RunningClients> {
  const platform = options.platform ?? process.platform;
  let rows: ProcessRow[];
  try {
    if (platform === 'linux') rows = await linuxProcesses(options.procRoot ?? '/proc');
    else if (platform === 'darwin') rows = await psProcesses();
    else return { processes: [], known: false, reason: `running clients cannot be listed on ${platform} yet` };
  } catch (err) {
    return { processes: [], known: false, reason: `the process table could not be read (${err instanceof Error ? err.message : String(err)})` };
  }
  return { processes: clientProcessesIn(rows, options.selfPid ?? process.pid, client), known: true };
}

/** The client processes among `rows`, without `self`'s ancestors and descendants. */
export function clientProcessesIn(rows: ProcessRow[], self: number, client?: ClientId): ClientProcess[] {
  const byPid = new Map(rows.map((r) => [r.pid, r]));
  const excluded = new Set<number>([self]);
  for (let p = byPid.get(self)?.ppid, hops = 0; p !== undefined && p > 0 && hops < 1000; p = byPid.get(p)?.ppid, hops++) excluded.add(p);
  const descendsFromSelf = (r: ProcessRow): boolean => {
    for (let p: number | undefined = r.ppid, hops = 0; p !== undefined && p > 0 && hops < 1000; p = byPid.get(p)?.ppid, hops++) {
      if (p === self) return true;
    }
    return false;
  };
  const matched = new Map<number, { row: ProcessRow; client: ClientId }>();
  for (const r of rows) {
    if (excluded.has(r.pid) || descendsFromSelf(r)) continue;
    const c = clientOfCommand(r.argv, r.exe);
    if (c && (!client || c === client)) matched.set(r.pid, { row: r, client: c });
  }
  const out: ClientProcess[] = [];
  for (const { row, client: c } of matched.values()) {
    // The native codex under its node launcher is the same client the user started.
    if (matched.get(row.ppid)?.client === c) continue;
    out.push({ client: c, pid: row.pid, command: describeCommand(row.argv) });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

const INTERPRETERS = new Set(['node', 'nodejs', 'bun', 'node.exe', 'bun.exe']);
/** node options that take the next argument as their value. */
const NODE_OPTIONS_WITH_VALUE = new Set(['-e', '--eval', '-p', '--print', '-r', '--require', '--import', '--loader', '--experimental-loader', '--input-type', '-C', '--conditions', '--env-file', '--title']);

/** Which client a command line is, if any: by the executable, or by the script a JS runtime runs. */
export function clientOfCommand(argv: string[], exe?: string): ClientId | undefined {
  const [first] = argv;
  if (first === undefined) return undefined;
  const byBinary = clientOfExecutable(first) ?? (exe ? clientOfExecutable(exe) : undefined);
  if (byBinary) return byBinary;
  const runtime = baseName(first);
  if (!INTERPRETERS.has(runtime) && !(exe && INTERPRETERS.has(baseName(exe)))) return undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (NODE_OPTIONS_WITH_VALUE.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return clientOfScript(arg);
  }
  return undefined;
}

function clientOfExecutable(file: string): ClientId | undefined {
  const name = baseName(file);
  return CLIENTS.find((c) => c.process && (c.process.executables.includes(name) || c.process.executablePaths?.some((r) => r.test(file))))?.id;
}

function clientOfScript(script: string): ClientId | undefined {
  const p = script.replace(/\\/g, '/');
  const byScript = CLIENTS.find((c) => c.process?.scripts?.some((r) => r.test(p)));
  if (byScript) return byScript.id;
  // npm's bin links as node runs them: `node …/node_modules/.bin/codex app-server`.
  const name = baseName(p);
  return CLIENTS.find((c) => c.process?.executables.includes(name))?.id;
}

function baseName(file: string): string {
  return path.posix.basename(file.replace(/\\/g, '/'));
}

const SECRET_NAME = /(token|secret|password|passwd|api[-_]?key|auth|credential|bearer)/i;

/**
 * The command for people: the executable's name and the first few arguments, paths shortened to
 * their last two parts, and anything that may be a secret replaced (a value after a flag named
 * like one, `name=value` pairs named like one, long opaque strings).
 */
export function describeCommand(argv: string[]): string {
  const shown: string[] = [];
  for (let i = 0; i < argv.length && shown.length < 8; i++) {
    const arg = argv[i]!;
    const prev = argv[i - 1];
    if (i === 0) shown.push(baseName(arg));
    else if (prev?.startsWith('-') && SECRET_NAME.test(prev) && !arg.startsWith('-')) shown.push('[redacted]');
    else if (/=/.test(arg) && SECRET_NAME.test(arg.slice(0, arg.indexOf('=')))) shown.push(`${arg.slice(0, arg.indexOf('='))}=[redacted]`);
    else if (arg.length >= 24 && /^[A-Za-z0-9._~+/=-]+$/.test(arg) && !arg.includes('/')) shown.push('[redacted]');
    else if (arg.includes('/') && arg.split('/').length > 3) shown.push(`…/${arg.split('/').slice(-2).join('/')}`);
    else shown.push(arg.length > 60 ? `${arg.slice(0, 60)}…` : arg);
  }
  if (argv.length > 8) shown.push('…');
  return shown.join(' ');
}

async function linuxProcesses(procRoot: string): Promise<ProcessRow[]> {
  const names = await fs.readdir(procRoot);
  const rows = await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n): Promise<ProcessRow | undefined> => {
        const dir = path.join(procRoot, n);
        try {
          const [cmdline, stat, exe] = await Promise.all([
            fs.readFile(path.join(dir, 'cmdline'), 'utf8'),
            fs.readFile(path.join(dir, 'stat'), 'utf8'),
            // Another user's process: no exe link for us; argv is still readable.
            fs.readlink(path.join(dir, 'exe')).catch(() => undefined),
          ]);
          // stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses.
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          const argv = cmdline.split('\0');
          if (argv.at(-1) === '') argv.pop();
          // Kernel threads and zombies have no command line.
          if (argv.length === 0) return undefined;
          return { pid: Number(n), ppid: Number.isFinite(ppid) ? ppid : 0, argv, ...(exe ? { exe: exe.replace(/ \(deleted\)$/, '') } : {}) };
        } catch {
          // Gone between readdir and read.
          return undefined;
        }
      }),
  );
  return rows.filter((r): r is ProcessRow => r !== undefined);
}

/**
 * macOS: `ps` gives the executable path (`comm`, may hold spaces) and the command line as one
 * string (`args`); arguments are split on spaces, which is enough to find the script a runtime runs.
 */
async function psProcesses(): Promise<ProcessRow[]> {
  const [comm, args] = await Promise.all([ps(['-axww', '-o', 'pid=,ppid=,comm=']), ps(['-axww', '-o', 'pid=,args='])]);
  const argsOf = new Map<number, string>();
  for (const line of args.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m) argsOf.set(Number(m[1]), m[2]!);
  }
  const rows: ProcessRow[] = [];
  for (const line of comm.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const exe = m[3]!.trim();
    const full = argsOf.get(pid) ?? exe;
    // The executable path may contain spaces: take it whole when the command line starts with it.
    const rest = full.startsWith(exe) ? full.slice(exe.length) : full.slice(full.indexOf(' ') < 0 ? full.length : full.indexOf(' '));
    const argv = [full.startsWith(exe) ? exe : full.split(' ')[0]!, ...rest.split(' ').filter(Boolean)];
    rows.push({ pid, ppid: Number(m[2]), argv, exe });
  }
  return rows;
}

function ps(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/bin/ps', args, { timeout: 5000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

export type { ClientCommand } from '../clients/types';

/**
 * The client's own login command for `server` (what to run instead of our refresh while the
 * client is running), or undefined when the client has none for it: Claude Code's `mcp login`
 * reads only its own config files, not a `--mcp-config` file (2.1.197: `claude mcp list
 * --mcp-config f` is "unknown option", and `claude --mcp-config f mcp login` takes `mcp` as a
 * file). Codex needs `--profile` for an entry from a profile's config (`codex --profile work mcp
 * list`, checked with 0.169).
 */
export function clientLoginCommand(server: Pick<McpServer, 'client' | 'name' | 'scope' | 'profile'>): ClientCommand | undefined {
  return clientMcpCommand(server, 'login');
}

export function clientLogoutCommand(server: Pick<McpServer, 'client' | 'name' | 'scope' | 'profile'>): ClientCommand | undefined {
  return clientMcpCommand(server, 'logout');
}

function clientMcpCommand(server: Pick<McpServer, 'client' | 'name' | 'scope' | 'profile'>, verb: 'login' | 'logout'): ClientCommand | undefined {
  return clientDefinition(server.client).handOff(server, verb);
}

/** `claude mcp login lab` as the user would type it. */
export function commandText(c: ClientCommand): string {
  return [c.command, ...c.args].join(' ');
}
