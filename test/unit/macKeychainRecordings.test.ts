// How much of the macOS/Windows replay rests on real recordings: every fixture's `recorded` kind,
// its sources and whether its exit status was seen, printed as a tally, so a reader of the test
// output (and a change to the tally below) sees what is verbatim, composed or synthetic.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { allRecordings } from './macKeychainReplay';

const WINDOWS_DIR = path.resolve(__dirname, '../fixtures/windows');
/** A public report, as opposed to Apple's source or headers (which say how output is built, not what a run printed). */
const isReport = (s: string) => /^https:\/\//.test(s) && !/apple-open-source|opensource\.apple\.com/.test(s);

describe('replay recordings: what is real', () => {
  it('every macOS recording has its kind, a cited source, and says whether its exit status was seen; the tally is printed', () => {
    const all = allRecordings();
    const byKind: Record<'verbatim' | 'composed' | 'synthetic', string[]> = { verbatim: [], composed: [], synthetic: [] };
    for (const r of all) {
      assert.ok(r.recorded in byKind, `${r.name}: recorded`);
      assert.equal(typeof r.codeSeen, 'boolean', `${r.name}: codeSeen`);
      if (r.recorded === 'synthetic') {
        assert.match(`${r.source.join(' ')} ${r.note ?? ''}`, /no recording/i, `${r.name}: a synthetic recording says why none exists`);
      } else {
        assert.ok(r.source.some((s) => /^https:\/\//.test(s)), `${r.name}: at least one source URL`);
      }
      if (r.recorded === 'verbatim') {
        assert.ok(r.source.some(isReport), `${r.name}: a verbatim recording cites the public report it was copied from`);
        assert.ok((r.note ?? '').length > 20, `${r.name}: a verbatim recording lists its edits (or says there are none)`);
      }
      byKind[r.recorded].push(`${r.name}${r.hang ? ' (never answers)' : r.codeSeen ? '' : ' (exit code inferred)'}`);
    }
    const windows = existsSync(WINDOWS_DIR) ? readdirSync(WINDOWS_DIR).filter((f) => f.endsWith('.json')) : [];
    console.log(
      [
        `      macOS security recordings: ${all.length} (${byKind.verbatim.length} verbatim, ${byKind.composed.length} composed, ${byKind.synthetic.length} synthetic)`,
        ...(['verbatim', 'composed', 'synthetic'] as const).map((k) => `        ${k}: ${byKind[k].join(', ')}`),
        `      Windows Credential Manager recordings: ${windows.length} (no public cmdkey/Credential Manager listing of a Codex or Claude Code item was found)`,
      ].join('\n'),
    );
    // Change these numbers on purpose: a verbatim find added, or a composed recording superseded.
    assert.deepEqual(
      { verbatim: byKind.verbatim.length, composed: byKind.composed.length, synthetic: byKind.synthetic.length, windows: windows.length },
      { verbatim: 7, composed: 8, synthetic: 1, windows: 0 },
    );
  });

  it("no verbatim recording is of Claude Code's or Codex's own item listing: those stay composed, and say so", () => {
    const all = allRecordings();
    const own = all.filter((r) => /Claude Code-credentials|Codex MCP Credentials/.test(r.stdout));
    assert.ok(own.length > 0);
    for (const r of own) assert.equal(r.recorded, 'composed', `${r.name}: a real listing of these items would be a verbatim find`);
  });
});
