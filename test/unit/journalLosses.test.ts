// Loss classification over two states of a store (src/core/journal/losses.ts): each loss kind of
// issue 13 with its counts, and the one-entry removal a real `mcp logout` makes is no loss.
import { strict as assert } from 'node:assert';
import { CLAUDE_ACCOUNT_GRANTS, JOURNAL_FINDING, classifyChange, lossFinding, parseStoreContent, type StoreContent } from '../../src/core/journal/losses';
import { fingerprint } from '../../src/core/storageKey';

const tok = (s: string) => `tok-${s}-${'x'.repeat(24)}`;
const claudeEntry = (name: string, o: { at?: string; rt?: string; client?: string } = {}) => ({
  serverName: name,
  serverUrl: `https://${name}.example/mcp`,
  clientId: o.client ?? `client-${name}`,
  accessToken: o.at ?? tok(`a-${name}`),
  refreshToken: o.rt ?? tok(`r-${name}`),
  expiresAt: 1_800_000_000_000,
  scope: 'mcp:tools',
});
const key = (name: string) => `${name}|0123456789abcdef`;
const claudeBlob = (names: string[], extra: Record<string, unknown> = { claudeAiOauth: { accessToken: tok('acct'), refreshToken: tok('acct-r') } }) =>
  JSON.stringify({ ...extra, mcpOAuth: Object.fromEntries(names.map((n) => [key(n), claudeEntry(n)])) });
const claude = (raw: string | null) => parseStoreContent('claude-code', 'file', raw);
const seven = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

describe('journal loss detection', () => {
  it('parses Claude Code, Codex file and Codex keyring content into fingerprints, never tokens', () => {
    const c = claude(claudeBlob(['a'])) as Extract<StoreContent, { state: 'parsed' }>;
    assert.equal(c.state, 'parsed');
    assert.deepEqual(c.grants, [{ key: key('a'), serverName: 'a', accessToken: fingerprint(tok('a-a')), refreshToken: fingerprint(tok('r-a')), clientId: 'client-a' }]);
    assert.deepEqual(c.accountGrants.map((g) => g.key), ['claudeAiOauth']);
    assert.ok(!JSON.stringify(c).includes(tok('a-a')));

    const file = parseStoreContent('codex', 'file', JSON.stringify({ [key('a')]: { server_name: 'a', server_url: 'u', client_id: 'c1', access_token: tok('x'), refresh_token: tok('y'), scopes: [] } }));
    assert.deepEqual(file, { state: 'parsed', grants: [{ key: key('a'), serverName: 'a', accessToken: fingerprint(tok('x')), refreshToken: fingerprint(tok('y')), clientId: 'c1' }], accountGrants: [] });

    const item = JSON.stringify({ server_name: 'a', url: 'u', client_id: 'c1', token_response: { access_token: tok('x'), token_type: 'Bearer' } });
    const ring = parseStoreContent('codex', 'keyring', JSON.stringify({ [key('a')]: item }));
    assert.deepEqual(ring, { state: 'parsed', grants: [{ key: key('a'), serverName: 'a', accessToken: fingerprint(tok('x')), clientId: 'c1' }], accountGrants: [] });

    assert.deepEqual(claude(null), { state: 'absent' });
    assert.equal(claude('{"mcpOAuth": ').state, 'unparsable');
    assert.equal(claude('{"mcpOAuth": []}').state, 'unparsable');
    assert.deepEqual(claude(''), { state: 'parsed', grants: [], accountGrants: [] });
  });

  it('one entry removed completely while the others stay intact is a deliberate removal, not a loss', () => {
    const r = classifyChange(claude(claudeBlob(seven)), claude(claudeBlob(seven.filter((n) => n !== 'c'))));
    assert.equal(r.verdict, 'deliberate-removal');
    assert.deepEqual(r.losses, []);
    assert.deepEqual(r.removed, { key: key('c'), serverName: 'c', by: 'one-entry-rule' });
  });

  it('the last entry of a store removed is a loss, unless a logout of it was seen', () => {
    const before = claude(claudeBlob(['a'], {}));
    const after = claude(JSON.stringify({ mcpOAuth: {} }));
    const clobber = classifyChange(before, after);
    assert.equal(clobber.verdict, 'loss');
    assert.deepEqual(clobber.losses.map((l) => [l.kind, l.count]), [['store-emptied', 1]]);
    const logout = classifyChange(before, after, { logoutOf: ['a'] });
    assert.equal(logout.verdict, 'deliberate-removal');
    assert.equal(logout.removed?.by, 'logout-process');
  });

  it('every entry blanked at once (#84274, #93537) is tokens-blanked with its count', () => {
    const blanked = JSON.stringify({
      claudeAiOauth: { accessToken: tok('acct'), refreshToken: tok('acct-r') },
      mcpOAuth: Object.fromEntries(seven.map((n) => [key(n), { ...claudeEntry(n), accessToken: '', refreshToken: undefined, expiresAt: 0 }])),
    });
    const r = classifyChange(claude(claudeBlob(seven)), claude(blanked));
    assert.equal(r.verdict, 'loss');
    assert.deepEqual(r.losses.map((l) => [l.kind, l.count, l.code]), [['tokens-blanked', 7, JOURNAL_FINDING.tokensBlanked]]);
    assert.deepEqual(r.losses[0]!.entries[0]!.after, { key: key('a'), serverName: 'a', clientId: 'client-a' });
  });

  it('a refresh token gone while the access token stays is blanked too; a rotation is not', () => {
    const noRt = JSON.stringify({ mcpOAuth: { [key('a')]: { ...claudeEntry('a'), refreshToken: '' }, [key('b')]: claudeEntry('b') } });
    assert.deepEqual(classifyChange(claude(claudeBlob(['a', 'b'], {})), claude(noRt)).losses.map((l) => [l.kind, l.count]), [['tokens-blanked', 1]]);
    const rotated = JSON.stringify({ mcpOAuth: { [key('a')]: claudeEntry('a', { at: tok('new'), rt: tok('new-r') }), [key('b')]: claudeEntry('b') } });
    const r = classifyChange(claude(claudeBlob(['a', 'b'], {})), claude(rotated));
    assert.equal(r.verdict, 'no-loss');
    assert.deepEqual(r.changed, [key('a')]);
  });

  it('two or more entries gone is grants-gone, listing each', () => {
    const r = classifyChange(claude(claudeBlob(seven)), claude(claudeBlob(['a', 'b'])));
    assert.deepEqual(r.losses.map((l) => [l.kind, l.count]), [['grants-gone', 5]]);
    assert.deepEqual(r.losses[0]!.entries.map((e) => e.serverName), ['c', 'd', 'e', 'f', 'g']);
  });

  it('mcpOAuth emptied beside the account login (#80422) is grants-gone; all gone is store-emptied', () => {
    const r = classifyChange(claude(claudeBlob(seven)), claude(claudeBlob([])));
    assert.deepEqual(r.losses.map((l) => [l.kind, l.count]), [['grants-gone', 7]]);
    const gone = classifyChange(claude(claudeBlob(seven)), claude(null));
    assert.deepEqual(gone.losses.map((l) => [l.kind, l.count]), [['store-emptied', 8]]);
    const emptyFile = classifyChange(claude(claudeBlob(seven)), claude(''));
    assert.deepEqual(emptyFile.losses.map((l) => [l.kind, l.count]), [['store-emptied', 8]]);
  });

  it('the account login and 2.1.332’s other account grants gone are account-login-gone, even with one entry removed', () => {
    const all = Object.fromEntries(CLAUDE_ACCOUNT_GRANTS.map((g) => [g, { accessToken: tok(g), refreshToken: tok(`${g}-r`) }]));
    const r = classifyChange(claude(claudeBlob(['a', 'b'], all)), claude(claudeBlob(['a'], { designOauth: all.designOauth })));
    assert.equal(r.verdict, 'loss');
    assert.deepEqual(r.losses.map((l) => [l.kind, l.count]), [
      ['grants-gone', 1],
      ['account-login-gone', 3],
    ]);
    assert.deepEqual(r.losses[1]!.entries.map((e) => e.key), ['claudeAiOauth', 'chatHistoryOauth', 'cloudSessionsOauth']);
  });

  it('a new client id with no tokens is blanked; with fresh tokens (a re-login, seed 004) it is recorded without an alarm', () => {
    const noTokens = JSON.stringify({ mcpOAuth: { [key('a')]: { serverName: 'a', clientId: 'client-NEW', accessToken: '' }, [key('b')]: claudeEntry('b') } });
    assert.deepEqual(classifyChange(claude(claudeBlob(['a', 'b'], {})), claude(noTokens)).losses.map((l) => l.kind), ['tokens-blanked']);
    const relogin = JSON.stringify({ mcpOAuth: { [key('a')]: claudeEntry('a', { client: 'client-NEW', at: tok('n'), rt: tok('nr') }), [key('b')]: claudeEntry('b') } });
    const r = classifyChange(claude(claudeBlob(['a', 'b'], {})), claude(relogin));
    assert.equal(r.verdict, 'no-loss');
    assert.deepEqual(r.losses.map((l) => [l.kind, l.alarm, l.entries[0]!.before.clientId, l.entries[0]!.after?.clientId]), [['client-replaced', false, 'client-a', 'client-NEW']]);
  });

  it('an unparsable new state puts every grant at risk; removals of our own are never losses', () => {
    const r = classifyChange(claude(claudeBlob(['a', 'b'])), claude('{"mcpOAuth": {"a|1": '));
    assert.deepEqual(r.losses.map((l) => [l.kind, l.count, l.why]), [['store-unparsable', 3, 'not valid JSON']]);
    const ours = classifyChange(claude(claudeBlob(['a', 'b', 'c'])), claude(claudeBlob(['a'])), { intendedRemovals: [key('b'), key('c')] });
    assert.equal(ours.verdict, 'no-loss');
    assert.equal(ours.removed?.by, 'our-own-write');
  });

  it('the first state and entries without tokens have nothing to lose', () => {
    assert.equal(classifyChange(undefined, claude(claudeBlob(['a']))).verdict, 'no-loss');
    const registered = JSON.stringify({ mcpOAuth: { [key('a')]: { serverName: 'a', clientId: 'c' }, [key('b')]: { serverName: 'b', clientId: 'c' } } });
    assert.equal(classifyChange(claude(registered), claude(JSON.stringify({ mcpOAuth: {} }))).verdict, 'no-loss');
  });

  it('a finding says who lost how many at what time, by whom, with fingerprints only', () => {
    const r = classifyChange(claude(claudeBlob(seven)), claude(claudeBlob([])));
    const at = new Date(2026, 4, 14, 14, 2, 30);
    const f = lossFinding(r.losses[0]!, { client: 'claude-code', location: '/h/.claude/.credentials.json', at, writer: { pid: 4121, version: '2.1.332', command: 'claude' }, previousStateId: 'S1' });
    assert.equal(f.code, 'credentials.journal-grants-gone');
    assert.equal(f.severity, 'warning');
    assert.equal(f.title, 'Claude Code lost 7 MCP logins at 14:02 (written by claude 2.1.332, pid 4121)');
    assert.match(f.detail, /S1/);
    assert.equal(f.evidence?.length, 7);
    const text = JSON.stringify(f);
    for (const n of seven) assert.ok(!text.includes(tok(`a-${n}`)) && !text.includes(tok(`r-${n}`)), 'a token leaked');
    assert.ok(text.includes(fingerprint(tok('a-a'))));
    const unknown = lossFinding(r.losses[0]!, { client: 'codex', location: 'x', at, writer: { unknownBecause: '2 client processes were running' } });
    assert.equal(unknown.title, 'Codex lost 7 MCP logins at 14:02 (writer unknown)');
  });
});
