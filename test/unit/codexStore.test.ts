// Codex's credential store on real files in a sandbox CODEX_HOME: the fallback file format as
// Codex 0.169 writes it, Codex's flock locks (held by real flock(1)/perl processes), store
// selection per mcp_oauth_credentials_store against a scripted keyring, and the findings.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LockTimeoutError } from '../../src/core/credentials/atomicWrite';
import { SnapshotStore } from '../../src/core/credentials/backups';
import type { KeyringOp, KeyringOpResult, KeyringRunner } from '../../src/core/credentials/codexKeyring';
import { codexFileStoreLockPath, codexRefreshLockPath, type FlockTool } from '../../src/core/credentials/codexLocks';
import { readCodexCredentialSettings, type CodexCredentialSettings } from '../../src/core/credentials/codexSettings';
import { CODEX_FINDING, CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import { credentialStoresFor } from '../../src/core/credentials/index';
import { MalformedStoreError, STORE_FINDING } from '../../src/core/credentials/storeFile';
import type { Environment } from '../../src/core/environment';
import { fingerprint } from '../../src/core/storageKey';
import { mint, mode, sandboxEnv, tempDir } from './credentialsHelpers';

const HOUR = 3600_000;
const LAB_URL = 'http://127.0.0.1:38423/mcp';
const DOCS_URL = 'http://127.0.0.1:38424/mcp';
const LAB = codexKey('lab', LAB_URL);
const DOCS = codexKey('docs', DOCS_URL);
const SERVERS = [
  { name: 'lab', url: LAB_URL },
  { name: 'docs', url: DOCS_URL },
];

/** An entry as Codex 0.169 writes it (`FallbackTokenEntry` field order, Option None = null). */
function fileEntry(name: string, url: string, overrides: Record<string, unknown> = {}) {
  return {
    server_name: name,
    server_url: url,
    issuer: url.replace(/\/mcp$/, ''),
    client_id: `client-${name}`,
    access_token: mint('at'),
    expires_at: Date.now() + HOUR,
    refresh_token: mint('rt'),
    scopes: ['mcp:tools', 'offline_access'],
    ...overrides,
  };
}

/** `StoredOAuthTokens` as Codex keeps it in the keyring. */
function keyringValue(name: string, url: string, overrides: { accessToken?: string; refreshToken?: string; expiresAt?: number | null; issuer?: string | null } = {}) {
  const expiresAt = overrides.expiresAt === undefined ? Date.now() + HOUR : overrides.expiresAt;
  return JSON.stringify({
    server_name: name,
    url,
    ...(overrides.issuer === null ? {} : { issuer: overrides.issuer ?? url.replace(/\/mcp$/, '') }),
    client_id: `client-${name}`,
    token_response: { access_token: overrides.accessToken ?? mint('at'), token_type: 'bearer', expires_in: 3599, refresh_token: overrides.refreshToken ?? mint('rt'), scope: 'mcp:tools offline_access' },
    expires_at: expiresAt,
  });
}

/** serde_json::to_string of a BTreeMap: compact, keys sorted. */
function codexFileText(entries: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : 1))));
}

interface FakeKeyring {
  runner: KeyringRunner;
  items: Map<string, string>;
  calls: KeyringOp[];
}

/** A scripted keyring: items in a map, optionally out of reach or failing per account. */
function fakeKeyring(initial: Record<string, string> = {}, options: { unreachable?: string; errors?: Record<string, { error: string; ambiguous?: boolean }> } = {}): FakeKeyring {
  const items = new Map(Object.entries(initial));
  const calls: KeyringOp[] = [];
  const runner: KeyringRunner = async (ops) => {
    calls.push(...ops);
    if (options.unreachable) return { reachable: false, reason: options.unreachable };
    const results = ops.map((op): KeyringOpResult => {
      if (op.op === 'find') return { ok: true, found: [...items].map(([account, password]) => ({ account, password })) };
      const err = options.errors?.[op.account];
      if (err) return { ok: false, ...err };
      if (op.op === 'get') return { ok: true, value: items.get(op.account) ?? null };
      if (op.op === 'set') {
        items.set(op.account, op.value);
        return { ok: true };
      }
      return { ok: true, deleted: items.delete(op.account) };
    });
    return { reachable: true, results };
  };
  return { runner, items, calls };
}

describe('Codex credential store', function () {
  this.timeout(30_000);
  let home: string;
  let codexHomeDir: string;
  let e: Environment;
  let file: string;
  let backups: SnapshotStore;

  beforeEach(async () => {
    home = await tempDir('mad-codex-');
    codexHomeDir = path.join(home, '.codex');
    await fs.mkdir(codexHomeDir, { recursive: true });
    e = sandboxEnv(home);
    file = codexCredentialsFile(e);
    backups = new SnapshotStore(path.join(home, 'backups'));
  });
  afterEach(async () => {
    await fs.rm(home, { recursive: true, force: true });
  });

  function store(settings: Partial<CodexCredentialSettings> = {}, keyring: FakeKeyring = fakeKeyring(), extra: { lockTimeoutMs?: number; flockTool?: FlockTool; now?: () => number } = {}) {
    return new CodexStore(e, { settings: { mode: 'file', secretAuthStorage: false, servers: SERVERS, ...settings }, backups, keyring: keyring.runner, ...extra });
  }

  async function writeFile(entries: Record<string, unknown>, fileMode = 0o600): Promise<string> {
    const text = codexFileText(entries);
    await fs.writeFile(file, text, { mode: fileMode });
    await fs.chmod(file, fileMode);
    return text;
  }

  describe('file store format', () => {
    it('lists what Codex wrote by fingerprint, never by token, with scopes, issuer and expiry', async () => {
      const lab = fileEntry('lab', LAB_URL);
      const docs = fileEntry('docs', DOCS_URL, { issuer: undefined, refresh_token: null, expires_at: null, scopes: [] });
      delete (docs as Record<string, unknown>).issuer;
      await writeFile({ [LAB]: lab, [DOCS]: docs });
      const listing = await store().list();
      assert.deepEqual(
        listing.entries.map((s) => s.key),
        [DOCS, LAB],
      );
      const l = listing.entries.find((s) => s.key === LAB)!;
      assert.equal(l.store, 'file');
      assert.equal(l.serverName, 'lab');
      assert.equal(l.serverUrl, LAB_URL);
      assert.equal(l.accessTokenFingerprint, fingerprint(lab.access_token));
      assert.equal(l.refreshTokenFingerprint, fingerprint(lab.refresh_token));
      assert.equal(l.expiresAt, lab.expires_at);
      assert.deepEqual(l.scopes, ['mcp:tools', 'offline_access']);
      assert.equal(l.issuer, 'http://127.0.0.1:38423');
      assert.equal(l.clientId, 'client-lab');
      assert.equal(l.usable, true);
      const d = listing.entries.find((s) => s.key === DOCS)!;
      assert.equal(d.hasRefreshToken, false);
      assert.equal(d.expiresAt, undefined);
      assert.deepEqual(d.scopes, []);
      const shown = JSON.stringify(listing);
      for (const secret of [lab.access_token, lab.refresh_token, docs.access_token]) assert.ok(!shown.includes(secret), 'a token leaked into the listing');
      assert.deepEqual(listing.findings, []);
    });

    it('changes one entry and leaves the others, unknown fields and the file mode as they were', async () => {
      const lab = fileEntry('lab', LAB_URL, { future_field: { kept: true } });
      const docs = fileEntry('docs', DOCS_URL);
      const before = await writeFile({ [LAB]: lab, [DOCS]: docs });
      const fresh = mint('at');
      const expiresAt = Date.now() + 2 * HOUR;
      const written = await store().write(LAB, { accessToken: fresh, expiresAt });

      const after = JSON.parse(await fs.readFile(file, 'utf8'));
      assert.deepEqual(Object.keys(after), [DOCS, LAB], 'keys stay in byte order, as serde writes a BTreeMap');
      assert.deepEqual(after[DOCS], docs);
      assert.deepEqual(after[LAB], { ...lab, access_token: fresh, expires_at: expiresAt });
      assert.deepEqual(Object.keys(after[LAB]), Object.keys(lab), 'field order kept');
      assert.equal(await mode(file), 0o600);
      const snaps = (await backups.list({ client: 'codex' })).snapshots;
      assert.equal(snaps.length, 1);
      assert.equal(snaps[0]!.reason, 'before-write');
      assert.equal(written.snapshotId, snaps[0]!.id, 'write names the snapshot it took');
      assert.equal((await backups.read(snaps[0]!.id))!.raw, before, 'the snapshot holds the file exactly as it was');
    });

    it('creates the file 0600 with an entry shaped like Codex writes one, and refuses an incomplete new entry', async () => {
      const s = store();
      await assert.rejects(s.write(LAB, { accessToken: mint('at') }), /needs server_name, server_url, client_id/);
      await assert.rejects(fs.stat(file), { code: 'ENOENT' });
      const at = mint('at');
      await s.write(LAB, { serverName: 'lab', serverUrl: LAB_URL, clientId: 'c1', issuer: 'http://127.0.0.1:38423', accessToken: at, scopes: ['mcp:tools'] });
      assert.equal(await mode(file), 0o600);
      const text = await fs.readFile(file, 'utf8');
      assert.equal(
        text,
        JSON.stringify({ [LAB]: { server_name: 'lab', server_url: LAB_URL, issuer: 'http://127.0.0.1:38423', client_id: 'c1', access_token: at, expires_at: null, refresh_token: null, scopes: ['mcp:tools'] } }),
      );
      await assert.rejects(s.write(LAB, { clientSecret: mint('cs') }), /does not store a client secret/);
    });

    it('removes an entry, and the file with its last entry (as Codex does), after a snapshot', async () => {
      await writeFile({ [LAB]: fileEntry('lab', LAB_URL), [DOCS]: fileEntry('docs', DOCS_URL) });
      const s = store();
      const first = await s.delete(DOCS);
      assert.equal(first.deleted, true);
      assert.equal(first.snapshotId, (await backups.list({ client: 'codex' })).snapshots[0]?.id, 'delete names the snapshot it took');
      assert.deepEqual(Object.keys(JSON.parse(await fs.readFile(file, 'utf8'))), [LAB]);
      assert.deepEqual(await s.delete(DOCS), { deleted: false });
      assert.equal((await s.delete(LAB)).deleted, true);
      await assert.rejects(fs.stat(file), { code: 'ENOENT' });
      const reasons = (await backups.list({ client: 'codex' })).snapshots.map((x) => x.reason);
      assert.deepEqual(reasons, ['before-delete', 'before-delete']);
    });
  });

  describe('malformed file', () => {
    it('names file and line of a syntax error and writes nothing', async () => {
      const text = `{"${LAB}":{"server_name":"lab",\n"server_url":"${LAB_URL}",,\n}}`;
      await fs.writeFile(file, text, { mode: 0o600 });
      const s = store();
      const listing = await s.list();
      const f = listing.findings.find((x) => x.code === STORE_FINDING.invalidJson);
      assert.ok(f, JSON.stringify(listing.findings));
      assert.equal(f.location?.file, file);
      assert.equal(f.location?.line, 2);
      assert.match(f.detail, /Codex cannot read any MCP login from it/);
      await assert.rejects(s.write(LAB, { accessToken: mint('at') }), MalformedStoreError);
      assert.equal(await fs.readFile(file, 'utf8'), text);
    });

    for (const [what, bad, why] of [
      ['a missing client_id', { client_id: undefined }, /client_id/],
      ['scopes: null', { scopes: null }, /scopes/],
      ['an expiry in quotes', { expires_at: '1790000000000' }, /expires_at/],
    ] as const) {
      it(`treats one entry with ${what} as the whole file unreadable, as serde does`, async () => {
        const lab = fileEntry('lab', LAB_URL);
        const docs: Record<string, unknown> = { ...fileEntry('docs', DOCS_URL), ...bad };
        const text = JSON.stringify({ [LAB]: lab, [DOCS]: docs }, null, 2);
        await fs.writeFile(file, text, { mode: 0o600 });
        const s = store();
        const listing = await s.list();
        assert.deepEqual(listing.entries, []);
        const f = listing.findings.find((x) => x.code === CODEX_FINDING.invalidEntry);
        assert.ok(f, JSON.stringify(listing.findings));
        assert.match(f.detail, why);
        assert.equal(f.location?.file, file);
        assert.equal(f.location?.line, text.split('\n').findIndex((l) => l.includes(`"${DOCS}"`)) + 1);
        await assert.rejects(s.write(LAB, { accessToken: mint('at') }), MalformedStoreError);
        assert.equal(await fs.readFile(file, 'utf8'), text);
      });
    }

    it('warns that Codex cannot write through a symlinked file, and about a file others can read', async () => {
      const real = path.join(home, 'elsewhere.json');
      await fs.writeFile(real, codexFileText({ [LAB]: fileEntry('lab', LAB_URL) }), { mode: 0o644 });
      await fs.chmod(real, 0o644);
      await fs.symlink(real, file);
      const codes = (await store().list()).findings.map((f) => f.code);
      assert.deepEqual(codes.sort(), [CODEX_FINDING.filePermissions, CODEX_FINDING.symlinkNotWritable].sort());
    });
  });

  describe("Codex's locks", () => {
    /** Holds a flock like Codex's `File::try_lock` does, from a separate process, for `ms`. */
    function holdLock(lockFile: string, ms: number): Promise<void> {
      return new Promise((resolve, reject) => {
        spawnSync('mkdir', ['-p', path.dirname(lockFile)]);
        const child = spawn('flock', ['-x', lockFile, 'sh', '-c', `echo held; sleep ${ms / 1000}`], { stdio: ['ignore', 'pipe', 'inherit'] });
        child.stdout.once('data', () => resolve());
        child.on('error', reject);
      });
    }

    for (const tool of ['flock', 'perl'] as const) {
      it(`waits for the store lock and gives up in time, writing nothing (${tool})`, async () => {
        const text = await writeFile({ [LAB]: fileEntry('lab', LAB_URL) });
        await holdLock(codexFileStoreLockPath(codexHomeDir), 1_500);
        const started = Date.now();
        await assert.rejects(store({}, fakeKeyring(), { lockTimeoutMs: 400, flockTool: tool }).write(LAB, { accessToken: mint('at') }), LockTimeoutError);
        const waited = Date.now() - started;
        assert.ok(waited >= 350 && waited < 1_400, `waited ${waited} ms`);
        assert.equal(await fs.readFile(file, 'utf8'), text);
        // Once Codex lets go, the same write goes through.
        await new Promise((r) => setTimeout(r, 1_300));
        await store({}, fakeKeyring(), { lockTimeoutMs: 2_000, flockTool: tool }).write(LAB, { accessToken: mint('at2') });
        assert.notEqual(await fs.readFile(file, 'utf8'), text);
      });
    }

    it("waits for the server's refresh lock (Codex holds it across a token refresh)", async () => {
      const text = await writeFile({ [LAB]: fileEntry('lab', LAB_URL) });
      await holdLock(codexRefreshLockPath(codexHomeDir, LAB), 1_000);
      await assert.rejects(store({}, fakeKeyring(), { lockTimeoutMs: 300 }).write(LAB, { accessToken: mint('at') }), LockTimeoutError);
      assert.equal(await fs.readFile(file, 'utf8'), text);
      // Another server's refresh lock does not block this one.
      await store({}, fakeKeyring(), { lockTimeoutMs: 300 }).write(DOCS, { serverName: 'docs', serverUrl: DOCS_URL, clientId: 'c', accessToken: mint('at') });
      assert.ok(JSON.parse(await fs.readFile(file, 'utf8'))[DOCS]);
    });

    it('serialises concurrent writers: no entry is lost', async () => {
      await writeFile({ [LAB]: fileEntry('lab', LAB_URL) });
      const names = ['a', 'b', 'c', 'd', 'e', 'f'];
      await Promise.all(
        names.map((n) => store().write(codexKey(n, `http://127.0.0.1:1/${n}`), { serverName: n, serverUrl: `http://127.0.0.1:1/${n}`, clientId: n, accessToken: mint('at') })),
      );
      const keys = Object.keys(JSON.parse(await fs.readFile(file, 'utf8')));
      assert.equal(keys.length, names.length + 1, keys.join(', '));
    });
  });

  describe('store selection (mcp_oauth_credentials_store)', () => {
    it('auto: reads the keyring copy first and reports a different file copy as drift', async () => {
      const keyringAt = mint('at');
      const kr = fakeKeyring({ [LAB]: keyringValue('lab', LAB_URL, { accessToken: keyringAt, expiresAt: Date.now() + HOUR }) });
      await writeFile({ [LAB]: fileEntry('lab', LAB_URL, { expires_at: Date.now() + 5 * HOUR }), [DOCS]: fileEntry('docs', DOCS_URL) });
      const listing = await store({ mode: 'auto' }, kr).list();
      const lab = listing.entries.find((s) => s.key === LAB)!;
      assert.equal(lab.store, 'keyring');
      assert.equal(lab.accessTokenFingerprint, fingerprint(keyringAt));
      assert.equal(listing.entries.find((s) => s.key === DOCS)?.store, 'file', 'no keyring entry: the file copy');
      assert.equal(listing.copies.filter((c) => c.key === LAB).length, 2);
      const drift = listing.findings.filter((f) => f.code === CODEX_FINDING.storeDrift);
      assert.equal(drift.length, 1);
      assert.equal(drift[0]!.severity, 'warning');
      assert.match(drift[0]!.detail, /uses the keyring copy/);
      assert.match(drift[0]!.detail, /although it is newer/);
      assert.equal(drift[0]!.location?.file, file);
    });

    it('auto: an identical second copy is reported as info only', async () => {
      const lab = fileEntry('lab', LAB_URL);
      const kr = fakeKeyring({ [LAB]: keyringValue('lab', LAB_URL, { accessToken: lab.access_token, refreshToken: lab.refresh_token, expiresAt: lab.expires_at }) });
      await writeFile({ [LAB]: lab });
      const drift = (await store({ mode: 'auto' }, kr).list()).findings.filter((f) => f.code === CODEX_FINDING.storeDrift);
      assert.deepEqual(
        drift.map((f) => f.severity),
        ['info'],
      );
    });

    it('auto: an unreachable keyring falls back to the file, says why, and writes go to the file', async () => {
      const kr = fakeKeyring({}, { unreachable: 'Platform secure storage failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files' });
      const lab = fileEntry('lab', LAB_URL);
      await writeFile({ [LAB]: lab });
      const s = store({ mode: 'auto' }, kr);
      const listing = await s.list();
      assert.equal(listing.entries[0]?.store, 'file');
      const f = listing.findings.find((x) => x.code === CODEX_FINDING.keyringUnavailable);
      assert.ok(f);
      assert.equal(f.severity, 'info'); // auto falls back to the file: worth knowing, not a problem
      assert.match(f.detail, /org\.freedesktop\.secrets was not provided/);
      assert.equal(s.kind, 'file');
      const at = mint('at');
      await s.write(LAB, { accessToken: at });
      assert.equal(JSON.parse(await fs.readFile(file, 'utf8'))[LAB].access_token, at);
      assert.ok(!kr.calls.some((c) => c.op === 'set'));
    });

    it('auto: an unreadable keyring value is skipped for the file copy, with a finding', async () => {
      const kr = fakeKeyring({ [LAB]: '{"not":"codex"}' });
      await writeFile({ [LAB]: fileEntry('lab', LAB_URL) });
      const listing = await store({ mode: 'auto' }, kr).list();
      assert.equal(listing.entries[0]?.store, 'file');
      const f = listing.findings.find((x) => x.code === CODEX_FINDING.keyringValueInvalid);
      assert.ok(f);
      assert.match(f.detail, /uses the copy in its credentials file/);
    });

    it('auto: a new grant goes to the keyring, an existing file grant stays in the file', async () => {
      const kr = fakeKeyring();
      await writeFile({ [DOCS]: fileEntry('docs', DOCS_URL) });
      const s = store({ mode: 'auto' }, kr);
      const at = mint('at');
      await s.write(LAB, { serverName: 'lab', serverUrl: LAB_URL, clientId: 'c', issuer: 'http://127.0.0.1:38423', accessToken: at, refreshToken: mint('rt'), expiresAt: Date.now() + HOUR, scopes: ['mcp:tools'] });
      const stored = JSON.parse(kr.items.get(LAB)!);
      assert.equal(stored.token_response.access_token, at);
      assert.equal(stored.token_response.token_type, 'bearer');
      assert.equal(stored.token_response.scope, 'mcp:tools');
      assert.ok(stored.token_response.expires_in > 3500 && stored.token_response.expires_in <= 3600);
      assert.ok(!(LAB in JSON.parse(await fs.readFile(file, 'utf8'))));
      await s.write(DOCS, { accessToken: at });
      assert.equal(JSON.parse(await fs.readFile(file, 'utf8'))[DOCS].access_token, at);
      assert.ok(!kr.items.has(DOCS));
    });

    it('keyring: a grant only in the file is invisible to Codex (drift); an unreachable keyring is an error and blocks writes', async () => {
      await writeFile({ [LAB]: fileEntry('lab', LAB_URL) });
      const listing = await store({ mode: 'keyring' }, fakeKeyring()).list();
      assert.deepEqual(listing.entries, []);
      const drift = listing.findings.find((f) => f.code === CODEX_FINDING.storeDrift);
      assert.ok(drift);
      assert.match(drift.title, /reads only the keyring/);

      const down = fakeKeyring({}, { unreachable: 'the OS keyring did not answer within 5.0 s' });
      const s = store({ mode: 'keyring' }, down);
      const f = (await s.list()).findings.find((x) => x.code === CODEX_FINDING.keyringUnavailable);
      assert.equal(f?.severity, 'error');
      const text = await fs.readFile(file, 'utf8');
      await assert.rejects(s.write(LAB, { accessToken: mint('at') }), /keyring only, so nothing was written/);
      assert.equal(await fs.readFile(file, 'utf8'), text);
    });

    it('file: a grant only in the keyring is invisible to Codex (drift)', async () => {
      const kr = fakeKeyring({ [LAB]: keyringValue('lab', LAB_URL) });
      const listing = await store({ mode: 'file' }, kr).list();
      assert.deepEqual(listing.entries, []);
      const drift = listing.findings.find((f) => f.code === CODEX_FINDING.storeDrift);
      assert.ok(drift);
      assert.match(drift.title, /is in the keyring, but Codex reads only the file/);
    });

    it('several keyring items for one account: an error finding (the keyring refuses to pick one)', async () => {
      const kr = fakeKeyring({}, { errors: { [LAB]: { error: 'Entry is matched by 2 credentials: [...]', ambiguous: true } } });
      await writeFile({ [LAB]: fileEntry('lab', LAB_URL) });
      const listing = await store({ mode: 'auto' }, kr).list();
      assert.ok(listing.findings.some((f) => f.code === CODEX_FINDING.keyringAmbiguous && f.severity === 'error'));
      assert.equal(listing.entries[0]?.store, 'file', 'Codex (auto) falls back to the file on a keyring error');
    });

    it('delete removes the grant from the keyring and the file, as codex mcp logout does', async () => {
      const kr = fakeKeyring({ [LAB]: keyringValue('lab', LAB_URL) });
      await writeFile({ [LAB]: fileEntry('lab', LAB_URL), [DOCS]: fileEntry('docs', DOCS_URL) });
      assert.equal((await store({ mode: 'auto' }, kr).delete(LAB)).deleted, true);
      assert.ok(!kr.items.has(LAB));
      assert.deepEqual(Object.keys(JSON.parse(await fs.readFile(file, 'utf8'))), [DOCS]);
      const snaps = (await backups.list({ client: 'codex' })).snapshots;
      assert.deepEqual(snaps.map((x) => x.storeKind).sort(), ['file', 'keyring']);
    });

    it('no Codex on this machine: no keyring call, no finding, and CODEX_HOME is not created', async () => {
      await fs.rm(codexHomeDir, { recursive: true });
      const kr = fakeKeyring({}, { unreachable: 'no D-Bus session bus' });
      const listing = await new CodexStore(e, { settings: { mode: 'auto', secretAuthStorage: false, servers: [] }, backups, keyring: kr.runner }).list();
      assert.deepEqual([listing.entries, listing.findings, kr.calls], [[], [], []]);
      await assert.rejects(fs.stat(codexHomeDir), { code: 'ENOENT' });
      // With a configured server the same unreachable keyring is worth a warning.
      const withServer = await store({ mode: 'auto' }, kr).list();
      assert.ok(withServer.findings.some((f) => f.code === CODEX_FINDING.keyringUnavailable));
    });

    it('encrypted secrets backend: keyring items are not read, and a new grant goes to the secrets file (more in codexStoreSecrets.test.ts)', async () => {
      const kr = fakeKeyring();
      const secretsKr = fakeKeyring();
      const s = new CodexStore(e, { settings: { mode: 'keyring', secretAuthStorage: true, servers: SERVERS }, backups, keyring: kr.runner, secretsKeyring: secretsKr.runner });
      const listing = await s.list();
      assert.deepEqual(listing.findings, [], 'no secrets file yet is nothing wrong');
      assert.equal(kr.calls.length, 0, 'Codex does not use keyring items then; we do not read them');
      assert.equal(secretsKr.calls.length, 0, 'no secrets file: its key is not even asked for');
      const at = mint('at');
      await s.write(LAB, { serverName: 'lab', serverUrl: LAB_URL, clientId: 'c1', accessToken: at });
      assert.ok((await fs.stat(path.join(codexHomeDir, 'secrets', 'mcp_oauth.age'))).isFile());
      assert.equal((await s.read(LAB))?.accessTokenFingerprint, fingerprint(at));
      assert.equal(kr.calls.length, 0);
    });
  });

  describe('findings about entries', () => {
    it('reports a grant for a server that is no longer configured, at its line', async () => {
      const text = JSON.stringify({ [LAB]: fileEntry('lab', LAB_URL), [codexKey('old', 'http://127.0.0.1:1/mcp')]: fileEntry('old', 'http://127.0.0.1:1/mcp') }, null, 2);
      await fs.writeFile(file, text, { mode: 0o600 });
      const findings = (await store().list()).findings.filter((f) => f.code === CODEX_FINDING.notConfigured);
      assert.equal(findings.length, 1);
      assert.match(findings[0]!.title, /"old"/);
      assert.equal(findings[0]!.location?.line, text.split('\n').findIndex((l) => l.includes('"old|')) + 1);
      const unknown = new CodexStore(e, { settings: { mode: 'file', secretAuthStorage: false }, backups, keyring: fakeKeyring().runner });
      assert.ok(!(await unknown.list()).findings.some((f) => f.code === CODEX_FINDING.notConfigured), 'no server list, no such finding');
    });

    it('says when Codex will ask to log in again: expired without refresh token, or without a bound issuer', async () => {
      const past = Date.now() - HOUR;
      await writeFile({
        [LAB]: fileEntry('lab', LAB_URL, { expires_at: past, refresh_token: null }),
        [DOCS]: (() => {
          const d: Record<string, unknown> = fileEntry('docs', DOCS_URL, { expires_at: past });
          delete d.issuer;
          return d;
        })(),
        [codexKey('ok', 'http://127.0.0.1:2/mcp')]: fileEntry('ok', 'http://127.0.0.1:2/mcp', { expires_at: past }),
      });
      const listing = await store({ servers: [...SERVERS, { name: 'ok', url: 'http://127.0.0.1:2/mcp' }] }).list();
      const needs = listing.findings.filter((f) => f.code === CODEX_FINDING.needsLogin).map((f) => f.title + ' ' + f.detail);
      assert.equal(needs.length, 2, needs.join('\n'));
      assert.ok(needs.some((n) => /"lab"/.test(n) && /no refresh token/.test(n)));
      assert.ok(needs.some((n) => /"docs"/.test(n) && /records no issuer/.test(n)));
      assert.equal(listing.entries.find((s) => s.serverName === 'ok')?.usable, true, 'expired with refresh token and issuer: Codex refreshes it');
    });
  });

  describe('restore', () => {
    it('puts one entry back from a snapshot, and the whole file byte for byte', async () => {
      const lab = fileEntry('lab', LAB_URL);
      const original = await writeFile({ [LAB]: lab, [DOCS]: fileEntry('docs', DOCS_URL) });
      const s = store();
      const manual = (await s.backup())!;
      const snap = (await backups.read(manual.id))!;
      await s.write(LAB, { accessToken: mint('at') });
      await s.delete(DOCS);

      const plan = await s.planRestore(snap, LAB);
      assert.deepEqual(
        plan.entries.map((c) => [c.key, c.change]),
        [[LAB, 'changed']],
      );
      await s.restore(snap, LAB);
      assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8'))[LAB], lab);
      assert.ok(!(DOCS in JSON.parse(await fs.readFile(file, 'utf8'))));

      const whole = await s.planRestore(snap);
      assert.deepEqual(
        whole.entries.map((c) => [c.key, c.change]),
        [
          [DOCS, 'added'],
          [LAB, 'unchanged'],
        ],
      );
      const outcome = await s.restore(snap);
      assert.equal(await fs.readFile(file, 'utf8'), original);
      assert.ok(outcome.previous, 'the state before the restore was snapshotted');
    });
  });

  describe('settings from config.toml and the store factory', () => {
    it('reads mcp_oauth_credentials_store, [features] secret_auth_storage and the HTTP servers', async () => {
      await fs.writeFile(
        path.join(codexHomeDir, 'config.toml'),
        `mcp_oauth_credentials_store = "keyring"\n[features]\nsecret_auth_storage = true\n[mcp_servers.lab]\nurl = "${LAB_URL}"\n[mcp_servers.local]\ncommand = "npx"\n`,
      );
      assert.deepEqual(await readCodexCredentialSettings(e), { mode: 'keyring', secretAuthStorage: true, servers: [{ name: 'lab', url: LAB_URL }] });
      await fs.writeFile(path.join(codexHomeDir, 'config.toml'), 'mcp_oauth_credentials_store = "keyring"\n[[broken');
      assert.deepEqual(await readCodexCredentialSettings(e), { mode: 'auto', secretAuthStorage: false });
      assert.deepEqual(await readCodexCredentialSettings(sandboxEnv(home, {}, 'win32')), { mode: 'auto', secretAuthStorage: true }, 'Windows builds default to encrypted secrets');
    });

    it("counts an open project's .codex/config.toml servers as configured", async () => {
      await fs.writeFile(path.join(codexHomeDir, 'config.toml'), `[mcp_servers.lab]\nurl = "${LAB_URL}"\n`);
      const project = path.join(home, 'proj');
      await fs.mkdir(path.join(project, '.codex'), { recursive: true });
      await fs.writeFile(path.join(project, '.codex', 'config.toml'), `[mcp_servers.docs]\nurl = "${DOCS_URL}"\n`);
      await writeFile({ [LAB]: fileEntry('lab', LAB_URL), [DOCS]: fileEntry('docs', DOCS_URL) });
      const withProject = { ...e, projectDirs: [project] };
      const s = new CodexStore(withProject, { backups, keyring: fakeKeyring().runner });
      assert.deepEqual((await s.list()).findings.filter((f) => f.code === CODEX_FINDING.notConfigured), []);
      const without = new CodexStore({ ...e, projectDirs: [] }, { backups, keyring: fakeKeyring().runner });
      const orphans = (await without.list()).findings.filter((f) => f.code === CODEX_FINDING.notConfigured);
      assert.deepEqual(
        orphans.map((f) => f.title),
        ['Codex credentials for "docs", which is no longer configured'],
      );
    });

    it('the factory returns a Codex store that reads this CODEX_HOME', async () => {
      const custom = path.join(home, 'custom-codex');
      await fs.mkdir(custom);
      e = sandboxEnv(home, { CODEX_HOME: custom });
      const lab = fileEntry('lab', LAB_URL);
      await fs.writeFile(path.join(custom, '.credentials.json'), codexFileText({ [LAB]: lab }), { mode: 0o600 });
      const [codex] = credentialStoresFor(e, { mode: 'file', servers: SERVERS }, { backups, clients: ['codex'] });
      assert.equal(codex?.client, 'codex');
      assert.equal(codex?.location, path.join(custom, '.credentials.json'));
      assert.equal((await codex!.read(LAB))?.accessTokenFingerprint, fingerprint(lab.access_token));
    });
  });
});
