// Runs the same extension-host suites under @vscode/test-electron, on a desktop that can download
// VS Code (or given one: VSCODE_EXECUTABLE=/path/to/code). Headless Linux needs xvfb-run.
//
//   npm run test:electron [-- --suite fixture|empty|probe] [--version 1.96.0|stable|insiders]
//
// Each scenario (test/vscode/fixture.mjs) gets its own sandbox HOME and profile; a scenario with an
// async setup (the probe suite's live labs) is torn down after its suite. The Playwright UI
// checks (suite/uiBridge.ts) have no driver here and skip; everything else is the same suite.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runTests } from '@vscode/test-electron';
import { SCENARIOS, prepareSandbox } from './fixture.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const suiteIndex = path.join(root, 'out/test/vscode/suite/index.js');
const { values: opts } = parseArgs({
  options: {
    suite: { type: 'string', multiple: true },
    version: { type: 'string', default: process.env.VSCODE_TEST_VERSION || 'stable' },
    timeout: { type: 'string', default: '900' },
  },
});

for (const [what, file, fix] of [
  ['the extension bundle', path.join(root, 'dist/extension.js'), 'npm run build'],
  ['the compiled suite', suiteIndex, 'node esbuild.js --tests'],
]) {
  if (!fs.existsSync(file)) {
    console.error(`runElectron: ${what} is missing (${file}); run \`${fix}\` first.`);
    process.exit(2);
  }
}

// A download or a window that never exits must not hang CI.
setTimeout(() => {
  console.error(`runElectron: timed out after ${opts.timeout} s`);
  process.exit(1);
}, Number(opts.timeout) * 1000).unref();

// VS Code inherits this process's environment; the clients' overrides would bypass the sandbox HOME.
for (const v of ['CLAUDE_CONFIG_DIR', 'CODEX_HOME', 'MCP_AUTH_UI_BRIDGE']) delete process.env[v];

const scenarios = opts.suite ? SCENARIOS.filter((s) => opts.suite.includes(s.suite)) : SCENARIOS;
let passed = 0;
let failed = 0;
for (const scenario of scenarios) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `mcp-auth-electron-${scenario.suite}-`));
  let sandbox;
  try {
    sandbox = await prepareSandbox(scenario, path.join(tmp, 'sandbox'));
  } catch (err) {
    console.error(`runElectron: ${scenario.suite}: sandbox setup failed: ${err instanceof Error ? err.message : err}`);
    failed += 1;
    if (!process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
    continue;
  }
  const { home, workspace } = sandbox;
  const resultsFile = path.join(tmp, 'results.json');
  let exitCode;
  try {
    exitCode = await runTests({
      version: opts.version,
      ...(process.env.VSCODE_EXECUTABLE ? { vscodeExecutablePath: process.env.VSCODE_EXECUTABLE } : {}),
      extensionDevelopmentPath: root,
      extensionTestsPath: suiteIndex,
      extensionTestsEnv: { HOME: home, MCP_AUTH_SUITE: scenario.suite, MCP_AUTH_RESULTS_FILE: resultsFile },
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-telemetry',
        '--user-data-dir', path.join(tmp, 'user-data'),
        '--extensions-dir', path.join(tmp, 'extensions'),
      ],
    });
  } catch (err) {
    console.error(`runElectron: ${scenario.suite}: ${err instanceof Error ? err.message : err}`);
    exitCode = 1;
  } finally {
    await sandbox.teardown().catch((err) => console.error(`runElectron: ${scenario.suite}: sandbox teardown failed: ${err instanceof Error ? err.message : err}`));
  }
  if (fs.existsSync(resultsFile)) {
    const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    console.log(`runElectron: ${scenario.suite}: ${r.passed} passed, ${r.failed} failed, ${r.pending} pending in VS Code ${r.vscodeVersion}`);
    passed += r.passed;
    failed += r.failed;
  } else {
    console.log(`runElectron: ${scenario.suite}: no results (exit ${exitCode})`);
    failed += 1;
  }
  if (!process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`runElectron: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
