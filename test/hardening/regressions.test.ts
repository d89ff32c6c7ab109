// The bugs the generated inputs found, each pinned by one fixed input, so they stay fixed whatever
// the seed: the reader's answer for that input, as a user would see it.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { scanClaudeCode } from '../../src/core/config/claudeCode';
import { scanCodex } from '../../src/core/config/codex';
import { tomlKeyPositions } from '../../src/core/config/codexTomlPositions';
import type { ConfigScan, Finding } from '../../src/core/model';
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
});
