// The journal on a real `mcp logout <name>` of one server (issue 13: a user's own logout is no
// loss, no alarm). Two servers logged in for real at the loopback lab by each client itself; the
// journal records the store; the real client's own logout of one of them (Claude Code 2.1.332
// `claude mcp logout`, Codex 0.171.0 `codex mcp logout` on its file store) is then journaled as a
// `deliberate-removal` of exactly that entry, no finding with an alarm, the other entry's bytes
// as they were and still usable by the client. Then a writer blanks the other entry's tokens (the
// #84274 / #93537 shape): that IS a loss (tokens-blanked), so the rule under test can fail.
// Seen on both pin pairs (2.1.332 / 0.171.0 and 2.1.197 / 0.169.0): each client rewrites its store
// compact, with only that property gone; Claude Code also revokes the removed tokens at the AS.
//
// The process table is not consulted (an empty one is injected): the logout has exited when the
// journal looks, as it has for a watcher that fires after the write, so the removal is told by
// the one-entry rule alone (losses.ts), and other clients running on this machine change nothing.
// Run: npx mocha --no-config --import=tsx --timeout 300000 test/interop/journalLogout.test.ts
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { scanConfigs } from '../../src/core/config/scan';
import { claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import { codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import type { Environment } from '../../src/core/environment';
import type { ClientId } from '../../src/core/model';
import { Journal, type ObservedState } from '../../src/core/journal/journal';
import { journalSources } from '../../src/core/journal/sources';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import { describeRun, runBounded } from '../support/boundedProcess';
import { CLAUDE_BIN, CODEX_BIN, claudeLogin, claudeMcpAdd, claudeMcpList, codexAppServerStatus, codexLogin, makeSandboxHome, sandboxEnv } from '../support/realClients';

type Json = Record<string, unknown>;

/** The text of the JSON value at `at` in `text` (undefined when there is none). */
function textAt(text: string, at: string[]): string | undefined {
  const node = findNodeAtLocation(parseTree(text)!, at);
  return node ? text.slice(node.offset, node.offset + node.length) : undefined;
}

/** Equality of secret-bearing text without printing it: a mismatch shows fingerprints. */
function assertSameText(actual: string | undefined, expected: string | undefined, what: string): void {
  assert.ok(actual === expected, `${what} changed: ${actual === undefined ? 'missing' : fingerprint(actual)} != ${expected === undefined ? 'missing' : fingerprint(expected)}`);
}

/**
 * `before` with the property at `at` removed, printed as the client prints its store (compact or
 * two-space JSON, whichever `after` is): equal to `after` when that removal is the only change.
 */
function withoutProperty(before: string, at: string[], after: string): string {
  const data = JSON.parse(before) as Json;
  let parent: Json = data;
  for (const k of at.slice(0, -1)) parent = parent[k] as Json;
  delete parent[at[at.length - 1]!];
  const indent = /^\{\n( +)"/.exec(after)?.[1]?.length ?? 0;
  const trailing = after.endsWith('\n') ? '\n' : '';
  return JSON.stringify(data, null, indent) + trailing;
}

/** Every token in a store's text, to check that no output of ours holds one. */
function tokensIn(text: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === 'string' && x.length >= 8 && /token|secret/i.test(k)) out.push(x);
        else walk(x);
      }
    }
  };
  walk(JSON.parse(text));
  return out;
}

function assertNoToken(observed: ObservedState[], secrets: Set<string>): void {
  const shown = JSON.stringify(observed.map((s) => ({ classification: s.classification, losses: s.losses, findings: s.findings, writer: s.snapshot?.writer })));
  for (const t of secrets) assert.ok(!shown.includes(t), `a token (${fingerprint(t)}) appears in the journal's findings`);
}

/** The journal in the sandbox, reading one client's store; no process table (see the header). */
async function observeOnce(journal: Journal, e: Environment, client: ClientId): Promise<ObservedState> {
  const [source] = journalSources(e, { readSecureStores: false, clients: [client] });
  const observed = await journal.observe(source!);
  assert.equal(observed.states.length, 1, `the journal read ${observed.states.length} locations of ${client}`);
  return observed.states[0]!;
}

function journalIn(home: string): Journal {
  return new Journal(path.join(home, 'journal'), { writer: { listClients: async () => ({ processes: [], known: true }) } });
}

/** What a user's own logout must look like in the journal: one entry removed on purpose, nothing alarming. */
function assertDeliberateRemovalOf(state: ObservedState, key: string, what: string): void {
  assert.ok(state.recorded, `${what} left the store as it was: nothing to journal`);
  const c = state.classification;
  assert.equal(c.verdict, 'deliberate-removal', `${what}: ${JSON.stringify({ verdict: c.verdict, losses: c.losses.map((l) => [l.kind, l.entries.map((x) => x.key)]) })}`);
  assert.equal(c.removed?.key, key, `${what} removed ${c.removed?.key}`);
  assert.equal(c.removed?.by, 'one-entry-rule');
  assert.deepEqual(c.added, []);
  assert.deepEqual(c.changed, [], `${what} changed other entries' tokens: ${c.changed.join(', ')}`);
  assert.deepEqual(state.losses, []);
  assert.deepEqual(state.findings.filter((f) => f.severity !== 'info'), [], 'a finding with an alarm');
}

/** What a clobber of one entry's tokens must look like: a loss of exactly that entry, with an alarm. */
function assertTokensBlanked(state: ObservedState, key: string): void {
  assert.ok(state.recorded, 'the clobber was not journaled');
  assert.equal(state.classification.verdict, 'loss');
  assert.deepEqual(
    state.losses.map((l) => ({ kind: l.kind, alarm: l.alarm, keys: l.entries.map((x) => x.key) })),
    [{ kind: 'tokens-blanked', alarm: true, keys: [key] }],
  );
  assert.equal(state.findings.length, 1);
  assert.equal(state.findings[0]!.severity, 'warning');
  assert.match(state.findings[0]!.title, /lost the tokens of 1 MCP login at \d\d:\d\d \(writer unknown\)/);
}

(existsSync(CLAUDE_BIN) && process.platform !== 'darwin' ? describe : describe.skip)('journal: a real claude mcp logout of one server', function () {
  this.timeout(180_000);
  let lab: Lab;
  let home: string;
  let project: string;
  let e: Environment;
  let file: string;

  before(async () => {
    lab = await startLab();
    home = await makeSandboxHome('mad-journal-logout-claude-');
    project = path.join(home, 'work', 'proj');
    await fs.mkdir(project, { recursive: true });
    e = { home, env: sandboxEnv(home), platform: process.platform, projectDirs: [project], managedMcpPath: path.join(home, 'no-managed-mcp.json') };
    file = claudeCredentialsFile(e);
    // Two servers at the lab, told apart by a header (part of Claude Code's key), both logged in by claude.
    await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'http', 'lab', lab.mcpUrl], { timeoutMs: 15_000 });
    await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'http', 'other', lab.mcpUrl, '--header', 'X-Lab-Team: other'], { timeoutMs: 15_000 });
    await claudeLogin(home, project, 'lab', lab, { timeoutMs: 20_000 });
    await claudeLogin(home, project, 'other', lab, { timeoutMs: 20_000 });
  });
  after(async () => {
    await lab?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('is a deliberate removal of that entry, no alarm, the other entry untouched; a clobber of the other is a loss', async () => {
    const scan = await scanConfigs(e, ['claude-code']);
    const keyOf = (name: string) => {
      const k = scan.servers.find((s) => s.name === name)?.storageKey;
      assert.ok(k, `no storage key for ${name}`);
      return k;
    };
    const [labKey, otherKey] = [keyOf('lab'), keyOf('other')];
    const journal = journalIn(home);
    const before = await fs.readFile(file, 'utf8');
    const modeBefore = (await fs.stat(file)).mode & 0o777;
    const secrets = new Set(tokensIn(before));
    assert.deepEqual(Object.keys((JSON.parse(before) as { mcpOAuth: Json }).mcpOAuth).sort(), [labKey, otherKey].sort(), 'claude stored both grants');

    const first = await observeOnce(journal, e, 'claude-code');
    assert.ok(first.recorded);
    assert.deepEqual(first.classification.added.sort(), [labKey, otherKey].sort());

    const revocationsBefore = revocations(lab);
    const out = await runBounded(CLAUDE_BIN, ['mcp', 'logout', 'lab'], { cwd: project, env: sandboxEnv(home), timeoutMs: 30_000 });
    assert.ok(out.code === 0 && !out.timedOut, describeRun('claude mcp logout lab', out));
    const after = await fs.readFile(file, 'utf8');
    if (process.env.MAD_DEBUG) console.log(describeStoreChange(before, after, ['mcpOAuth', labKey]));

    // What claude did, byte for byte: that property gone, the rest of the file as it was, its mode kept.
    assert.equal(textAt(after, ['mcpOAuth', labKey]), undefined, 'claude kept the logged-out entry');
    assertSameText(textAt(after, ['mcpOAuth', otherKey]), textAt(before, ['mcpOAuth', otherKey]), 'the other entry');
    assertSameText(after, withoutProperty(before, ['mcpOAuth', labKey], after), 'the store beyond the removed entry');
    assert.equal((await fs.stat(file)).mode & 0o777, modeBefore);
    // Claude 2.1.332 also revokes the removed grant at its AS (RFC 7009, access and refresh token):
    // what the journal keeps of a logged-out entry is dead, one more reason not to offer it back.
    assert.equal(revocations(lab) - revocationsBefore, 2, 'claude mcp logout revoked the access and refresh token');
    const removed = (JSON.parse(before) as { mcpOAuth: Record<string, { clientId: string; refreshToken: string }> }).mcpOAuth[labKey]!;
    assert.equal((await lab.refresh(removed.clientId, removed.refreshToken)).error, 'invalid_grant');

    const logout = await observeOnce(journal, e, 'claude-code');
    assertDeliberateRemovalOf(logout, labKey, 'claude mcp logout lab');
    assertNoToken([first, logout], secrets);

    // As a user would check: claude still connects with the other grant, and asks to log in to lab.
    const { servers } = await claudeMcpList(home, project, { timeoutMs: 30_000 });
    assert.deepEqual(Object.fromEntries(servers.map((s) => [s.name, s.status])), { lab: 'needs-auth', other: 'connected' });
    const listed = await observeOnce(journal, e, 'claude-code');
    assert.ok(listed.losses.every((l) => !l.alarm), `claude mcp list made a loss: ${listed.losses.map((l) => l.kind).join(', ')}`);

    // A writer blanking the other entry's tokens (entry kept): a loss, with an alarm.
    const blob = JSON.parse(await fs.readFile(file, 'utf8')) as { mcpOAuth: Record<string, Json> };
    blob.mcpOAuth[otherKey] = { ...blob.mcpOAuth[otherKey], accessToken: '', refreshToken: '', expiresAt: 0 };
    await fs.writeFile(file, JSON.stringify(blob));
    const clobber = await observeOnce(journal, e, 'claude-code');
    assertTokensBlanked(clobber, otherKey);
    assertNoToken([clobber], secrets);
  });
});

describe('journal: a real codex mcp logout of one server (file store)', function () {
  this.timeout(180_000);
  let lab: Lab;
  let home: string;
  let e: Environment;
  let file: string;
  const labKey = () => codexKey('lab', lab.mcpUrl);
  const otherKey = () => codexKey('other', lab.mcpUrl);

  before(async () => {
    lab = await startLab();
    home = await makeSandboxHome('mad-journal-logout-codex-');
    await fs.mkdir(path.join(home, '.codex'), { recursive: true });
    // The file store (not the keyring): two servers at the lab, their keys told apart by name.
    await fs.writeFile(
      path.join(home, '.codex', 'config.toml'),
      `mcp_oauth_credentials_store = "file"\n\n[mcp_servers.lab]\nurl = "${lab.mcpUrl}"\n\n[mcp_servers.other]\nurl = "${lab.mcpUrl}"\n`,
    );
    e = { home, env: sandboxEnv(home), platform: process.platform, projectDirs: [] };
    file = codexCredentialsFile(e);
    await codexLogin(home, 'lab', lab);
    await codexLogin(home, 'other', lab);
  });
  after(async () => {
    await lab?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('is a deliberate removal of that entry, no alarm, the other entry untouched; a clobber of the other is a loss', async () => {
    const journal = journalIn(home);
    const before = await fs.readFile(file, 'utf8');
    const modeBefore = (await fs.stat(file)).mode & 0o777;
    const secrets = new Set(tokensIn(before));
    assert.deepEqual(Object.keys(JSON.parse(before) as Json).sort(), [labKey(), otherKey()].sort(), 'codex stored both grants in its file');

    const first = await observeOnce(journal, e, 'codex');
    assert.equal(first.location, file);
    assert.deepEqual(first.classification.added.sort(), [labKey(), otherKey()].sort());

    const revocationsBefore = revocations(lab);
    // As realClients.ts runs codex: no update check, no analytics; the store from config.toml.
    const out = await runBounded(CODEX_BIN, ['-c', 'check_for_update_on_startup=false', '-c', 'analytics.enabled=false', 'mcp', 'logout', 'lab'], {
      cwd: home,
      env: sandboxEnv(home),
      timeoutMs: 30_000,
    });
    assert.ok(out.code === 0 && !out.timedOut, describeRun('codex mcp logout lab', out));
    const after = await fs.readFile(file, 'utf8');
    if (process.env.MAD_DEBUG) console.log(describeStoreChange(before, after, [labKey()]));

    assert.equal(textAt(after, [labKey()]), undefined, 'codex kept the logged-out entry');
    assertSameText(textAt(after, [otherKey()]), textAt(before, [otherKey()]), 'the other entry');
    assertSameText(after, withoutProperty(before, [labKey()], after), 'the store beyond the removed entry');
    assert.equal((await fs.stat(file)).mode & 0o777, modeBefore);
    // Codex 0.171.0 only deletes the entry: nothing is sent to the AS, the removed grant stays live there.
    assert.equal(revocations(lab) - revocationsBefore, 0, 'codex mcp logout sent a revocation');
    const removed = (JSON.parse(before) as Record<string, { client_id: string; refresh_token: string }>)[labKey()]!;
    const stillLive = await lab.refresh(removed.client_id, removed.refresh_token);
    assert.ok(stillLive.tokens, `the removed refresh token was refused: ${stillLive.error}`);
    secrets.add(stillLive.tokens.access_token);
    if (stillLive.tokens.refresh_token) secrets.add(stillLive.tokens.refresh_token);

    const logout = await observeOnce(journal, e, 'codex');
    assertDeliberateRemovalOf(logout, labKey(), 'codex mcp logout lab');
    assertNoToken([first, logout], secrets);

    // As a user would check: Codex still connects with the other grant; lab is logged out.
    const status = Object.fromEntries((await codexAppServerStatus(home)).map((s) => [s.name, s]));
    assert.deepEqual(status.other?.tools, ['echo', 'whoami'], `Codex did not connect to other: ${status.other?.toolsError}`);
    assert.notEqual(status.lab?.authStatus, 'oAuth', 'Codex still holds a login for lab');
    const listed = await observeOnce(journal, e, 'codex');
    assert.ok(listed.losses.every((l) => !l.alarm), `codex app-server made a loss: ${listed.losses.map((l) => l.kind).join(', ')}`);

    // A writer blanking the other entry's tokens (entry kept): a loss, with an alarm.
    const all = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, Json>;
    all[otherKey()] = { ...all[otherKey()], access_token: '', refresh_token: null };
    await fs.writeFile(file, JSON.stringify(all));
    const clobber = await observeOnce(journal, e, 'codex');
    assertTokensBlanked(clobber, otherKey());
    assertNoToken([clobber], secrets);
  });
});

/** Revocation requests the lab's AS has answered so far. */
function revocations(lab: Lab): number {
  return lab.requestsSeen().authorizationServer['/token/revocation'] ?? 0;
}

/** For MAD_DEBUG: what changed between two texts of a store, by length and property, no values. */
function describeStoreChange(before: string, after: string, removed: string[]): string {
  const same = after === withoutProperty(before, removed, after);
  return `store ${before.length} → ${after.length} bytes; removed property ${removed.join('.')} (${textAt(before, removed)?.length ?? 0} bytes); rest identical: ${same}; compact: ${!after.startsWith('{\n')}`;
}
