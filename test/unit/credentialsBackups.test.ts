import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SnapshotStore, defaultBackupDir, diffEntries, type NewSnapshot } from '../../src/core/credentials/backups';
import { deadPid, mint, mode, sandboxEnv, tempDir } from './credentialsHelpers';

function snap(location: string, raw: string, client: 'claude-code' | 'codex' = 'claude-code'): NewSnapshot {
  return { client, storeKind: 'file', location, reason: 'manual', raw, entries: [{ key: 'a|1', serverName: 'a' }], topLevelKeys: ['mcpOAuth'] };
}

describe('snapshot store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps snapshots private: folder 0700, files 0600, even with a loose umask', async () => {
    const backups = new SnapshotStore(path.join(dir, 'b', 'backups'));
    const old = process.umask(0o000);
    let id: string;
    try {
      id = (await backups.save(snap('/x/.credentials.json', '{}'))).id;
    } finally {
      process.umask(old);
    }
    assert.equal(await mode(backups.dir), 0o700);
    assert.equal(await mode(path.join(backups.dir, `${id}.json`)), 0o600);
  });

  it('tightens an existing folder to 0700', async () => {
    const d = path.join(dir, 'loose');
    await fs.mkdir(d, { mode: 0o755 });
    await fs.chmod(d, 0o755);
    await new SnapshotStore(d).save(snap('/x', '{}'));
    assert.equal(await mode(d), 0o700);
  });

  it('returns the raw content it saved and lists newest first without it', async () => {
    let t = Date.parse('2026-11-22T10:00:00Z');
    const backups = new SnapshotStore(dir, 20, () => (t += 1000));
    const secret = mint();
    const first = await backups.save(snap('/x', `{"a":"${secret}"}`));
    const second = await backups.save(snap('/x', '{}'));
    const listing = await backups.list();
    assert.deepEqual(
      listing.snapshots.map((s) => s.id),
      [second.id, first.id],
    );
    assert.ok(!JSON.stringify(listing).includes(secret), 'listing must not carry raw content');
    assert.equal((await backups.read(first.id))?.raw, `{"a":"${secret}"}`);
    assert.equal((await backups.newest('claude-code', '/x'))?.id, second.id);
    assert.equal(await backups.newest('claude-code', '/elsewhere'), undefined);
  });

  it('prunes each store to the newest N and leaves other stores alone', async () => {
    let t = Date.parse('2026-11-22T10:00:00Z');
    const backups = new SnapshotStore(dir, 3, () => (t += 1000));
    const codex = await backups.save(snap('/codex', '{}', 'codex'));
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await backups.save(snap('/claude', `{"n":${i}}`))).id);
    const claude = (await backups.list({ client: 'claude-code' })).snapshots.map((s) => s.id);
    assert.deepEqual(claude, ids.slice(3).reverse());
    assert.deepEqual(
      (await backups.list({ client: 'codex' })).snapshots.map((s) => s.id),
      [codex.id],
    );
    assert.equal((await fs.readdir(dir)).length, 4);
  });

  it('removes a half-written snapshot a killed process left behind', async () => {
    const orphan = path.join(dir, `.20261122T100000000Z-codex-0123abcd-ffffff.json.mcp-auth-doctor-${await deadPid()}-abcdef.tmp`);
    await fs.writeFile(orphan, '{"raw":"half');
    await new SnapshotStore(dir).save(snap('/x', '{}'));
    await assert.rejects(fs.stat(orphan), { code: 'ENOENT' });
  });

  it('names files it cannot read instead of failing', async () => {
    const backups = new SnapshotStore(dir);
    await backups.save(snap('/x', '{}'));
    await fs.writeFile(path.join(dir, '20261122T100000000Z-codex-0123abcd-ffffff.json'), '{broken');
    const listing = await backups.list();
    assert.equal(listing.snapshots.length, 1);
    assert.equal(listing.unreadable.length, 1);
    assert.match(listing.unreadable[0]!.reason, /JSON/);
  });

  it('defaults to ~/.mcp-auth-doctor/backups and honours MCP_AUTH_DOCTOR_BACKUP_DIR', () => {
    assert.equal(defaultBackupDir(sandboxEnv('/home/u')), '/home/u/.mcp-auth-doctor/backups');
    assert.equal(defaultBackupDir(sandboxEnv('/home/u', { MCP_AUTH_DOCTOR_BACKUP_DIR: '/state/b' })), '/state/b');
  });

  it('diffs entries by fingerprint', () => {
    const changes = diffEntries(
      [
        { key: 'a', accessToken: 'sha256:1' },
        { key: 'b', accessToken: 'sha256:2' },
      ],
      [
        { key: 'a', accessToken: 'sha256:9' },
        { key: 'c', accessToken: 'sha256:3' },
      ],
    );
    assert.deepEqual(
      changes.map((c) => [c.key, c.change]),
      [
        ['a', 'changed'],
        ['b', 'removed'],
        ['c', 'added'],
      ],
    );
  });
});
