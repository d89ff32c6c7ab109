// The credential journal for the clients journaled through their definition (Gemini CLI and
// opencode): a state is read as the client reads it, the write each client makes after reading
// its file as empty (Gemini: its next login writes a file with that one server; opencode: the
// same for any write) is a loss, and restore --lost merges exactly the lost logins back into the
// file as it is now, every other byte kept. On real files in a sandbox HOME; the real clients'
// side of this is in test/interop/opencode.test.ts.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { entryInSnapshot } from '../../../src/core/journal/history';
import { parseStoreContent } from '../../../src/core/journal/losses';
import type { Environment } from '../../../src/core/environment';
import { journalFor, type Journal } from '../../../src/core/journal/journal';
import { latestLoss, restoreLost } from '../../../src/core/journal/restoreLost';
import { journalSources } from '../../../src/core/journal/sources';
import { fingerprint } from '../../../src/core/storageKey';

let n = 0;
const mint = (label: string) => `${label}-${process.pid}-${++n}-${Math.random().toString(36).slice(2)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function geminiEntry(name: string) {
  return { serverName: name, token: { accessToken: mint('at'), tokenType: 'Bearer', refreshToken: mint('rt'), expiresAt: Date.now() + 3600_000 }, clientId: `client-${name}`, mcpServerUrl: `http://127.0.0.1:1/${name}`, updatedAt: Date.now() };
}

describe('the journal for Gemini CLI and opencode', function () {
  this.timeout(20_000);
  let home: string;
  let e: Environment;
  let journal: Journal;
  const observe = async (client: 'gemini-cli' | 'opencode') => {
    await sleep(3); // snapshot ids sort by millisecond
    for (const s of journalSources(e, { readSecureStores: false, clients: [client] })) await journal.observe(s);
    await sleep(3);
  };

  beforeEach(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-journal-clients-'));
    e = { home, env: { HOME: home }, platform: 'linux', projectDirs: [] };
    journal = journalFor(e, { writer: { listClients: async () => ({ processes: [], known: true }) } });
  });
  afterEach(async () => fs.rm(home, { recursive: true, force: true }));

  it("Gemini CLI: a state holds what Gemini reads of it, and its one-server rewrite is a loss that restore --lost undoes", async () => {
    const file = path.join(home, '.gemini', 'mcp-oauth-tokens.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    const lab = geminiEntry('lab');
    const docs = geminiEntry('docs');
    await fs.writeFile(file, JSON.stringify([lab, docs], null, 2), { mode: 0o600 });
    await observe('gemini-cli');
    // A null entry stops Gemini's read there (seen with the real 0.61.0): the entries before it count, none after.
    const partly = parseStoreContent('gemini-cli', 'file', JSON.stringify([lab, null, docs]));
    assert.deepEqual(partly.state === 'parsed' ? partly.grants.map((g) => g.key) : partly, ['lab']);
    assert.equal(parseStoreContent('gemini-cli', 'file', '{"not": "an array"}').state, 'unparsable');

    // What Gemini 0.61.0 writes after a read error: a new login of one server, the rest gone.
    const fresh = geminiEntry('other');
    await fs.writeFile(file, JSON.stringify([fresh], null, 2));
    await observe('gemini-cli');
    const loss = (await latestLoss(journal, 'gemini-cli'))!;
    assert.ok(loss, 'the journal saw the loss');
    assert.deepEqual(loss.losses.map((l) => [l.kind, l.count]), [['grants-gone', 2]]);

    const r = await restoreLost(e, journal, loss, { verify: false });
    assert.equal(r.written, true);
    const now = JSON.parse(await fs.readFile(file, 'utf8')) as (typeof lab)[];
    assert.deepEqual(now.map((x) => x.serverName), ['other', 'lab', 'docs'], 'the lost logins appended, the new one kept');
    assert.deepEqual(now[1], lab);
    assert.deepEqual(now[2], docs);
    assert.ok(r.undoSnapshotId);
  });

  it('opencode: a write that blanks every login after a bad entry is a loss, merged back with the client it was issued to', async () => {
    const file = path.join(home, '.local', 'share', 'opencode', 'mcp-auth.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    const url = 'http://127.0.0.1:1/mcp';
    const lab = { tokens: { accessToken: mint('at'), refreshToken: mint('rt'), expiresAt: Date.now() / 1000 + 3600 }, clientInfo: { clientId: 'c-old' }, serverUrl: url };
    await fs.writeFile(file, JSON.stringify({ lab }, null, 2), { mode: 0o600 });
    await observe('opencode');
    // opencode read the file as empty (one bad entry), then started a login: a new registration, no tokens.
    await fs.writeFile(file, JSON.stringify({ lab: { clientInfo: { clientId: 'c-new' }, codeVerifier: 'v', oauthState: 's', serverUrl: url } }, null, 2));
    await observe('opencode');
    const loss = (await latestLoss(journal, 'opencode'))!;
    assert.deepEqual(loss.losses.map((l) => [l.kind, l.count]), [['tokens-blanked', 1]]);
    assert.equal(loss.losses[0]!.entries[0]!.before.accessToken, fingerprint(lab.tokens.accessToken));
    const r = await restoreLost(e, journal, loss, { verify: false });
    assert.equal(r.written, true);
    assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')), { lab });
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    // history reads each journaled state in opencode's format: before, blanked, restored.
    const states = (await journal.snapshots.list({ client: 'opencode' })).snapshots;
    const key = `lab|${url}`;
    const seen = await Promise.all(states.map(async (x) => entryInSnapshot((await journal.snapshots.read(x.id))!, key)));
    assert.ok(seen.some((x) => x?.entry === 'present' && x.accessToken === fingerprint(lab.tokens.accessToken) && x.clientId === 'c-old' && x.expiresAt === Math.round(lab.tokens.expiresAt * 1000)), JSON.stringify(seen));
    assert.ok(seen.some((x) => x?.entry === 'present' && x.accessToken === undefined && x.clientId === 'c-new'), JSON.stringify(seen));
  });
});
