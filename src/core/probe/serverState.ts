// A probed server's state on its own, so the surfaces that only sort states need not load the probe.
/**
 * valid: the server accepted the stored token just now; no-auth-needed: it answers without one;
 * not-logged-in / expired / expiring / rejected / insufficient-scope / forbidden: the token's
 * state; stored: a token whose expiry is fine but which could not be checked live;
 * misconfigured: the server's OAuth setup stops clients (see findings); unreachable: no
 * answer; not-probed: stdio, disabled, or no usable URL; client-auth: the client authenticates
 * it without an MCP OAuth login (Codex bearer_token_env_var, auth = "chatgpt", a headers helper
 * with no login stored), so there is no login to judge and nothing is sent; login-not-read: the
 * server wants an OAuth login, which its client keeps where we do not read (an editor's secret
 * storage: VS Code, Cursor, Windsurf), so whether the user is logged in there is not known.
 */
export type ServerState =
  | 'valid'
  | 'no-auth-needed'
  | 'not-logged-in'
  | 'expired'
  | 'expiring'
  | 'rejected'
  | 'insufficient-scope'
  | 'forbidden'
  | 'stored'
  | 'misconfigured'
  | 'unreachable'
  | 'not-probed'
  | 'client-auth'
  | 'login-not-read';

/** States in which the server works for the user as configured now. */
export const HEALTHY_STATES: ReadonlySet<ServerState> = new Set(['valid', 'no-auth-needed', 'not-probed', 'stored', 'client-auth', 'login-not-read']);
