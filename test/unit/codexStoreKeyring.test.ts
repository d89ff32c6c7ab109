// Codex's keyring items against a private, real Secret Service (gnome-keyring on its own D-Bus):
// what we write is what secret-tool (libsecret) finds under Codex's attributes, what keyring-rs
// (Codex) would have written we read back, and an unreachable or wedged keyring ends in a finding
// within the timeout instead of hanging.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { CODEX_KEYRING_SERVICE, childKeyringRunner, type KeyringRunner } from '../../src/core/credentials/codexKeyring';
import { secretToolKeyringRunner } from '../../src/core/credentials/codexKeyringSecretTool';
import { runCommand, type CommandRunner } from '../../src/core/credentials/runCommand';
import { CODEX_FINDING, CodexStore, codexKey } from '../../src/core/credentials/codexStore';
import type { CodexOAuthStoreMode } from '../../src/core/credentials/codexSettings';
import type { Environment } from '../../src/core/environment';
import { fingerprint } from '../../src/core/storageKey';
import { mint, sandboxEnv, tempDir } from './credentialsHelpers';
import { secretServiceUnavailable, startPrivateSecretService, type PrivateSecretService } from '../support/secretService';

const HOUR = 3600_000;
const LAB_URL = 'http://127.0.0.1:38423/mcp';
const LAB = codexKey('lab', LAB_URL);

/** Attributes keyring-rs 3.6.3 (Codex 0.169) gives a new item (seen on a real login's item). */
function keyringRsAttributes(account: string): string[] {
  return ['service', CODEX_KEYRING_SERVICE, 'username', account, 'target', 'default', 'application', 'rust-keyring'];
}

/** `secret-tool search --all`: label and secret per item on stdout, its attributes on stderr. */
function parseSearch(r: { stdout: string; stderr: string }): { attributes: Record<string, string>; secret?: string; label?: string }[] {
  const blocks = r.stdout.split(/^\[/m).filter((b) => b.trim());
  const groups: Record<string, string>[] = [];
  for (const line of r.stderr.split('\n')) {
    const attr = /^attribute\.(\w+) = (.*)$/.exec(line);
    if (!attr) continue;
    if (!groups.length || attr[1]! in groups[groups.length - 1]!) groups.push({});
    groups[groups.length - 1]![attr[1]!] = attr[2]!;
  }
  return blocks.map((block, i) => {
    const secret = /^secret = (.*)$/m.exec(block)?.[1];
    const label = /^label = (.*)$/m.exec(block)?.[1];
    return { attributes: groups[i] ?? {}, ...(secret !== undefined ? { secret } : {}), ...(label !== undefined ? { label } : {}) };
  });
}

/**
 * Two ways to the same Secret Service: the @napi-rs/keyring binding (keyring-rs, what Codex
 * itself uses; installed with the CLI from npm) and libsecret's secret-tool (Linux installs
 * without the native binding: the VSIX). Each must pass the same suite.
 */
const RUNNERS: { name: string; runner: (env: Record<string, string | undefined>, timeoutMs?: number) => KeyringRunner }[] = [
  { name: '@napi-rs/keyring', runner: (env, timeoutMs) => childKeyringRunner({ env, platform: 'linux', ...(timeoutMs ? { timeoutMs } : {}) }) },
  { name: 'secret-tool (no native binding, as in the VSIX)', runner: (env, timeoutMs) => secretToolKeyringRunner({ env, ...(timeoutMs ? { timeoutMs } : {}) }) },
];

for (const variant of RUNNERS) {
  describe(`Codex credential store: keyring items in a real Secret Service, through ${variant.name}`, function () {
    this.timeout(60_000);
    let ss: PrivateSecretService;
    let home: string;
    let e: Environment;

    before(async function () {
      const missing = secretServiceUnavailable();
      if (missing) {
        console.log(`    (skipped: ${missing})`);
        this.skip();
      }
      ss = await startPrivateSecretService();
    });
    after(async () => {
      await ss?.stop();
    });
    beforeEach(async () => {
      home = await tempDir('mad-codex-kr-');
      await fs.mkdir(path.join(home, '.codex'));
      e = sandboxEnv(home, { DBUS_SESSION_BUS_ADDRESS: ss.env.DBUS_SESSION_BUS_ADDRESS });
      ss.secretTool(['clear', 'service', CODEX_KEYRING_SERVICE]);
    });
    afterEach(async () => {
      await fs.rm(home, { recursive: true, force: true });
    });

    function store(mode: CodexOAuthStoreMode = 'keyring', env: Environment = e, keyringTimeoutMs?: number) {
      return new CodexStore(env, {
        settings: { mode, secretAuthStorage: false, servers: [{ name: 'lab', url: LAB_URL }] },
        backups: new SnapshotStore(path.join(home, 'backups')),
        keyring: variant.runner(env.env, keyringTimeoutMs),
      });
    }

    it('writes an item secret-tool finds under service and account, holding the token record Codex reads', async () => {
      const at = mint('at');
      const rt = mint('rt');
      const expiresAt = Date.now() + HOUR;
      await store('auto').write(LAB, { serverName: 'lab', serverUrl: LAB_URL, clientId: 'client-lab', issuer: 'http://127.0.0.1:38423', accessToken: at, refreshToken: rt, expiresAt, scopes: ['mcp:tools', 'offline_access'] });

      const items = parseSearch(ss.secretTool(['search', '--all', 'service', CODEX_KEYRING_SERVICE]));
      assert.equal(items.length, 1);
      assert.equal(items[0]!.attributes.service, CODEX_KEYRING_SERVICE);
      assert.equal(items[0]!.attributes.username, LAB);
      const looked = ss.secretTool(['lookup', 'service', CODEX_KEYRING_SERVICE, 'username', LAB]);
      assert.equal(looked.status, 0);
      const stored = JSON.parse(looked.stdout);
      assert.deepEqual(
        { ...stored, token_response: { ...stored.token_response, expires_in: 'n' } },
        {
          server_name: 'lab',
          url: LAB_URL,
          issuer: 'http://127.0.0.1:38423',
          client_id: 'client-lab',
          token_response: { access_token: at, token_type: 'bearer', refresh_token: rt, scope: 'mcp:tools offline_access', expires_in: 'n' },
          expires_at: expiresAt,
        },
      );
      await assert.rejects(fs.stat(path.join(home, '.codex', '.credentials.json')), { code: 'ENOENT' }, 'auto with a working keyring: nothing in the file');
    });

    it('reads an item as keyring-rs writes it, and updates it in place keeping its attributes', async () => {
      const at = mint('at');
      const value = JSON.stringify({
        server_name: 'lab',
        url: LAB_URL,
        issuer: 'http://127.0.0.1:38423',
        client_id: 'client-lab',
        token_response: { access_token: at, token_type: 'bearer', expires_in: 3599, refresh_token: mint('rt'), scope: 'mcp:tools' },
        expires_at: Date.now() + HOUR,
      });
      // The label a real `codex mcp login` (0.169.0, keyring-rs 3.6.3) gave its item here.
      const label = `${LAB}@${CODEX_KEYRING_SERVICE}:default (keyring v3.6.3)`;
      assert.equal(ss.secretTool(['store', `--label=${label}`, ...keyringRsAttributes(LAB)], value).status, 0);

      const s = store('keyring');
      const summary = await s.read(LAB);
      assert.equal(summary?.store, 'keyring');
      assert.equal(summary?.accessTokenFingerprint, fingerprint(at));
      assert.deepEqual(summary?.scopes, ['mcp:tools']);

      const fresh = mint('at');
      await s.write(LAB, { accessToken: fresh });
      const items = parseSearch(ss.secretTool(['search', '--all', 'service', CODEX_KEYRING_SERVICE]));
      assert.equal(items.length, 1, 'updated in place, no second item (which would make the lookup ambiguous for Codex)');
      assert.deepEqual(items[0]!.attributes, { service: CODEX_KEYRING_SERVICE, username: LAB, target: 'default', application: 'rust-keyring' });
      assert.equal(items[0]!.label, label);
      assert.equal(JSON.parse(ss.secretTool(['lookup', 'service', CODEX_KEYRING_SERVICE, 'username', LAB]).stdout).token_response.access_token, fresh);
      assert.equal((await s.readSecret(LAB))?.accessToken, fresh);
    });

    it('lists items the configured servers do not point at (found by service)', async () => {
      const other = codexKey('old', 'http://127.0.0.1:1/mcp');
      const value = JSON.stringify({ server_name: 'old', url: 'http://127.0.0.1:1/mcp', client_id: 'c', token_response: { access_token: mint('at'), token_type: 'bearer' }, expires_at: null });
      ss.secretTool(['store', '--label=old', ...keyringRsAttributes(other)], value);
      const listing = await store('keyring').list();
      assert.deepEqual(
        listing.entries.map((x) => x.key),
        [other],
      );
      assert.ok(listing.findings.some((f) => f.code === CODEX_FINDING.notConfigured && /"old"/.test(f.title)));
    });

    it('reports two items for one account as ambiguous', async () => {
      const value = JSON.stringify({ server_name: 'lab', url: LAB_URL, client_id: 'c', token_response: { access_token: mint('at'), token_type: 'bearer' } });
      ss.secretTool(['store', '--label=one', ...keyringRsAttributes(LAB)], value);
      ss.secretTool(['store', '--label=two', 'service', CODEX_KEYRING_SERVICE, 'username', LAB, 'extra', 'x'], value);
      const listing = await store('keyring').list();
      assert.ok(
        listing.findings.some((f) => f.code === CODEX_FINDING.keyringAmbiguous),
        JSON.stringify(listing.findings.map((f) => f.code)),
      );
    });

    it('deletes the item (and a file copy), as codex mcp logout does', async () => {
      const value = JSON.stringify({ server_name: 'lab', url: LAB_URL, client_id: 'c', token_response: { access_token: mint('at'), token_type: 'bearer' } });
      ss.secretTool(['store', '--label=lab', ...keyringRsAttributes(LAB)], value);
      assert.equal((await store('auto').delete(LAB)).deleted, true);
      assert.notEqual(ss.secretTool(['lookup', 'service', CODEX_KEYRING_SERVICE, 'username', LAB]).status, 0);
    });

    it('restores an item from a snapshot, and snapshots what it replaces', async () => {
      const s = store('keyring');
      const first = mint('at');
      await s.write(LAB, { serverName: 'lab', serverUrl: LAB_URL, clientId: 'c', accessToken: first });
      const backups = new SnapshotStore(path.join(home, 'backups'));
      const manual = (await s.backup())!;
      assert.equal(manual.storeKind, 'keyring');
      const written = await s.write(LAB, { accessToken: mint('at') });
      assert.equal((await backups.read(written.snapshotId!))?.reason, 'before-write', 'a keyring write names the snapshot of the item it replaced');
      const snap = (await backups.read(manual.id))!;
      const plan = await s.planRestore(snap, LAB);
      assert.deepEqual(
        plan.entries.map((c) => [c.key, c.change, c.after?.accessToken]),
        [[LAB, 'changed', fingerprint(first)]],
      );
      const outcome = await s.restore(snap, LAB);
      assert.equal(JSON.parse(ss.secretTool(['lookup', 'service', CODEX_KEYRING_SERVICE, 'username', LAB]).stdout).token_response.access_token, first);
      assert.equal(outcome.previous?.reason, 'before-restore');
    });

    it('an absent session bus: a finding with the reason, and the file copy in auto mode', async () => {
      const dead = sandboxEnv(home, { DBUS_SESSION_BUS_ADDRESS: `unix:path=${path.join(home, 'no-bus')}` });
      const started = Date.now();
      const listing = await store('auto', dead).list();
      const f = listing.findings.find((x) => x.code === CODEX_FINDING.keyringUnavailable);
      assert.ok(f, JSON.stringify(listing.findings));
      assert.ok(f.detail.length > 40);
      assert.ok(Date.now() - started < 5_000);
    });

    it('a bus that never answers: the call is abandoned at the timeout, not waited for', async () => {
      const bus = await silentBus(home);
      try {
        const wedged = sandboxEnv(home, { DBUS_SESSION_BUS_ADDRESS: bus.address });
        const started = Date.now();
        const listing = await store('keyring', wedged, 1_500).list();
        const took = Date.now() - started;
        const f = listing.findings.find((x) => x.code === CODEX_FINDING.keyringUnavailable);
        assert.ok(f);
        assert.equal(f.severity, 'error');
        assert.match(f.detail, /did not answer within 1\.5 s/);
        assert.ok(took >= 1_400 && took < 4_000, `took ${took} ms`);
      } finally {
        await bus.close();
      }
    });

    it('the runner itself: answers per call, in order', async () => {
      const run = variant.runner(ss.env);
      const secret = mint('v');
      const batch = await run([
        { op: 'set', account: 'mad-test|0', value: secret },
        { op: 'get', account: 'mad-test|0' },
        { op: 'get', account: 'mad-test|absent' },
        { op: 'delete', account: 'mad-test|0' },
        { op: 'delete', account: 'mad-test|0' },
      ]);
      assert.ok(batch.reachable);
      assert.deepEqual(batch.results, [{ ok: true }, { ok: true, value: secret }, { ok: true, value: null }, { ok: true, deleted: true }, { ok: true, deleted: false }]);
    });
  });
}

describe('Codex keyring through secret-tool: what only this path must get right', function () {
  this.timeout(60_000);
  let ss: PrivateSecretService;

  before(async function () {
    if (secretServiceUnavailable()) this.skip();
    ss = await startPrivateSecretService();
  });
  after(async () => {
    await ss?.stop();
  });
  beforeEach(() => {
    ss.secretTool(['clear', 'service', CODEX_KEYRING_SERVICE]);
  });

  it('keyring-rs (Codex\'s own library) reads what it writes, new or updated, without ambiguity', async () => {
    const viaTool = secretToolKeyringRunner({ env: ss.env });
    const viaRs = childKeyringRunner({ env: ss.env, platform: 'linux' });
    const created = mint('new');
    assert.deepEqual((await viaTool([{ op: 'set', account: LAB, value: created }])).reachable, true);
    assert.deepEqual(await viaRs([{ op: 'get', account: LAB }]), { reachable: true, results: [{ ok: true, value: created }] });
    // An item as `codex mcp login` made it, updated through secret-tool: still one item for keyring-rs.
    const other = codexKey('other', 'http://127.0.0.1:1/mcp');
    ss.secretTool(['store', `--label=${other}@${CODEX_KEYRING_SERVICE}:default (keyring v3.6.3)`, ...keyringRsAttributes(other)], mint('old'));
    const updated = mint('upd');
    assert.deepEqual(await viaTool([{ op: 'set', account: other, value: updated }]), { reachable: true, results: [{ ok: true }] });
    assert.deepEqual(await viaRs([{ op: 'get', account: other }]), { reachable: true, results: [{ ok: true, value: updated }] });
  });

  it('ignores items of another keyring-rs target, as keyring-rs does, and will not overwrite them', async () => {
    ss.secretTool(['store', '--label=elsewhere', 'service', CODEX_KEYRING_SERVICE, 'username', LAB, 'target', 'work'], mint('work'));
    const run = secretToolKeyringRunner({ env: ss.env });
    const batch = await run([{ op: 'get', account: LAB }, { op: 'set', account: LAB, value: mint('x') }]);
    assert.ok(batch.reachable);
    assert.deepEqual(batch.results[0], { ok: true, value: null });
    assert.equal(batch.results[1]!.ok, false, 'a store would have replaced the other target\'s item');
    assert.equal(ss.secretTool(['search', '--all', 'service', CODEX_KEYRING_SERVICE]).stdout.match(/^\[/gm)?.length, 1);
  });

  it('passes secrets on stdin only: no argument of any call holds one', async () => {
    const calls: string[][] = [];
    const recording: CommandRunner = (file, args, o) => {
      calls.push(args);
      return runCommand(file, args, o);
    };
    const secret = mint('argv');
    const run = secretToolKeyringRunner({ env: ss.env, run: recording });
    const batch = await run([{ op: 'set', account: LAB, value: secret }, { op: 'get', account: LAB }, { op: 'find' }, { op: 'delete', account: LAB }]);
    assert.deepEqual(batch.reachable && batch.results.map((r) => r.ok), [true, true, true, true]);
    assert.ok(calls.length >= 4);
    assert.deepEqual(calls.filter((args) => args.some((a) => a.includes(secret))), []);
  });

  it('a read batch (find, then a get per known key, as the store sends it) reads each account once', async () => {
    for (const account of ['a|1', 'b|2']) ss.secretTool(['store', `--label=${account}`, ...keyringRsAttributes(account)], mint(account));
    const calls: string[][] = [];
    const recording: CommandRunner = (file, args, o) => {
      calls.push(args);
      return runCommand(file, args, o);
    };
    const batch = await secretToolKeyringRunner({ env: ss.env, run: recording })([{ op: 'find' }, { op: 'get', account: 'a|1' }, { op: 'get', account: 'b|2' }]);
    assert.ok(batch.reachable);
    assert.equal(batch.results.length, 3);
    // One search by service, then one search and one lookup per account: 5, not 9.
    assert.deepEqual(calls.map((a) => a[0]), ['search', 'search', 'lookup', 'search', 'lookup']);
  });

  it('without secret-tool: the store is unavailable, and the finding says what to install', async () => {
    const home = await tempDir('mad-codex-st-');
    try {
      const e = sandboxEnv(home, { DBUS_SESSION_BUS_ADDRESS: ss.env.DBUS_SESSION_BUS_ADDRESS });
      const store = new CodexStore(e, {
        settings: { mode: 'keyring', secretAuthStorage: false, servers: [{ name: 'lab', url: LAB_URL }] },
        backups: new SnapshotStore(path.join(home, 'backups')),
        keyring: secretToolKeyringRunner({ env: e.env, secretTool: path.join(home, 'no-such-secret-tool') }),
      });
      const f = (await store.list()).findings.find((x) => x.code === CODEX_FINDING.keyringUnavailable);
      assert.ok(f);
      assert.match(f.detail, /libsecret-tools/);
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});

/** A D-Bus "session bus" that accepts connections and never answers: what a wedged bus looks like. */
async function silentBus(dir: string): Promise<{ address: string; close(): Promise<void> }> {
  const socket = path.join(dir, 'silent-bus');
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    address: `unix:path=${socket}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
