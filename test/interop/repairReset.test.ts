// The reset repair against the real clients (Claude Code 2.1.197, Codex 0.169.0) in sandbox
// HOMEs, with two servers logged in by the clients themselves: the reset server's entry goes
// (after a snapshot that Undo restores), the client then says it needs authentication, and every
// other entry, the user's own Claude login and unknown top-level keys stay exactly as they were.
// Run: npx mocha --no-config --node-option import=tsx --timeout 180000 test/interop/repairReset.test.ts
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { runCli } from '../../src/cli/main';
import { scanConfigs } from '../../src/core/config/scan';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { claudeCodeStore, claudeCredentialsFile, claudeNeedsAuthCacheFile, type ClaudeCodeStore } from '../../src/core/credentials/claudeCodeStore';
import { CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import type { CredentialStore } from '../../src/core/credentials/store';
import type { Environment } from '../../src/core/environment';
import type { ClientId } from '../../src/core/model';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/core/probe/http';
import { planReset, reset, type ResetContext } from '../../src/core/repair/reset';
import type { RepairTarget } from '../../src/core/repair/types';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import { CLAUDE_BIN, CODEX_BIN, claudeLogin, claudeMcpAdd, claudeMcpList, codexAppServerStatus, codexLogin, makeSandboxHome, sandboxEnv } from '../support/realClients';

const ctx: ResetContext = {
  http: { fetch: () => Promise.reject(new Error('a reset sends nothing')), timeoutMs: 1000, maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
  runningClients: async () => ({ processes: [], known: true }),
};

/** Minted per run: never a committed token-like string. */
function minted(label: string): string {
  return `${label}-${randomBytes(16).toString('hex')}`;
}

/** The exact text of the JSON value at `at`, or undefined. */
function textAt(text: string, at: string[]): string | undefined {
  const node = findNodeAtLocation(parseTree(text)!, at);
  return node ? text.slice(node.offset, node.offset + node.length) : undefined;
}

function assertSameText(actual: string | undefined, expected: string | undefined, what: string): void {
  assert.ok(actual !== undefined && actual === expected, `${what} changed: ${actual === undefined ? 'missing' : fingerprint(actual)} != ${expected === undefined ? 'missing' : fingerprint(expected)}`);
}

async function targetFor(e: Environment, client: ClientId, name: string, store: CredentialStore): Promise<RepairTarget> {
  const server = (await scanConfigs(e, [client])).servers.find((s) => s.name === name);
  assert.ok(server?.storageKey, `no ${client} server ${name}`);
  return { server, store, key: server.storageKey };
}

function cli(home: string, cwd: string) {
  const out = { stdout: '', stderr: '' };
  const run = async (args: string[]) => {
    out.stdout = '';
    out.stderr = '';
    return runCli(args, {
      stdout: (t) => (out.stdout += t),
      stderr: (t) => (out.stderr += t),
      env: sandboxEnv(home, { MCP_AUTH_DOCTOR_BACKUP_DIR: path.join(home, 'backups') }),
      cwd,
    });
  };
  return { out, run };
}

(existsSync(CLAUDE_BIN) && process.platform !== 'darwin' ? describe : describe.skip)('reset repair: Claude Code', function () {
  this.timeout(60_000);
  let lab: Lab;
  let home: string;
  let project: string;
  let e: Environment;
  let backups: SnapshotStore;
  let store: ClaudeCodeStore;
  let file: string;
  let target: RepairTarget;
  let otherKey: string;
  let fakeLogin: Record<string, unknown>;
  const text = () => fs.readFile(file, 'utf8');
  const statusOf = async () => Object.fromEntries((await claudeMcpList(home, project, { timeoutMs: 30_000 })).servers.map((s) => [s.name, s.statusText]));

  before(async () => {
    lab = await startLab();
    home = await makeSandboxHome('mad-reset-claude-');
    project = path.join(home, 'work', 'proj');
    await fs.mkdir(project, { recursive: true });
    e = { home, env: sandboxEnv(home), platform: process.platform, projectDirs: [project], managedMcpPath: path.join(home, 'no-managed-mcp.json') };
    backups = new SnapshotStore(path.join(home, 'backups'));
    store = claudeCodeStore(e, { backups });
    file = claudeCredentialsFile(e);
    await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'http', 'lab', lab.mcpUrl], { timeoutMs: 15_000 });
    await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'http', 'other', lab.mcpUrl, '--header', 'X-Lab-Team: other'], { timeoutMs: 15_000 });
    await claudeLogin(home, project, 'lab', lab, { timeoutMs: 20_000 });
    await claudeLogin(home, project, 'other', lab, { timeoutMs: 20_000 });
    target = await targetFor(e, 'claude-code', 'lab', store);
    otherKey = (await targetFor(e, 'claude-code', 'other', store)).key;
    // The user's own Claude login (fake: the sandbox proxy refuses every non-loopback connection)
    // and a top-level key from a future Claude Code, beside the grants claude wrote.
    fakeLogin = { accessToken: minted('fake-claude-at'), refreshToken: minted('fake-claude-rt'), expiresAt: Date.now() + 3600_000, scopes: ['user:inference'], subscriptionType: 'pro' };
    const written = await text();
    await fs.writeFile(file, `{"claudeAiOauth":${JSON.stringify(fakeLogin)},${written.slice(1, -1)},"futureTopLevel":{"keep":true}}`);
    await fs.writeFile(claudeNeedsAuthCacheFile(e), JSON.stringify({ lab: { timestamp: Date.now() - 1000 }, gone: { timestamp: 1_700_000_000_000 } }));
  });

  after(async () => {
    await lab?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it("plans the one entry, names the store and key, and offers `claude mcp logout`; the CLI writes nothing without --yes", async () => {
    const secret = (await store.readSecret(target.key))!;
    const plan = await planReset(target, { ...ctx, runningClients: async () => ({ processes: [{ client: 'claude-code', pid: 777, command: 'claude' }], known: true }) });
    assert.deepEqual(plan.target, { client: 'claude-code', server: 'lab', key: target.key, store: file });
    assert.ok(plan.changes[0]?.startsWith(`entry ${target.key} removed: accessToken ${fingerprint(secret.accessToken!)}, refreshToken ${fingerprint(secret.refreshToken!)}`), plan.changes[0]);
    assert.deepEqual(plan.handOff, { command: 'claude', args: ['mcp', 'logout', 'lab'] });
    assert.match(plan.warnings.join('\n'), /pid 777/);
    assert.ok(!JSON.stringify(plan).includes(secret.accessToken!) && !JSON.stringify(plan).includes(secret.refreshToken!), 'no secret in the plan');

    const before = await text();
    const { out, run } = cli(home, project);
    assert.equal(await run(['reset', 'lab', '--client', 'claude-code']), 1);
    assert.match(out.stdout, /The client's own command: claude mcp logout lab/);
    assert.match(out.stdout, /Nothing written\. Run again with --yes to reset/);
    assert.equal(await text(), before);
  });

  it('removes only that entry and its needs-auth stamp; claude then needs authentication for it and connects to the other', async () => {
    const before = await text();
    const outcome = await reset(target, ctx);
    assert.ok(outcome.ok, JSON.stringify(outcome));
    const after = await text();
    const [b, a] = [JSON.parse(before), JSON.parse(after)];
    assert.equal(a.mcpOAuth[target.key], undefined, 'the entry is gone');
    assert.deepEqual(Object.keys(a), Object.keys(b), 'the same top-level keys');
    assert.deepEqual(Object.keys(a.mcpOAuth), Object.keys(b.mcpOAuth).filter((k) => k !== target.key));
    for (const at of [['claudeAiOauth'], ['mcpOAuth', otherKey], ['futureTopLevel']]) {
      assert.deepEqual(JSON.parse(textAt(after, at) ?? 'null'), JSON.parse(textAt(before, at) ?? 'null'), at.join('.'));
      assertSameText(textAt(after, at), textAt(before, at), at.join('.'));
    }
    assert.deepEqual(a.claudeAiOauth, fakeLogin);
    // Undo holds the store as it was.
    assert.equal((await backups.read(outcome.undoSnapshotId!))?.raw, before);
    assert.deepEqual(Object.keys(JSON.parse(await fs.readFile(claudeNeedsAuthCacheFile(e), 'utf8'))), ['gone']);

    const status = await statusOf();
    assert.equal(status.lab, '! Needs authentication');
    assert.equal(status.other, '✔ Connected');
    assert.deepEqual(JSON.parse(await text()).claudeAiOauth, fakeLogin, 'listing did not cost the user their Claude login');
  });

  it('Undo restores the entry and claude connects again; a second reset finds nothing and writes nothing', async () => {
    const snapshots = (await backups.list()).snapshots;
    const undo = snapshots.find((s) => s.reason === 'before-delete')!;
    await store.restore((await backups.read(undo.id))!, target.key);
    assert.equal((await statusOf()).lab, '✔ Connected');

    const outcome = await reset(target, ctx);
    assert.ok(outcome.ok);
    const before = await text();
    const again = await reset(target, ctx);
    assert.ok(!again.ok);
    assert.equal(again.error, 'no-credential');
    assert.equal(await text(), before);
    assert.equal((await planReset(target, ctx)).blocked?.error, 'no-credential');
  });
});

(existsSync(CODEX_BIN) && process.platform === 'linux' ? describe : describe.skip)('reset repair: Codex (file store)', function () {
  this.timeout(90_000);
  let lab: Lab;
  let home: string;
  let e: Environment;
  let file: string;

  before(async () => {
    lab = await startLab();
    home = await makeSandboxHome('mad-reset-codex-');
    await fs.mkdir(path.join(home, '.codex'), { recursive: true });
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

  it('the CLI removes only that entry (Undo line printed); Codex then lists no tools for it and still uses the other', async () => {
    const [labKey, otherKey] = [codexKey('lab', lab.mcpUrl), codexKey('other', lab.mcpUrl)];
    const before = await fs.readFile(file, 'utf8');
    assert.deepEqual(Object.keys(JSON.parse(before)).sort(), [labKey, otherKey].sort());
    const { out, run } = cli(home, home);
    assert.equal(await run(['reset', 'lab', '--client', 'codex']), 1);
    assert.match(out.stdout, /The client's own command: codex mcp logout lab/);
    assert.ok(out.stdout.startsWith(`Reset lab for Codex (${file}, entry ${labKey}):`), out.stdout);
    assert.equal(await fs.readFile(file, 'utf8'), before);

    assert.equal(await run(['reset', 'lab', '--client', 'codex', '--yes']), 0, out.stdout + out.stderr);
    const undo = /Undo: mcp-auth-doctor restore (\S+) --entry '([^']+)' --yes/.exec(out.stdout);
    assert.ok(undo, out.stdout);
    assert.equal(undo[2], labKey);
    const after = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.deepEqual(Object.keys(after), [otherKey]);
    assert.deepEqual(after[otherKey], JSON.parse(before)[otherKey], 'the other entry is as it was');
    assert.equal((await new SnapshotStore(path.join(home, 'backups')).read(undo[1]!))?.raw, before);

    const status = await codexAppServerStatus(home);
    const labStatus = status.find((s) => s.name === 'lab');
    const otherStatus = status.find((s) => s.name === 'other');
    assert.equal(labStatus?.authStatus, 'notLoggedIn', JSON.stringify(labStatus?.raw));
    assert.deepEqual(labStatus?.tools, []);
    assert.equal(otherStatus?.authStatus, 'oAuth');
    assert.deepEqual(otherStatus?.tools, ['echo', 'whoami']);
    // And our own reading agrees.
    assert.deepEqual((await new CodexStore(e).list()).entries.map((s) => s.key), [otherKey]);
  });
});
