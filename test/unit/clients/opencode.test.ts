// opencode 1.18.33's files on real files in a sandbox HOME: the login file's format (seconds,
// URL binding, the whole-file schema that makes one bad entry cost every login), writes that keep
// every other byte and the mode under opencode's lock after a snapshot, the lock's stale rule;
// and the config files: JSONC, merge order and field-by-field merging, {env:} and {file:}, the
// project walk up to the git root, OPENCODE_DISABLE_PROJECT_CONFIG and the managed folder.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanOpencode } from '../../../src/core/clients/opencode/config';
import { classifyChange, parseStoreContent } from '../../../src/core/journal/losses';
import { OpencodeLockBusyError, opencodeLockDir, withOpencodeLock } from '../../../src/core/clients/opencode/lock';
import { OpencodeStore } from '../../../src/core/clients/opencode/store';
import { SnapshotStore } from '../../../src/core/credentials/backups';
import { MalformedStoreError } from '../../../src/core/credentials/storeFile';
import type { Environment } from '../../../src/core/environment';
import { fingerprint } from '../../../src/core/storageKey';

let n = 0;
const mint = (label: string) => `${label}-${process.pid}-${++n}-${Math.random().toString(36).slice(2)}`;

/** An entry as opencode 1.18.33 writes it after a login (field order of a real one). */
function entry(url: string, over: Record<string, unknown> = {}) {
  return {
    tokens: { accessToken: mint('at'), refreshToken: mint('rt'), expiresAt: Date.now() / 1000 + 3600.78, scope: 'mcp:tools' },
    clientInfo: { clientId: mint('client'), clientIdIssuedAt: 1796684494 },
    serverUrl: url,
    ...over,
  };
}

describe('opencode login file (mcp-auth.json)', () => {
  let home: string;
  let file: string;
  let e: Environment;
  let store: OpencodeStore;
  const A = 'http://127.0.0.1:1/mcp';
  const B = 'http://127.0.0.1:2/mcp';

  beforeEach(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-opencode-store-'));
    file = path.join(home, '.local', 'share', 'opencode', 'mcp-auth.json');
    e = { home, env: {}, platform: 'linux', projectDirs: [] };
    store = new OpencodeStore(e, { backups: new SnapshotStore(path.join(home, 'backups')), lockTimeoutMs: 600 });
  });
  afterEach(async () => fs.rm(home, { recursive: true, force: true }));

  async function put(data: unknown, mode = 0o600): Promise<string> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const text = JSON.stringify(data, null, 2);
    await fs.writeFile(file, text, { mode });
    await fs.chmod(file, mode);
    return text;
  }

  it('lists each login under <name>|<serverUrl>, with fingerprints and milliseconds, never a token', async () => {
    const lab = entry(A);
    await put({ lab, other: entry(B) });
    const listing = await store.list();
    assert.deepEqual(listing.findings, []);
    const s = listing.entries.find((x) => x.key === `lab|${A}`);
    assert.ok(s);
    assert.equal(s.serverName, 'lab');
    assert.equal(s.serverUrl, A);
    assert.equal(s.accessTokenFingerprint, fingerprint(lab.tokens.accessToken));
    assert.equal(s.expiresAt, Math.round(lab.tokens.expiresAt * 1000));
    assert.deepEqual(s.scopes, ['mcp:tools']);
    assert.equal(s.clientId, lab.clientInfo.clientId);
    assert.ok(!JSON.stringify(listing).includes(lab.tokens.accessToken));
    assert.equal(await store.read(`lab|${B}`), undefined, 'a login is only for the URL it was made for');
    assert.equal((await store.readSecret(`lab|${A}`))?.refreshToken, lab.tokens.refreshToken);
  });

  it('one entry of a wrong type is an error for the whole file, as opencode reads no login then, and nothing is written', async () => {
    const text = await put({ lab: entry(A), broken: { tokens: { accessToken: null } } });
    const listing = await store.list();
    assert.deepEqual(listing.entries, []);
    assert.equal(listing.findings.length, 1);
    assert.equal(listing.findings[0]!.code, 'credentials.invalid-entry');
    assert.match(listing.findings[0]!.detail, /broken\.tokens\.accessToken/);
    assert.equal(listing.findings[0]!.location?.line, text.split('\n').findIndex((l) => l.includes('"accessToken": null')) + 1);
    await assert.rejects(store.write(`lab|${A}`, { accessToken: 'x' }), MalformedStoreError);
    assert.equal(await fs.readFile(file, 'utf8'), text);
  });

  it('a login without serverUrl is listed with a warning: opencode never uses it', async () => {
    await put({ lab: { tokens: { accessToken: mint('at') } } });
    const listing = await store.list();
    assert.equal(listing.entries[0]!.key, 'lab|');
    assert.deepEqual(listing.findings.map((f) => f.code), ['credentials.unbound-login']);
  });

  it('a refresh write changes only the token members, keeps unknown fields and the mode, in seconds, after a snapshot', async () => {
    const lab = { ...entry(A), codeVerifier: 'v', extra: { kept: true } };
    const text = await put({ lab, other: entry(B) }, 0o640);
    const at = mint('at2');
    const rt = mint('rt2');
    const expires = Date.now() + 7200_000;
    const r = await store.write(`lab|${A}`, { accessToken: at, refreshToken: rt, expiresAt: expires });
    assert.ok(r.snapshotId);
    const after = await fs.readFile(file, 'utf8');
    const data = JSON.parse(after);
    assert.equal(data.lab.tokens.accessToken, at);
    assert.equal(data.lab.tokens.refreshToken, rt);
    assert.equal(data.lab.tokens.expiresAt, expires / 1000);
    assert.equal(data.lab.tokens.scope, 'mcp:tools');
    assert.deepEqual(data.lab.extra, { kept: true });
    assert.equal(data.lab.codeVerifier, 'v');
    assert.equal(data.lab.serverUrl, A);
    const other = JSON.stringify(JSON.parse(text).other, null, 2).replace(/\n/g, '\n  ');
    assert.ok(after.includes(`"other": ${other}`), 'the other entry byte for byte');
    assert.equal((await fs.stat(file)).mode & 0o777, 0o640);
  });

  it('a first login creates the file 0600 as opencode shapes it; one for a new URL replaces the unused old one', async () => {
    await store.write(`lab|${A}`, { accessToken: 'a1', refreshToken: 'r1', expiresAt: 1_800_000_000_000, clientId: 'c1', scopes: ['mcp:tools'] });
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')), {
      lab: { tokens: { accessToken: 'a1', refreshToken: 'r1', expiresAt: 1_800_000_000, scope: 'mcp:tools' }, clientInfo: { clientId: 'c1' }, serverUrl: A },
    });
    await store.write(`lab|${B}`, { accessToken: 'a2' });
    assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')), { lab: { tokens: { accessToken: 'a2' }, serverUrl: B } });
  });

  it('delete removes the one entry of that name and URL, and nothing for another URL', async () => {
    await put({ lab: entry(A), other: entry(B) });
    assert.equal((await store.delete(`lab|${B}`)).deleted, false);
    const r = await store.delete(`lab|${A}`);
    assert.equal(r.deleted, true);
    assert.ok(r.snapshotId);
    assert.deepEqual(Object.keys(JSON.parse(await fs.readFile(file, 'utf8'))), ['other']);
  });

  it("waits for opencode's lock, refuses when a live holder keeps it, and breaks a stale one", async () => {
    const text = await put({ lab: entry(A) });
    const lock = opencodeLockDir(path.join(home, '.local', 'state', 'opencode'), file);
    await fs.mkdir(lock, { recursive: true });
    await fs.writeFile(path.join(lock, 'heartbeat'), '');
    await fs.writeFile(path.join(lock, 'meta.json'), JSON.stringify({ token: 't', pid: 4242, hostname: 'h', createdAt: '2026-12-07T00:00:00.000Z' }));
    const err = await store.write(`lab|${A}`, { accessToken: 'x' }).catch((x: unknown) => x);
    assert.ok(err instanceof OpencodeLockBusyError, String(err));
    assert.match(err.message, /pid 4242 on h/);
    assert.equal(await fs.readFile(file, 'utf8'), text);
    // A heartbeat (and meta, and folder) older than 60 s: opencode's rule says stale.
    const old = new Date(Date.now() - 61_000);
    for (const p of [path.join(lock, 'heartbeat'), path.join(lock, 'meta.json'), lock]) await fs.utimes(p, old, old);
    await store.write(`lab|${A}`, { accessToken: 'x' });
    assert.equal(JSON.parse(await fs.readFile(file, 'utf8')).lab.tokens.accessToken, 'x');
    await assert.rejects(fs.stat(lock), /ENOENT/, 'our lock is released');
    await assert.rejects(fs.stat(`${lock}.breaker`), /ENOENT/);
  });

  it("the journal reads a state as opencode does: one bad entry makes the whole file unparsable, and a write that keeps one server is a loss", () => {
    const a = entry(A);
    const b = entry(B);
    const good = parseStoreContent('opencode', 'file', JSON.stringify({ lab: a, other: b }));
    assert.equal(good.state, 'parsed');
    assert.deepEqual(good.state === 'parsed' ? good.grants.map((g) => [g.key, g.accessToken]) : [], [
      [`lab|${A}`, fingerprint(a.tokens.accessToken)],
      [`other|${B}`, fingerprint(b.tokens.accessToken)],
    ]);
    const bad = parseStoreContent('opencode', 'file', JSON.stringify({ lab: a, other: b, x: { serverUrl: 5 } }));
    assert.equal(bad.state, 'unparsable');
    assert.deepEqual(classifyChange(good, bad).losses.map((l) => [l.kind, l.count]), [['store-unparsable', 2]]);
    // opencode's next write after reading nothing: a new registration, no tokens, the other login gone.
    const clobbered = parseStoreContent('opencode', 'file', JSON.stringify({ lab: { clientInfo: { clientId: 'new' }, codeVerifier: 'v', serverUrl: A } }));
    assert.deepEqual(classifyChange(good, clobbered).losses.map((l) => [l.kind, l.count]).sort(), [['grants-gone', 1], ['tokens-blanked', 1]]);
  });

  it("a restore of lost entries writes them back whole, but leaves a name that now holds another URL's login", async () => {
    const a = entry(A);
    const b = entry(B);
    await put({ lab: a, other: b });
    const snap = await store.backup();
    const snapshot = (await new SnapshotStore(path.join(home, 'backups')).read(snap!.id))!;
    const moved = entry('http://127.0.0.1:3/mcp');
    const now = await put({ lab: moved, other: { clientInfo: { clientId: 'fresh' }, serverUrl: B } });
    const r = await store.restoreEntries(snapshot, { entryKeys: [`lab|${A}`, `other|${B}`] });
    assert.deepEqual(r.written.entryKeys, [`other|${B}`], 'lab holds a newer login for another URL');
    assert.ok(r.previous, 'the state before the restore was snapshotted');
    const data = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.deepEqual(data.other, b);
    assert.deepEqual(data.lab, moved);
    assert.notEqual(await fs.readFile(file, 'utf8'), now);
  });

  it('the lock directory is sha1 of "mcp-auth:<file>" under <state>/locks, as opencode names it', async () => {
    // Seen with the real 1.18.33: this directory, made by hand with a fresh heartbeat, made
    // `opencode mcp auth list` wait (HOME=/tmp/ocx/home).
    const seen = opencodeLockDir('/tmp/ocx/home/.local/state/opencode', '/tmp/ocx/home/.local/share/opencode/mcp-auth.json');
    assert.equal(seen, '/tmp/ocx/home/.local/state/opencode/locks/d36e5ffbd3841b8a80ecf2100c72f4d10ddb68ff.lock');
    const state = path.join(home, 'state');
    let during: string[] = [];
    await withOpencodeLock(state, file, async () => {
      during = await fs.readdir(opencodeLockDir(state, file));
    });
    assert.deepEqual(during.sort(), ['heartbeat', 'meta.json']);
    assert.deepEqual(await fs.readdir(path.join(state, 'locks')), [], 'released');
  });
});

describe('opencode config files', () => {
  let home: string;
  let e: Environment;
  const write = async (file: string, text: string) => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text);
  };
  const globalFile = () => path.join(home, '.config', 'opencode', 'opencode.jsonc');

  beforeEach(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-opencode-config-'));
    e = { home, env: { HOME: home }, platform: 'linux', projectDirs: [] };
  });
  afterEach(async () => fs.rm(home, { recursive: true, force: true }));

  it('reads JSONC with comments and trailing commas, at the key, with {env:} and {file:} resolved', async () => {
    await write(path.join(home, 'token.txt'), 'secret-value\n');
    await write(
      globalFile(),
      `{\n  // mine\n  "mcp": {\n    "lab": { "type": "remote", "url": "https://{env:LAB_HOST}/mcp", "headers": { "Authorization": "Bearer {file:~/token.txt}" }, "oauth": { "clientId": "cid", "scope": "a b", "callbackPort": 1234 }, },\n    "tool": { "type": "local", "command": ["npx", "tool"] },\n    "off": { "type": "remote", "url": "https://off.example/mcp", "oauth": false, "enabled": false },\n  },\n}\n`,
    );
    e.env.LAB_HOST = 'lab.example';
    const scan = await scanOpencode(e);
    assert.deepEqual(scan.findings, []);
    const lab = scan.servers.find((s) => s.name === 'lab')!;
    assert.equal(lab.url, 'https://lab.example/mcp');
    assert.equal(lab.rawUrl, 'https://{env:LAB_HOST}/mcp');
    assert.equal(lab.headers.Authorization, 'Bearer secret-value');
    assert.deepEqual(lab.oauth, { clientId: 'cid', scopes: ['a', 'b'], callbackPort: 1234 });
    assert.equal(lab.storageKey, 'lab|https://lab.example/mcp');
    assert.deepEqual(lab.findings, []);
    assert.deepEqual({ line: lab.source.line, column: lab.source.column }, { line: 4, column: 5 });
    const tool = scan.servers.find((s) => s.name === 'tool')!;
    assert.equal(tool.transport, 'stdio');
    assert.equal(tool.command, 'npx');
    const off = scan.servers.find((s) => s.name === 'off')!;
    assert.equal(off.enabled, false);
    assert.equal(off.storageKey, undefined, '"oauth": false: opencode never reads a stored login');
  });

  it('an unset {env:} and a missing {file:} are findings at the value', async () => {
    await write(globalFile(), '{"mcp": {"lab": {"type": "remote", "url": "https://x.example/{env:NOPE}", "headers": {"X": "{file:./missing.txt}"}}}}');
    const lab = (await scanOpencode(e)).servers[0]!;
    assert.deepEqual(lab.findings.map((f) => f.code).sort(), ['config.bad-file-reference', 'config.unset-variable']);
    assert.equal(lab.url, 'https://x.example/');
  });

  it('a file that does not parse is an error naming its line; the other files are still read', async () => {
    await write(globalFile(), '{\n  "mcp": {\n    "lab": { "type": "remote" "url": "https://x" }\n  }\n}\n');
    await write(path.join(home, '.opencode', 'opencode.json'), '{"mcp": {"ok": {"type": "remote", "url": "https://ok.example/mcp"}}}');
    const scan = await scanOpencode(e);
    assert.equal(scan.findings.length, 1);
    assert.equal(scan.findings[0]!.code, 'config.invalid-json');
    assert.equal(scan.findings[0]!.location?.line, 3);
    assert.deepEqual(scan.servers.map((s) => s.name), ['ok']);
  });

  it('merges field by field in opencode order: project files from the git root down, then .opencode; OPENCODE_DISABLE_PROJECT_CONFIG drops them', async () => {
    const repo = path.join(home, 'repo');
    const app = path.join(repo, 'packages', 'app');
    await fs.mkdir(path.join(repo, '.git'), { recursive: true });
    await write(globalFile(), '{"mcp": {"lab": {"type": "remote", "url": "https://lab.example/mcp"}}}');
    await write(path.join(repo, 'opencode.json'), '{"mcp": {"lab": {"headers": {"X-Team": "core"}}, "repo": {"type": "remote", "url": "https://root.example/mcp"}}}');
    await write(path.join(app, 'opencode.json'), '{"mcp": {"repo": {"url": "https://app.example/mcp"}}}');
    await write(path.join(app, '.opencode', 'opencode.jsonc'), '{"mcp": {"lab": {"enabled": false}}}');
    e.projectDirs = [app];
    const scan = await scanOpencode(e);
    assert.deepEqual(scan.findings, []);
    const user = scan.servers.filter((s) => s.name === 'lab' && s.scope === 'user');
    assert.equal(user.length, 1);
    assert.equal(user[0]!.enabled, true);
    const inProject = scan.servers.find((s) => s.name === 'lab' && s.scope === 'project')!;
    assert.equal(inProject.enabled, false, 'the .opencode file switched it off here');
    assert.deepEqual(inProject.headerNames, ['X-Team'], 'the repo root file added a header');
    assert.equal(inProject.url, 'https://lab.example/mcp');
    assert.equal(inProject.projectPath, app);
    assert.equal(inProject.source.file, path.join(app, '.opencode', 'opencode.jsonc'));
    assert.deepEqual(inProject.findings.map((f) => f.code), ['config.project-override']);
    const repoServer = scan.servers.find((s) => s.name === 'repo')!;
    assert.equal(repoServer.url, 'https://app.example/mcp', 'the nearest file wins');
    assert.equal(repoServer.storageKey, 'repo|https://app.example/mcp');

    e.env.OPENCODE_DISABLE_PROJECT_CONFIG = '1';
    assert.deepEqual((await scanOpencode(e)).servers.map((s) => `${s.scope}:${s.name}`), ['user:lab']);
  });

  it('OPENCODE_CONFIG and XDG_CONFIG_HOME move the files, as opencode reads them', async () => {
    const xdg = path.join(home, 'xdg');
    await write(path.join(xdg, 'opencode', 'opencode.json'), '{"mcp": {"a": {"type": "remote", "url": "https://a.example/mcp"}}}');
    await write(path.join(home, 'custom.json'), '{"mcp": {"b": {"type": "remote", "url": "https://b.example/mcp"}}}');
    e.env.XDG_CONFIG_HOME = xdg;
    e.env.OPENCODE_CONFIG = path.join(home, 'custom.json');
    const scan = await scanOpencode(e);
    assert.deepEqual(scan.servers.map((s) => s.name).sort(), ['a', 'b']);
    assert.ok(scan.files.includes(path.join(xdg, 'opencode', 'opencode.json')));
  });
});
