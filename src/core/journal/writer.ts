// Who we think wrote a store's new state: the one running process of that client, when exactly
// one runs (then it, or a child it started, is the likeliest writer); else "unknown". A guess
// from the process table, never proof: said so wherever it is shown ("written by … " only).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import type { ClientId } from '../model';
import { clientDefinition } from '../clients/registry';
import { runningClients, type RunningClients } from '../repair/processes';
import type { ClientProcess } from '../repair/types';
import type { WriterInfo } from './losses';

export interface WriterProbe {
  /** Running processes of one client (default processes.ts runningClients, which leaves out our own process tree). */
  listClients?: (client: ClientId) => Promise<RunningClients>;
  /** The version of a running client process (default: from its executable's package, Linux only). */
  versionOf?: (p: ClientProcess) => Promise<string | undefined>;
}

/** The writer to tag a new state with, and any `mcp logout <name>` running at the time. */
export async function guessWriter(client: ClientId, probe: WriterProbe = {}): Promise<{ writer: WriterInfo; logoutOf: string[] }> {
  const listed = await (probe.listClients ?? ((c: ClientId) => runningClients(c)))(client).catch(
    (err: unknown): RunningClients => ({ processes: [], known: false, reason: err instanceof Error ? err.message : String(err) }),
  );
  const processes = listed.processes.filter((p) => p.client === client);
  const logoutOf = processes.flatMap((p) => {
    const m = /\bmcp logout (\S+)/.exec(p.command);
    return m ? [m[1]!] : [];
  });
  if (!listed.known) return { writer: { unknownBecause: listed.reason ?? 'running clients cannot be listed here' }, logoutOf };
  if (processes.length !== 1) {
    return { writer: { unknownBecause: processes.length === 0 ? 'no client process was running' : `${processes.length} client processes were running` }, logoutOf };
  }
  const [only] = processes as [ClientProcess];
  const version = await (probe.versionOf ?? processVersion)(only).catch(() => undefined);
  return { writer: { pid: only.pid, ...(version ? { version } : {}), command: only.command }, logoutOf };
}

const PackageJson = z.looseObject({ name: z.string(), version: z.string() });

/**
 * A running client's version, read from what it runs (Linux /proc; untested elsewhere, where it
 * says nothing): Claude Code's native installer names each binary after its version
 * (`~/.local/share/claude/versions/<v>`); an npm install runs `…/@anthropic-ai/claude-code/bin/claude.exe`
 * (2.1.332) or `node …/@openai/codex/bin/codex.js` (0.171.0), whose package.json says the version
 * (the platform package's is `0.171.0-linux-x64`: the suffix is dropped).
 */
export async function processVersion(p: ClientProcess, procRoot = '/proc'): Promise<string | undefined> {
  if (process.platform !== 'linux' && procRoot === '/proc') return undefined;
  const dir = path.join(procRoot, String(p.pid));
  const exe = await fs.readlink(path.join(dir, 'exe')).catch(() => undefined);
  const argv = (await fs.readFile(path.join(dir, 'cmdline'), 'utf8').catch(() => '')).split('\0').filter(Boolean);
  const candidates = [exe?.replace(/ \(deleted\)$/, ''), ...argv.slice(0, 3)].filter((c): c is string => !!c && path.isAbsolute(c));
  for (const file of candidates) {
    const native = /[/\\]claude[/\\]versions[/\\](\d+\.\d+\.\d+[^/\\]*)$/.exec(file);
    if (p.client === 'claude-code' && native) return native[1];
    let d = path.dirname(await fs.realpath(file).catch(() => file));
    for (let i = 0; i < 6 && d !== path.dirname(d); i++, d = path.dirname(d)) {
      const text = await fs.readFile(path.join(d, 'package.json'), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        break;
      }
      const pkg = PackageJson.safeParse(json);
      if (pkg.success && clientDefinition(p.client).process?.npmPackage?.test(pkg.data.name)) return /^\d+\.\d+\.\d+/.exec(pkg.data.version)?.[0] ?? pkg.data.version;
      break;
    }
  }
  return undefined;
}
