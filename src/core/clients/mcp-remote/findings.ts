// What goes wrong around mcp-remote's state that mcp-remote does not say itself: a lock or lease
// left by a process that is gone, two entries that want the same callback port (or a port some
// other program holds: the EADDRINUSE users hit), and logins left in another release's folder,
// which the release the host runs never reads, so the user looks logged out.
import type { Finding, SourceLocation } from '../../model';
import type { McpRemoteEntry } from './config';
import { CURRENT_STORE_FOLDER } from './layout';
import { LEGACY_LOCK_MAX_AGE_MS, pidAlive, REFRESH_LEASE_MS, type Lease, type LegacyLock } from './locks';

export const MCP_REMOTE_FINDING = {
  staleLock: 'credentials.mcp-remote-stale-lock',
  liveLock: 'credentials.mcp-remote-lock-held',
  portCollision: 'config.mcp-remote-callback-port-collision',
  versionFolderSplit: 'credentials.mcp-remote-version-folder-split',
} as const;

const REF = {
  lease: 'node_modules/mcp-remote/dist/chunk-KJCT2FXL.js:31869-31910 (mcp-remote 0.15.1 acquireConfigLease/readConfigLease; REFRESH_LEASE_MS 30 s at 34297)',
  legacyLock: 'https://github.com/geelen/mcp-remote/blob/main/src/lib/coordination.ts (isLockValid: 30 min, pid, /wait-for-auth)',
  portCollision: 'https://github.com/punkpeye/mcp-remote/issues/306',
  versionSplit: 'https://github.com/punkpeye/mcp-remote/issues/200',
};

/** A lock or lease file found in a store folder. */
export interface LockFile {
  file: string;
  hash: string;
  folder: string;
  lock: { kind: 'lease'; value: Lease } | { kind: 'legacy'; value: LegacyLock };
}

/** Locks whose owner is gone or that are older than mcp-remote's own staleness rule; live ones as info. */
export function lockFindings(locks: LockFile[], names: Map<string, string>, now = Date.now()): Finding[] {
  const out: Finding[] = [];
  for (const l of locks) {
    const who = names.get(l.hash) ? `"${names.get(l.hash)}"` : `server ${l.hash}`;
    const at: SourceLocation = { file: l.file, line: 1, column: 1 };
    if (l.lock.kind === 'lease') {
      const { pid, at: taken } = l.lock.value;
      const age = now - taken;
      const alive = pidAlive(pid);
      if (age < REFRESH_LEASE_MS && alive) {
        out.push({ code: MCP_REMOTE_FINDING.liveLock, severity: 'info', title: `mcp-remote (pid ${pid}) is refreshing ${who}`, detail: `${l.file} was taken ${Math.round(age / 1000)} s ago; refreshes and resets of this server wait until it is released.`, location: at, reference: REF.lease });
      } else {
        out.push({
          code: MCP_REMOTE_FINDING.staleLock,
          severity: 'info',
          title: `Stale mcp-remote refresh lease for ${who}`,
          detail: `${l.file} was left by pid ${pid}, which ${alive ? `still runs but took it ${Math.round(age / 1000)} s ago (mcp-remote treats a lease older than 30 s as abandoned)` : 'no longer runs'}. mcp-remote clears it on its next refresh; Reset removes it too.`,
          location: at,
          reference: REF.lease,
          repairs: ['reset'],
        });
      }
      continue;
    }
    const { pid, port, timestamp } = l.lock.value;
    const age = now - timestamp;
    const alive = pidAlive(pid);
    if (age <= LEGACY_LOCK_MAX_AGE_MS && alive) {
      out.push({ code: MCP_REMOTE_FINDING.liveLock, severity: 'info', title: `mcp-remote (pid ${pid}) holds the sign-in lock for ${who}`, detail: `${l.file} names port ${port}; other instances of that release wait for its sign-in.`, location: at, reference: REF.legacyLock });
    } else {
      out.push({
        code: MCP_REMOTE_FINDING.staleLock,
        severity: 'warning',
        title: `Stale mcp-remote sign-in lock for ${who}`,
        detail: `${l.file} (port ${port}) was left by pid ${pid}, which ${alive ? `runs but took it ${Math.round(age / 60_000)} min ago (older than the 30 min mcp-remote 0.1.x accepts)` : 'no longer runs'}. mcp-remote 0.1.x checks it, finds it stale and starts its own sign-in; on Windows it never checks it. Reset removes it with the server's other files.`,
        location: at,
        reference: REF.legacyLock,
        repairs: ['reset'],
      });
    }
  }
  return out;
}

/**
 * Entries of different servers pinned to one callback port. 0.15.1 holds the port only while it
 * signs in, so the second sign-in fails with EADDRINUSE (a pinned port is tried alone: proxy.js:12551).
 * Entries of one server (same hash) share it by design: the second follows the first's sign-in.
 */
export function portCollisionFindings(entries: McpRemoteEntry[]): Finding[] {
  const byPort = new Map<number, McpRemoteEntry[]>();
  for (const en of entries) {
    if (!en.callbackPort || !en.strictPort) continue;
    byPort.set(en.callbackPort, [...(byPort.get(en.callbackPort) ?? []), en]);
  }
  // A pinned port inside another server's derived range also clashes when both sign in at once.
  const out: Finding[] = [];
  for (const [port, list] of byPort) {
    const hashes = new Set(list.map((l) => l.hash ?? l.server.name));
    if (hashes.size < 2) continue;
    const names = list.map((l) => `"${l.server.name}" (${l.server.host})`).join(', ');
    for (const en of list) {
      en.server.findings.push({
        code: MCP_REMOTE_FINDING.portCollision,
        severity: 'warning',
        title: `Callback port ${port} is also pinned by another mcp-remote server`,
        detail: `${names} all pass ${port} as mcp-remote's callback port. When two of them sign in at the same time, the second fails with EADDRINUSE ("Callback port ${port} is already in use"). Give each server its own port, or drop the port argument so mcp-remote derives one from the server URL.`,
        location: en.portLocation,
        reference: REF.portCollision,
        repairs: ['edit-config'],
      });
    }
  }
  return out;
}

/** Where logins are: for each hash, the folders holding a tokens file. */
export type TokensIndex = Map<string, string[]>;

/**
 * An entry whose release reads one folder while its server's login sits only in another: the
 * host app's bridge starts a new sign-in although the user logged in before.
 */
export function versionSplitFindings(entries: McpRemoteEntry[], tokens: TokensIndex): Finding[] {
  const out: Finding[] = [];
  for (const en of entries) {
    if (!en.hash || !en.folder) continue;
    const folders = tokens.get(en.hash) ?? [];
    if (folders.includes(en.folder) || folders.length === 0) continue;
    const elsewhere = folders.join(', ');
    const f: Finding = {
      code: MCP_REMOTE_FINDING.versionFolderSplit,
      severity: 'warning',
      title: `"${en.server.name}" is logged in only in ${elsewhere}, which this mcp-remote does not read`,
      detail: `${en.folderWhy}, but the login for this server is in ${elsewhere} (another release's folder). mcp-remote does not migrate logins between folders, so ${en.server.host} will open a new sign-in. Log in again once${en.folder === CURRENT_STORE_FOLDER ? '' : `, or pin the release that wrote the login`}; Reset removes the old folder's copy.`,
      location: en.server.source,
      reference: REF.versionSplit,
      repairs: ['relogin', 'reset'],
    };
    en.server.findings.push(f);
    out.push(f);
  }
  return out;
}
