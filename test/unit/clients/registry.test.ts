// The registry is the one list of clients: every surface takes it from there, so what the editor's
// settings accept, what each folder declares and what the registry holds must agree.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CLIENT_IDS, CLIENT_LABELS } from '../../../src/core/clients/ids';
import { CLIENTS, clientDefinition } from '../../../src/core/clients/registry';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('the client registry', () => {
  it('holds one definition per id, under its own id and label', () => {
    assert.deepEqual(CLIENTS.map((c) => c.id), [...CLIENT_IDS]);
    for (const id of CLIENT_IDS) {
      assert.equal(clientDefinition(id).id, id);
      assert.equal(clientDefinition(id).label, CLIENT_LABELS[id]);
    }
  });

  it('is what the editor setting mcpAuthDoctor.clients accepts and reads by default', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { items: { enum: string[] }; default: string[] }> } } };
    const setting = manifest.contributes.configuration.properties['mcpAuthDoctor.clients']!;
    assert.deepEqual(setting.items.enum, [...CLIENT_IDS]);
    assert.deepEqual(setting.default, [...CLIENT_IDS]);
  });

  it('has a definition for every client folder, and says for each where its tokens are', () => {
    const folders = readdirSync(path.join(ROOT, 'src/core/clients'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'editorConfig')
      .map((d) => d.name)
      .sort();
    assert.deepEqual(folders, [...CLIENT_IDS].sort());
    // A client either has a store we read, or a sentence saying where its tokens are instead.
    for (const c of CLIENTS) assert.ok(c.credentialStore || c.tokensNotRead, `${c.id} neither reads a store nor says why not`);
  });
});
