// The bench's servers: `count` lab processes (bench/labProcess.ts), each a real authorization
// server and MCP server on loopback answering every request after `latencyMs`, and sandbox HOMEs
// whose Claude Code config lists N servers spread over them with a valid stored token each.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { z } from 'zod';
import { storageKey } from '../src/core/storageKey';
import { makeSandboxHome } from '../test/support/realClients';
import type { LabStats } from './labProcess';

const Ready = z.object({ mcpUrl: z.string(), issuer: z.string(), clientId: z.string(), accessToken: z.string(), refreshToken: z.string().optional(), expiresIn: z.number(), scope: z.string() });
export type LabReady = z.infer<typeof Ready>;

export interface Labs {
  ready: LabReady[];
  pids: number[];
  /** Every lab's counters now. */
  stats(): Promise<LabStats[]>;
  /** CPU time (user + system) the lab processes have used so far, from /proc (0 where there is none). */
  cpuMs(): number;
  close(): Promise<void>;
}

export async function startLabs(count: number, latencyMs: number): Promise<Labs> {
  const children: ChildProcess[] = [];
  const stop = () => children.forEach((c) => c.kill('SIGTERM'));
  // A bench that dies must not leave servers behind.
  process.once('exit', stop);
  try {
    const ready = await Promise.all(
      Array.from({ length: count }, async () => {
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'labProcess.ts'), String(latencyMs)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
        children.push(child);
        const line = once(readline.createInterface({ input: child.stdout! }), 'line') as Promise<[string]>;
        const [first] = await Promise.race([line, once(child, 'exit').then(([code]) => Promise.reject(new Error(`a lab process exited (${String(code)}) before it was ready`)))]);
        return Ready.parse(JSON.parse(first));
      }),
    );
    let nextId = 0;
    const statsOf = (child: ChildProcess) =>
      new Promise<LabStats>((resolve, reject) => {
        const id = ++nextId;
        const timer = setTimeout(() => reject(new Error('a lab process did not answer for its counters within 10 s')), 10_000);
        const onMessage = (m: unknown) => {
          const msg = m as { id?: number; stats?: LabStats };
          if (msg.id !== id || !msg.stats) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(msg.stats);
        };
        child.on('message', onMessage);
        child.send({ id, op: 'stats' });
      });
    return {
      ready,
      pids: children.map((c) => c.pid ?? 0),
      stats: () => Promise.all(children.map(statsOf)),
      cpuMs: () => children.reduce((sum, c) => sum + (c.pid ? processCpuMs(c.pid) : 0), 0),
      async close() {
        process.off('exit', stop);
        await Promise.all(children.map(async (c) => {
          if (c.exitCode !== null || c.signalCode !== null) return;
          const exited = once(c, 'exit');
          c.kill('SIGTERM');
          const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(timer);
        }));
      },
    };
  } catch (err) {
    stop();
    process.off('exit', stop);
    throw err;
  }
}

/** utime + stime of a process from /proc/<pid>/stat, in ms (0 when it cannot be read). */
export function processCpuMs(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces, hence the split at ") ").
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
/** USER_HZ: 100 on every Linux architecture Node runs on (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS = 100;

export interface Sandbox {
  home: string;
  servers: number;
  /** Whether servers on the same lab are configured alike (same URL, no header of their own). */
  alike: boolean;
}

/**
 * A sandbox HOME whose ~/.claude.json lists `n` HTTP servers at user scope, server i on lab
 * i mod labs, each with that lab's freshly minted token in ~/.claude/.credentials.json under the
 * key Claude Code itself uses (storageKey). Unless `alike`, every server carries its own
 * `X-Bench-Server` header, so no two are configured alike, as with real servers: otherwise our
 * probe rightly shares one unauthenticated look between servers with the same URL, transport and
 * headers (src/core/probe/probe.ts resourceSideKey) and the comparison would flatter us. Servers
 * on one lab still share its issuer, so its metadata is fetched once per run.
 */
export async function writeSandbox(labs: LabReady[], n: number, options: { alike?: boolean } = {}): Promise<Sandbox> {
  const alike = options.alike ?? false;
  const home = await makeSandboxHome('mad-bench-');
  const servers = Array.from({ length: n }, (_, i) => {
    const name = `bench-${String(i).padStart(3, '0')}`;
    const headers: Record<string, string> = alike ? {} : { 'X-Bench-Server': name };
    return { name, lab: labs[i % labs.length]!, headers };
  });
  const config = { mcpServers: Object.fromEntries(servers.map((s) => [s.name, { type: 'http', url: s.lab.mcpUrl, ...(alike ? {} : { headers: s.headers }) }])) };
  fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify(config, null, 2), { mode: 0o600 });
  fs.mkdirSync(path.join(home, '.claude'), { recursive: true });
  const mcpOAuth = Object.fromEntries(
    servers.map(({ name, lab, headers }) => [
      storageKey(name, 'http', lab.mcpUrl, headers),
      { serverName: name, serverUrl: lab.mcpUrl, clientId: lab.clientId, accessToken: lab.accessToken, refreshToken: lab.refreshToken, expiresAt: Date.now() + lab.expiresIn * 1000, scope: lab.scope },
    ]),
  );
  fs.writeFileSync(path.join(home, '.claude', '.credentials.json'), JSON.stringify({ mcpOAuth }), { mode: 0o600 });
  return { home, servers: n, alike };
}

/** Paths the labs request themselves (the MCP server's JWKS fetch, introspection): not a client's requests. */
const LAB_INTERNAL = new Set(['/jwks', '/token/introspection']);

export interface RequestCounts {
  total: number;
  /** Requests to the MCP server's origin other than its metadata: the MCP endpoint itself. */
  mcp: number;
  /** RFC 9728 protected-resource metadata. */
  resourceMetadata: number;
  /** RFC 8414 / OpenID discovery documents. */
  authorizationServerMetadata: number;
  /** DCR and token endpoint requests (none expected while every token is valid). */
  registration: number;
  token: number;
  other: number;
}

/** Client requests between two snapshots of every lab's counters. */
export function requestsBetween(before: LabStats[], after: LabStats[]): RequestCounts {
  const counts: RequestCounts = { total: 0, mcp: 0, resourceMetadata: 0, authorizationServerMetadata: 0, registration: 0, token: 0, other: 0 };
  after.forEach((a, i) => {
    const b = before[i];
    const paths = [...Object.entries(a.mcpServer), ...Object.entries(a.authorizationServer).map(([p, n]) => [`AS ${p}`, n] as const)];
    for (const [key, n] of paths) {
      const isAs = key.startsWith('AS ');
      const p = isAs ? key.slice(3) : key;
      const was = (isAs ? b?.authorizationServer[p] : b?.mcpServer[p]) ?? 0;
      const delta = n - was;
      if (delta <= 0 || LAB_INTERNAL.has(p)) continue;
      counts.total += delta;
      if (!isAs && p.startsWith('/.well-known/oauth-protected-resource')) counts.resourceMetadata += delta;
      else if (!isAs) counts.mcp += delta;
      else if (p === '/.well-known/oauth-authorization-server' || p === '/.well-known/openid-configuration') counts.authorizationServerMetadata += delta;
      else if (p.startsWith('/reg')) counts.registration += delta;
      else if (p === '/token') counts.token += delta;
      else counts.other += delta;
    }
  });
  return counts;
}

/** DCR registrations between two snapshots (lab.registrations(), summed over the labs). */
export function registrationsBetween(before: LabStats[], after: LabStats[]): number {
  return after.reduce((sum, a, i) => sum + a.registrations - (before[i]?.registrations ?? 0), 0);
}
