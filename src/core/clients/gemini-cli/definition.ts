// Gemini CLI (npm @google/gemini-cli, verified at 0.61.0): settings files (config.ts), MCP
// logins in ~/.gemini/mcp-oauth-tokens.json (store.ts), tokens filed by server name.
import type { ClientDefinition } from '../types';
import { scanGeminiCli } from './config';
import { geminiTokenFilePath } from './paths';
import { geminiCliStore } from './store';
import { journalContent, parseTokenFile, summaryOf } from './tokenFile';

export const geminiCli: ClientDefinition = {
  id: 'gemini-cli',
  label: 'Gemini CLI',
  scanConfigs: scanGeminiCli,
  credentialStore: (e, o) => geminiCliStore(e, { backups: o.backups }),
  // MCPOAuthTokenStorage keys every login by the server's name alone (chunk-JDPZ4CE3.js:368166):
  // a changed URL or header keeps the old login, and two projects' servers of one name share one.
  // 0.61.0 has no `gemini mcp login`/`logout` (its `mcp` commands are add, remove, list, enable,
  // disable: gemini-3HFX2LNT.js:5714). Login is the TUI's `/mcp auth <name>` (chunk-HPLZM7PQ.js:83063),
  // which `gemini -i "/mcp auth <name>"` runs at start (checked with 0.61.0 in a pseudo-terminal:
  // "Starting OAuth authentication for MCP server …"); a project's server needs that project as
  // the working directory. There is no logout of one server: a reset here is the only one.
  handOff: (s, verb) => (verb === 'login' && s.scope !== 'dynamic' ? { command: 'gemini', args: ['-i', `/mcp auth ${s.name}`] } : undefined),
  version: {
    binary: 'gemini',
    newestVerified: '0.61.0',
    // `gemini --version` prints the bare version: "0.61.0".
    parse: (line) => /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)\s*$/.exec(line.trim())?.[1],
  },
  process: {
    executables: ['gemini', 'gemini.exe'],
    // npm's shim runs node on bundle/gemini.js, which relaunches itself as a child with the same
    // script (packages/cli/index.ts, bundle/gemini.js:60-100).
    scripts: [/\/@google\/gemini-cli\/bundle\/gemini\.js$/],
  },
  // Gemini's MCP OAuth is its own code (packages/core/src/mcp/oauth-provider.ts, oauth-utils.ts),
  // not the SDK's auth(), but it follows the same path the SDK column grades: discovery from the
  // 401 challenge's resource_metadata or the well-known URLs, RFC 8414 metadata, DCR, PKCE S256,
  // the resource parameter. Differences the column does not show: it registers a new client on
  // every login without a configured clientId (it stores no client secret), and it starts a login
  // by itself on a 401 only with `oauth.enabled: true` (else it says to run /mcp auth,
  // chunk-JDPZ4CE3.js:369991).
  compatibility: 'sdk',
  journal: {
    content: journalContent,
    files: (e) => [geminiTokenFilePath(e)],
    summaries: (raw) => {
      const p = parseTokenFile(raw, 'a journal state');
      return p.ok ? [...p.parsed.entries.values()].map(summaryOf) : undefined;
    },
  },
};
