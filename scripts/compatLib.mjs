// The pure parts of `npm run test:compat` (scripts/compat.mjs): which client versions to run,
// which interop tests speak for which area, the matrix as text, and README's "Verified with"
// block. Kept apart from the script so test/unit/compat.test.ts can check them without npm.

/** The pins before issue 12 (package.json devDependencies until then); `--previous` runs them. */
export const PREVIOUS_PINS = Object.freeze({ claude: '2.1.197', codex: '0.169.0' });

export const CLAUDE_PACKAGE = '@anthropic-ai/claude-code';
export const CODEX_PACKAGE = '@openai/codex';

/** The matrix's columns, in order. `other` is what no client judges (the lab, our probe, refusals before any client is involved). */
export const AREA_ORDER = ['config', 'keys', 'stores', 'locks', 'repairs', 'other'];

/**
 * Which interop test speaks for which area: the first rule whose `file` (the test file's name without `.test.ts`)
 * and, when given, `title` (tested against the full title) match. Rules are kept in one place so
 * a new interop test lands in an area by adding a line here; an unmatched test counts as `other`.
 * `repairs` is only the repairs the real client then judges (claude connects / needs
 * authentication, Codex's app-server lists the tools, Codex's own lock waits for ours).
 */
export const AREA_RULES = [
  // Locks: the client and we wait for each other's locks.
  { area: 'locks', file: /^codexStore$/, title: /\block\b/i },
  { area: 'locks', file: /^repairRefresh$/, title: /Codex['’]s refresh lock|Codex refresh in progress/ },
  // Keys: the storage key we compute is the one the client wrote after a real OAuth login.
  { area: 'keys', file: /^configInterop$/, title: /storage keys/ },
  // Config: what `claude mcp add` / `codex mcp add` write, we read; the clients' own commands name our servers.
  { area: 'config', file: /^configInterop$/ },
  { area: 'config', file: /^clientCommands$/ },
  { area: 'config', file: /^codexConfig\w*$/ },
  // What the installed client says about itself (`--version`), as we read it.
  { area: 'config', file: /^clientVersions$/ },
  // Stores: what the client stored, we read; what we wrote, the client reads.
  { area: 'stores', file: /^(claudeStore|codexStore|codexStoreLogin|codexSecretsStore|codexEntryLookup|journalLogout|history)$/ },
  // Repairs judged by the client: after our refresh / re-login / reset / Undo the real client connects, lists tools or needs auth.
  {
    area: 'repairs',
    file: /^(repairLogin|repairRefresh|repairReset|restoreVerify|restoreLost|failureModes|issuerChanged|cimdLogin)$/,
    title: /\bclaude (mcp list|connects|con|then|reports)|app-server|Codex then lists|the running codex|the client connects|by the real client/,
  },
  { area: 'other', file: /./ },
];

/** The area of one test: `file` is a path (any separator), `fullTitle` mocha's full title. */
export function areaOf(file, fullTitle) {
  const base = (String(file ?? '').split(/[\\/]/).pop() ?? '').replace(/\.test\.[cm]?[jt]s$/, '');
  for (const rule of AREA_RULES) {
    if (!rule.file.test(base)) continue;
    if (rule.title && !rule.title.test(fullTitle)) continue;
    return rule.area;
  }
  return 'other';
}

/** `"before all" hook for "x"` → the hook and the test it stood before. */
const HOOK = /^"(before|after) (all|each)" hook(?: for "(.*)")?/;

/**
 * Counts per area from mocha's JSON reporter output (`stats`, `tests`, `failures`, `pending`).
 * A failed hook counts as one failure of its area (the tests it stood before never ran and are
 * absent from `tests`); it is read by the title of the test it was for, then its suite.
 */
export function summariseAreas(result) {
  const out = Object.fromEntries(AREA_ORDER.map((a) => [a, { passed: 0, failed: 0, pending: 0, failures: [] }]));
  const seen = new Set();
  for (const t of result.tests ?? []) {
    const area = areaOf(t.file, t.fullTitle ?? t.title ?? '');
    const key = `${t.file}\u0000${t.fullTitle}`;
    seen.add(key);
    const failed = t.err && Object.keys(t.err).length > 0;
    const pending = !failed && (t.pending === true || (result.pending ?? []).some((p) => p.fullTitle === t.fullTitle && p.file === t.file));
    if (failed) {
      out[area].failed += 1;
      out[area].failures.push(t.fullTitle);
    } else if (pending) out[area].pending += 1;
    else out[area].passed += 1;
  }
  for (const f of result.failures ?? []) {
    if (seen.has(`${f.file}\u0000${f.fullTitle}`)) continue;
    const hook = HOOK.exec(f.title ?? '');
    const area = areaOf(f.file, hook?.[3] ? `${f.fullTitle} ${hook[3]}` : f.fullTitle ?? '');
    out[area].failed += 1;
    out[area].failures.push(f.fullTitle);
  }
  return out;
}

/** One cell: `pass (12)`, `FAIL 2/12`, `skipped`, or `–` when the area ran nothing. */
export function verdictOf(counts) {
  if (counts.failed > 0) return `FAIL ${counts.failed}/${counts.passed + counts.failed}`;
  if (counts.passed > 0) return `pass (${counts.passed})`;
  if (counts.pending > 0) return 'skipped';
  return '–';
}

/** The whole row's result: pass only if every area that ran passed. */
export function overallOf(areas) {
  const all = Object.values(areas);
  if (all.some((c) => c.failed > 0)) return 'fail';
  if (all.every((c) => c.passed === 0)) return 'not run';
  return 'pass';
}

/**
 * Argument parsing. Each of these adds one row (a pair of versions) to the matrix, run in order:
 *   (none)            newest published claude and codex
 *   --newest          the same, explicitly
 *   --pinned          the versions package.json pins (what CI tests)
 *   --previous        PREVIOUS_PINS
 *   --claude X / --codex Y   one row with X (and/or Y); the other client stays pinned
 * Other flags: --write-readme (rewrite README's Verified-with block), --keep (keep the scratch
 * prefixes), --grep <pattern> (passed to mocha), --help.
 */
export function parseCompatArgs(argv) {
  const opts = { rows: [], writeReadme: false, keep: false, grep: undefined, help: false };
  let single;
  const value = (i, flag) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a version`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--claude' || a === '--codex') {
      const v = value(i, a);
      if (!/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/.test(v)) throw new Error(`${a} ${v}: not a version (x.y.z)`);
      i++;
      single ??= { kind: 'given' };
      const client = a.slice(2);
      if (single[client]) throw new Error(`${a} given twice`);
      single[client] = v;
    } else if (a === '--newest' || a === '--pinned' || a === '--previous') opts.rows.push({ kind: a.slice(2) });
    else if (a === '--write-readme') opts.writeReadme = true;
    else if (a === '--keep') opts.keep = true;
    else if (a === '--grep') {
      opts.grep = argv[++i];
      if (!opts.grep) throw new Error('--grep needs a pattern');
    } else if (a === '--help' || a === '-h') opts.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (single) opts.rows.push(single);
  if (opts.rows.length === 0) opts.rows.push({ kind: 'newest' });
  return opts;
}

/** A row's versions: `pinned` from package.json devDependencies, `newest` from the registry. */
export function resolveRow(row, { pinned, newest }) {
  switch (row.kind) {
    case 'pinned':
      return { label: 'pinned', claude: pinned.claude, codex: pinned.codex };
    case 'previous':
      return { label: 'previous pins', claude: PREVIOUS_PINS.claude, codex: PREVIOUS_PINS.codex };
    case 'newest':
      return { label: 'newest', claude: newest.claude, codex: newest.codex };
    default:
      return { label: 'given', claude: row.claude ?? pinned.claude, codex: row.codex ?? pinned.codex };
  }
}

/** The pins package.json holds: exact versions only (a range would make "pinned" mean nothing). */
export function pinnedFrom(pkg) {
  const dev = pkg.devDependencies ?? {};
  const out = { claude: dev[CLAUDE_PACKAGE], codex: dev[CODEX_PACKAGE] };
  for (const [k, v] of Object.entries(out)) if (!/^\d+\.\d+\.\d+/.test(v ?? '')) throw new Error(`package.json pins ${k} as ${v ?? 'nothing'}; expected an exact version`);
  return out;
}

/** The matrix as a plain text table, one line per row. */
export function formatMatrix(results) {
  const head = ['claude', 'codex', ...AREA_ORDER, 'result'];
  const rows = results.map((r) => [r.claude, r.codex, ...AREA_ORDER.map((a) => (r.error ? 'not run' : verdictOf(r.areas[a]))), r.error ? `error: ${r.error}` : overallOf(r.areas)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export const README_START = '<!-- verified-with:start -->';
export const README_END = '<!-- verified-with:end -->';

/**
 * README's "Verified with" table, rewritten between the markers and nowhere else. Rows for the
 * same client pair as a new result are replaced; other rows stay (the previous pins keep their
 * line when only the newest ran). `date` is YYYY-MM-DD.
 */
export function rewriteVerifiedBlock(readme, results, date) {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < 0 || end < start) throw new Error(`README.md has no ${README_START} … ${README_END} block`);
  const inner = readme.slice(start + README_START.length, end);
  const existing = [];
  for (const line of inner.split('\n')) {
    const cells = line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
    if (cells.length < 4 || cells[0] === 'Claude Code' || /^-+$/.test(cells[0])) continue;
    existing.push({ claude: cells[0], codex: cells[1], date: cells[2], result: cells.slice(3).join(' | ') });
  }
  const fresh = results.map((r) => ({
    claude: r.claude,
    codex: r.codex,
    date,
    result: r.error ? `not run (${r.error})` : resultText(r.areas),
  }));
  const same = (a, b) => a.claude === b.claude && a.codex === b.codex;
  const merged = [...fresh, ...existing.filter((e) => !fresh.some((f) => same(e, f)))];
  merged.sort((a, b) => compareVersions(b.claude, a.claude) || compareVersions(b.codex, a.codex));
  const table = [
    '| Claude Code | Codex | Date | Result |',
    '| --- | --- | --- | --- |',
    ...merged.map((m) => `| ${m.claude} | ${m.codex} | ${m.date} | ${m.result.replace(/\|/g, '\\|')} |`),
  ];
  return `${readme.slice(0, start)}${README_START}\n${table.join('\n')}\n${readme.slice(end)}`;
}

/** `pass: config, keys, stores, locks, repairs` or `fail: stores 1/9; pass: config, …`. */
function resultText(areas) {
  const clientAreas = AREA_ORDER.filter((a) => a !== 'other');
  const failed = clientAreas.filter((a) => areas[a].failed > 0);
  const passed = clientAreas.filter((a) => areas[a].failed === 0 && areas[a].passed > 0);
  const parts = [];
  if (failed.length) parts.push(`fail: ${failed.map((a) => `${a} ${areas[a].failed}/${areas[a].failed + areas[a].passed}`).join(', ')}`);
  if (passed.length) parts.push(`pass: ${passed.join(', ')}`);
  return parts.join('; ') || 'nothing ran';
}

/** Numeric x.y.z comparison (a pre-release sorts before its release). */
export function compareVersions(a, b) {
  const parse = (v) => {
    const [core, pre] = String(v).split('-', 2);
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
