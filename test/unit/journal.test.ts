// The credential journal over real file stores in a sandbox HOME: a state is recorded only when
// the content changed, 0600 in a private folder, tagged `observed` with its writer; bounds by
// count and age keep the newest state and never touch our own before-write snapshots; keyring
// stores are not read unless the caller allows it.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { claudeCodeStore, claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import { codexCredentialsFile } from '../../src/core/credentials/codexStore';
import type { KeyringRunner } from '../../src/core/credentials/codexKeyring';
import type { Environment } from '../../src/core/environment';
import { Journal, contentHash } from '../../src/core/journal/journal';
import { journalSources } from '../../src/core/journal/sources';
import { guessWriter, processVersion } from '../../src/core/journal/writer';
import type { RunningClients } from '../../src/core/repair/processes';

const tok = (s: string) => `tok-${s}-${'y'.repeat(24)}`;
const entry = (name: string, at = tok(`a-${name}`)) => ({ serverName: name, serverUrl: `https://${name}.example/mcp`, clientId: `c-${name}`, accessToken: at, refreshToken: tok(`r-${name}`), expiresAt: 1_800_000_000_000 });
const blob = (names: string[], over: Record<string, Record<string, unknown>> = {}) =>
  JSON.stringify({ claudeAiOauth: { accessToken: tok('acct') }, mcpOAuth: Object.fromEntries(names.map((n) => [`${n}|0000000000000000`, { ...entry(n), ...over[n] }])) });

describe('credential journal', () => {
  let root: string;
  let e: Environment;
  let clock: number;
  let processes: RunningClients;
  let journal: Journal;
  let own: SnapshotStore;
  const writeClaude = async (text: string) => {
    await fs.mkdir(path.dirname(claudeCredentialsFile(e)), { recursive: true });
    await fs.writeFile(claudeCredentialsFile(e), text, { mode: 0o600 });
  };
  const claudeSource = () => journalSources(e, { readSecureStores: false, clients: ['claude-code'] })[0]!;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-journal-'));
    e = { home: path.join(root, 'home'), env: {}, platform: 'linux', projectDirs: [] };
    clock = Date.parse('2026-05-14T12:00:00Z');
    processes = { processes: [], known: true };
    own = new SnapshotStore(path.join(root, 'backups'), 20, () => clock);
    journal = new Journal(path.join(root, 'backups', 'journal'), {
      now: () => clock,
      ownSnapshots: own,
      writer: { listClients: async () => processes, versionOf: async () => '2.1.332' },
    });
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  it('records a state only when the content changed, 0600, tagged observed, with the raw content a restore needs', async () => {
    await writeClaude(blob(['a', 'b']));
    const first = await journal.observe(claudeSource());
    assert.equal(first.recorded, true);
    assert.deepEqual(first.losses, []);
    const snap = first.states[0]!.snapshot!;
    assert.equal(snap.reason, 'observed');
    assert.equal(snap.location, claudeCredentialsFile(e));
    assert.equal((await fs.stat(path.join(journal.dir, `${snap.id}.json`))).mode & 0o777, 0o600);
    assert.equal((await fs.stat(journal.dir)).mode & 0o777, 0o700);
    assert.equal((await journal.snapshots.read(snap.id))?.raw, blob(['a', 'b']));

    clock += 1000;
    const again = await journal.observe(claudeSource());
    assert.equal(again.recorded, false, 'same content: no second state');
    // The same data reformatted is the same content.
    await writeClaude(JSON.stringify(JSON.parse(blob(['a', 'b'])), null, 2));
    assert.equal((await journal.observe(claudeSource())).recorded, false);
    assert.equal((await journal.states('claude-code', claudeCredentialsFile(e))).length, 1);
    assert.equal(contentHash(blob(['a'])), contentHash(JSON.stringify(JSON.parse(blob(['a'])), null, 1)));
  });

  it('a writer that blanks every entry is a loss with its count, its writer and the state to restore from', async () => {
    await writeClaude(blob(['a', 'b', 'c']));
    const before = (await journal.observe(claudeSource())).states[0]!.snapshot!;
    processes = { processes: [{ client: 'claude-code', pid: 4121, command: 'claude' }], known: true };
    clock += 60_000;
    await writeClaude(blob(['a', 'b', 'c'], { a: { accessToken: '', refreshToken: '' }, b: { accessToken: '', refreshToken: '' }, c: { accessToken: '', refreshToken: '' } }));
    const r = await journal.observe(claudeSource());
    assert.equal(r.recorded, true);
    assert.deepEqual(r.losses.map((l) => [l.kind, l.count]), [['tokens-blanked', 3]]);
    assert.equal(r.states[0]!.previous?.id, before.id);
    assert.deepEqual(r.states[0]!.snapshot?.writer, { pid: 4121, version: '2.1.332', command: 'claude' });
    assert.match(r.findings[0]!.title, /^Claude Code lost the tokens of 3 MCP logins at \d\d:\d\d \(written by claude 2\.1\.332, pid 4121\)$/);
    assert.ok(r.findings[0]!.detail.includes(before.id));
    assert.ok(!JSON.stringify(r).includes(tok('a-a')), 'a token leaked');
    // The writer survives a read back (the optional snapshot field).
    assert.equal((await journal.snapshots.read(r.states[0]!.snapshot!.id))?.writer?.pid, 4121);
  });

  it('names no writer when none or several clients run', async () => {
    processes = { processes: [{ client: 'codex', pid: 1, command: 'codex' }, { client: 'codex', pid: 2, command: 'codex app-server' }], known: true };
    assert.deepEqual((await guessWriter('codex', { listClients: async () => processes })).writer, { unknownBecause: '2 client processes were running' });
    assert.deepEqual((await guessWriter('claude-code', { listClients: async () => processes })).writer, { unknownBecause: 'no client process was running' });
    assert.deepEqual((await guessWriter('codex', { listClients: async () => ({ processes: [], known: false, reason: 'win32' }) })).writer, { unknownBecause: 'win32' });
    const logout = await guessWriter('claude-code', { listClients: async () => ({ processes: [{ client: 'claude-code', pid: 9, command: 'claude mcp logout linear' }], known: true }), versionOf: async () => undefined });
    assert.deepEqual(logout, { writer: { pid: 9, command: 'claude mcp logout linear' }, logoutOf: ['linear'] });
  });

  it('reads a client version from the package it runs (Linux /proc layout)', async () => {
    const proc = path.join(root, 'proc', '77');
    const pkg = path.join(root, 'nm', '@openai', 'codex');
    await fs.mkdir(path.join(pkg, 'bin'), { recursive: true });
    await fs.writeFile(path.join(pkg, 'package.json'), JSON.stringify({ name: '@openai/codex', version: '0.171.0' }));
    await fs.writeFile(path.join(pkg, 'bin', 'codex.js'), '');
    await fs.mkdir(proc, { recursive: true });
    await fs.writeFile(path.join(proc, 'cmdline'), ['/usr/bin/node', path.join(pkg, 'bin', 'codex.js'), 'app-server'].join('\0'));
    await fs.symlink('/usr/bin/node', path.join(proc, 'exe'));
    assert.equal(await processVersion({ client: 'codex', pid: 77, command: 'codex' }, path.join(root, 'proc')), '0.171.0');
    assert.equal(await processVersion({ client: 'claude-code', pid: 77, command: 'claude' }, path.join(root, 'proc')), undefined, 'not a Claude Code package');
  });

  it('our own delete of an entry is no loss; a write that drops two is', async () => {
    await writeClaude(blob(['a', 'b', 'c']));
    await journal.observe(claudeSource());
    clock += 1000;
    const store = claudeCodeStore(e, { backups: own });
    await store.delete('a|0000000000000000');
    await store.delete('b|0000000000000000');
    const ours = await journal.observe(claudeSource());
    assert.equal(ours.recorded, true);
    assert.deepEqual(ours.losses, [], 'our two deletes are intended removals');
    clock += 1000;
    await writeClaude(blob(['a', 'b', 'c']));
    await journal.observe(claudeSource());
    clock += 1000;
    await writeClaude(blob(['c']));
    assert.deepEqual((await journal.observe(claudeSource())).losses.map((l) => [l.kind, l.count]), [['grants-gone', 2]]);
  });

  it('a store that vanished, or became unparsable, is a loss', async () => {
    await writeClaude(blob(['a', 'b']));
    await journal.observe(claudeSource());
    clock += 1000;
    await writeClaude('{"mcpOAuth": {');
    assert.deepEqual((await journal.observe(claudeSource())).losses.map((l) => [l.kind, l.count]), [['store-unparsable', 3]]);
    clock += 1000;
    await writeClaude(blob(['a', 'b']));
    await journal.observe(claudeSource());
    clock += 1000;
    await fs.rm(claudeCredentialsFile(e));
    const gone = await journal.observe(claudeSource());
    assert.deepEqual(gone.losses.map((l) => [l.kind, l.count]), [['store-emptied', 3]]);
    assert.equal(gone.states[0]!.snapshot?.entries.length, 0);
    clock += 1000;
    assert.equal((await journal.observe(claudeSource())).recorded, false, 'still gone: nothing new');
  });

  it('keeps at most maxStates and nothing older than maxAge, always the newest, never our before-write snapshots', async () => {
    const small = new Journal(journal.dir, { maxStates: 3, maxAgeMs: 3_600_000, now: () => clock, writer: { listClients: async () => processes } });
    const store = claudeCodeStore(e, { backups: own });
    await writeClaude(blob(['a']));
    await store.write('a|0000000000000000', { accessToken: tok('ours') });
    const ownBefore = (await own.list()).snapshots.map((s) => s.id);
    assert.equal(ownBefore.length, 1);
    for (let i = 0; i < 6; i++) {
      clock += 1000;
      await writeClaude(blob(['a'], { a: { accessToken: tok(`n${i}`) } }));
      await small.observe(claudeSource());
    }
    const kept = await small.states('claude-code', claudeCredentialsFile(e));
    assert.equal(kept.length, 3);
    assert.deepEqual((await own.list()).snapshots.map((s) => s.id), ownBefore, 'before-write snapshots untouched');
    clock += 2 * 3_600_000;
    await writeClaude(blob(['a'], { a: { accessToken: tok('late') } }));
    await small.observe(claudeSource());
    const afterAge = await small.states('claude-code', claudeCredentialsFile(e));
    assert.equal(afterAge.length, 1, 'older states pruned by age');
    assert.equal((await small.snapshots.read(afterAge[0]!.id))?.raw, blob(['a'], { a: { accessToken: tok('late') } }), 'the newest stays');
    clock += 10 * 3_600_000;
    assert.equal(await small.pruneByAge('claude-code', claudeCredentialsFile(e)), 0, 'the newest is never pruned, however old');
  });

  it('Codex: journals the file, and reads the keyring only when allowed', async () => {
    const calls: number[] = [];
    const keyring: KeyringRunner = async (ops) => {
      calls.push(ops.length);
      return { reachable: false, reason: 'test keyring' };
    };
    const file = codexCredentialsFile(e);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const grant = (n: string) => ({ server_name: n, server_url: `https://${n}.example/mcp`, client_id: `c-${n}`, access_token: tok(n), refresh_token: tok(`r${n}`), scopes: [] });
    await fs.writeFile(file, JSON.stringify({ 'a|1': grant('a'), 'b|2': grant('b') }), { mode: 0o600 });
    const src = (readSecureStores: boolean) => journalSources(e, { readSecureStores, clients: ['codex'], keyring, codexSettings: { mode: 'auto', servers: [] } })[0]!;
    const first = await journal.observe(src(false));
    assert.deepEqual(first.states.map((s) => [s.storeKind, s.location]), [['file', file]]);
    assert.deepEqual(calls, [], 'no keyring call when secure stores may not be read');
    await journal.observe(src(true));
    assert.ok(calls.length > 0, 'the keyring is asked when allowed');
    clock += 1000;
    await fs.rm(file);
    const gone = await journal.observe(src(false));
    assert.deepEqual(gone.losses.map((l) => [l.kind, l.count]), [['store-emptied', 2]]);
  });
});
