// What the editor's settings and unsaved buffers change in a scan: extra .mcp.json-shaped files
// (mcpAuthDoctor.extraConfigPaths), the text the user is typing read instead of the file on disk
// (Problems follow edits before a save), and the snapshot count (mcpAuthDoctor.backups.keep).
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { snapshotKeep, snapshotStoreFor } from '../../src/core/credentials/backups';
import { scanConfigs } from '../../src/core/config/scan';
import { withUnsavedText } from '../../src/core/config/sourceText';
import type { Environment } from '../../src/core/environment';
import { sandboxEnvironment } from './sandboxEnvironment';
import type { ConfigScan } from '../../src/core/model';

let root: string;

function env(over: Partial<Environment> = {}): Environment {
  return sandboxEnvironment(root, over);
}

async function write(file: string, value: unknown): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

function names(scan: ConfigScan): string[] {
  return scan.servers.map((s) => s.name).sort();
}

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'scan-options-'));
  await fs.mkdir(path.join(root, 'work', 'app'), { recursive: true });
  await write(path.join(root, 'home', '.claude.json'), { mcpServers: { home: { type: 'http', url: 'https://home.example/mcp' } } });
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('extra config paths', () => {
  it('reads the servers of a listed .mcp.json-shaped file, located in that file, beside the clients\' own', async () => {
    const extra = await write(path.join(root, 'team', 'mcp.json'), '{\n  "mcpServers": {\n    "team-docs": { "type": "http", "url": "https://docs.example/mcp" }\n  }\n}\n');
    const scan = await scanConfigs(env({ extraConfigPaths: [extra] }), ['claude-code']);
    assert.deepEqual(names(scan), ['home', 'team-docs']);
    const s = scan.servers.find((x) => x.name === 'team-docs')!;
    assert.equal(s.client, 'claude-code');
    assert.equal(s.scope, 'dynamic', 'Claude Code lists --mcp-config servers under its dynamic scope');
    assert.deepEqual(s.source, { file: extra, line: 3, column: 5 });
    assert.match(s.storageKey ?? '', /^team-docs\|[0-9a-f]{16}$/, 'the key Claude Code stores its login under');
    assert.ok(scan.files.includes(extra), 'the editor watches the extra file');
  });

  it('resolves ~ against the home and a relative path against the first project', async () => {
    await write(path.join(root, 'home', 'mcp', 'a.json'), { mcpServers: { a: { type: 'http', url: 'https://a.example/mcp' } } });
    await write(path.join(root, 'work', 'app', 'ci', 'b.json'), { mcpServers: { b: { type: 'sse', url: 'https://b.example/sse' } } });
    const scan = await scanConfigs(env({ extraConfigPaths: ['~/mcp/a.json', 'ci/b.json'] }), ['claude-code']);
    assert.deepEqual(names(scan), ['a', 'b', 'home']);
  });

  it('reports a listed file that is missing or has no mcpServers, and keeps every other server', async () => {
    const broken = await write(path.join(root, 'team', 'servers.json'), { servers: { x: { url: 'https://x.example' } } });
    const missing = path.join(root, 'team', 'gone.json');
    const scan = await scanConfigs(env({ extraConfigPaths: [missing, broken] }), ['claude-code']);
    assert.deepEqual(names(scan), ['home']);
    const gone = scan.findings.find((f) => f.code === 'config.unreadable');
    assert.ok(gone, JSON.stringify(scan.findings));
    assert.equal(gone.severity, 'warning');
    assert.ok(gone.detail.includes(missing));
    const shape = scan.findings.find((f) => f.code === 'config.missing-servers');
    assert.equal(shape?.location?.file, broken);
  });

  it('does not read a project\'s own .mcp.json twice when it is also listed', async () => {
    const own = await write(path.join(root, 'work', 'app', '.mcp.json'), { mcpServers: { proj: { type: 'http', url: 'https://p.example/mcp' } } });
    const scan = await scanConfigs(env({ extraConfigPaths: [own] }), ['claude-code']);
    assert.deepEqual(names(scan), ['home', 'proj']);
  });

  it('is Claude Code\'s form: a scan of Codex alone ignores the setting', async () => {
    const extra = await write(path.join(root, 'team', 'mcp.json'), { mcpServers: { t: { type: 'http', url: 'https://t.example/mcp' } } });
    const scan = await scanConfigs(env({ extraConfigPaths: [extra] }), ['codex']);
    assert.deepEqual(names(scan), []);
  });
});

describe('unsaved editor text', () => {
  it('is read instead of the file inside withUnsavedText, and only there', async () => {
    const file = path.join(root, 'home', '.claude.json');
    const typing = '{\n  "mcpServers": {\n\n    "renamed": { "type": "http", "url": "https://home.example/mcp" },\n    "broken": { "type": "http" }\n  }\n}\n';
    const [inside, outside] = await Promise.all([withUnsavedText(new Map([[file, typing]]), () => scanConfigs(env(), ['claude-code'])), scanConfigs(env(), ['claude-code'])]);
    assert.deepEqual(names(inside), ['broken', 'renamed']);
    assert.equal(inside.servers.find((s) => s.name === 'renamed')!.source.line, 4, 'positions come from the unsaved text');
    const missingUrl = [...inside.findings, ...inside.servers.flatMap((s) => s.findings)].find((f) => f.code === 'config.missing-url');
    assert.equal(missingUrl?.location?.line, 5);
    assert.deepEqual(names(outside), ['home'], 'a scan running meanwhile still reads the file');
  });

  it('shows a syntax error while the user types it', async () => {
    const file = path.join(root, 'home', '.claude.json');
    const scan = await withUnsavedText(new Map([[file, '{\n  "mcpServers": {,\n}\n']]), () => scanConfigs(env(), ['claude-code']));
    const bad = scan.findings.find((f) => f.code === 'config.invalid-json');
    assert.equal(bad?.location?.line, 2);
  });
});

describe('snapshot count', () => {
  it('comes from MCP_AUTH_DOCTOR_BACKUP_KEEP when it is a whole number from 1, else 20', () => {
    assert.equal(snapshotKeep(env({ env: { MCP_AUTH_DOCTOR_BACKUP_KEEP: '5' } })), 5);
    assert.equal(snapshotKeep(env({ env: { MCP_AUTH_DOCTOR_BACKUP_KEEP: '0' } })), 20);
    assert.equal(snapshotKeep(env({ env: { MCP_AUTH_DOCTOR_BACKUP_KEEP: 'many' } })), 20);
    assert.equal(snapshotKeep(env({ env: { MCP_AUTH_DOCTOR_BACKUP_KEEP: '100000' } })), 1000);
    assert.equal(snapshotKeep(env()), 20);
    assert.equal(snapshotStoreFor(env({ env: { MCP_AUTH_DOCTOR_BACKUP_KEEP: '3' } })).keep, 3);
  });
});
