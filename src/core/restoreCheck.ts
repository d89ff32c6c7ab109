// After a restore: is each restored grant still good? A restored token may have been revoked, or
// its refresh token rotated away, since the state it came from. Each restored entry's own server is
// asked whether it accepts the access token now (accessTokenCheck.ts: only the URL the grant was
// stored for). Refresh tokens are not tried: using one rotates it, which is a repair, not a check.
// Shared by `mcp-auth-doctor restore` (a snapshot, or `--lost`) and the editor's Restore.
import { checkAccessToken, describeVerdict, type AccessTokenCheckOptions } from './accessTokenCheck';
import type { CredentialStore } from './credentials/store';

export type RestoredEntryState =
  /** The server accepted the access token. */
  | 'alive'
  /** The access token is dead (rejected, or expired by its stored expiry) but a refresh token is stored: a refresh may bring it back. */
  | 'needs-refresh'
  /** Nothing usable: log in again. */
  | 'needs-login'
  /** Not judged (server unreachable, no URL, a 403 or an odd answer). */
  | 'unknown';

export interface RestoredEntryCheck {
  key: string;
  serverName?: string;
  accessTokenFingerprint?: string;
  state: RestoredEntryState;
  /** Counted as dead by `restore` (exit 1): rejected, or expired with no refresh token. */
  dead: boolean;
  /** For people, fingerprints only. */
  verdict: string;
}

export interface RestoreCheckOptions extends AccessTokenCheckOptions {
  now?: number;
}

/** Checks each restored entry of `store` (by key) with its own server. */
export async function checkRestoredEntries(store: CredentialStore, keys: string[], options: RestoreCheckOptions = {}): Promise<RestoredEntryCheck[]> {
  const now = options.now ?? Date.now();
  const out: RestoredEntryCheck[] = [];
  for (const key of keys) {
    const summary = await store.read(key);
    const secret = await store.readSecret(key);
    const rt = summary?.hasRefreshToken ? 'refresh token present (not tried: using it would rotate it)' : 'no refresh token';
    const base = { key, ...(summary?.serverName ? { serverName: summary.serverName } : {}), ...(summary?.accessTokenFingerprint ? { accessTokenFingerprint: summary.accessTokenFingerprint } : {}) };
    const dead = (verdict: string): RestoredEntryCheck => ({ ...base, state: summary?.hasRefreshToken ? 'needs-refresh' : 'needs-login', dead: true, verdict });
    if (!summary || !secret?.accessToken) {
      out.push({ ...base, state: summary?.hasRefreshToken ? 'needs-refresh' : 'needs-login', dead: false, verdict: 'no access token stored' });
    } else if (summary.expiresAt && summary.expiresAt <= now) {
      const verdict = `expired by its stored expiry; ${rt}`;
      out.push(summary.hasRefreshToken ? { ...base, state: 'needs-refresh', dead: false, verdict } : dead(verdict));
    } else if (!summary.serverUrl) {
      out.push({ ...base, state: 'unknown', dead: false, verdict: 'not checked: the entry has no server URL' });
    } else {
      const v = await checkAccessToken(summary.serverUrl, secret.accessToken, options);
      if (v.state === 'accepted') out.push({ ...base, state: 'alive', dead: false, verdict: describeVerdict(v) });
      else if (v.state === 'rejected') out.push(dead(`${describeVerdict(v)}; ${rt}`));
      else out.push({ ...base, state: 'unknown', dead: false, verdict: describeVerdict(v) });
    }
  }
  return out;
}

/** The lines `restore` prints for the checks (fingerprints only). */
export function describeRestoredChecks(checks: RestoredEntryCheck[]): string {
  if (checks.length === 0) return '';
  const lines = ['Checking the restored entries with their servers:'];
  for (const c of checks) lines.push(`  ${c.key} ${c.accessTokenFingerprint ?? ''}: ${c.verdict}`);
  const dead = checks.filter((c) => c.dead).length;
  if (dead > 0) lines.push(`${dead} restored ${dead === 1 ? 'entry is' : 'entries are'} dead: log in again (claude mcp login <name> / codex mcp login <name>).`);
  return lines.join('\n') + '\n';
}
