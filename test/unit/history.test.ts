// The history of one server's entry over snapshot sequences: timeline, changes, and the two
// diagnoses (a rotation never persisted; registrations piling up), fingerprints only.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { codexKey } from '../../src/core/credentials/codexFormat';
import { serverHistory } from '../../src/core/journal/history';
import { fingerprint, storageKey } from '../../src/core/storageKey';

const URL_ = 'https://mcp.linear.example/mcp';
const KEY = storageKey('linear', 'http', URL_);
const HOUR = 3600_000;
const T0 = Date.parse('2026-05-14T11:47:26Z');

const secret = (what: string) => `${what}-${randomBytes(12).toString('hex')}`;

interface Grant {
  clientId: string;
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
  scope?: string;
}

/** A Claude Code blob (file or Keychain) holding `linear` with these fields, plus an unrelated entry. */
function claudeBlob(g: Grant | undefined): string {
  const mcpOAuth: Record<string, unknown> = { 'other|0000000000000000': { serverName: 'other', serverUrl: 'https://o.example/mcp', accessToken: 'other-token', expiresAt: 1 } };
  if (g) mcpOAuth[KEY] = { serverName: 'linear', serverUrl: URL_, clientId: g.clientId, clientSecret: 'client-secret-value', accessToken: g.accessToken, refreshToken: g.refreshToken, expiresAt: g.expiresAt ?? 0, scope: g.scope ?? 'read' };
  return JSON.stringify({ claudeAiOauth: { accessToken: 'account-token' }, mcpOAuth });
}

describe('server history over snapshots', () => {
  let dir: string;
  let clock: number;
  let snaps: SnapshotStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-history-'));
    clock = T0;
    snaps = new SnapshotStore(path.join(dir, 'backups'), 1000, () => clock);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function claudeState(at: number, g: Grant | undefined, reason = 'observed', raw?: string | null) {
    clock = at;
    await snaps.save({ client: 'claude-code', storeKind: 'file', location: '/home/u/.claude/.credentials.json', reason, raw: raw !== undefined ? raw : claudeBlob(g), entries: [], topLevelKeys: [] });
  }
  const history = (options = {}) => serverHistory(snaps, { client: 'claude-code', key: KEY }, options);

  it('a rotating server, then a refresh whose new refresh token was not stored: flagged, with what it rests on', async () => {
    const [a1, a2, a3] = [secret('at'), secret('at'), secret('at')];
    const [r1, r2] = [secret('rt'), secret('rt')];
    await claudeState(T0, { clientId: 'c1', accessToken: a1, refreshToken: r1, expiresAt: T0 + HOUR });
    await claudeState(T0 + 60_000, { clientId: 'c1', accessToken: a1, refreshToken: r1, expiresAt: T0 + HOUR }, 'before-write');
    await claudeState(T0 + HOUR, { clientId: 'c1', accessToken: a2, refreshToken: r2, expiresAt: T0 + 2 * HOUR });
    await claudeState(T0 + 2 * HOUR, { clientId: 'c1', accessToken: a3, refreshToken: r2, expiresAt: T0 + 3 * HOUR });
    const h = await history();
    assert.equal(h.timelines.length, 1);
    const t = h.timelines[0]!;
    assert.equal(t.states.length, 3, 'the same state seen twice is one state');
    assert.equal(t.states[0]!.seen, 2);
    assert.deepEqual(t.transitions.map((x) => x.changes), [['access-token-renewed', 'refresh-token-rotated'], ['access-token-renewed', 'refresh-token-kept']]);
    assert.equal(t.states[2]!.refreshToken, fingerprint(r2));
    const d = h.diagnoses.filter((x) => x.kind === 'rotation-not-persisted');
    assert.equal(d.length, 1);
    assert.match(d[0]!.basis[0]!, new RegExp(`refresh token stayed ${fingerprint(r2)}`));
    assert.match(d[0]!.basis[1]!, /so it rotates refresh tokens/);
    assert.ok(d[0]!.basis[1]!.includes(`${fingerprint(r1)} → ${fingerprint(r2)}`));
    assert.equal(h.serverName, 'linear');
  });

  it('a kept refresh token without any sign that the server rotates is not flagged; an outside fact (invalid_grant) makes it one', async () => {
    const r1 = secret('rt');
    await claudeState(T0, { clientId: 'c1', accessToken: secret('at'), refreshToken: r1 });
    await claudeState(T0 + HOUR, { clientId: 'c1', accessToken: secret('at'), refreshToken: r1 });
    await claudeState(T0 + 2 * HOUR, { clientId: 'c1', accessToken: secret('at'), refreshToken: r1 });
    assert.deepEqual((await history()).diagnoses, []);
    const fact = { at: new Date(T0 + 3 * HOUR).toISOString(), fact: `a refresh with ${fingerprint(r1)} was answered invalid_grant` };
    const h = await history({ rotationEvidence: [fact] });
    assert.equal(h.diagnoses.length, 2, 'both kept refreshes');
    assert.ok(h.diagnoses.every((d) => d.basis.includes(`${fact.at}: ${fact.fact}`)));
  });

  it('a rotation of another client id is no evidence for this one', async () => {
    await claudeState(T0, { clientId: 'c1', accessToken: secret('at'), refreshToken: secret('rt') });
    await claudeState(T0 + HOUR, { clientId: 'c1', accessToken: secret('at'), refreshToken: secret('rt') });
    const r = secret('rt');
    await claudeState(T0 + 2 * HOUR, { clientId: 'c2', accessToken: secret('at'), refreshToken: r });
    await claudeState(T0 + 3 * HOUR, { clientId: 'c2', accessToken: secret('at'), refreshToken: r });
    const h = await history();
    assert.deepEqual(h.timelines[0]!.transitions[1]!.changes, ['client-replaced', 'access-token-renewed', 'refresh-token-rotated']);
    assert.deepEqual(h.diagnoses.filter((d) => d.kind === 'rotation-not-persisted'), []);
  });

  it('a refresh token written back after it had been rotated away is flagged on its own', async () => {
    const [r1, r2] = [secret('rt'), secret('rt')];
    const a2 = secret('at');
    await claudeState(T0, { clientId: 'c1', accessToken: secret('at'), refreshToken: r1 });
    await claudeState(T0 + HOUR, { clientId: 'c1', accessToken: a2, refreshToken: r2 });
    await claudeState(T0 + HOUR + 5000, { clientId: 'c1', accessToken: a2, refreshToken: r1 });
    const h = await history();
    assert.deepEqual(h.timelines[0]!.transitions[1]!.changes, ['refresh-token-reverted']);
    const d = h.diagnoses.find((x) => /overwritten with an older one/.test(x.title));
    assert.ok(d);
    assert.equal(d.basis.length, 3);
  });

  it('removal, blanking, scope change and an unreadable store in between', async () => {
    const a = secret('at');
    await claudeState(T0, { clientId: 'c1', accessToken: a, refreshToken: secret('rt'), scope: 'read' });
    await claudeState(T0 + 1000, { clientId: 'c1', accessToken: a, refreshToken: secret('rt'), scope: 'read write' });
    await claudeState(T0 + 2000, undefined, 'observed', '{ not json');
    await claudeState(T0 + 3000, { clientId: 'c1', accessToken: '', scope: 'read write' });
    await claudeState(T0 + 4000, undefined);
    const t = (await history()).timelines[0]!;
    assert.deepEqual(t.states.map((s) => s.entry), ['present', 'present', 'unreadable', 'present', 'absent']);
    assert.deepEqual(t.transitions.map((x) => x.changes), [
      ['refresh-token-rotated', 'scope-changed'],
      ['access-token-blanked', 'refresh-token-dropped'],
      ['removed'],
    ]);
    assert.equal(t.transitions[1]!.from, 1, 'the unreadable state is stepped over');
  });

  it('five client registrations within 48 h are a pile (seed 004); spread over ten days they are not', async () => {
    for (let i = 0; i < 5; i++) await claudeState(T0 + i * 11 * HOUR, { clientId: `mcp_client_${i}`, accessToken: secret('at'), refreshToken: secret('rt') });
    const h = await history();
    assert.equal(h.registrations.length, 5);
    const pile = h.diagnoses.find((d) => d.kind === 'registrations-piling-up');
    assert.equal(pile?.title, '5 new client registrations for linear in 44 h');
    assert.equal(pile?.basis.length, 5);

    fs.rmSync(path.join(dir, 'backups'), { recursive: true });
    for (let i = 0; i < 5; i++) await claudeState(T0 + i * 50 * HOUR, { clientId: `mcp_client_${i}`, accessToken: secret('at'), refreshToken: secret('rt') });
    assert.deepEqual((await history()).diagnoses.filter((d) => d.kind === 'registrations-piling-up'), []);
  });

  it("Codex: a keyring snapshot of one other item says nothing about this entry; the file is read as Codex reads it", async () => {
    const key = codexKey('linear', URL_);
    const item = (clientId: string, at: string, rt: string) => JSON.stringify({ server_name: 'linear', url: URL_, client_id: clientId, token_response: { access_token: at, token_type: 'Bearer', refresh_token: rt, scope: 'read' }, expires_at: T0 + HOUR });
    const save = async (at: number, items: Record<string, string>) => {
      clock = at;
      await snaps.save({ client: 'codex', storeKind: 'keyring', location: 'Secret Service', reason: 'before-write', raw: JSON.stringify(items), entries: [], topLevelKeys: [] });
    };
    await save(T0, { [key]: item('c1', secret('at'), secret('rt')) });
    await save(T0 + 1000, { 'other|1111111111111111': item('c9', secret('at'), secret('rt')) });
    await save(T0 + 2000, { [key]: item('c2', secret('at'), secret('rt')) });
    clock = T0 + 3000;
    await snaps.save({ client: 'codex', storeKind: 'file', location: '/home/u/.codex/.credentials.json', reason: 'manual', raw: JSON.stringify({ [key]: { server_name: 'linear', server_url: URL_, client_id: 'c3', access_token: secret('at'), scopes: ['read'] } }), entries: [], topLevelKeys: [] });
    const h = await serverHistory(snaps, { client: 'codex', key });
    assert.deepEqual(h.timelines.map((t) => [t.storeKind, t.states.length, t.partialSnapshots]), [['keyring', 2, true], ['file', 1, false]]);
    assert.deepEqual(h.timelines[0]!.transitions[0]!.changes, ['client-replaced', 'access-token-renewed', 'refresh-token-rotated']);
    assert.deepEqual(h.registrations.map((r) => r.clientId), ['c1', 'c2', 'c3']);
  });

  it('the CLI prints the timeline and diagnoses by fingerprint; no token or secret in text or JSON', async () => {
    const home = path.join(dir, 'home');
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: { linear: { type: 'http', url: URL_ } } }));
    snaps = new SnapshotStore(path.join(home, '.mcp-auth-doctor', 'backups'), 1000, () => clock);
    const secrets: string[] = [];
    const s = (w: string) => {
      const v = secret(w);
      secrets.push(v);
      return v;
    };
    const r2 = s('rt');
    await claudeState(T0, { clientId: 'c1', accessToken: s('at'), refreshToken: s('rt') });
    await claudeState(T0 + HOUR, { clientId: 'c1', accessToken: s('at'), refreshToken: r2 });
    await claudeState(T0 + 2 * HOUR, { clientId: 'c1', accessToken: s('at'), refreshToken: r2 });
    for (let i = 2; i <= 4; i++) await claudeState(T0 + (2 + i) * HOUR, { clientId: `c${i}`, accessToken: s('at'), refreshToken: s('rt') });
    secrets.push('client-secret-value', 'account-token', 'other-token');

    const run = async (args: string[]) => {
      let stdout = '';
      let stderr = '';
      const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { HOME: home }, cwd: home };
      return { code: await runCli(args, io), stdout, stderr };
    };
    const text = await run(['history', 'linear']);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /A refresh-token rotation was not persisted/);
    assert.match(text.stdout, /4 new client registrations for linear in 6 h/);
    assert.match(text.stdout, /Rests on:/);
    const json = await run(['history', '--json', '--client', 'claude-code']);
    assert.equal(json.code, 1);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.servers[0].key, KEY);
    assert.deepEqual(doc.servers[0].diagnoses.map((d: { kind: string }) => d.kind).sort(), ['registrations-piling-up', 'rotation-not-persisted']);
    assert.equal(doc.servers[0].timelines[0].states[0].refreshToken, fingerprint(secrets[2]!));
    for (const v of secrets) {
      assert.ok(!text.stdout.includes(v) && !json.stdout.includes(v), `a secret (${fingerprint(v)}) appears in the output`);
    }
    assert.equal((await run(['history', 'nope'])).code, 2);
  });
});
