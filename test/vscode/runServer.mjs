// Runs the extension-host suites inside a real VS Code without a display or a VS Code download:
// the VS Code server from the code-server npm package (Node 24) plus headless Chromium as the
// window, driven by playwright-core. Recipe: shared/docs/real-vscode-tests.md.
//
//   node test/vscode/runServer.mjs [--suite fixture|empty|probe]... [--timeout SECONDS] [--summary FILE]
//
// Builds nothing: run `npm run build && node esbuild.js --tests` first, and
// scripts/setup-vscode-server.sh once. Each scenario (test/vscode/fixture.mjs) gets its own sandbox
// HOME, workspace and server process, because HOME is fixed per server; a scenario with an async
// setup (the probe suite's live labs) is torn down after its suite, whatever happened. While a suite runs, its
// tests ask for UI checks through a bridge directory (suite/uiBridge.ts); uiDriver.mjs answers on
// the same page. Exit code: 0 when every suite passed.
//
// Output: the suite's own lines (mocha's reporter, note() in suite/helpers.ts) and a count per
// suite; the whole workbench and host log goes to .test-output/vscode-<suite>.log (DEBUG=1 prints
// it too); screenshots to .test-output/screenshots/. Network: loopback only (the window resolves
// no other host; the extension gallery is off).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { format, parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { codeServer, freePort, LOOPBACK_ONLY_ENV, node24, root, serverMain, spawnVsCodeServer, waitForPort, workbenchUrl } from '../../scripts/vscodeServer.mjs';
import { SCENARIOS, prepareSandbox } from './fixture.mjs';
import { serveUiRequests } from './uiDriver.mjs';

const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const suiteIndex = path.join(root, 'out/test/vscode/suite/index.js');
const screenshotDir = path.join(root, '.test-output/screenshots');

const { values: opts } = parseArgs({
  options: {
    suite: { type: 'string', multiple: true },
    timeout: { type: 'string', default: '300' },
    summary: { type: 'string' },
  },
});

for (const [what, file, fix] of [
  ['Node 24', node24, 'bash scripts/setup-vscode-server.sh'],
  ['the VS Code server', serverMain, 'bash scripts/setup-vscode-server.sh'],
  ['Chromium', chromiumPath, 'bash scripts/setup-vscode-server.sh'],
  ['the extension bundle', path.join(root, 'dist/extension.js'), 'npm run build'],
  ['the compiled suite', suiteIndex, 'node esbuild.js --tests'],
]) {
  if (!fs.existsSync(file)) {
    console.error(`runServer: ${what} is missing (${file}); run \`${fix}\` first.`);
    process.exit(2);
  }
}

const vscodeVersion = JSON.parse(fs.readFileSync(path.join(codeServer, 'lib/vscode/package.json'), 'utf8')).version;
const codeServerVersion = JSON.parse(fs.readFileSync(path.join(codeServer, 'package.json'), 'utf8')).version;
const scenarios = opts.suite ? SCENARIOS.filter((s) => opts.suite.includes(s.suite)) : SCENARIOS;
if (scenarios.length === 0) {
  console.error(`runServer: no suite named ${opts.suite.join(', ')}; known: ${SCENARIOS.map((s) => s.suite).join(', ')}`);
  process.exit(2);
}
const timeoutMs = Number(opts.timeout) * 1000;
/** Prefix suite/index.ts puts on the extension host's console lines. */
const HOST_MARK = '[host] ';

console.log(`runServer: VS Code ${vscodeVersion} (code-server ${codeServerVersion}), suites: ${scenarios.map((s) => s.suite).join(', ')}`);
const results = [];
for (const scenario of scenarios) results.push(await runScenario(scenario));

const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
for (const r of results) {
  console.log(`runServer: ${r.suite}: ${r.passed} passed, ${r.failed} failed, ${r.pending} pending in VS Code ${r.vscodeVersion} (${(r.wallMs / 1000).toFixed(1)} s)${r.error ? ` — ${r.error}` : ''}`);
}
if (opts.summary) fs.writeFileSync(opts.summary, JSON.stringify({ vscodeVersion, passed, failed, results }, null, 2));
console.log(`runServer: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || results.some((r) => r.exitCode !== 0) ? 1 : 0);

/** One server + one window + one suite; always cleans up, and never outlives `timeoutMs`. */
async function runScenario(scenario) {
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `mcp-auth-vscode-${scenario.suite}-`));
  let sandbox;
  try {
    sandbox = await prepareSandbox(scenario, path.join(tmp, 'sandbox'));
  } catch (err) {
    const error = `sandbox setup failed: ${err instanceof Error ? err.message : String(err)}`;
    console.log(`[${scenario.suite}] ${error}`);
    if (!process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
    return { suite: scenario.suite, passed: 0, failed: 1, pending: 0, vscodeVersion, exitCode: 1, error, wallMs: Date.now() - started };
  }
  const { home, workspace } = sandbox;
  const bridge = path.join(tmp, 'ui-bridge');
  const resultsFile = path.join(tmp, 'results.json');
  fs.mkdirSync(bridge);
  const port = await freePort();

  const logFile = path.join(root, '.test-output', `vscode-${scenario.suite}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.createWriteStream(logFile);

  // Own process group (detached), so the extension host and its children die with it.
  const server = spawnVsCodeServer({
    port,
    home,
    stateDir: tmp,
    env: { ...LOOPBACK_ONLY_ENV, MCP_AUTH_SUITE: scenario.suite, MCP_AUTH_UI_BRIDGE: bridge, MCP_AUTH_RESULTS_FILE: resultsFile },
    detached: true,
  });
  const serverLog = [];
  const keep = (d) => {
    log.write(d);
    serverLog.push(...d.toString().split('\n').filter(Boolean));
  };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  const serverExited = new Promise((resolve) => server.on('exit', (code, signal) => resolve(`VS Code server exited (${signal ?? code})`)));

  let context;
  let stopUi = () => {};
  let timer;
  const outcome = { exitCode: 1, error: undefined };
  try {
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve(`timed out after ${timeoutMs / 1000} s`), timeoutMs);
    });
    const ready = await Promise.race([
      waitForPort(port, started + timeoutMs).then((up) => (up ? 'ready' : new Promise(() => {}))),
      serverExited,
      timedOut,
    ]);
    if (ready !== 'ready') throw new Error(ready);

    context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        // Nothing but loopback resolves, so the window cannot reach the network even by accident
        // (localhost too: Claude Code's login redirect URI is http://localhost:<port>/callback).
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    let exited;
    const exitCode = new Promise((resolve) => (exited = resolve));
    // In extension-test mode the workbench's log and the extension host's console both arrive
    // here; the suite marks its own lines (HOST_MARK in suite/index.ts) so only those are shown.
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = Array.isArray(args) ? format(...args) : String(args);
      log.write(`[${type}] ${text}\n`);
      if (text.startsWith(HOST_MARK)) {
        for (const line of text.slice(HOST_MARK.length).split('\n')) console.log(`[${scenario.suite}] ${line}`);
      }
      else if (process.env.DEBUG) console.log(`[${scenario.suite} ${type}] ${text}`);
    });
    await page.exposeFunction('codeAutomationExit', (code) => exited(code));
    page.on('console', (msg) => log.write(`[page ${msg.type()}] ${msg.text()}\n`));
    page.on('pageerror', (err) => log.write(`[page error] ${err.message}\n`));
    stopUi = serveUiRequests(page, bridge, { screenshotDir, suite: scenario.suite });

    await page.goto(
      workbenchUrl(port, workspace, [
        ['extensionTestsPath', `vscode-remote://127.0.0.1:${port}${suiteIndex}`],
        ['skipWelcome', 'true'],
      ]),
    );
    const settled = await Promise.race([exitCode, serverExited, timedOut]);
    if (typeof settled !== 'number') throw new Error(String(settled));
    outcome.exitCode = settled;
  } catch (err) {
    outcome.error = err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
    stopUi();
    await context?.close().catch(() => {});
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await sandbox.teardown().catch((err) => console.log(`[${scenario.suite}] sandbox teardown failed: ${err instanceof Error ? err.message : err}`));
  }

  let counts = { passed: 0, failed: 1, pending: 0, vscodeVersion };
  if (fs.existsSync(resultsFile)) {
    const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    counts = { passed: r.passed, failed: r.failed, pending: r.pending, vscodeVersion: r.vscodeVersion };
    // Repeated from the results file in case the host's console was cut short.
    for (const f of r.failures) console.log(`[${scenario.suite}] FAILED ${f.title}: ${f.error.split('\n')[0]}`);
  } else {
    outcome.error ??= `the suite ended with code ${outcome.exitCode} and wrote no results`;
    console.log(`[${scenario.suite}] no results; last lines of the VS Code server:\n  ${serverLog.slice(-20).join('\n  ')}`);
  }
  log.end();
  if (!outcome.error && outcome.exitCode !== 0 && counts.failed === 0) outcome.error = `run() ended with code ${outcome.exitCode}`;
  if (counts.failed > 0 || outcome.error) console.log(`[${scenario.suite}] workbench and host log: ${path.relative(root, logFile)}`);
  if (outcome.error && counts.failed === 0) counts.failed = 1;
  if (!process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
  return { suite: scenario.suite, ...counts, exitCode: outcome.exitCode, error: outcome.error, wallMs: Date.now() - started };
}
