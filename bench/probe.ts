// How the probe scales, in process: a user with many servers wants `status` to take about as long
// as one server's probe chain, not fifty of them in a row. The yardstick is measured in the same
// run on the same machine: one server's full chain (unauthenticated request, resource metadata,
// authorization-server metadata, live token check). The result is a ratio, reported, never
// asserted (timings depend on the machine; see the developers' guide). Config and store reading
// are left out: this is the probe alone, as `probed.ms` of `status --json` reports it.
import * as os from 'node:os';
import { collectStatus } from '../src/core/status';
import { probeReport, type ProbeRun } from '../src/core/probe/run';
import { environmentFromProcess } from '../src/core/environment';
import type { Labs, Sandbox } from './labs';

export interface ProbeRatio {
  servers: number;
  rounds: number;
  /** Median wall time of one server's chain, and of all N servers, milliseconds. */
  singleMs: number;
  manyMs: number;
  ratio: number;
  /** The single chain's steps in the last round: what one server costs, request by request. */
  singleSteps: { step: string; method: string; status?: number; ms: number }[];
  /** Over the N servers in the last round: each server's own chain time, median and slowest. */
  perServerMedianMs: number;
  perServerMaxMs: number;
  /** Medians over the rounds of the N-server run: probe CPU (this process) and the labs' CPU. */
  probeCpuMs: number;
  labCpuMs: number;
  valid: number;
  metadataFetches: number;
  cores: number;
}

export async function measureProbeRatio(one: Sandbox, many: Sandbox, labs: Labs, rounds: number): Promise<ProbeRatio> {
  const envFor = (home: string) => ({ ...environmentFromProcess([]), home, env: { HOME: home } });
  const measure = async (sandbox: Sandbox) => {
    const report = await collectStatus(envFor(sandbox.home), { clients: ['claude-code'] });
    const cpu = process.cpuUsage();
    const labBefore = labs.cpuMs();
    const started = performance.now();
    const run = await probeReport(report);
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return { ms, cpuMs: (used.user + used.system) / 1000, labCpuMs: labs.cpuMs() - labBefore, run };
  };
  // Warm up sockets and the JIT.
  await measure(one);
  await measure(many);
  const single: number[] = [];
  const multi: number[] = [];
  const cpu: number[] = [];
  const labCpu: number[] = [];
  let lastOne: ProbeRun | undefined;
  let lastMany: ProbeRun | undefined;
  for (let r = 0; r < rounds; r++) {
    const a = await measure(one);
    single.push(a.ms);
    lastOne = a.run;
    const b = await measure(many);
    multi.push(b.ms);
    cpu.push(b.cpuMs);
    labCpu.push(b.labCpuMs);
    lastMany = b.run;
  }
  const perServer = lastMany?.probes.map((p) => p.ms) ?? [];
  const singleMs = median(single);
  const manyMs = median(multi);
  return {
    servers: many.servers,
    rounds,
    singleMs,
    manyMs,
    ratio: manyMs / singleMs,
    singleSteps: (lastOne?.probes[0]?.trace ?? []).map((t) => ({ step: t.step, method: t.method, ...(t.status !== undefined ? { status: t.status } : {}), ms: t.ms })),
    perServerMedianMs: median(perServer),
    perServerMaxMs: Math.max(...perServer),
    probeCpuMs: median(cpu),
    labCpuMs: median(labCpu),
    valid: lastMany?.probes.filter((p) => p.state === 'valid').length ?? 0,
    metadataFetches: lastMany?.metadataFetches ?? 0,
    cores: os.cpus().length,
  };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
