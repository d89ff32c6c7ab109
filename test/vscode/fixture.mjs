// Sandbox HOMEs and workspaces for the extension-host suites, shared by both runners
// (runServer.mjs here, runElectron.mjs on a desktop). Every remote URL is loopback: in "fixture"
// on ports nothing listens on (no credentials written), in "probe" on the demo's live labs (tokens
// minted at test time into the sandbox only), so a probe never leaves the machine.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The "fixture" suite: one server in every scope the tests check.
 * Claude Code (formats: shared/docs/client-formats.md): user scope in ~/.claude.json `mcpServers`,
 * local scope in `projects["<workspace>"].mcpServers`, project scope in <workspace>/.mcp.json.
 * Codex: ~/.codex/config.toml `[mcp_servers.NAME]`, one streamable-HTTP and one stdio server.
 * @param {string} root an empty directory to build in
 * @returns {{home: string, workspace: string}}
 */
export function writeFixtureHome(root) {
  const home = path.join(root, 'home');
  const workspace = path.join(root, 'workspace', 'web-app');
  fs.mkdirSync(path.join(home, '.codex'), { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  writeJson(path.join(home, '.claude.json'), {
    numStartups: 1,
    mcpServers: {
      'team-tracker': { type: 'http', url: 'http://127.0.0.1:7401/mcp' },
    },
    projects: {
      [workspace]: {
        allowedTools: [],
        mcpServers: { 'local-notes': { type: 'sse', url: 'http://127.0.0.1:7402/sse' } },
      },
    },
  });
  writeJson(path.join(workspace, '.mcp.json'), {
    mcpServers: { 'shared-wiki': { type: 'http', url: 'http://127.0.0.1:7403/mcp' } },
  });
  fs.writeFileSync(
    path.join(home, '.codex', 'config.toml'),
    [
      'model = "gpt-5-codex"',
      // Test machines have no Secret Service; with the default "auto" the view rightly reports
      // the keyring as unreachable. Keyring paths are covered by the interop suite.
      'mcp_oauth_credentials_store = "file"',
      '',
      '[mcp_servers.docs-search]',
      'url = "http://127.0.0.1:7404/mcp"',
      '',
      '[mcp_servers.local-files]',
      'command = "mcp-fixture-files"',
      'args = ["--root", "."]',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(workspace, 'README.md'), '# web-app\n');
  return { home, workspace };
}

/**
 * The "empty" suite: a HOME with no client config at all (a first-time user).
 * @param {string} root
 * @returns {{home: string, workspace: string}}
 */
export function writeEmptyHome(root) {
  const home = path.join(root, 'home');
  const workspace = path.join(root, 'workspace', 'empty-project');
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  return { home, workspace };
}

/** The probe suite's per-request timeout (workspace setting): the hanging lab costs one of these. */
export const PROBE_SUITE_TIMEOUT_SECONDS = 2;
/** How long the demo may take to start its labs and print its ready line. */
const DEMO_READY_MS = 60_000;

/**
 * The "probe" suite: the demo's sandbox (scripts/demo/demo.ts --offline), one lab server per probe
 * state, live on loopback while the suite runs. Returns a teardown that stops the labs.
 * @param {string} root an empty directory to build in
 * @returns {Promise<{home: string, workspace: string, teardown: () => Promise<void>}>}
 */
export async function startProbeSandbox(root) {
  const { ready, teardown } = await startReadyProcess(['scripts/demo/demo.ts', root, '--offline']);
  const workspace = ready.project;
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  writeJson(path.join(workspace, '.vscode', 'settings.json'), { 'mcpAuthDoctor.probe.timeoutSeconds': PROBE_SUITE_TIMEOUT_SECONDS });
  return { home: ready.home, workspace, teardown };
}

/**
 * The "repairs" suite: the probe suite's demo sandbox (live labs, tokens minted at start-up), plus
 * the user's own Claude login (`claudeAiOauth`, random, made here) beside the MCP grants in Claude
 * Code's store, so the tests can check that a repair leaves it alone, and the project's claude and
 * codex on the terminal's PATH for the hand-off to the clients' own login.
 * @param {string} root an empty directory to build in
 */
export async function startRepairsSandbox(root) {
  const sandbox = await startProbeSandbox(root);
  try {
    const store = path.join(sandbox.home, '.claude', '.credentials.json');
    const blob = JSON.parse(fs.readFileSync(store, 'utf8'));
    blob.claudeAiOauth = {
      accessToken: randomBytes(32).toString('base64url'),
      refreshToken: randomBytes(32).toString('base64url'),
      expiresAt: Date.now() + 8 * 3600_000,
      scopes: ['user:inference'],
    };
    writeJson(store, blob);
    const settings = path.join(sandbox.workspace, '.vscode', 'settings.json');
    const current = JSON.parse(fs.readFileSync(settings, 'utf8'));
    // The loss guard's own warnings are what this suite checks: the journal, which stands in for
    // the guard while it is on, is off here (the "journal" suite covers it).
    writeJson(settings, { ...current, 'mcpAuthDoctor.journal.enabled': false, 'terminal.integrated.env.linux': { PATH: `${path.join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` } });
  } catch (err) {
    await sandbox.teardown();
    throw err;
  }
  return sandbox;
}

/**
 * The "surfaces" suite (status bar, Problems, timers, log, report): one live lab and three logins
 * (test/vscode/surfacesLab.ts), so that after the expired one is fixed nothing needs attention.
 * The lab's control URL reaches the tests in <workspace>/.surfaces-lab.json (no token in it).
 * @param {string} root an empty directory to build in
 */
export async function startSurfacesSandbox(root) {
  const { ready, teardown } = await startReadyProcess(['test/vscode/surfacesLab.ts', root]);
  try {
    writeJson(path.join(ready.workspace, '.surfaces-lab.json'), { control: ready.control, mcpUrl: ready.mcpUrl });
  } catch (err) {
    await teardown();
    throw err;
  }
  return { home: ready.home, workspace: ready.workspace, teardown };
}

/**
 * The "journal" suite: one live lab and three MCP servers the real Claude Code logged in to
 * (test/vscode/journalLab.ts), beside a Claude login, for the credential journal's loss alarms and
 * restores.
 * @param {string} root an empty directory to build in
 */
export async function startJournalSandbox(root) {
  const { ready, teardown } = await startReadyProcess(['test/vscode/journalLab.ts', root], 180_000);
  return { home: ready.home, workspace: ready.workspace, teardown };
}

/**
 * Runs a TypeScript script that starts labs and prints one JSON ready line; returns that line
 * and a teardown that stops it (SIGTERM, SIGKILL after 5 s).
 * @param {string[]} args the script (relative to the repository) and its arguments
 * @param {number} [readyMs] how long it may take to print its ready line
 */
async function startReadyProcess(args, readyMs = DEMO_READY_MS) {
  // Node itself, not npx: a SIGTERM to npx does not reach the labs (test/lab/README.md).
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, args[0]), ...args.slice(1)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  // A runner that exits early (its own timeout, an uncaught error) must not leave the labs running.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const teardown = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    // The script closes its labs (dropping a hanging lab's sockets) and exits; don't wait forever.
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    return { ready: await firstJsonLine(child, exited, readyMs), teardown };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/** The ready line (DemoReady in scripts/demo/demo.ts, SurfacesReady in surfacesLab.ts); stderr kept for the error message. */
function firstJsonLine(child, exited, timeoutMs) {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`the demo printed no ready line within ${timeoutMs / 1000} s${err ? `: ${err.trim()}` : ''}`)), timeoutMs);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.slice(0, nl)));
      } catch {
        reject(new Error(`the demo printed something other than its ready line: ${out.slice(0, 200)}`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code}) before it was ready${err ? `: ${err.trim()}` : ''}`));
    });
  });
}

/**
 * One extension-host run: the suite folder (test/vscode/suite/<name>) and its sandbox, made by
 * either `build(root)` (synchronous, files only) or `setup(root)` (async; may start processes and
 * returns a `teardown` the runner awaits after the suite, whatever happened).
 * @typedef {{home: string, workspace: string, teardown?: () => Promise<void>}} Sandbox
 * @typedef {{suite: string, build?: (root: string) => Sandbox, setup?: (root: string) => Promise<Sandbox>}} Scenario
 * @type {Scenario[]}
 */
export const SCENARIOS = [
  { suite: 'fixture', build: writeFixtureHome },
  { suite: 'empty', build: writeEmptyHome },
  { suite: 'probe', setup: startProbeSandbox },
  // The repairs (refresh, re-login, reset, restore, Undo, hand-off) on the same live labs.
  { suite: 'repairs', setup: startRepairsSandbox },
  // The guided OAuth flow on the same live labs (read-only steps only: nothing registered or written).
  { suite: 'guided', setup: startProbeSandbox },
  // The status bar, Problems and quick fixes, timers, log and report on one lab.
  { suite: 'surfaces', setup: startSurfacesSandbox },
  // The credential journal: loss alarms, Restore of what was lost, History, on real Claude Code logins.
  { suite: 'journal', setup: startJournalSandbox },
];

/**
 * The scenario's sandbox, the same way for both runners; `teardown` is always there (a no-op for
 * `build` scenarios).
 * @param {Scenario} scenario
 * @param {string} root
 * @returns {Promise<Required<Sandbox>>}
 */
export async function prepareSandbox(scenario, root) {
  const sandbox = scenario.setup ? await scenario.setup(root) : scenario.build?.(root);
  if (!sandbox) throw new Error(`scenario ${scenario.suite} has neither build nor setup`);
  return { teardown: async () => {}, ...sandbox };
}

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
}
