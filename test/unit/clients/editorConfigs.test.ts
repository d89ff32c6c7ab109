// The four editor/app config readers whose tokens we do not read, on sandbox HOMEs: every scope and
// OS path, the key's 1-based position, each app's JSON dialect, variables, mcp-remote entries left
// to the mcp-remote client. Source/docs-verified only: these are desktop apps with no npm client,
// so none of this ran against the real app.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { claudeDesktop, claudeDesktopConfigFiles } from '../../../src/core/clients/claude-desktop';
import { cursor, cursorConfigFiles } from '../../../src/core/clients/cursor';
import { runsMcpRemote } from '../../../src/core/clients/editorConfig/mcpRemote';
import { vscode, vscodeConfigFiles, VSCODE_REMOVE_DYNAMIC_AUTH_COMMAND } from '../../../src/core/clients/vscode';
import { windsurf, windsurfConfigFiles } from '../../../src/core/clients/windsurf';
import type { Environment } from '../../../src/core/environment';
import type { ConfigScan, McpServer } from '../../../src/core/model';
import { sandboxEnvironment } from '../sandboxEnvironment';

let root: string;
let e: Environment;

function write(file: string, text: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function server(scan: ConfigScan, name: string): McpServer {
  const s = scan.servers.find((x) => x.name === name);
  assert.ok(s, `no server ${name} in ${scan.servers.map((x) => x.name).join(', ')}`);
  return s;
}

const MCP_REMOTE_ENTRY = '"bridge": { "command": "npx", "args": ["-y", "mcp-remote@0.1.29", "https://bridge.example/mcp"] }';

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'editor-configs-'));
  e = sandboxEnvironment(root);
  mkdirSync(e.projectDirs[0]!, { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('runsMcpRemote', () => {
  it('recognises npx, versioned, cmd /c and installed forms, and nothing else', () => {
    assert.equal(runsMcpRemote('npx', ['-y', 'mcp-remote', 'https://a.example/mcp']), true);
    assert.equal(runsMcpRemote('npx', ['mcp-remote@0.1.29', 'https://a.example/mcp']), true);
    assert.equal(runsMcpRemote('cmd', ['/c', 'npx', '-y', 'mcp-remote', 'https://a.example/mcp']), true);
    assert.equal(runsMcpRemote('C:\\tools\\mcp-remote.cmd', ['https://a.example/mcp']), true);
    assert.equal(runsMcpRemote('npx', ['-y', '@modelcontextprotocol/server-filesystem', '/tmp']), false);
    assert.equal(runsMcpRemote('node', ['mcp-remote']), false);
    assert.equal(runsMcpRemote(undefined, ['mcp-remote']), false);
  });
});

describe('VS Code', () => {
  const userMcp = () => path.join(e.home, '.config', 'Code', 'User', 'mcp.json');

  it('reads user, Insiders, profile, server and workspace mcp.json, JSONC with comments and trailing commas, at each key, an mcp-remote entry as its own stdio server', async () => {
    write(
      userMcp(),
      [
        '{',
        '  // my servers',
        '  "inputs": [{ "type": "promptString", "id": "tok", "password": true }],',
        '  "servers": {',
        '    "linear": { "type": "http", "url": "https://mcp.linear.app/mcp", },',
        '      "legacy": { "type": "sse", "url": "https://legacy.example/sse" },',
        '    "local": { "command": "node", "args": ["server.js"] },',
        `    ${MCP_REMOTE_ENTRY},`,
        '  },',
        '}',
      ].join('\n'),
    );
    write(path.join(e.home, '.config', 'Code - Insiders', 'User', 'mcp.json'), '{"servers": {"ins": {"type": "http", "url": "https://ins.example/mcp"}}}');
    write(path.join(e.home, '.config', 'Code', 'User', 'profiles', '-5a1b', 'mcp.json'), '{"servers": {"prof": {"type": "http", "url": "https://prof.example/mcp"}}}');
    write(path.join(e.home, '.config', 'Code', 'User', 'globalStorage', 'storage.json'), JSON.stringify({ userDataProfiles: [{ location: '-5a1b', name: 'Python' }] }));
    write(path.join(e.home, '.vscode-server', 'data', 'User', 'mcp.json'), '{"servers": {"remote-host": {"type": "http", "url": "https://rh.example/mcp"}}}');
    write(path.join(e.projectDirs[0]!, '.vscode', 'mcp.json'), '{\n  "servers": {\n    "proj": { "type": "http", "url": "https://proj.example/mcp" }\n  }\n}');

    const scan = await vscode.scanConfigs(e);
    assert.deepEqual(scan.findings, []);
    // The mcp-remote client does not read VS Code's files, so its entry there stays VS Code's stdio server.
    assert.deepEqual(scan.servers.map((s) => s.name).sort(), ['bridge', 'ins', 'legacy', 'linear', 'local', 'prof', 'proj', 'remote-host']);
    assert.equal(server(scan, 'bridge').transport, 'stdio');
    const linear = server(scan, 'linear');
    assert.equal(linear.client, 'vscode');
    assert.equal(linear.scope, 'user');
    assert.equal(linear.transport, 'http');
    assert.equal(linear.url, 'https://mcp.linear.app/mcp');
    assert.deepEqual(linear.source, { file: userMcp(), line: 5, column: 5 });
    assert.deepEqual(server(scan, 'legacy').source, { file: userMcp(), line: 6, column: 7 });
    assert.equal(server(scan, 'legacy').transport, 'sse');
    assert.equal(server(scan, 'local').transport, 'stdio');
    assert.equal(server(scan, 'local').command, 'node');
    assert.equal(server(scan, 'prof').profile, 'Python');
    const proj = server(scan, 'proj');
    assert.equal(proj.scope, 'project');
    assert.equal(proj.projectPath, e.projectDirs[0]);
    assert.deepEqual(proj.source, { file: path.join(e.projectDirs[0]!, '.vscode', 'mcp.json'), line: 3, column: 5 });
    assert.ok(scan.files.includes(path.join(e.projectDirs[0]!, '.vscode', 'mcp.json')));
    assert.ok(scan.files.includes(path.join(e.home, '.config', 'Code', 'User', 'settings.json')), 'settings.json is watched for a legacy "mcp" section');
  });

  it('expands ${env:} and ${workspaceFolder}, keeps rawUrl, and reports ${input:} instead of guessing', async () => {
    e.env.MCP_HOST = 'mcp.example.com';
    write(
      path.join(e.projectDirs[0]!, '.vscode', 'mcp.json'),
      JSON.stringify({
        servers: {
          a: { type: 'http', url: 'https://${env:MCP_HOST}/mcp?ws=${workspaceFolderBasename}', headers: { Authorization: 'Bearer ${input:tok}', 'X-Missing': '${env:NOPE}' } },
        },
      }),
    );
    const a = server(await vscode.scanConfigs(e), 'a');
    assert.equal(a.rawUrl, 'https://${env:MCP_HOST}/mcp?ws=${workspaceFolderBasename}');
    assert.equal(a.url, 'https://mcp.example.com/mcp?ws=app');
    assert.deepEqual(a.headerNames, ['Authorization', 'X-Missing']);
    assert.equal(a.headers.Authorization, 'Bearer ${input:tok}');
    assert.equal(a.headers['X-Missing'], '', 'VS Code resolves an unset ${env:} to an empty string');
    const codes = a.findings.map((f) => `${f.code}:${f.severity}:${f.title}`);
    assert.ok(codes.some((c) => c.startsWith('config.unset-variable:info:') && c.includes('${input:tok}')), codes.join('\n'));
    assert.ok(codes.some((c) => c.startsWith('config.unset-variable:warning:') && c.includes('${env:NOPE}')), codes.join('\n'));
    assert.equal(a.findings.find((f) => f.title.includes('input'))?.location?.line, 1);
  });

  it('a broken mcp.json is one finding at its line; the workspace file still loads', async () => {
    write(userMcp(), '{\n  "servers": {\n    "x": { "type": "http" "url": "https://x.example" }\n  }\n}');
    write(path.join(e.projectDirs[0]!, '.vscode', 'mcp.json'), '{"servers": {"ok": {"type": "http", "url": "https://ok.example/mcp"}}}');
    const scan = await vscode.scanConfigs(e);
    assert.deepEqual(scan.servers.map((s) => s.name), ['ok']);
    assert.equal(scan.findings.length, 1);
    assert.equal(scan.findings[0]!.code, 'config.invalid-json');
    assert.deepEqual(scan.findings[0]!.location, { file: userMcp(), line: 3, column: 27 });
  });

  it('wrong types, a missing url, "mcpServers" instead of "servers", and a settings.json "mcp" section are findings', async () => {
    write(userMcp(), JSON.stringify({ servers: { n: 7, h: { type: 'http' }, bad: { type: 'http', url: 'https://b.example', headers: { A: 1 } } } }, null, 2));
    write(path.join(e.projectDirs[0]!, '.vscode', 'mcp.json'), '{"mcpServers": {"c": {"url": "https://c.example"}}}');
    write(path.join(e.home, '.config', 'Code', 'User', 'settings.json'), '{\n  // old form\n  "mcp": { "servers": { "old": { "url": "https://old.example" } } },\n}');
    const scan = await vscode.scanConfigs(e);
    const all = [...scan.findings, ...scan.servers.flatMap((s) => s.findings)].map((f) => `${f.code}@${f.location?.line}`);
    assert.ok(all.includes('config.invalid-entry@3'), all.join(' '));
    assert.ok(all.includes('config.missing-url@4'), all.join(' '));
    assert.ok(all.some((c) => c.startsWith('config.invalid-entry@') && c !== 'config.invalid-entry@3'), 'a header of the wrong type');
    assert.ok(all.includes('config.missing-servers@1'), all.join(' '));
    assert.ok(all.includes('config.invalid-setting@3'), all.join(' '));
    assert.ok(!scan.servers.some((s) => s.name === 'old' || s.name === 'c'));
  });

  it('macOS, Windows and $VSCODE_APPDATA paths', async () => {
    const mac = sandboxEnvironment(root, { platform: 'darwin' });
    assert.equal((await vscodeConfigFiles(mac)).files[0]!.file, path.join(mac.home, 'Library', 'Application Support', 'Code', 'User', 'mcp.json'));
    const win = sandboxEnvironment(root, { platform: 'win32', home: 'C:\\Users\\ann', env: { APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, projectDirs: ['C:\\src\\app'] });
    const winFiles = (await vscodeConfigFiles(win)).files.map((f) => f.file);
    assert.equal(winFiles[0], 'C:\\Users\\ann\\AppData\\Roaming\\Code\\User\\mcp.json');
    assert.ok(winFiles.includes('C:\\Users\\ann\\AppData\\Roaming\\Code - Insiders\\User\\mcp.json'));
    assert.ok(winFiles.includes('C:\\src\\app\\.vscode\\mcp.json'));
    const portable = sandboxEnvironment(root, { env: { VSCODE_APPDATA: path.join(root, 'vsdata') } });
    assert.equal((await vscodeConfigFiles(portable)).files[0]!.file, path.join(root, 'vsdata', 'Code', 'User', 'mcp.json'));
    // A Windows sandbox on this host reads real files.
    const sandboxWin = sandboxEnvironment(root, { platform: 'win32' });
    write(path.join(sandboxWin.home, 'AppData', 'Roaming', 'Code', 'User', 'mcp.json'), '{"servers": {"w": {"type": "http", "url": "https://w.example/mcp"}}}');
    assert.deepEqual((await vscode.scanConfigs(sandboxWin)).servers.map((s) => s.name), ['w']);
  });

  it('is a client without a credential store: tokensNotRead, the in-editor command as a constant', () => {
    assert.equal(vscode.credentialStore, undefined);
    assert.match(vscode.tokensNotRead ?? '', /secret storage/);
    assert.match(vscode.tokensNotRead ?? '', /does not read/);
    assert.equal(vscode.handOff({ name: 'a', scope: 'user' }, 'login'), undefined);
    assert.equal(VSCODE_REMOVE_DYNAMIC_AUTH_COMMAND, 'workbench.action.removeDynamicAuthenticationProviders');
    assert.equal(vscode.compatibility, 'vscode');
  });
});

describe('Cursor', () => {
  it('reads ~/.cursor/mcp.json and the project file, url entries as http (sse when typed), stdio as stdio, mcp-remote skipped', async () => {
    e.env.CTX_KEY = 'k';
    const user = write(path.join(e.home, '.cursor', 'mcp.json'), `{\n  "mcpServers": {\n    "context7": { "url": "https://mcp.context7.com/mcp", "headers": { "CONTEXT7_API_KEY": "\${env:CTX_KEY}" } },\n    "old": { "type": "sse", "url": "https://old.example/sse" },\n    "pw": { "command": "npx", "args": ["-y", "@playwright/mcp@latest"] },\n    ${MCP_REMOTE_ENTRY}\n  }\n}`);
    const proj = write(path.join(e.projectDirs[0]!, '.cursor', 'mcp.json'), '{"mcpServers": {"p": {"url": "${env:NOT_SET}/mcp"}}}');
    const scan = await cursor.scanConfigs(e);
    assert.deepEqual(scan.files, [user, proj]);
    assert.deepEqual(scan.servers.map((s) => s.name), ['context7', 'old', 'pw', 'p']);
    const c7 = server(scan, 'context7');
    assert.equal(c7.client, 'cursor');
    assert.equal(c7.transport, 'http');
    assert.deepEqual(c7.source, { file: user, line: 3, column: 5 });
    assert.equal(c7.headers.CONTEXT7_API_KEY, 'k');
    assert.deepEqual(c7.findings, []);
    assert.equal(server(scan, 'old').transport, 'sse');
    assert.equal(server(scan, 'pw').transport, 'stdio');
    const p = server(scan, 'p');
    assert.equal(p.scope, 'project');
    assert.equal(p.url, '${env:NOT_SET}/mcp', 'an unset variable stays as written: no source says what Cursor puts');
    assert.deepEqual(p.findings.map((f) => f.code), ['config.unset-variable']);
  });

  it('trailing commas are an error (Cursor rejects them), at the comma', async () => {
    const user = write(path.join(e.home, '.cursor', 'mcp.json'), '{\n  "mcpServers": {\n    "a": { "url": "https://a.example/mcp", }\n  }\n}');
    const scan = await cursor.scanConfigs(e);
    assert.deepEqual(scan.servers, []);
    assert.equal(scan.findings[0]?.code, 'config.invalid-json');
    assert.equal(scan.findings[0]?.location?.file, user);
    assert.equal(scan.findings[0]?.location?.line, 3);
  });

  it('an entry with neither url nor command, and Windows paths', async () => {
    write(path.join(e.home, '.cursor', 'mcp.json'), '{"mcpServers": {"x": {"headers": {}}}}');
    const scan = await cursor.scanConfigs(e);
    assert.deepEqual(scan.servers, []);
    assert.deepEqual(scan.findings.map((f) => f.code), ['config.missing-command']);
    const win = sandboxEnvironment(root, { platform: 'win32', home: 'C:\\Users\\ann', projectDirs: ['D:\\w'] });
    assert.deepEqual(cursorConfigFiles(win).map((f) => f.file), ['C:\\Users\\ann\\.cursor\\mcp.json', 'D:\\w\\.cursor\\mcp.json']);
    assert.equal(cursor.credentialStore, undefined);
    assert.match(cursor.tokensNotRead ?? '', /does not read/);
    assert.equal(cursor.compatibility, 'sdk');
  });
});

describe('Claude Desktop', () => {
  it('Linux, macOS and Windows paths', () => {
    assert.equal(claudeDesktopConfigFiles(e)[0]!.file, path.join(e.home, '.config', 'Claude', 'claude_desktop_config.json'));
    assert.equal(claudeDesktopConfigFiles({ ...e, env: { XDG_CONFIG_HOME: '/xdg' } })[0]!.file, path.join('/xdg', 'Claude', 'claude_desktop_config.json'));
    const mac = sandboxEnvironment(root, { platform: 'darwin' });
    assert.equal(claudeDesktopConfigFiles(mac)[0]!.file, path.join(mac.home, 'Library', 'Application Support', 'Claude', 'claude_desktop_config.json'));
    const win = sandboxEnvironment(root, { platform: 'win32', home: 'C:\\Users\\ann', env: { APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' } });
    assert.equal(claudeDesktopConfigFiles(win)[0]!.file, 'C:\\Users\\ann\\AppData\\Roaming\\Claude\\claude_desktop_config.json');
    const winNoAppData = sandboxEnvironment(root, { platform: 'win32', home: 'C:\\Users\\ann' });
    assert.equal(claudeDesktopConfigFiles(winNoAppData)[0]!.file, 'C:\\Users\\ann\\AppData\\Roaming\\Claude\\claude_desktop_config.json');
  });

  it('stdio entries are listed, mcp-remote ones skipped, a url entry is a finding at its url', async () => {
    const file = write(path.join(e.home, '.config', 'Claude', 'claude_desktop_config.json'), `{\n  "mcpServers": {\n    "fs": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"] },\n    ${MCP_REMOTE_ENTRY},\n    "remote": { "url": "https://r.example/mcp" }\n  },\n  "globalShortcut": "Ctrl+Space"\n}`);
    const scan = await claudeDesktop.scanConfigs(e);
    assert.deepEqual(scan.files, [file]);
    assert.deepEqual(scan.servers.map((s) => [s.name, s.client, s.transport, s.source.line, s.source.column]), [['fs', 'claude-desktop', 'stdio', 3, 5]]);
    assert.equal(scan.findings.length, 1);
    assert.equal(scan.findings[0]!.code, 'config.missing-command');
    assert.match(scan.findings[0]!.detail, /Connector/);
    assert.deepEqual(scan.findings[0]!.location, { file, line: 5, column: 17 });
  });

  it('a comment is an error (JSON.parse), and the definition has no store', async () => {
    write(path.join(e.home, '.config', 'Claude', 'claude_desktop_config.json'), '{\n  // note\n  "mcpServers": {}\n}');
    const scan = await claudeDesktop.scanConfigs(e);
    assert.deepEqual(scan.findings.map((f) => [f.code, f.location?.line]), [['config.invalid-json', 2]]);
    assert.equal(claudeDesktop.credentialStore, undefined);
    assert.match(claudeDesktop.tokensNotRead ?? '', /Connectors/);
  });
});

describe('Windsurf', () => {
  it('reads serverUrl (then url), headers with ${env:}, disabled entries, mcp-remote skipped, at each key', async () => {
    e.env.TOKEN = 't0k';
    const file = write(path.join(e.home, '.codeium', 'windsurf', 'mcp_config.json'), `{\n  "mcpServers": {\n    "talaria": { "serverUrl": "https://api.example/mcp", "headers": { "Authorization": "Bearer \${env:TOKEN}" } },\n    "u": { "url": "https://u.example/mcp", "disabled": true },\n    "f": { "serverUrl": "https://f.example/mcp", "headers": { "X-Key": "\${file:/run/secret}" } },\n    "git": { "command": "uvx", "args": ["mcp-server-git"], "disabled": false },\n    ${MCP_REMOTE_ENTRY}\n  }\n}`);
    const scan = await windsurf.scanConfigs(e);
    assert.deepEqual(scan.files, [file]);
    assert.deepEqual(scan.servers.map((s) => s.name), ['talaria', 'u', 'f', 'git']);
    const t = server(scan, 'talaria');
    assert.equal(t.client, 'windsurf');
    assert.equal(t.url, 'https://api.example/mcp');
    assert.equal(t.headers.Authorization, 'Bearer t0k');
    assert.deepEqual(t.source, { file, line: 3, column: 5 });
    assert.equal(server(scan, 'u').enabled, false);
    assert.equal(server(scan, 'u').rawUrl, 'https://u.example/mcp');
    assert.equal(server(scan, 'git').enabled, true);
    const f = server(scan, 'f');
    assert.equal(f.headers['X-Key'], '${file:/run/secret}');
    assert.deepEqual(f.findings.map((x) => [x.code, x.severity]), [['config.unset-variable', 'info']]);
  });

  it('broken JSON, wrong top-level types, and Windows paths', async () => {
    const file = write(path.join(e.home, '.codeium', 'windsurf', 'mcp_config.json'), '{"mcpServers": []}');
    let scan = await windsurf.scanConfigs(e);
    assert.deepEqual(scan.findings.map((f) => [f.code, f.location?.line, f.location?.column]), [['config.missing-servers', 1, 2]]);
    writeFileSync(file, '[1]');
    scan = await windsurf.scanConfigs(e);
    assert.deepEqual(scan.findings.map((f) => f.code), ['config.missing-servers']);
    writeFileSync(file, '{\n"mcpServers": {\n"a": }\n}');
    scan = await windsurf.scanConfigs(e);
    assert.deepEqual(scan.findings.map((f) => [f.code, f.location?.line]), [['config.invalid-json', 3]]);
    const win = sandboxEnvironment(root, { platform: 'win32', home: 'C:\\Users\\ann' });
    assert.equal(windsurfConfigFiles(win)[0]!.file, 'C:\\Users\\ann\\.codeium\\windsurf\\mcp_config.json');
    assert.equal(windsurf.credentialStore, undefined);
    assert.match(windsurf.tokensNotRead ?? '', /does not read/);
  });
});
