// mcp-remote client: argv grammar, hash, host-config discovery with positions and broken files,
// the store's expiry rules and folders, and the lock / port / version-folder findings.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseLaunch, parseMcpRemoteArgs } from '../../../src/core/clients/mcp-remote/argv';
import { scanMcpRemoteEntries } from '../../../src/core/clients/mcp-remote/config';
import { defaultCallbackPort, serverUrlHash } from '../../../src/core/clients/mcp-remote/hash';
import { folderForPin } from '../../../src/core/clients/mcp-remote/layout';
import { McpRemoteStore, type McpRemoteSummary } from '../../../src/core/clients/mcp-remote/store';
import { SnapshotStore } from '../../../src/core/credentials/backups';
import type { Environment } from '../../../src/core/environment';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe('mcp-remote argv and hash', () => {
  it('recognises the launchers and pins', () => {
    assert.deepEqual(parseLaunch('npx', ['-y', 'mcp-remote', 'https://h/mcp'])?.pin, { kind: 'unpinned' });
    assert.deepEqual(parseLaunch('npx', ['mcp-remote@latest', 'https://h/mcp'])?.pin, { kind: 'tag', tag: 'latest' });
    assert.deepEqual(parseLaunch('npx', ['-y', 'mcp-remote@0.1.37', 'https://h/mcp'])?.pin, { kind: 'exact', version: '0.1.37' });
    assert.deepEqual(parseLaunch('cmd', ['/c', 'npx', '-y', 'mcp-remote', 'https://h/mcp'])?.argv, ['https://h/mcp']);
    assert.equal(parseLaunch('cmd', ['/c', 'npx', '-y', 'mcp-remote', 'https://h/mcp'])?.argvOffset, 4);
    assert.deepEqual(parseLaunch('/usr/bin/node', ['/x/node_modules/mcp-remote/dist/proxy.js', 'https://h/mcp'])?.argv, ['https://h/mcp']);
    assert.equal(parseLaunch('npx', ['-y', 'mcp-remote-client', 'https://h/mcp']), undefined);
    assert.equal(parseLaunch('npx', ['-y', '@modelcontextprotocol/server-github']), undefined);
    assert.equal(parseLaunch('uvx', ['mcp-remote', 'https://h/mcp']), undefined);
  });

  it('takes header pairs out before the URL and port, as 0.15.1 does', () => {
    const a = parseMcpRemoteArgs(['--header', 'Authorization: Bearer ${TOKEN}', 'https://h/mcp', '9696', '--transport', 'sse-only']);
    assert.equal(a.serverUrl, 'https://h/mcp');
    assert.equal(a.specifiedPort, 9696);
    assert.deepEqual(a.headers, { Authorization: 'Bearer ${TOKEN}' });
    assert.equal(a.transportStrategy, 'sse-only');
    assert.equal(parseMcpRemoteArgs(['https://h/mcp', '--allow-http']).specifiedPort, undefined);
    assert.match(parseMcpRemoteArgs(['http://example.com/mcp']).problems.join(), /allow-http/);
    assert.deepEqual(parseMcpRemoteArgs(['http://example.com/mcp', '--allow-http']).problems, []);
    assert.deepEqual(parseMcpRemoteArgs(['http://localhost:1/mcp']).problems, []);
  });

  it('hashes like getServerUrlHash: URL, resource, sorted params and headers, joined with |', () => {
    assert.equal(serverUrlHash({ serverUrl: 'https://h/mcp' }), md5('https://h/mcp'));
    assert.equal(
      serverUrlHash({ serverUrl: 'https://h/mcp', authorizeResource: 'https://r', headers: { b: '2', a: '1' }, authorizeParams: { z: '1', audience: 'x' } }),
      md5('https://h/mcp|https://r|{"audience":"x","z":"1"}|{"a":"1","b":"2"}'),
    );
    // --disable-resource-parameter drops --resource from the hash too.
    const a = parseMcpRemoteArgs(['https://h/mcp', '--resource', 'https://r', '--disable-resource-parameter']);
    assert.equal(a.authorizeResource, undefined);
    assert.equal(defaultCallbackPort('ffff0000000000000000000000000000'), 3335 + (0xffff % 45816));
  });

  it('knows which folder a pin reads', () => {
    assert.equal(folderForPin({ kind: 'exact', version: '0.1.37' }).folder, 'mcp-remote-0.1.37');
    assert.equal(folderForPin({ kind: 'exact', version: '0.15.1' }).folder, 'mcp-remote-v1');
    assert.equal(folderForPin({ kind: 'tag', tag: 'latest' }).folder, 'mcp-remote-v1');
    assert.equal(folderForPin({ kind: 'exact', version: '0.5.0' }).folder, undefined);
  });
});

describe('mcp-remote config discovery and store', () => {
  let root: string;
  let e: Environment;
  const claudeFile = () => path.join(e.home, '.config', 'Claude', 'claude_desktop_config.json');
  const cursorProject = () => path.join(e.projectDirs[0]!, '.cursor', 'mcp.json');
  const windsurf = () => path.join(e.home, '.codeium', 'windsurf', 'mcp_config.json');
  const base = () => path.join(e.home, '.mcp-auth');

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-mcpr-'));
    e = { home: path.join(root, 'home'), env: { TOKEN: 's3cret' }, platform: 'linux', projectDirs: [path.join(root, 'app')] };
    for (const f of [claudeFile(), cursorProject(), windsurf()]) await fs.mkdir(path.dirname(f), { recursive: true });
  });
  afterEach(async () => fs.rm(root, { recursive: true, force: true }));

  it('finds mcp-remote entries with host, scope, key position and hash; leaves other entries alone', async () => {
    await fs.writeFile(
      claudeFile(),
      '{\n  "mcpServers": {\n    "github": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"] },\n    "linear": {\n      "command": "npx",\n      "args": ["-y", "mcp-remote", "https://mcp.linear.app/sse", "--header", "Authorization:${TOKEN}"]\n    }\n  }\n}\n',
    );
    await fs.writeFile(cursorProject(), JSON.stringify({ mcpServers: { s: { command: 'npx', args: ['mcp-remote@0.1.37', 'https://s.example/mcp', '7777'] } } }, null, 2));
    await fs.writeFile(windsurf(), JSON.stringify({ mcpServers: { w: { command: 'npx', args: ['mcp-remote', 'https://w.example/mcp', '--transport', 'sse-only'], disabled: true } } }));
    const { scan, entries } = await scanMcpRemoteEntries(e);
    assert.deepEqual(scan.findings, []);
    assert.deepEqual(scan.files, [claudeFile(), path.join(e.home, '.cursor', 'mcp.json'), cursorProject(), windsurf()]);
    const linear = scan.servers.find((s) => s.name === 'linear')!;
    assert.equal(linear.host, 'Claude Desktop');
    assert.deepEqual(linear.source, { file: claudeFile(), line: 4, column: 5 });
    assert.deepEqual(linear.headers, { Authorization: 's3cret' });
    // Hashed with the header as written, before ${TOKEN} is expanded.
    assert.equal(linear.storageKey, md5('https://mcp.linear.app/sse|{"Authorization":"${TOKEN}"}'));
    const s = scan.servers.find((x) => x.name === 's')!;
    assert.equal(s.scope, 'project');
    assert.equal(s.projectPath, e.projectDirs[0]);
    assert.equal(s.storageKey, `mcp-remote-0.1.37/${md5('https://s.example/mcp')}`);
    assert.equal(s.oauth?.callbackPort, 7777);
    assert.equal(entries.find((x) => x.server.name === 's')!.strictPort, true);
    const w = scan.servers.find((x) => x.name === 'w')!;
    assert.equal(w.transport, 'sse');
    assert.equal(w.enabled, false);
    assert.equal(scan.servers.length, 3);
  });

  it('reports broken JSON and wrong types with file and line', async () => {
    await fs.writeFile(claudeFile(), '{\n  "mcpServers": {\n    "a": { "command": "npx", }\n  }\n}\n');
    await fs.writeFile(windsurf(), JSON.stringify({ mcpServers: [] }));
    await fs.writeFile(cursorProject(), '{"mcpServers": {"x": {"command": "npx", "args": ["mcp-remote", 5]}}}');
    const { scan } = await scanMcpRemoteEntries(e);
    const bad = scan.findings.find((f) => f.code === 'config.invalid-json')!;
    assert.equal(bad.location?.file, claudeFile());
    assert.equal(bad.location?.line, 3);
    assert.ok(scan.findings.some((f) => f.code === 'config.invalid-entry' && f.location?.file === windsurf()));
    assert.ok(scan.findings.some((f) => f.code === 'config.invalid-entry' && f.title.includes('"x": args')));
  });

  it('flags two servers pinned to one callback port', async () => {
    await fs.writeFile(claudeFile(), JSON.stringify({ mcpServers: { a: { command: 'npx', args: ['mcp-remote', 'https://a.example/mcp', '5000'] }, b: { command: 'npx', args: ['mcp-remote', 'https://b.example/mcp', '5000'] } } }, null, 2));
    const { scan } = await scanMcpRemoteEntries(e);
    for (const s of scan.servers) assert.ok(s.findings.some((f) => f.code === 'config.mcp-remote-callback-port-collision'), s.name);
  });

  it('lists logins per folder, with expiry from expires_at or mtime + expires_in, and reports a version-folder split and a stale lease', async () => {
    const url = 'https://s.example/mcp';
    const h = md5(url);
    await fs.writeFile(claudeFile(), JSON.stringify({ mcpServers: { s: { command: 'npx', args: ['-y', 'mcp-remote', url] } } }));
    const old = path.join(base(), 'mcp-remote-0.1.37');
    await fs.mkdir(old, { recursive: true });
    const oldTokens = path.join(old, `${h}_tokens.json`);
    await fs.writeFile(oldTokens, JSON.stringify({ access_token: 'at', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt' }));
    const mtime = new Date('2026-01-01T00:00:00Z');
    await fs.utimes(oldTokens, mtime, mtime);
    await fs.writeFile(path.join(old, `${h}_refresh_in_progress.json`), JSON.stringify({ pid: 2 ** 22 + 17, nonce: 'n', at: Date.now() - 60_000 }));
    const store = new McpRemoteStore(e, { backups: new SnapshotStore(path.join(root, 'backups')) });
    const listing = await store.list();
    const s = listing.entries[0] as McpRemoteSummary;
    assert.equal(s.key, `mcp-remote-0.1.37/${h}`);
    assert.equal(s.folder, 'mcp-remote-0.1.37');
    assert.equal(s.expiresAt, mtime.getTime() + 3600_000);
    assert.equal(s.expirySource, 'mtime+expires_in');
    assert.ok(listing.findings.some((f) => f.code === 'credentials.mcp-remote-stale-lock'));
    assert.ok(listing.findings.some((f) => f.code === 'credentials.mcp-remote-version-folder-split'));
    const { entries } = await scanMcpRemoteEntries(e);
    const { versionSplitFindings } = await import('../../../src/core/clients/mcp-remote/findings');
    versionSplitFindings(entries, new Map([[h, ['mcp-remote-0.1.37']]]));
    assert.ok(entries[0]!.server.findings.some((f) => f.code === 'credentials.mcp-remote-version-folder-split'));

    // A write in the current folder keeps unknown fields and stores expires_at.
    const cur = path.join(base(), 'mcp-remote-v1');
    await fs.mkdir(cur, { recursive: true });
    await fs.writeFile(path.join(cur, `${h}_tokens.json`), JSON.stringify({ access_token: 'a1', token_type: 'Bearer', refresh_token: 'r1', expires_at: 1, requested_scope: 'x', extra: { k: 1 } }), { mode: 0o640 });
    await store.write(h, { accessToken: 'a2', refreshToken: 'r2', expiresAt: Date.now() + 60_000 });
    const after = JSON.parse(await fs.readFile(path.join(cur, `${h}_tokens.json`), 'utf8'));
    assert.equal(after.access_token, 'a2');
    assert.equal(after.refresh_token, 'r2');
    assert.deepEqual(after.extra, { k: 1 });
    assert.equal(after.requested_scope, 'x');
    assert.ok(after.expires_at > Date.now());
    assert.equal((await fs.stat(path.join(cur, `${h}_tokens.json`))).mode & 0o777, 0o640);
  });

  it('refuses to reset while a live mcp-remote holds the refresh lease', async () => {
    const h = md5('https://s.example/mcp');
    const cur = path.join(base(), 'mcp-remote-v1');
    await fs.mkdir(cur, { recursive: true });
    await fs.writeFile(path.join(cur, `${h}_tokens.json`), JSON.stringify({ access_token: 'a', token_type: 'Bearer' }));
    await fs.writeFile(path.join(cur, `${h}_refresh_in_progress.json`), JSON.stringify({ pid: process.pid, nonce: 'n', at: Date.now() }));
    const store = new McpRemoteStore(e, { backups: new SnapshotStore(path.join(root, 'backups')), entries: async () => [] });
    await assert.rejects(store.delete(h), /refreshing/);
    assert.ok(await fs.stat(path.join(cur, `${h}_tokens.json`)));
  });
});
