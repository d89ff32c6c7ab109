// Restore what was lost, not the whole past (core/journal/restoreLost.ts), on real store files in a
// sandbox HOME: the journal's losses recomputed newest first; only the lost entries (and Claude's
// account login) come back, merged into the store as it is now, while an entry written since the
// loss stays; unknown fields and the file mode stay; the before-restore snapshot undoes it; an
// unparsable store is replaced whole only when confirmed; the CLI's `restore --lost` plans, writes,
// prints the undo command and checks each restored token with its own (loopback) server.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import { snapshotStoreFor } from '../../src/core/credentials/backups';
import { claudeCodeStore, claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import type { KeyringOp, KeyringOpResult, KeyringRunner } from '../../src/core/credentials/codexKeyring';
import { CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import type { Environment } from '../../src/core/environment';
import { journalFor, type Journal } from '../../src/core/journal/journal';
import { findLosses, latestLoss, planLostRestore, restoreLost } from '../../src/core/journal/restoreLost';
import { journalSources } from '../../src/core/journal/sources';
import { fingerprint } from '../../src/core/storageKey';
import { mint, mode, sandboxEnv, tempDir } from './credentialsHelpers';

const key = (name: string) => `${name}|0123456789abcdef`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Tokens {
  at: string;
  rt: string;
}

describe('restore what was lost (journal)', function () {
  this.timeout(30_000);
  let home: string;
  let e: Environment;
  let journal: Journal;
  let serverUrl: string;
  let tokens: Map<string, Tokens>;

  const claudeEntry = (name: string, t: Tokens = tokens.get(name)!) => ({
    serverName: name,
    serverUrl,
    clientId: `client-${name}`,
    accessToken: t.at,
    refreshToken: t.rt,
    expiresAt: Date.now() + 3_600_000,
    scope: 'mcp:tools',
    futureEntryField: { kept: true },
  });
  const file = () => claudeCredentialsFile(e);
  const writeClaude = async (data: unknown, fileMode?: number) => {
    await fs.mkdir(path.dirname(file()), { recursive: true });
    await fs.writeFile(file(), typeof data === 'string' ? data : JSON.stringify(data, null, 2));
    if (fileMode !== undefined) await fs.chmod(file(), fileMode);
  };
  const readClaude = async () => JSON.parse(await fs.readFile(file(), 'utf8')) as { mcpOAuth: Record<string, Record<string, unknown>>; [k: string]: unknown };
  const observe = async (opts: Parameters<typeof journalSources>[1] = { readSecureStores: false }) => {
    await sleep(3); // snapshot ids sort by millisecond
    for (const s of journalSources(e, opts)) await journal.observe(s);
    await sleep(3);
  };
  const blob = (names: string[], extra: Record<string, unknown> = {}) => ({
    claudeAiOauth: { accessToken: tokens.get('acct')!.at, refreshToken: tokens.get('acct')!.rt, expiresAt: Date.now() + 3_600_000 },
    futureTopLevel: { keep: 'me' },
    mcpOAuth: Object.fromEntries(names.map((n) => [key(n), claudeEntry(n)])),
    ...extra,
  });

  // A loopback MCP server that accepts exactly the tokens it is told are live.
  let server: http.Server;
  const live = new Set<string>();
  before(async () => {
    server = http.createServer((req, res) => {
      const auth = req.headers.authorization ?? '';
      req.resume();
      res.writeHead(live.has(auth.replace(/^Bearer /, '')) ? 200 : 401, { 'content-type': 'application/json', ...(live.has(auth.replace(/^Bearer /, '')) ? {} : { 'www-authenticate': 'Bearer error="invalid_token"' }) });
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  beforeEach(async () => {
    home = await tempDir('mad-restore-lost-');
    e = sandboxEnv(home);
    journal = journalFor(e, { writer: { listClients: async () => ({ processes: [], known: true }) } });
    tokens = new Map(['a', 'b', 'c', 'd', 'acct'].map((n) => [n, { at: mint(`at-${n}`), rt: mint(`rt-${n}`) }]));
    live.clear();
  });
  afterEach(() => fs.rm(home, { recursive: true, force: true }));

  it('grants gone: puts back only the lost entries; one logged in again since and one added since stay; unknown fields and the file mode stay; undo restores the state before', async () => {
    await writeClaude(blob(['a', 'b', 'c']), 0o640);
    await observe();
    // The clobber: a and b gone, c kept.
    await writeClaude(blob(['c']), 0o640);
    await observe();
    // Since the loss: b logged in again (new tokens), d added.
    const bNew = { at: mint('at-b2'), rt: mint('rt-b2') };
    const after = blob(['c']);
    after.mcpOAuth[key('b')] = claudeEntry('b', bNew);
    after.mcpOAuth[key('d')] = claudeEntry('d');
    await writeClaude(after, 0o640);
    await observe();
    const beforeRestore = await fs.readFile(file(), 'utf8');

    const losses = await findLosses(journal, 'claude-code');
    assert.equal(losses.length, 1, 'one loss: the later additions are none');
    const loss = (await latestLoss(journal))!;
    assert.deepEqual(loss.losses.map((l) => [l.kind, l.count]), [['grants-gone', 2]]);
    assert.match(loss.finding.title, /Claude Code lost 2 MCP logins/);

    const plan = await planLostRestore(e, journal, loss);
    assert.deepEqual(
      plan.entries.map((p) => [p.key, p.action]),
      [
        [key('a'), 'restore'],
        [key('b'), 'kept-newer'],
      ],
    );
    assert.equal(await fs.readFile(file(), 'utf8'), beforeRestore, 'planning writes nothing');
    const text = plan.lines.join('\n');
    assert.ok(text.includes(fingerprint(bNew.at)) && text.includes(fingerprint(tokens.get('a')!.at)));
    for (const t of [tokens.get('a')!.at, bNew.at, tokens.get('a')!.rt]) assert.ok(!text.includes(t), 'no token in the plan');

    const out = await restoreLost(e, journal, loss, { verify: false });
    assert.equal(out.written, true);
    const now = await readClaude();
    assert.deepEqual(Object.keys(now.mcpOAuth).sort(), [key('a'), key('b'), key('c'), key('d')]);
    assert.equal(now.mcpOAuth[key('a')]!.accessToken, tokens.get('a')!.at, 'a is back');
    assert.equal(now.mcpOAuth[key('b')]!.accessToken, bNew.at, 'the newer login of b stays');
    assert.equal(now.mcpOAuth[key('d')]!.accessToken, tokens.get('d')!.at, 'the entry added since stays');
    assert.deepEqual(now.futureTopLevel, { keep: 'me' });
    assert.deepEqual(now.mcpOAuth[key('a')]!.futureEntryField, { kept: true });
    assert.equal(await mode(file()), 0o640);

    // The restore, journaled, is no new loss.
    await observe();
    assert.equal((await findLosses(journal)).length, 1);

    const undo = await snapshotStoreFor(e).read(out.undoSnapshotId!);
    assert.equal(undo?.reason, 'before-restore');
    assert.equal(undo?.raw, beforeRestore);
    await claudeCodeStore(e).restore(undo!);
    assert.equal(await fs.readFile(file(), 'utf8'), beforeRestore, 'undo puts the pre-restore state back');
    // Nor is the undo, which removes a again on purpose (its own before-restore snapshot says so).
    await observe();
    assert.equal((await findLosses(journal)).length, 1);
  });

  it('restoring twice: the second time every lost entry is already back and nothing is written', async () => {
    await writeClaude(blob(['a', 'b', 'c']));
    await observe();
    await writeClaude(blob(['c']));
    await observe();
    const loss = (await latestLoss(journal))!;
    const first = await restoreLost(e, journal, loss, { verify: false });
    assert.equal(first.written, true);
    await observe();
    const again = await restoreLost(e, journal, loss, { verify: false });
    assert.equal(again.written, false);
    assert.deepEqual(again.entries.map((p) => p.action), ['already-back', 'already-back']);
    assert.equal(again.undoSnapshotId, undefined);
  });

  it('account login gone: claudeAiOauth comes back, every MCP entry as it is now', async () => {
    await writeClaude(blob(['a', 'b']));
    await observe();
    const without = blob(['a', 'b']) as Record<string, unknown>;
    delete without.claudeAiOauth;
    // An MCP refresh since: kept.
    const aNew = { at: mint('at-a2'), rt: mint('rt-a2') };
    (without.mcpOAuth as Record<string, unknown>)[key('a')] = claudeEntry('a', aNew);
    await writeClaude(without);
    await observe();
    const loss = (await latestLoss(journal, 'claude-code'))!;
    assert.deepEqual(loss.losses.map((l) => l.kind), ['account-login-gone']);
    const out = await restoreLost(e, journal, loss, { verify: false });
    assert.deepEqual(out.entries.map((p) => [p.key, p.action, p.account]), [['claudeAiOauth', 'restore', true]]);
    const now = await readClaude();
    assert.equal((now.claudeAiOauth as { accessToken: string }).accessToken, tokens.get('acct')!.at);
    assert.equal(now.mcpOAuth[key('a')]!.accessToken, aNew.at);
    assert.deepEqual(out.plan.storePlan.otherChanges, ['claudeAiOauth: restored (missing now)']);
  });

  it('tokens blanked: the tokens come back into the entries the writer left', async () => {
    await writeClaude(blob(['a', 'b', 'c']));
    await observe();
    const blanked = blob(['a', 'b', 'c']);
    for (const n of ['a', 'b']) blanked.mcpOAuth[key(n)] = { ...claudeEntry(n), accessToken: '', refreshToken: '', expiresAt: 0 };
    await writeClaude(blanked);
    await observe();
    const loss = (await latestLoss(journal))!;
    assert.deepEqual(loss.losses.map((l) => [l.kind, l.count]), [['tokens-blanked', 2]]);
    const out = await restoreLost(e, journal, loss, { verify: false });
    assert.deepEqual(out.entries.map((p) => p.action), ['restore', 'restore']);
    const now = await readClaude();
    for (const n of ['a', 'b', 'c']) assert.equal(now.mcpOAuth[key(n)]!.refreshToken, tokens.get(n)!.rt);
  });

  it('an unparsable store is replaced whole with the state before the loss only when confirmed; the broken content is snapshotted first', async () => {
    const good = JSON.stringify(blob(['a', 'b']));
    await writeClaude(good);
    await observe();
    const broken = '{"mcpOAuth": {"a|0": ';
    await writeClaude(broken);
    await observe();
    const loss = (await latestLoss(journal))!;
    assert.deepEqual(loss.losses.map((l) => l.kind), ['store-unparsable']);
    const plan = await planLostRestore(e, journal, loss);
    assert.equal(plan.mode, 'whole-store');
    assert.equal(plan.needsConfirmation, true);
    assert.match(plan.lines.join('\n'), /cannot be merged/);
    const refused = await restoreLost(e, journal, loss, { verify: false });
    assert.equal(refused.written, false);
    assert.ok(refused.refused);
    assert.equal(await fs.readFile(file(), 'utf8'), broken, 'not confirmed: nothing written');

    const done = await restoreLost(e, journal, loss, { verify: false, confirmWholeStore: true });
    assert.equal(done.written, true);
    assert.equal(await fs.readFile(file(), 'utf8'), good);
    assert.equal((await snapshotStoreFor(e).read(done.undoSnapshotId!))?.raw, broken);
  });

  it('our own delete of an entry is no loss; losses are listed newest first across states', async () => {
    await writeClaude(blob(['a', 'b', 'c', 'd']));
    await observe();
    await claudeCodeStore(e).delete(key('d'));
    await writeClaude(JSON.stringify({ ...blob([]), mcpOAuth: {} }));
    await observe();
    // The emptying lost a, b, c (d we removed ourselves); then a later loss of the account login.
    await writeClaude(blob(['a']));
    await observe();
    const noAccount = blob(['a']) as Record<string, unknown>;
    delete noAccount.claudeAiOauth;
    await writeClaude(noAccount);
    await observe();
    const losses = await findLosses(journal);
    assert.deepEqual(
      losses.map((l) => l.losses.map((x) => [x.kind, x.entries.map((y) => y.key).sort()])),
      [[['account-login-gone', ['claudeAiOauth']]], [['grants-gone', [key('a'), key('b'), key('c')]]]],
    );
    assert.equal((await latestLoss(journal))?.stateId, losses[0]!.stateId);
  });

  it('no loss: latestLoss is undefined and the CLI says so with exit 0', async () => {
    await writeClaude(blob(['a']));
    await observe();
    assert.equal(await latestLoss(journal), undefined);
    const r = await cli(['restore', '--lost']);
    assert.equal(r.code, 0);
    assert.match(r.out, /No loss in the journal/);
  });

  describe('Codex', () => {
    const LAB_URL = 'http://127.0.0.1:1/mcp';
    const names = ['lab', 'docs', 'wiki'];
    const k = (n: string) => codexKey(n, LAB_URL.replace('/mcp', `/${n}`));
    const fileEntry = (n: string, t: Tokens = tokens.get(n)!) => ({
      server_name: n,
      server_url: LAB_URL.replace('/mcp', `/${n}`),
      client_id: `client-${n}`,
      access_token: t.at,
      expires_at: Date.now() + 3_600_000,
      refresh_token: t.rt,
      scopes: ['mcp:tools'],
      future_field: 7,
    });
    const codexFile = () => codexCredentialsFile(e);
    const writeCodex = async (entries: Record<string, unknown>, fileMode = 0o600) => {
      await fs.mkdir(path.dirname(codexFile()), { recursive: true });
      await fs.writeFile(codexFile(), JSON.stringify(entries));
      await fs.chmod(codexFile(), fileMode);
    };
    beforeEach(() => {
      for (const n of names) tokens.set(n, { at: mint(`at-${n}`), rt: mint(`rt-${n}`) });
    });

    it('file store, no keyring reachable: only the lost grants come back, a newer one stays, fields and mode kept', async () => {
      const unreachable: KeyringRunner = async () => ({ reachable: false, reason: 'no keyring here' });
      const settings = { mode: 'auto' as const, servers: names.map((n) => ({ name: n, url: LAB_URL.replace('/mcp', `/${n}`) })) };
      const opts = { readSecureStores: true, clients: ['codex' as const], keyring: unreachable, codexSettings: settings };
      await writeCodex(Object.fromEntries(names.map((n) => [k(n), fileEntry(n)])), 0o640);
      await observe(opts);
      await writeCodex({ [k('wiki')]: fileEntry('wiki') }, 0o640);
      await observe(opts);
      const docsNew = { at: mint('at-docs2'), rt: mint('rt-docs2') };
      await writeCodex({ [k('wiki')]: fileEntry('wiki'), [k('docs')]: fileEntry('docs', docsNew) }, 0o640);
      await observe(opts);
      const loss = (await latestLoss(journal, 'codex'))!;
      assert.equal(loss.storeKind, 'file');
      const store = new CodexStore(e, { settings: { ...settings, secretAuthStorage: false }, keyring: unreachable, secretsKeyring: unreachable, backups: snapshotStoreFor(e) });
      const out = await restoreLost(e, journal, loss, { store, verify: false });
      assert.deepEqual(out.entries.map((p) => [p.serverName, p.action]).sort(), [
        ['docs', 'kept-newer'],
        ['lab', 'restore'],
      ]);
      const now = JSON.parse(await fs.readFile(codexFile(), 'utf8')) as Record<string, Record<string, unknown>>;
      assert.equal(now[k('lab')]!.access_token, tokens.get('lab')!.at);
      assert.equal(now[k('docs')]!.access_token, docsNew.at);
      assert.equal(now[k('wiki')]!.access_token, tokens.get('wiki')!.at);
      assert.equal(now[k('lab')]!.future_field, 7);
      assert.equal(await mode(codexFile()), 0o640);
      const undo = await snapshotStoreFor(e).read(out.undoSnapshotId!);
      assert.deepEqual(Object.keys(JSON.parse(undo!.raw!)).sort(), [k('docs'), k('wiki')].sort());
    });

    it('keyring side: the lost items are set again under one before-restore snapshot; other items untouched', async () => {
      const items = new Map<string, string>();
      const runner: KeyringRunner = async (ops: KeyringOp[]) => ({
        reachable: true,
        results: ops.map((op): KeyringOpResult => {
          if (op.op === 'find') return { ok: true, found: [...items].map(([account, password]) => ({ account, password })) };
          if (op.op === 'get') return { ok: true, value: items.get(op.account) ?? null };
          if (op.op === 'set') {
            items.set(op.account, op.value);
            return { ok: true };
          }
          return { ok: true, deleted: items.delete(op.account) };
        }),
      });
      const stored = (n: string, t: Tokens = tokens.get(n)!) =>
        JSON.stringify({ server_name: n, url: LAB_URL.replace('/mcp', `/${n}`), client_id: `client-${n}`, token_response: { access_token: t.at, token_type: 'bearer', refresh_token: t.rt }, expires_at: Date.now() + 3_600_000, extra: 'kept' });
      const settings = { mode: 'keyring' as const, servers: names.map((n) => ({ name: n, url: LAB_URL.replace('/mcp', `/${n}`) })) };
      const opts = { readSecureStores: true, clients: ['codex' as const], keyring: runner, codexSettings: settings };
      await fs.mkdir(path.join(home, '.codex'), { recursive: true });
      for (const n of names) items.set(k(n), stored(n));
      await observe(opts);
      // Blanked: lab's item loses its tokens; docs's item is deleted; wiki stays.
      items.set(k('lab'), JSON.stringify({ server_name: 'lab', url: LAB_URL.replace('/mcp', '/lab'), client_id: 'client-lab', token_response: { access_token: '', token_type: 'bearer' } }));
      items.delete(k('docs'));
      await observe(opts);
      const loss = (await latestLoss(journal, 'codex'))!;
      assert.equal(loss.storeKind, 'keyring');
      const wikiBefore = items.get(k('wiki'));
      const store = new CodexStore(e, { settings: { ...settings, secretAuthStorage: false }, keyring: runner, backups: snapshotStoreFor(e) });
      const out = await restoreLost(e, journal, loss, { store, verify: false });
      assert.equal(out.written, true);
      assert.equal((JSON.parse(items.get(k('lab'))!) as { token_response: { access_token: string } }).token_response.access_token, tokens.get('lab')!.at);
      assert.equal((JSON.parse(items.get(k('docs'))!) as { extra: string }).extra, 'kept');
      assert.equal(items.get(k('wiki')), wikiBefore);
      const undo = await snapshotStoreFor(e).read(out.undoSnapshotId!);
      assert.deepEqual(Object.keys(JSON.parse(undo!.raw!)), [k('lab')], 'the one item there before the restore');
      const ours = (await snapshotStoreFor(e).list({ client: 'codex' })).snapshots.filter((s) => s.reason === 'before-restore');
      assert.equal(ours.length, 1, 'one snapshot for the restore, not one per item');
    });
  });

  describe('CLI restore --lost', () => {
    it('without --yes prints the plan by name and fingerprints and exits 1; with --yes writes, prints the undo command and the checks: 0 when all restored are alive', async () => {
      await writeClaude(blob(['a', 'b', 'c']));
      await observe();
      await writeClaude(blob(['c']));
      // Claude Code stamped a and c after a 401: a's stamp goes with the restore, c's (not restored) stays.
      const cache = path.join(home, '.claude', 'mcp-needs-auth-cache.json');
      await fs.writeFile(cache, JSON.stringify({ a: { timestamp: Date.now() }, c: { timestamp: Date.now() } }));
      live.add(tokens.get('a')!.at).add(tokens.get('b')!.at);
      const plan = await cli(['restore', '--lost', '--client', 'claude-code']);
      assert.equal(plan.code, 1, plan.out + plan.err);
      assert.match(plan.out, /restore +a +a\|0123456789abcdef/);
      assert.ok(plan.out.includes(fingerprint(tokens.get('b')!.at)));
      assert.match(plan.out, /Nothing written/);
      assert.equal((await readClaude()).mcpOAuth[key('a')], undefined);

      const done = await cli(['restore', '--lost', '--yes']);
      assert.equal(done.code, 0, done.out + done.err);
      const undo = /Undo: mcp-auth-doctor restore (\S+) --yes/.exec(done.out)?.[1];
      assert.ok(undo, done.out);
      assert.match(done.out, /live: the server accepted the access token/);
      assert.deepEqual(Object.keys(JSON.parse(await fs.readFile(cache, 'utf8'))), ['c']);
      assert.deepEqual(Object.keys((await readClaude()).mcpOAuth).sort(), [key('a'), key('b'), key('c')]);
      for (const t of tokens.values()) assert.ok(!done.out.includes(t.at) && !done.out.includes(t.rt), 'no token printed');

      const back = await cli(['restore', undo!, '--yes', '--no-verify']);
      assert.equal(back.code, 0, back.out + back.err);
      assert.deepEqual(Object.keys((await readClaude()).mcpOAuth), [key('c')]);
    });

    it('exits 1 when a restored token is dead, and names it', async () => {
      await writeClaude(blob(['a', 'b', 'c']));
      await observe();
      await writeClaude(blob(['c']));
      live.add(tokens.get('a')!.at);
      const done = await cli(['restore', '--lost', '--yes']);
      assert.equal(done.code, 1, done.out);
      assert.match(done.out, new RegExp(`${key('b').replace('|', '\\|')} ${fingerprint(tokens.get('b')!.at)}: dead`));
      assert.match(done.out, /1 restored entry is dead/);
    });
  });

  async function cli(args: string[]) {
    let out = '';
    let err = '';
    const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: { HOME: home, PATH: process.env.PATH, CODEX_HOME: path.join(home, '.codex') }, cwd: home };
    const code = await runCli(args, io);
    return { code, out, err };
  }
});
