// What MCP Auth Doctor's own writes leave on disk, checked on real files in a sandbox HOME through
// the public APIs a user's run goes through: the backup folder is 0700 and every snapshot 0600
// (whatever the umask, wherever MCP_AUTH_DOCTOR_BACKUP_DIR points) and holds the live store
// content; a credentials file written by a store keeps its mode (0600 and 0644) and every field we
// do not know; a write whose rename fails leaves the old file byte for byte and no temp file.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { claudeCodeStore, claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import type { KeyringOpResult, KeyringRunner } from '../../src/core/credentials/codexKeyring';
import { CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import type { CredentialStore } from '../../src/core/credentials/store';
import type { Environment } from '../../src/core/environment';
import { storageKey } from '../../src/core/storageKey';
import { sandbox, type Sandbox } from './support/sandbox';
import { mintToken } from './support/secrets';

const URL_A = 'https://a.example/mcp';

async function modeOf(p: string): Promise<number> {
  return (await fs.stat(p)).mode & 0o777;
}

/** Runs `fn` with umask 000, so any mode we see is one the code chose, not the umask. */
async function withOpenUmask<T>(fn: () => Promise<T>): Promise<T> {
  const old = process.umask(0);
  try {
    return await fn();
  } finally {
    process.umask(old);
  }
}

/** Files in `dir` that look like our temp files (`.<name>.mcp-auth-doctor-<pid>-<hex>.tmp`). */
async function tempFilesIn(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((n) => n.includes('.mcp-auth-doctor-') && n.endsWith('.tmp'));
}

const noKeyring: KeyringRunner = async (ops) => ({ reachable: true, results: ops.map((): KeyringOpResult => ({ ok: true, value: null, found: [] })) });

interface StoreCase {
  client: string;
  file: (e: Environment) => string;
  store: (e: Environment, backups: SnapshotStore) => CredentialStore;
  key: string;
  /** The store's text with one entry under `key` and fields no schema knows. */
  text: (token: string) => string;
  /** The unknown fields, as they must still be found after a write. */
  unknown: (parsed: Record<string, unknown>) => unknown[];
}

const CASES: StoreCase[] = [
  {
    client: 'Claude Code',
    file: claudeCredentialsFile,
    store: (e, backups) => claudeCodeStore(e, { backups }),
    key: storageKey('a', 'http', URL_A),
    text: (token) =>
      JSON.stringify({
        claudeAiOauth: { accessToken: mintToken(), refreshToken: mintToken(), expiresAt: 1, futureField: { kept: true } },
        mcpOAuth: { [storageKey('a', 'http', URL_A)]: { serverName: 'a', serverUrl: URL_A, accessToken: token, refreshToken: mintToken(), expiresAt: 1, laterField: [1, 2] } },
        somethingNew: 'kept',
      }),
    unknown: (p) => [(p.claudeAiOauth as Record<string, unknown>).futureField, ((p.mcpOAuth as Record<string, Record<string, unknown>>)[storageKey('a', 'http', URL_A)]!).laterField, p.somethingNew],
  },
  {
    client: 'Codex',
    file: codexCredentialsFile,
    store: (e, backups) => new CodexStore(e, { settings: { mode: 'file', secretAuthStorage: false, servers: [{ name: 'a', url: URL_A }] }, backups, keyring: noKeyring }),
    key: codexKey('a', URL_A),
    text: (token) =>
      JSON.stringify({
        [codexKey('a', URL_A)]: { server_name: 'a', server_url: URL_A, client_id: 'c', access_token: token, expires_at: 1, refresh_token: mintToken(), scopes: [], later_field: { kept: true } },
      }),
    unknown: (p) => [(p[codexKey('a', URL_A)] as Record<string, unknown>).later_field],
  },
];

describe('hardening: files MCP Auth Doctor writes', function () {
  this.timeout(60_000);
  let s: Sandbox;
  beforeEach(async () => (s = await sandbox('files')));
  /** The journal folder: 0700, one 0600 file per state, at least one state. */
  const assertPrivateJournal = async (journal: string) => {
    assert.equal(await modeOf(journal), 0o700, 'journal folder');
    const states = await fs.readdir(journal);
    assert.ok(states.length > 0, 'the journal holds the state the command saw');
    for (const f of states) assert.equal(await modeOf(path.join(journal, f)), 0o600, `journal/${f}`);
  };
  afterEach(() => s.remove());

  it('`backup` creates MCP_AUTH_DOCTOR_BACKUP_DIR 0700 with 0600 snapshots under umask 000, and they hold the live tokens', async () => {
    const token = mintToken();
    const file = claudeCredentialsFile(s.e);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, CASES[0]!.text(token), { mode: 0o600 });
    const dir = path.join(s.root, 'elsewhere', 'snapshots');
    let out = '';
    const code = await withOpenUmask(() => runCli(['backup', '--client', 'claude-code'], { stdout: (t) => (out += t), stderr: (t) => (out += t), env: { HOME: s.home, MCP_AUTH_DOCTOR_BACKUP_DIR: dir }, cwd: s.home }));
    assert.equal(code, 0, out);
    assert.equal(await modeOf(dir), 0o700);
    // The snapshot, and the journal's own folder (the CLI journals the store first): private too.
    const files = (await fs.readdir(dir)).filter((f) => f !== 'journal');
    assert.equal(files.length, 1);
    assert.equal(await modeOf(path.join(dir, files[0]!)), 0o600);
    await assertPrivateJournal(path.join(dir, 'journal'));
    // What a snapshot is: the store's raw content, live secrets included (docs/security.md says so).
    assert.ok((await fs.readFile(path.join(dir, files[0]!), 'utf8')).includes(token));
    assert.ok(!out.includes(token));
  });

  it('the default backup folder ~/.mcp-auth-doctor/backups is 0700 (and its parent private) under umask 000; a loose existing one is tightened', async () => {
    const file = claudeCredentialsFile(s.e);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, CASES[0]!.text(mintToken()), { mode: 0o600 });
    const io = { stdout: () => undefined, stderr: () => undefined, env: { HOME: s.home }, cwd: s.home };
    assert.equal(await withOpenUmask(() => runCli(['backup', '--client', 'claude-code'], io)), 0);
    const dir = path.join(s.home, '.mcp-auth-doctor', 'backups');
    assert.equal(await modeOf(dir), 0o700);
    assert.equal(await modeOf(path.dirname(dir)), 0o700);
    await fs.chmod(dir, 0o777);
    assert.equal(await withOpenUmask(() => runCli(['backup', '--client', 'claude-code'], io)), 0);
    assert.equal(await modeOf(dir), 0o700);
    for (const f of await fs.readdir(dir)) {
      if (f === 'journal') await assertPrivateJournal(path.join(dir, f));
      else assert.equal(await modeOf(path.join(dir, f)), 0o600, f);
    }
  });

  for (const c of CASES) {
    for (const mode of [0o600, 0o644]) {
      it(`${c.client}: store.write keeps the credentials file's mode ${mode.toString(8)} and every field it does not know; the snapshot before it is 0600`, async () => {
        const file = c.file(s.e);
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, c.text(mintToken()));
        await fs.chmod(file, mode);
        const backupDir = path.join(s.root, 'backups');
        const store = c.store(s.e, new SnapshotStore(backupDir));
        const fresh = mintToken();
        const written = await withOpenUmask(() => store.write(c.key, { accessToken: fresh }));
        assert.equal(await modeOf(file), mode);
        const after = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
        for (const u of c.unknown(after)) assert.notEqual(u, undefined, 'a field we do not know was dropped');
        assert.equal((await store.readSecret(c.key))?.accessToken, fresh);
        assert.ok(written.snapshotId, 'no snapshot before the write');
        assert.equal(await modeOf(backupDir), 0o700);
        for (const f of await fs.readdir(backupDir)) assert.equal(await modeOf(path.join(backupDir, f)), 0o600);
        assert.deepEqual(await tempFilesIn(path.dirname(file)), []);
      });
    }

    it(`${c.client}: store.write creates a missing credentials file 0600 under umask 000`, async () => {
      const store = c.store(s.e, new SnapshotStore(path.join(s.root, 'backups')));
      await withOpenUmask(() => store.write(c.key, { serverName: 'a', serverUrl: URL_A, accessToken: mintToken(), clientId: 'c' }));
      assert.equal(await modeOf(c.file(s.e)), 0o600);
    });

    it(`${c.client}: a write whose rename fails leaves the file byte for byte, its mode, and no temp file`, async function () {
      const file = c.file(s.e);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const before = c.text(mintToken());
      await fs.writeFile(file, before, { mode: 0o600 });
      // The rename must fail after the temp file is written: an immutable target does that even
      // for root (chattr +i); without the capability, a read-only folder stops the write earlier.
      let undo: () => Promise<void>;
      let how: string;
      if (spawnSync('chattr', ['+i', file]).status === 0) {
        undo = async () => void spawnSync('chattr', ['-i', file]);
        how = 'immutable target';
      } else if (process.getuid?.() !== 0) {
        await fs.chmod(path.dirname(file), 0o500);
        undo = () => fs.chmod(path.dirname(file), 0o700);
        how = 'read-only folder';
      } else {
        this.skip();
        return;
      }
      try {
        const store = c.store(s.e, new SnapshotStore(path.join(s.root, 'backups')));
        await assert.rejects(store.write(c.key, { accessToken: mintToken() }), (err: Error) => /EPERM|EACCES|not permitted|denied/i.test(`${(err as NodeJS.ErrnoException).code} ${err.message}`), how);
      } finally {
        await undo();
      }
      assert.equal(await fs.readFile(file, 'utf8'), before);
      assert.equal(await modeOf(file), 0o600);
      assert.deepEqual(await tempFilesIn(path.dirname(file)), [], `a temp file was left behind (${how})`);
    });
  }
});
