import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  DanglingSymlinkError,
  LockTimeoutError,
  atomicWriteFile,
  listTempFiles,
  withFileLock,
} from '../../src/core/credentials/atomicWrite';
import { deadPid, holdClaudeLock, mode, tempDir } from './credentialsHelpers';

describe('atomicWriteFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('creates a new file private (0600) whatever the umask', async () => {
    const file = path.join(dir, 'new.json');
    const old = process.umask(0o022);
    try {
      await atomicWriteFile(file, '{"a":1}');
    } finally {
      process.umask(old);
    }
    assert.equal(await fs.readFile(file, 'utf8'), '{"a":1}');
    assert.equal(await mode(file), 0o600);
  });

  for (const m of [0o600, 0o640]) {
    it(`keeps an existing file's mode ${m.toString(8)}`, async () => {
      const file = path.join(dir, 'store.json');
      await fs.writeFile(file, 'old');
      await fs.chmod(file, m);
      await atomicWriteFile(file, 'new');
      assert.equal(await fs.readFile(file, 'utf8'), 'new');
      assert.equal(await mode(file), m);
    });
  }

  it('writes through a symlink chain and keeps the links', async () => {
    const real = path.join(dir, 'real', 'store.json');
    await fs.mkdir(path.dirname(real));
    await fs.writeFile(real, 'old', { mode: 0o640 });
    await fs.chmod(real, 0o640);
    const mid = path.join(dir, 'mid.json');
    const link = path.join(dir, 'link.json');
    await fs.symlink(path.relative(dir, real), mid);
    await fs.symlink('mid.json', link);
    await atomicWriteFile(link, 'new');
    assert.ok((await fs.lstat(link)).isSymbolicLink());
    assert.equal(await fs.readlink(link), 'mid.json');
    assert.ok((await fs.lstat(mid)).isSymbolicLink());
    assert.equal(await fs.readFile(real, 'utf8'), 'new');
    assert.equal(await mode(real), 0o640);
    assert.deepEqual(await listTempFiles(real), []);
  });

  it('refuses a symlink to nowhere and creates nothing', async () => {
    const link = path.join(dir, 'link.json');
    await fs.symlink(path.join(dir, 'missing.json'), link);
    await assert.rejects(atomicWriteFile(link, 'x'), DanglingSymlinkError);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['link.json']);
  });

  it('leaves the target and no temp file behind when the write is aborted before the rename', async () => {
    const file = path.join(dir, 'store.json');
    await fs.writeFile(file, 'old');
    await assert.rejects(
      atomicWriteFile(file, 'new', {
        beforeCommit: () => {
          throw new Error('abort');
        },
      }),
      /abort/,
    );
    assert.equal(await fs.readFile(file, 'utf8'), 'old');
    assert.deepEqual(await fs.readdir(dir), ['store.json']);
  });

  it('removes temp files a killed writer left, but not those of live writers', async () => {
    const file = path.join(dir, 'store.json');
    await fs.writeFile(file, 'old');
    const orphan = path.join(dir, `.store.json.mcp-auth-doctor-${await deadPid()}-aaaaaa.tmp`);
    const live = path.join(dir, `.store.json.mcp-auth-doctor-${process.ppid}-bbbbbb.tmp`);
    await fs.writeFile(orphan, 'half');
    await fs.writeFile(live, 'busy');
    await atomicWriteFile(file, 'new');
    assert.deepEqual(await listTempFiles(file), [live]);
  });
});

describe('withFileLock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('times out with a clear error naming the file while Claude Code holds its lock', async () => {
    const target = path.join(dir, '.storage-write');
    const holder = holdClaudeLock(target, 1500);
    await holder.ready;
    let ran = false;
    const started = Date.now();
    const err = await withFileLock(
      target,
      async () => {
        ran = true;
      },
      { timeoutMs: 700, staleMs: 15_000 },
    ).catch((e: unknown) => e);
    const waited = Date.now() - started;
    assert.ok(err instanceof LockTimeoutError, String(err));
    assert.match(err.message, /\.storage-write/);
    assert.equal(err.lockfilePath, `${target}.lock`);
    assert.equal(ran, false);
    assert.ok(waited >= 650 && waited < 2000, `waited ${waited} ms`);
    assert.equal((await holder.done).code, 0);
  });

  it('gets the lock once Claude Code releases it', async () => {
    const target = path.join(dir, '.storage-write');
    const holder = holdClaudeLock(target, 400);
    await holder.ready;
    const started = Date.now();
    await withFileLock(target, async () => undefined, { timeoutMs: 5000, staleMs: 15_000 });
    assert.ok(Date.now() - started >= 200);
    await holder.done;
  });

  it('lets one holder in at a time within a process', async () => {
    const target = path.join(dir, 'x');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        withFileLock(target, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 20));
          inside--;
        }),
      ),
    );
    assert.equal(most, 1);
  });

  it('takes over a lock left by a dead holder once it is older than the stale time', async () => {
    const target = path.join(dir, '.storage-write');
    await fs.mkdir(`${target}.lock`);
    const old = new Date(Date.now() - 20_000);
    await fs.utimes(`${target}.lock`, old, old);
    await withFileLock(target, async () => undefined, { timeoutMs: 500, staleMs: 15_000 });
    await assert.rejects(fs.stat(`${target}.lock`), { code: 'ENOENT' });
  });

  it('does not take over a fresh lock', async () => {
    const target = path.join(dir, '.storage-write');
    await fs.mkdir(`${target}.lock`);
    await assert.rejects(withFileLock(target, async () => undefined, { timeoutMs: 300, staleMs: 15_000 }), LockTimeoutError);
  });
});
