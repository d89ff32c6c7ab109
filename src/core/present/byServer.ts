// One server, many clients: entries with the same URL in different clients' configs are one row
// group ("Linear: valid in Claude Code, expired in Codex, login not read in Cursor"), so the user sees
// which client's login broke. Plain data for the tree's "by server" view and anything else.
import { CLIENT_LABELS } from '../clients/ids';
import type { McpServer } from '../model';
import type { ServerState } from '../probe/serverState';
import type { ServerStatus } from '../status';
import type { TokenStatus } from '../tokenStatus';
import { loginNotRead } from './describe';

export interface ServerGroup {
  /** The normalized URL (remote servers), or `stdio:<command>:<name>`. */
  key: string;
  /** The name most entries give it (ties: the first seen). */
  name: string;
  /** The URL as shown (the first entry's); undefined for stdio. */
  url?: string;
  /** Indexes into the statuses given, in their order. */
  members: number[];
}

/**
 * The URL two clients would reach the same server at: scheme and host lower-cased (URL does it),
 * default port and fragment dropped, one trailing slash ignored. Query kept: it can pick a tenant.
 */
export function serverUrlKey(url: string): string {
  try {
    const u = new URL(url);
    u.hash = '';
    const path = u.pathname.length > 1 ? u.pathname.replace(/\/$/, '') : '';
    return `${u.protocol}//${u.host}${path}${u.search}`;
  } catch {
    return url.trim();
  }
}

export function groupByServer(statuses: readonly Pick<ServerStatus, 'server'>[]): ServerGroup[] {
  const groups = new Map<string, ServerGroup & { names: Map<string, number> }>();
  statuses.forEach(({ server }, i) => {
    // A stdio server has no URL; its command line is not kept whole (only the command), so two
    // entries are taken as one when both the command and the name agree (`npx` alone says little).
    const key = server.url ? serverUrlKey(server.url) : `stdio:${server.command ?? ''}:${server.name}`;
    let g = groups.get(key);
    if (!g) {
      g = { key, name: server.name, ...(server.url ? { url: server.url } : {}), members: [], names: new Map() };
      groups.set(key, g);
    }
    g.members.push(i);
    g.names.set(server.name, (g.names.get(server.name) ?? 0) + 1);
  });
  return [...groups.values()].map(({ names, ...g }) => {
    let best = g.name;
    for (const [n, count] of names) if (count > (names.get(best) ?? 0)) best = n;
    return { ...g, name: best };
  });
}

/** Short state words per entry, as the group line reads them: "valid", "expired", "not logged in". */
const STATE_WORDS: Partial<Record<ServerState, string>> = {
  valid: 'valid',
  'no-auth-needed': 'no login needed',
  'not-logged-in': 'not logged in',
  expired: 'expired',
  expiring: 'expiring',
  rejected: 'rejected',
  'insufficient-scope': 'insufficient scope',
  forbidden: 'refused',
  stored: 'token stored',
  misconfigured: 'misconfigured',
  unreachable: 'unreachable',
  'client-auth': 'authenticated by the client',
};

const TOKEN_WORDS: Record<TokenStatus['state'], string> = {
  missing: 'not logged in',
  'not-logged-in': 'not logged in',
  expired: 'expired',
  expiring: 'expiring',
  stored: 'token stored',
  'in-keychain': 'in the Keychain (not read)',
};

/** One entry's state in a few words: the probe's when it ran, else the stored token's. */
export function shortState(server: McpServer, token: TokenStatus | undefined, state: ServerState | undefined): string {
  if (server.transport === 'stdio') return 'stdio';
  if (!server.enabled) return 'disabled';
  const elsewhere = loginNotRead(server);
  if (elsewhere && (state === undefined || state === 'login-not-read' || state === 'not-probed')) return 'login not read';
  const probed = state && state !== 'not-probed' ? STATE_WORDS[state] : undefined;
  if (probed) return probed;
  return token ? TOKEN_WORDS[token.state] : 'not checked';
}

/** "valid in Claude Code, expired in Codex, login not read in Cursor". */
export function describeGroup(entries: { server: McpServer; state: string }[]): string {
  return entries.map((e) => `${e.state} in ${CLIENT_LABELS[e.server.client]}${e.server.host ? ` (${e.server.host})` : ''}`).join(', ');
}
