// Writes the demo's sandbox HOME: servers of both clients in every scope the demo can show,
// several on the live lab (scripts/demo/demo.ts stores their tokens), one stdio server, one
// disabled server, an unset ${VAR} and a broken project file, so a newcomer sees each state of
// the tree at once. Nothing here is a real credential.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** @param {string} root  @param {{mcpUrl?: string}} lab  URLs of live local servers, when running */
export function writeDemoHome(root, lab = {}) {
  const home = path.join(root, 'home');
  const project = path.join(root, 'projects', 'web-app');
  const other = path.join(root, 'projects', 'billing');
  fs.rmSync(root, { recursive: true, force: true });
  for (const d of [home, project, other, path.join(home, '.codex'), path.join(home, '.claude')]) fs.mkdirSync(d, { recursive: true });
  const labUrl = lab.mcpUrl ?? 'http://127.0.0.1:6274/mcp';

  write(path.join(home, '.claude.json'), {
    numStartups: 3,
    mcpServers: {
      'lab-notes': { type: 'http', url: labUrl },
      'lab-expired': { type: 'http', url: labUrl },
      'lab-expiring': { type: 'http', url: labUrl },
      linear: { type: 'http', url: 'https://mcp.linear.app/mcp' },
      github: { type: 'http', url: 'https://api.githubcopilot.com/mcp/', headers: { Authorization: 'Bearer ${GITHUB_PAT}' } },
      filesystem: { type: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', project], env: {} },
    },
    projects: {
      [project]: {
        allowedTools: [],
        mcpServers: { sentry: { type: 'sse', url: 'https://mcp.sentry.dev/sse' } },
      },
      [other]: { allowedTools: [], mcpServers: { stripe: { type: 'http', url: 'https://mcp.stripe.com' } } },
    },
  });
  write(path.join(project, '.mcp.json'), {
    mcpServers: {
      'team-wiki': { type: 'http', url: 'https://${WIKI_HOST:-wiki.example.com}/mcp' },
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
      '[mcp_servers.lab-notes]',
      `url = "${labUrl}"`,
      '',
      '[mcp_servers.lab-fresh]',
      `url = "${labUrl}"`,
      '',
      '[mcp_servers.notion]',
      'url = "https://mcp.notion.com/mcp"',
      '',
      '[mcp_servers.context7]',
      'command = "npx"',
      'args = ["-y", "@upstash/context7-mcp"]',
      '',
      '[mcp_servers.old-figma]',
      'url = "https://mcp.figma.com/mcp"',
      'enabled = false',
      '',
    ].join('\n'),
  );
  return { home, project, other };
}

function write(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
}
