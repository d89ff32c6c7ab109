// The guided OAuth flow's steps, in the order the MCP authorization spec walks them, and what
// each one's record holds: the request it sent (or received), the answer, a verdict, and the
// rule the verdict rests on. Records are for display: every secret in them is already replaced
// by its fingerprint (recorder.ts), so a surface may show or log them as they are.
import type { Finding } from '../model';

export type GuidedStepId =
  | 'unauthenticated-request'
  | 'resource-metadata'
  | 'authorization-server-metadata'
  | 'client'
  | 'registration'
  | 'authorization'
  | 'callback'
  | 'token'
  | 'authenticated-request'
  | 'save';

/**
 * read-only: requests that change nothing anywhere (they run freely); server: the authorization
 * server creates something (a client registration, a grant and its tokens); browser: the user's
 * browser opens and a loopback listener waits for its answer; store: the client's credential store
 * is written. Every effect but read-only runs only after the user confirms.
 */
export type StepEffect = 'read-only' | 'server' | 'browser' | 'store';

/** pending: not run; running; waiting: for the browser; done; skipped: nothing to do (says why); failed; blocked: an earlier step makes it impossible. */
export type StepStatus = 'pending' | 'running' | 'waiting' | 'done' | 'skipped' | 'failed' | 'blocked';

export type VerdictLevel = 'pass' | 'warn' | 'fail' | 'info';

export interface StepVerdict {
  level: VerdictLevel;
  /** One sentence for people; fingerprints only. */
  summary: string;
}

/** One HTTP exchange as shown: headers, bodies and URLs with secrets replaced by fingerprints. */
export interface RecordedExchange {
  /** outgoing: we sent it; browser: the user's browser sends it (we never see the answer); incoming: the browser's redirect to our loopback listener. */
  direction: 'outgoing' | 'browser' | 'incoming';
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody?: string;
  status?: number;
  responseHeaders: Record<string, string>;
  /** Capped; JSON pretty-printed. */
  responseBody?: string;
  contentType?: string;
  /** ok, redirect, http-error, network-error, timeout; `answered`: an incoming request we answered; `sent`: handed to the browser. */
  outcome: 'ok' | 'redirect' | 'http-error' | 'network-error' | 'timeout' | 'answered' | 'sent';
  error?: string;
  ms: number;
}

/** A line of the record for people: `issuer` → `http://127.0.0.1:4000`. */
export interface StepFact {
  label: string;
  value: string;
}

export interface StepRecord {
  id: GuidedStepId;
  /** 1-based, as the panel numbers the steps. */
  number: number;
  title: string;
  effect: StepEffect;
  status: StepStatus;
  /** What this step sends (or sent), in one line, e.g. `POST http://…/mcp initialize, no token`. */
  request?: string;
  /** What came back, in one line, e.g. `401 WWW-Authenticate: Bearer resource_metadata="…"`. */
  response?: string;
  verdict?: StepVerdict;
  /** The spec sections and RFC clauses this step follows. */
  reference: string;
  facts: StepFact[];
  exchanges: RecordedExchange[];
  findings: Finding[];
  /** Set while the step would change something: what the user is asked to confirm. */
  confirmation?: StepConfirmation;
  ms?: number;
}

/** What a state-changing step asks before it runs (the panel shows it in a modal, as the repairs do). */
export interface StepConfirmation {
  /** e.g. `Register a new OAuth client at http://…/reg?` */
  question: string;
  /** What will change, one line each (fingerprints only). */
  changes: string[];
  warnings: string[];
  /** The button that goes ahead, e.g. `Register`. */
  action: string;
}

interface StepSpec {
  id: GuidedStepId;
  title: string;
  effect: StepEffect;
  reference: string;
}

/** The steps in order. References: MCP authorization spec 2025-11-25 / 2026-07-28 and the RFCs it names. */
export const GUIDED_STEPS: readonly StepSpec[] = [
  {
    id: 'unauthenticated-request',
    title: 'Unauthenticated MCP request',
    effect: 'read-only',
    reference: 'MCP 2025-11-25 §Authorization Flow (401 with WWW-Authenticate); RFC 6750 §3 (Bearer challenge); RFC 9728 §5.1 (resource_metadata in the challenge)',
  },
  {
    id: 'resource-metadata',
    title: 'Protected-resource metadata',
    effect: 'read-only',
    reference: 'RFC 9728 §3 (well-known URL) and §3.3 (resource MUST match); MCP 2025-11-25 §Protected Resource Metadata Discovery Requirements (header, then path-aware, then root)',
  },
  {
    id: 'authorization-server-metadata',
    title: 'Authorization-server metadata',
    effect: 'read-only',
    reference: 'RFC 8414 §3 and §3.3 (issuer identical); OpenID Connect Discovery 1.0 §4; MCP 2025-11-25 §Authorization Server Metadata Discovery (fixed order) and §Authorization Code Protection (S256 advertised)',
  },
  {
    id: 'client',
    title: 'Which client is used',
    effect: 'read-only',
    reference: 'MCP 2025-11-25 / 2026-07-28 §Client Registration Approaches (pre-registered, Client ID Metadata Documents, DCR); RFC 6749 §4.1.2.1 (an AS must not redirect for an unknown client or redirect URI)',
  },
  {
    id: 'registration',
    title: 'Dynamic client registration',
    effect: 'server',
    reference: 'RFC 7591 §3 (registration request and response); MCP 2026-07-28 (application_type sent); RFC 8252 §7.3 (loopback redirect URI, any port)',
  },
  {
    id: 'authorization',
    title: 'Authorization request (browser)',
    effect: 'browser',
    reference: 'OAuth 2.1 §4.1.1 (authorization request); RFC 7636 (PKCE S256); RFC 8707 §2 (resource); RFC 8252 §7.3 (loopback redirect); MCP security best practices §Authorization URL Validation',
  },
  {
    id: 'callback',
    title: 'Callback: code, state and iss checked',
    effect: 'read-only',
    reference: 'OAuth 2.1 §4.1.2 (authorization response) and §7.1 (state); RFC 9207 §2.4 (iss identical to the issuer); MCP 2026-07-28 §Authorization Response Validation',
  },
  {
    id: 'token',
    title: 'Token request (code exchange)',
    effect: 'server',
    reference: 'OAuth 2.1 §4.1.3 (token request with code_verifier); RFC 8707 §2.2 (resource on the token request); RFC 6749 §5.1 and §5.2 (token and error response)',
  },
  {
    id: 'authenticated-request',
    title: 'Authenticated MCP request',
    effect: 'read-only',
    reference: 'MCP 2025-11-25 §Token Handling (Authorization: Bearer on every request, only to the server the token is for); RFC 6750 §2.1',
  },
  {
    id: 'save',
    title: 'Save the tokens in the client’s store',
    effect: 'store',
    reference: 'The client’s own credential store and format, written as the re-login repair writes it: one locked write after a snapshot (Undo restores it)',
  },
];

export function stepSpec(id: GuidedStepId): StepSpec {
  const spec = GUIDED_STEPS.find((s) => s.id === id);
  if (!spec) throw new Error(`unknown guided step ${id}`);
  return spec;
}

export function isGuidedStepId(value: string): value is GuidedStepId {
  return GUIDED_STEPS.some((s) => s.id === value);
}
