// The confirmation a restore from the editor asks (vscode/restorePicker.ts) when the client is
// newer than the newest we verified and its store holds fields we do not know: the guard is the
// one the CLI and the repairs use (storeWriteGuard, on a real credentials file in a sandbox HOME,
// the installed version from a fake `claude --version`); what is asked names exactly the fields
// the restore touches, says what a whole-store restore does to them, and its button is not the
// plain "Restore" a user would press without reading.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { VersionIo } from '../../src/core/clientVersions';
import type { Environment } from '../../src/core/environment';
import { restoreConfirmation } from '../../src/core/restoreConfirmation';
import { storeWriteGuard } from '../../src/core/storeFields';

function claudeAt(version: string): VersionIo {
  return {
    runVersion: async (command) => (command === 'claude' ? { stdout: `${version} (Claude Code)\n`, code: 0 } : { stdout: '', code: null, error: 'not-found' }),
    listDir: async () => [],
    readFile: async () => {
      throw new Error('no file');
    },
    extensionDirs: [],
  };
}

describe('the restore confirmation for a store a newer client wrote', () => {
  let home: string;
  let e: Environment;
  before(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-restore-confirm-'));
    e = { home, env: { HOME: home }, platform: 'linux', projectDirs: [], managedMcpPath: path.join(home, 'none.json') };
    await fs.mkdir(path.join(home, '.claude'), { recursive: true });
    const entry = (name: string, extra: Record<string, unknown>) => ({ serverName: name, serverUrl: `https://${name}.example/mcp`, clientId: 'c', accessToken: 'a', expiresAt: 1, ...extra });
    const blob = { futureTopLevel: { x: 1 }, mcpOAuth: { 'linear|0001': entry('linear', { tokenBinding: 'dpop' }), 'notion|0002': entry('notion', { rotatedAt: 5 }) } };
    await fs.writeFile(path.join(home, '.claude', '.credentials.json'), JSON.stringify(blob), { mode: 0o600 });
  });
  after(async () => fs.rm(home, { recursive: true, force: true }));

  it('one entry: names that entry’s unknown fields and the top level’s, not another entry’s, and the button counts them', async () => {
    const asked = restoreConfirmation('Restore', [await storeWriteGuard(e, 'claude-code', 'linear|0001', claudeAt('2.1.400'))], false);
    assert.deepEqual(asked.fields.map((f) => `${f.entry ?? 'top'}:${f.path}`).sort(), ['linear|0001:tokenBinding', 'top:futureTopLevel']);
    assert.equal(asked.primary, 'Restore despite 2 unknown fields');
    assert.match(asked.warning ?? '', /^Claude Code 2\.1\.400 is newer than the newest version we verified \(2\.1\.332\)/);
    assert.match(asked.warning ?? '', /tokenBinding \(entry linear\|0001\)/);
    assert.match(asked.warning ?? '', /every other entry and the top level are kept byte for byte/);
    assert.ok(!(asked.warning ?? '').includes('rotatedAt'), 'another entry’s field is not this restore’s business');
  });

  it('the whole store: every unknown field, and it says the snapshot’s bytes replace them', async () => {
    const asked = restoreConfirmation('Restore', [await storeWriteGuard(e, 'claude-code', undefined, claudeAt('2.1.400'))], true);
    assert.equal(asked.fields.length, 3);
    assert.equal(asked.primary, 'Restore despite 3 unknown fields');
    assert.match(asked.warning ?? '', /writes the store exactly as the snapshot holds it/);
  });

  it('put back of several entries: each field once', async () => {
    const guards = await Promise.all(['linear|0001', 'notion|0002'].map((k) => storeWriteGuard(e, 'claude-code', k, claudeAt('2.1.400'))));
    const asked = restoreConfirmation('Put Back', guards, false);
    assert.deepEqual(asked.fields.map((f) => f.path).sort(), ['futureTopLevel', 'rotatedAt', 'tokenBinding']);
    assert.equal(asked.primary, 'Put Back despite 3 unknown fields');
    assert.match(asked.warning ?? '', /The restored entries come back as the snapshot had them/);
  });

  it('the verified version (or an older one): the plain button and no warning', async () => {
    for (const version of ['2.1.332', '2.1.197']) {
      const asked = restoreConfirmation('Restore', [await storeWriteGuard(e, 'claude-code', 'linear|0001', claudeAt(version))], false);
      assert.deepEqual(asked, { primary: 'Restore', fields: [] });
    }
  });
});
