// `npm run test:compat`: the interop suite against other versions of the real clients.
// For each row (see parseCompatArgs in compatLib.mjs) it installs that Claude Code and Codex into
// a scratch prefix from the npm registry, checks both binaries answer `--version` with the
// version asked for, runs `mocha --config test/interop/.mocharc.json` with MAD_CLAUDE_BIN /
// MAD_CODEX_BIN pointing at them (test/support/realClients.ts), and prints the matrix:
// versions → pass/fail per area. `--write-readme` puts the rows into README's Verified-with block.
// Not part of `npm test` or CI, which keep the pinned versions in node_modules.
//
//   npm run test:compat                                   newest published of both
//   npm run test:compat -- --pinned --previous            package.json's pins, then the previous pins
//   npm run test:compat -- --claude 2.1.250               that claude, codex as pinned
//   npm run test:compat -- --claude 2.1.197 --codex 0.169.0 --write-readme
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CLAUDE_PACKAGE,
  CODEX_PACKAGE,
  formatMatrix,
  overallOf,
  parseCompatArgs,
  pinnedFrom,
  resolveRow,
  rewriteVerifiedBlock,
  summariseAreas,
} from './compatLib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const MIN = 60_000;

let opts;
try {
  opts = parseCompatArgs(process.argv.slice(2));
} catch (err) {
  console.error(`compat: ${err.message}`);
  process.exit(2);
}
if (opts.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
  process.exit(0);
}

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const pinned = pinnedFrom(pkg);
let newest;
if (opts.rows.some((r) => r.kind === 'newest')) {
  newest = { claude: await registryVersion(CLAUDE_PACKAGE), codex: await registryVersion(CODEX_PACKAGE) };
  console.log(`compat: newest published: claude ${newest.claude}, codex ${newest.codex} (pinned: ${pinned.claude}, ${pinned.codex})`);
}

const results = [];
for (const row of opts.rows) {
  const r = resolveRow(row, { pinned, newest });
  console.log(`\n=== compat: claude ${r.claude} / codex ${r.codex} (${r.label}) ===`);
  const started = Date.now();
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-compat-'));
  try {
    const bins = await install(prefix, r);
    const result = await runInterop(prefix, bins);
    results.push({ ...r, areas: summariseAreas(result), stats: result.stats, seconds: Math.round((Date.now() - started) / 1000) });
  } catch (err) {
    results.push({ ...r, error: err instanceof Error ? err.message : String(err) });
  } finally {
    if (!opts.keep) fs.rmSync(prefix, { recursive: true, force: true });
    else console.log(`compat: kept ${prefix}`);
  }
}

console.log('\n=== compat matrix ===');
console.log(formatMatrix(results));
for (const r of results) {
  if (r.error) continue;
  console.log(`\nclaude ${r.claude} / codex ${r.codex}: ${r.stats.passes} passed, ${r.stats.failures} failed, ${r.stats.pending} pending in ${r.seconds} s`);
  for (const [area, c] of Object.entries(r.areas)) for (const t of c.failures) console.log(`  ${area}: FAIL ${t}`);
}

if (opts.writeReadme) {
  const readmePath = path.join(root, 'README.md');
  const date = new Date().toISOString().slice(0, 10);
  // A pair whose suite never ran (no mocha, an install that failed) verified nothing: no row for it.
  const ran = results.filter((r) => !r.error);
  if (ran.length === 0) console.log('\ncompat: README.md not changed: no pair ran its suite');
  else {
    fs.writeFileSync(readmePath, rewriteVerifiedBlock(fs.readFileSync(readmePath, 'utf8'), ran, date));
    console.log(`\ncompat: README.md Verified-with block updated (${ran.length} row${ran.length === 1 ? '' : 's'}, ${date})`);
  }
}
process.exit(results.every((r) => !r.error && overallOf(r.areas) === 'pass') ? 0 : 1);

/** `npm view <pkg> version`: the version the registry's latest tag names. */
async function registryVersion(name) {
  const { code, stdout } = await run(npm, ['view', name, 'version'], { timeoutMs: MIN, quiet: true });
  const v = stdout.trim().split('\n').pop()?.trim();
  if (code !== 0 || !/^\d+\.\d+\.\d+/.test(v ?? '')) throw new Error(`npm view ${name} version failed (exit ${code})`);
  return v;
}

/**
 * Both clients into a scratch prefix. Claude Code's package fetches nothing at install: its
 * postinstall (install.cjs) links the native binary from the optional platform package
 * (@anthropic-ai/claude-code-linux-x64 …); codex.js runs the binary of @openai/codex-linux-x64.
 * npm 11 runs an install script only where allowScripts allows it, hence the scratch package.json.
 */
async function install(prefix, { claude, codex }) {
  fs.writeFileSync(path.join(prefix, 'package.json'), JSON.stringify({ name: 'mad-compat-scratch', private: true, allowScripts: { [CLAUDE_PACKAGE]: true } }));
  const args = ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `${CLAUDE_PACKAGE}@${claude}`, `${CODEX_PACKAGE}@${codex}`];
  const { code } = await run(npm, args, { cwd: prefix, timeoutMs: 10 * MIN });
  if (code !== 0) throw new Error(`npm install ${claude} / ${codex} exited ${code}`);
  const bins = { claude: path.join(prefix, 'node_modules', '.bin', 'claude'), codex: path.join(prefix, 'node_modules', '.bin', 'codex') };
  // The binary must answer with the version asked for: an install that left the launcher without its native part fails here, not as 60 test failures.
  for (const [client, bin] of Object.entries(bins)) {
    const want = client === 'claude' ? claude : codex;
    const { code: vc, stdout } = await run(bin, ['--version'], { timeoutMs: 30_000, quiet: true });
    if (vc !== 0 || !stdout.includes(want)) throw new Error(`${client} --version answered ${JSON.stringify(stdout.trim().slice(0, 80))} (exit ${vc}), not ${want}`);
    console.log(`compat: ${client} --version: ${stdout.trim().split('\n')[0]}`);
  }
  return bins;
}

/** The interop suite with the JSON reporter into a file, the clients from `bins`. */
async function runInterop(prefix, bins) {
  const out = path.join(prefix, 'interop.json');
  const args = ['mocha', '--config', 'test/interop/.mocharc.json', '--reporter', 'json', '--reporter-option', `output=${out}`];
  if (opts.grep) args.push('--grep', opts.grep);
  const { code } = await run(npx, args, { cwd: root, timeoutMs: 30 * MIN, env: { MAD_CLAUDE_BIN: bins.claude, MAD_CODEX_BIN: bins.codex } });
  if (!fs.existsSync(out)) throw new Error(`mocha exited ${code} without a JSON result`);
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

/** Runs a command without a shell; output streams through unless quiet; killed after timeoutMs. */
function run(cmd, args, { cwd = root, timeoutMs, env = {}, quiet = false }) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0', ...env } });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!quiet) process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      if (!quiet) process.stderr.write(d);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout: `${stdout}${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout });
    });
  });
}
