// No raw token in anything the CLI prints. Real tokens minted by the lab (oidc-provider on
// loopback) are stored in sandbox HOMEs for both clients, Claude Code (its .credentials.json) and
// Codex (its fallback .credentials.json, file mode); then every CLI command runs in-process
// (status in all its forms, backup, backups, restore plans and restores, refresh, reset and login
// plans and runs), and again with each store malformed around a token. Every stdout and stderr is
// scanned for each token and for any 16-character piece of one; the tokens a refresh or a login
// writes are added to the list as soon as they exist. Every TCP connection this process opens is
// recorded too: none may go anywhere but a configured server, the authorization server it
// advertises and the login's own loopback callback (no telemetry, no update checks). The editor's tree and tooltips are covered by
// test/vscode/suite/probe/secrets.test.ts.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { claudeCodeStore, claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import { codexCredentialsFile, codexKey, codexStore } from '../../src/core/credentials/codexStore';
import type { Environment } from '../../src/core/environment';
import { storageKey } from '../../src/core/storageKey';
import { startLab, type Lab, type MintedTokens } from '../lab/index';
import { sandbox, type Sandbox } from './support/sandbox';
import { leaks, mintToken } from './support/secrets';

/** `host:port` (or a socket path) of every connection this process opened while the tests ran. */
const connections: string[] = [];
const originalConnect = net.Socket.prototype.connect;

function recordConnections(): void {
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // net.connect passes [options, callback]; a direct call socket.connect(options | port, host).
    const first = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { host?: string; port?: number | string; path?: string } | number;
    connections.push(typeof first === 'object' ? (first.path ?? `${first.host ?? 'localhost'}:${first.port}`) : `${String(args[1] ?? 'localhost')}:${first}`);
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
}

/** The loopback ports the CLI's own login listened on (the "browser" connects there). */
const callbackHosts = new Set<string>();

interface Run {
  args: string[];
  code: number;
  output: string;
}

describe('hardening: no raw token in any CLI output', function () {
  this.timeout(120_000);
  let lab: Lab;
  let s: Sandbox;
  let env: Record<string, string>;
  let e: Environment;
  let claudeTokens: MintedTokens;
  let codexTokens: MintedTokens;
  /** Every secret that exists in the sandbox now: minted, stored, or written by a repair. */
  const secrets = new Set<string>();
  const runs: Run[] = [];
  let claudeKey: string;
  let codexEntryKey: string;

  async function cli(args: string[], onStdout?: (all: string) => void): Promise<Run> {
    let output = '';
    let stdout = '';
    const code = await runCli(args, {
      stdout: (t) => {
        output += t;
        stdout += t;
        onStdout?.(stdout);
      },
      stderr: (t) => (output += t),
      env,
      cwd: s.home,
    });
    const run = { args, code, output };
    runs.push(run);
    assertNoLeak(run);
    return run;
  }

  function assertNoLeak(run: Run): void {
    for (const secret of secrets) {
      assert.ok(!leaks(run.output, secret), `\`${run.args.join(' ')}\` printed a token or a 16-character piece of one:\n${run.output.slice(0, 2000)}`);
    }
  }

  /** Tokens as they are in the stores right now (a refresh or a login writes new ones). */
  async function collectStoredSecrets(): Promise<void> {
    const backups = new SnapshotStore(path.join(s.root, 'unused-backups'));
    const claude = await claudeCodeStore(e, { backups }).readSecret(claudeKey);
    const codex = await codexStore(e, { backups, settings: { mode: 'file', secretAuthStorage: false, servers: [{ name: 'lab', url: lab.mcpUrl }] } }).readSecret(codexEntryKey);
    for (const t of [claude?.accessToken, claude?.refreshToken, claude?.clientSecret, codex?.accessToken, codex?.refreshToken]) if (t) secrets.add(t);
  }

  function claudeBlob(extra: Record<string, unknown> = {}) {
    return {
      claudeAiOauth: { accessToken: mintToken(), refreshToken: mintToken(), expiresAt: Date.now() + 3600_000, scopes: ['user:inference'] },
      mcpOAuth: {
        [claudeKey]: {
          serverName: 'lab',
          serverUrl: lab.mcpUrl,
          clientId: claudeTokens.clientId,
          accessToken: claudeTokens.accessToken,
          refreshToken: claudeTokens.refreshToken,
          expiresAt: Date.now() + claudeTokens.expiresIn * 1000,
          scope: claudeTokens.scope,
        },
        [storageKey('other', 'http', 'https://other.example/mcp')]: {
          serverName: 'other',
          serverUrl: 'https://other.example/mcp',
          clientId: 'other-client',
          clientSecret: mintToken(),
          accessToken: mintToken(),
          refreshToken: mintToken(),
          expiresAt: Date.now() - 3600_000,
        },
        ...extra,
      },
    };
  }

  function codexFile() {
    return {
      [codexEntryKey]: {
        server_name: 'lab',
        server_url: lab.mcpUrl,
        issuer: lab.issuer,
        client_id: codexTokens.clientId,
        access_token: codexTokens.accessToken,
        expires_at: Date.now() + codexTokens.expiresIn * 1000,
        refresh_token: codexTokens.refreshToken,
        scopes: codexTokens.scope.split(' '),
      },
    };
  }

  function remember(o: unknown): void {
    // Every string that looks like a token in what we store (the blob's own and the lab's).
    JSON.stringify(o, (k, v) => {
      if (typeof v === 'string' && /token|secret/i.test(k)) secrets.add(v);
      return v;
    });
  }

  before(async () => {
    recordConnections();
    lab = await startLab({ accessTokenTtl: 3600 });
    claudeTokens = await lab.mintTokens();
    codexTokens = await lab.mintTokens();
    s = await sandbox('leak');
    // Only what the CLI needs; XDG_RUNTIME_DIR without a D-Bus session keeps the user's keyring out of reach.
    env = { HOME: s.home, PATH: process.env.PATH ?? '/usr/bin:/bin', XDG_RUNTIME_DIR: path.join(s.root, 'run'), MCP_AUTH_DOCTOR_BACKUP_DIR: path.join(s.root, 'backups') };
    e = { ...s.e, env };
    claudeKey = storageKey('lab', 'http', lab.mcpUrl);
    codexEntryKey = codexKey('lab', lab.mcpUrl);
    await fs.writeFile(path.join(s.home, '.claude.json'), JSON.stringify({ mcpServers: { lab: { type: 'http', url: lab.mcpUrl }, other: { type: 'http', url: 'https://other.example/mcp' } } }));
    await fs.mkdir(path.join(s.home, '.codex'), { recursive: true });
    await fs.writeFile(path.join(s.home, '.codex', 'config.toml'), `mcp_oauth_credentials_store = "file"\n\n[mcp_servers.lab]\nurl = "${lab.mcpUrl}"\n`);
  });
  beforeEach(async () => {
    const blob = claudeBlob();
    const file = codexFile();
    remember(blob);
    remember(file);
    for (const t of [claudeTokens, codexTokens]) for (const v of [t.accessToken, t.refreshToken]) if (v) secrets.add(v);
    await fs.mkdir(path.dirname(claudeCredentialsFile(e)), { recursive: true });
    await fs.writeFile(claudeCredentialsFile(e), JSON.stringify(blob), { mode: 0o600 });
    await fs.writeFile(codexCredentialsFile(e), JSON.stringify(file), { mode: 0o600 });
  });
  after(async () => {
    net.Socket.prototype.connect = originalConnect;
    await lab?.close();
    await s?.remove();
    const commands = [...new Set(runs.map((r) => r.args.filter((a) => !a.startsWith('2') && !a.includes('|')).join(' ')))];
    console.log(`      ${runs.length} CLI runs scanned for ${secrets.size} secrets (${[...secrets].map((x) => x.length).reduce((a, b) => a + b, 0)} characters): ${commands.join('; ')}`);
  });

  it('status in every form, with live checks against the lab, prints no token and writes nothing', async () => {
    const files = [claudeCredentialsFile(e), codexCredentialsFile(e), path.join(s.home, '.claude.json'), path.join(s.home, '.codex', 'config.toml')];
    const before = await Promise.all(files.map((f) => fs.readFile(f, 'utf8')));
    const tokenRequests = lab.tokenEndpointRequests();
    const registrations = lab.registrationRequests();
    for (const args of [['status'], ['status', '--json'], ['status', '-v'], ['status', '--no-live', '-v', '--json'], ['status', '--offline'], ['status', '--client', 'codex', '-v']]) {
      const r = await cli(args);
      assert.notEqual(r.code, 2, r.output);
    }
    const json = JSON.parse(runs.find((r) => r.args.join(' ') === 'status --json')!.output) as { servers: { name: string; client: string; state: string }[] };
    // The live check ran: the lab accepted both stored tokens, so they were read and sent.
    assert.deepEqual(json.servers.filter((x) => x.name === 'lab').map((x) => [x.client, x.state]), [['claude-code', 'valid'], ['codex', 'valid']]);
    assert.equal(lab.canary.tokensReceived(), 0);
    // Read-only: configs and stores byte for byte, no snapshot taken, no registration, no token
    // request; the one thing written is the journal's record of the stores, in its own folder.
    assert.deepEqual(await Promise.all(files.map((f) => fs.readFile(f, 'utf8'))), before);
    assert.deepEqual(await fs.readdir(env.MCP_AUTH_DOCTOR_BACKUP_DIR!).catch(() => []), ['journal']);
    assert.equal(lab.tokenEndpointRequests(), tokenRequests);
    assert.equal(lab.registrationRequests(), registrations);
  });

  it('backup, backups and restore (plans, one entry, whole store, with verification) print no token', async () => {
    const b = await cli(['backup']);
    assert.equal(b.code, 0, b.output);
    const ids = [...b.output.matchAll(/^(\d{8}T\d{9}Z-(?:claude-code|codex)-[0-9a-f]{8}-[0-9a-f]+)/gm)].map((m) => m[1]!);
    assert.equal(ids.length, 2, b.output);
    await cli(['backups']);
    await cli(['backups', '--client', 'codex']);
    for (const id of ids) {
      // Plans only: without --yes nothing is written (exit 0 when there is nothing to change).
      assert.notEqual((await cli(['restore', id])).code, 2);
      const key = id.includes('-claude-code-') ? claudeKey : codexEntryKey;
      assert.notEqual((await cli(['restore', id, '--entry', key])).code, 2);
    }
    // Change both stores, then restore for real: the verification sends each restored token to the lab.
    await fs.writeFile(claudeCredentialsFile(e), JSON.stringify({ mcpOAuth: {} }), { mode: 0o600 });
    for (const id of ids) {
      const r = await cli(['restore', id, '--yes']);
      assert.equal(r.code, 0, r.output);
    }
    await cli(['backups']);
  });

  it('refresh, reset and login: their plans, and refresh and login done for real, print no token, old or new', async () => {
    for (const client of ['claude-code', 'codex']) {
      for (const command of ['refresh', 'reset', 'login']) assert.equal((await cli([command, 'lab', '--client', client])).code, 1);
      const r = await cli(['refresh', 'lab', '--client', client, '--yes']);
      assert.equal(r.code, 0, r.output);
      await collectStoredSecrets();
      await cli(['status', '-v', '--client', client]);
    }
    // Log in again through the lab (the "browser" approves the URL the CLI prints).
    for (const client of ['claude-code', 'codex']) {
      let delivered: Promise<void> | undefined;
      const r = await cli(['login', 'lab', '--client', client, '--no-browser', '--yes'], (out) => {
        const m = /^(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)$/m.exec(out);
        if (m && !delivered) {
          callbackHosts.add(new URL(new URL(m[1]!).searchParams.get('redirect_uri') ?? '').host);
          delivered = lab.approve(m[1]!).then(async (redirect) => void (await (await fetch(redirect)).text()));
        }
      });
      await delivered;
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /State now: valid/);
      await collectStoredSecrets();
      // The login's own output was scanned before the new tokens were known: scan it again.
      assertNoLeak(r);
      const undo = /^Undo: mcp-auth-doctor restore (\S+) --entry '([^']+)' --yes$/m.exec(r.output);
      assert.ok(undo, r.output);
      assert.equal((await cli(['restore', undo[1]!, '--entry', undo[2]!])).code, 1);
      assert.equal((await cli(['reset', 'lab', '--client', client, '--yes'])).code, 0);
    }
    // The refreshes' outputs, too, against every token known by now.
    for (const r of runs) assertNoLeak(r);
    assert.equal(lab.canary.tokensReceived(), 0);
  });

  it('stores malformed around a token: every command says what is wrong and still prints no token', async () => {
    const blob = claudeBlob();
    remember(blob);
    const token = claudeTokens.accessToken;
    const claudeText = JSON.stringify(blob);
    const codexText = JSON.stringify(codexFile());
    const broken: [string, string][] = [
      // A trailing comma after the token, a file cut short inside the token, a token pasted where
      // the entry belongs, a token where the whole map belongs.
      [claudeText.replace(`"${token}"`, `"${token}",,`), codexText.replace(/\}\}$/, '},}')],
      [claudeText.slice(0, claudeText.indexOf(token) + 40), codexText.slice(0, codexText.indexOf(codexTokens.accessToken) + 40)],
      [JSON.stringify({ mcpOAuth: { [claudeKey]: token } }), JSON.stringify({ [codexEntryKey]: codexTokens.accessToken })],
      [JSON.stringify({ mcpOAuth: token }), JSON.stringify([codexTokens.accessToken])],
    ];
    for (const [claude, codex] of broken) {
      await fs.writeFile(claudeCredentialsFile(e), claude, { mode: 0o600 });
      await fs.writeFile(codexCredentialsFile(e), codex, { mode: 0o600 });
      const st = await cli(['status', '--offline', '-v']);
      assert.equal(st.code, 1, st.output);
      assert.match(st.output, /credentials\.(invalid-json|wrong-type|invalid-entry)/);
      await cli(['status', '--offline', '--json']);
      await cli(['backup']);
      for (const client of ['claude-code', 'codex']) {
        for (const command of ['refresh', 'reset']) {
          const r = await cli([command, 'lab', '--client', client, '--yes']);
          assert.notEqual(r.code, 0, `${command} wrote to a malformed store: ${r.output}`);
        }
      }
      // Nothing was written over the malformed stores.
      assert.equal(await fs.readFile(claudeCredentialsFile(e), 'utf8'), claude);
      assert.equal(await fs.readFile(codexCredentialsFile(e), 'utf8'), codex);
    }
  });

  it('every connection went to a configured server or its authorization server: no telemetry, no update check', () => {
    // The lab's own requests (minting, JWKS, introspection) and the test's "browser" go to these too.
    const allowed = new Set([new URL(lab.mcpUrl).host, new URL(lab.issuer).host, 'other.example:443', ...callbackHosts]);
    const seen = [...new Set(connections)];
    assert.ok(seen.length > 0, 'no connection was recorded: the recorder is broken');
    assert.deepEqual(seen.filter((c) => !allowed.has(c)), [], `connections: ${seen.join(', ')}`);
    assert.ok(!seen.includes(new URL(lab.canary.origin).host), 'the canary origin was contacted');
    console.log(`      connections opened: ${connections.length}, to ${seen.join(', ')}`);
  });

});
