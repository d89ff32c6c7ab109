// Writes the demo's sandbox HOME: servers of both clients in every scope the demo can show, one
// per probe state on the live labs (scripts/demo/demo.ts starts them and stores the tokens), one
// stdio server, one disabled server, an unset ${VAR} and a broken ancestor .mcp.json, so a
// newcomer sees each state of the tree at once. Nothing here is a real credential.
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The lab servers, by name, and the state each shows once demo.ts has stored its token (or none).
 * Claude Code's user scope holds most; Codex holds its own valid and fresh logins and the server
 * whose issuer mismatch Codex refuses (openai/codex#38944, see src/core/probe/verdict.ts).
 */
export const LAB_SERVERS = {
  'claude-code': ['lab-notes', 'lab-expired', 'lab-expiring', 'lab-rejected', 'lab-step-up', 'lab-no-metadata', 'lab-public', 'lab-hanging', 'lab-cimd'],
  codex: ['lab-notes', 'lab-fresh', 'lab-misconfigured', 'lab-cimd'],
};

/** Where every lab server name points when no lab runs (a dead loopback port). */
const NO_LAB = 'http://127.0.0.1:6274/mcp';

/**
 * @param {string} root  emptied and rebuilt
 * @param {{servers?: Record<string, string>, offline?: boolean}} options
 *   servers: lab server name → its live MCP URL (names of LAB_SERVERS); offline: leave out every
 *   server whose URL is not loopback, so a test's probe never leaves the machine.
 */
export function writeDemoHome(root, options = {}) {
  const { servers = {}, offline = false } = options;
  const home = path.join(root, 'home');
  const project = path.join(root, 'projects', 'web-app');
  const other = path.join(root, 'projects', 'billing');
  fs.rmSync(root, { recursive: true, force: true });
  for (const d of [home, project, other, path.join(home, '.codex'), path.join(home, '.claude'), path.join(home, '.cursor'), path.join(home, '.gemini'), path.join(home, '.config', 'opencode'), path.join(home, '.config', 'Claude'), path.join(project, '.vscode')]) fs.mkdirSync(d, { recursive: true });
  const labUrl = (name) => servers[name] ?? NO_LAB;
  /** The public examples only when the demo may reach them. */
  const online = (entries) => (offline ? {} : entries);

  write(path.join(home, '.claude.json'), {
    numStartups: 3,
    mcpServers: {
      ...Object.fromEntries(LAB_SERVERS['claude-code'].map((name) => [name, { type: 'http', url: labUrl(name) }])),
      ...online({
        linear: { type: 'http', url: 'https://mcp.linear.app/mcp' },
        github: { type: 'http', url: 'https://api.githubcopilot.com/mcp/', headers: { Authorization: 'Bearer ${GITHUB_PAT}' } },
      }),
      // Offline the unset ${VAR} lives on a loopback server instead of GitHub (a dead port: unreachable).
      ...(offline ? { 'ci-status': { type: 'http', url: 'http://127.0.0.1:7412/mcp', headers: { Authorization: 'Bearer ${CI_STATUS_TOKEN}' } } } : {}),
      filesystem: { type: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', project], env: {} },
    },
    projects: {
      [project]: { allowedTools: [], mcpServers: online({ sentry: { type: 'sse', url: 'https://mcp.sentry.dev/sse' } }) },
      [other]: { allowedTools: [], mcpServers: online({ stripe: { type: 'http', url: 'https://mcp.stripe.com' } }) },
    },
  });
  write(path.join(project, '.mcp.json'), {
    mcpServers: {
      ...online({ 'team-wiki': { type: 'http', url: 'https://${WIKI_HOST:-wiki.example.com}/mcp' } }),
      'docs-search': { type: 'http', url: 'http://127.0.0.1:7411/mcp', oauth: { clientId: 'demo-client', callbackPort: 3118 } },
    },
  });
  // A typo a user might make, so the demo shows a located config problem.
  // Claude Code also reads .mcp.json files in the folders above the project.
  fs.writeFileSync(path.join(root, 'projects', '.mcp.json'), '{\n  "mcpServers": {\n    "broken": { "type": "http", "url": }\n  }\n}\n');
  fs.writeFileSync(
    path.join(home, '.codex', 'config.toml'),
    [
      'model = "gpt-5-codex"',
      'mcp_oauth_credentials_store = "file"',
      '',
      ...LAB_SERVERS.codex.flatMap((name) => [`[mcp_servers.${name}]`, `url = "${labUrl(name)}"`, '']),
      ...(offline ? [] : ['[mcp_servers.notion]', 'url = "https://mcp.notion.com/mcp"', '']),
      '[mcp_servers.context7]',
      'command = "npx"',
      'args = ["-y", "@upstash/context7-mcp"]',
      '',
      // Disabled: listed, never probed. Offline it is a loopback URL like everything else.
      ...(offline ? ['[mcp_servers.old-tracker]', 'url = "http://127.0.0.1:7413/mcp"'] : ['[mcp_servers.old-figma]', 'url = "https://mcp.figma.com/mcp"']),
      'enabled = false',
      '',
    ].join('\n'),
  );
  // One lab server in five more clients, for the tree's "by server" view: Cursor and VS Code keep
  // their login in the editor's own storage (not read); Claude Desktop reaches it through
  // mcp-remote, whose expired login demo.ts stores in ~/.mcp-auth; Gemini CLI's valid one goes to
  // ~/.gemini/mcp-oauth-tokens.json; opencode's expired but refreshable one to
  // ~/.local/share/opencode/mcp-auth.json.
  const shared = labUrl(SHARED_SERVER);
  write(path.join(home, '.cursor', 'mcp.json'), { mcpServers: { [SHARED_SERVER]: { url: shared } } });
  write(path.join(home, '.gemini', 'settings.json'), { mcpServers: { [SHARED_SERVER]: { httpUrl: shared } } });
  write(path.join(home, '.config', 'opencode', 'opencode.json'), { $schema: 'https://opencode.ai/config.json', mcp: { [SHARED_SERVER]: { type: 'remote', url: shared } } });
  write(path.join(project, '.vscode', 'mcp.json'), { servers: { [SHARED_SERVER]: { type: 'http', url: shared } } });
  write(path.join(home, '.config', 'Claude', 'claude_desktop_config.json'), {
    mcpServers: { [SHARED_SERVER]: { command: 'npx', args: ['-y', 'mcp-remote@0.15.1', shared, '--allow-http'] } },
  });
  return { home, project, other };
}

/** The lab server configured in every client (Claude Code, Codex, Gemini CLI, opencode, mcp-remote, Cursor, VS Code). */
export const SHARED_SERVER = 'lab-notes';

function write(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
}
