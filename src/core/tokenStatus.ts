// What each server has stored, judged by the stored expiry alone (the live check is the probe's).
import type { ClientId, Finding, McpServer } from './model';
import type { CredentialStore, CredentialSummary, KeychainNotRead, StoreKind } from './credentials/store';

/**
 * missing: nothing stored under the server's key; not-logged-in: an entry without an access
 * token (a registration stub, or cleared); expired / expiring: by the stored expiry;
 * stored: a token whose stored expiry is beyond the margin, or that has none; in-keychain: the
 * client's login is a macOS Keychain item seen by its attributes, not read (macOS would ask).
 */
export type TokenState = 'missing' | 'not-logged-in' | 'expired' | 'expiring' | 'stored' | 'in-keychain';

export interface TokenStatus {
  state: TokenState;
  /** Epoch ms, or null when the store has none. */
  expiresAt: number | null;
  /** SHA-256 prefix of the access token; never the token. */
  fingerprint: string | null;
  hasRefreshToken: boolean;
  /** Where it is kept, for people: a file path or a keychain/keyring item. */
  store: string;
  storeKind: StoreKind;
  clientId: string | null;
  scopes: string[];
  /** in-keychain: the item's attributes (no secret was read). */
  keychain?: { account: string; keychain: string; modified?: string };
}

/** The words for a login we saw in the Keychain and did not read. */
export const IN_KEYCHAIN_NOT_READ = 'logged in (in the Keychain; not read)';

/** Default margin within which a token counts as expiring. */
export const DEFAULT_EXPIRY_MARGIN_MS = 5 * 60 * 1000;

export function judgeToken(
  entry: CredentialSummary | undefined,
  store: Pick<CredentialStore, 'location' | 'kind'>,
  now: number,
  marginMs = DEFAULT_EXPIRY_MARGIN_MS,
): TokenStatus {
  const base = { store: store.location, storeKind: store.kind };
  if (!entry) {
    return { ...base, state: 'missing', expiresAt: null, fingerprint: null, hasRefreshToken: false, clientId: null, scopes: [] };
  }
  // Claude Code writes expiresAt 0 for a stub; treat 0 as "none".
  const expiresAt = entry.expiresAt ? entry.expiresAt : null;
  let state: TokenState;
  if (!entry.hasAccessToken) state = 'not-logged-in';
  else if (expiresAt !== null && expiresAt <= now) state = 'expired';
  else if (expiresAt !== null && expiresAt - now <= marginMs) state = 'expiring';
  else state = 'stored';
  return {
    ...base,
    state,
    expiresAt,
    fingerprint: entry.accessTokenFingerprint ?? null,
    hasRefreshToken: entry.hasRefreshToken,
    clientId: entry.clientId ?? null,
    scopes: entry.scopes,
  };
}

export interface StoreReading {
  client: ClientId;
  store: CredentialStore;
  entries: Map<string, CredentialSummary>;
  findings: Finding[];
  /** Logins in Keychain items not read, by key (macOS). */
  notRead?: Map<string, KeychainNotRead>;
}

/** A login the client keeps in a Keychain item we did not read: known by its attributes only. */
export function keychainToken(item: KeychainNotRead, store: Pick<CredentialStore, 'location' | 'kind'>): TokenStatus {
  return {
    store: store.location,
    storeKind: 'keyring',
    state: 'in-keychain',
    expiresAt: null,
    fingerprint: null,
    hasRefreshToken: false,
    clientId: null,
    scopes: [],
    keychain: { account: item.account, keychain: item.keychain, ...(item.modified ? { modified: item.modified } : {}) },
  };
}

/** Lists every store once; a store that fails to list becomes a finding, never an exception. */
export async function readStores(stores: CredentialStore[]): Promise<StoreReading[]> {
  return Promise.all(
    stores.map(async (store) => {
      try {
        const listing = await store.list();
        const reading: StoreReading = { client: store.client, store, entries: new Map(listing.entries.map((e) => [e.key, e])), findings: listing.findings };
        if (listing.notRead?.length) reading.notRead = new Map(listing.notRead.map((n) => [n.key, n]));
        return reading;
      } catch (err) {
        const finding: Finding = {
          code: 'credentials.unreadable',
          severity: 'error',
          title: `Could not read ${store.location}`,
          detail: err instanceof Error ? err.message : String(err),
        };
        return { client: store.client, store, entries: new Map(), findings: [finding] };
      }
    }),
  );
}

/** The token status of one remote server, from its client's store; undefined for stdio servers. */
export function tokenFor(server: McpServer, readings: StoreReading[], now: number, marginMs?: number): TokenStatus | undefined {
  if (server.transport === 'stdio' || !server.storageKey) return undefined;
  const reading = readings.find((r) => r.client === server.client);
  if (!reading) return undefined;
  // The client reads the Keychain item first; a file copy we could read is not the login it uses.
  const unread = reading.notRead?.get(server.storageKey);
  if (unread) return keychainToken(unread, reading.store);
  return judgeToken(reading.entries.get(server.storageKey), reading.store, now, marginMs);
}

/** "expired 3 h ago · refresh token present", as the tree and the CLI table say it. */
export function describeToken(t: TokenStatus, now: number): string {
  const rt = t.hasRefreshToken ? 'refresh token present' : 'no refresh token';
  switch (t.state) {
    case 'missing':
      return 'not logged in';
    case 'in-keychain': {
      const k = t.keychain;
      const attrs = k ? [`account ${k.account || '(none)'}`, ...(k.modified ? [`changed ${k.modified}`] : [])].join(', ') : '';
      return attrs ? `${IN_KEYCHAIN_NOT_READ} · ${attrs}` : IN_KEYCHAIN_NOT_READ;
    }
    case 'not-logged-in':
      return t.clientId ? 'registered, not logged in' : 'not logged in';
    case 'expired':
      return `expired ${describeSpan(now - (t.expiresAt ?? now))} ago · ${rt}`;
    case 'expiring':
      return `expires in ${describeSpan((t.expiresAt ?? now) - now)} · ${rt}`;
    case 'stored':
      // By the stored expiry only: whether the server still accepts it is the live check's call.
      return t.expiresAt === null ? `token stored (no expiry) · ${rt}` : `token stored, expires in ${describeSpan(t.expiresAt - now)} · ${rt}`;
  }
}

/** A duration in the largest unit that reads well: "45 s", "12 min", "3 h", "2 d". */
export function describeSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.round(h / 24)} d`;
}
