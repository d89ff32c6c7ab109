// Drives the real clients from node_modules (pinned: Claude Code 2.1.332 `claude`, Codex 0.171.0
// `codex`; `npm run test:compat` points MAD_CLAUDE_BIN / MAD_CODEX_BIN at other versions) against a sandbox HOME: every call has a deadline and kills the client's process
// group when it passes; the environment is built from scratch (nothing of the developer's own
// HOME, config dirs or API keys leaks in); updates and telemetry are off; anything that is not
// loopback goes to a closed loopback proxy port and fails at once.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import type { Lab } from '../lab';
import { compareVersions, parseVersionLine } from '../../src/core/clientVersions';
import { describeRun, runBounded, startBounded, type RunResult } from './boundedProcess';

export const REPO = path.resolve(__dirname, '../..');
export const CLAUDE_BIN = process.env.MAD_CLAUDE_BIN || path.join(REPO, 'node_modules', '.bin', 'claude');
export const CODEX_BIN = process.env.MAD_CODEX_BIN || path.join(REPO, 'node_modules', '.bin', 'codex');

/** Port 9 (discard) on loopback has no listener here: a proxied request is refused immediately. */
const DEAD_PROXY = 'http://127.0.0.1:9';
const LOOPBACK = '127.0.0.1,localhost,::1';

export interface CallOptions {
  /** Extra environment (e.g. a private Secret Service's DBUS_SESSION_BUS_ADDRESS). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

export type CodexStore = 'file' | 'keyring' | 'auto';

export interface CodexCallOptions extends CallOptions {
  /** `-c mcp_oauth_credentials_store=...` for this call only (config.toml is left as the test wrote it). */
  store?: CodexStore;
}

/** A fresh HOME with the XDG directories in place (XDG_RUNTIME_DIR must be private). */
export async function makeSandboxHome(prefix = 'mad-home-'): Promise<string> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  for (const d of ['.config', '.cache', '.local/share', '.local/state']) await fs.mkdir(path.join(home, d), { recursive: true });
  await fs.mkdir(path.join(home, '.run'), { mode: 0o700 });
  return home;
}

/**
 * The whole environment a client sees. Claude Code: DISABLE_AUTOUPDATER, DISABLE_UPDATES,
 * DISABLE_TELEMETRY, DISABLE_ERROR_REPORTING, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC (also
 * turns off GrowthBook and the release-notes fetch), CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY,
 * DISABLE_INSTALLATION_CHECKS, CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL (names read
 * from the 2.1.197 binary). Codex has no such variables; its update check and analytics are
 * config keys, passed per call (codexArgs). Both honour HTTP(S)_PROXY / NO_PROXY.
 */
export function sandboxEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    USER: os.userInfo().username,
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    TMPDIR: os.tmpdir(),
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    XDG_RUNTIME_DIR: path.join(home, '.run'),
    DISABLE_AUTOUPDATER: '1',
    DISABLE_UPDATES: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1',
    DISABLE_INSTALLATION_CHECKS: '1',
    CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: '1',
    HTTP_PROXY: DEAD_PROXY,
    HTTPS_PROXY: DEAD_PROXY,
    ALL_PROXY: DEAD_PROXY,
    http_proxy: DEAD_PROXY,
    https_proxy: DEAD_PROXY,
    all_proxy: DEAD_PROXY,
    NO_PROXY: LOOPBACK,
    no_proxy: LOOPBACK,
    ...extra,
  };
}

function codexArgs(args: string[], store?: CodexStore): string[] {
  const overrides = ['-c', 'check_for_update_on_startup=false', '-c', 'analytics.enabled=false'];
  if (store) overrides.push('-c', `mcp_oauth_credentials_store="${store}"`);
  return [...overrides, ...args];
}

function ensureOk(what: string, r: RunResult): RunResult {
  if (r.code !== 0 || r.timedOut) throw new Error(describeRun(what, r));
  return r;
}

// ---------------------------------------------------------------------------------------------
// Claude Code

/** `claude mcp add <args>` run in `cwd` (local and project scopes belong to that directory). */
export async function claudeMcpAdd(home: string, cwd: string, args: string[], options: CallOptions = {}): Promise<RunResult> {
  const r = await runBounded(CLAUDE_BIN, ['mcp', 'add', ...args], { cwd, env: sandboxEnv(home, options.env), timeoutMs: options.timeoutMs ?? 30_000 });
  return ensureOk(`claude mcp add ${args.join(' ')}`, r);
}

export type ClaudeServerStatus = 'connected' | 'needs-auth' | 'failed' | 'pending-approval' | 'other';

export interface ClaudeListedServer {
  name: string;
  /** What claude prints after the name: `<url> (HTTP)`, `<url> (SSE)` or the stdio command line. */
  target: string;
  status: ClaudeServerStatus;
  /** The status words as printed, e.g. `✔ Connected`. */
  statusText: string;
}

const CLAUDE_STATUS: Record<string, ClaudeServerStatus> = {
  '✔ Connected': 'connected',
  '! Needs authentication': 'needs-auth',
  '✘ Failed to connect': 'failed',
  // A project (.mcp.json) server the user has not approved yet; claude does not connect to it.
  '⏸ Pending approval (run `claude` to approve)': 'pending-approval',
};

/** Reads `claude mcp list` (it has no JSON output): one entry per `<name>: <target> - <status>` line. */
export function parseClaudeMcpList(stdout: string): ClaudeListedServer[] {
  const servers: ClaudeListedServer[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    // The name ends at the first ": " (plugin names contain ':' but no space); the status after the last " - ".
    const m = /^(\S.*?): (.*) - (\S.*)$/.exec(line.trim());
    if (!m) continue;
    const [, name = '', target = '', statusText = ''] = m;
    servers.push({ name, target, statusText, status: CLAUDE_STATUS[statusText] ?? 'other' });
  }
  return servers;
}

/** `claude mcp list` in `cwd`: connects to every server (and registers an OAuth client with each one that answers 401). */
export async function claudeMcpList(home: string, cwd: string, options: CallOptions = {}): Promise<{ servers: ClaudeListedServer[]; run: RunResult }> {
  const run = ensureOk('claude mcp list', await runBounded(CLAUDE_BIN, ['mcp', 'list'], { cwd, env: sandboxEnv(home, options.env), timeoutMs: options.timeoutMs ?? 60_000 }));
  return { servers: parseClaudeMcpList(run.stdout), run };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `claude mcp login NAME --no-browser`, which refuses a stdin that is not a terminal: run under a
 * pseudo-terminal (util-linux `script`) 4000 columns wide so the URL is printed on one line,
 * approve the printed authorization URL at the lab, and paste the redirect URL back.
 */
export async function claudeLogin(home: string, cwd: string, name: string, lab: Lab, options: CallOptions = {}): Promise<RunResult> {
  const inner = `stty cols 4000 rows 50 && exec ${shellQuote(CLAUDE_BIN)} mcp login ${shellQuote(name)} --no-browser`;
  const running = startBounded('script', ['-q', '-f', '-e', '-c', inner, '/dev/null'], {
    cwd,
    env: sandboxEnv(home, options.env),
    timeoutMs: options.timeoutMs ?? 60_000,
    keepStdin: true,
  });
  try {
    const [url = ''] = await running.waitFor(/https?:\/\/\S+[?&]code_challenge=\S+/);
    await running.waitFor(/paste the redirect URL/i);
    const redirect = await lab.approve(url);
    running.child.stdin.write(`${redirect}\r`);
    await running.waitFor(/Authenticated with|[Ee]rror|[Ff]ailed/);
    running.child.stdin.end();
  } catch (err) {
    running.kill();
    const r = await running.done;
    throw new Error(`${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n${describeRun('claude mcp login', r)}`, { cause: err });
  }
  return ensureOk(`claude mcp login ${name}`, await running.done);
}

// ---------------------------------------------------------------------------------------------
// Codex

export interface CodexAddResult {
  run: RunResult;
  /**
   * `codex mcp add --url` probes the server and, finding OAuth, starts a login at once and waits
   * for its callback. `completed`: a lab was given and the flow was approved; `abandoned`: no lab
   * was given and the client was stopped once the entry was written; `not-offered`: no login.
   */
  oauth: 'not-offered' | 'completed' | 'abandoned';
}

export async function codexMcpAdd(home: string, args: string[], options: CodexCallOptions & { lab?: Lab } = {}): Promise<CodexAddResult> {
  const running = startBounded(CODEX_BIN, codexArgs(['mcp', 'add', ...args], options.store), { cwd: home, env: sandboxEnv(home, options.env), timeoutMs: options.timeoutMs ?? 60_000 });
  const outcome = await Promise.race([running.done.then(() => 'exited' as const), running.waitFor(/Detected OAuth support/).then(() => 'oauth' as const, () => 'exited' as const)]);
  if (outcome === 'exited') return { run: ensureOk(`codex mcp add ${args.join(' ')}`, await running.done), oauth: 'not-offered' };
  if (!options.lab) {
    running.kill('SIGTERM');
    return { run: await running.done, oauth: 'abandoned' };
  }
  await completeCodexCallback(running, options.lab);
  return { run: ensureOk(`codex mcp add ${args.join(' ')}`, await running.done), oauth: 'completed' };
}

const CodexListEntry = z.looseObject({
  name: z.string(),
  enabled: z.boolean(),
  transport: z.looseObject({ type: z.string(), url: z.string().nullish(), command: z.string().nullish() }),
  auth_status: z.string().nullish(),
});
export type CodexListEntry = z.infer<typeof CodexListEntry>;

/** `codex mcp list --json`, parsed (auth_status: `not_logged_in`, `o_auth`, `bearer_token`, `unsupported`). */
export async function codexMcpListJson(home: string, options: CodexCallOptions = {}): Promise<CodexListEntry[]> {
  const r = ensureOk('codex mcp list --json', await runBounded(CODEX_BIN, codexArgs(['mcp', 'list', '--json'], options.store), { cwd: home, env: sandboxEnv(home, options.env), timeoutMs: options.timeoutMs ?? 30_000 }));
  return z.array(CodexListEntry).parse(JSON.parse(r.stdout));
}

/**
 * `codex mcp login NAME`: Codex prints the authorization URL and waits on a loopback callback;
 * the lab approves the URL and the redirect is delivered to that callback, as a browser would.
 */
export async function codexLogin(home: string, name: string, lab: Lab, options: CodexCallOptions = {}): Promise<RunResult> {
  const running = startBounded(CODEX_BIN, codexArgs(['mcp', 'login', name], options.store), { cwd: home, env: sandboxEnv(home, options.env), timeoutMs: options.timeoutMs ?? 60_000 });
  await completeCodexCallback(running, lab);
  return ensureOk(`codex mcp login ${name}`, await running.done);
}

async function completeCodexCallback(running: ReturnType<typeof startBounded>, lab: Lab): Promise<void> {
  try {
    const [url = ''] = await running.waitFor(/https?:\/\/\S+[?&]code_challenge=\S+/);
    const redirect = await lab.approve(url);
    const res = await fetch(redirect, { signal: AbortSignal.timeout(15_000) });
    await res.body?.cancel();
  } catch (err) {
    running.kill();
    const r = await running.done;
    throw new Error(`${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n${describeRun('codex OAuth login', r)}`, { cause: err });
  }
}

export interface CodexServerStatus {
  name: string;
  /** `authStatus` as the app-server reports it (e.g. `oAuth`, `notLoggedIn`). */
  authStatus?: string;
  tools: string[];
  /** Why Codex could not list the server's tools (e.g. a failed refresh), when it could not. */
  toolsError?: string;
  raw: Record<string, unknown>;
}

const StatusPage = z.looseObject({
  data: z.array(
    z.looseObject({
      name: z.string(),
      authStatus: z.string().nullish(),
      tools: z.record(z.string(), z.unknown()).nullish(),
      toolsError: z.unknown().optional(),
    }),
  ),
  nextCursor: z.string().nullish(),
});

/**
 * `codex app-server` over stdio (JSON-RPC, one message a line): initialize, the initialized
 * notification, then mcpServerStatus/list until there is no nextCursor. Codex connects to each
 * server with its stored credential, so this says whether Codex itself can use it.
 */
export async function codexAppServerStatus(home: string, options: CodexCallOptions = {}): Promise<CodexServerStatus[]> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const running = startBounded(CODEX_BIN, codexArgs(['app-server'], options.store), { cwd: home, env: sandboxEnv(home, options.env), timeoutMs, keepStdin: true });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let buffer = '';
  running.child.stdout.on('data', (d: string) => {
    buffer += d;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line) continue;
      let msg: { id?: number; result?: unknown; error?: { message?: string } };
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      const waiter = typeof msg.id === 'number' ? pending.get(msg.id) : undefined;
      if (!waiter || msg.id === undefined) continue;
      pending.delete(msg.id);
      if (msg.error) waiter.reject(new Error(`app-server: ${msg.error.message ?? JSON.stringify(msg.error)}`));
      else waiter.resolve(msg.result);
    }
  });
  void running.done.then((r) => {
    for (const w of pending.values()) w.reject(new Error(describeRun('codex app-server ended early', r)));
    pending.clear();
  });
  let nextId = 1;
  const request = (method: string, params: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      running.child.stdin.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  try {
    await request('initialize', { clientInfo: { name: 'mcp-auth-doctor-tests', version: '0.1.0' } });
    running.child.stdin.write(`${JSON.stringify({ method: 'initialized', params: {} })}\n`);
    const servers: CodexServerStatus[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const result = StatusPage.parse(await request('mcpServerStatus/list', cursor ? { cursor } : {}));
      for (const s of result.data) {
        servers.push({
          name: s.name,
          authStatus: s.authStatus ?? undefined,
          tools: Object.keys(s.tools ?? {}).sort(),
          toolsError: s.toolsError === undefined || s.toolsError === null ? undefined : typeof s.toolsError === 'string' ? s.toolsError : JSON.stringify(s.toolsError),
          raw: s,
        });
      }
      cursor = result.nextCursor ?? undefined;
      if (!cursor) break;
    }
    return servers;
  } finally {
    running.child.stdin.end();
    const ended = await Promise.race([running.done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
    if (!ended) running.kill();
    await running.done;
  }
}

// ---------------------------------------------------------------------------------------------
// Versions of the clients under test (pinned, or what a compat run points MAD_*_BIN at)

let claudeVersionOnce: Promise<string> | undefined;

/** What CLAUDE_BIN calls itself (`2.1.332 (Claude Code)` → `2.1.332`), asked once per run. */
export function claudeVersion(): Promise<string> {
  claudeVersionOnce ??= (async () => {
    const home = await makeSandboxHome('mad-version-');
    try {
      const r = ensureOk('claude --version', await runBounded(CLAUDE_BIN, ['--version'], { cwd: home, env: sandboxEnv(home), timeoutMs: 30_000 }));
      const v = parseVersionLine('claude-code', r.stdout);
      if (!v) throw new Error(`claude --version printed no version: ${r.stdout.slice(0, 80)}`);
      return v;
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  })();
  return claudeVersionOnce;
}

/**
 * Claude Code registers its OAuth client while `claude mcp list` connects (seen in 2.1.197) or
 * defers registration to `claude mcp login` (seen in 2.1.332). No version in between was run:
 * the boundary is taken as 2.1.332 until a compat run with an older version says otherwise.
 */
export async function claudeRegistersWhileListing(): Promise<boolean> {
  return compareVersions(await claudeVersion(), '2.1.332') < 0;
}

/** Claude Code 2.1.332 saves a top-level `issuer` with every client and token; 2.1.197 did not (versions between: not run). */
export async function claudeSavesIssuer(): Promise<boolean> {
  return compareVersions(await claudeVersion(), '2.1.332') >= 0;
}
