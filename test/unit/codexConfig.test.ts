// The Codex config reader over real files in a sandbox HOME / CODEX_HOME, plus runs of the real
// codex binary (0.171.0 pinned; 0.169.0 under MAD_CODEX_BIN) writing the config we then read back,
// and reading configs we wrote by hand (auth, http_headers_helper, the 0.171 refusals).
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCodexSettings, scanCodex } from '../../src/core/config/codex';
import type { Environment } from '../../src/core/environment';
import type { ConfigScan, McpServer } from '../../src/core/model';
import { runBounded } from '../support/boundedProcess';
import { CODEX_BIN, codexMcpAdd, codexMcpListJson, makeSandboxHome, sandboxEnv } from '../support/realClients';

describe('Codex config reader', () => {
  let home: string;
  let project: string;
  let userFile: string;
  const env = (extra: Partial<Environment> = {}, vars: Record<string, string> = {}): Environment => ({
    home,
    env: { HOME: home, ...vars },
    platform: 'linux',
    projectDirs: [project],
    ...extra,
  });
  const write = (text: string, file = userFile) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };
  const projectFile = (dir = project) => path.join(dir, '.codex', 'config.toml');
  const trust = (dir: string, level = 'trusted') => `[projects.${JSON.stringify(fs.realpathSync(dir))}]\ntrust_level = "${level}"\n`;
  const named = (scan: ConfigScan, name: string, scope?: string): McpServer => {
    const s = scan.servers.find((x) => x.name === name && (scope === undefined || x.scope === scope));
    assert.ok(s, `no server "${name}" in ${JSON.stringify(scan.servers.map((x) => `${x.scope}:${x.name}`))}`);
    return s;
  };
  const codesAndLines = (scan: ConfigScan) => scan.findings.map((f) => [f.code, f.location?.line]);

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-codex-'));
    userFile = path.join(home, '.codex', 'config.toml');
    project = path.join(home, 'src', 'app');
    fs.mkdirSync(project, { recursive: true });
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('reports nothing when Codex is not configured, but names the files to watch', async () => {
    const scan = await scanCodex(env());
    assert.deepEqual(scan.servers, []);
    assert.deepEqual(scan.findings, []);
    assert.deepEqual(scan.files, [userFile, projectFile()]);
  });

  it('reads a streamable-HTTP and a stdio server the way Codex sends them', async () => {
    const apiKey = randomBytes(16).toString('hex');
    const file = write(
      [
        'model = "gpt-5-codex"',
        '',
        '[mcp_servers.lab]',
        'url = "http://127.0.0.1:38423/mcp"',
        'http_headers = { "X-Team" = "core" }',
        'env_http_headers = { "X-Api-Key" = "LAB_KEY" }',
        'bearer_token_env_var = "LAB_TOKEN"',
        '',
        '[mcp_servers.docs]',
        'command = "npx"',
        'args = ["-y", "docs-mcp"]',
        'env = { DOCS_MODE = "ro" }',
        'cwd = "/srv/docs"',
        'enabled = false',
      ].join('\n'),
    );
    const scan = await scanCodex(env({}, { LAB_KEY: apiKey, LAB_TOKEN: 'set' }));
    assert.deepEqual(scan.findings, []);
    assert.deepEqual(named(scan, 'lab'), {
      client: 'codex',
      scope: 'user',
      name: 'lab',
      transport: 'http',
      url: 'http://127.0.0.1:38423/mcp',
      rawUrl: 'http://127.0.0.1:38423/mcp',
      // bearer_token_env_var: Codex never reads an MCP OAuth login for it (no credential key).
      headerNames: ['X-Team', 'X-Api-Key'],
      headers: { 'X-Team': 'core', 'X-Api-Key': apiKey },
      bearerTokenEnvVar: 'LAB_TOKEN',
      enabled: true,
      source: { file, line: 3, column: 1 },
      findings: [],
    });
    assert.deepEqual(named(scan, 'docs'), {
      client: 'codex',
      scope: 'user',
      name: 'docs',
      transport: 'stdio',
      command: 'npx',
      headerNames: [],
      headers: {},
      enabled: false,
      source: { file, line: 9, column: 1 },
      findings: [],
    });
  });

  it('reads the oauth table, scopes and oauth_resource, and keeps the client secret out of the model', async () => {
    const secret = randomBytes(12).toString('hex');
    write(
      [
        '[mcp_servers.pre]',
        'url = "https://pre.example/mcp"',
        'scopes = ["mcp:tools", "offline_access"]',
        'oauth_resource = "https://pre.example/"',
        '',
        '[mcp_servers.pre.oauth]',
        'client_id = "pre-registered"',
        `client_secret = "${secret}"`,
        'callback_port = 5555',
        'callback_url = "http://127.0.0.1:5555/callback/x"',
      ].join('\n'),
    );
    const scan = await scanCodex(env());
    const pre = named(scan, 'pre');
    assert.deepEqual(pre.oauth, {
      clientId: 'pre-registered',
      callbackPort: 5555,
      callbackUrl: 'http://127.0.0.1:5555/callback/x',
      scopes: ['mcp:tools', 'offline_access'],
      resource: 'https://pre.example/',
    });
    assert.ok(!JSON.stringify(scan).includes(secret), 'the client secret must not reach the scan');
  });

  it('finds entries written as inline tables and dotted keys, at their keys', async () => {
    const file = write(
      [
        '# servers',
        'mcp_servers.one = { url = "https://one.example/mcp", oauth = { client_id = "c1" } }',
        'mcp_servers.two.url = "https://two.example/mcp"',
        '[other]',
        'x = 1',
      ].join('\n'),
    );
    const dotted = await scanCodex(env());
    assert.deepEqual(dotted.findings, []);
    assert.deepEqual(
      dotted.servers.map((s) => [s.name, s.transport, s.source]),
      [
        ['one', 'http', { file, line: 2, column: 1 }],
        ['two', 'http', { file, line: 3, column: 1 }],
      ],
    );
    assert.equal(named(dotted, 'one').oauth?.clientId, 'c1');

    write(['model = "x"', '[mcp_servers]', '  three = { command = "three-mcp", args = [', '    "--flag",', '  ] }', 'four.command = "four-mcp"'].join('\n'));
    const table = await scanCodex(env());
    assert.deepEqual(table.findings, []);
    assert.deepEqual(
      table.servers.map((s) => [s.name, s.transport, s.source.line, s.source.column]),
      [
        ['three', 'stdio', 3, 3],
        ['four', 'stdio', 6, 1],
      ],
    );
  });

  it('reads quoted server names and is not fooled by brackets inside strings, arrays and comments', async () => {
    const file = write(
      [
        'notes = """',
        '[mcp_servers.decoy]',
        '"""',
        "more = '''[mcp_servers.decoy2]'''",
        '# [mcp_servers.decoy3]',
        'list = [',
        '  [1, 2],',
        '  "[mcp_servers.decoy4]",',
        ']',
        '[mcp_servers."my server"]',
        'url = "https://a.example/mcp"',
        "  [ mcp_servers . 'lit.name' ] # a comment",
        'command = "x"',
        '[mcp_servers."esc\\u0061ped"]',
        'command = "y"',
      ].join('\n'),
    );
    const scan = await scanCodex(env());
    assert.deepEqual(
      scan.servers.map((s) => [s.name, s.source.line, s.source.column]),
      [
        ['my server', 10, 1],
        ['lit.name', 12, 3],
        ['escaped', 14, 1],
      ],
    );
    assert.equal(named(scan, 'my server').storageKey?.startsWith('my server|'), true);
    assert.equal(scan.servers[0]?.source.file, file);
  });

  describe('client settings', () => {
    for (const mode of ['auto', 'file', 'keyring'] as const) {
      it(`reads mcp_oauth_credentials_store = "${mode}"`, async () => {
        write(`mcp_oauth_credentials_store = "${mode}"\n`);
        const settings = await readCodexSettings(env());
        assert.equal(settings.credentialsStore, mode);
        assert.equal(settings.credentialsStoreConfigured, true);
        assert.deepEqual(settings.findings, []);
      });
    }

    it('defaults to auto when unset, and reads the callback port and url', async () => {
      write('mcp_oauth_callback_port = 38111\nmcp_oauth_callback_url = "https://relay.example/cb"\n');
      const settings = await readCodexSettings(env());
      assert.deepEqual(settings, {
        file: userFile,
        credentialsStore: 'auto',
        credentialsStoreConfigured: false,
        callbackPort: 38111,
        callbackUrl: 'https://relay.example/cb',
        findings: [],
      });
      assert.equal((await readCodexSettings(env({ env: { HOME: home, CODEX_HOME: path.join(home, 'none') } }))).credentialsStore, 'auto');
    });

    it('reports values Codex refuses at their lines, in the settings and in the scan', async () => {
      write('model = "x"\nmcp_oauth_credentials_store = "vault"\nmcp_oauth_callback_port = 70000\nmcp_oauth_callback_url = 3\n');
      const settings = await readCodexSettings(env());
      assert.equal(settings.credentialsStore, 'auto');
      assert.equal(settings.credentialsStoreConfigured, false);
      assert.deepEqual(
        settings.findings.map((f) => [f.code, f.location?.line, f.severity]),
        [
          ['config.invalid-setting', 2, 'error'],
          ['config.invalid-setting', 3, 'error'],
          ['config.invalid-setting', 4, 'error'],
        ],
      );
      assert.match(settings.findings[0]!.detail, /must be one of "auto", "file", "keyring", not "vault"/);
      assert.deepEqual(codesAndLines(await scanCodex(env())), codesAndLines({ ...settings, servers: [], files: [] }));
    });
  });

  describe('environment variables', () => {
    it('names an unset or empty variable, never a value, and leaves its header out', async () => {
      const token = randomBytes(16).toString('hex');
      write(
        [
          '[mcp_servers.api]',
          'url = "https://api.example/mcp"',
          'bearer_token_env_var = "API_TOKEN"',
          'env_http_headers = { "X-Key" = "API_KEY", "X-Org" = "API_ORG", "X-Set" = "API_SET" }',
        ].join('\n'),
      );
      const scan = await scanCodex(env({}, { API_ORG: '  ', API_SET: token }));
      const api = named(scan, 'api');
      assert.deepEqual(
        api.findings.map((f) => [f.code, f.title, f.location?.line]),
        [
          ['config.unset-variable', '"api" uses $API_KEY, which is not set', 1],
          ['config.unset-variable', '"api" uses $API_ORG, which is empty', 1],
          ['config.unset-variable', '"api" uses $API_TOKEN, which is not set', 1],
        ],
      );
      assert.deepEqual(api.headerNames, ['X-Key', 'X-Org', 'X-Set']);
      assert.deepEqual(api.headers, { 'X-Set': token });
      assert.equal(api.bearerTokenEnvVar, 'API_TOKEN');
      assert.ok(!JSON.stringify(api.findings).includes(token));
    });

    it('is quiet when the variables are set', async () => {
      write('[mcp_servers.api]\nurl = "https://api.example/mcp"\nbearer_token_env_var = "API_TOKEN"\n');
      const scan = await scanCodex(env({}, { API_TOKEN: randomBytes(8).toString('hex') }));
      assert.deepEqual(named(scan, 'api').findings, []);
    });
  });

  describe('malformed input', () => {
    it('reports broken TOML with line, column and reason, and still reads a trusted project', async () => {
      const file = write('[mcp_servers.a]\nurl = "https://a.example/mcp"\nenabled = \n' + trust(project));
      write('[mcp_servers.p]\nurl = "https://p.example/mcp"\n', projectFile());
      const scan = await scanCodex(env());
      assert.deepEqual(
        scan.findings.map((f) => [f.code, f.severity, f.location]),
        [['config.invalid-toml', 'error', { file, line: 3, column: 11 }]],
      );
      assert.match(scan.findings[0]!.detail, /:3:11: invalid value\. Codex refuses to start/);
      // The broken user file cannot say the project is trusted, so its server is listed disabled.
      assert.deepEqual(
        scan.servers.map((s) => [s.name, s.enabled]),
        [['p', false]],
      );
    });

    it('flags each bad entry at its line and keeps the good ones', async () => {
      write(
        [
          '[mcp_servers.ok]', // 1
          'url = "https://ok.example/mcp"',
          '[mcp_servers.both]', // 3
          'command = "x"',
          'url = "https://x.example/mcp"', // 5
          '[mcp_servers.neither]', // 6
          'enabled = true',
          '[mcp_servers.typed]', // 8
          'url = "https://x.example/mcp"',
          'enabled = "yes"', // 10
          '[mcp_servers.ftp]', // 11
          'url = "ftp://x.example/mcp"',
          '[mcp_servers.port]', // 13
          'url = "https://x.example/mcp"',
          'oauth = { callback_port = 70000 }', // 15
          '[mcp_servers.hdr]', // 16
          'url = "https://x.example/mcp"',
          'http_headers = { X-N = 1 }', // 18
          '[mcp_servers.args]', // 19
          'url = "https://x.example/mcp"',
          'args = ["a"]', // 21
          '[mcp_servers.stdio-oauth]', // 22
          'command = "x"',
          'oauth = { client_id = "c" }', // 24
          '[mcp_servers.secret]', // 25
          'url = "https://x.example/mcp"',
          'oauth = { client_secret = "s" }', // 27
          '[mcp_servers]',
          'scalar = 3', // 29
          'after = { url = "https://after.example/mcp" }', // 30
        ].join('\n'),
      );
      const scan = await scanCodex(env());
      assert.deepEqual(codesAndLines(scan), [
        ['config.invalid-entry', 5],
        ['config.missing-url', 6],
        ['config.invalid-entry', 10],
        ['config.invalid-entry', 15],
        ['config.invalid-entry', 18],
        ['config.invalid-entry', 21],
        ['config.invalid-entry', 24],
        ['config.invalid-entry', 27],
        ['config.invalid-entry', 29],
      ]);
      const details = scan.findings.map((f) => f.detail.split(': ').slice(1).join(': ').split('. Codex')[0]);
      assert.deepEqual(details, [
        'mcp_servers.both url is not supported for stdio (the entry has a command)',
        'mcp_servers.neither has neither url (streamable HTTP) nor command (stdio)',
        'mcp_servers.typed enabled must be a boolean, found a string',
        'mcp_servers.port oauth.callback_port must be at most 65535',
        'mcp_servers.hdr http_headers.X-N must be a string, found an integer',
        'mcp_servers.args args is not supported for streamable_http (the entry has a url)',
        'mcp_servers.stdio-oauth oauth is not supported for stdio (the entry has a command)',
        'mcp_servers.secret oauth.client_secret requires oauth.client_id',
        'mcp_servers.scalar is an integer, not a table',
      ]);
      assert.ok(scan.findings.every((f) => f.severity === 'error' && /Codex refuses to load/.test(f.detail)));
      assert.deepEqual(
        scan.servers.map((s) => s.name),
        ['ok', 'ftp', 'after'],
      );
      assert.deepEqual(
        named(scan, 'ftp').findings.map((f) => [f.code, f.location?.line]),
        [['config.invalid-url', 11]],
      );
    });

    it('reports an mcp_servers that is not a table', async () => {
      write('model = "x"\nmcp_servers = 3\n');
      const scan = await scanCodex(env());
      assert.deepEqual(codesAndLines(scan), [['config.invalid-entry', 2]]);
      assert.match(scan.findings[0]!.detail, /not an integer/);
    });

    it('reports a config that cannot be read', async () => {
      fs.mkdirSync(userFile, { recursive: true }); // a directory where the file should be: EISDIR
      const scan = await scanCodex(env());
      assert.deepEqual(
        scan.findings.map((f) => [f.code, f.location?.file]),
        [['config.unreadable', userFile]],
      );
    });
  });

  describe('project config', () => {
    const projectServer = '[mcp_servers.p]\nurl = "https://p.example/mcp"\n';

    it('lists an untrusted project server disabled, with what Codex says about trusting it', async () => {
      const file = write(projectServer, projectFile());
      const scan = await scanCodex(env());
      const p = named(scan, 'p');
      assert.equal(p.scope, 'project');
      assert.equal(p.enabled, false);
      assert.equal(p.projectPath, project);
      assert.deepEqual(p.source, { file, line: 1, column: 1 });
      assert.deepEqual(
        p.findings.map((f) => [f.code, f.severity]),
        [['config.untrusted-project', 'info']],
      );
      assert.match(p.findings[0]!.detail, new RegExp(`add ${fs.realpathSync(project)} as a trusted project in ${userFile}`));

      write(trust(project, 'untrusted'));
      const marked = named(await scanCodex(env()), 'p');
      assert.equal(marked.enabled, false);
      assert.match(marked.findings[0]!.detail, /is marked as untrusted/);
    });

    it('loads a trusted project server, enabled', async () => {
      write(projectServer, projectFile());
      write(trust(project));
      const p = named(await scanCodex(env()), 'p');
      assert.equal(p.enabled, true);
      assert.equal(p.projectPath, project);
      assert.equal(p.storageKey, 'p|' + p.storageKey?.split('|')[1]);
      assert.deepEqual(p.findings, []);
    });

    it('layers every .codex from the git root down to the folder, trusted through the root', async () => {
      const root = path.join(home, 'repo');
      const sub = path.join(root, 'packages', 'web');
      fs.mkdirSync(path.join(root, '.git'), { recursive: true });
      write('[mcp_servers.rootsrv]\nurl = "https://root.example/mcp"\n', projectFile(root));
      write('[mcp_servers.subsrv]\ncommand = "sub-mcp"\n', projectFile(sub));
      write(trust(root));
      const scan = await scanCodex(env({ projectDirs: [sub] }));
      assert.deepEqual(
        scan.servers.map((s) => [s.name, s.scope, s.enabled, s.projectPath]),
        [
          ['rootsrv', 'project', true, root],
          ['subsrv', 'project', true, sub],
        ],
      );
      assert.deepEqual(scan.files, [userFile, projectFile(root), path.join(root, 'packages', '.codex', 'config.toml'), projectFile(sub)]);
    });

    it('does not pass trust down from a parent directory that is not the project root', async () => {
      write(projectServer, projectFile());
      write(trust(path.dirname(project)));
      assert.equal(named(await scanCodex(env()), 'p').enabled, false);
    });

    it('merges a trusted project entry over the user entry of the same name, key by key', async () => {
      write(`[mcp_servers.lab]\nurl = "http://127.0.0.1:38423/mcp"\n${trust(project)}`);
      const file = write('[mcp_servers.lab]\nenabled = false\n', projectFile());
      const scan = await scanCodex(env());
      assert.equal(named(scan, 'lab', 'user').enabled, true);
      const overridden = named(scan, 'lab', 'project');
      assert.equal(overridden.enabled, false);
      assert.equal(overridden.url, 'http://127.0.0.1:38423/mcp');
      assert.equal(overridden.storageKey, 'lab|0273820822139ec6');
      assert.deepEqual(overridden.source, { file, line: 1, column: 1 });
      assert.deepEqual(
        overridden.findings.map((f) => f.code),
        ['config.project-override'],
      );
    });

    it('treats a broken trusted project file as an error and a broken untrusted one as a warning', async () => {
      write('x = \n', projectFile());
      const untrusted = await scanCodex(env());
      assert.deepEqual(
        untrusted.findings.map((f) => [f.code, f.severity, f.location?.file]),
        [['config.invalid-toml', 'warning', projectFile()]],
      );
      write(trust(project));
      assert.deepEqual(
        (await scanCodex(env())).findings.map((f) => [f.code, f.severity]),
        [['config.invalid-toml', 'error']],
      );
    });

    it('reads a project at HOME once: its .codex is CODEX_HOME itself', async () => {
      write('[mcp_servers.u]\ncommand = "u"\n');
      const scan = await scanCodex(env({ projectDirs: [home] }));
      assert.deepEqual(
        scan.servers.map((s) => [s.name, s.scope]),
        [['u', 'user']],
      );
    });
  });


  describe('0.171 auth rules', () => {
    it('maps auth = "chatgpt", http_headers_helper and ema_auth to how Codex authenticates them', async () => {
      const file = write(
        [
          'chatgpt_base_url = "https://preview.chatgpt-staging.com/backend-api/"',
          '[mcp_servers.gpt]', // 2
          'url = "https://chatgpt.com/backend-api/wham/mcp"',
          'auth = "chatgpt"',
          '[mcp_servers.staging]', // 5
          'url = "https://preview.chatgpt-staging.com/mcp"',
          'auth = "chatgpt"',
          '[mcp_servers.elsewhere]', // 8
          'url = "https://mcp.example/mcp"',
          'auth = "chatgpt"',
          '[mcp_servers.helper]', // 11
          'url = "https://helper.example/mcp"',
          'http_headers_helper = "get-headers --json"',
          'environment_id = "local"',
          '[mcp_servers.ema]', // 15
          'url = "https://ema.example/mcp"',
          'auth = "ema_auth"',
          'oauth = { authorization_server_issuer = "https://as.example", token_endpoint_auth_method = "client_secret_post" }',
        ].join('\n'),
      );
      const scan = await scanCodex(env());
      assert.deepEqual(scan.findings, []);
      for (const name of ['gpt', 'staging']) {
        assert.equal(named(scan, name).chatgptAuth, true, name);
        assert.equal(named(scan, name).storageKey, undefined, `${name}: Codex reads no MCP OAuth login for it`);
      }
      const elsewhere = named(scan, 'elsewhere');
      assert.equal(elsewhere.chatgptAuth, undefined);
      assert.ok(elsewhere.storageKey);
      assert.deepEqual(elsewhere.findings.map((f) => [f.code, f.severity, f.location?.line]), [['config.chatgpt-auth-ignored', 'info', 8]]);
      const helper = named(scan, 'helper');
      assert.equal(helper.headersHelper, 'get-headers --json');
      assert.ok(helper.storageKey, 'a stored login wins over the helper, so it keeps its key');
      const ema = named(scan, 'ema');
      assert.equal(ema.enabled, false);
      assert.deepEqual(ema.findings.map((f) => [f.code, f.location?.line]), [['config.enterprise-auth-unsupported', 15]]);
      assert.equal(ema.source.file, file);
    });

    it('refuses what Codex 0.171 refuses, at the offending key', async () => {
      write(
        [
          '[mcp_servers.blank]', // 1
          'url = "https://x.example/mcp"',
          'http_headers_helper = "   "', // 3
          '[mcp_servers.remote]', // 4
          'url = "https://x.example/mcp"',
          'http_headers_helper = "h"', // 6
          'environment_id = "build-box"',
          '[mcp_servers.issuer]', // 8
          'url = "https://x.example/mcp"',
          'oauth = { authorization_server_issuer = "https://as.example" }', // 10
          '[mcp_servers.variant]', // 11
          'url = "https://x.example/mcp"',
          'auth = "vault"', // 13
          '[mcp_servers.stdio-helper]', // 14
          'command = "x"',
          'http_headers_helper = "h"', // 16
        ].join('\n'),
      );
      const scan = await scanCodex(env());
      assert.deepEqual(codesAndLines(scan), [
        ['config.invalid-entry', 3],
        ['config.invalid-entry', 6],
        ['config.invalid-entry', 10],
        ['config.invalid-entry', 13],
        ['config.invalid-entry', 16],
      ]);
      const details = scan.findings.map((f) => f.detail.split(': ').slice(1).join(': ').split('. Codex refuses')[0]);
      assert.deepEqual(details, [
        'mcp_servers.blank http_headers_helper must not be empty (Codex 0.171 refuses a blank one)',
        'mcp_servers.remote http_headers_helper is only supported for local MCP servers (environment_id is not "local"; Codex 0.171)',
        'mcp_servers.issuer oauth.authorization_server_issuer requires auth = "ema_auth" (Codex 0.171)',
        'mcp_servers.variant auth must be one of "oauth", "chatgpt", "ema_auth"',
        'mcp_servers.stdio-helper http_headers_helper is not supported for stdio (the entry has a command)',
      ]);
      assert.deepEqual(scan.servers, []);
    });
  });

  it('reads servers of a --profile config, marked with their profile', async () => {
    write('[mcp_servers.lab]\nurl = "http://127.0.0.1:38423/mcp"\n');
    const file = write('[mcp_servers.work]\nurl = "https://work.example/mcp"\n[mcp_servers.lab]\nenabled = false\n', path.join(home, '.codex', 'work.config.toml'));
    const scan = await scanCodex(env());
    assert.deepEqual(
      scan.servers.map((s) => [s.name, s.profile, s.enabled, s.source.file]),
      [
        ['lab', undefined, true, userFile],
        ['work', 'work', true, file],
        ['lab', 'work', false, file],
      ],
    );
    assert.deepEqual(named(scan, 'work').findings.map((f) => [f.code, f.severity]), [['config.profile-only', 'info']]);
    assert.ok(scan.files.includes(file));
  });

  it('honours CODEX_HOME', async () => {
    const other = path.join(home, 'elsewhere');
    const file = write('[mcp_servers.x]\ncommand = "x"\n', path.join(other, 'config.toml'));
    const scan = await scanCodex(env({ env: { HOME: home, CODEX_HOME: other } }));
    assert.deepEqual(
      scan.servers.map((s) => [s.name, s.source.file]),
      [['x', file]],
    );
    assert.equal(scan.files[0], file);
  });
});

describe('Codex config reader against the real codex binary (0.171, or 0.169 via MAD_CODEX_BIN)', function () {
  this.timeout(120_000);
  let home: string | undefined;
  after(() => home && fs.rmSync(home, { recursive: true, force: true }));

  it('reads back exactly what codex mcp add wrote, as codex mcp list --json sees it', async function () {
    home = await makeSandboxHome('mad-codex-cfg-');
    const version = await runBounded(CODEX_BIN, ['--version'], { cwd: home, env: sandboxEnv(home), timeoutMs: 30_000 }).catch((err: unknown) => ({ code: -1, stdout: String(err) }));
    // Skipped, not failed, where the codex binary cannot run (no prebuilt for this platform).
    if (version.code !== 0 || !/codex-cli 0\.(169|171)\./.test(version.stdout)) this.skip();
    await codexMcpAdd(home, ['lab', '--url', 'http://127.0.0.1:38423/mcp', '--bearer-token-env-var', 'LAB_TOKEN']);
    await codexMcpAdd(home, ['pre', '--url', 'http://127.0.0.1:38423/pre', '--oauth-client-id', 'pre-client', '--oauth-resource', 'https://res.example/']);
    await codexMcpAdd(home, ['docs', '--env', 'DOCS_MODE=ro', '--', 'npx', '-y', 'docs-mcp']);
    const file = path.join(home, '.codex', 'config.toml');
    const text = fs.readFileSync(file, 'utf8');
    const lineOf = (header: string) => text.split('\n').indexOf(header) + 1;
    const callbackUrl = /^callback_url = "([^"]+)"$/m.exec(text)?.[1];
    assert.ok(callbackUrl, `codex wrote no callback_url:\n${text}`);

    const scan = await scanCodex({ home, env: sandboxEnv(home, { LAB_TOKEN: randomBytes(8).toString('hex') }), platform: process.platform, projectDirs: [] });
    assert.deepEqual(scan.findings, []);
    const byName = new Map(scan.servers.map((s) => [s.name, s]));
    assert.deepEqual(byName.get('lab'), {
      client: 'codex',
      scope: 'user',
      name: 'lab',
      transport: 'http',
      url: 'http://127.0.0.1:38423/mcp',
      rawUrl: 'http://127.0.0.1:38423/mcp',
      headerNames: [],
      headers: {},
      bearerTokenEnvVar: 'LAB_TOKEN',
      enabled: true,
      source: { file, line: lineOf('[mcp_servers.lab]'), column: 1 },
      findings: [],
    });
    assert.deepEqual(byName.get('pre')?.oauth, { clientId: 'pre-client', callbackUrl, resource: 'https://res.example/' });
    assert.equal(byName.get('pre')?.source.line, lineOf('[mcp_servers.pre]'));
    assert.deepEqual(byName.get('docs'), {
      client: 'codex',
      scope: 'user',
      name: 'docs',
      transport: 'stdio',
      command: 'npx',
      headerNames: [],
      headers: {},
      enabled: true,
      source: { file, line: lineOf('[mcp_servers.docs]'), column: 1 },
      findings: [],
    });

    const listed = await codexMcpListJson(home);
    assert.deepEqual(
      listed.map((l) => [l.name, l.enabled, l.transport.type === 'streamable_http' ? 'http' : l.transport.type, l.transport.url ?? l.transport.command]).sort(),
      scan.servers.map((s) => [s.name, s.enabled, s.transport, s.url ?? s.command]).sort(),
    );
  });

  it('codex 0.171 accepts and refuses the same hand-written entries we do', async function () {
    const version = await runBounded(CODEX_BIN, ['--version'], { cwd: os.tmpdir(), env: sandboxEnv(os.tmpdir()), timeoutMs: 30_000 }).catch(() => ({ code: -1, stdout: '' }));
    if (version.code !== 0 || !/codex-cli 0\.171\./.test(version.stdout)) this.skip();
    const cases: { name: string; entry: string; refused?: RegExp }[] = [
      { name: 'chatgpt', entry: 'url = "https://chatgpt.com/backend-api/wham/mcp"\nauth = "chatgpt"' },
      { name: 'helper', entry: 'url = "https://helper.example/mcp"\nhttp_headers_helper = "printf {}"' },
      { name: 'ema', entry: 'url = "https://ema.example/mcp"\nauth = "ema_auth"' },
      { name: 'blank', entry: 'url = "https://x.example/mcp"\nhttp_headers_helper = "   "', refused: /http_headers_helper must not be empty/ },
      { name: 'remote', entry: 'url = "https://x.example/mcp"\nhttp_headers_helper = "h"\nenvironment_id = "build-box"', refused: /only supported for local MCP servers/ },
      { name: 'issuer', entry: 'url = "https://x.example/mcp"\n[mcp_servers.issuer.oauth]\nauthorization_server_issuer = "https://as.example"', refused: /requires auth = "ema_auth"/ },
      { name: 'variant', entry: 'url = "https://x.example/mcp"\nauth = "vault"', refused: /unknown variant `vault`/ },
      { name: 'stdio-helper', entry: 'command = "x"\nhttp_headers_helper = "h"', refused: /http_headers_helper is not supported for stdio/ },
    ];
    for (const c of cases) {
      const caseHome = await makeSandboxHome('mad-codex-171-');
      try {
        fs.mkdirSync(path.join(caseHome, '.codex'));
        fs.writeFileSync(path.join(caseHome, '.codex', 'config.toml'), `[mcp_servers.${c.name}]\n${c.entry}\n`);
        const scan = await scanCodex({ home: caseHome, env: sandboxEnv(caseHome), platform: process.platform, projectDirs: [] });
        const listed = await codexMcpListJson(caseHome).then(
          (l) => ({ ok: true as const, l }),
          (err: unknown) => ({ ok: false as const, message: String(err) }),
        );
        if (c.refused) {
          assert.ok(!listed.ok && c.refused.test(listed.message), `${c.name}: codex accepted it or said something else`);
          assert.deepEqual(scan.findings.map((f) => f.code), ['config.invalid-entry'], c.name);
        } else {
          assert.ok(listed.ok, `${c.name}: codex refused it: ${listed.ok ? '' : listed.message.slice(0, 300)}`);
          assert.deepEqual(scan.findings, [], c.name);
          assert.deepEqual(listed.l.map((x) => [x.name, x.enabled]), scan.servers.map((s) => [s.name, s.enabled]), c.name);
        }
      } finally {
        fs.rmSync(caseHome, { recursive: true, force: true });
      }
    }
  });
});
