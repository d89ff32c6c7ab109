// Gemini CLI config reader on real files in a sandbox HOME: every settings file and env override
// Gemini 0.61.0 reads, entry positions (comments included), broken files as Gemini treats them,
// $VAR expansion, transports, trust, enablement and the definition's small rules.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanGeminiCli } from '../../../src/core/clients/gemini-cli/config';
import { geminiCli } from '../../../src/core/clients/gemini-cli/definition';
import { expandLikeGemini } from '../../../src/core/clients/gemini-cli/envExpand';
import { geminiSystemDefaultsPath, geminiSystemSettingsPath, geminiTokenFilePath } from '../../../src/core/clients/gemini-cli/paths';
import type { Environment } from '../../../src/core/environment';
import type { McpServer } from '../../../src/core/model';

describe('Gemini CLI config', () => {
  let root: string;
  let home: string;
  let project: string;
  let systemFile: string;
  let env: Record<string, string | undefined>;

  const environment = (over: Partial<Environment> = {}): Environment => ({ home, env, platform: 'linux', projectDirs: [project], ...over });
  const write = async (file: string, text: string) => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text);
  };
  const userFile = () => path.join(home, '.gemini', 'settings.json');
  const projectFile = () => path.join(project, '.gemini', 'settings.json');
  const byName = (servers: McpServer[], name: string, scope?: string) => {
    const s = servers.find((x) => x.name === name && (scope === undefined || x.scope === scope));
    assert.ok(s, `no server ${name}`);
    return s;
  };

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-gemini-config-'));
    home = path.join(root, 'home');
    project = path.join(root, 'work', 'app');
    systemFile = path.join(root, 'etc', 'gemini-cli', 'settings.json');
    await fs.mkdir(project, { recursive: true });
    // Never the host's /etc/gemini-cli: the override Gemini itself honours.
    env = { GEMINI_CLI_SYSTEM_SETTINGS_PATH: systemFile };
  });
  afterEach(async () => fs.rm(root, { recursive: true, force: true }));

  it('reads user entries with comments, at the line and column of each key, and lists every file it looked at', async () => {
    await write(
      userFile(),
      [
        '{',
        '  // my servers',
        '  "mcpServers": {',
        '    /* remote */ "lab": { "httpUrl": "http://127.0.0.1:1/mcp" },',
        '    "sse": { "url": "http://127.0.0.1:2/sse", "type": "sse" },',
        '    "typed": { "url": "http://127.0.0.1:3/mcp", "type": "http", "headers": { "X-Key": "v" } },',
        '    "untyped": { "url": "http://127.0.0.1:4/mcp" },',
        '    "local": { "command": "node", "args": ["server.js"] }',
        '  }',
        '}',
      ].join('\n'),
    );
    const scan = await scanGeminiCli(environment());
    assert.deepEqual(scan.findings, []);
    const lab = byName(scan.servers, 'lab');
    assert.equal(lab.client, 'gemini-cli');
    assert.equal(lab.scope, 'user');
    assert.equal(lab.transport, 'http');
    assert.equal(lab.url, 'http://127.0.0.1:1/mcp');
    assert.deepEqual(lab.source, { file: userFile(), line: 4, column: 18 });
    assert.equal(lab.storageKey, 'lab');
    assert.equal(byName(scan.servers, 'sse').transport, 'sse');
    assert.deepEqual(byName(scan.servers, 'sse').source, { file: userFile(), line: 5, column: 5 });
    assert.deepEqual(byName(scan.servers, 'typed').headers, { 'X-Key': 'v' });
    assert.deepEqual(byName(scan.servers, 'typed').headerNames, ['X-Key']);
    // Without "type" a url is Streamable HTTP first (createUrlTransport).
    assert.equal(byName(scan.servers, 'untyped').transport, 'http');
    const local = byName(scan.servers, 'local');
    assert.equal(local.transport, 'stdio');
    assert.equal(local.command, 'node');
    assert.equal(local.storageKey, undefined);
    for (const f of [userFile(), systemFile, path.join(root, 'etc', 'gemini-cli', 'system-defaults.json'), projectFile(), path.join(home, '.gemini', 'trustedFolders.json'), path.join(home, '.gemini', 'mcp-server-enablement.json')]) {
      assert.ok(scan.files.includes(f), `files lists ${f}`);
    }
  });

  it('httpUrl wins over url, a url wins over command, and an entry with neither is an error at its key', async () => {
    await write(
      userFile(),
      JSON.stringify(
        { mcpServers: { both: { httpUrl: 'http://127.0.0.1:1/a', url: 'http://127.0.0.1:1/b', type: 'sse' }, mixed: { url: 'http://127.0.0.1:1/c', command: 'x' }, none: { timeout: 5 } } },
        null,
        2,
      ),
    );
    const scan = await scanGeminiCli(environment());
    assert.equal(byName(scan.servers, 'both').url, 'http://127.0.0.1:1/a');
    assert.equal(byName(scan.servers, 'both').transport, 'http');
    assert.equal(byName(scan.servers, 'mixed').transport, 'http');
    assert.equal(scan.servers.some((s) => s.name === 'none'), false);
    const f = scan.findings.find((x) => x.code === 'config.missing-url');
    assert.ok(f);
    assert.deepEqual(f.location, { file: userFile(), line: 12, column: 5 });
  });

  it('expands $VAR, ${VAR} and ${VAR:-default} as Gemini does, and names unset variables', async () => {
    assert.deepEqual(expandLikeGemini('a$X-${Y}-${Z:-d}-${W}-$', { X: '1', Y: '' }), { value: 'a1--d-${W}-$', missing: ['W'] });
    assert.deepEqual(expandLikeGemini('${X:-d}', { X: '' }).value, '');
    env.HOST = '127.0.0.1:9';
    env.TOKEN = 'secret-value';
    await write(
      userFile(),
      '{\n  "mcpServers": {\n    "lab": {\n      "httpUrl": "http://$HOST/mcp",\n      "headers": { "Authorization": "Bearer ${TOKEN}", "X-Team": "$TEAM" }\n    }\n  }\n}\n',
    );
    const scan = await scanGeminiCli(environment());
    const lab = byName(scan.servers, 'lab');
    assert.equal(lab.url, 'http://127.0.0.1:9/mcp');
    assert.equal(lab.rawUrl, 'http://$HOST/mcp');
    assert.equal(lab.headers.Authorization, 'Bearer secret-value');
    assert.equal(lab.headers['X-Team'], '$TEAM');
    const unset = lab.findings.filter((f) => f.code === 'config.unset-variable');
    assert.equal(unset.length, 1);
    assert.match(unset[0]!.title, /TEAM/);
    assert.equal(unset[0]!.location?.line, 5);
    assert.ok(!JSON.stringify(scan.findings).includes('secret-value'));
  });

  it('a trailing comma, a BOM or a non-object is a fatal error naming the file and line; comments are fine', async () => {
    await write(userFile(), '{\n  "mcpServers": {\n    "a": { "httpUrl": "http://127.0.0.1:1/mcp" },\n  }\n}\n');
    let scan = await scanGeminiCli(environment());
    assert.equal(scan.servers.length, 0);
    assert.equal(scan.findings[0]?.code, 'config.invalid-json');
    assert.equal(scan.findings[0]?.severity, 'error');
    assert.deepEqual(scan.findings[0]?.location, { file: userFile(), line: 4, column: 3 });
    assert.match(scan.findings[0]!.detail, /refuses to start/);

    await write(userFile(), '\uFEFF{ "mcpServers": {} }');
    scan = await scanGeminiCli(environment());
    assert.equal(scan.findings[0]?.code, 'config.invalid-json');
    assert.match(scan.findings[0]!.title, /byte order mark/);

    await write(userFile(), '[1, 2]');
    scan = await scanGeminiCli(environment());
    assert.equal(scan.findings[0]?.code, 'config.invalid-entry');
    assert.equal(scan.findings[0]?.severity, 'error');
  });

  it('wrong types are warnings at the field, and the entry is still listed as Gemini still uses it', async () => {
    await write(userFile(), '{\n  "mcpServers": {\n    "lab": {\n      "httpUrl": "http://127.0.0.1:1/mcp",\n      "headers": { "X": 5 },\n      "oauth": { "scopes": "a b" }\n    },\n    "bad": 7\n  }\n}\n');
    const scan = await scanGeminiCli(environment());
    const lab = byName(scan.servers, 'lab');
    const fields = lab.findings.filter((f) => f.code === 'config.invalid-entry');
    assert.deepEqual(
      fields.map((f) => [f.severity, f.location?.line]),
      [
        ['warning', 5],
        ['warning', 6],
      ],
    );
    const bad = scan.findings.find((f) => f.title.includes('"bad"'));
    assert.equal(bad?.severity, 'warning');
    assert.equal(bad?.location?.line, 8);
  });

  it('maps the oauth block and leaves Google auth providers without a storage key', async () => {
    await write(
      userFile(),
      JSON.stringify({
        mcpServers: {
          lab: { httpUrl: 'http://127.0.0.1:1/mcp', oauth: { enabled: true, clientId: 'cid', scopes: ['mcp:tools', 'offline_access'], redirectUri: 'http://localhost:7777/oauth/callback', clientSecret: 's' } },
          google: { httpUrl: 'https://x.googleapis.com/mcp', authProviderType: 'google_credentials' },
        },
      }),
    );
    const scan = await scanGeminiCli(environment());
    assert.deepEqual(byName(scan.servers, 'lab').oauth, { clientId: 'cid', scopes: ['mcp:tools', 'offline_access'], callbackUrl: 'http://localhost:7777/oauth/callback', callbackPort: 7777 });
    assert.equal(byName(scan.servers, 'google').storageKey, undefined);
  });

  it('project files count only in trusted folders; a trusted one replaces a user entry of the same name', async () => {
    await write(userFile(), JSON.stringify({ mcpServers: { lab: { httpUrl: 'http://127.0.0.1:1/mcp' } } }));
    await write(projectFile(), '{\n  "mcpServers": {\n    "lab": { "url": "http://127.0.0.1:2/mcp", "type": "http" }\n  }\n}\n');
    let scan = await scanGeminiCli(environment());
    let p = byName(scan.servers, 'lab', 'project');
    assert.equal(p.projectPath, project);
    assert.deepEqual(p.source, { file: projectFile(), line: 3, column: 5 });
    assert.equal(p.enabled, false);
    assert.equal(p.findings[0]?.code, 'config.untrusted-project');

    await write(path.join(home, '.gemini', 'trustedFolders.json'), JSON.stringify({ [path.dirname(project)]: 'TRUST_FOLDER' }));
    scan = await scanGeminiCli(environment());
    p = byName(scan.servers, 'lab', 'project');
    assert.equal(p.enabled, true);
    assert.deepEqual(
      p.findings.map((f) => f.code),
      ['config.project-override'],
    );

    // A deeper DO_NOT_TRUST rule wins over the parent's TRUST_FOLDER.
    await write(path.join(home, '.gemini', 'trustedFolders.json'), JSON.stringify({ [path.dirname(project)]: 'TRUST_FOLDER', [project]: 'DO_NOT_TRUST' }));
    scan = await scanGeminiCli(environment());
    assert.equal(byName(scan.servers, 'lab', 'project').enabled, false);

    // GEMINI_CLI_TRUST_WORKSPACE=true trusts every folder; folder trust off does too.
    scan = await scanGeminiCli(environment({ env: { ...env, GEMINI_CLI_TRUST_WORKSPACE: 'true' } }));
    assert.equal(byName(scan.servers, 'lab', 'project').enabled, true);
    await write(userFile(), JSON.stringify({ security: { folderTrust: { enabled: false } }, mcpServers: {} }));
    scan = await scanGeminiCli(environment());
    assert.equal(byName(scan.servers, 'lab', 'project').enabled, true);
  });

  it('the home folder is never read as a project, and GEMINI_CLI_HOME moves the user files', async () => {
    await write(userFile(), JSON.stringify({ mcpServers: { lab: { httpUrl: 'http://127.0.0.1:1/mcp' } } }));
    let scan = await scanGeminiCli(environment({ projectDirs: [home] }));
    assert.deepEqual(
      scan.servers.map((s) => s.scope),
      ['user'],
    );
    const other = path.join(root, 'gemini-home');
    await write(path.join(other, '.gemini', 'settings.json'), JSON.stringify({ mcpServers: { moved: { httpUrl: 'http://127.0.0.1:1/mcp' } } }));
    scan = await scanGeminiCli(environment({ env: { ...env, GEMINI_CLI_HOME: other } }));
    assert.deepEqual(
      scan.servers.map((s) => s.name),
      ['moved'],
    );
  });

  it('system settings are managed, win over the user entry of the same name, and system defaults are read beside them', async () => {
    await write(userFile(), JSON.stringify({ mcpServers: { lab: { httpUrl: 'http://127.0.0.1:1/mcp' } } }));
    await write(systemFile, JSON.stringify({ mcpServers: { lab: { httpUrl: 'http://127.0.0.1:5/mcp' } } }));
    await write(path.join(path.dirname(systemFile), 'system-defaults.json'), JSON.stringify({ mcpServers: { base: { httpUrl: 'http://127.0.0.1:6/mcp' } } }));
    const scan = await scanGeminiCli(environment());
    assert.equal(byName(scan.servers, 'lab', 'managed').url, 'http://127.0.0.1:5/mcp');
    assert.equal(byName(scan.servers, 'base', 'managed').source.file, path.join(path.dirname(systemFile), 'system-defaults.json'));
    assert.deepEqual(
      byName(scan.servers, 'lab', 'user').findings.map((f) => f.code),
      ['config.managed-exclusive'],
    );
  });

  it('gemini mcp disable, mcp.excluded and mcp.allowed disable servers (names lower-cased)', async () => {
    await write(userFile(), JSON.stringify({ mcp: { excluded: ['Two'] }, mcpServers: { one: { httpUrl: 'http://127.0.0.1:1/a' }, two: { httpUrl: 'http://127.0.0.1:1/b' }, Three: { httpUrl: 'http://127.0.0.1:1/c' } } }));
    await write(path.join(home, '.gemini', 'mcp-server-enablement.json'), JSON.stringify({ three: { enabled: false } }));
    let scan = await scanGeminiCli(environment());
    assert.deepEqual(
      scan.servers.map((s) => [s.name, s.enabled]),
      [
        ['one', true],
        ['two', false],
        ['Three', false],
      ],
    );
    await write(systemFile, JSON.stringify({ mcp: { allowed: ['two', 'three'] } }));
    scan = await scanGeminiCli(environment());
    assert.equal(byName(scan.servers, 'one').enabled, false);
  });

  it('system paths per OS and the definition rules', () => {
    const bare = { home: '/h', env: {}, projectDirs: [] };
    assert.equal(geminiSystemSettingsPath({ ...bare, platform: 'linux' }), '/etc/gemini-cli/settings.json');
    assert.equal(geminiSystemSettingsPath({ ...bare, platform: 'darwin' }), '/Library/Application Support/GeminiCli/settings.json');
    assert.equal(geminiSystemSettingsPath({ ...bare, platform: 'win32' }), 'C:\\ProgramData\\gemini-cli\\settings.json');
    assert.equal(geminiSystemDefaultsPath({ ...bare, platform: 'win32' }), 'C:\\ProgramData\\gemini-cli\\system-defaults.json');
    assert.equal(geminiTokenFilePath({ ...bare, platform: 'darwin', env: { SANDBOX: 'sandbox-exec' } }), '/h/.cache/.gemini/mcp-oauth-tokens.json');
    assert.equal(geminiCli.label, 'Gemini CLI');
    assert.equal(geminiCli.version?.parse('0.61.0'), '0.61.0');
    assert.equal(geminiCli.version?.parse('0.62.0-preview.1\n'), '0.62.0-preview.1');
    assert.equal(geminiCli.version?.parse('gemini is not installed'), undefined);
    assert.deepEqual(geminiCli.handOff({ name: 'lab', scope: 'user' }, 'login'), { command: 'gemini', args: ['-i', '/mcp auth lab'] });
    assert.equal(geminiCli.handOff({ name: 'lab', scope: 'user' }, 'logout'), undefined);
    assert.ok(geminiCli.process?.scripts?.[0]?.test('/usr/lib/node_modules/@google/gemini-cli/bundle/gemini.js'));
  });
});
