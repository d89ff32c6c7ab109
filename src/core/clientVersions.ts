// Which version of each client is installed, and whether it is newer than the newest we verified
// our reading and writing against. Two places are looked at: the binary on PATH (`claude
// --version` prints "2.1.332 (Claude Code)", `codex --version` "codex-cli 0.171.0"; read from the
// pinned binaries in node_modules), and the VS Code extension folders
// (`<extensions>/<id>-<version>[-<platform>]/package.json`). All I/O is injected: the core lists
// directories, reads files and asks a runner for one fixed `--version` call.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import type { Environment } from './environment';
import { CLIENT_LABELS, type ClientId } from './model';
import { CLIENTS, clientDefinition } from './clients/registry';
import type { VersionRule } from './clients/types';
import { plainTerminalText } from './terminalText';

/**
 * The newest client versions the interop suite verified every format rule against (package.json
 * pins them; `npm run test:compat` checks others), from each client's definition (clients/<id>/).
 * Change them with the pins, never ahead of them.
 */
export const NEWEST_VERIFIED: Readonly<Partial<Record<ClientId, string>>> = Object.freeze(Object.fromEntries(CLIENTS.flatMap((c) => (c.version ? [[c.id, c.version.newestVerified]] : []))));

/** The clients that say their version somewhere we look (a binary on PATH, a VS Code extension). */
export function versionedClients(clients: readonly ClientId[]): ClientId[] {
  return clients.filter((c) => clientDefinition(c).version !== undefined);
}

function versionRule(client: ClientId): VersionRule {
  const rule = clientDefinition(client).version;
  if (!rule) throw new Error(`${CLIENT_LABELS[client]} has no version rule`);
  return rule;
}

export const VERSION_TIMEOUT_MS = 3000;

export type VersionSource = 'path' | 'vscode-extension';

/** One installation of a client, and what it said its version is. */
export interface ClientInstallation {
  client: ClientId;
  source: VersionSource;
  /** The client's own version (x.y.z), when it could be read. */
  version?: string;
  /** The binary run, or the extension folder. */
  where: string;
  /** For openai.chatgpt: the extension's own version, which is not Codex's. */
  extensionVersion?: string;
  /** The first line the binary printed, plain text. */
  line?: string;
  /** Why there is no version: not on PATH, did not answer, an unexpected answer. */
  problem?: string;
}

export interface ClientVersionInfo {
  client: ClientId;
  /** The version we judge by: the newest of the installations that told us theirs. */
  version?: string;
  source?: VersionSource;
  installations: ClientInstallation[];
  newestVerified: string;
  /** `version` is newer than `newestVerified`. */
  newerThanVerified: boolean;
}

/** What a `--version` call returned. `error` 'not-found' when there is no such binary. */
export interface VersionRun {
  stdout: string;
  code: number | null;
  error?: 'not-found' | 'timeout' | string;
}

export interface VersionIo {
  /** Runs `command --version` (no shell, fixed arguments, bounded by VERSION_TIMEOUT_MS). */
  runVersion(command: string): Promise<VersionRun>;
  listDir(dir: string): Promise<string[]>;
  readFile(file: string): Promise<string>;
  /** VS Code's extension folders to look in (`~/.vscode/extensions`, the server's, Insiders'). */
  extensionDirs: string[];
}

/** `2.1.332 (Claude Code)` → 2.1.332; `codex-cli 0.171.0` → 0.171.0; anything else: undefined. */
export function parseVersionLine(client: ClientId, output: string): string | undefined {
  return clientDefinition(client).version?.parse(firstLine(output));
}

function firstLine(output: string): string {
  return plainTerminalText(output).split(/\r?\n/).map((l) => l.trim()).find(Boolean)?.slice(0, 120) ?? '';
}

/** Numeric x.y.z comparison; a pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.split('-', 2);
    return { parts: core.split('.').map((n) => Number.parseInt(n, 10) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.parts.length, y.parts.length); i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

const ExtensionManifest = z.object({ name: z.string(), publisher: z.string(), version: z.string() }).loose();

/** The binary on PATH. */
async function fromPath(client: ClientId, io: VersionIo): Promise<ClientInstallation> {
  const command = versionRule(client).binary;
  return fromBinary(client, command, 'path', io);
}

async function fromBinary(client: ClientId, command: string, source: VersionSource, io: VersionIo): Promise<ClientInstallation> {
  let r: VersionRun;
  try {
    r = await io.runVersion(command);
  } catch (err) {
    return { client, source, where: command, problem: `could not run: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (r.error === 'not-found') return { client, source, where: command, problem: 'not found' };
  if (r.error === 'timeout') return { client, source, where: command, problem: `did not answer within ${VERSION_TIMEOUT_MS / 1000} s` };
  const line = firstLine(r.stdout);
  const version = parseVersionLine(client, r.stdout);
  if (r.error || r.code !== 0) return { client, source, where: command, ...(line ? { line } : {}), problem: r.error ? `did not answer (${r.error})` : `exited ${r.code}` };
  if (!version) return { client, source, where: command, ...(line ? { line } : {}), problem: 'printed no version we recognise' };
  return { client, source, where: command, version, line };
}

/** Installed extension folders of `id` (VS Code names them `<id>-<version>` or `<id>-<version>-<platform>`). */
async function fromExtensions(client: ClientId, io: VersionIo): Promise<ClientInstallation[]> {
  const extension = versionRule(client).vscodeExtension;
  if (!extension) return [];
  const id = extension.id;
  const out: ClientInstallation[] = [];
  for (const dir of io.extensionDirs) {
    let names: string[];
    try {
      names = await io.listDir(dir);
    } catch {
      continue; // no such editor here
    }
    for (const name of names.filter((n) => n.toLowerCase().startsWith(`${id}-`)).sort()) {
      const folder = path.join(dir, name);
      let manifest: z.infer<typeof ExtensionManifest>;
      try {
        const parsed = ExtensionManifest.safeParse(JSON.parse(await io.readFile(path.join(folder, 'package.json'))));
        if (!parsed.success || `${parsed.data.publisher}.${parsed.data.name}`.toLowerCase() !== id) continue;
        manifest = parsed.data;
      } catch {
        continue; // a half-installed or foreign folder
      }
      if (extension.version === 'manifest') {
        out.push({ client, source: 'vscode-extension', where: folder, ...(/^\d+\.\d+\.\d+/.test(manifest.version) ? { version: manifest.version } : { problem: `extension version ${manifest.version} is not x.y.z` }) });
        continue;
      }
      // openai.chatgpt: ask the Codex binary it carries (bin/<platform>/codex[.exe]).
      const bundled = await bundledBinary(folder, versionRule(client).binary, io);
      if (!bundled) {
        out.push({ client, source: 'vscode-extension', where: folder, extensionVersion: manifest.version, problem: `no ${CLIENT_LABELS[client]} binary found in the extension` });
        continue;
      }
      const asked = await fromBinary(client, bundled, 'vscode-extension', io);
      out.push({ ...asked, where: folder, extensionVersion: manifest.version });
    }
  }
  return out;
}

async function bundledBinary(folder: string, binary: string, io: VersionIo): Promise<string | undefined> {
  const bin = path.join(folder, 'bin');
  let platforms: string[];
  try {
    platforms = await io.listDir(bin);
  } catch {
    return undefined;
  }
  for (const p of platforms.sort()) {
    let files: string[];
    try {
      files = await io.listDir(path.join(bin, p));
    } catch {
      continue;
    }
    const exe = files.find((f) => f === binary || f === `${binary}.exe`);
    if (exe) return path.join(bin, p, exe);
  }
  return undefined;
}

/** Every installation of each client, and the version we judge it by. */
export async function detectClientVersions(io: VersionIo, clients: readonly ClientId[]): Promise<ClientVersionInfo[]> {
  return Promise.all(
    versionedClients(clients).map(async (client) => {
      const installations = [await fromPath(client, io), ...(await fromExtensions(client, io))];
      const known = installations.filter((i): i is ClientInstallation & { version: string } => i.version !== undefined);
      const newest = known.reduce<(ClientInstallation & { version: string }) | undefined>((best, i) => (!best || compareVersions(i.version, best.version) > 0 ? i : best), undefined);
      const newestVerified = versionRule(client).newestVerified;
      return {
        client,
        ...(newest ? { version: newest.version, source: newest.source } : {}),
        installations,
        newestVerified,
        newerThanVerified: newest ? compareVersions(newest.version, newestVerified) > 0 : false,
      };
    }),
  );
}

/** One line for people: `Claude Code 2.1.332 (claude on PATH)`, `Codex: version unknown (codex: not found)`. */
export function describeClientVersion(info: ClientVersionInfo): string {
  const label = CLIENT_LABELS[info.client];
  return info.version ? `${label} ${describeVersion(info)}` : `${label}: ${describeVersion(info)}`;
}

/** The version and where it came from, without the client's name: `2.1.332 (claude on PATH)`. */
export function describeVersion(info: ClientVersionInfo): string {
  if (!info.version) {
    const why = info.installations.map((i) => `${i.source === 'path' ? i.where : 'extension'}: ${i.problem ?? 'no version'}`).join('; ');
    return `version unknown (${why})`;
  }
  const rule = clientDefinition(info.client).version;
  const src = info.source === 'path' ? `${rule?.binary ?? 'binary'} on PATH` : `VS Code extension ${rule?.vscodeExtension?.id ?? ''}`;
  const beyond = info.newerThanVerified ? `, newer than the newest verified ${info.newestVerified}` : '';
  return `${info.version} (${src}${beyond})`;
}

/** VS Code's extension folders for this environment: desktop, Insiders, the remote server's and code-server's. */
export function defaultExtensionDirs(e: Environment): string[] {
  const dirs = [
    path.join(e.home, '.vscode', 'extensions'),
    path.join(e.home, '.vscode-insiders', 'extensions'),
    path.join(e.home, '.vscode-server', 'extensions'),
    path.join(e.home, '.local', 'share', 'code-server', 'extensions'),
  ];
  if (e.env.VSCODE_EXTENSIONS) dirs.unshift(path.resolve(e.env.VSCODE_EXTENSIONS));
  return [...new Set(dirs)];
}

/**
 * The real I/O: `execFile(command, ['--version'])` with no shell (a Windows .cmd shim therefore
 * does not answer; untested on Windows), the environment's PATH, a 3 s limit and a small output
 * cap; directory listings and file reads from the disk.
 */
export function nodeVersionIo(e: Environment, extensionDirs = defaultExtensionDirs(e)): VersionIo {
  return {
    extensionDirs,
    listDir: (dir) => fs.readdir(dir),
    readFile: (file) => fs.readFile(file, 'utf8'),
    runVersion: (command) =>
      new Promise((resolve) => {
        execFile(
          command,
          ['--version'],
          { timeout: VERSION_TIMEOUT_MS, killSignal: 'SIGKILL', windowsHide: true, shell: false, maxBuffer: 64 * 1024, env: e.env as NodeJS.ProcessEnv },
          (err, stdout) => {
            const out = String(stdout ?? '');
            if (!err) return resolve({ stdout: out, code: 0 });
            const ex = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
            if (ex.code === 'ENOENT') return resolve({ stdout: out, code: null, error: 'not-found' });
            if (ex.killed) return resolve({ stdout: out, code: null, error: 'timeout' });
            resolve({ stdout: out, code: typeof ex.code === 'number' ? ex.code : null, ...(typeof ex.code === 'number' ? {} : { error: String(ex.code ?? ex.message) }) });
          },
        );
      }),
  };
}

/** `io` with each `--version` answer kept for `ttlMs` (the editor scans on every file change; clients update rarely). */
export function cachedVersionIo(io: VersionIo, ttlMs = 10 * 60_000, now: () => number = Date.now): VersionIo {
  const kept = new Map<string, { at: number; run: Promise<VersionRun> }>();
  return {
    ...io,
    runVersion: (command) => {
      const hit = kept.get(command);
      if (hit && now() - hit.at < ttlMs) return hit.run;
      const run = io.runVersion(command);
      kept.set(command, { at: now(), run });
      return run;
    },
  };
}
