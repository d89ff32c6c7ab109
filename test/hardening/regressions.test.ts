// The bugs the generated inputs found, each pinned by one fixed input, so they stay fixed whatever
// the seed: the reader's answer for that input, as a user would see it.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { scanClaudeCode } from '../../src/core/config/claudeCode';
import { runCli } from '../../src/cli/main';
import { scanCodex } from '../../src/core/config/codex';
import { tomlKeyPositions } from '../../src/core/config/codexTomlPositions';
import type { ConfigScan, Finding, McpServer } from '../../src/core/model';
import { exchange } from '../../src/core/probe/http';
import { decodeJwtClaims } from '../../src/core/probe/jwt';
import { refusalFor } from '../../src/core/probe/urls';
import { probeServer } from '../../src/core/probe/probe';
import { storageKey } from '../../src/core/storageKey';
import type { TokenStatus } from '../../src/core/tokenStatus';
import { startHostileServer } from './support/hostileServer';
import { sandbox, type Sandbox } from './support/sandbox';

function all(scan: ConfigScan): Finding[] {
  return [...scan.findings, ...scan.servers.flatMap((s) => s.findings)];
}

describe('hardening: regressions found by generated inputs', () => {
  let s: Sandbox;
  beforeEach(async () => (s = await sandbox('regress')));
  afterEach(() => s.remove());

  it('a ~/.claude.json nested 20,000 levels deep is read (JSON.parse takes it, so Claude Code does), not a stack overflow', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const file = path.join(s.home, '.claude.json');
    await fs.writeFile(file, `{\n  "mcpServers": {\n    "good": {"type": "http", "url": "https://good.example/mcp"},\n    "odd": {"type": "http", "url": "https://odd.example/mcp", "headers": ${deep}}\n  }\n}\n`);
    const scan = await scanClaudeCode(s.e);
    assert.deepEqual(scan.servers.map((x) => x.name), ['good', 'odd']);
    const odd = scan.servers.find((x) => x.name === 'odd')!;
    assert.deepEqual(odd.findings.map((f) => [f.code, f.location?.line]), [['config.invalid-entry', 4]]);
  });

  it('a broken ~/.claude.json whose error sits 20,000 levels deep is config.invalid-json on that line, not a stack overflow', async () => {
    const file = path.join(s.home, '.claude.json');
    await fs.writeFile(file, `{\n  "mcpServers": {},\n  "x":\n    ${'['.repeat(20_000)}1 2${']'.repeat(20_000)}\n}\n`);
    const scan = await scanClaudeCode(s.e);
    const f = all(scan).filter((x) => x.location?.file === file);
    assert.deepEqual(f.map((x) => [x.code, x.location?.line]), [['config.invalid-json', 4]]);
    // The column is where the brackets too deep to walk begin: inside the run, before the error.
    const column = f[0]!.location!.column;
    assert.ok(column > 5 && column < 5 + 20_000, `column ${column}`);
    assert.match(f[0]!.detail, /invalid JSON inside deeply nested brackets/);
  });

  it('one entry with 20,000 wrong values gets five findings and one that counts the rest, in well under a second', async () => {
    const file = path.join(s.project, '.mcp.json');
    const numbers = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => i));
    await fs.writeFile(file, `{"mcpServers": {"p": {"command": "node", "args": ${numbers}}}}`);
    const started = Date.now();
    const scan = await scanClaudeCode(s.e);
    const p = scan.servers.find((x) => x.name === 'p')!;
    const shape = p.findings.filter((f) => f.code === 'config.invalid-entry');
    assert.equal(shape.length, 6);
    assert.equal(shape[5]!.title, '"p": 19995 more invalid values');
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  });

  it('a 30,000-character "type" or ${VARIABLE} is quoted shortened, not in full', async () => {
    const file = path.join(s.project, '.mcp.json');
    await fs.writeFile(file, JSON.stringify({ mcpServers: { t: { type: 'x'.repeat(30_000), url: 'https://t.example' }, v: { type: 'http', url: `https://v.example/\${${'V'.repeat(30_000)}}` } } }));
    const scan = await scanClaudeCode(s.e);
    const titles = all(scan).map((f) => f.title);
    assert.ok(titles.includes(`"t" has an unknown type "${'x'.repeat(40)}…"`), JSON.stringify(titles));
    assert.ok(titles.includes(`"v" uses \${${'V'.repeat(64)}…}, which is not set`), JSON.stringify(titles));
  });

  it('config.toml with a BOM: findings point at the key, not at 1:1', async () => {
    const file = path.join(s.home, '.codex', 'config.toml');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, '\uFEFF[mcp_servers.a]\nurl = "https://a.example/mcp"\n\n[mcp_servers.b]\nurl = 5\n');
    const scan = await scanCodex(s.e);
    const f = all(scan).find((x) => x.code === 'config.invalid-entry');
    assert.deepEqual([f?.location?.line, f?.location?.column], [5, 1]);
    assert.deepEqual(tomlKeyPositions('\uFEFFa = 1').get(['a']), { line: 1, column: 1 });
  });

  it('an inline table nested 999 deep in config.toml (smol-toml takes 1,000) is scanned in milliseconds, not seconds', async () => {
    const text = `x = ${'{ a = '.repeat(999)}1${' }'.repeat(999)}\n[mcp_servers.a]\nurl = "https://a.example/mcp"\n`;
    const started = Date.now();
    const positions = tomlKeyPositions(text);
    assert.ok(Date.now() - started < 200, `took ${Date.now() - started} ms`);
    assert.deepEqual(positions.get(['mcp_servers', 'a', 'url']), { line: 3, column: 1 });
  });

  it('a token pasted as bearer_token_env_var, or a long mcp_oauth_credentials_store value, is never repeated in a finding', async () => {
    const file = path.join(s.home, '.codex', 'config.toml');
    await fs.mkdir(path.dirname(file), { recursive: true });
    const pasted = `eyJ${'a'.repeat(40)}.eyJ${'b'.repeat(40)}.${'c'.repeat(43)}`;
    const store = 'k'.repeat(5000);
    await fs.writeFile(file, `mcp_oauth_credentials_store = "${store}"\n[mcp_servers.a]\nurl = "https://a.example/mcp"\nbearer_token_env_var = "${pasted}"\n`);
    const scan = await scanCodex(s.e);
    const text = all(scan).map((f) => `${f.title} ${f.detail}`).join('\n');
    assert.ok(!text.includes(pasted.slice(0, 16)) && !text.includes('k'.repeat(41)), text);
    assert.match(text, /"a": the variable named for its bearer token is not a variable name/);
    // A real variable name is still named, so the user knows what to set.
    await fs.writeFile(file, '[mcp_servers.a]\nurl = "https://a.example/mcp"\nbearer_token_env_var = "A_TOKEN"\n');
    assert.match(all(await scanCodex(s.e)).map((f) => f.title).join('\n'), /"a" uses \$A_TOKEN, which is not set/);
  });

  it('a JWT whose exp or iat is 1e308 decodes without those claims instead of Infinity', () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = decodeJwtClaims(`${b64({ alg: 'none' })}.${b64({ exp: 1e308, iat: -1e308, aud: 'a' })}.sig`);
    assert.deepEqual(claims, { aud: ['a'], scopes: [] });
    assert.equal(decodeJwtClaims(`${b64({ alg: 'none' })}.${b64({ exp: 1_900_000_000 })}.sig`)?.exp, 1_900_000_000_000);
  });

  it('a stored expiry of 1e308 and a token claiming exp 1e300 are reported, not a RangeError that loses the whole probe', async () => {
    const hostile = await startHostileServer({ bombMegabytes: 1 });
    try {
      const url = `${hostile.origin}/via-prm/html/mcp`;
      const server: McpServer = { client: 'claude-code', scope: 'user', name: 'x', transport: 'http', url, headerNames: [], headers: {}, enabled: true, source: { file: '/dev/null', line: 1, column: 1 }, findings: [] };
      const token: TokenStatus = { state: 'stored', expiresAt: 1e308, fingerprint: 'sha256:0000', hasRefreshToken: false, store: 'test', storeKind: 'file', clientId: 'c', scopes: [] };
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const jwt = `${b64({ alg: 'none' })}.${b64({ exp: 1e300, aud: url })}.sig`;
      const p = await probeServer({ server, token, readAccessToken: async () => jwt }, { http: { fetch, timeoutMs: 2000, maxBodyBytes: 1024 * 1024 } });
      const implausible = p.findings.find((f) => f.code === 'token.expiry-implausible');
      assert.ok(implausible, JSON.stringify(p.findings.map((f) => f.code)));
      assert.match(implausible.detail, /The store says 1e\+308 ms \(not a date\)/);
    } finally {
      await hostile.close();
    }
  });


  it('every spelling of the link-local metadata address is refused, IPv4-mapped IPv6 included, and nothing is sent', async () => {
    const spellings = [
      'https://169.254.169.254/latest/meta-data/',
      'https://2852039166/',
      'https://0xa9fea9fe/',
      'https://0251.0376.0251.0376/',
      'https://169.254.169.254./',
      'https://[::ffff:169.254.169.254]/',
      'https://[0:0:0:0:0:ffff:a9fe:a9fe]/',
      'https://[FE80::1]/',
      'https://[febf::1]/',
    ];
    for (const u of spellings) assert.equal(refusalFor(new URL(u)), 'link-local', u);
    const ex = await exchange({ fetch: () => assert.fail('a request went out'), timeoutMs: 1000, maxBodyBytes: 1024 }, { step: 'resource-metadata', method: 'GET', url: 'https://[::ffff:169.254.169.254]/', read: 'full', bearer: { token: 'x', origin: 'https://[::ffff:a9fe:a9fe]' } });
    assert.equal(ex.entry.outcome, 'refused');
    // Loopback stays allowed for plain http; a mapped loopback is not treated as loopback.
    assert.equal(refusalFor(new URL('http://127.1/')), undefined);
    assert.equal(refusalFor(new URL('http://[::ffff:127.0.0.1]/')), 'insecure');
  });
});

describe('hardening: found by generated inputs, fixed since (src/core/time.ts isoTime)', () => {
  // Was a bug (fixed with src/core/time.ts isoTime): an expiry a store may hold but no Date can (1e308 ms; toISOString throws past
  // ±8.64e15) makes `status --json` and `backups` exit 2 with "Invalid time value"
  // (src/cli/commands/status.ts tokenJson, src/cli/commands/backups.ts), and Claude Code's store
  // list() throw when that entry has a duplicate or a needs-auth stamp carries such a time
  // (src/core/credentials/claudeCodeFindings.ts; codexFindings.ts has the same pattern), which
  // status shows as "Could not read …" with every server "not logged in". The probe's own uses are
  // fixed (tokenJudgement.ts isoDate, jwt.ts).
  it('a stored expiry of 1e308 ms: status --json, backups and the store listing still work and name the entry', async () => {
    const s = await sandbox('huge-expiry');
    try {
      const url = 'https://x.example/mcp';
      await fs.writeFile(path.join(s.home, '.claude.json'), JSON.stringify({ mcpServers: { x: { type: 'http', url } } }));
      await fs.mkdir(path.join(s.home, '.claude'), { recursive: true });
      const key = storageKey('x', 'http', url);
      await fs.writeFile(path.join(s.home, '.claude', '.credentials.json'), JSON.stringify({ mcpOAuth: { [key]: { serverName: 'x', serverUrl: url, accessToken: 'a', expiresAt: 1e308 }, 'x|0000000000000000': { serverName: 'x', accessToken: 'b', expiresAt: 1e300 } } }));
      await fs.writeFile(path.join(s.home, '.claude', 'mcp-needs-auth-cache.json'), JSON.stringify({ x: { timestamp: 1e308 } }));
      for (const args of [['status', '--offline', '--json'], ['backup'], ['backups'], ['status', '--offline']]) {
        let out = '';
        const code = await runCli(args, { stdout: (t) => (out += t), stderr: (t) => (out += t), env: { HOME: s.home }, cwd: s.home });
        assert.notEqual(code, 2, `${args.join(' ')}: ${out}`);
        assert.ok(!out.includes('Could not read'), `${args.join(' ')}: ${out}`);
      }
    } finally {
      await s.remove();
    }
  });
});
