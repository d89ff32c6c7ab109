// Which entry of Codex's credentials file is a server's login: Codex 0.171 matches the entry's
// own server_name and server_url, not the map key, takes the first match in key order, and skips
// executor-owned entries (oauth.rs `load_oauth_tokens_from_file_with_lock_held`; the same cases
// run against the real 0.171.0 in test/interop/codexEntryLookup.test.ts). Our store must read
// that entry and write to it.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { codexFileIndex, codexReadsFileEntry } from '../../src/core/credentials/codexFormat';
import { CODEX_FINDING, CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import type { Environment } from '../../src/core/environment';
import { fingerprint } from '../../src/core/storageKey';
import { mint, sandboxEnv, tempDir } from './credentialsHelpers';

const HOUR = 3600_000;
const LAB_URL = 'http://127.0.0.1:38423/mcp';
const LAB = codexKey('lab', LAB_URL);
const STALE = 'lab|0000000000000000'; // sorts before LAB ('lab|e…')
const LATE = 'lab|ffffffffffffffff'; // sorts after it

function entry(overrides: Record<string, unknown> = {}) {
  return {
    server_name: 'lab',
    server_url: LAB_URL,
    issuer: 'http://127.0.0.1:38423',
    client_id: 'client-lab',
    access_token: mint('at'),
    expires_at: Date.now() + HOUR,
    refresh_token: mint('rt'),
    scopes: ['mcp:tools'],
    ...overrides,
  };
}

describe('Codex credentials file: the entry Codex reads', () => {
  describe('the rule (codexReadsFileEntry / codexFileIndex)', () => {
    const v = (o: { serverName?: string; serverUrl?: string; executorOwned?: boolean } = {}) => ({ serverName: 'lab', serverUrl: LAB_URL, ...o });
    it('a configured name takes its name and URL under any key, and nothing else', () => {
      assert.equal(codexReadsFileEntry(STALE, v(), 'lab', LAB_URL), true);
      assert.equal(codexReadsFileEntry('anything', v(), 'lab', LAB_URL), true);
      assert.equal(codexReadsFileEntry(LAB, v({ serverUrl: `${LAB_URL}/` }), 'lab', LAB_URL), false);
      assert.equal(codexReadsFileEntry(LAB, v({ serverName: 'other' }), 'lab', LAB_URL), false);
      assert.equal(codexReadsFileEntry(LAB, v({ executorOwned: true }), 'lab', LAB_URL), false);
    });
    it('internal names only under their own key (local:) and only executor-owned entries (executor:)', () => {
      assert.equal(codexReadsFileEntry(LAB, v(), 'local:lab', LAB_URL), true);
      assert.equal(codexReadsFileEntry(STALE, v(), 'local:lab', LAB_URL), false);
      const ex = codexKey('executor:lab', LAB_URL);
      assert.equal(codexReadsFileEntry(ex, v({ serverName: 'executor:lab', executorOwned: true }), 'executor:lab', LAB_URL), true);
      assert.equal(codexReadsFileEntry(ex, v({ serverName: 'executor:lab' }), 'executor:lab', LAB_URL), false);
      assert.equal(codexReadsFileEntry(STALE, v({ serverName: 'executor:lab', executorOwned: true }), 'executor:lab', LAB_URL), false);
    });
    it('of several matches, the first in byte order of the stored keys', () => {
      const entries = new Map([
        [LATE, { view: v() }],
        [LAB, { view: v() }],
        [STALE, { view: v() }],
      ]);
      const { readBy, unread } = codexFileIndex(entries);
      assert.equal(readBy.get(LAB), STALE);
      assert.deepEqual(unread, [LAB, LATE]);
    });
  });

  describe('the store', () => {
    let home: string;
    let e: Environment;
    let file: string;
    beforeEach(async () => {
      home = await tempDir('mad-codex-lookup-');
      e = sandboxEnv(home);
      file = codexCredentialsFile(e);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(path.join(path.dirname(file), 'config.toml'), `mcp_oauth_credentials_store = "file"\n\n[mcp_servers.lab]\nurl = "${LAB_URL}"\n`);
    });
    afterEach(() => fs.rm(home, { recursive: true, force: true }));

    const store = () => new CodexStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) });
    const put = (entries: Record<string, unknown>) => fs.writeFile(file, JSON.stringify(entries), { mode: 0o600 });
    const stored = async () => JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, Record<string, unknown>>;

    it("an entry under a stale key is the server's login, and a write moves it to the key Codex saves under", async () => {
      const old = entry({ vendor_note: 'kept' });
      await put({ [STALE]: old });
      const s = store();
      const listing = await s.list();
      const lab = listing.entries.find((x) => x.key === LAB);
      assert.ok(lab, 'shown as the login of lab');
      assert.equal(lab.accessTokenFingerprint, fingerprint(old.access_token));
      assert.equal((await s.readSecret(LAB))?.refreshToken, old.refresh_token);
      assert.ok(!listing.findings.some((f) => f.code === CODEX_FINDING.notConfigured), 'not reported as an unconfigured server');

      const at = mint('at2');
      await s.write(LAB, { accessToken: at, expiresAt: Date.now() + 2 * HOUR });
      const after = await stored();
      assert.deepEqual(Object.keys(after), [LAB], 'one entry, under the key Codex saves and logs out under');
      assert.equal(after[LAB]!.access_token, at);
      assert.equal(after[LAB]!.refresh_token, old.refresh_token);
      assert.equal(after[LAB]!.vendor_note, 'kept');
    });

    it('an entry under our key with another URL is not the login; a new login there is refused instead of overwriting it', async () => {
      const other = entry({ server_url: 'http://127.0.0.1:38423/other' });
      await put({ [LAB]: other });
      const s = store();
      assert.equal((await s.read(LAB)), undefined, 'Codex reads no login for lab');
      await assert.rejects(
        s.write(LAB, { serverName: 'lab', serverUrl: LAB_URL, clientId: 'c', accessToken: mint('at') }),
        /is the login of "lab" at http:\/\/127\.0\.0\.1:38423\/other; nothing was written/,
      );
      assert.deepEqual(await stored(), { [LAB]: other });
    });

    it('two entries for one server: we read and write the one Codex reads, and say the other is ignored', async () => {
      const first = entry();
      const second = entry();
      await put({ [LAB]: second, [STALE]: first });
      const s = store();
      const listing = await s.list();
      assert.equal(listing.entries.find((x) => x.key === LAB)?.accessTokenFingerprint, fingerprint(first.access_token));
      assert.ok(listing.copies.some((c) => c.key === LAB && c.accessTokenFingerprint === fingerprint(second.access_token)), 'the ignored copy is listed');
      const drift = listing.findings.find((f) => f.code === CODEX_FINDING.storeDrift);
      assert.match(drift?.title ?? '', /two logins for "lab"/);
      assert.match(drift?.detail ?? '', new RegExp(`Codex reads the first in key order, ${STALE.replace('|', '\\|')}`));

      const at = mint('at3');
      await s.write(LAB, { accessToken: at });
      const after = await stored();
      assert.equal(after[STALE]!.access_token, at, 'the entry Codex reads was changed');
      assert.equal(after[LAB]!.access_token, second.access_token, 'the other one is left as it was');
    });

    it('delete removes every entry Codex would read for the server, so none takes over', async () => {
      await put({ [LAB]: entry(), [STALE]: entry(), 'docs|1': entry({ server_name: 'docs', server_url: 'http://127.0.0.1:1/mcp' }) });
      const s = store();
      assert.equal((await s.delete(LAB)).deleted, true);
      assert.deepEqual(Object.keys(await stored()), ['docs|1']);
      assert.equal(await s.read(LAB), undefined);
    });

    it('an executor-owned entry is never a configured server\'s login', async () => {
      await put({ [STALE]: entry({ executor_owned: true }) });
      const listing = await store().list();
      assert.equal(listing.entries.find((x) => x.key === LAB), undefined);
      assert.match(listing.findings.find((f) => f.code === CODEX_FINDING.storeDrift)?.detail ?? '', /executor-owned.*Codex ignores it/);
    });
  });
});
