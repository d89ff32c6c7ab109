// The pure parts of `npm run test:compat` (scripts/compatLib.mjs): arguments, the area of each
// interop test as mocha's JSON reporter really writes it, and README's Verified-with block.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AREA_ORDER,
  README_END,
  README_START,
  areaOf,
  compareVersions,
  formatMatrix,
  overallOf,
  parseCompatArgs,
  pinnedFrom,
  resolveRow,
  rewriteVerifiedBlock,
  summariseAreas,
  type MochaResult,
} from '../../scripts/compatLib.mjs';

const REPO = path.resolve(__dirname, '../..');

describe('compat matrix (scripts/compatLib.mjs)', () => {
  describe('arguments', () => {
    const pinned = { claude: '2.1.332', codex: '0.171.0' };
    const newest = { claude: '2.1.400', codex: '0.180.0' };

    it('no arguments: one row of the newest published versions', () => {
      const o = parseCompatArgs([]);
      assert.deepEqual(o.rows, [{ kind: 'newest' }]);
      assert.deepEqual(resolveRow(o.rows[0]!, { pinned, newest }), { label: 'newest', ...newest });
      assert.equal(o.writeReadme, false);
    });

    it('--claude alone keeps codex pinned, --codex alone keeps claude pinned', () => {
      assert.deepEqual(resolveRow(parseCompatArgs(['--claude', '2.1.250']).rows[0]!, { pinned }), { label: 'given', claude: '2.1.250', codex: '0.171.0' });
      assert.deepEqual(resolveRow(parseCompatArgs(['--codex', '0.170.0']).rows[0]!, { pinned }), { label: 'given', claude: '2.1.332', codex: '0.170.0' });
      assert.deepEqual(resolveRow(parseCompatArgs(['--claude', '2.1.197', '--codex', '0.169.0']).rows[0]!, { pinned }), { label: 'given', claude: '2.1.197', codex: '0.169.0' });
    });

    it('--pinned --previous --write-readme: two rows in order, and the block is rewritten', () => {
      const o = parseCompatArgs(['--pinned', '--previous', '--write-readme']);
      assert.deepEqual(o.rows.map((r) => resolveRow(r, { pinned })), [
        { label: 'pinned', claude: '2.1.332', codex: '0.171.0' },
        { label: 'previous pins', claude: '2.1.197', codex: '0.169.0' },
      ]);
      assert.equal(o.writeReadme, true);
    });

    it('refuses what is not a version, a missing value, a flag given twice and unknown flags', () => {
      assert.throws(() => parseCompatArgs(['--claude', 'latest']), /not a version/);
      assert.throws(() => parseCompatArgs(['--claude']), /needs a version/);
      assert.throws(() => parseCompatArgs(['--codex', '--pinned']), /needs a version/);
      assert.throws(() => parseCompatArgs(['--claude', '2.1.1', '--claude', '2.1.2']), /given twice/);
      assert.throws(() => parseCompatArgs(['--clade', '2.1.1']), /unknown argument --clade/);
    });

    it("the pins are package.json's exact devDependencies versions", () => {
      const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
      const p = pinnedFrom(pkg);
      assert.match(p.claude, /^\d+\.\d+\.\d+$/);
      assert.match(p.codex, /^\d+\.\d+\.\d+$/);
      assert.throws(() => pinnedFrom({ devDependencies: { '@anthropic-ai/claude-code': '^2.1.0', '@openai/codex': '0.171.0' } }), /exact version/);
    });
  });

  describe('areas', () => {
    it('maps the interop tests by file and title', () => {
      assert.equal(areaOf('/r/test/interop/configInterop.test.ts', 'Configs written by the real clients claude mcp add at user, local and project scope reads every server'), 'config');
      assert.equal(areaOf('/r/test/interop/configInterop.test.ts', 'x storage keys against the keys the clients write after OAuth with the lab Codex (file store)'), 'keys');
      assert.equal(areaOf('/r/test/interop/codexStore.test.ts', 'Codex credential store Codex waits while we hold its file-store lock'), 'locks');
      assert.equal(areaOf('/r/test/interop/codexStore.test.ts', 'Codex credential store file mode: Codex counts a grant we wrote'), 'stores');
      assert.equal(areaOf('C:\\r\\test\\interop\\claudeStore.test.ts', 'anything'), 'stores');
      assert.equal(areaOf('/r/test/interop/repairReset.test.ts', 'reset removes only that entry and its needs-auth stamp; claude then needs authentication'), 'repairs');
      assert.equal(areaOf('/r/test/interop/repairRefresh.test.ts', "x Codex's app-server lists the lab's tools with the refreshed token"), 'repairs');
      assert.equal(areaOf('/r/test/interop/repairRefresh.test.ts', "x refreshes inside Codex's refresh lock: rotated tokens stored"), 'locks');
      // Our own refusals happen before any client is involved: no client judges them.
      assert.equal(areaOf('/r/test/interop/repairLogin.test.ts', 'Re-login refusals leave the store as it was access_denied from the authorization server'), 'other');
      assert.equal(areaOf('/r/test/interop/lab.test.ts', 'lab: close() frees both ports'), 'other');
    });

    it('every interop file that drives the real Claude Code or Codex has tests in a client area', async () => {
      const dir = path.join(REPO, 'test/interop');
      const clientFiles = [];
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.test.ts'))) {
        const text = await fs.readFile(path.join(dir, f), 'utf8');
        // The matrix is Claude Code's and Codex's (the versions test:compat runs); files that only
        // borrow the sandbox helpers for another client (mcp-remote, Gemini CLI) are not in it.
        if (/realClients'/.test(text) && /\b(CLAUDE_BIN|CODEX_BIN|claudeLogin|codexLogin)\b/.test(text)) clientFiles.push(f);
      }
      assert.ok(clientFiles.length >= 5, `expected the client-driving interop files, found ${clientFiles.join(', ')}`);
      for (const f of clientFiles) {
        const titles = [...(await fs.readFile(path.join(dir, f), 'utf8')).matchAll(/\bit\(\s*[`'"](.+?)[`'"],/g)].map((m) => m[1]!);
        const areas = new Set(titles.map((t) => areaOf(path.join(dir, f), `suite ${t}`)));
        assert.ok([...areas].some((a) => a !== 'other') || titles.length === 0 || /restoreVerify/.test(f), `${f}: every test falls in "other"`);
      }
    });

    it("reads the real mocha JSON reporter: passes, failures, pending and a failed before-all hook's tests", async function () {
      this.timeout(20_000);
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-compat-unit-'));
      try {
        await fs.writeFile(
          path.join(dir, 'configInterop.test.js'),
          `describe('configs', () => { it('claude mcp add reads every server', () => {}); it('codex mcp add reads every server', () => { throw new Error('drift'); }); it.skip('later', () => {}); });
           describe('storage keys against the keys', () => { it('Claude Code key', () => {}); });`,
        );
        await fs.writeFile(
          path.join(dir, 'codexStore.test.js'),
          `describe('Codex store', () => { before(() => { throw new Error('codex did not start'); }); it('file mode: Codex counts a grant', () => {}); it('Codex waits while we hold its file-store lock', () => {}); });`,
        );
        await fs.writeFile(path.join(dir, 'repairReset.test.js'), `describe('reset', () => { it('claude then needs authentication for it', () => {}); });`);
        const out = path.join(dir, 'result.json');
        const mocha = path.join(REPO, 'node_modules/mocha/bin/mocha.js');
        await new Promise<void>((resolve) => {
          execFile(process.execPath, [mocha, '--no-config', '--reporter', 'json', '--reporter-option', `output=${out}`, path.join(dir, '*.test.js')], { cwd: dir, timeout: 15_000 }, () => resolve());
        });
        const result = JSON.parse(await fs.readFile(out, 'utf8')) as MochaResult;
        const areas = summariseAreas(result);
        assert.deepEqual(
          Object.fromEntries(AREA_ORDER.map((a) => [a, [areas[a]!.passed, areas[a]!.failed, areas[a]!.pending]])),
          // config: 1 pass, 1 fail, 1 pending; keys 1 pass; stores: the failed hook (its tests never ran); repairs 1 pass.
          { config: [1, 1, 1], keys: [1, 0, 0], stores: [0, 1, 0], locks: [0, 0, 0], repairs: [1, 0, 0], other: [0, 0, 0] },
        );
        assert.match(areas.stores!.failures[0]!, /"before all" hook/);
        assert.equal(overallOf(areas), 'fail');
        const table = formatMatrix([{ claude: '2.1.332', codex: '0.171.0', areas }]);
        assert.match(table, /^claude\s+codex\s+config\s+keys\s+stores\s+locks\s+repairs\s+other\s+result$/m);
        assert.match(table, /^2\.1\.332\s+0\.171\.0\s+FAIL 1\/2\s+pass \(1\)\s+FAIL 1\/1\s+–\s+pass \(1\)\s+–\s+fail$/m);
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe("README's Verified-with block", () => {
    const pass = (n = 3) => ({ passed: n, failed: 0, pending: 0, failures: [] });
    const areasAllPass = Object.fromEntries(AREA_ORDER.map((a) => [a, pass()]));
    const readme = ['# Title', '', 'before text', README_START, '| Claude Code | Codex | Date | Result |', '| --- | --- | --- | --- |', '| 2.1.197 | 0.169.0 | 2026-01-01 | pass: config |', README_END, 'after text', ''].join('\n');

    it('rewrites only the block: new rows added, the same pair replaced, newest first, the rest of the file byte for byte', () => {
      const failing = { ...areasAllPass, stores: { passed: 8, failed: 1, pending: 0, failures: ['x'] } };
      const once = rewriteVerifiedBlock(readme, [{ claude: '2.1.332', codex: '0.171.0', areas: failing }], '2026-07-01');
      const twice = rewriteVerifiedBlock(once, [{ claude: '2.1.332', codex: '0.171.0', areas: areasAllPass }], '2026-07-02');
      const start = twice.indexOf(README_START);
      const end = twice.indexOf(README_END);
      assert.equal(twice.slice(0, start), readme.slice(0, readme.indexOf(README_START)));
      assert.equal(twice.slice(end), readme.slice(readme.indexOf(README_END)));
      assert.match(once, /\| 2\.1\.332 \| 0\.171\.0 \| 2026-07-01 \| fail: stores 1\/9; pass: config, keys, locks, repairs \|/);
      const rows = twice.slice(start, end).split('\n').filter((l) => /^\| \d/.test(l));
      assert.deepEqual(rows, ['| 2.1.332 | 0.171.0 | 2026-07-02 | pass: config, keys, stores, locks, repairs |', '| 2.1.197 | 0.169.0 | 2026-01-01 | pass: config |']);
    });

    it('a row that could not run says why; a README without the markers is refused', () => {
      const out = rewriteVerifiedBlock(readme, [{ claude: '9.9.9', codex: '0.171.0', error: 'npm install exited 1' }], '2026-07-01');
      assert.match(out, /\| 9\.9\.9 \| 0\.171\.0 \| 2026-07-01 \| not run \(npm install exited 1\) \|/);
      assert.throws(() => rewriteVerifiedBlock('# no block\n', [], '2026-07-01'), /no <!-- verified-with:start -->/);
    });

    it('the repository README has the block', async () => {
      const text = await fs.readFile(path.join(REPO, 'README.md'), 'utf8');
      assert.doesNotThrow(() => rewriteVerifiedBlock(text, [], '2026-07-01'));
    });
  });

  it('versions compare numerically, a pre-release before its release', () => {
    assert.equal(compareVersions('2.1.332', '2.1.40'), 1);
    assert.equal(compareVersions('0.169.0', '0.171.0'), -1);
    assert.equal(compareVersions('1.0.0-alpha.1', '1.0.0'), -1);
    assert.equal(compareVersions('1.0.0', '1.0.0'), 0);
  });
});
