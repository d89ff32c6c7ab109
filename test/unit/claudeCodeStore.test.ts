import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LockTimeoutError, listTempFiles } from '../../src/core/credentials/atomicWrite';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { ClaudeCodeStore, claudeCredentialsFile, claudeStorageLockTarget } from '../../src/core/credentials/claudeCodeStore';
import { MalformedStoreError } from '../../src/core/credentials/storeFile';
import type { Environment } from '../../src/core/environment';
import { fingerprint } from '../../src/core/storageKey';
import { holdClaudeLock, mint, mode, sandboxEnv, tempDir } from './credentialsHelpers';

const LAB = 'lab|0273820822139ec6';
const DOCS = 'docs|1111111111111111';
const HOUR = 3600_000;

type Style = 'compact' | 2 | 4 | 'tab' | 'crlf';

function serialise(value: unknown, style: Style): string {
  if (style === 'compact') return JSON.stringify(value);
  if (style === 'crlf') return JSON.stringify(value, null, 2).replace(/\n/g, '\r\n') + '\r\n';
  return JSON.stringify(value, null, style === 'tab' ? '\t' : style) + '\n';
}

/** A store as Claude Code keeps it, with fields and keys it may add in future versions. */
function fixture(now = Date.now()) {
  return {
    claudeAiOauth: { accessToken: mint('acct'), refreshToken: mint('acct-r'), expiresAt: now + 8 * HOUR, scopes: ['user:inference'], subscriptionType: 'max' },
    mcpOAuth: {
      [LAB]: {
        serverName: 'lab',
        serverUrl: 'http://127.0.0.1:38423/mcp',
        clientId: 'client-lab',
        redirectUri: 'http://localhost:3118/callback',
        accessToken: mint('at'),
        refreshToken: mint('rt'),
        expiresAt: now + HOUR,
        scope: 'mcp:tools offline_access',
        discoveryState: { authorizationServerUrl: 'http://127.0.0.1:38423/', resourceMetadataUrl: 'http://127.0.0.1:38423/.well-known/oauth-protected-resource/mcp', oauthMetadataFound: true },
        stepUpScope: 'mcp:admin',
      },
      [DOCS]: { serverName: 'docs', serverUrl: 'https://docs.example/mcp', clientId: 'client-docs', accessToken: mint('at'), expiresAt: now + 2 * HOUR, scope: 'read' },
    },
    futureTopLevel: { nested: [1, 2, { deep: true }] },
  };
}

describe('Claude Code credential store (file)', () => {
  let home: string;
  let e: Environment;
  let file: string;
  let backups: SnapshotStore;
  let store: ClaudeCodeStore;

  beforeEach(async () => {
    home = await tempDir();
    e = sandboxEnv(home);
    file = claudeCredentialsFile(e);
    backups = new SnapshotStore(path.join(home, 'backups'));
    store = new ClaudeCodeStore(e, { backups, lockTimeoutMs: 2000 });
    await fs.mkdir(path.dirname(file), { recursive: true });
  });
  afterEach(async () => {
    await fs.rm(home, { recursive: true, force: true });
  });

  async function put(value: unknown, style: Style = 'compact', fileMode = 0o600): Promise<string> {
    const text = serialise(value, style);
    await fs.writeFile(file, text);
    await fs.chmod(file, fileMode);
    return text;
  }

  describe('reading', () => {
    it('reports each entry as Claude Code stored it, with fingerprints and never a token', async () => {
      const blob = fixture();
      await put(blob);
      const listing = await store.list();
      assert.deepEqual(listing.findings, []);
      assert.equal(store.kind, 'file');
      assert.equal(store.location, path.join(home, '.claude', '.credentials.json'));
      const lab = blob.mcpOAuth[LAB]!;
      assert.deepEqual(listing.entries[0], {
        key: LAB,
        serverName: 'lab',
        serverUrl: lab.serverUrl,
        hasAccessToken: true,
        accessTokenFingerprint: fingerprint(lab.accessToken),
        hasRefreshToken: true,
        refreshTokenFingerprint: fingerprint(lab.refreshToken!),
        expiresAt: lab.expiresAt,
        scopes: ['mcp:tools', 'offline_access'],
        clientId: 'client-lab',
        hasClientSecret: false,
        redirectUri: 'http://localhost:3118/callback',
        discovery: lab.discoveryState,
      });
      assert.equal(listing.entries[1]?.key, DOCS);
      assert.equal(listing.entries[1]?.hasRefreshToken, false);
      const shown = JSON.stringify(listing);
      for (const secret of [lab.accessToken, lab.refreshToken!, blob.claudeAiOauth.accessToken]) assert.ok(!shown.includes(secret));
      assert.deepEqual(await store.readSecret(LAB), { accessToken: lab.accessToken, refreshToken: lab.refreshToken });
    });

    it('uses the client secret 2.1.332 keeps in mcpOAuthClientConfig for a configured client, the entry\'s own first', async () => {
      const blob = fixture() as ReturnType<typeof fixture> & { mcpOAuthClientConfig?: unknown };
      const configured = `cs-${Math.random().toString(36).slice(2)}`;
      blob.mcpOAuthClientConfig = { [LAB]: { clientSecret: configured } };
      await put(blob);
      assert.equal((await store.readSecret(LAB))?.clientSecret, configured);
      assert.equal((await store.readSecret(DOCS))?.clientSecret, undefined, 'another key has no configured secret');
      (blob.mcpOAuth[LAB] as Record<string, unknown>).clientSecret = 'entry-secret';
      await put(blob);
      assert.equal((await store.readSecret(LAB))?.clientSecret, 'entry-secret');
      assert.ok(!JSON.stringify(await store.list()).includes(configured), 'the listing holds no secret');
    });

    it('finds the file under CLAUDE_CONFIG_DIR, and under CLAUDE_SECURESTORAGE_CONFIG_DIR when that is set', async () => {
      const custom = path.join(home, 'profile-a');
      const secure = path.join(home, 'secure');
      assert.equal(claudeCredentialsFile(sandboxEnv(home, { CLAUDE_CONFIG_DIR: custom })), path.join(custom, '.credentials.json'));
      assert.equal(claudeCredentialsFile(sandboxEnv(home, { CLAUDE_CONFIG_DIR: custom, CLAUDE_SECURESTORAGE_CONFIG_DIR: secure })), path.join(secure, '.credentials.json'));
      assert.equal(claudeStorageLockTarget(sandboxEnv(home, { CLAUDE_CONFIG_DIR: custom })), path.join(custom, '.storage-write'));
      await fs.mkdir(custom);
      await fs.writeFile(path.join(custom, '.credentials.json'), JSON.stringify(fixture()));
      assert.equal((await new ClaudeCodeStore(sandboxEnv(home, { CLAUDE_CONFIG_DIR: custom }), { backups }).list()).entries.length, 2);
    });

    it('reports nothing and no finding when Claude Code has no store yet', async () => {
      assert.deepEqual(await store.list(), { entries: [], findings: [] });
    });
  });

  describe('writing one entry', () => {
    for (const style of ['compact', 2, 4, 'tab', 'crlf'] as Style[]) {
      it(`changes only that entry and keeps the ${style} layout, the login and unknown keys (${style})`, async () => {
        const blob = fixture();
        const before = await put(blob, style);
        const fresh = mint('fresh');
        const expiresAt = Date.now() + 5 * HOUR;
        await store.write(LAB, { accessToken: fresh, expiresAt, refreshToken: null, scopes: ['mcp:tools'] });
        const after = await fs.readFile(file, 'utf8');
        const expected = structuredClone(blob);
        const lab = expected.mcpOAuth[LAB] as Record<string, unknown>;
        lab.accessToken = fresh;
        lab.expiresAt = expiresAt;
        delete lab.refreshToken;
        lab.scope = 'mcp:tools';
        // Byte-exact: everything else, including key order and layout, as it was.
        assert.equal(after, serialise(expected, style));
        assert.notEqual(after, before);
        assert.equal(await mode(file), 0o600);
        assert.deepEqual(await listTempFiles(file), []);
      });
    }

    it('adds a new entry to a compact store the way Claude Code writes it', async () => {
      const blob = fixture();
      await put(blob);
      const key = 'new|2222222222222222';
      const at = mint('at');
      await store.write(key, { serverName: 'new', serverUrl: 'https://new.example/mcp', accessToken: at, expiresAt: 1_900_000_000_000, scopes: ['a', 'b'], clientId: 'c' });
      const expected = structuredClone(blob) as { mcpOAuth: Record<string, unknown> };
      expected.mcpOAuth[key] = { serverName: 'new', accessToken: at, serverUrl: 'https://new.example/mcp', expiresAt: 1_900_000_000_000, scope: 'a b', clientId: 'c' };
      assert.equal(await fs.readFile(file, 'utf8'), JSON.stringify(expected));
    });

    it('creates the store, private, when there is none', async () => {
      await fs.rm(path.dirname(file), { recursive: true });
      const at = mint('at');
      await store.write(LAB, { serverUrl: 'http://127.0.0.1:38423/mcp', accessToken: at });
      assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')), { mcpOAuth: { [LAB]: { serverName: 'lab', accessToken: at, serverUrl: 'http://127.0.0.1:38423/mcp' } } });
      assert.equal(await mode(file), 0o600);
    });

    it('keeps a 0640 file 0640', async () => {
      await put(fixture(), 2, 0o640);
      await store.write(DOCS, { accessToken: mint() });
      assert.equal(await mode(file), 0o640);
    });

    it('writes through a symlinked credentials file and keeps the link', async () => {
      const real = path.join(home, 'dotfiles', 'claude-credentials.json');
      await fs.mkdir(path.dirname(real));
      await fs.writeFile(real, JSON.stringify(fixture()), { mode: 0o600 });
      await fs.symlink(real, file);
      const at = mint();
      await store.write(DOCS, { accessToken: at });
      assert.ok((await fs.lstat(file)).isSymbolicLink());
      assert.equal(await fs.readlink(file), real);
      assert.equal(JSON.parse(await fs.readFile(real, 'utf8')).mcpOAuth[DOCS].accessToken, at);
    });

    it('snapshots the store before writing', async () => {
      const before = await put(fixture());
      const written = await store.write(DOCS, { accessToken: mint() });
      const [latest] = (await backups.list()).snapshots;
      assert.equal(latest?.reason, 'before-write');
      assert.equal(written.snapshotId, latest?.id, 'write names the snapshot it took (Undo restores from it)');
      assert.equal(latest?.location, file);
      assert.equal((await backups.read(latest!.id))?.raw, before);
      assert.deepEqual(
        latest?.entries.map((x) => x.key),
        [LAB, DOCS],
      );
    });

    it('deletes only the one entry, and reports false without writing when it is not there', async () => {
      const blob = fixture();
      await put(blob, 2);
      const removed = await store.delete(DOCS);
      assert.equal(removed.deleted, true);
      assert.equal(removed.snapshotId, (await backups.list()).snapshots[0]?.id, 'delete names the snapshot it took');
      const expected = structuredClone(blob) as { mcpOAuth: Record<string, unknown> };
      delete expected.mcpOAuth[DOCS];
      assert.equal(await fs.readFile(file, 'utf8'), serialise(expected, 2));
      const snapshots = (await backups.list()).snapshots.length;
      const mtime = (await fs.stat(file)).mtimeMs;
      assert.deepEqual(await store.delete(DOCS), { deleted: false });
      assert.equal((await fs.stat(file)).mtimeMs, mtime);
      assert.equal((await backups.list()).snapshots.length, snapshots);
    });

    it('gives up with a clear error while Claude Code holds its write lock, leaving the file untouched', async () => {
      const before = await put(fixture());
      const holder = holdClaudeLock(claudeStorageLockTarget(e), 2000);
      await holder.ready;
      const quick = new ClaudeCodeStore(e, { backups, lockTimeoutMs: 400 });
      const err = await quick.write(LAB, { accessToken: mint() }).catch((x: unknown) => x);
      assert.ok(err instanceof LockTimeoutError, String(err));
      assert.match(err.message, /\.storage-write/);
      assert.equal(await fs.readFile(file, 'utf8'), before);
      assert.equal((await backups.list()).snapshots.length, 0);
      await holder.done;
    });
  });

  describe('a malformed store', () => {
    const cases: { name: string; code: string; make: (file: string, good: string) => Promise<void>; line?: number }[] = [
      { name: 'truncated JSON (a cut-off Keychain write)', code: 'credentials.invalid-json', make: (f, good) => fs.writeFile(f, good.slice(0, Math.floor(good.length * 0.6))) },
      {
        name: 'a broken line in a pretty file',
        code: 'credentials.invalid-json',
        line: 3,
        make: (f) => fs.writeFile(f, '{\n  "claudeAiOauth": {},\n  "mcpOAuth": {,\n}\n'),
      },
      { name: 'an array instead of an object', code: 'credentials.wrong-type', make: (f) => fs.writeFile(f, '[]') },
      { name: 'mcpOAuth of the wrong type', code: 'credentials.wrong-type', line: 1, make: (f) => fs.writeFile(f, '{"claudeAiOauth":{},"mcpOAuth":"x"}') },
      { name: 'an empty file', code: 'credentials.empty', make: (f) => fs.writeFile(f, '') },
      { name: 'a directory where the file should be', code: 'credentials.unreadable', make: (f) => fs.mkdir(f) },
      { name: 'a symlink to nowhere', code: 'credentials.dangling-symlink', make: (f) => fs.symlink(path.join(path.dirname(f), 'gone.json'), f) },
    ];
    for (const c of cases) {
      it(`${c.name}: yields its finding and is never written`, async () => {
        await c.make(file, JSON.stringify(fixture()));
        const listing = await store.list();
        assert.deepEqual(listing.entries, []);
        assert.equal(listing.findings.length, 1, JSON.stringify(listing.findings));
        const finding = listing.findings[0]!;
        assert.equal(finding.code, c.code);
        assert.equal(finding.severity, 'error');
        assert.equal(finding.location?.file, file);
        if (c.line) assert.equal(finding.location?.line, c.line);
        if (c.name.startsWith('truncated')) assert.match(finding.title, /cut off/);
        const before = await snapshotOfDir(path.dirname(file));
        await assert.rejects(store.write(LAB, { accessToken: mint() }), MalformedStoreError);
        await assert.rejects(store.delete(LAB), MalformedStoreError);
        assert.deepEqual(await snapshotOfDir(path.dirname(file)), before);
        assert.equal((await backups.list()).snapshots.length, 0);
      });
    }

    it('an entry with fields of the wrong type is reported and left alone; the others keep working', async () => {
      const blob = fixture() as { mcpOAuth: Record<string, unknown> };
      blob.mcpOAuth['bad|3333333333333333'] = { serverName: 'bad', accessToken: 42, expiresAt: 'soon' };
      const text = await put(blob, 2);
      const listing = await store.list();
      assert.deepEqual(
        listing.entries.map((x) => x.key),
        [LAB, DOCS],
      );
      const finding = listing.findings.find((f) => f.code === 'credentials.wrong-type');
      assert.match(finding?.detail ?? '', /accessToken, expiresAt/);
      assert.equal(finding?.location?.line, text.split('\n').findIndex((l) => l.includes('"bad|3333333333333333"')) + 1);
      await assert.rejects(store.write('bad|3333333333333333', { accessToken: mint() }), MalformedStoreError);
      await store.write(DOCS, { accessToken: mint() });
      assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')).mcpOAuth['bad|3333333333333333'], { serverName: 'bad', accessToken: 42, expiresAt: 'soon' });
    });
  });

  describe('findings', () => {
    it('tells when the Claude login vanished since the last snapshot (seed 001)', async () => {
      const blob = fixture();
      await put(blob);
      const snap = await store.backup();
      // What the bad write in claude-code#45551 leaves: mcpOAuth only.
      await put({ mcpOAuth: blob.mcpOAuth });
      const findings = (await store.list()).findings;
      assert.deepEqual(
        findings.map((f) => f.code),
        ['credentials.account-login-lost'],
      );
      assert.match(findings[0]!.detail, new RegExp(`restore ${snap!.id}`));
    });

    it('tells which grants vanished, but not those we removed ourselves', async () => {
      const blob = fixture();
      await put(blob);
      await store.delete(DOCS);
      assert.deepEqual((await store.list()).findings, []);
      const rest: Record<string, unknown> = { ...blob.mcpOAuth };
      delete rest[LAB];
      await put({ ...blob, mcpOAuth: rest });
      const findings = (await store.list()).findings;
      assert.deepEqual(
        findings.map((f) => f.code),
        ['credentials.entries-lost'],
      );
      assert.match(findings[0]!.detail, /lab \(lab\|0273820822139ec6\)/);
      await store.backup();
      assert.deepEqual((await store.list()).findings, [], 'a backup accepts the current state');
    });

    it('tells when the whole store is gone', async () => {
      await put(fixture());
      await store.backup();
      await fs.rm(file);
      assert.deepEqual(
        (await store.list()).findings.map((f) => f.code),
        ['credentials.store-gone'],
      );
      // A backup now records the absence: the user has accepted it.
      assert.ok(await store.backup());
      assert.deepEqual((await store.list()).findings, []);
      assert.equal(await store.backup(), undefined, 'nothing more to record');
    });

    it('points at entries registered but never logged in, or cleared', async () => {
      const blob = fixture() as { mcpOAuth: Record<string, unknown> };
      blob.mcpOAuth['stub|4444444444444444'] = { serverName: 'stub', serverUrl: 'https://stub.example/mcp', clientId: 'c9', redirectUri: 'http://localhost:3118/callback', accessToken: '', expiresAt: 0 };
      await put(blob);
      const findings = (await store.list()).findings;
      assert.deepEqual(
        findings.map((f) => [f.code, f.severity]),
        [['credentials.no-token', 'info']],
      );
      assert.match(findings[0]!.detail, /claude mcp login stub/);
    });

    it('points at two entries for one server name (stale key after a URL change)', async () => {
      const blob = fixture() as { mcpOAuth: Record<string, Record<string, unknown>> };
      blob.mcpOAuth['lab|9999999999999999'] = { ...blob.mcpOAuth[LAB], serverUrl: 'http://127.0.0.1:1/old', accessToken: mint() };
      await put(blob, 2);
      const findings = (await store.list()).findings;
      assert.deepEqual(
        findings.map((f) => f.code),
        ['credentials.duplicate-server'],
      );
      assert.match(findings[0]!.detail, /lab\|0273820822139ec6.*lab\|9999999999999999/);
      assert.equal(findings[0]!.location?.file, file);
    });

    it('points at a needs-auth stamp that still hides a server with a valid token', async () => {
      const now = Date.parse('2026-11-22T12:00:00Z');
      const blob = fixture(now);
      await put(blob);
      const cache = path.join(home, '.claude', 'mcp-needs-auth-cache.json');
      await fs.writeFile(cache, JSON.stringify({ lab: { timestamp: now - 5 * 60_000 }, docs: { timestamp: now - 20 * 60_000 }, other: { timestamp: now } }));
      const at = new ClaudeCodeStore(e, { backups, now: () => now });
      const findings = (await at.list()).findings;
      assert.deepEqual(
        findings.map((f) => f.code),
        ['credentials.stale-needs-auth-cache'],
      );
      assert.match(findings[0]!.title, /"lab"/);
      assert.equal(findings[0]!.location?.file, cache);
      // Once the token has expired the stamp is right, not stale.
      const later = new ClaudeCodeStore(e, { backups, now: () => now + 2 * HOUR });
      assert.deepEqual((await later.list()).findings, []);
    });
  });

  describe('restore', () => {
    it('restores one entry and leaves every other byte as it is now', async () => {
      const blob = fixture();
      await put(blob, 2);
      const snap = (await backups.read((await store.backup())!.id))!;
      await store.write(LAB, { accessToken: mint(), refreshToken: mint() });
      await store.write(DOCS, { accessToken: mint() });
      const current = JSON.parse(await fs.readFile(file, 'utf8'));
      const plan = await store.planRestore(snap, LAB);
      assert.deepEqual(
        plan.entries.map((c) => [c.key, c.change]),
        [[LAB, 'changed']],
      );
      const outcome = await store.restore(snap, LAB);
      assert.ok(outcome.previous, 'the state before the restore is snapshotted');
      const expected = { ...current, mcpOAuth: { ...current.mcpOAuth, [LAB]: blob.mcpOAuth[LAB] } };
      assert.equal(await fs.readFile(file, 'utf8'), serialise(expected, 2));
    });

    it('restores the whole store over a corrupted one, byte for byte', async () => {
      const good = await put(fixture(), 4);
      const snap = (await backups.read((await store.backup())!.id))!;
      await fs.writeFile(file, good.slice(0, 100));
      const plan = await store.planRestore(snap);
      assert.match(plan.otherChanges.join('\n'), /current store is replaced/);
      await assert.rejects(store.restore(snap, LAB), MalformedStoreError);
      await store.restore(snap);
      assert.equal(await fs.readFile(file, 'utf8'), good);
    });

    it('refuses a snapshot of another store', async () => {
      await put(fixture());
      const snap = (await backups.read((await store.backup())!.id))!;
      await assert.rejects(store.restore({ ...snap, location: '/elsewhere/.credentials.json' }), /was taken of \/elsewhere/);
    });
  });
});

/** Names and contents of every file in a folder (symlinks as their target), to prove nothing changed. */
async function snapshotOfDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fs.readdir(dir)).sort()) {
    const p = path.join(dir, name);
    const st = await fs.lstat(p);
    out[name] = st.isSymbolicLink() ? `-> ${await fs.readlink(p)}` : st.isDirectory() ? 'dir' : await fs.readFile(p, 'utf8');
  }
  return out;
}
