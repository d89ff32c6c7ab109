import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { backup } from '../../src/cli/commands/backup';
import { backups } from '../../src/cli/commands/backups';
import { restore } from '../../src/cli/commands/restore';
import { UsageError, type CliIo } from '../../src/cli/io';
import { fingerprint } from '../../src/core/storageKey';
import { mint, mode, tempDir } from './credentialsHelpers';

const LAB = 'lab|0273820822139ec6';
const DOCS = 'docs|1111111111111111';

describe('backup, backups and restore commands', () => {
  let home: string;
  let file: string;
  let out: string;
  let err: string;
  let io: CliIo;

  beforeEach(async () => {
    home = await tempDir();
    file = path.join(home, '.claude', '.credentials.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    out = '';
    err = '';
    io = { stdout: (t) => (out += t), stderr: (t) => (err += t), env: { HOME: home }, cwd: home };
  });
  afterEach(async () => {
    await fs.rm(home, { recursive: true, force: true });
  });

  function blob() {
    return {
      claudeAiOauth: { accessToken: mint('acct'), refreshToken: mint('acct-r'), expiresAt: Date.now() + 3600_000 },
      mcpOAuth: {
        [LAB]: { serverName: 'lab', serverUrl: 'http://127.0.0.1:38423/mcp', accessToken: mint('at'), refreshToken: mint('rt'), expiresAt: 1_900_000_000_000, scope: 'mcp:tools' },
        [DOCS]: { serverName: 'docs', serverUrl: 'https://docs.example/mcp', accessToken: mint('at'), expiresAt: 1_900_000_000_000 },
      },
    };
  }

  it('backup prints the snapshot id; backups lists it by fingerprint without a single token', async () => {
    const b = blob();
    await fs.writeFile(file, JSON.stringify(b));
    assert.equal(await backup(['--client', 'claude-code'], io), 0);
    const id = out.split(/\s+/)[0]!;
    assert.match(id, /^\d{8}T\d{9}Z-claude-code-[0-9a-f]{8}-[0-9a-f]+$/);
    const snapFile = path.join(home, '.mcp-auth-doctor', 'backups', `${id}.json`);
    assert.equal(await mode(snapFile), 0o600);
    assert.equal(await mode(path.dirname(snapFile)), 0o700);

    out = '';
    assert.equal(await backups([], io), 0);
    assert.ok(out.startsWith(`${id}  `), out);
    assert.match(out, /Claude Code {2}manual/);
    assert.match(out, /also: claudeAiOauth/);
    assert.ok(out.includes(`${LAB}  lab  access ${fingerprint(b.mcpOAuth[LAB]!.accessToken)}  refresh ${fingerprint(b.mcpOAuth[LAB]!.refreshToken)}`), out);
    for (const secret of [b.claudeAiOauth.accessToken, b.claudeAiOauth.refreshToken, b.mcpOAuth[LAB]!.accessToken, b.mcpOAuth[DOCS]!.accessToken]) {
      assert.ok(!out.includes(secret), 'a token was printed');
    }
  });

  it('says so when there is nothing to back up', async () => {
    assert.equal(await backup([], io), 0);
    assert.match(out, /Claude Code: nothing stored at .*\.credentials\.json; no snapshot taken/);
    out = '';
    await backups([], io);
    assert.match(out, /^No snapshots in /);
  });

  it('restore without --yes shows what would come back and writes nothing; with --yes restores the whole store', async () => {
    const good = JSON.stringify(blob());
    await fs.writeFile(file, good);
    await backup([], io);
    const id = out.split(/\s+/)[0]!;
    // The clobbering write of claude-code#45551: the login is gone.
    const clobbered = JSON.stringify({ mcpOAuth: JSON.parse(good).mcpOAuth });
    await fs.writeFile(file, clobbered);

    out = '';
    assert.equal(await restore([id], io), 1);
    assert.match(out, /claudeAiOauth: restored \(missing now\)/);
    assert.match(out, /Nothing written\. Run again with --yes/);
    assert.equal(await fs.readFile(file, 'utf8'), clobbered);

    out = '';
    assert.equal(await restore([id, '--yes', '--no-verify'], io), 0);
    assert.equal(await fs.readFile(file, 'utf8'), good);
    const previous = /The state before the restore is snapshot (\S+)\./.exec(out)?.[1];
    assert.ok(previous, out);
    out = '';
    await backups([], io);
    assert.ok(out.startsWith(previous!), 'the pre-restore snapshot is the newest');

    out = '';
    assert.equal(await restore([id, '--yes', '--no-verify'], io), 0);
    assert.match(out, /Nothing to restore/);
  });

  it('restore --entry brings back one entry and leaves the others identical', async () => {
    const b = blob();
    await fs.writeFile(file, JSON.stringify(b, null, 2));
    await backup([], io);
    const id = out.split(/\s+/)[0]!;
    const now = structuredClone(b);
    now.mcpOAuth[LAB]!.accessToken = mint('rotated');
    now.mcpOAuth[DOCS]!.accessToken = mint('rotated');
    await fs.writeFile(file, JSON.stringify(now, null, 2));

    out = '';
    assert.equal(await restore([id, '--entry', LAB], io), 1);
    assert.match(out, new RegExp(`changed {2}${LAB.replace('|', '\\|')}`));
    assert.ok(!out.includes(DOCS), 'only the one entry is in the plan');
    assert.equal(await restore([id, '--entry', LAB, '--yes', '--no-verify'], io), 0);
    const after = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.deepEqual(after.mcpOAuth[LAB], b.mcpOAuth[LAB]);
    assert.deepEqual(after.mcpOAuth[DOCS], now.mcpOAuth[DOCS]);
    assert.deepEqual(after.claudeAiOauth, now.claudeAiOauth);
  });

  it('rejects an unknown snapshot id, a missing id and an unknown client', async () => {
    await assert.rejects(restore(['20990101T000000000Z-claude-code-00000000-000000'], io), UsageError);
    await assert.rejects(restore([], io), UsageError);
    await assert.rejects(backup(['--client', 'cursor'], io), UsageError);
    assert.equal(err, '');
  });
});
