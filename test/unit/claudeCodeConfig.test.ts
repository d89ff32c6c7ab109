// Given these Claude Code config files in a sandbox HOME, the user sees these servers and findings.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { scanClaudeCode } from '../../src/core/config/claudeCode';
import type { Environment } from '../../src/core/environment';
import { sandboxEnvironment } from './sandboxEnvironment';
import type { ConfigScan, Finding, McpServer } from '../../src/core/model';
import { storageKey } from '../../src/core/storageKey';

let root: string;

async function write(rel: string, text: string): Promise<string> {
  const file = path.join(root, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
  return file;
}

function env(over: Partial<Environment> = {}): Environment {
  return sandboxEnvironment(root, over);
}

/** 1-based line of the first occurrence of `needle` in `text`. */
function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${needle} not in fixture`);
  return text.slice(0, at).split('\n').length;
}

function server(scan: ConfigScan, name: string, scope?: string): McpServer {
  const found = scan.servers.filter((s) => s.name === name && (scope === undefined || s.scope === scope));
  assert.equal(found.length, 1, `expected one server ${name} (${scope ?? 'any scope'}), got ${found.length}: ${JSON.stringify(scan.servers.map((s) => [s.scope, s.name]))}`);
  return found[0]!;
}

function allFindings(scan: ConfigScan): Finding[] {
  return [...scan.findings, ...scan.servers.flatMap((s) => s.findings)];
}

function findingWith(scan: ConfigScan, code: string, file: string): Finding {
  const f = allFindings(scan).find((x) => x.code === code && x.location?.file === file);
  assert.ok(f, `no ${code} for ${file}; got ${JSON.stringify(allFindings(scan).map((x) => [x.code, x.location?.file, x.location?.line]))}`);
  return f;
}

const APP = () => path.join(root, 'work', 'app');
const OTHER = () => path.join(root, 'work', 'other');

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'cc-config-'));
  await fs.mkdir(APP(), { recursive: true });
  await fs.mkdir(OTHER(), { recursive: true });
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('Claude Code config reader', () => {
  describe('scopes', () => {
    it('reads user servers and local servers, the open project before other projects', async () => {
      const text = `{
  "numStartups": 3,
  "mcpServers": {
    "lab": { "type": "http", "url": "http://127.0.0.1:38423/mcp" },
    "files": { "command": "npx", "args": ["-y", "fs-server"] }
  },
  "projects": {
    "${OTHER()}": {
      "mcpServers": { "elsewhere": { "type": "sse", "url": "https://other.example/sse" } }
    },
    "${APP()}": {
      "allowedTools": [],
      "mcpServers": { "mine": { "type": "http", "url": "https://mine.example/mcp" } }
    }
  }
}`;
      const file = await write('home/.claude.json', text);
      const scan = await scanClaudeCode(env());

      assert.deepEqual(
        scan.servers.map((s) => [s.scope, s.name]),
        [
          ['user', 'lab'],
          ['user', 'files'],
          ['local', 'mine'],
          ['local', 'elsewhere'],
        ],
      );
      const lab = server(scan, 'lab');
      assert.equal(lab.client, 'claude-code');
      assert.equal(lab.transport, 'http');
      assert.equal(lab.url, 'http://127.0.0.1:38423/mcp');
      // The key Claude Code 2.1.197 and Codex 0.169.0 both wrote for this server (client-formats.md).
      assert.equal(lab.storageKey, 'lab|0273820822139ec6');
      assert.deepEqual(lab.source, { file, line: lineOf(text, '"lab"'), column: 5 });
      assert.equal(lab.enabled, true);

      const files = server(scan, 'files');
      assert.equal(files.transport, 'stdio');
      assert.equal(files.command, 'npx');
      assert.equal(files.storageKey, undefined);

      assert.equal(server(scan, 'mine').projectPath, APP());
      assert.equal(server(scan, 'elsewhere').projectPath, OTHER());
      assert.equal(server(scan, 'elsewhere').transport, 'sse');
      assert.equal(server(scan, 'elsewhere').source.line, lineOf(text, '"elsewhere"'));
      assert.deepEqual(allFindings(scan), []);
    });

    it('keys a project inside a git repository by the repository root, as Claude Code does', async () => {
      const repo = path.join(root, 'work', 'repo');
      await fs.mkdir(path.join(repo, '.git'), { recursive: true });
      await fs.mkdir(path.join(repo, 'packages', 'web'), { recursive: true });
      await write('home/.claude.json', JSON.stringify({ projects: { [repo]: { mcpServers: { api: { type: 'http', url: 'https://api.example/mcp' } } } } }));
      const scan = await scanClaudeCode(env({ projectDirs: [path.join(repo, 'packages', 'web')] }));
      assert.equal(server(scan, 'api', 'local').projectPath, repo);
    });

    it('reads $CLAUDE_CONFIG_DIR/.claude.json instead of ~/.claude.json when the variable is set', async () => {
      await write('home/.claude.json', JSON.stringify({ mcpServers: { stale: { type: 'http', url: 'https://stale.example/mcp' } } }));
      const file = await write('profiles/work/.claude.json', JSON.stringify({ mcpServers: { current: { type: 'http', url: 'https://current.example/mcp' } } }));
      const scan = await scanClaudeCode(env({ env: { CLAUDE_CONFIG_DIR: path.join(root, 'profiles', 'work') } }));
      assert.deepEqual(
        scan.servers.map((s) => s.name),
        ['current'],
      );
      assert.equal(server(scan, 'current').source.file, file);
      assert.ok(scan.files.includes(file));
      assert.ok(!scan.files.includes(path.join(root, 'home', '.claude.json')));
    });

    it('reads .mcp.json of the open folder and its ancestors as project servers', async () => {
      const own = await write('work/app/.mcp.json', JSON.stringify({ mcpServers: { docs: { type: 'http', url: 'https://docs.example/mcp' } } }, null, 2));
      await write('work/.mcp.json', JSON.stringify({ mcpServers: { shared: { type: 'sse', url: 'https://shared.example/sse' } } }));
      const scan = await scanClaudeCode(env());
      const docs = server(scan, 'docs', 'project');
      assert.equal(docs.projectPath, APP());
      assert.deepEqual(docs.source, { file: own, line: 3, column: 5 });
      assert.equal(server(scan, 'shared', 'project').projectPath, path.join(root, 'work'));
      // Not approved yet: Claude Code asks first, and says so in `claude mcp list`.
      assert.deepEqual(
        docs.findings.map((f) => f.code),
        ['config.project-server-pending'],
      );
      assert.ok(scan.files.includes(own));
      assert.ok(scan.files.includes(path.join(root, 'work', '.mcp.json')));
    });

    it('follows the user approvals and rejections of .mcp.json servers', async () => {
      await write(
        'work/app/.mcp.json',
        JSON.stringify({
          mcpServers: {
            yes: { type: 'http', url: 'https://yes.example/mcp' },
            no: { type: 'http', url: 'https://no.example/mcp' },
            later: { type: 'http', url: 'https://later.example/mcp' },
          },
        }),
      );
      await write('home/.claude/settings.json', JSON.stringify({ enabledMcpjsonServers: ['yes'] }));
      await write('work/app/.claude/settings.local.json', JSON.stringify({ disabledMcpjsonServers: ['no'] }));
      const scan = await scanClaudeCode(env());
      assert.equal(server(scan, 'yes').enabled, true);
      assert.deepEqual(server(scan, 'yes').findings, []);
      assert.equal(server(scan, 'no').enabled, false);
      assert.deepEqual(
        server(scan, 'no').findings.map((f) => f.code),
        ['config.project-server-rejected'],
      );
      assert.equal(server(scan, 'later').enabled, true);
      assert.deepEqual(
        server(scan, 'later').findings.map((f) => f.code),
        ['config.project-server-pending'],
      );
    });

    it('counts approvals in settings.local.json only for a trusted folder or inside a git repository', async () => {
      await write('work/app/.mcp.json', JSON.stringify({ mcpServers: { docs: { type: 'http', url: 'https://docs.example/mcp' } } }));
      await write('work/app/.claude/settings.local.json', JSON.stringify({ enabledMcpjsonServers: ['docs'] }));
      const untrusted = await scanClaudeCode(env());
      assert.deepEqual(
        server(untrusted, 'docs').findings.map((f) => f.code),
        ['config.project-server-pending'],
      );
      await write('home/.claude.json', JSON.stringify({ projects: { [APP()]: { hasTrustDialogAccepted: true } } }));
      const trusted = await scanClaudeCode(env());
      assert.deepEqual(server(trusted, 'docs').findings, []);
    });

    it('turns off servers listed in the project\'s disabledMcpServers (the /mcp toggle)', async () => {
      await write(
        'home/.claude.json',
        JSON.stringify({
          mcpServers: { a: { type: 'http', url: 'https://a.example/mcp' }, b: { type: 'http', url: 'https://b.example/mcp' } },
          projects: { [APP()]: { disabledMcpServers: ['b'] } },
        }),
      );
      const scan = await scanClaudeCode(env());
      assert.equal(server(scan, 'a').enabled, true);
      assert.equal(server(scan, 'b').enabled, false);
      assert.deepEqual(server(scan, 'b').findings, []);
    });

    it('reads managed servers from managedMcpPath and shows that they take exclusive control', async () => {
      const managedText = `{
  "mcpServers": {
    "corp": { "type": "http", "url": "https://mcp.corp.example/mcp" }
  }
}`;
      const managed = await write('etc/managed-mcp.json', managedText);
      await write('home/.claude.json', JSON.stringify({ mcpServers: { mine: { type: 'http', url: 'https://mine.example/mcp' } } }));
      const scan = await scanClaudeCode(env());
      const corp = server(scan, 'corp', 'managed');
      assert.deepEqual(corp.source, { file: managed, line: lineOf(managedText, '"corp"'), column: 5 });
      assert.equal(corp.enabled, true);
      const mine = server(scan, 'mine', 'user');
      assert.equal(mine.enabled, false);
      assert.deepEqual(
        mine.findings.map((f) => f.code),
        ['config.managed-exclusive'],
      );
      assert.ok(scan.files.includes(managed));
    });

    it('reads MCP servers of installed plugins, enabled only when settings enable the plugin', async () => {
      const on = path.join(root, 'home', '.claude', 'plugins', 'cache', 'tools', 'linear', '1.0.0');
      const off = path.join(root, 'home', '.claude', 'plugins', 'cache', 'tools', 'sentry', '2.0.0');
      await write(
        'home/.claude/plugins/installed_plugins.json',
        JSON.stringify({
          version: 2,
          plugins: {
            'linear@tools': [{ scope: 'user', installPath: on, version: '1.0.0' }],
            'sentry@tools': [{ scope: 'user', installPath: off, version: '2.0.0' }],
            'elsewhere@tools': [{ scope: 'project', projectPath: OTHER(), installPath: path.join(root, 'nowhere') }],
          },
        }),
      );
      const linearMcp = await write(
        path.relative(root, path.join(on, '.mcp.json')),
        JSON.stringify({ mcpServers: { linear: { type: 'http', url: 'https://mcp.linear.example/mcp' }, helper: { command: '${CLAUDE_PLUGIN_ROOT}/bin/helper' } } }, null, 2),
      );
      await write(path.relative(root, path.join(off, '.claude-plugin', 'plugin.json')), JSON.stringify({ name: 'sentry', mcpServers: { sentry: { type: 'sse', url: 'https://mcp.sentry.example/sse' } } }));
      await write('home/.claude/settings.json', JSON.stringify({ enabledPlugins: { 'linear@tools': true, 'sentry@tools': false } }));

      const scan = await scanClaudeCode(env());
      const linear = server(scan, 'plugin:linear:linear', 'plugin');
      assert.equal(linear.enabled, true);
      assert.equal(linear.storageKey, storageKey('plugin:linear:linear', 'http', 'https://mcp.linear.example/mcp'));
      assert.deepEqual(linear.source, { file: linearMcp, line: 3, column: 5 });
      assert.equal(server(scan, 'plugin:linear:helper').command, '${CLAUDE_PLUGIN_ROOT}/bin/helper');
      assert.deepEqual(server(scan, 'plugin:linear:helper').findings, []);
      assert.equal(server(scan, 'plugin:sentry:sentry', 'plugin').enabled, false);
      // A project-scope install for a project that is not open does not apply here.
      assert.ok(!scan.servers.some((s) => s.name.startsWith('plugin:elsewhere:')));
      assert.ok(scan.files.includes(path.join(root, 'home', '.claude', 'plugins', 'installed_plugins.json')));
    });

    it('lists every file it looked at, present or not', async () => {
      const scan = await scanClaudeCode(env());
      assert.deepEqual(scan.servers, []);
      assert.deepEqual(scan.findings, []);
      for (const f of [
        path.join(root, 'home', '.claude.json'),
        path.join(APP(), '.mcp.json'),
        path.join(root, 'work', '.mcp.json'),
        path.join(root, 'etc', 'managed-mcp.json'),
        path.join(root, 'home', '.claude', 'settings.json'),
        path.join(APP(), '.claude', 'settings.local.json'),
      ]) {
        assert.ok(scan.files.includes(f), `${f} not in ${scan.files.join(', ')}`);
      }
    });
  });

  describe('placeholders', () => {
    it('expands set variables and defaults in url and headers, keeps the raw url, and names unset variables', async () => {
      const token = randomBytes(16).toString('hex');
      const text = `{
  "mcpServers": {
    "api": {
      "type": "http",
      "url": "https://\${API_HOST}/\${API_PATH:-mcp}",
      "headers": {
        "Authorization": "Bearer \${API_TOKEN}",
        "X-Team": "\${TEAM_ID}"
      }
    }
  }
}`;
      const file = await write('home/.claude.json', text);
      const scan = await scanClaudeCode(env({ env: { API_HOST: 'api.example.com', API_TOKEN: token } }));
      const api = server(scan, 'api');
      assert.equal(api.url, 'https://api.example.com/mcp');
      assert.equal(api.rawUrl, 'https://${API_HOST}/${API_PATH:-mcp}');
      assert.deepEqual(api.headerNames, ['Authorization', 'X-Team']);
      assert.equal(api.headers.Authorization, `Bearer ${token}`);
      // Claude Code sends an unset variable's placeholder as written.
      assert.equal(api.headers['X-Team'], '${TEAM_ID}');
      assert.deepEqual(
        api.findings.map((f) => [f.code, f.location?.file, f.location?.line]),
        [['config.unset-variable', file, lineOf(text, '"X-Team"')]],
      );
      assert.match(api.findings[0]!.title, /TEAM_ID/);
      // The key covers the header values as sent, token included.
      assert.equal(api.storageKey, storageKey('api', 'http', 'https://api.example.com/mcp', { Authorization: `Bearer ${token}`, 'X-Team': '${TEAM_ID}' }));
      assert.ok(!JSON.stringify(allFindings(scan)).includes(token), 'a finding shows a header value');
    });

    it('reports unset variables in stdio command, args and env without showing values', async () => {
      await write('home/.claude.json', JSON.stringify({ mcpServers: { tool: { command: '${TOOL_BIN}', args: ['--key', '${TOOL_KEY:-none}'], env: { SECRET: '${TOOL_SECRET}' } } } }));
      const scan = await scanClaudeCode(env());
      assert.deepEqual(
        server(scan, 'tool').findings.map((f) => f.title.match(/\$\{(\w+)\}/)?.[1]),
        ['TOOL_BIN', 'TOOL_SECRET'],
      );
    });
  });

  describe('storage keys', () => {
    it('computes the keys Claude Code 2.1.197 wrote for the same configs', async () => {
      // Read off a real `claude mcp list` (it registers a client for each 401 server) against a
      // loopback server on port 43629, HOME in a sandbox, PATHVAR=mcp and TEAMVAR=blue set.
      const u = 'http://127.0.0.1:43629';
      await write(
        'home/.claude.json',
        JSON.stringify({
          mcpServers: {
            plain: { type: 'http', url: `${u}/mcp` },
            sh: { type: 'streamable-http', url: `${u}/mcp` },
            hdrset: { type: 'http', url: `${u}/\${PATHVAR}`, headers: { 'X-Team': '${TEAMVAR}', 'X-Fixed': 'abc' } },
            hdrunset: { type: 'http', url: `${u}/mcp`, headers: { 'X-Team': '${NOT_SET_VAR}' } },
            hdrdef: { type: 'http', url: `${u}/mcp`, headers: { 'X-Team': '${NOT_SET_VAR2:-dflt}' } },
            sse1: { type: 'sse', url: `${u}/sse` },
          },
        }),
      );
      const withVars = await scanClaudeCode(env({ env: { PATHVAR: 'mcp', TEAMVAR: 'blue' } }));
      assert.deepEqual(
        withVars.servers.map((s) => s.storageKey),
        ['plain|ca76d29ae5e4512b', 'sh|ca76d29ae5e4512b', 'hdrset|bc49eff7c366eb7c', 'hdrunset|8f17c2d51476d589', 'hdrdef|834d57a0eb707f0f', 'sse1|b5bd095bc602fd5c'],
      );
      // Same config, variables unset: Claude Code hashed the literal placeholders.
      const without = await scanClaudeCode(env());
      assert.equal(server(without, 'hdrset').storageKey, 'hdrset|7778a57154af3eb2');
    });
  });

  describe('malformed input', () => {
    it('reports invalid JSON in ~/.claude.json at the error position and still loads .mcp.json', async () => {
      const text = `{
  "mcpServers": {
    "lab": { "type": "http", "url": "http://127.0.0.1:38423/mcp" },
  }
}`;
      const file = await write('home/.claude.json', text);
      await write('work/app/.mcp.json', JSON.stringify({ mcpServers: { docs: { type: 'http', url: 'https://docs.example/mcp' } } }));
      const scan = await scanClaudeCode(env());
      const f = findingWith(scan, 'config.invalid-json', file);
      assert.equal(f.severity, 'error');
      assert.equal(f.location?.line, 4);
      assert.deepEqual(
        scan.servers.map((s) => [s.scope, s.name]),
        [['project', 'docs']],
      );
    });

    it('rejects comments in .mcp.json as Claude Code\'s JSON.parse does', async () => {
      const text = `{
  // team servers
  "mcpServers": {}
}`;
      const file = await write('work/app/.mcp.json', text);
      const scan = await scanClaudeCode(env());
      assert.equal(findingWith(scan, 'config.invalid-json', file).location?.line, 2);
    });

    it('reports an empty .mcp.json', async () => {
      const file = await write('work/app/.mcp.json', '');
      const scan = await scanClaudeCode(env());
      assert.equal(findingWith(scan, 'config.invalid-json', file).location?.line, 1);
    });

    it('reports a .mcp.json that uses "servers" instead of "mcpServers"', async () => {
      const file = await write('work/app/.mcp.json', JSON.stringify({ servers: { a: { type: 'http', url: 'https://a.example' } } }));
      const scan = await scanClaudeCode(env());
      const f = findingWith(scan, 'config.missing-servers', file);
      assert.match(f.detail, /"servers"/);
      assert.deepEqual(scan.servers, []);
    });

    it('reports a folder where a config file should be as unreadable', async () => {
      await fs.mkdir(path.join(APP(), '.mcp.json'));
      const scan = await scanClaudeCode(env());
      findingWith(scan, 'config.unreadable', path.join(APP(), '.mcp.json'));
    });

    it('reports an mcpServers that is not an object at its line', async () => {
      const text = `{
  "numStartups": 1,
  "mcpServers": ["lab"]
}`;
      const file = await write('home/.claude.json', text);
      const scan = await scanClaudeCode(env());
      assert.equal(findingWith(scan, 'config.invalid-entry', file).location?.line, 3);
    });

    it('reports each broken entry at its line and keeps the good ones', async () => {
      const text = `{
  "mcpServers": {
    "good": { "type": "http", "url": "https://good.example/mcp" },
    "number": 42,
    "nourl": { "type": "http" },
    "nocmd": { "args": ["x"] },
    "notype": { "url": "https://notype.example/mcp" },
    "badurl": {
      "type": "sse",
      "url": "mcp.example.com/sse"
    },
    "weird": { "type": "grpc", "url": "https://weird.example" },
    "badport": {
      "type": "http",
      "url": "https://port.example/mcp",
      "oauth": { "callbackPort": "8080" }
    },
    "also-good": { "type": "sse", "url": "https://also.example/sse", "oauth": { "clientId": "cid", "callbackPort": 3118, "scopes": "read write" } }
  }
}`;
      const file = await write('home/.claude.json', text);
      const scan = await scanClaudeCode(env());
      const at = (code: string) =>
        allFindings(scan)
          .filter((f) => f.code === code)
          .map((f) => [f.location?.file, f.location?.line]);
      assert.deepEqual(at('config.invalid-entry'), [
        [file, lineOf(text, '"number"')],
        [file, lineOf(text, '"callbackPort"')],
      ]);
      assert.deepEqual(at('config.missing-url'), [[file, lineOf(text, '"nourl"')]]);
      assert.deepEqual(at('config.missing-command'), [[file, lineOf(text, '"nocmd"')]]);
      assert.deepEqual(at('config.missing-type'), [[file, lineOf(text, '"notype"')]]);
      assert.deepEqual(at('config.invalid-url'), [[file, lineOf(text, '"mcp.example.com/sse"')]]);
      assert.deepEqual(at('config.unknown-type'), [[file, lineOf(text, '"grpc"')]]);

      assert.deepEqual(server(scan, 'good').findings, []);
      const alsoGood = server(scan, 'also-good');
      assert.deepEqual(alsoGood.findings, []);
      assert.deepEqual(alsoGood.oauth, { clientId: 'cid', callbackPort: 3118, scopes: ['read', 'write'] });
      // An entry Claude Code skips gets no credential key: it never connects.
      assert.equal(server(scan, 'notype').storageKey, undefined);
      assert.equal(server(scan, 'badport').storageKey, undefined);
      assert.ok(server(scan, 'good').storageKey);
      assert.ok(!scan.servers.some((s) => s.name === 'number' || s.name === 'weird'));
    });

    it('reports a broken managed-mcp.json without making it exclusive', async () => {
      const managed = await write('etc/managed-mcp.json', '{"mcpServers": {');
      await write('home/.claude.json', JSON.stringify({ mcpServers: { mine: { type: 'http', url: 'https://mine.example/mcp' } } }));
      const scan = await scanClaudeCode(env());
      findingWith(scan, 'config.invalid-json', managed);
      assert.equal(server(scan, 'mine').enabled, true);
    });

    it('reports a broken settings file as a warning and keeps reading servers', async () => {
      const settings = await write('home/.claude/settings.json', '{"enabledPlugins": {,}}');
      await write('home/.claude.json', JSON.stringify({ mcpServers: { mine: { type: 'http', url: 'https://mine.example/mcp' } } }));
      const scan = await scanClaudeCode(env());
      assert.equal(findingWith(scan, 'config.invalid-json', settings).severity, 'warning');
      assert.equal(server(scan, 'mine').enabled, true);
    });
  });
});
