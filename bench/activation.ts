// Extension activation time in the real VS Code: the VS Code server from code-server (installed by
// scripts/setup-vscode-server.sh) with headless Chromium as the window, the same harness as
// test/vscode/runServer.mjs (recipe: shared/docs/real-vscode-tests.md). Each round starts a fresh
// server and window on a sandbox HOME, loads the extension from `extensionDir` (the production
// bundle) and runs bench/activationHost.ts in the extension host, which reads VS Code's own
// activation times for the extension. Missing prerequisites skip the measurement with a reason.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { format } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { z } from 'zod';
import type { ActivationSample } from './activationHost';

const REPO = path.resolve(__dirname, '..');

/** The parts of scripts/vscodeServer.mjs used here (a plain .mjs: typed by hand). */
interface VsCodeServerModule {
  node24: string;
  serverMain: string;
  codeServer: string;
  LOOPBACK_ONLY_ENV: Record<string, string>;
  freePort(): Promise<number>;
  waitForPort(port: number, deadline: number): Promise<boolean>;
  spawnVsCodeServer(options: { port: number; home: string; stateDir: string; env?: Record<string, string>; detached?: boolean }): ChildProcess;
}

export interface ActivationResult {
  skipped?: string;
  vscodeVersion?: string;
  rounds: number;
  samples: ActivationSample[];
  /** Median of each column over the rounds. */
  median?: { loadCodeMs: number; callActivateMs: number; finishActivateMs: number; totalMs: number };
  /** Wall time of a whole round (server start, window, activation, teardown). */
  roundWallMs: number[];
  errors: string[];
}

const HostResult = z.union([
  z.object({ ok: z.literal(true), sample: z.object({ vscodeVersion: z.string(), loadCodeMs: z.number(), callActivateMs: z.number(), finishActivateMs: z.number(), eager: z.boolean(), event: z.string(), row: z.string() }) }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

/** Why the measurement cannot run here, or undefined when everything it needs is installed. */
export async function activationUnavailable(): Promise<string | undefined> {
  const vs = await loadServerModule();
  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  for (const [what, file] of [
    ['Node 24', vs.node24],
    ['the VS Code server', vs.serverMain],
    ['Chromium', chromium],
  ] as const) {
    if (!fs.existsSync(file)) return `${what} is missing (${file}): run \`bash scripts/setup-vscode-server.sh\` to measure activation`;
  }
  return undefined;
}

/**
 * `rounds` fresh VS Code servers, each loading the extension at `extensionDir` with HOME = `home`
 * and `workspace` open. `log` gets one line per round.
 */
export async function measureActivation(options: { extensionDir: string; home: string; workspace: string; rounds: number; log: (line: string) => void }): Promise<ActivationResult> {
  const result: ActivationResult = { rounds: options.rounds, samples: [], roundWallMs: [], errors: [] };
  const unavailable = await activationUnavailable();
  if (unavailable) return { ...result, skipped: unavailable };
  const vs = await loadServerModule();
  const hostModule = await buildHostModule();
  result.vscodeVersion = (JSON.parse(fs.readFileSync(path.join(vs.codeServer, 'lib/vscode/package.json'), 'utf8')) as { version: string }).version;
  for (let round = 0; round < options.rounds; round++) {
    const started = Date.now();
    try {
      const sample = await oneRound(vs, hostModule, options);
      result.samples.push(sample);
      options.log(`activation round ${round + 1}/${options.rounds}: load ${sample.loadCodeMs} ms, activate() ${sample.callActivateMs} ms, resolved ${sample.finishActivateMs} ms (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      result.errors.push(message);
      options.log(`activation round ${round + 1}/${options.rounds} failed: ${message.split('\n')[0]}`);
    }
    result.roundWallMs.push(Date.now() - started);
  }
  if (result.samples.length > 0) {
    const med = (f: (s: ActivationSample) => number) => median(result.samples.map(f));
    result.median = {
      loadCodeMs: med((s) => s.loadCodeMs),
      callActivateMs: med((s) => s.callActivateMs),
      finishActivateMs: med((s) => s.finishActivateMs),
      totalMs: med((s) => s.loadCodeMs + s.callActivateMs + s.finishActivateMs),
    };
  }
  return result;
}

async function oneRound(vs: VsCodeServerModule, hostModule: string, options: { extensionDir: string; home: string; workspace: string }): Promise<ActivationSample> {
  const { chromium } = await import('playwright-core');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-bench-vscode-'));
  const resultFile = path.join(tmp, 'result.json');
  const logFile = path.join(REPO, '.test-output', 'bench-activation.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.createWriteStream(logFile);
  const port = await vs.freePort();
  // Own process group (detached): the extension host and its children go with the server.
  const server = vs.spawnVsCodeServer({ port, home: options.home, stateDir: tmp, env: { ...vs.LOOPBACK_ONLY_ENV, MCP_AUTH_BENCH_RESULT: resultFile }, detached: true });
  server.stdout?.on('data', (d: Buffer) => log.write(d));
  server.stderr?.on('data', (d: Buffer) => log.write(d));
  const serverExited = new Promise<string>((resolve) => server.on('exit', (code, signal) => resolve(`the VS Code server exited (${signal ?? code})`)));
  let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = Date.now() + 120_000;
    const timedOut = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timed out after 120 s'), 120_000)));
    const up = await Promise.race([vs.waitForPort(port, deadline).then((ok) => (ok ? 'ready' : 'the VS Code server did not listen')), serverExited, timedOut]);
    if (up !== 'ready') throw new Error(up);
    context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 800 },
      // As in test/vscode/runServer.mjs: nothing but loopback resolves.
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    let exited: (code: number) => void = () => undefined;
    const exitCode = new Promise<number>((resolve) => (exited = resolve));
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => log.write(`[${type}] ${Array.isArray(args) ? format(...(args as unknown[])) : String(args)}\n`));
    await page.exposeFunction('codeAutomationExit', (code: number) => exited(code));
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${options.extensionDir}`],
      ['extensionTestsPath', `vscode-remote://127.0.0.1:${port}${hostModule}`],
      ['skipWelcome', 'true'],
    ];
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(options.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    const settled = await Promise.race([exitCode, serverExited, timedOut]);
    const parsed = fs.existsSync(resultFile) ? HostResult.parse(JSON.parse(fs.readFileSync(resultFile, 'utf8'))) : undefined;
    if (parsed?.ok) return parsed.sample;
    throw new Error(parsed ? parsed.error : `the host module wrote no result (${typeof settled === 'number' ? `exit ${settled}` : settled}); log: ${path.relative(REPO, logFile)}`);
  } finally {
    clearTimeout(timer);
    await context?.close().catch(() => undefined);
    try {
      if (server.pid) process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await Promise.race([serverExited, new Promise((r) => setTimeout(r, 5_000))]);
    log.end();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** bench/activationHost.ts as plain CommonJS for the extension host (like esbuild.js --tests). */
async function buildHostModule(): Promise<string> {
  const esbuild = await import('esbuild');
  const outfile = path.join(REPO, 'out', 'bench', 'activationHost.js');
  await esbuild.build({ entryPoints: [path.join(__dirname, 'activationHost.ts')], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['vscode'], logLevel: 'warning' });
  return outfile;
}

async function loadServerModule(): Promise<VsCodeServerModule> {
  // A computed specifier: the .mjs has no type declarations, the interface above stands in.
  return (await import(pathToFileURL(path.join(REPO, 'scripts', 'vscodeServer.mjs')).href)) as VsCodeServerModule;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}
