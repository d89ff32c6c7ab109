// `status` asks each client binary for its version once per binary, not once per run: the answer
// is kept on disk while the binary on PATH is the same file, and asked again once it changes.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { VersionIo, VersionRun } from '../../src/core/clientVersions';
import type { Environment } from '../../src/core/environment';
import { findOnPath, persistentVersionIo, versionCacheFile } from '../../src/core/versionCache';

describe('client version cache', () => {
  let root: string;
  let bin: string;
  let e: Environment;
  let asked: string[];
  let answer: VersionRun;
  const io = (): VersionIo => ({
    extensionDirs: [],
    listDir: async () => [],
    readFile: async () => '',
    runVersion: async (command) => {
      asked.push(command);
      return answer;
    },
  });
  const writeBinary = (name: string, body: string) => {
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-vcache-'));
    bin = path.join(root, 'bin');
    fs.mkdirSync(bin);
    e = { home: path.join(root, 'home'), env: { PATH: `${path.join(root, 'empty')}:${bin}` }, platform: 'linux', projectDirs: [] };
    asked = [];
    answer = { stdout: '2.1.332 (Claude Code)\n', code: 0 };
    writeBinary('claude', 'echo 2.1.332');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finds the binary on PATH as execFile would, and nothing for a name that is not there', async () => {
    assert.equal(await findOnPath('claude', e), path.join(bin, 'claude'));
    assert.equal(await findOnPath('codex', e), undefined);
    fs.writeFileSync(path.join(bin, 'codex'), 'not executable', { mode: 0o644 });
    assert.equal(await findOnPath('codex', e), undefined, 'a file without the execute bit is not a command');
  });

  it('asks once, then answers from the cache file in a later run (a fresh process)', async () => {
    assert.deepEqual(await persistentVersionIo(io(), e).runVersion('claude'), answer);
    assert.deepEqual(asked, ['claude']);
    const kept = JSON.parse(fs.readFileSync(versionCacheFile(e), 'utf8')) as { binaries: Record<string, { stdout: string }> };
    assert.equal(kept.binaries[path.join(bin, 'claude')]?.stdout, answer.stdout);
    assert.equal(fs.statSync(versionCacheFile(e)).mode & 0o777, 0o600);
    const again = await persistentVersionIo(io(), e).runVersion('claude');
    assert.deepEqual(again, { stdout: answer.stdout, code: 0 });
    assert.deepEqual(asked, ['claude'], 'the second run spawned nothing');
  });

  it('asks again once the binary is replaced (an update)', async () => {
    await persistentVersionIo(io(), e).runVersion('claude');
    fs.rmSync(path.join(bin, 'claude'));
    writeBinary('claude', 'echo 2.1.400 # a newer release');
    answer = { stdout: '2.1.400 (Claude Code)\n', code: 0 };
    assert.equal((await persistentVersionIo(io(), e).runVersion('claude')).stdout, '2.1.400 (Claude Code)\n');
    assert.deepEqual(asked, ['claude', 'claude']);
  });

  it('keeps no failed, timed-out or missing answer', async () => {
    answer = { stdout: '', code: null, error: 'timeout' };
    await persistentVersionIo(io(), e).runVersion('claude');
    await persistentVersionIo(io(), e).runVersion('claude');
    assert.equal(asked.length, 2, 'a timeout is asked again');
    assert.equal(fs.existsSync(versionCacheFile(e)), false);
    answer = { stdout: 'x', code: 0 };
    assert.deepEqual(await persistentVersionIo(io(), e).runVersion('codex'), { stdout: '', code: null, error: 'not-found' });
    assert.equal(asked.length, 2, 'not on PATH: not-found, as execFile would say, without spawning it');
    assert.equal(fs.existsSync(versionCacheFile(e)), false);
  });

  it('ignores a broken cache file and writes a good one', async () => {
    fs.mkdirSync(path.dirname(versionCacheFile(e)), { recursive: true });
    fs.writeFileSync(versionCacheFile(e), '{"schema":1,"binaries":{"x":', { mode: 0o600 });
    assert.equal((await persistentVersionIo(io(), e).runVersion('claude')).stdout, answer.stdout);
    assert.deepEqual(asked, ['claude']);
    assert.ok(JSON.parse(fs.readFileSync(versionCacheFile(e), 'utf8')).binaries, 'rewritten whole');
  });
});
