// mcp-remote (npm `mcp-remote`, verified 0.15.1): the stdio bridge Claude Desktop, Cursor and
// Windsurf start for remote servers (`npx -y mcp-remote https://host/mcp …`). Its entries are in
// those apps' configs (config.ts) and its logins in `~/.mcp-auth/mcp-remote-v1/<hash>_*`
// (store.ts). It has no login command: a sign-in happens when the host app starts the bridge and
// the server answers 401 (proxy.js:12611), so there is nothing to hand off to; the user
// restarts the server in the host app instead. It installs nothing on PATH normally (npx caches
// it), so there is no version to ask a binary for: the version is the entry's own pin (config.ts
// McpRemoteEntry.launch.pin). It is built on the MCP TypeScript SDK v2
// (@modelcontextprotocol/client 2.0.0 is bundled in dist/chunk-KJCT2FXL.js), hence the `sdk`
// column of the probe's verdicts.
import type { ClientDefinition } from '../types';
import { MCP_REMOTE_CLIENT, scanMcpRemote } from './config';
import { mcpRemoteStore } from './store';

export const mcpRemote: ClientDefinition = {
  id: MCP_REMOTE_CLIENT, // registry adds the id
  label: 'mcp-remote',
  scanConfigs: scanMcpRemote,
  credentialStore: (e, o) => mcpRemoteStore(e, { backups: o.backups }),
  // Storage key: set by the config reader (config.ts), the md5 hash mcp-remote files the server under: its URL,
  // headers, --resource, authorize params, metadata URL and token endpoint (and the folder prefix of a 0.1.x pin).
  handOff: () => undefined,
  process: {
    executables: ['mcp-remote', 'mcp-remote.cmd'],
    // npx runs the bin link (…/_npx/<id>/node_modules/.bin/mcp-remote); a direct start runs proxy.js.
    scripts: [/\/mcp-remote\/dist\/proxy\.js$/, /\/node_modules\/\.bin\/mcp-remote$/],
  },
  // Our login (its redirect URI, the client it registers) has not been run against the real
  // bridge, so it is not offered; refresh and reset were (test/interop/mcpRemote.test.ts).
  noLoginBecause:
    'MCP Auth Doctor does not log in for mcp-remote (not verified against the real bridge). Reset this server, then restart it in the app that runs it (Claude Desktop, Cursor or Windsurf): mcp-remote opens the browser login itself.',
  compatibility: 'sdk',
};
