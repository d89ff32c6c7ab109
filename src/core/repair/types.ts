// The contract every repair (refresh, login, reset, restore) keeps with its callers, the editor
// and the CLI: a plan that names exactly what will change before anything does, and an outcome
// that says what changed, which snapshot undoes it, or why nothing was written and what to do.
import type { ClientId, McpServer, RepairId } from '../model';
import type { CredentialStore } from '../credentials/store';
import type { HttpSettings } from '../probe/http';

export type RepairAction = 'refresh' | 'login' | 'reset' | 'restore';

/** One server's credential in one client's store: what a repair acts on. */
export interface RepairTarget {
  server: McpServer;
  store: CredentialStore;
  /** The storage key (server.storageKey). */
  key: string;
}

/** A running client process that holds credentials in memory (it may refresh with a token we rotate away). */
export interface ClientProcess {
  client: ClientId;
  pid: number;
  /** The command line, shortened; never arguments that look like secrets. */
  command: string;
}

export interface RepairPlan {
  action: RepairAction;
  target: { client: ClientId; server: string; key: string; store: string };
  /** What will change, one line each, e.g. `accessToken: sha256:ab12… → new`, `entry removed`. */
  changes: string[];
  /** What the user should weigh first (running clients, rotation, the client's own logout as an alternative). */
  warnings: string[];
  /** The client's own command that does the same job, offered as the alternative (hand-off). */
  handOff?: { command: string; args: string[] };
  /** Why the repair cannot run now (e.g. the server's metadata is unusable); running it would change nothing. */
  blocked?: { error: RepairErrorKind; message: string; next: RepairId[] };
}

/**
 * invalid-grant: the refresh token is revoked or expired; invalid-client: the AS no longer knows
 * the client; invalid-scope, unauthorized-client: as RFC 6749 §5.2; discovery: the server's
 * metadata does not allow the exchange; network: no answer; denied: the user or the AS refused
 * at the authorization step; store: the store could not be read or written; no-credential:
 * nothing (or no refresh token) stored; other: anything else.
 */
export type RepairErrorKind =
  | 'invalid-grant'
  | 'invalid-client'
  | 'invalid-scope'
  | 'unauthorized-client'
  | 'discovery'
  | 'network'
  | 'denied'
  | 'store'
  | 'no-credential'
  | 'other';

export type RepairOutcome =
  | {
      ok: true;
      /** One line for a notification, e.g. "Refreshed linear: new token sha256:…, expires in 60 min". */
      summary: string;
      /** What was written, one line each (fingerprints only). */
      changed: string[];
      /** The snapshot taken just before the write: restoring this entry from it is Undo. */
      undoSnapshotId?: string;
    }
  | {
      ok: false;
      error: RepairErrorKind;
      /** What happened, in words, never a secret; says that nothing was written when nothing was. */
      message: string;
      /** What to do next, most fitting first. */
      next: RepairId[];
    };

/** What every repair gets from its caller: the network, a clock, and how to ask for confirmation is the caller's business. */
export interface RepairContext {
  http: HttpSettings;
  now?: () => number;
}
