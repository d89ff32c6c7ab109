// The registry's light half: the ids and names of the clients we read, importable from anywhere
// (schemas in the editor layer, the model) without pulling in any client's readers or stores.
// registry.ts holds each client's definition; a new client adds its id here and its folder there.

/** The AI tools whose MCP configs (and, where we can read them, credential stores) we read. */
export const CLIENT_IDS = ['claude-code', 'codex', 'gemini-cli', 'opencode', 'mcp-remote', 'vscode', 'cursor', 'claude-desktop', 'windsurf'] as const;

export type ClientId = (typeof CLIENT_IDS)[number];

export const CLIENT_LABELS: Readonly<Record<ClientId, string>> = Object.freeze({
  'claude-code': 'Claude Code',
  codex: 'Codex',
  'gemini-cli': 'Gemini CLI',
  opencode: 'opencode',
  'mcp-remote': 'mcp-remote',
  vscode: 'VS Code',
  cursor: 'Cursor',
  'claude-desktop': 'Claude Desktop',
  windsurf: 'Windsurf',
});

export function isClientId(v: unknown): v is ClientId {
  return typeof v === 'string' && (CLIENT_IDS as readonly string[]).includes(v);
}
