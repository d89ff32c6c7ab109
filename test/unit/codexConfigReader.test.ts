import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanCodex } from '../../src/core/config/codex';
import type { Environment } from '../../src/core/environment';

describe('Codex config reader', () => {
  let home: string;
  let project: string;
  const env = (extra: Partial<Environment> = {}): Environment => ({
    home,
    env: { HOME: home },
    platform: 'linux',
    projectDirs: [project],
    ...extra,
  });
  const writeConfig = (text: string, file = path.join(home, '.codex', 'config.toml')) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-codex-'));
    project = path.join(home, 'src', 'app');
    fs.mkdirSync(project, { recursive: true });
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('lists nothing and reports nothing when Codex is not configured, but names the file to watch', async () => {
    const scan = await scanCodex(env());
    assert.deepEqual(scan.servers, []);
    assert.deepEqual(scan.findings, []);
    assert.ok(scan.files.includes(path.join(home, '.codex', 'config.toml')));
  });

  it('reads http and stdio servers with their header names, oauth settings and entry lines', async () => {
    const file = writeConfig(
      [
        'model = "gpt-5-codex"',
        '',
        '[mcp_servers.lab]',
        'url = "http://127.0.0.1:38423/mcp"',
        'http_headers = { "X-Team" = "core" }',
        'env_http_headers = { "X-Api-Key" = "LAB_KEY" }',
        '',
        '[mcp_servers.lab.oauth]',
        'client_id = "pre-registered"',
        'callback_port = 5555',
        '',
        '  [ mcp_servers . "my docs" ]',
        'command = "npx"',
        'args = ["-y", "docs-mcp"]',
        'enabled = false',
      ].join('\n'),
    );
    const scan = await scanCodex(env({ env: { HOME: home, LAB_KEY: 'k-123' } }));
    assert.deepEqual(scan.findings, []);
    const [lab, docs] = scan.servers;
    assert.equal(lab?.transport, 'http');
    assert.equal(lab?.storageKey, 'lab|0273820822139ec6'); // Codex hashes no headers, whatever is configured
    assert.deepEqual(lab?.headerNames, ['X-Team', 'X-Api-Key']);
    assert.equal(lab?.headers['X-Api-Key'], 'k-123');
    assert.deepEqual(lab?.oauth, { clientId: 'pre-registered', callbackPort: 5555 });
    assert.deepEqual(lab?.source, { file, line: 3, column: 1 });
    assert.equal(docs?.name, 'my docs');
    assert.equal(docs?.transport, 'stdio');
    assert.equal(docs?.enabled, false);
    assert.equal(docs?.storageKey, undefined);
    assert.deepEqual(docs?.source, { file, line: 12, column: 3 });
  });

  it('finds entries written as inline tables and dotted keys', async () => {
    const file = writeConfig(['[mcp_servers]', 'a = { url = "https://a.example/mcp" }', '', '[other]', 'x = 1'].join('\n'));
    const scan = await scanCodex(env());
    assert.deepEqual(scan.servers[0]?.source, { file, line: 2, column: 1 });
    const dotted = writeConfig('# top\nmcp_servers.b.url = "https://b.example/mcp"\n');
    assert.deepEqual((await scanCodex(env())).servers[0]?.source, { file: dotted, line: 2, column: 1 });
  });

  it('names the variable, never a value, when an env header or bearer variable is unset', async () => {
    writeConfig('[mcp_servers.api]\nurl = "https://api.example/mcp"\nbearer_token_env_var = "API_TOKEN"\nenv_http_headers = { "X-Key" = "API_KEY" }\n');
    const scan = await scanCodex(env());
    const codes = scan.servers[0]?.findings.map((f) => [f.code, f.title]);
    assert.deepEqual(codes, [
      ['config.unset-variable', '"api" uses $API_KEY, which is not set'],
      ['config.unset-variable', '"api" uses $API_TOKEN, which is not set'],
    ]);
    assert.equal(scan.servers[0]?.bearerTokenEnvVar, 'API_TOKEN');
  });

  it('reports broken TOML at its line and column, and keeps reading the project config', async () => {
    const file = writeConfig('[mcp_servers.a]\nurl = "https://a.example/mcp"\nenabled = \n');
    writeConfig('[mcp_servers.p]\nurl = "https://p.example/mcp"\n', path.join(project, '.codex', 'config.toml'));
    const scan = await scanCodex(env());
    assert.equal(scan.findings.length, 1);
    assert.equal(scan.findings[0]?.code, 'config.invalid-toml');
    assert.deepEqual(scan.findings[0]?.location, { file, line: 3, column: 11 });
    assert.deepEqual(scan.servers.map((s) => s.name), ['p']);
  });

  it('flags entries with wrong types, both or neither of url and command, and bad URLs, at their lines', async () => {
    writeConfig(
      [
        '[mcp_servers.ok]',
        'url = "https://ok.example/mcp"',
        '[mcp_servers.both]',
        'url = "https://x.example/mcp"',
        'command = "x"',
        '[mcp_servers.neither]',
        'enabled = true',
        '[mcp_servers.typed]',
        'url = "https://x.example/mcp"',
        'enabled = "yes"',
        '[mcp_servers.ftp]',
        'url = "ftp://x.example/mcp"',
        'mcp_oauth_credentials_store_typo = 1',
      ].join('\n'),
    );
    const scan = await scanCodex(env());
    const byLine = scan.findings.map((f) => [f.code, f.location?.line]);
    assert.deepEqual(byLine, [
      ['config.missing-url', 3],
      ['config.missing-url', 6],
      ['config.invalid-entry', 8],
    ]);
    assert.deepEqual(scan.servers.map((s) => s.name), ['ok', 'ftp']);
    assert.deepEqual(scan.servers[1]?.findings.map((f) => [f.code, f.location?.line]), [['config.invalid-url', 11]]);
  });

  it('rejects an unknown mcp_oauth_credentials_store at its line', async () => {
    writeConfig('model = "x"\nmcp_oauth_credentials_store = "vault"\n');
    const scan = await scanCodex(env());
    assert.deepEqual(scan.findings.map((f) => [f.code, f.location?.line]), [['config.invalid-setting', 2]]);
  });

  it('reads a project .codex/config.toml, enabled only when the user config trusts the project', async () => {
    writeConfig('[mcp_servers.p]\nurl = "https://p.example/mcp"\n', path.join(project, '.codex', 'config.toml'));
    const untrusted = await scanCodex(env());
    assert.equal(untrusted.servers[0]?.scope, 'project');
    assert.equal(untrusted.servers[0]?.enabled, false);
    assert.equal(untrusted.servers[0]?.findings[0]?.code, 'config.untrusted-project');
    writeConfig(`[projects."${project}"]\ntrust_level = "trusted"\n`);
    const trusted = await scanCodex(env());
    assert.equal(trusted.servers[0]?.enabled, true);
    assert.equal(trusted.servers[0]?.projectPath, project);
    assert.deepEqual(trusted.servers[0]?.findings, []);
  });

  it('honours CODEX_HOME', async () => {
    const other = path.join(home, 'elsewhere');
    const file = writeConfig('[mcp_servers.x]\ncommand = "x"\n', path.join(other, 'config.toml'));
    const scan = await scanCodex(env({ env: { HOME: home, CODEX_HOME: other } }));
    assert.equal(scan.servers[0]?.source.file, file);
  });
});
