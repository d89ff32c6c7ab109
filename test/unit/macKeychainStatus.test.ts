// What a Mac user sees of a Codex login kept in the Keychain, on a `security` stand-in replaying
// recorded outputs (test/fixtures/macos-security/, the account rewritten to the configured
// server's storage key): status, status --json, the finding and the probe say "logged in (in the
// Keychain; not read)" with the item's account and date, read no secret (no -w, no call to the
// keyring binding) and send no token; with the user's explicit permission the one item is read,
// once, and the state becomes the token's own.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { statusWith } from '../../src/cli/commands/status';
import { UsageError, type CliIo } from '../../src/cli/io';
import type { KeyringOp, KeyringOpResult, KeyringRunner } from '../../src/core/credentials/codexKeyring';
import { codexKey } from '../../src/core/credentials/codexFormat';
import { argvReadsSecretOrAcl } from '../../src/core/credentials/macKeychain';
import { CODEX_KEYCHAIN_PROMPT_EXPLANATION } from '../../src/core/credentials/macKeychainCodex';
import type { Environment } from '../../src/core/environment';
import { readKeychainLogin } from '../../src/core/keychainRead';
import { probeReport } from '../../src/core/probe/run';
import { collectStatus } from '../../src/core/status';
import { describeToken } from '../../src/core/tokenStatus';
import { mint, sandboxEnv, tempDir } from './credentialsHelpers';
import { loadRecording, securityReplay, type SecurityRecording } from './macKeychainReplay';

const RECORDED_KEY = 'lab|5d41402abc4b2a76';
const MODIFIED = '2025-12-01T07:45:02Z';
const HOUR = 3600_000;

/** A recording with Codex's item for `lab` under the key this test's config gives it. */
function forKey(name: string, key: string): SecurityRecording {
  const r = loadRecording(name);
  return { ...r, argv: r.argv.map((a) => (a === RECORDED_KEY ? key : a)), stdout: r.stdout.split(RECORDED_KEY).join(key) };
}

/** Stands in for the @napi-rs/keyring child: each call would be a macOS dialog. */
function spyReader(values: Record<string, string>, failWith?: string): { runner: KeyringRunner; calls: KeyringOp[] } {
  const calls: KeyringOp[] = [];
  const runner: KeyringRunner = async (ops) => {
    calls.push(...ops);
    return {
      reachable: true,
      results: ops.map((op): KeyringOpResult => (failWith ? { ok: false, error: failWith } : op.op === 'get' ? { ok: true, value: values[op.account] ?? null } : { ok: true })),
    };
  };
  return { runner, calls };
}

/** A loopback MCP server behind OAuth: 401 with a challenge unless sent `token`; records every Authorization header. */
async function mcpServer(token: () => string): Promise<{ url: string; authorizations: string[]; close: () => Promise<void> }> {
  const authorizations: string[] = [];
  const server = http.createServer((req, res) => {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    req.resume();
    req.on('end', () => {
      if (req.headers.authorization) authorizations.push(req.headers.authorization);
      if (req.url?.startsWith('/.well-known/oauth-protected-resource')) return json(200, { resource: `${origin}/mcp`, authorization_servers: [origin] });
      if (req.url?.startsWith('/.well-known/oauth-authorization-server')) {
        return json(200, {
          issuer: origin,
          authorization_endpoint: `${origin}/authorize`,
          token_endpoint: `${origin}/token`,
          registration_endpoint: `${origin}/register`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
          code_challenge_methods_supported: ['S256'],
        });
      }
      if (req.url === '/mcp' && req.method === 'POST') {
        if (req.headers.authorization === `Bearer ${token()}`) {
          return json(200, { jsonrpc: '2.0', id: 1, result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'lab', version: '1' } } });
        }
        return json(401, { error: 'invalid_token' }, { 'www-authenticate': `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"` });
      }
      if (req.method === 'DELETE') return json(200, {});
      json(404, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, authorizations, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("A Codex login in the macOS Keychain, shown without reading it (replayed security)", function () {
  this.timeout(60_000);
  let home: string;
  let e: Environment;
  let lab: Awaited<ReturnType<typeof mcpServer>>;
  let accessToken: string;
  let key: string;
  let value: string;

  beforeEach(async () => {
    accessToken = mint('at');
    lab = await mcpServer(() => accessToken);
    home = await tempDir('mad-mac-status-');
    await fs.mkdir(path.join(home, '.codex'), { recursive: true });
    await fs.writeFile(path.join(home, '.codex', 'config.toml'), `[mcp_servers.lab]\nurl = "${lab.url}"\n`);
    e = sandboxEnv(home, {}, 'darwin');
    key = codexKey('lab', lab.url);
    value = JSON.stringify({
      server_name: 'lab',
      url: lab.url,
      client_id: 'client-lab',
      token_response: { access_token: accessToken, token_type: 'bearer', expires_in: 3599, refresh_token: mint('rt'), scope: 'mcp:tools' },
      expires_at: Date.now() + HOUR,
    });
  });
  afterEach(async () => {
    await lab.close();
    await fs.rm(home, { recursive: true, force: true });
  });

  const replay = () => securityReplay(forKey('codex-find-lab', key), forKey('dump-keychain-attributes', key), 'not-found');

  it('status shows "logged in (in the Keychain; not read)" with account and date, its own finding, and reads no secret', async () => {
    const security = replay();
    const reader = spyReader({ [key]: value });
    const report = await collectStatus(e, { clients: ['codex'], stores: { codexSecurity: security.run, codexKeychainReader: reader.runner } });
    const row = report.servers.find((r) => r.server.name === 'lab');
    assert.equal(row?.token?.state, 'in-keychain');
    assert.deepEqual(row.token.keychain, { account: key, keychain: '/Users/alex/Library/Keychains/login.keychain-db', modified: MODIFIED });
    assert.equal(describeToken(row.token, report.at), `logged in (in the Keychain; not read) · account ${key}, changed ${MODIFIED}`);
    const mine = report.findings.filter((f) => f.detail.includes(key));
    assert.deepEqual(
      mine.map((f) => [f.code, f.severity, f.title]),
      [['credentials.keychain-not-read', 'info', 'Codex\'s login for "lab" is in the Keychain (not read)']],
      'the generic "cannot be read … Codex (auto) ignores it" finding is gone for this case',
    );
    assert.match(mine[0]!.detail, new RegExp(`account ${key.replace(/[|]/g, '\\|')}, last changed ${MODIFIED}, in /Users/alex/Library/Keychains/login.keychain-db`));
    assert.deepEqual(reader.calls, [], 'no read through the keyring binding (each would be a macOS dialog)');
    assert.ok(security.calls.length > 0);
    for (const c of security.calls) assert.ok(!argvReadsSecretOrAcl(c.args), `no -w/-g/-d: ${c.args.join(' ')}`);
    assert.deepEqual(security.unmatched, []);
  });

  it('the probe does not call it "not logged in", checks nothing live and sends no token', async () => {
    const report = await collectStatus(e, { clients: ['codex'], stores: { codexSecurity: replay().run, codexKeychainReader: spyReader({}).runner } });
    const run = await probeReport(report, { fetch: globalThis.fetch, timeoutMs: 5_000 });
    const probe = run.probes[report.servers.findIndex((r) => r.server.name === 'lab')]!;
    assert.equal(probe.state, 'stored');
    assert.equal(probe.summary, `logged in (in the Keychain; not read) · account ${key}, changed ${MODIFIED} (not checked: the token is in the Keychain, unread)`);
    assert.equal(probe.token?.live, 'not-checked');
    assert.equal(probe.token?.notCheckedBecause, 'the token is in the Keychain, unread');
    assert.ok(!probe.findings.some((f) => f.code === 'token.not-logged-in'), probe.findings.map((f) => f.code).join(', '));
    assert.deepEqual(lab.authorizations, [], 'no token sent');
  });

  it('status and status --json on the Mac: the words, the item, and how to read it', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: { HOME: home }, cwd: home };
    const stores = () => ({ codexSecurity: replay().run, codexKeychainReader: spyReader({ [key]: value }).runner });
    await statusWith(['--json', '--offline', '--client', 'codex'], io, { platform: 'darwin', stores: stores() });
    const doc = JSON.parse(out.join('')) as { servers: { name: string; token: { state: string; keychain: unknown } }[]; findings: { code: string }[] };
    const server = doc.servers.find((s) => s.name === 'lab');
    assert.equal(server?.token.state, 'in-keychain');
    assert.deepEqual(server.token.keychain, { account: key, keychain: '/Users/alex/Library/Keychains/login.keychain-db', modified: MODIFIED });
    assert.ok(doc.findings.some((f) => f.code === 'credentials.keychain-not-read'));
    assert.deepEqual(err, []);
    out.length = 0;
    await statusWith(['--offline', '--client', 'codex'], io, { platform: 'darwin', stores: stores() });
    const text = out.join('');
    assert.match(text, /lab .*logged in \(in the Keychain; not read\) · account lab\|[0-9a-f]{16}, changed 2025-12-01T07:45:02Z/);
    assert.match(text, /Codex's Keychain items were not read \(macOS would ask\); --read-keychain reads them/);
  });

  it('with the explicit permission the one item is read, once, and the state is the token\'s own', async () => {
    const security = replay();
    const reader = spyReader({ [key]: value, 'docs|9e107d9d372bb682': '{}' });
    const r = await readKeychainLogin(e, (s) => s.name === 'lab', { stores: { codexSecurity: security.run, codexKeychainReader: reader.runner }, probe: { fetch: globalThis.fetch, timeoutMs: 5_000 } });
    assert.ok(!('problem' in r), 'problem' in r ? r.problem : '');
    assert.equal(r.status.token?.state, 'stored');
    assert.match(describeToken(r.status.token, r.report.at), /^token stored, expires in (59|60) min · refresh token present$/);
    assert.equal(r.probe?.state, 'valid');
    assert.match(r.words, /^valid: valid, expires in (59|60) min · refresh token present$/);
    // Only the asked-for item, and one dialog: the live check reused the value read.
    assert.deepEqual(reader.calls, [{ op: 'get', account: key }]);
    assert.deepEqual(lab.authorizations, [`Bearer ${accessToken}`]);
    for (const c of security.calls) assert.ok(!argvReadsSecretOrAcl(c.args), c.args.join(' '));
    // Every other item stays unread.
    assert.ok(r.report.findings.some((f) => f.code === 'credentials.keychain-not-read' && f.detail.includes('docs|9e107d9d372bb682')));
  });

  it('a denied dialog says so instead of "not logged in"', async () => {
    const reader = spyReader({}, 'Platform secure storage failure: User canceled the operation.');
    const r = await readKeychainLogin(e, (s) => s.name === 'lab', { stores: { codexSecurity: replay().run, codexKeychainReader: reader.runner } });
    assert.ok(!('problem' in r));
    assert.equal(r.words, 'the Keychain item was not read');
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0]!, /denied or dismissed; nothing was read/);
  });

  it('status --read-keychain explains the dialog first, then reads; elsewhere than macOS it is refused', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: { HOME: home }, cwd: home };
    const reader = spyReader({ [key]: value });
    await statusWith(['--json', '--offline', '--client', 'codex', '--read-keychain'], io, { platform: 'darwin', stores: { codexSecurity: replay().run, codexKeychainReader: reader.runner } });
    assert.equal(err.join(''), `Reading Codex's Keychain items. ${CODEX_KEYCHAIN_PROMPT_EXPLANATION}\n`);
    const doc = JSON.parse(out.join('')) as { servers: { name: string; token: { state: string; fingerprint: string | null } }[] };
    const server = doc.servers.find((s) => s.name === 'lab');
    assert.equal(server?.token.state, 'stored');
    assert.ok(server.token.fingerprint);
    assert.ok(!out.join('').includes(accessToken), 'never the token itself');
    assert.ok(reader.calls.some((c) => c.op === 'get' && c.account === key));
    await assert.rejects(statusWith(['--offline', '--read-keychain'], io, { platform: 'linux' }), (x: unknown) => x instanceof UsageError && /for macOS/.test(x.message));
  });
});
