// `npm run bench`: how `status` scales with the number of servers, against the peer, on this
// machine, plus the extension's activation time and the shipped sizes. Prints a table and writes
// bench/results.json; docs/performance.md explains the numbers and their limits. Nothing here is
// asserted: timings belong to the machine (see the developers' guide).
//
//   npm run bench -- [--servers 1,10,50,200,1000] [--peer-max 200] [--latency 50] [--labs 5] [--rounds 7] [--large-rounds 5]
//                    [--probe-rounds 7] [--ratio-servers 50] [--activation-rounds 5]
//                    [--no-peer] [--no-activation] [--no-package] [--quick] [--out bench/results.json]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { measureActivation, type ActivationResult } from './activation';
import { prepareArtifacts, type Artifacts } from './artifacts';
import { bundleCosts, type BundleCosts, type EntryCost } from './bundles';
import { startLabs, writeSandbox, type Labs, type RequestCounts, type Sandbox } from './labs';
import { nodeBareCommand, ourCommand, peerCommand, runStartup, runTool, startupCommand, type StartupRun, type StartupTool, type Tool, type ToolRun } from './peer';
import { measureProbeRatio, median, type ProbeRatio } from './probe';

const REPO = path.resolve(__dirname, '..');

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '1,10,50,200,1000' },
    'peer-max': { type: 'string', default: '200' },
    latency: { type: 'string', default: '50' },
    labs: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '7' },
    'large-rounds': { type: 'string', default: '5' },
    'probe-rounds': { type: 'string', default: '7' },
    'ratio-servers': { type: 'string', default: '50' },
    'activation-rounds': { type: 'string', default: '5' },
    'no-peer': { type: 'boolean', default: false },
    'no-activation': { type: 'boolean', default: false },
    'no-package': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join('bench', 'results.json') },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(`npm run bench -- [options]   (docs/performance.md)
  --servers 1,10,50,200,1000  server counts for the status comparison
  --peer-max 200          the peer runs up to this N (it takes about a minute a run at 1000)
  --latency 50            ms each lab waits before answering any request
  --labs 5                lab processes the servers are spread over
  --rounds 7              measured runs per tool and server count (after one warm-up)
  --large-rounds 5        rounds from 200 servers on (the peer takes seconds there)
  --probe-rounds 7        rounds of the in-process probe ratio
  --ratio-servers 50      N of the in-process ratio (against 1 server)
  --activation-rounds 5   fresh VS Code servers to read the activation time from
  --no-peer               leave out claude mcp list
  --no-activation         leave out VS Code
  --no-package            measure the existing mcp-auth-doctor.vsix instead of npm run package
  --quick                 N=1,10, two rounds, one activation: a smoke test of the bench
  --out bench/results.json`);
  process.exit(0);
}

const quick = values.quick;
const positive = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} takes a whole number, not "${v}"`);
  return n;
};
const params = {
  peerMax: positive('peer-max', values['peer-max']),
  servers: (quick ? '1,10' : values.servers).split(',').map((s) => positive('servers', s.trim())).filter((n) => n > 0),
  latencyMs: positive('latency', values.latency),
  labs: Math.max(1, positive('labs', values.labs)),
  rounds: quick ? 2 : Math.max(1, positive('rounds', values.rounds)),
  /** Servers from which a count is "large" and gets fewer rounds (the peer takes ~13 s at 200 here). */
  largeFrom: 200,
  /** From here on, three rounds: N=1000 is about completing and how time and memory grow. */
  hugeFrom: 1000,
  largeRounds: quick ? 1 : Math.max(1, positive('large-rounds', values['large-rounds'])),
  probeRounds: quick ? 2 : Math.max(1, positive('probe-rounds', values['probe-rounds'])),
  ratioServers: positive('ratio-servers', values['ratio-servers']),
  activationRounds: values['no-activation'] ? 0 : quick ? 1 : positive('activation-rounds', values['activation-rounds']),
  peer: !values['no-peer'],
  package: !values['no-package'],
  warmupRuns: 1,
  timeoutMs: 120_000,
};
const roundsFor = (n: number) => (n >= params.hugeFrom ? Math.min(params.rounds, params.largeRounds, 3) : n >= params.largeFrom ? Math.min(params.rounds, params.largeRounds) : params.rounds);
const peerAt = (n: number) => params.peer && n <= params.peerMax;

interface Side {
  runs: ToolRun[];
  /** The warm-up run (first of its N, before any measured one): cold caches, first-run writes. */
  cold?: ToolRun;
  wallMs: number;
  peakRssKiB: number;
  cpuMs: number;
  labCpuMs: number;
  probeMs?: number;
  requests: number;
  requestBreakdown: RequestCounts;
  /** Registrations over every run, warm-up included: must stay 0 for us. */
  registrations: number;
  healthy: number;
}

interface StatusRow {
  servers: number;
  rounds: number;
  us: Side;
  peer?: Side;
  ratios?: { wall: number; peakRss: number; cpu: number; requests: number };
}

function log(line: string): void {
  console.log(line);
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const started = Date.now();
  const cpuAtStart = cpuSnapshot();
  const machine = machineInfo();
  log(`bench: ${machine.cpu} (${machine.cores} cores), ${(machine.ramBytes / 2 ** 30).toFixed(1)} GiB RAM, ${machine.os}, Node ${machine.node}`);
  const [load1 = 0] = machine.loadAverageAtStart;
  // Every number below is wall time on shared cores: say so when something else is running.
  if (load1 > machine.cores / 2) log(`bench: warning: load average ${load1.toFixed(2)} on ${machine.cores} cores before starting; other work on the machine will slow both tools`);
  log(`bench: servers ${params.servers.join(', ')}; ${params.latencyMs} ms server delay per request; ${params.labs} lab processes; rounds ${params.servers.map((n) => `${roundsFor(n)} at N=${n}`).join(', ')} (+${params.warmupRuns} warm-up each); peer ${params.peer ? 'on' : 'off'}; activation rounds ${params.activationRounds}`);

  const artifacts = await prepareArtifacts({ build: params.package, log });
  let labs: Labs | undefined;
  const sandboxes: Sandbox[] = [];
  try {
    const bundles = await bundleCosts(artifacts.extensionDir);
    log(`bench: shipped sizes: VSIX ${kib(artifacts.sizes.vsixBytes)}; loaded at activation ${kib(bundles.activation.bytes)}, by status --json ${kib(bundles.cliStatus.bytes)}`);
    labs = await startLabs(params.labs, params.latencyMs);
    const sandboxOf = new Map<number, Sandbox>();
    for (const n of new Set([...params.servers, 1, params.ratioServers])) {
      const s = await writeSandbox(labs.ready, n);
      sandboxes.push(s);
      sandboxOf.set(n, s);
    }
    // The old setup of this ratio: servers on one lab configured alike share one discovery.
    const alike = await writeSandbox(labs.ready, params.ratioServers, { alike: true });
    sandboxes.push(alike);

    const startup = await startupFloor(sandboxOf.get(1)!, artifacts);
    const rows: StatusRow[] = [];
    for (const n of params.servers) rows.push(await statusRow(n, sandboxOf.get(n)!, labs, artifacts));

    log(`bench: probe in process, ${params.ratioServers} servers against 1, ${params.probeRounds} rounds`);
    const ratio = await measureProbeRatio(sandboxOf.get(1)!, sandboxOf.get(params.ratioServers)!, labs, params.probeRounds);
    const ratioAlike = await measureProbeRatio(sandboxOf.get(1)!, alike, labs, params.probeRounds);

    let activation: ActivationResult = { rounds: 0, samples: [], roundWallMs: [], errors: [], skipped: 'turned off (--no-activation)' };
    if (params.activationRounds > 0) {
      // The extension's sandbox: the same HOME as the ratio's N servers, an empty workspace.
      const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-bench-ws-'));
      try {
        activation = await measureActivation({ extensionDir: artifacts.extensionDir, home: sandboxOf.get(params.ratioServers)!.home, workspace, rounds: params.activationRounds, log });
      } finally {
        fs.rmSync(workspace, { recursive: true, force: true });
      }
      if (activation.skipped) log(`bench: activation skipped: ${activation.skipped}`);
    }

    const totalMs = Date.now() - started;
    const sharing = machineSharing(cpuAtStart, cpuSnapshot(), labs.cpuMs(), totalMs);
    if (sharing) log(`bench: during the run, other work used ${pct(sharing.otherShare)} of the machine's CPU time and the hypervisor took ${pct(sharing.stealShare)} (steal); the bench itself used ${pct(sharing.benchShare)}`);
    printTable(startup, rows, ratio, ratioAlike, activation, artifacts, totalMs);
    printBundles(bundles);
    const targets = judgeTargets(startup, rows, ratio, activation, artifacts, bundles);
    printTargets(targets);
    const results = {
      schema: 1,
      date: startedAt.toISOString(),
      machine: { ...machine, loadAverageAtEnd: os.loadavg(), sharing },
      versions: versions(activation),
      parameters: { ...params, roundsPerServers: Object.fromEntries(params.servers.map((n) => [n, roundsFor(n)])), ourCommand: 'node dist/cli.js status --json (from the VSIX)', peerCommand: 'claude mcp list' },
      startup,
      status: rows,
      cliScaling: cliScaling(rows, ratio),
      probeRatio: ratio,
      probeRatioAlike: ratioAlike,
      activation,
      sizes: { ...artifacts.sizes, builtThisRun: artifacts.built },
      bundles,
      targets,
      totalMs,
    };
    const out = path.resolve(REPO, values.out);
    fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
    log(`bench: wrote ${path.relative(REPO, out)} (${(totalMs / 1000).toFixed(0)} s in all)`);
  } finally {
    await labs?.close();
    for (const s of sandboxes) fs.rmSync(s.home, { recursive: true, force: true });
    artifacts.cleanup();
  }
}

interface StartupFloor {
  rounds: number;
  /** `node -e 0`: Node's own start and exit. */
  node: { wallMs: number; peakRssKiB: number; cpuMs: number; command: string };
  us: { wallMs: number; peakRssKiB: number; cpuMs: number; command: string };
  peer?: { wallMs: number; peakRssKiB: number; cpuMs: number; command: string };
  runs: StartupRun[];
}

/** What starting each program costs before it does anything: the part of every row no server count changes. */
async function startupFloor(sandbox: Sandbox, artifacts: Artifacts): Promise<StartupFloor> {
  const tools: StartupTool[] = params.peer ? ['node', 'us', 'peer'] : ['node', 'us'];
  const commandOf = (t: StartupTool) => (t === 'node' ? nodeBareCommand : startupCommand(t, artifacts.cliJs));
  const runs: StartupRun[] = [];
  for (let r = -params.warmupRuns; r < params.rounds; r++) {
    for (const t of r % 2 === 0 ? tools : [...tools].reverse()) {
      const run = await runStartup(t, commandOf(t), sandbox, params.timeoutMs);
      if (r >= 0) runs.push(run);
    }
  }
  const of = (t: StartupTool) => {
    const mine = runs.filter((r) => r.tool === t);
    const cmd = commandOf(t);
    return { wallMs: median(mine.map((r) => r.wallMs)), peakRssKiB: median(mine.map((r) => r.peakRssKiB)), cpuMs: median(mine.map((r) => r.cpuMs)), command: t === 'us' ? 'node dist/cli.js --help' : t === 'node' ? 'node -e 0' : `claude ${cmd.args.join(' ')}` };
  };
  const floor: StartupFloor = { rounds: params.rounds, node: of('node'), us: of('us'), ...(params.peer ? { peer: of('peer') } : {}), runs };
  log(`startup: node -e 0 ${ms(floor.node.wallMs)}, ${mib(floor.node.peakRssKiB)} | us ${ms(floor.us.wallMs)}, ${mib(floor.us.peakRssKiB)}` + (floor.peer ? ` | peer ${ms(floor.peer.wallMs)}, ${mib(floor.peer.peakRssKiB)}` : ''));
  return floor;
}

/** End to end (a fresh CLI process) at the ratio's N, against N=1 and against one chain in process. */
function cliScaling(rows: StatusRow[], ratio: ProbeRatio) {
  const at = rows.find((r) => r.servers === ratio.servers);
  const one = rows.find((r) => r.servers === 1);
  if (!at) return null;
  return {
    servers: ratio.servers,
    wallMs: at.us.wallMs,
    overOneServerWall: one ? at.us.wallMs / one.us.wallMs : null,
    overOneChainInProcess: at.us.wallMs / ratio.singleMs,
    probeOverOneChainInProcess: at.us.probeMs !== undefined ? at.us.probeMs / ratio.singleMs : null,
  };
}

async function statusRow(n: number, sandbox: Sandbox, labs: Labs, artifacts: Artifacts): Promise<StatusRow> {
  const rounds = roundsFor(n);
  const withPeer = peerAt(n);
  const tools: Tool[] = withPeer ? ['us', 'peer'] : ['us'];
  const command = (t: Tool) => (t === 'us' ? ourCommand(artifacts.cliJs) : peerCommand);
  const runs: Record<Tool, ToolRun[]> = { us: [], peer: [] };
  const cold: Partial<Record<Tool, ToolRun>> = {};
  const registrations: Record<Tool, number> = { us: 0, peer: 0 };
  const rowStarted = Date.now();
  for (let r = -params.warmupRuns; r < rounds; r++) {
    // Alternate which tool goes first, so neither always runs on the warmer machine.
    const order = r % 2 === 0 ? tools : [...tools].reverse();
    for (const t of order) {
      const run = await runTool(t, command(t), sandbox, labs, params.timeoutMs);
      registrations[t] += run.registrations;
      if (r >= 0) runs[t].push(run);
      else if (!cold[t]) cold[t] = run;
    }
  }
  const us = side(runs.us, registrations.us, cold.us);
  const peer = withPeer ? side(runs.peer, registrations.peer, cold.peer) : undefined;
  const row: StatusRow = { servers: n, rounds, us, ...(peer ? { peer, ratios: { wall: us.wallMs / peer.wallMs, peakRss: us.peakRssKiB / peer.peakRssKiB, cpu: us.cpuMs / peer.cpuMs, requests: us.requests / peer.requests } } : {}) };
  log(`N=${String(n).padStart(3)}: us ${ms(us.wallMs)} (probe ${ms(us.probeMs ?? NaN)}), ${mib(us.peakRssKiB)}, ${us.requests} requests, ${us.healthy}/${n} valid` + (peer ? ` | peer ${ms(peer.wallMs)}, ${mib(peer.peakRssKiB)}, ${peer.requests} requests, ${peer.healthy}/${n} connected` : '') + ` (${rounds} rounds, ${((Date.now() - rowStarted) / 1000).toFixed(0)} s)`);
  return row;
}

function side(runs: ToolRun[], registrations: number, cold: ToolRun | undefined): Side {
  const m = (f: (r: ToolRun) => number) => median(runs.map(f));
  const probe = runs.map((r) => r.probeMs).filter((x): x is number => x !== undefined);
  const last = runs[runs.length - 1]!;
  return {
    runs,
    ...(cold ? { cold } : {}),
    wallMs: m((r) => r.wallMs),
    peakRssKiB: m((r) => r.peakRssKiB),
    cpuMs: m((r) => r.cpuMs),
    labCpuMs: m((r) => r.labCpuMs),
    ...(probe.length > 0 ? { probeMs: median(probe) } : {}),
    requests: m((r) => r.requests.total),
    requestBreakdown: last.requests,
    registrations,
    healthy: Math.min(...runs.map((r) => r.healthy)),
  };
}

interface TargetResult {
  name: string;
  target: string;
  /** What was measured, in words with the numbers. */
  measured: string;
  /** The measured ratio (or value) the target is about; met says whether it is on the right side. */
  value: number | null;
  met: boolean | null;
}

const KB = 1000;

/** Issue 16's targets, each as a ratio (or size) measured in this run; null where it could not be measured here. */
function judgeTargets(startup: StartupFloor, rows: StatusRow[], ratio: ProbeRatio, activation: ActivationResult, artifacts: Artifacts, bundles: BundleCosts): TargetResult[] {
  const at = (n: number) => rows.find((r) => r.servers === n);
  const out: TargetResult[] = [];
  const one = at(1);
  const floor = startup.node.wallMs + ratio.singleMs;
  out.push(
    one
      ? { name: 'CLI, N=1', target: 'wall <= 1.3 x (node -e 0 + one chain in process)', measured: `${ms(one.us.wallMs)} against ${ms(startup.node.wallMs)} + ${ms(ratio.singleMs)} = ${ms(floor)}`, value: one.us.wallMs / floor, met: one.us.wallMs / floor <= 1.3 }
      : { name: 'CLI, N=1', target: 'wall <= 1.3 x (node -e 0 + one chain in process)', measured: 'N=1 not run', value: null, met: null },
  );
  const fifty = at(50);
  if (fifty?.peer) {
    const speed = fifty.peer.wallMs / fifty.us.wallMs;
    out.push({ name: 'CLI, N=50, time', target: '>= 5x faster than claude mcp list', measured: `${ms(fifty.us.wallMs)} against ${ms(fifty.peer.wallMs)}`, value: speed, met: speed >= 5 });
    const mem = fifty.peer.peakRssKiB / fifty.us.peakRssKiB;
    out.push({ name: 'CLI, N=50, memory', target: '>= 3x smaller peak RSS than claude mcp list (<= about 57 MiB)', measured: `${mib(fifty.us.peakRssKiB)} against ${mib(fifty.peer.peakRssKiB)} (node -e 0: ${mib(startup.node.peakRssKiB)})`, value: mem, met: mem >= 3 });
  } else {
    out.push({ name: 'CLI, N=50, against the peer', target: '>= 5x faster, >= 3x smaller', measured: 'the peer did not run at N=50', value: null, met: null });
  }
  if (fifty && one) {
    const growth = fifty.us.wallMs / one.us.wallMs;
    out.push({ name: 'CLI, 50 vs 1 server', target: 'whole process <= 1.3x', measured: `${ms(fifty.us.wallMs)} / ${ms(one.us.wallMs)}`, value: growth, met: growth <= 1.3 });
  }
  const largest = [...rows].sort((a, b) => b.servers - a.servers)[0];
  const below = rows.find((r) => r.servers === 200) ?? rows.filter((r) => r !== largest).sort((a, b) => b.servers - a.servers)[0];
  if (largest && below && largest.servers > 200) {
    // Past the probe's concurrency cap each server waits for a lane: linear means the time per
    // server does not grow from the smaller run to the larger one.
    const perLarge = largest.us.wallMs / largest.servers;
    const perBelow = below.us.wallMs / below.servers;
    const complete = largest.us.healthy === largest.servers;
    out.push({ name: `CLI, N=${largest.servers}`, target: `completes; time per server no worse than at N=${below.servers} (linear past the cap of 64)`, measured: `${complete ? 'completed' : `only ${largest.us.healthy}/${largest.servers} valid`} in ${ms(largest.us.wallMs)}: ${perLarge.toFixed(1)} ms a server against ${perBelow.toFixed(1)} ms at N=${below.servers}`, value: perLarge / perBelow, met: complete && perLarge <= perBelow * 1.05 });
    const memGrowth = largest.us.peakRssKiB / below.us.peakRssKiB;
    out.push({ name: `CLI, N=${largest.servers}, memory`, target: 'bounded (printed): peak RSS against N=' + below.servers, measured: `${mib(largest.us.peakRssKiB)} against ${mib(below.us.peakRssKiB)}: ${(((largest.us.peakRssKiB - below.us.peakRssKiB) / (largest.servers - below.servers))).toFixed(1)} KiB per extra server`, value: memGrowth, met: memGrowth < largest.servers / below.servers });
  }
  out.push({ name: 'Extension, code loaded at activation', target: '<= 300 KB', measured: `${bundles.activation.bytes} bytes in ${bundles.activation.files.length} files`, value: bundles.activation.bytes / KB, met: bundles.activation.bytes <= 300 * KB });
  out.push(
    activation.median
      ? { name: 'Extension, activation', target: '<= 60 ms median (load + activate() until it resolves)', measured: `${ms(activation.median.totalMs)} (load ${ms(activation.median.loadCodeMs)}, activate() ${ms(activation.median.callActivateMs)}, until resolved ${ms(activation.median.finishActivateMs)})`, value: activation.median.totalMs, met: activation.median.totalMs <= 60 }
      : { name: 'Extension, activation', target: '<= 60 ms median', measured: `not measured (${activation.skipped ?? activation.errors[0] ?? 'no sample'})`, value: null, met: null },
  );
  out.push({ name: 'VSIX (universal)', target: '<= 600 KB', measured: `${artifacts.sizes.vsixBytes} bytes`, value: artifacts.sizes.vsixBytes / KB, met: artifacts.sizes.vsixBytes <= 600 * KB });
  return out;
}

function printTargets(targets: TargetResult[]): void {
  log('');
  log('Targets (issue 16), measured in this run:');
  const rows = targets.map((t) => [t.met === null ? 'n/a' : t.met ? 'met' : 'NOT MET', t.name, t.target, t.value === null ? '-' : t.value.toFixed(2), t.measured]);
  for (const l of alignLeft([['', 'target', 'wanted', 'value', 'measured'], ...rows])) log('  ' + l);
}

function printBundles(b: BundleCosts): void {
  log('');
  const show = (c: EntryCost) => {
    log(`${c.what}: ${kib(c.bytes)} in ${c.files.length} files`);
    if (c.byInput) log('  ' + c.byInput.slice(0, 12).map((a) => `${a.name} ${kib(a.bytes)}`).join(', ') + (c.byInput.length > 12 ? `, ${c.byInput.length - 12} more` : ''));
  };
  for (const c of [b.activation, b.cliStatus, b.extensionAll, b.cliAll]) show(c);
  if (b.attributionProblem) log(`  (no per-dependency split: ${b.attributionProblem})`);
}

function alignLeft(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

function printTable(startup: StartupFloor, rows: StatusRow[], ratio: ProbeRatio, ratioAlike: ProbeRatio, activation: ActivationResult, artifacts: Artifacts, totalMs: number): void {
  const lines: string[] = [];
  lines.push('');
  lines.push(`Status of N servers: us = node dist/cli.js status --json, peer = claude mcp list; medians; ${params.latencyMs} ms server delay per request`);
  const header = ['N', 'rounds', 'wall us', 'wall peer', 'us/peer', 'probe us', 'peak RSS us', 'peak RSS peer', 'us/peer', 'CPU us', 'CPU peer', 'requests us', 'requests peer', 'DCR us', 'DCR peer', 'usable us', 'usable peer'];
  const table = rows.map((r) => [
    String(r.servers),
    String(r.rounds),
    ms(r.us.wallMs),
    r.peer ? ms(r.peer.wallMs) : '-',
    r.ratios ? `${r.ratios.wall.toFixed(2)}x` : '-',
    ms(r.us.probeMs ?? NaN),
    mib(r.us.peakRssKiB),
    r.peer ? mib(r.peer.peakRssKiB) : '-',
    r.ratios ? `${r.ratios.peakRss.toFixed(2)}x` : '-',
    ms(r.us.cpuMs),
    r.peer ? ms(r.peer.cpuMs) : '-',
    String(r.us.requests),
    r.peer ? String(r.peer.requests) : '-',
    String(r.us.registrations),
    r.peer ? String(r.peer.registrations) : '-',
    `${r.us.healthy}/${r.servers}`,
    r.peer ? `${r.peer.healthy}/${r.servers}` : '-',
  ]);
  lines.push(...align([header, ...table]).map((l) => '  ' + l));
  lines.push(`  Node's bare start (${startup.node.command}): ${ms(startup.node.wallMs)}, ${mib(startup.node.peakRssKiB)}`);
  lines.push(`  cold (the first run of each N, not in the medians): ${rows.map((r) => `N=${r.servers} us ${ms(r.us.cold?.wallMs ?? NaN)}${r.peer ? ` / peer ${ms(r.peer.cold?.wallMs ?? NaN)}` : ''}`).join('; ')}`);
  lines.push(`  startup floor (${startup.us.command}${startup.peer ? ` / ${startup.peer.command}` : ''}): ${ms(startup.us.wallMs)}, ${mib(startup.us.peakRssKiB)}` + (startup.peer ? ` / ${ms(startup.peer.wallMs)}, ${mib(startup.peer.peakRssKiB)}` : ''));
  const scaling = cliScaling(rows, ratio);
  if (scaling) {
    lines.push(`  CLI at N=${scaling.servers}: ${ms(scaling.wallMs)} = ${scaling.overOneServerWall?.toFixed(2) ?? '-'}x its N=1 run, ${scaling.overOneChainInProcess.toFixed(2)}x one chain in process (the probe part alone: ${scaling.probeOverOneChainInProcess?.toFixed(2) ?? '-'}x)`);
  }
  lines.push('');
  lines.push(`Probe in process, ${ratio.servers} servers vs 1 (${ratio.rounds} rounds): ${ms(ratio.manyMs)} / ${ms(ratio.singleMs)} = ${ratio.ratio.toFixed(2)}x (target < 1.5x); ${ratio.valid}/${ratio.servers} valid`);
  lines.push(`  one chain: ${ratio.singleSteps.map((s) => `${s.step} ${ms(s.ms)}`).join(' -> ')}`);
  lines.push(`  ${ratio.servers} servers: each server's chain median ${ms(ratio.perServerMedianMs)}, slowest ${ms(ratio.perServerMaxMs)}; CPU: probe ${ms(ratio.probeCpuMs)}, lab processes ${ms(ratio.labCpuMs)} on ${ratio.cores} cores`);
  lines.push(`  configured alike (${params.labs} distinct configs, one discovery each): ${ms(ratioAlike.manyMs)} / ${ms(ratioAlike.singleMs)} = ${ratioAlike.ratio.toFixed(2)}x; CPU: probe ${ms(ratioAlike.probeCpuMs)}, lab processes ${ms(ratioAlike.labCpuMs)}`);
  lines.push('');
  if (activation.median) {
    lines.push(`Activation in VS Code ${activation.vscodeVersion} (extension host, onStartupFinished, median of ${activation.samples.length}): load code ${ms(activation.median.loadCodeMs)}, activate() ${ms(activation.median.callActivateMs)}, until resolved ${ms(activation.median.finishActivateMs)}, total ${ms(activation.median.totalMs)}`);
  } else {
    lines.push(`Activation: not measured (${activation.skipped ?? activation.errors[0] ?? 'no sample'})`);
  }
  const s = artifacts.sizes;
  lines.push(`Sizes (production build${artifacts.built ? ', built this run' : ', existing VSIX'}): dist/extension.js (launcher) ${s.extensionJs.bytes} B, dist/cli.js (launcher) ${s.cliJs.bytes} B, mcp-auth-doctor.vsix ${s.vsixBytes} B`);
  lines.push(`Total bench time ${(totalMs / 1000).toFixed(0)} s`);
  for (const l of lines) log(l);
}

function align(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padStart(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : '-');
const mib = (kibValue: number) => `${(kibValue / 1024).toFixed(0)} MiB`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

interface CpuSnapshot {
  /** Machine-wide busy and steal time from /proc/stat, ms (all cores). */
  busyMs: number;
  stealMs: number;
  /** This process and every child it has reaped (labs are still running: added separately). */
  selfMs: number;
}

/** /proc/stat's first line and /proc/self/stat (USER_HZ = 100 ticks a second); undefined off Linux. */
function cpuSnapshot(): CpuSnapshot | undefined {
  try {
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ').map(Number) ?? [];
    // utime, stime, cutime, cstime are fields 14-17 of stat(5); [11..14] after the command name.
    const self = (fields[11] ?? 0) + (fields[12] ?? 0) + (fields[13] ?? 0) + (fields[14] ?? 0);
    return { busyMs: (user + nice + system + irq + softirq) * 10, stealMs: steal * 10, selfMs: self * 10 };
  } catch {
    return undefined;
  }
}

/**
 * How much of the machine the bench had: CPU the whole machine spent during the run that was
 * neither the bench (this process, the CLIs and VS Code it ran and reaped, the labs) nor idle.
 * Shares are of cores x wall time. Other helpers' test runs on a shared machine show up here.
 */
function machineSharing(start: CpuSnapshot | undefined, end: CpuSnapshot | undefined, labCpuMs: number, wallMs: number) {
  if (!start || !end) return null;
  const capacity = wallMs * os.cpus().length;
  const bench = end.selfMs - start.selfMs + labCpuMs;
  const busy = end.busyMs - start.busyMs;
  return { benchShare: bench / capacity, otherShare: Math.max(0, busy - bench) / capacity, stealShare: (end.stealMs - start.stealMs) / capacity, cpuMs: { bench, machineBusy: busy, steal: end.stealMs - start.stealMs } };
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

function machineInfo() {
  const cpus = os.cpus();
  let osName = `${os.type()} ${os.release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1];
    if (pretty) osName = `${pretty} (${os.type()} ${os.release()})`;
  } catch {
    // not Linux, or no os-release
  }
  return { cpu: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length, ramBytes: os.totalmem(), os: osName, arch: process.arch, node: process.versions.node, loadAverageAtStart: os.loadavg() };
}

function versions(activation: ActivationResult) {
  const pkg = (p: string) => {
    try {
      return (JSON.parse(fs.readFileSync(path.join(REPO, p), 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      return 'unknown';
    }
  };
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  // The VSIX is built from the working tree: say when src/ differs from the commit.
  let srcClean: boolean | null = null;
  try {
    srcClean = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO, encoding: 'utf8' }).trim() === '';
  } catch {
    // not a git checkout
  }
  return { ours: pkg('package.json'), commit, srcClean, claudeCode: pkg('node_modules/@anthropic-ai/claude-code/package.json'), vscode: activation.vscodeVersion ?? null };
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
