// `npm run bench`: how the probe scales. A user with many servers wants `status` to take about
// as long as one server's probe chain, not fifty of them in a row. The peer is measured in the
// same run on the same machine: one server's full chain (unauthenticated request, resource
// metadata, authorization-server metadata, live token check). The result is a ratio, printed,
// never asserted (timings depend on the machine; see the developers' guide).
//
//   node --import tsx bench/probe.ts [--servers 50] [--rounds 7] [--latency 40]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { collectStatus } from '../src/core/status';
import { probeReport } from '../src/core/probe/run';
import { environmentFromProcess } from '../src/core/environment';
import { storageKey } from '../src/core/storageKey';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as readline from 'node:readline';

const { values } = parseArgs({
  options: { servers: { type: 'string', default: '50' }, rounds: { type: 'string', default: '7' }, latency: { type: 'string', default: '40' }, labs: { type: 'string', default: '5' } },
});
/** Lab processes the servers are spread over: real servers do not share one Node process. */
const labCount = Math.max(1, Number(values.labs));
const many = Number(values.servers);
const rounds = Number(values.rounds);
/** A one-way server delay standing in for the network round trip real servers have (loopback has none). */
const latencyMs = Number(values.latency);

async function main(): Promise<void> {
  const children = Array.from({ length: labCount }, () => spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'labProcess.ts'), String(latencyMs)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const labs = await Promise.all(
    children.map(async (child) => {
      const [line] = (await once(readline.createInterface({ input: child.stdout }), 'line')) as [string];
      return JSON.parse(line) as { mcpUrl: string; clientId: string; accessToken: string; refreshToken?: string; scope: string };
    }),
  );
  const homes: string[] = [];
  const homeWith = (n: number): string => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-bench-'));
    homes.push(home);
    // Round-robin over the labs: server i talks to lab i mod labCount with that lab's token.
    const servers = Array.from({ length: n }, (_, i) => ({ name: `lab-${i}`, lab: labs[i % labs.length]! }));
    fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: Object.fromEntries(servers.map((s) => [s.name, { type: 'http', url: s.lab.mcpUrl }])) }));
    fs.mkdirSync(path.join(home, '.claude'));
    const mcpOAuth = Object.fromEntries(
      servers.map(({ name, lab }) => [
        storageKey(name, 'http', lab.mcpUrl),
        { serverName: name, serverUrl: lab.mcpUrl, clientId: lab.clientId, accessToken: lab.accessToken, refreshToken: lab.refreshToken, expiresAt: Date.now() + 3600_000, scope: lab.scope },
      ]),
    );
    fs.writeFileSync(path.join(home, '.claude', '.credentials.json'), JSON.stringify({ mcpOAuth }), { mode: 0o600 });
    return home;
  };
  const envFor = (home: string) => ({ ...environmentFromProcess([]), home, env: { HOME: home } });

  /** Wall time of one probe run over the home's servers (config and store reading excluded). */
  /** The lab process's CPU time so far (Linux /proc; 0 elsewhere), to show when the servers, not the probe, are the bottleneck. */
  const labCpuMs = (): number =>
    children.reduce((sum, child) => {
      try {
        const fields = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
        return sum + ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
      } catch {
        return sum;
      }
    }, 0);
  const measure = async (home: string): Promise<{ ms: number; cpuMs: number; labCpuMs: number; fetches: number; states: string[] }> => {
    const report = await collectStatus(envFor(home), { clients: ['claude-code'] });
    const started = performance.now();
    const cpu = process.cpuUsage();
    const labBefore = labCpuMs();
    const run = await probeReport(report);
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000, labCpuMs: labCpuMs() - labBefore, fetches: run.metadataFetches, states: run.probes.map((p) => p.state) };
  };

  const one = homeWith(1);
  const fifty = homeWith(many);
  await measure(one); // warm up sockets and the JIT
  await measure(fifty);
  const single: number[] = [];
  const multi: number[] = [];
  let last = { ms: 0, fetches: 0, cpuMs: 0, labCpuMs: 0, states: [] as string[] };
  for (let r = 0; r < rounds; r++) {
    single.push((await measure(one)).ms);
    last = await measure(fifty);
    multi.push(last.ms);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const s = median(single);
  const m = median(multi);
  const valid = last.states.filter((st) => st === 'valid').length;
  console.log(`probe bench (${rounds} rounds, median; lab on loopback answering after ${latencyMs} ms, like a nearby server)`);
  console.log(`  peer: 1 server, full probe chain        ${s.toFixed(1)} ms`);
  console.log(`  ${many} servers on ${labCount} labs              ${m.toFixed(1)} ms  (${valid}/${many} valid, ${last.fetches} metadata fetch${last.fetches === 1 ? '' : 'es'})`);
  console.log(`  CPU for ${many} servers: probe ${last.cpuMs.toFixed(0)} ms, lab processes ${last.labCpuMs.toFixed(0)} ms (${os.cpus().length} cores)`);
  console.log(`  ratio ${many} servers / 1 server: ${(m / s).toFixed(2)}x  (target < 1.5x)`);
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  for (const child of children) child.kill('SIGTERM');
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
