// Sandbox HOMEs and workspaces for the extension-host suites, shared by both runners
// (runServer.mjs here, runElectron.mjs on a desktop). Every remote URL is loopback on a port
// nothing listens on, so even a future probe never leaves the machine. No credentials are written.
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The "fixture" suite: one server in every scope the tests check.
 * Claude Code (formats: shared/docs/client-formats.md): user scope in ~/.claude.json `mcpServers`,
 * local scope in `projects["<workspace>"].mcpServers`, project scope in <workspace>/.mcp.json.
 * Codex: ~/.codex/config.toml `[mcp_servers.NAME]`, one streamable-HTTP and one stdio server.
 * @param {string} root an empty directory to build in
 * @returns {{home: string, workspace: string}}
 */
export function writeFixtureHome(root) {
  const home = path.join(root, 'home');
  const workspace = path.join(root, 'workspace', 'web-app');
  fs.mkdirSync(path.join(home, '.codex'), { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  writeJson(path.join(home, '.claude.json'), {
    numStartups: 1,
    mcpServers: {
      'team-tracker': { type: 'http', url: 'http://127.0.0.1:7401/mcp' },
    },
    projects: {
      [workspace]: {
        allowedTools: [],
        mcpServers: { 'local-notes': { type: 'sse', url: 'http://127.0.0.1:7402/sse' } },
      },
    },
  });
  writeJson(path.join(workspace, '.mcp.json'), {
    mcpServers: { 'shared-wiki': { type: 'http', url: 'http://127.0.0.1:7403/mcp' } },
  });
  fs.writeFileSync(
    path.join(home, '.codex', 'config.toml'),
    [
      'model = "gpt-5-codex"',
      // Test machines have no Secret Service; with the default "auto" the view rightly reports
      // the keyring as unreachable. Keyring paths are covered by the interop suite.
      'mcp_oauth_credentials_store = "file"',
      '',
      '[mcp_servers.docs-search]',
      'url = "http://127.0.0.1:7404/mcp"',
      '',
      '[mcp_servers.local-files]',
      'command = "mcp-fixture-files"',
      'args = ["--root", "."]',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(workspace, 'README.md'), '# web-app\n');
  return { home, workspace };
}

/**
 * The "empty" suite: a HOME with no client config at all (a first-time user).
 * @param {string} root
 * @returns {{home: string, workspace: string}}
 */
export function writeEmptyHome(root) {
  const home = path.join(root, 'home');
  const workspace = path.join(root, 'workspace', 'empty-project');
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  return { home, workspace };
}

/** One extension-host run: which HOME to build and which suite folder (test/vscode/suite/<name>) to run. */
export const SCENARIOS = [
  { suite: 'fixture', build: writeFixtureHome },
  { suite: 'empty', build: writeEmptyHome },
];

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
}
