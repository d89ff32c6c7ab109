// Entries that run mcp-remote (a stdio bridge that logs in itself and keeps its tokens in
// ~/.mcp-auth) belong to the mcp-remote client, which reads them from these same files; the editor
// readers skip them so a server is not listed twice. Forms seen in the apps' own docs and server
// READMEs: `"command": "npx", "args": ["-y", "mcp-remote", "<url>", …]`, `mcp-remote@0.1.x`,
// Windows' `"command": "cmd", "args": ["/c", "npx", "-y", "mcp-remote", …]`, and an installed
// `"command": "mcp-remote"`.

/** npx-like launchers that run a package given by name. */
const LAUNCHERS = new Set(['npx', 'pnpx', 'bunx', 'yarn', 'pnpm', 'bun']);

const MCP_REMOTE = /^mcp-remote(?:@[^\s/]+)?$/;

function base(command: string): string {
  const last = command.split(/[\\/]/).pop() ?? command;
  return last.replace(/\.(cmd|exe|bat|ps1)$/i, '').toLowerCase();
}

export function runsMcpRemote(command: unknown, args: unknown): boolean {
  if (typeof command !== 'string') return false;
  if (base(command) === 'mcp-remote') return true;
  const list = Array.isArray(args) ? args.filter((a): a is string => typeof a === 'string') : [];
  const at = list.findIndex((a) => MCP_REMOTE.test(a));
  if (at < 0) return false;
  return LAUNCHERS.has(base(command)) || list.slice(0, at).some((a) => LAUNCHERS.has(base(a)));
}
