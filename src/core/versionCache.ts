// Each client's `--version` answer kept on disk, keyed by the binary it came from: `status` runs in
// a fresh process every time, and asking `codex --version` costs a Node process and its native
// binary (about 80 ms and 44 MB here) for an answer that only changes when the binary does. A
// binary whose path, size, modification time or inode differs from the kept one is asked again,
// so an update (npm, Homebrew and the installers all replace the file) is seen on the next run.
//
// Only clean answers (exit 0) are kept; a binary that is missing, slow or failing is asked every
// time. The file holds versions and paths, nothing secret; it lives beside our backups.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import type { Environment } from './environment';
import type { VersionIo, VersionRun } from './clientVersions';

const CacheFile = z.object({
  schema: z.literal(1),
  binaries: z.record(z.string(), z.object({ identity: z.string(), stdout: z.string().max(4096) })),
});
type CacheFile = z.infer<typeof CacheFile>;

/** `$MCP_AUTH_DOCTOR_CACHE_DIR`, else `~/.mcp-auth-doctor/cache`. */
export function versionCacheFile(e: Environment): string {
  const dir = e.env.MCP_AUTH_DOCTOR_CACHE_DIR ? path.resolve(e.env.MCP_AUTH_DOCTOR_CACHE_DIR) : path.join(e.home, '.mcp-auth-doctor', 'cache');
  return path.join(dir, 'client-versions.json');
}

/** Where `command` resolves on `PATH` (as execFile without a shell finds it), or undefined. */
export async function findOnPath(command: string, e: Environment): Promise<string | undefined> {
  if (command.includes('/') || command.includes('\\')) return (await isExecutable(command)) ? command : undefined;
  const pathVar = e.env.PATH ?? e.env.Path ?? '';
  const sep = e.platform === 'win32' ? ';' : ':';
  const exts = e.platform === 'win32' ? (e.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean) : [''];
  for (const dir of pathVar.split(sep).filter(Boolean)) {
    for (const ext of exts) {
      const candidate = path.join(dir, command + ext);
      if (await isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const s = await fs.stat(file);
    return s.isFile() && (process.platform === 'win32' || (s.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/** What identifies the binary's bytes without reading them: where it really is, and its stat. */
async function identityOf(file: string): Promise<string | undefined> {
  try {
    const real = await fs.realpath(file);
    const s = await fs.stat(real);
    return JSON.stringify([real, s.size, Math.trunc(s.mtimeMs), s.ino]);
  } catch {
    return undefined;
  }
}

/**
 * `io` whose `runVersion` answers from the cache file while the binary on PATH is the one the
 * answer came from. Unreadable or malformed cache files are ignored (and rewritten on the next
 * clean answer); a cache that cannot be written only costs the next run a `--version` call.
 */
export function persistentVersionIo(io: VersionIo, e: Environment, file = versionCacheFile(e)): VersionIo {
  let cache: Promise<CacheFile> | undefined;
  const load = () =>
    (cache ??= fs
      .readFile(file, 'utf8')
      .then((text) => CacheFile.parse(JSON.parse(text)))
      .catch((): CacheFile => ({ schema: 1, binaries: {} })));
  let writes = Promise.resolve();
  const save = (update: (c: CacheFile) => void) => {
    writes = writes.then(async () => {
      const c = await load();
      update(c);
      try {
        await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
        const tmp = `${file}.${process.pid}.tmp`;
        await fs.writeFile(tmp, JSON.stringify(c) + '\n', { mode: 0o600 });
        await fs.rename(tmp, file);
      } catch {
        // A read-only home: the next run asks the binary again.
      }
    });
    return writes;
  };
  return {
    ...io,
    runVersion: async (command): Promise<VersionRun> => {
      const binary = await findOnPath(command, e);
      const identity = binary ? await identityOf(binary) : undefined;
      // Not on PATH: what execFile would answer (ENOENT), without spawning anything to hear it.
      if (!binary) return { stdout: '', code: null, error: 'not-found' };
      if (!identity) return io.runVersion(command);
      const kept = (await load()).binaries[binary];
      if (kept && kept.identity === identity) return { stdout: kept.stdout, code: 0 };
      const run = await io.runVersion(command);
      if (run.code === 0 && !run.error && run.stdout.length <= 4096) {
        // Written before we answer, so a process that exits right after still keeps it.
        await save((c) => {
          c.binaries[binary] = { identity, stdout: run.stdout };
        });
      }
      return run;
    },
  };
}
