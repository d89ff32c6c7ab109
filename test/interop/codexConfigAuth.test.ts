// Codex servers that Codex authenticates without an MCP OAuth login, proved with the real codex
// (0.171.0 pinned) against the loopback lab: an http_headers_helper whose Authorization Codex
// sends (its tools list), a helper beside a stored OAuth login (the login wins), auth = "chatgpt"
// on the ChatGPT origin with a ChatGPT sign-in (auth_status bearer_token, nothing of it is an MCP
// login), and auth = "chatgpt" elsewhere (Codex downgrades it to OAuth). Our scan, status and
// probe must say the same: never "not logged in" or a login/refresh/reset for the first and
// third, and the probe sends nothing for them.
// Run: npx mocha --no-config --node-option import=tsx --timeout 180000 test/interop/codexConfigAuth.test.ts
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { clientAuthentication } from '../../src/core/present/describe';
import { probeReport } from '../../src/core/probe/run';
import type { FetchLike } from '../../src/core/probe/http';
import { collectStatus } from '../../src/core/status';
import type { Environment } from '../../src/core/environment';
import { startLab, type Lab } from '../lab';
import { CODEX_BIN, codexAppServerStatus, codexLogin, codexMcpListJson, makeSandboxHome, sandboxEnv } from '../support/realClients';

/** A ChatGPT sign-in as `codex login` leaves it in auth.json (unsigned JWTs: nothing verifies them offline). */
function chatgptAuthJson(): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const claims = { email: 'lab@example.invalid', exp: Math.floor(Date.now() / 1000) + 86_400, 'https://api.openai.com/auth': { chatgpt_plan_type: 'plus', chatgpt_account_id: 'acc-lab', chatgpt_user_id: 'user-lab' } };
  const jwt = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.sig`;
  return JSON.stringify({ auth_mode: 'chatgpt', OPENAI_API_KEY: null, tokens: { id_token: jwt, access_token: jwt, refresh_token: 'rt-lab', account_id: 'acc-lab' }, last_refresh: new Date().toISOString() });
}

(existsSync(CODEX_BIN) && process.platform === 'linux' ? describe : describe.skip)('Codex servers authenticated without an MCP OAuth login (real codex)', function () {
  this.timeout(180_000);
  let lab: Lab;
  let home: string;
  let e: Environment;
  const requests: string[] = [];
  const counting: FetchLike = (input, init) => {
    requests.push(String(input));
    return fetch(input, init);
  };

  before(async () => {
    lab = await startLab();
    home = await makeSandboxHome('mad-codex-auth-');
    const codexDir = path.join(home, '.codex');
    await fs.mkdir(codexDir, { recursive: true });
    const tokens = await lab.mintTokens();
    // The helper prints what is in these files; the token never appears in the command or the config.
    await fs.writeFile(path.join(home, 'good.json'), JSON.stringify({ Authorization: `Bearer ${tokens.accessToken}` }), { mode: 0o600 });
    await fs.writeFile(path.join(home, 'bogus.json'), JSON.stringify({ Authorization: 'Bearer not-a-token' }), { mode: 0o600 });
    await fs.writeFile(path.join(codexDir, 'auth.json'), chatgptAuthJson(), { mode: 0o600 });
    await fs.writeFile(
      path.join(codexDir, 'config.toml'),
      [
        'mcp_oauth_credentials_store = "file"',
        '',
        '[mcp_servers.helper]',
        `url = "${lab.mcpUrl}"`,
        `http_headers_helper = "cat ${path.join(home, 'good.json')}"`,
        '',
        '[mcp_servers.helper-and-login]',
        `url = "${lab.mcpUrl}"`,
        `http_headers_helper = "cat ${path.join(home, 'bogus.json')}"`,
        '',
        '[mcp_servers.chatgpt]',
        'url = "https://chatgpt.com/backend-api/wham/mcp"',
        'auth = "chatgpt"',
        '',
        '[mcp_servers.chatgpt-elsewhere]',
        `url = "${lab.mcpUrl}"`,
        'auth = "chatgpt"',
        '',
      ].join('\n'),
    );
    e = { home, env: sandboxEnv(home), platform: process.platform, projectDirs: [] };
    await codexLogin(home, 'helper-and-login', lab);
  });

  after(async () => {
    await lab?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('codex accepts the config and says how it authenticates each server', async () => {
    const listed = new Map((await codexMcpListJson(home)).map((l) => [l.name, l]));
    assert.deepEqual([...listed.keys()].sort(), ['chatgpt', 'chatgpt-elsewhere', 'helper', 'helper-and-login']);
    assert.equal(listed.get('chatgpt')?.auth_status, 'bearer_token', 'the ChatGPT sign-in is sent as a bearer token');
    assert.equal(listed.get('chatgpt-elsewhere')?.auth_status, 'not_logged_in', 'auth = "chatgpt" off the ChatGPT origin is plain OAuth');
    assert.equal(listed.get('helper-and-login')?.auth_status, 'o_auth');
    // Codex redacts the helper command in its own listing.
    assert.equal((listed.get('helper')?.transport as { http_headers_helper?: string }).http_headers_helper, '<redacted>');
  });

  it("Codex connects with the helper's Authorization, and with the stored login where there is one", async () => {
    const status = new Map((await codexAppServerStatus(home)).map((s) => [s.name, s]));
    assert.deepEqual(status.get('helper')?.tools, ['echo', 'whoami'], status.get('helper')?.toolsError);
    assert.deepEqual(status.get('helper-and-login')?.tools, ['echo', 'whoami'], `the stored login wins over the helper's bogus Authorization: ${status.get('helper-and-login')?.toolsError}`);
  });

  it('our status and probe show them as Codex does: how they authenticate, never "not logged in", and send nothing for them', async () => {
    const report = await collectStatus(e, { clients: ['codex'] });
    const row = (name: string) => {
      const r = report.servers.find((s) => s.server.name === name);
      assert.ok(r, `no server ${name}`);
      return r;
    };
    // No credential key: no surface can offer a login, refresh or reset for it.
    assert.equal(row('chatgpt').server.storageKey, undefined);
    assert.equal(row('chatgpt').server.chatgptAuth, true);
    assert.equal(row('chatgpt').token, undefined);
    // The helper's server keeps its key: a login, when stored, wins and is judged like any other.
    assert.ok(row('helper').server.storageKey);
    assert.equal(row('helper').token?.state, 'missing');
    assert.equal(clientAuthentication(row('helper').server, false)?.kind, 'headers-helper');
    assert.equal(row('helper-and-login').token?.state, 'stored');
    assert.deepEqual(
      row('chatgpt-elsewhere').server.findings.map((f) => f.code),
      ['config.chatgpt-auth-ignored'],
    );

    requests.length = 0;
    const run = await probeReport(report, { fetch: counting, timeoutMs: 5000 });
    const probe = (name: string) => run.probes[report.servers.findIndex((s) => s.server.name === name)]!;
    for (const name of ['helper', 'chatgpt']) {
      const p = probe(name);
      assert.equal(p.state, 'client-auth', `${name}: ${p.state} ${p.summary}`);
      assert.deepEqual(p.findings.map((f) => f.code), ['probe.client-authentication']);
      assert.ok(!/not logged in/i.test(p.summary), p.summary);
      assert.ok(p.findings.every((f) => !f.repairs?.length), `${name}: a repair is offered`);
    }
    assert.match(probe('chatgpt').summary, /ChatGPT account/);
    assert.match(probe('helper').summary, /http_headers_helper/);
    assert.ok(!requests.some((u) => u.includes('chatgpt.com')), 'the probe sent something to chatgpt.com');
    assert.equal(probe('helper-and-login').state, 'valid', 'the stored login is checked live');
    assert.equal(probe('chatgpt-elsewhere').state, 'not-logged-in', 'as Codex: auth_status not_logged_in');
  });
});
