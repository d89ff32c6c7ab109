// Renders a bench run (bench/results.json) as the markdown tables of docs/performance.md:
//   node --import tsx bench/report.ts [bench/results.json] [--update-doc]
// --update-doc puts them between the `<!-- bench:begin -->` / `<!-- bench:end -->` lines of
// docs/performance.md instead of printing them (the prose around them is written by hand).
import * as fs from 'node:fs';
import * as path from 'node:path';

interface SideJson {
  runs: { wallMs: number }[];
  wallMs: number;
  peakRssKiB: number;
  cpuMs: number;
  labCpuMs: number;
  probeMs?: number;
  requests: number;
  registrations: number;
  healthy: number;
}

interface ResultsJson {
  date: string;
  machine: { cpu: string; cores: number; ramBytes: number; os: string; node: string; loadAverageAtStart: number[]; sharing: { benchShare: number; otherShare: number; stealShare: number } | null };
  versions: { ours: string; commit: string; srcClean?: boolean; claudeCode: string; vscode: string | null };
  parameters: { latencyMs: number; labs: number; warmupRuns: number; roundsPerServers: Record<string, number> };
  startup: { us: { wallMs: number; peakRssKiB: number }; peer?: { wallMs: number; peakRssKiB: number } };
  status: { servers: number; rounds: number; us: SideJson; peer?: SideJson; ratios?: { wall: number; peakRss: number } }[];
  cliScaling: { servers: number; wallMs: number; overOneServerWall: number | null; overOneChainInProcess: number; probeOverOneChainInProcess: number | null } | null;
  probeRatio: RatioJson;
  probeRatioAlike: RatioJson;
  activation: { skipped?: string; vscodeVersion?: string; samples: { loadCodeMs: number; callActivateMs: number; finishActivateMs: number }[]; median?: { loadCodeMs: number; callActivateMs: number; finishActivateMs: number; totalMs: number } };
  sizes: { vsixBytes: number; extensionJs: { bytes: number; compressedBytes: number }; cliJs: { bytes: number; compressedBytes: number } };
  /** From the run of issue 16 on: what each entry loads, and the targets as measured. */
  bundles?: Record<'activation' | 'cliStatus' | 'extensionAll' | 'cliAll', { what: string; files: string[]; bytes: number; byInput?: { name: string; bytes: number }[] }> & { attributionProblem?: string };
  targets?: { name: string; target: string; measured: string; value: number | null; met: boolean | null }[];
  totalMs: number;
}

interface RatioJson {
  servers: number;
  rounds: number;
  singleMs: number;
  manyMs: number;
  ratio: number;
  singleSteps: { step: string; ms: number }[];
  perServerMedianMs: number;
  perServerMaxMs: number;
  probeCpuMs: number;
  labCpuMs: number;
  valid: number;
  metadataFetches: number;
}

const args = process.argv.slice(2);
const updateDoc = args.includes('--update-doc');
const file = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(__dirname, 'results.json'));
const r = JSON.parse(fs.readFileSync(file, 'utf8')) as ResultsJson;
const ms = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${Math.round(x)} ms`);
const s = (x: number) => `${(x / 1000).toFixed(2)} s`;
const wall = (x: number) => (x >= 1000 ? s(x) : ms(x));
/** Median with the range of the runs: the spread is part of the result on a shared machine. */
const wallRange = (side: SideJson) => {
  const all = side.runs.map((q) => q.wallMs);
  const round = (v: number) => (side.wallMs >= 1000 ? (v / 1000).toFixed(1) : String(Math.round(v)));
  return `${wall(side.wallMs)} (${round(Math.min(...all))}–${round(Math.max(...all))})`;
};
const mib = (k: number) => `${Math.round(k / 1024)} MiB`;
const x = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v.toFixed(2)}x`);
const pct = (v: number) => `${Math.round(v * 100)} %`;

const out: string[] = [];
const m = r.machine;
out.push(`Run of ${r.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cpu}, ${m.cores} cores, ${(m.ramBytes / 2 ** 30).toFixed(0)} GiB RAM, ${m.os}, Node ${m.node}; Claude Code ${r.versions.claudeCode}, VS Code ${r.versions.vscode ?? '-'}; commit ${r.versions.commit}${r.versions.srcClean === false ? ' (src/ with uncommitted changes)' : ''}. Server delay ${r.parameters.latencyMs} ms per request, ${r.parameters.labs} lab processes; medians of the rounds shown, after ${r.parameters.warmupRuns} warm-up run per tool. ${m.sharing ? `Other work on the machine used ${pct(m.sharing.otherShare)} of its CPU time during the run (the bench ${pct(m.sharing.benchShare)}).` : ''} The whole bench took ${Math.round(r.totalMs / 1000)} s.`);
out.push('');
out.push('| Servers | Rounds | Wall: us (range) | Wall: peer (range) | us / peer | Probe (in our process) | Peak RSS: us | Peak RSS: peer | us / peer | CPU: us | CPU: peer | Requests: us | Requests: peer | DCR: us / peer | Usable of N: us / peer |');
out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
if (r.startup.peer) out.push(`| 0 (start-up only) | | ${wall(r.startup.us.wallMs)} | ${wall(r.startup.peer.wallMs)} | ${x(r.startup.us.wallMs / r.startup.peer.wallMs)} | | ${mib(r.startup.us.peakRssKiB)} | ${mib(r.startup.peer.peakRssKiB)} | ${x(r.startup.us.peakRssKiB / r.startup.peer.peakRssKiB)} | | | 0 | 0 | | |`);
for (const row of r.status) {
  const p = row.peer;
  out.push(
    `| ${row.servers} | ${row.rounds} | ${wallRange(row.us)} | ${p ? wallRange(p) : '-'} | ${x(row.ratios?.wall)} | ${ms(row.us.probeMs)} | ${mib(row.us.peakRssKiB)} | ${p ? mib(p.peakRssKiB) : '-'} | ${x(row.ratios?.peakRss)} | ${ms(row.us.cpuMs)} | ${p ? ms(p.cpuMs) : '-'} | ${row.us.requests} | ${p ? p.requests : '-'} | ${row.us.registrations} / ${p ? p.registrations : '-'} | ${row.us.healthy} / ${p ? p.healthy : '-'} |`,
  );
}
out.push('');
const ratioRow = (label: string, q: RatioJson) =>
  `| ${label} | ${ms(q.singleMs)} | ${ms(q.manyMs)} | **${q.ratio.toFixed(2)}x** | ${ms(q.perServerMedianMs)} / ${ms(q.perServerMaxMs)} | ${ms(q.probeCpuMs)} | ${ms(q.labCpuMs)} | ${q.metadataFetches} | ${q.valid}/${q.servers} |`;
out.push(`| Probe in process, ${r.probeRatio.servers} servers vs 1 (${r.probeRatio.rounds} rounds) | One chain | ${r.probeRatio.servers} servers | Ratio (target < 1.5x) | Each server's chain: median / slowest | CPU: probe | CPU: labs | AS metadata fetches | Valid |`);
out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
out.push(ratioRow('every server configured apart (as in the wild)', r.probeRatio));
out.push(ratioRow(`servers on a lab configured alike (${r.parameters.labs} configs)`, r.probeRatioAlike));
out.push('');
out.push(`One chain, step by step: ${r.probeRatio.singleSteps.map((t) => `${t.step} ${ms(t.ms)}`).join(' → ')}.`);
if (r.cliScaling) {
  out.push(`End to end, \`status --json\` at N=${r.cliScaling.servers} took ${ms(r.cliScaling.wallMs)}: ${x(r.cliScaling.overOneServerWall)} its N=1 run, ${x(r.cliScaling.overOneChainInProcess)} one chain in process (its probe part alone ${x(r.cliScaling.probeOverOneChainInProcess)}).`);
}
out.push('');
const a = r.activation;
if (a.median) {
  out.push(`| Activation in VS Code ${a.vscodeVersion} (${a.samples.length} fresh windows, median) | Load code | activate() | Until its promise resolved | Total |`);
  out.push('|---|---:|---:|---:|---:|');
  out.push(`| onStartupFinished, production bundle from the VSIX | ${ms(a.median.loadCodeMs)} | ${ms(a.median.callActivateMs)} | ${ms(a.median.finishActivateMs)} | ${ms(a.median.totalMs)} |`);
  out.push(`| each round (load code) | ${a.samples.map((q) => ms(q.loadCodeMs)).join(', ')} | | | |`);
} else {
  out.push(`Activation: not measured (${a.skipped ?? 'no sample'}).`);
}
out.push('');
out.push('| Artifact (production build) | Bytes | Compressed in the VSIX |');
out.push('|---|---:|---:|');
out.push(`| dist/extension.js | ${r.sizes.extensionJs.bytes} | ${r.sizes.extensionJs.compressedBytes} |`);
out.push(`| dist/cli.js | ${r.sizes.cliJs.bytes} | ${r.sizes.cliJs.compressedBytes} |`);
out.push(`| mcp-auth-doctor.vsix | ${r.sizes.vsixBytes} | |`);
if (r.bundles) {
  const b = r.bundles;
  out.push('');
  out.push('| What is loaded | Bytes | Files | Largest parts (per package or source folder) |');
  out.push('|---|---:|---:|---|');
  for (const c of [b.activation, b.cliStatus, b.extensionAll, b.cliAll]) {
    out.push(`| ${c.what} | ${c.bytes} | ${c.files.length} | ${c.byInput ? c.byInput.slice(0, 8).map((q) => `${q.name} ${Math.round(q.bytes / 1024)} KiB`).join(', ') : '-'} |`);
  }
  if (b.attributionProblem) out.push('', `No per-dependency split in this run: ${b.attributionProblem}.`);
}
if (r.targets) {
  out.push('');
  out.push('| Target (issue 16) | Wanted | Measured | Value | Met |');
  out.push('|---|---|---|---:|---|');
  for (const t of r.targets) out.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.value === null ? '-' : t.value.toFixed(2)} | ${t.met === null ? 'not measured' : t.met ? 'met' : '**not met**'} |`);
}
if (updateDoc) {
  const doc = path.join(__dirname, '..', 'docs', 'performance.md');
  const text = fs.readFileSync(doc, 'utf8');
  const begin = text.indexOf('<!-- bench:begin -->');
  const end = text.indexOf('<!-- bench:end -->');
  if (begin < 0 || end < begin) throw new Error(`${doc} has no <!-- bench:begin --> ... <!-- bench:end --> block`);
  fs.writeFileSync(doc, `${text.slice(0, begin)}<!-- bench:begin -->\n${out.join('\n')}\n\n${text.slice(end)}`);
  console.log(`report: updated ${path.relative(process.cwd(), doc)} from ${path.relative(process.cwd(), file)}`);
} else {
  console.log(out.join('\n'));
}
