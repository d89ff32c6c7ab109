// Status of N servers, us against the peer, in the same run on the same servers and HOME:
//   us:   `node <cli.js> status --json` (a fresh process per run, as a user runs it)
//   peer: `claude mcp list` (Claude Code from node_modules, pinned in package.json), which connects to every
//         server with its stored token: it runs with pipes and stdin closed (no pty or TTY
//         needed, unlike `claude mcp login`), and opens an MCP session per server (three POSTs
//         and one GET to the endpoint), MCP_SERVER_CONNECTION_BATCH_SIZE (default 3) at a time.
// Runs alternate us / peer within each round, so drift on the machine hits both alike.
import { z } from 'zod';
import { CLAUDE_BIN, parseClaudeMcpList, sandboxEnv } from '../test/support/realClients';
import { registrationsBetween, requestsBetween, type Labs, type RequestCounts, type Sandbox } from './labs';
import { runMeasured, type MeasuredRun } from './measuredProcess';

export type Tool = 'us' | 'peer';

export interface ToolRun {
  tool: Tool;
  wallMs: number;
  peakRssKiB: number;
  /** Commands of processes it started (their memory is not counted). */
  descendants: string[];
  cpuMs: number;
  /** CPU the lab processes spent serving this run. */
  labCpuMs: number;
  requests: RequestCounts;
  registrations: number;
  /** Servers the tool reported usable (us: probe state valid; peer: ✔ Connected). */
  healthy: number;
  /** Our in-process probe time (`probed.ms` of status --json). */
  probeMs?: number;
  exitCode: number | null;
}

const StatusJson = z.looseObject({
  servers: z.array(z.looseObject({ state: z.string().nullable() })),
  probed: z.looseObject({ ms: z.number() }).nullable(),
});

export interface ToolCommand {
  command: string;
  args: string[];
}

export function ourCommand(cliJs: string): ToolCommand {
  return { command: process.execPath, args: [cliJs, 'status', '--json'] };
}

export const peerCommand: ToolCommand = { command: CLAUDE_BIN, args: ['mcp', 'list'] };

/** The floor under every run: start the program, print, exit (`--help` / `--version`, no config read, no network). */
export function startupCommand(tool: Tool, cliJs: string): ToolCommand {
  return tool === 'us' ? { command: process.execPath, args: [cliJs, '--help'] } : { command: CLAUDE_BIN, args: ['--version'] };
}

/** Node itself, doing nothing: the floor under our floor (issue 16's "Node's bare start"). */
export const nodeBareCommand: ToolCommand = { command: process.execPath, args: ['-e', '0'] };

export type StartupTool = Tool | 'node';

export interface StartupRun {
  tool: StartupTool;
  wallMs: number;
  peakRssKiB: number;
  cpuMs: number;
}

export async function runStartup(tool: StartupTool, cmd: ToolCommand, sandbox: Sandbox, timeoutMs: number): Promise<StartupRun> {
  const run = await runMeasured(cmd.command, cmd.args, { cwd: sandbox.home, env: sandboxEnv(sandbox.home), timeoutMs });
  if (run.code !== 0 || run.timedOut) throw new Error(`${tool}: ${cmd.args.join(' ')} exited ${run.code}${run.timedOut ? ' (timed out)' : ''}: ${run.stderr.slice(0, 300)}`);
  return { tool, wallMs: run.wallMs, peakRssKiB: run.peakRssKiB, cpuMs: run.cpuMs };
}

/** One run of one tool against the sandbox, with the labs' counters read before and after. */
export async function runTool(tool: Tool, cmd: ToolCommand, sandbox: Sandbox, labs: Labs, timeoutMs: number): Promise<ToolRun> {
  const before = await labs.stats();
  const labCpuBefore = labs.cpuMs();
  // The clients' sandbox environment (test/support/realClients.ts): nothing of the developer's
  // HOME, updates and telemetry off, non-loopback traffic to a dead proxy. Both get the same one.
  const run = await runMeasured(cmd.command, cmd.args, { cwd: sandbox.home, env: sandboxEnv(sandbox.home), timeoutMs });
  const labCpuMs = labs.cpuMs() - labCpuBefore;
  const after = await labs.stats();
  const result: ToolRun = {
    tool,
    wallMs: run.wallMs,
    peakRssKiB: run.peakRssKiB,
    descendants: run.descendants,
    cpuMs: run.cpuMs,
    labCpuMs,
    requests: requestsBetween(before, after),
    registrations: registrationsBetween(before, after),
    healthy: 0,
    exitCode: run.code,
  };
  if (run.timedOut) throw new Error(`${tool}: ${cmd.args.join(' ')} did not finish within ${timeoutMs / 1000} s`);
  if (tool === 'us') {
    const parsed = parseOurs(run);
    result.healthy = parsed.servers.filter((s) => s.state === 'valid').length;
    if (parsed.probed) result.probeMs = parsed.probed.ms;
  } else {
    if (run.code !== 0) throw new Error(`peer: claude mcp list exited ${run.code}: ${run.stderr.slice(0, 500)}`);
    result.healthy = parseClaudeMcpList(run.stdout).filter((s) => s.status === 'connected').length;
  }
  return result;
}

function parseOurs(run: MeasuredRun): z.infer<typeof StatusJson> {
  try {
    return StatusJson.parse(JSON.parse(run.stdout));
  } catch (err) {
    throw new Error(`us: status --json (exit ${run.code}) printed no status document: ${err instanceof Error ? err.message : String(err)}\n${run.stderr.slice(0, 500)}`, { cause: err });
  }
}
