import { strict as assert } from 'node:assert';
import { expandPlaceholders } from '../../src/core/placeholders';
import { storageKey } from '../../src/core/storageKey';

describe('placeholders', () => {
  it('expands set variables and defaults, and names the unset ones', () => {
    const r = expandPlaceholders('https://${HOST}/${PATH:-mcp}?t=${TOKEN}', { HOST: 'api.example.com' });
    assert.equal(r.value, 'https://api.example.com/mcp?t=');
    assert.deepEqual(r.missing, ['TOKEN']);
  });
  it('prefers a set variable over its default, even when empty', () => {
    assert.equal(expandPlaceholders('${A:-x}', { A: '' }).value, '');
  });
});

describe('storageKey', () => {
  it('matches the key Claude Code and Codex computed for a real server', () => {
    // Read off both real clients: shared/docs/client-formats.md.
    assert.equal(storageKey('lab', 'http', 'http://127.0.0.1:38423/mcp'), 'lab|0273820822139ec6');
  });
  it('changes with headers, as Claude Code hashes them', () => {
    assert.notEqual(
      storageKey('lab', 'http', 'http://127.0.0.1:38423/mcp', { 'X-Team': 'a' }),
      storageKey('lab', 'http', 'http://127.0.0.1:38423/mcp'),
    );
  });
});
