// opencode (npm opencode-ai, verified at 1.18.33): config files (config.ts), MCP logins in
// `<data>/mcp-auth.json` (store.ts) under opencode's own lock (lock.ts), filed by server name and
// bound to the URL they were made for (authFile.ts).
import type { ClientDefinition } from '../types';
import { journalContent, parseAuthFile, summaryOf } from './authFile';
import { scanOpencode } from './config';
import { opencodeAuthFile } from './paths';
import { opencodeStore } from './store';

export const opencode: ClientDefinition = {
  id: 'opencode',
  label: 'opencode',
  scanConfigs: scanOpencode,
  credentialStore: (e, o) => opencodeStore(e, { backups: o.backups }),
  // Storage key: set by the reader, `<name>|<url>` (authFile.ts opencodeStorageKey), as `getForUrl(name, url)`
  // finds the entry of that name only while its serverUrl is the config's url.
  // `opencode mcp auth <name>` (browser login, callback on 127.0.0.1:19876) and
  // `opencode mcp logout <name>` (removes the name's entry): both in 1.18.33's `opencode mcp --help`;
  // a project's server is found only when run in that project.
  handOff: (s, verb) => ({ command: 'opencode', args: ['mcp', verb === 'login' ? 'auth' : 'logout', s.name] }),
  version: {
    binary: 'opencode',
    newestVerified: '1.18.33',
    // `opencode --version` prints the bare version: "1.18.33".
    parse: (line) => /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)\s*$/.exec(line.trim())?.[1],
  },
  process: {
    // npm's opencode-ai ships a native binary per platform (opencode-linux-x64, opencode-darwin-arm64, …),
    // copied by its postinstall to opencode-ai/bin/opencode.exe on every OS.
    executables: ['opencode', 'opencode.exe'],
    npmPackage: /^opencode-(ai|(linux|darwin|windows)-[a-z0-9-]+)$/,
  },
  noLoginBecause:
    'MCP Auth Doctor does not log in for opencode (its login was not verified against the real client). Run `opencode mcp auth <name>` in a terminal, which opens the browser login; Refresh and Reset work here.',
  configureClientId: '`"oauth": { "clientId": "…" }` in the server\'s entry of opencode.json',
  // opencode runs the MCP TypeScript SDK's auth() (its bundle carries the SDK's discovery, DCR,
  // PKCE and refresh code) with its own OAuthClientProvider (McpOAuthProvider): a config clientId,
  // else the stored DCR client unless its secret expired, else a new registration.
  compatibility: 'sdk',
  journal: {
    content: journalContent,
    files: (e) => [opencodeAuthFile(e)],
    summaries: (raw) => {
      const p = parseAuthFile(raw, 'a journal state');
      return p.ok ? [...p.parsed.entries.values()].map(summaryOf) : undefined;
    },
  },
};
