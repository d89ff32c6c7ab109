import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fingerprint } from '../../src/core/storageKey';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';

/** Runs the CLI in-process against a sandbox HOME, capturing what a terminal would show. */
async function cli(args: string[], home: string, cwd = home) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { HOME: home }, cwd };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

describe('mcp-auth-doctor CLI', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-cli-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('says so when no client has any server, and exits 0', async () => {
    const r = await cli(['status'], home);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /No MCP servers found/);
  });

  it('exits 2 with usage for an unknown command or flag', async () => {
    assert.equal((await cli(['frobnicate'], home)).code, 2);
    const bad = await cli(['status', '--nope'], home);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--nope/);
    assert.equal((await cli(['status', '--client', 'zed'], home)).code, 2);
  });

  it('lists servers of both clients with their storage keys and source lines in --json', async () => {
    const project = path.join(home, 'proj');
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(home, '.claude.json'),
      JSON.stringify({ mcpServers: { lab: { type: 'http', url: 'http://127.0.0.1:38423/mcp' } } }, null, 2),
    );
    fs.mkdirSync(path.join(home, '.codex'));
    fs.writeFileSync(path.join(home, '.codex', 'config.toml'), '# codex\n\n[mcp_servers.lab]\nurl = "http://127.0.0.1:38423/mcp"\n');
    // --offline: this test is about reading configs; probing has its own tests.
    const r = await cli(['status', '--json', '--offline', '--cwd', project], home);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { servers: Array<Record<string, unknown>>; findings: unknown[] };
    const byClient = Object.fromEntries(doc.servers.map((s) => [s.client as string, s]));
    const { token, ...claude } = byClient['claude-code'] as Record<string, unknown>;
    assert.deepEqual(claude, {
      client: 'claude-code',
      scope: 'user',
      host: null,
      name: 'lab',
      transport: 'http',
      url: 'http://127.0.0.1:38423/mcp',
      enabled: true,
      key: 'lab|0273820822139ec6',
      source: { file: path.join(home, '.claude.json'), line: 3, column: 5 },
      state: null,
      summary: null,
      findings: [],
      probe: null,
    });
    // Nothing stored yet: the token says so and names where Claude Code would keep it.
    assert.equal((token as { state: string }).state, 'missing');
    assert.equal((token as { store: string }).store, path.join(home, '.claude', '.credentials.json'));
    assert.equal(byClient.codex?.key, 'lab|0273820822139ec6');
    assert.deepEqual(byClient.codex?.source, { file: path.join(home, '.codex', 'config.toml'), line: 3, column: 1 });
  });

  it('shows a stored token by fingerprint and expiry, never the token itself', async () => {
    const url = 'http://127.0.0.1:38423/mcp';
    fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: { lab: { type: 'http', url } } }));
    fs.mkdirSync(path.join(home, '.claude'));
    const accessToken = 'at-' + randomBytes(24).toString('hex');
    const refreshToken = 'rt-' + randomBytes(24).toString('hex');
    const expiresAt = Date.now() - 3 * 3600_000;
    fs.writeFileSync(
      path.join(home, '.claude', '.credentials.json'),
      JSON.stringify({
        mcpOAuth: {
          'lab|0273820822139ec6': { serverName: 'lab', serverUrl: url, clientId: 'c1', accessToken, refreshToken, expiresAt, scope: 'mcp:tools' },
        },
      }),
      { mode: 0o600 },
    );
    const json = await cli(['status', '--json', '--offline'], home);
    const text = await cli(['status', '--offline'], home);
    for (const out of [json.stdout, text.stdout]) {
      assert.ok(!out.includes(accessToken) && !out.includes(refreshToken), 'a token leaked into the output');
    }
    const server = (JSON.parse(json.stdout) as { servers: Array<{ token: Record<string, unknown> }> }).servers[0]!;
    assert.equal(server.token.state, 'expired');
    assert.equal(server.token.hasRefreshToken, true);
    assert.equal(server.token.fingerprint, fingerprint(accessToken));
    assert.equal(server.token.expiresAt, new Date(expiresAt).toISOString());
    assert.match(text.stdout, /expired 3 h ago · refresh token present/);
  });

  it('exits 1 and names the file and line when a config is broken, still listing the rest', async () => {
    fs.writeFileSync(path.join(home, '.claude.json'), '{\n  "mcpServers": {\n    "a": { "type": "http", "url": }\n  }\n}\n');
    fs.mkdirSync(path.join(home, '.codex'));
    fs.writeFileSync(path.join(home, '.codex', 'config.toml'), '[mcp_servers.ok]\nurl = "https://example.com/mcp"\n');
    const r = await cli(['status', '--offline'], home);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /ok\s+example\.com · user/);
    assert.match(r.stdout, new RegExp(`${escape(path.join(home, '.claude.json'))}:3:`));
  });

  it('--offline shows how Codex authenticates a helper, bearer-env or ChatGPT server, never "not logged in"', async () => {
    fs.mkdirSync(path.join(home, '.codex'));
    fs.writeFileSync(
      path.join(home, '.codex', 'config.toml'),
      [
        '[mcp_servers.helper]\nurl = "https://mcp.example.com/mcp"\nhttp_headers_helper = "print-headers"\n',
        '[mcp_servers.bearer]\nurl = "https://mcp.example.com/b"\nbearer_token_env_var = "MCP_TOKEN"\n',
        '[mcp_servers.gpt]\nurl = "https://chatgpt.com/backend-api/mcp"\nauth = "chatgpt"\n',
        '[mcp_servers.plain]\nurl = "https://mcp.example.com/p"\n',
      ].join('\n'),
    );
    const r = await cli(['status', '--offline'], home);
    const row = (name: string) => r.stdout.split('\n').find((l) => l.trimStart().startsWith(`${name} `)) ?? '';
    assert.match(row('helper'), /client-auth: headers from its http_headers_helper command/);
    assert.match(row('bearer'), /client-auth: bearer token from \$MCP_TOKEN/);
    assert.match(row('gpt'), /client-auth: signs in with your ChatGPT account/);
    for (const name of ['helper', 'bearer', 'gpt']) assert.doesNotMatch(row(name), /not logged in/, row(name));
    assert.match(row('plain'), /not logged in/);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
