// Gemini CLI's MCP token file on real files in a sandbox HOME: the format Gemini 0.61.0 writes
// (tokenFile.ts), fingerprints only in listings, writes that keep every other byte, unknown
// fields and the file mode, snapshots first, deletes of one server, and the malformed and
// keychain-mode cases where nothing may be written.
import { strict as assert } from 'node:assert';
import { createCipheriv, randomBytes, scryptSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GeminiCliStore } from '../../../src/core/clients/gemini-cli/store';
import { SnapshotStore } from '../../../src/core/credentials/backups';
import { MalformedStoreError } from '../../../src/core/credentials/storeFile';
import type { Environment } from '../../../src/core/environment';
import { fingerprint } from '../../../src/core/storageKey';

const HOUR = 3600_000;
let n = 0;
const mint = (label: string) => `${label}-${process.pid}-${++n}-${Math.random().toString(36).slice(2)}`;

/** An entry as Gemini 0.61.0's saveToken writes it (field order of a real login). */
function entry(name: string, over: Record<string, unknown> = {}) {
  return {
    serverName: name,
    token: { accessToken: mint('at'), tokenType: 'Bearer', refreshToken: mint('rt'), scope: 'mcp:tools', expiresAt: Date.now() + HOUR },
    clientId: `client-${name}`,
    tokenUrl: 'http://127.0.0.1:1/token',
    mcpServerUrl: `http://127.0.0.1:2/${name}`,
    updatedAt: Date.now(),
    ...over,
  };
}

describe('Gemini CLI token store', () => {
  let home: string;
  let file: string;
  let e: Environment;
  let store: GeminiCliStore;
  let backups: SnapshotStore;

  beforeEach(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-gemini-store-'));
    file = path.join(home, '.gemini', 'mcp-oauth-tokens.json');
    e = { home, env: {}, platform: 'linux', projectDirs: [] };
    backups = new SnapshotStore(path.join(home, 'backups'));
    store = new GeminiCliStore(e, { backups });
  });
  afterEach(async () => fs.rm(home, { recursive: true, force: true }));

  /**
   * The snapshot as written. Read from its file: SnapshotStore.read refuses a client id the
   * registry does not list yet (backups.ts SnapshotSchema: z.enum(CLIENT_IDS)).
   */
  const snapshot = async (id: string) => {
    const dir = path.join(home, 'backups');
    const name = (await fs.readdir(dir)).find((f) => f.startsWith(id));
    assert.ok(name, `snapshot ${id}`);
    return JSON.parse(await fs.readFile(path.join(dir, name), 'utf8')) as { raw: string; client: string; entries: { key: string }[]; expectedAfter?: { entryKeys: string[] } };
  };

  const put = async (value: unknown, mode = 0o600) => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2), { mode });
    await fs.chmod(file, mode);
  };

  it('lists fingerprints, expiry, scopes and client id, never a token', async () => {
    const lab = entry('lab');
    await put([lab, entry('docs')]);
    const listing = await store.list();
    assert.deepEqual(listing.findings, []);
    assert.equal(store.location, file);
    const s = listing.entries.find((x) => x.key === 'lab');
    assert.deepEqual(s, {
      key: 'lab',
      serverName: 'lab',
      serverUrl: lab.mcpServerUrl,
      hasAccessToken: true,
      accessTokenFingerprint: fingerprint(lab.token.accessToken),
      hasRefreshToken: true,
      refreshTokenFingerprint: fingerprint(lab.token.refreshToken),
      expiresAt: lab.token.expiresAt,
      scopes: ['mcp:tools'],
      clientId: 'client-lab',
      hasClientSecret: false,
    });
    assert.ok(!JSON.stringify(listing).includes(lab.token.accessToken));
    assert.deepEqual(await store.readSecret('lab'), { accessToken: lab.token.accessToken, refreshToken: lab.token.refreshToken });
    assert.equal(await store.read('nope'), undefined);
  });

  it('a refresh write changes only that entry, keeps unknown fields, other bytes and the mode, and snapshots first', async () => {
    const lab = { ...entry('lab'), futureField: { keep: true } };
    (lab.token as Record<string, unknown>).extra = 'x';
    const docs = entry('docs');
    await put([lab, docs], 0o640);
    const before = await fs.readFile(file, 'utf8');
    const at = mint('at2');
    const rt = mint('rt2');
    const expiresAt = Date.now() + 2 * HOUR;
    const result = await store.write('lab', { accessToken: at, refreshToken: rt, expiresAt, scopes: ['mcp:tools', 'offline_access'] });
    assert.ok(result.snapshotId);
    const after = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.equal(after[0].token.accessToken, at);
    assert.equal(after[0].token.refreshToken, rt);
    assert.equal(after[0].token.expiresAt, expiresAt);
    assert.equal(after[0].token.scope, 'mcp:tools offline_access');
    assert.equal(after[0].token.extra, 'x');
    assert.equal(after[0].token.tokenType, 'Bearer');
    assert.deepEqual(after[0].futureField, { keep: true });
    assert.equal(after[0].clientId, 'client-lab');
    assert.ok(after[0].updatedAt >= lab.updatedAt);
    assert.deepEqual(after[1], docs);
    // The docs entry's bytes are the same bytes.
    const docsText = (t: string) => t.slice(t.indexOf('"serverName": "docs"'));
    assert.equal(docsText(await fs.readFile(file, 'utf8')), docsText(before));
    assert.equal((await fs.stat(file)).mode & 0o777, 0o640);
    const snap = await snapshot(result.snapshotId!);
    assert.equal(snap.raw, before);
    assert.equal(snap.client, 'gemini-cli');
    assert.deepEqual(
      snap.entries.map((x) => x.key),
      ['lab', 'docs'],
    );
    assert.equal(snap.expectedAfter?.entryKeys.length, 2);
  });

  it('null refresh token and expiry remove them; a new server is appended in Gemini\'s shape; a new file is 0600', async () => {
    await store.write('fresh', { accessToken: 'at-fresh', refreshToken: 'rt-fresh', expiresAt: 123, clientId: 'cid', serverUrl: 'http://127.0.0.1:3/mcp' });
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    let data = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.deepEqual(Object.keys(data[0]), ['serverName', 'token', 'clientId', 'mcpServerUrl', 'updatedAt']);
    assert.deepEqual(data[0].token, { accessToken: 'at-fresh', tokenType: 'Bearer', refreshToken: 'rt-fresh', expiresAt: 123 });
    await store.write('second', { accessToken: 'at-2' });
    await store.write('fresh', { refreshToken: null, expiresAt: null });
    data = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.deepEqual(
      data.map((x: { serverName: string }) => x.serverName),
      ['fresh', 'second'],
    );
    assert.deepEqual(data[0].token, { accessToken: 'at-fresh', tokenType: 'Bearer' });
    await assert.rejects(store.write('ghost', { refreshToken: 'r' }), /no access token/);
  });

  it('delete removes every entry of that server only, keeps the others byte for byte, and reports false when absent', async () => {
    const docs = entry('docs');
    await put([entry('lab'), docs, entry('lab')]);
    const listing = await store.list();
    assert.equal(listing.findings[0]?.code, 'credentials.duplicate-server');
    // Gemini uses the last entry of a name.
    assert.equal(listing.entries.find((x) => x.key === 'lab')?.refreshTokenFingerprint, fingerprint((JSON.parse(await fs.readFile(file, 'utf8'))[2] as ReturnType<typeof entry>).token.refreshToken));
    const r = await store.delete('lab');
    assert.equal(r.deleted, true);
    assert.ok(r.snapshotId);
    const text = await fs.readFile(file, 'utf8');
    assert.deepEqual(JSON.parse(text), [docs]);
    assert.equal(text, JSON.stringify([docs], null, 2));
    assert.deepEqual(await store.delete('lab'), { deleted: false });
    await store.delete('docs');
    assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')), []);
  });

  it('a malformed file is a finding with its line, and no write or delete touches it', async () => {
    const cases: [string, string][] = [
      ['[\n  {"serverName": "lab",\n', 'credentials.invalid-json'],
      ['{"lab": {}}', 'credentials.wrong-type'],
      ['[null]', 'credentials.invalid-entry'],
      ['', 'credentials.empty'],
    ];
    for (const [text, code] of cases) {
      await put(text);
      const listing = await store.list();
      assert.equal(listing.findings[0]?.code, code, text);
      assert.equal(listing.findings[0]?.location?.file, file);
      await assert.rejects(store.write('lab', { accessToken: 'x' }), MalformedStoreError);
      await assert.rejects(store.delete('lab'), MalformedStoreError);
      assert.equal(await fs.readFile(file, 'utf8'), text);
    }
  });

  it('a null entry: the logins before it are listed (Gemini reads those), the rest is a finding, and nothing is written', async () => {
    const lab = entry('lab');
    const text = JSON.stringify([lab, null, entry('docs')], null, 2);
    await put(text);
    const listing = await store.list();
    assert.deepEqual(listing.entries.map((x) => x.key), ['lab']);
    assert.equal(listing.findings[0]?.code, 'credentials.invalid-entry');
    assert.match(listing.findings[0]!.detail, /uses the 1 login\(s\) before it and none of the 1 after it/);
    await assert.rejects(store.write('lab', { accessToken: 'x' }), MalformedStoreError);
    assert.equal(await fs.readFile(file, 'utf8'), text);
  });

  it('an entry without a token is flagged; a world-readable file is flagged', async () => {
    await put([{ serverName: 'lab', clientId: 'c' }, entry('docs')], 0o644);
    const codes = (await store.list()).findings.map((f) => f.code);
    assert.deepEqual(codes, ['credentials.invalid-entry', 'credentials.file-permissions']);
  });

  it('GEMINI_FORCE_ENCRYPTED_FILE_STORAGE=true: says where the logins are, reads none, writes none', async () => {
    await put([entry('lab')]);
    const s = new GeminiCliStore({ ...e, env: { GEMINI_FORCE_ENCRYPTED_FILE_STORAGE: 'true' } }, { backups });
    const listing = await s.list();
    assert.deepEqual(listing.entries, []);
    assert.equal(listing.findings[0]?.code, 'credentials.keychain-not-read');
    assert.match(listing.findings[0]!.detail, /gemini-credentials\.json/);
    await assert.rejects(s.write('lab', { accessToken: 'x' }), MalformedStoreError);
  });

  it('GEMINI_FORCE_ENCRYPTED_FILE_STORAGE=true with the encrypted fallback file: lists its MCP logins read-only, never the Google login', async () => {
    const lab = entry('lab');
    const plain = JSON.stringify({
      'gemini-cli-oauth': { lab: JSON.stringify(lab), 'main-account': JSON.stringify({ serverName: 'main-account', token: { accessToken: 'g', tokenType: 'Bearer' } }), '__keychain_test__ab': 'test' },
      other: { x: 'y' },
    });
    // FileKeychain.encrypt: AES-256-GCM, 12-byte IV, key scrypt("gemini-cli-oauth", "<host>-<user>-gemini-cli").
    const key = scryptSync('gemini-cli-oauth', `${os.hostname()}-${os.userInfo().username}-gemini-cli`, 32);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    const ct = c.update(plain, 'utf8', 'hex') + c.final('hex');
    const encrypted = path.join(home, '.gemini', 'gemini-credentials.json');
    await fs.mkdir(path.dirname(encrypted), { recursive: true });
    await fs.writeFile(encrypted, `${iv.toString('hex')}:${c.getAuthTag().toString('hex')}:${ct}`, { mode: 0o600 });
    const s = new GeminiCliStore({ ...e, env: { GEMINI_FORCE_ENCRYPTED_FILE_STORAGE: 'true' } }, { backups });
    const listing = await s.list();
    assert.deepEqual(
      listing.entries.map((x) => [x.key, x.accessTokenFingerprint]),
      [['lab', fingerprint(lab.token.accessToken)]],
    );
    assert.match(listing.findings[0]!.detail, /read-only/);
    assert.equal(await s.readSecret('lab'), undefined);
    const before = await fs.readFile(encrypted, 'utf8');
    await assert.rejects(s.delete('lab'), MalformedStoreError);
    assert.equal(await fs.readFile(encrypted, 'utf8'), before);
    await fs.writeFile(encrypted, 'not:an:encryption');
    assert.match((await s.list()).findings[0]!.detail, /cannot be decrypted/);
  });

  it('GEMINI_CLI_HOME and SANDBOX=sandbox-exec move the file as Gemini does', () => {
    assert.equal(new GeminiCliStore({ ...e, env: { GEMINI_CLI_HOME: '/g' } }, { backups }).location, '/g/.gemini/mcp-oauth-tokens.json');
    assert.equal(new GeminiCliStore({ ...e, env: { SANDBOX: 'sandbox-exec' } }, { backups }).location, path.join(home, '.cache', '.gemini', 'mcp-oauth-tokens.json'));
  });
});
