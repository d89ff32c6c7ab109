// Words for a server that every surface uses the same way (tree, CLI table, reports).
import type { Finding, McpServer, Severity } from '../model';
import { CLIENT_LABELS } from '../clients/ids';
import { clientDefinition } from '../clients/registry';

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function worstSeverity(findings: Finding[]): Severity | undefined {
  return findings.reduce<Severity | undefined>(
    (worst, f) => (worst === undefined || SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[worst] ? f.severity : worst),
    undefined,
  );
}

/** Host (or `stdio`) and scope, e.g. `api.example.com · user`. */
export function serverWhere(s: McpServer): string {
  // The expanded URL gives a real host even when the file says ${HOST}; hosts are not secrets.
  const where = s.transport === 'stdio' ? 'stdio' : hostOf(s.url || s.rawUrl);
  // A bridge's entry says whose config runs it (mcp-remote in Claude Desktop, Cursor, Windsurf).
  return `${where} · ${s.scope}${s.host ? ` · ${s.host}` : ''}`;
}

function hostOf(url: string | undefined): string {
  if (!url) return 'no url';
  try {
    return new URL(url).host || url;
  } catch {
    // Unexpanded placeholders or a typo: show what was written, minus any query (it may hold a key).
    return url.split('?')[0] ?? url;
  }
}

/** `file:line` as editors print it. */
export function sourceLabel(s: McpServer): string {
  return `${s.source.file}:${s.source.line}`;
}

/** The URL to display: as written (placeholders unexpanded), query values masked since they may be keys. */
export function displayUrl(s: McpServer): string | undefined {
  const raw = s.rawUrl ?? s.url;
  if (!raw) return undefined;
  const q = raw.indexOf('?');
  if (q < 0) return raw;
  const masked = raw
    .slice(q + 1)
    .split('&')
    .map((pair) => pair.split('=')[0] + (pair.includes('=') ? '=…' : ''))
    .join('&');
  return `${raw.slice(0, q)}?${masked}`;
}

/**
 * How a server authenticates when it is not through an MCP OAuth login the client stores, in the
 * words every surface uses; undefined when its OAuth login is what counts. Codex 0.171 only (see
 * config/codexEntry.ts for the sources): bearer_token_env_var and a ChatGPT-origin auth = "chatgpt"
 * never read the stored login; http_headers_helper is used when no login is stored (a stored one
 * wins, so that one is judged as any login is).
 */
export interface ClientAuthentication {
  kind: 'chatgpt' | 'bearer-env' | 'headers-helper';
  /** One line for the tree and the CLI. */
  summary: string;
  /** What Codex sends, and what the user can check or change if the server still refuses it. */
  detail: string;
}

export function clientAuthentication(s: McpServer, hasStoredLogin: boolean): ClientAuthentication | undefined {
  if (s.client !== 'codex' || s.transport === 'stdio') return undefined;
  if (s.bearerTokenEnvVar !== undefined) {
    return {
      kind: 'bearer-env',
      summary: `bearer token from $${s.bearerTokenEnvVar} (no OAuth login)`,
      detail: `Codex sends the value of the environment variable ${s.bearerTokenEnvVar} as the bearer token and never uses an MCP OAuth login for this server. If the server refuses it, set a valid token in that variable where Codex starts (a login here would not be used).`,
    };
  }
  if (s.chatgptAuth) {
    return {
      kind: 'chatgpt',
      summary: 'signs in with your ChatGPT account (codex login)',
      detail: 'auth = "chatgpt": Codex sends the token of its own ChatGPT sign-in to this ChatGPT server; there is no MCP OAuth login to check, refresh or reset. If it fails, sign in again with `codex login` (with ChatGPT). Signed in with an API key instead, Codex falls back to an MCP OAuth login for it. The probe does not send your ChatGPT token anywhere.',
    };
  }
  if (s.headersHelper !== undefined && !hasStoredLogin) {
    return {
      kind: 'headers-helper',
      summary: 'headers from its http_headers_helper command (no OAuth login)',
      detail: 'Codex runs the http_headers_helper command (sh -c, at most 10 s) when it connects and sends the headers it prints (a JSON object) to this server, running it again once after a 401 or 403. No MCP OAuth login is stored, and none is needed while the helper prints the credential. The probe does not run the command: if the server refuses, run it yourself and check what it prints.',
    };
  }
  return undefined;
}

/** How a client gets its client id at the server, for a detail line: "Client ID Metadata Document (https://…)". */
export function describeRegistration(v: { method: 'configured' | 'stored' | 'metadata-document' | 'dynamic-registration' | 'none'; clientId?: string }): string {
  switch (v.method) {
    case 'configured':
      return `configured client id (${v.clientId ?? '?'})`;
    case 'stored':
      return `the client it stored (${v.clientId ?? '?'})`;
    case 'metadata-document':
      return `Client ID Metadata Document (${v.clientId ?? '?'})`;
    case 'dynamic-registration':
      return 'dynamic registration (a new client at each login)';
    case 'none':
      return 'none: it cannot log in without a configured client id';
  }
}

/** `A`, `A or B`, `A, B or C`: a list of names as a sentence reads it. */
export function listInWords(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/**
 * For a remote server of a client whose tokens we do not read (VS Code, Cursor, Windsurf: an
 * editor's secret storage): the words in place of a token state, and the sentence that says why.
 */
export function loginNotRead(s: Pick<McpServer, 'client' | 'transport'>): { summary: string; detail: string } | undefined {
  const why = s.transport === 'stdio' ? undefined : clientDefinition(s.client).tokensNotRead;
  return why ? { summary: `login kept by ${CLIENT_LABELS[s.client]} (not read)`, detail: why } : undefined;
}
