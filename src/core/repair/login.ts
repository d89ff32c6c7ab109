// Re-login: a fresh authorization code grant (PKCE S256, state, RFC 8707 resource, RFC 9207 iss)
// on a loopback redirect, with the client the spec's order picks (registration.ts), and the
// tokens written into the client's own store in its own format, one locked write after a
// snapshot, so the client uses them with no further prompt. The UI is passed in: the editor
// opens the URL with openExternal, the CLI prints it, tests follow it at the lab.
import * as oauth from 'oauth4webapi';
import { clientMetadataDocumentFor, documentAllowsRedirect, registrationSupport, type ClientMetadataDocument } from '../clientRegistration';
import type { CredentialPatch, CredentialSecret, CredentialSummary } from '../credentials/store';
import { enterpriseManagedAuthorization, type EnterpriseAuthorization } from '../enterpriseAuthorization';
import { CLIENT_LABELS, type ClientId, type McpServer, type RepairId } from '../model';
import type { HttpSettings } from '../probe/http';
import { fingerprint } from '../storageKey';
import { describeSpan } from '../tokenStatus';
import { discoverForRepair, type RepairDiscovery } from './discovery';
import {
  freeLoopbackPort,
  listenForRedirect,
  RedirectCancelled,
  RedirectPortBusy,
  RedirectTimeout,
  redirectChoicesFor,
  redirectUriOf,
  type CallbackAnswer,
  type ClientCallbackSettings,
  type RedirectChoice,
  type RedirectChoices,
  type RedirectListener,
} from './loopbackRedirect';
import { clientLoginCommand, commandText, runningClients, type RunningClients } from './processes';
import { authorizationUrl, precheckClient, registerClient, registrationName, scopesToRequest, type LoginClient } from './registration';
import { classifyTokenError, clientAuthFor, formEncodedBasic, requestOptionsFor, type TokenEndpointClient } from './tokenClient';
import type { RepairContext, RepairErrorKind, RepairOutcome, RepairPlan, RepairTarget } from './types';
import { clientDefinition } from '../clients/registry';
import { isoTime } from '../time';

/** How a login reaches the user. */
export interface LoginUi {
  /**
   * Shows the authorization URL (always http(s), http only to loopback, built by us from
   * validated metadata). Rejecting ends the login; resolving does not wait for the user.
   */
  openBrowser(url: string): Promise<void>;
  /** Ends the wait for the browser (the user cancelled). */
  signal?: AbortSignal;
  /**
   * The address the browser ended on, pasted by the user, for when the browser runs on another
   * machine than this login (SSH, a container, code-server: failure mode F3) and its redirect to
   * our loopback listener cannot arrive. Whichever comes first, the listener or this, is used;
   * `state` and `iss` are checked on it exactly as on a redirect.
   */
  pastedCallback?: Promise<string>;
}

/** A pasted address that is not the authorization server's redirect to us. */
class NotACallback extends Error {}

/** The pasted address as a callback URL: our redirect URI's path, with an answer (`code` or `error`) in its query. */
export function pastedCallbackUrl(text: string, redirectUri: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new NotACallback('the pasted text is not an address');
  }
  const expected = new URL(redirectUri);
  if (url.pathname !== expected.pathname) throw new NotACallback(`the pasted address is not the redirect to ${expected.origin}${expected.pathname}`);
  if (!url.searchParams.has('code') && !url.searchParams.has('error')) throw new NotACallback('the pasted address holds no authorization answer (no code or error in it)');
  return url;
}

export interface LoginContext extends RepairContext {
  /** Client-wide callback settings (clientCallbackSettings()); a server's own oauth settings win over them. */
  callback?: ClientCallbackSettings;
  /** How long to wait for the browser to come back (default 5 min). */
  callbackTimeoutMs?: number;
  /** Scopes to ask for instead of the discovered ones (step-up: the union of held and challenged scopes). */
  scopes?: string[];
  /** Which clients are running (default: the process table, processes.ts); tests pass their own. */
  runningClients?: (client: ClientId) => Promise<RunningClients>;
}

/** A login step that did not work: what happened and what to do next (the repair contract's failure). */
export type LoginFailure = { ok: false; error: RepairErrorKind; message: string; next: RepairId[] };
type Failure = LoginFailure;

export interface LoginCandidate extends LoginClient {
  /** For people: `the stored client abc`, `the configured client abc`. */
  label: string;
  /** For `metadata-document`: the client's document (its URL is the client id). */
  document?: ClientMetadataDocument;
}

/** What a login knows before it talks to the authorization server: discovery, the store's entry, the clients and redirect URIs to try. */
export interface LoginPreparation {
  discovery: RepairDiscovery;
  as: oauth.AuthorizationServer;
  scopes?: string[];
  choices: RedirectChoices;
  candidates: LoginCandidate[];
  summary?: CredentialSummary;
  /** Why a stored client was not even tried (bound to another issuer). */
  notes: string[];
}

/** The client and redirect URI a login goes on with (reuse, or register anew), or why it cannot. */
export type LoginDecision =
  | { kind: 'reuse'; client: LoginCandidate; redirectUri: string; listener?: RedirectListener; evidence: string[] }
  | { kind: 'register'; redirectUri: string; listener?: RedirectListener; evidence: string[] }
  | (Failure & { kind: 'fail'; evidence: string[] });

/** How a plan names a redirect URI without listening: the choice's port, else one free now. */
export async function plannedRedirect(choice: RedirectChoice): Promise<{ redirectUri: string }> {
  return { redirectUri: redirectUriOf(choice, choice.port || (await freeLoopbackPort())) };
}

/** What re-login would do, found read-only: discovery, and whether the AS still accepts the stored client (one GET, no cookies). */
export async function planLogin(target: RepairTarget, ctx: LoginContext): Promise<RepairPlan> {
  const { server, store, key } = target;
  const handOff = clientLoginCommand(server);
  const plan: RepairPlan = {
    action: 'login',
    target: { client: server.client, server: server.name, key, store: store.location },
    changes: [],
    warnings: [],
    ...(handOff ? { handOff } : {}),
  };
  const prepared = await prepareLogin(target, ctx);
  if (!prepared.ok) return { ...plan, blocked: { error: prepared.error, message: prepared.message, next: prepared.next } };
  const decision = await chooseLoginClient(prepared, ctx.http, plannedRedirect);
  if (decision.kind === 'fail') {
    return { ...plan, warnings: [...prepared.notes, ...decision.evidence], blocked: { error: decision.error, message: decision.message, next: decision.next } };
  }
  const s = prepared.summary;
  const as = prepared.as;
  plan.changes.push(
    `accessToken: ${s?.accessTokenFingerprint ?? 'none'} → new`,
    `refreshToken: ${s?.refreshTokenFingerprint ?? 'none'} → new (removed if the authorization server issues none)`,
    `expiresAt: ${s?.expiresAt ? isoTime(s.expiresAt) : 'none'} → as the token response says`,
    `scopes: ${s?.scopes.length ? s.scopes.join(' ') : 'none'} → ${prepared.scopes?.join(' ') ?? 'none asked (the server names none)'}, as granted`,
  );
  if (decision.kind === 'reuse' && decision.client.source === 'metadata-document') {
    plan.changes.push(`clientId: ${s?.clientId ?? 'none'} → ${decision.client.clientId} (${decision.client.label.replace(` client ${decision.client.clientId}`, '')}, as ${CLIENT_LABELS[server.client]} itself logs in here; nothing is registered)`);
  } else if (decision.kind === 'reuse') {
    plan.changes.push(`clientId: ${decision.client.clientId} kept (${decision.client.label}; the authorization server still accepts it, so nothing new is registered)`);
  } else {
    plan.changes.push(
      `clientId: ${s?.clientId ?? 'none'} → a new client registered at ${String(as.registration_endpoint)} as "${registrationName(server.client)}" (RFC 7591, native, redirect ${decision.redirectUri})`,
    );
  }
  if (server.client === 'codex') plan.changes.push(`issuer: ${s?.issuer ?? 'none'} → ${prepared.discovery.issuer}`);
  plan.warnings.push(
    `Your browser opens ${new URL(String(as.authorization_endpoint)).origin} to log in; MCP Auth Doctor waits on ${new URL(decision.redirectUri).origin} for the answer.`,
    ...prepared.notes,
    ...decision.evidence,
  );
  plan.warnings.push(...(await runningClientWarnings(server, ctx)));
  if (s?.hasRefreshToken && (!s.expiresAt || s.expiresAt > (ctx.now ?? Date.now)() - 1)) {
    plan.warnings.push(`The stored refresh token (${s.refreshTokenFingerprint}) is replaced; if only the access token has expired, a refresh keeps the grant and needs no browser.`);
  }
  return plan;
}

/** Logs in and writes the tokens; nothing is written unless the whole flow succeeded. */
export async function login(target: RepairTarget, ctx: LoginContext, ui: LoginUi): Promise<RepairOutcome> {
  const { server } = target;
  const now = ctx.now ?? Date.now;
  const prepared = await prepareLogin(target, ctx);
  if (!prepared.ok) return prepared;
  const { as, discovery } = prepared;
  const listen = (choice: RedirectChoice) =>
    listenForRedirect(choice, { ...(ctx.callbackTimeoutMs ? { timeoutMs: ctx.callbackTimeoutMs } : {}), ...(ui.signal ? { signal: ui.signal } : {}) }).then((l) => ({ redirectUri: l.redirectUri, listener: l }));
  const decision = await chooseLoginClient(prepared, ctx.http, listen);
  if (decision.kind === 'fail') return failure(decision.error, decision.message, decision.next);
  const listener = decision.listener!;
  const redirectUri = decision.redirectUri;
  let answer: ((a: CallbackAnswer) => void) | undefined;
  const fail = (error: RepairErrorKind, message: string, next: RepairId[]): RepairOutcome => {
    answer?.({ ok: false, message: `${message.charAt(0).toUpperCase()}${message.slice(1)}` });
    return failure(error, message, next);
  };
  try {
    let client: LoginClient;
    if (decision.kind === 'reuse') {
      client = decision.client;
    } else {
      const registered = await registerClient(ctx.http, as, { client: server.client, redirectUri, ...(prepared.scopes ? { scopes: prepared.scopes } : {}) });
      if (!registered.ok) return fail(registered.error.kind, `${registered.error.words}; nothing was written`, registered.error.transient ? ['relogin'] : ['report-server']);
      client = registered.client;
    }

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const built = authorizationUrl(as, {
      clientId: client.clientId,
      redirectUri,
      codeChallenge: await oauth.calculatePKCECodeChallenge(verifier),
      state,
      resource: discovery.resource,
      ...(prepared.scopes ? { scopes: prepared.scopes } : {}),
    });
    if (!built.ok) return fail('discovery', `${built.reason}; nothing was written`, ['report-server']);

    // The UI may take its time (or never return, as a browser launcher might); the callback decides.
    const opened = ui.openBrowser(built.url.href).then(
      () => new Promise<never>(() => undefined),
      (err: unknown) => {
        throw new BrowserNotOpened(err instanceof Error ? err.message : String(err));
      },
    );
    // Once the callback is in, a late failure of the launcher no longer matters.
    opened.catch(() => undefined);
    let callbackUrl: URL;
    const pasted = ui.pastedCallback?.then((text) => ({ url: pastedCallbackUrl(text, redirectUri), answer: undefined }));
    pasted?.catch(() => undefined);
    try {
      const cb = await Promise.race([listener.callback, opened, ...(pasted ? [pasted] : [])]);
      answer = cb.answer;
      callbackUrl = cb.url;
    } catch (err) {
      if (err instanceof NotACallback) return fail('other', `${err.message}: the login was not completed; nothing was written`, ['relogin']);
      if (err instanceof RedirectTimeout) return fail('network', `${err.message}: the login was not completed; nothing was written`, ['relogin']);
      if (err instanceof RedirectCancelled) return fail('other', 'the login was cancelled; nothing was written', ['relogin']);
      if (err instanceof BrowserNotOpened) return fail('other', `the authorization URL could not be opened (${err.message}); nothing was written`, ['relogin']);
      throw err;
    }

    const checked = checkAuthorizationResponse(as, client, callbackUrl, state, discovery);
    if (!checked.ok) return fail(checked.error, checked.message, checked.next);
    const exchanged = await exchangeAuthorizationCode(ctx.http, prepared, client, checked.params, redirectUri, verifier);
    if (!exchanged.ok) return fail(exchanged.error, exchanged.message, exchanged.next);
    const saved = await saveLogin(target, prepared, client, redirectUri, exchanged.tokens, now());
    if (!saved.ok) return fail(saved.error, saved.message, saved.next);
    answer?.({ ok: true, message: `${server.name} is logged in again for ${CLIENT_LABELS[server.client]}; the new tokens are saved.` });
    return saved;
  } finally {
    await listener.close();
  }
}

/** The callback's answer checked (RFC 9207 iss, state, error): the parameters to exchange, or why not. */
export function checkAuthorizationResponse(
  as: oauth.AuthorizationServer,
  client: LoginClient,
  callbackUrl: URL,
  state: string,
  discovery: RepairDiscovery,
): { ok: true; params: URLSearchParams } | LoginFailure {
  try {
    return { ok: true, params: oauth.validateAuthResponse(as, tokenClientFor(as, client).client, callbackUrl, state) };
  } catch (err) {
    return authorizationResponseFailure(err, discovery);
  }
}

/** The authorization code exchanged at the token endpoint (PKCE verifier, RFC 8707 resource); nothing is written. */
export async function exchangeAuthorizationCode(
  http: HttpSettings,
  p: Pick<LoginPreparation, 'as' | 'discovery'>,
  client: LoginClient,
  params: URLSearchParams,
  redirectUri: string,
  verifier: string,
): Promise<{ ok: true; tokens: oauth.TokenEndpointResponse } | LoginFailure> {
  const { as, discovery } = p;
  const tokenClient = tokenClientFor(as, client);
  const tokenEndpoint = String(as.token_endpoint);
  try {
    const res = await oauth.authorizationCodeGrantRequest(as, tokenClient.client, tokenClient.auth, params, redirectUri, verifier, {
      ...requestOptionsFor(tokenEndpoint, http),
      additionalParameters: { resource: discovery.resource },
    });
    return { ok: true, tokens: await oauth.processAuthorizationCodeResponse(as, tokenClient.client, res) };
  } catch (err) {
    const e = await classifyTokenError(err, tokenEndpoint, http);
    if (e.oauthError === 'invalid_target') return failure('discovery', `the token endpoint refused the resource ${discovery.resource} (invalid_target); nothing was written`, ['edit-config', 'report-server']);
    const next: RepairId[] = e.kind === 'invalid-client' ? (client.source === 'registered' ? ['report-server'] : ['relogin', 'reset']) : e.transient ? ['relogin'] : ['report-server'];
    return failure(e.kind, `the code exchange failed: ${e.words}; nothing was written`, next);
  }
}

/** The tokens written into the client's store in its own format (one locked write after a snapshot), and Claude Code's needs-auth stamp cleared. */
export async function saveLogin(
  target: RepairTarget,
  prepared: Pick<LoginPreparation, 'discovery' | 'scopes' | 'summary'>,
  client: LoginClient,
  redirectUri: string,
  tokens: oauth.TokenEndpointResponse,
  at: number,
): Promise<RepairOutcome> {
  const { server, store, key } = target;
  const { discovery } = prepared;
  const granted = tokens.scope !== undefined ? tokens.scope.split(' ').filter(Boolean) : (prepared.scopes ?? []);
  const patch: CredentialPatch = {
    serverName: server.name,
    serverUrl: server.url!,
    accessToken: tokens.access_token,
    // A new grant's refresh token, or none: an old one belongs to the old grant (and maybe the old client).
    refreshToken: tokens.refresh_token ?? null,
    expiresAt: typeof tokens.expires_in === 'number' ? at + tokens.expires_in * 1000 : null,
    scopes: granted,
    clientId: client.clientId,
    issuer: discovery.issuer,
    // Claude Code reuses its registration when it can listen on the stored redirectUri's port again;
    // stores that do not keep the field ignore it.
    redirectUri,
  };
  const warnings: string[] = [];
  if (server.client === 'codex') {
    // Codex 0.169 keeps no client secret with its tokens (codexFormat.ts); its refresh sends none.
    if (client.clientSecret) warnings.push('the authorization server issued a client secret, which Codex does not store: Codex cannot refresh these tokens and will ask for a login when they expire');
  } else {
    patch.clientSecret = client.clientSecret ?? null;
  }

  let undoSnapshotId: string | undefined;
  try {
    undoSnapshotId = (await store.write(key, patch)).snapshotId;
  } catch (err) {
    return failure('store', `the tokens were issued but could not be written to ${store.location}: ${err instanceof Error ? err.message : String(err)}; the store was left as it was`, ['relogin']);
  }
  // Claude Code skips a server it stamped "needs auth" for a while, even with good tokens stored.
  let stamp: string | undefined;
  if (store.clearNeedsAuthStamp) {
    try {
      const r = await store.clearNeedsAuthStamp(server.name);
      if (r.removed) stamp = `needs-auth stamp for ${server.name} removed from ${r.file}`;
    } catch (err) {
      warnings.push(`the needs-auth stamp could not be removed (${err instanceof Error ? err.message : String(err)}); Claude Code may wait before connecting`);
    }
  }

  const s = prepared.summary;
  const newFp = fingerprint(tokens.access_token);
  const expires = typeof tokens.expires_in === 'number' ? `expires in ${describeSpan(tokens.expires_in * 1000)}` : 'no expiry given';
  const clientWords =
    client.source === 'registered'
      ? `new client ${client.clientId} registered as "${registrationName(server.client)}"`
      : client.source === 'metadata-document'
        ? `${CLIENT_LABELS[server.client]}'s Client ID Metadata Document ${client.clientId} as the client, nothing registered`
        : `${client.source} client ${client.clientId} reused, nothing registered`;
  const changed = [
    `accessToken: ${s?.accessTokenFingerprint ?? 'none'} → ${newFp}`,
    `refreshToken: ${s?.refreshTokenFingerprint ?? 'none'} → ${tokens.refresh_token ? fingerprint(tokens.refresh_token) : 'none (the authorization server issued none)'}`,
    `expiresAt: ${patch.expiresAt ? isoTime(patch.expiresAt) : 'none'}`,
    `scopes: ${granted.length ? granted.join(' ') : 'none'}`,
    client.source === 'registered'
      ? `clientId: ${s?.clientId ?? 'none'} → ${client.clientId} (registered now)`
      : client.source === 'metadata-document' && s?.clientId !== client.clientId
        ? `clientId: ${s?.clientId ?? 'none'} → ${client.clientId} (the client's Client ID Metadata Document)`
        : `clientId: ${client.clientId} (kept)`,
    ...(server.client === 'codex' ? [`issuer: ${discovery.issuer}`] : []),
    ...(stamp ? [stamp] : []),
    ...warnings.map((w) => `note: ${w}`),
  ];
  return {
    ok: true,
    summary: `Logged in to ${server.name} for ${CLIENT_LABELS[server.client]}: new token ${newFp}, ${expires}; ${clientWords}`,
    changed,
    ...(undoSnapshotId ? { undoSnapshotId } : {}),
  };
}

/** What the user should know about running clients before their tokens are replaced (the plan's warning, shared with the guided flow). */
export async function runningClientWarnings(server: McpServer, ctx: Pick<LoginContext, 'runningClients'>): Promise<string[]> {
  const running = await (ctx.runningClients ?? ((c: ClientId) => runningClients(c)))(server.client);
  const label = CLIENT_LABELS[server.client];
  const handOff = clientLoginCommand(server);
  if (running.processes.length > 0) {
    return [
      `${label} is running (${running.processes.map((p) => `pid ${p.pid}: ${p.command}`).join('; ')}). It keeps the old tokens in memory until it reconnects, and a refresh with its old refresh token may write its own tokens over the new ones. Quit it first${handOff ? `, or let it log in itself: \`${commandText(handOff)}\`` : ''}.`,
    ];
  }
  if (!running.known) return [`Whether ${label} is running could not be checked (${running.reason}). If it is, quit it first: it keeps the old tokens in memory.`];
  return [];
}

class BrowserNotOpened extends Error {
  override name = 'BrowserNotOpened';
}

function enterpriseHandOff(e: Extract<EnterpriseAuthorization, { required: true }>): Failure {
  return failure('other', `${e.why}; MCP Auth Doctor opens no browser login there and wrote nothing. ${e.handOff.replace(/\.$/, '')}`, []);
}

function failure(error: RepairErrorKind, message: string, next: RepairId[]): Failure {
  return { ok: false, error, message, next };
}

/** Reads the store's entry, runs discovery and lists the clients and redirect URIs to try; read-only. */
export async function prepareLogin(target: RepairTarget, ctx: LoginContext): Promise<({ ok: true } & LoginPreparation) | LoginFailure> {
  const { server, store, key } = target;
  if (!server.url || !key) return failure('other', `${server.name} is not a remote server with a URL; there is nothing to log in to`, ['edit-config']);
  const client = clientDefinition(server.client);
  if (!client.ourLogin) return failure('other', client.noLoginBecause ?? `MCP Auth Doctor does not log in for ${client.label}; log in from ${client.label} itself`, ['reset']);
  // Enterprise-managed authorization (SEP-990) has no browser login at the server: never open one.
  const configuredEnterprise = enterpriseManagedAuthorization(server);
  if (configuredEnterprise.required) return enterpriseHandOff(configuredEnterprise);
  let summary: CredentialSummary | undefined;
  let secret: CredentialSecret | undefined;
  try {
    summary = await store.read(key);
    secret = summary ? await store.readSecret(key) : undefined;
  } catch (err) {
    return failure('store', `${store.location} could not be read (${err instanceof Error ? err.message : String(err)}); nothing was written`, ['edit-config']);
  }
  const found = await discoverForRepair(server, ctx.http);
  if (!found.ok) return failure('discovery', `${found.reason}; nothing was written`, ['edit-config', 'report-server']);
  const discovery = found.discovery;
  // RFC 9728 §3.3 / §7.3: metadata naming another resource may impersonate one; a token asked for it
  // would carry the wrong audience (conformance auth/resource-mismatch). A configured resource
  // (Codex oauth_resource) is the user's own choice and stands.
  const mismatch = discovery.findings.find((f) => f.code === 'probe.resource-mismatch' && f.severity === 'error');
  if (mismatch && !server.oauth?.resource) return failure('discovery', `${mismatch.title} (${discovery.resource}); no token is asked for it and nothing was written`, ['edit-config', 'report-server']);
  const as = discovery.authorizationServer;
  const enterprise = enterpriseManagedAuthorization(server, as);
  if (enterprise.required) return enterpriseHandOff(enterprise);
  const scopes = scopesToRequest(as, ctx.scopes?.length ? ctx.scopes : discovery.scopes);
  // Stores that keep the registered redirect URI (Claude Code's `redirectUri`) may expose it.
  const storedRedirectUri = summary?.redirectUri;
  const choices = redirectChoicesFor(server, ctx.callback ?? {}, storedRedirectUri);
  if ('refused' in choices) return failure('other', `${choices.refused}; nothing was written`, ['edit-config']);

  const notes: string[] = [];
  const candidates: LoginCandidate[] = [];
  const metadataDocument = metadataDocumentCandidate(server, as, ctx.callback?.clientMetadataUrl, notes);
  const configured = server.oauth?.clientId;
  // Codex's own login never reuses a stored client: where it would use its document, so do we.
  if (metadataDocument && server.client === 'codex' && !configured) candidates.push(metadataDocument);
  if (configured) {
    // Pre-registered first (spec order); its secret, if any, is the one the client stored with it.
    const storedSecret = summary?.clientId === configured ? secret?.clientSecret : undefined;
    candidates.push({ clientId: configured, ...(storedSecret ? { clientSecret: storedSecret } : {}), source: 'configured', label: `the configured client ${configured}` });
  } else if (summary?.clientId) {
    const boundTo = summary.issuer ?? summary.discovery?.authorizationServerUrl;
    if (boundTo && !sameIssuer(boundTo, discovery.issuer)) {
      // 2026-07-28 §Authorization Server Binding (SEP-2352): a client id belongs to the AS that issued it.
      notes.push(`The stored client ${summary.clientId} was registered with ${boundTo}, not ${discovery.issuer}; it is not offered to this authorization server.`);
    } else {
      candidates.push({
        clientId: summary.clientId,
        ...(secret?.clientSecret ? { clientSecret: secret.clientSecret } : {}),
        source: 'stored',
        label: `the stored client ${summary.clientId}`,
      });
    }
  }
  // Claude Code uses its document only when no client is stored or configured; tried after them here.
  if (metadataDocument && !candidates.includes(metadataDocument) && !configured) candidates.push(metadataDocument);
  return { ok: true, discovery, as, ...(scopes ? { scopes } : {}), choices, candidates, ...(summary ? { summary } : {}), notes };
}

/**
 * The client's Client ID Metadata Document as a login candidate, when the client itself would
 * use it at this authorization server (clientRegistration.ts: Claude Code wherever the AS supports
 * CIMD, Codex only where it also lists `none`); the tokens then belong to the very client id the
 * client refreshes with. Undefined otherwise, with a note when the document cannot be used.
 */
function metadataDocumentCandidate(server: McpServer, as: oauth.AuthorizationServer, overrideUrl: string | undefined, notes: string[]): LoginCandidate | undefined {
  const support = registrationSupport(as);
  if (!support.cimd) return undefined;
  const label = CLIENT_LABELS[server.client];
  if (server.client === 'codex' && !support.publicClients) {
    notes.push(`The authorization server supports Client ID Metadata Documents but does not list token endpoint auth method \`none\`, so Codex would not use its document here; neither does this login.`);
    return undefined;
  }
  const doc = clientMetadataDocumentFor(server.client, overrideUrl);
  if ('invalid' in doc) {
    notes.push(`${doc.invalid}; ${label}'s Client ID Metadata Document is not used.`);
    return undefined;
  }
  return { clientId: doc.url, source: 'metadata-document', label: `${label}'s Client ID Metadata Document client ${doc.url}`, document: doc };
}

/**
 * The client and redirect URI to log in with: each existing client (configured, else stored)
 * with each redirect URI the client would use, pre-checked at the AS; the first accepted pair
 * wins. Else a registration, if the AS offers one. Client ID Metadata Documents come before DCR
 * in the spec's order, but need a client document hosted at an https URL that names our redirect
 * URIs; MCP Auth Doctor has none, so that step is skipped.
 */
export async function chooseLoginClient(p: LoginPreparation, http: HttpSettings, open: OpenRedirect): Promise<LoginDecision> {
  const evidence: string[] = [];
  for (const candidate of p.candidates) {
    if (candidate.source === 'metadata-document') {
      const decided = await chooseMetadataDocument(p, http, open, candidate, evidence);
      if (decided) return decided;
      continue;
    }
    let verdict = '';
    for (const choice of p.choices.reuse) {
      const opened = await openRedirect(open, choice, candidate, evidence);
      if (!opened) continue;
      const check = await precheckPair(http, p, candidate, opened.redirectUri, choice, evidence);
      // "unknown": the AS did not say no; registering anew would risk orphaning a good client (seed 004).
      if (check.verdict === 'accepted' || check.verdict === 'unknown') return { kind: 'reuse', client: candidate, ...opened, evidence };
      await opened.listener?.close();
      verdict = check.verdict;
      if (check.verdict === 'unknown-client') break;
    }
    if (candidate.source === 'configured') {
      // The client itself would use the configured id whatever we register, so registering another would not help it.
      return {
        kind: 'fail',
        ...failure('invalid-client', `the authorization server does not accept ${candidate.label} (${verdict || 'no usable redirect port'}); check oauth client_id and callback port in the config; nothing was written`, ['edit-config']),
        evidence,
      };
    }
  }
  if (!p.as.registration_endpoint) {
    const cimd = p.as.client_id_metadata_document_supported === true && !p.candidates.some((c) => c.source === 'metadata-document') ? ' It supports Client ID Metadata Documents, but this client does not use one here (see the notes).' : '';
    const why = p.candidates.length ? 'no stored client it still accepts' : 'no client id is stored or configured';
    return {
      kind: 'fail',
      ...failure('discovery', `the authorization server offers no dynamic client registration and there is ${why}.${cimd} Set a pre-registered client id in the config (oauth.clientId / [mcp_servers.<name>.oauth] client_id), or log in with the client itself; nothing was written`, ['edit-config']),
      evidence,
    };
  }
  const choice = p.choices.register;
  try {
    return { kind: 'register', ...(await open(choice)), evidence };
  } catch (err) {
    if (!(err instanceof RedirectPortBusy)) throw err;
    return { kind: 'fail', ...failure('other', `${err.message}; nothing was written`, ['relogin']), evidence };
  }
}

/**
 * The client's document URL as client_id, on the redirect URI the client itself would send (its
 * `register` choice: Claude Code `http://localhost:<port>/callback`, Codex
 * `http://127.0.0.1:<port>/callback`). The document must list that redirect (port-less loopback
 * entries match any port) and the AS must not refuse the pair; otherwise the login stops with the
 * reason and the client's own login, never a registration of a client the client is not. Undefined
 * only when the redirect port is busy and another candidate may follow.
 */
async function chooseMetadataDocument(
  p: LoginPreparation,
  http: HttpSettings,
  open: OpenRedirect,
  candidate: LoginCandidate,
  evidence: string[],
): Promise<LoginDecision | undefined> {
  const doc = candidate.document!;
  const choice = p.choices.register;
  const opened = await openRedirect(open, choice, candidate, evidence);
  if (!opened) return undefined;
  const stop = async (message: string): Promise<LoginDecision> => {
    await opened.listener?.close();
    return { kind: 'fail', ...failure('invalid-client', `${message}; nothing was written`, ['edit-config', 'report-server']), evidence };
  };
  if (!documentAllowsRedirect(doc.redirectUris, opened.redirectUri)) {
    return stop(
      `${candidate.label} lists the redirect URIs ${doc.redirectUris!.join(', ')}, not ${opened.redirectUri} (${choice.why}), so the authorization server would refuse it; remove the callback setting, or log in with the client itself`,
    );
  }
  const check = await precheckPair(http, p, candidate, opened.redirectUri, choice, evidence);
  if (check.verdict === 'accepted' || check.verdict === 'unknown') return { kind: 'reuse', client: candidate, ...opened, evidence };
  // The client would be refused the same way: registering another client would hand it tokens it cannot refresh.
  const ports = doc.redirectUris?.some((u) => !new URL(u).port) ? ' (its document lists port-less loopback redirects, which the server must match on any port: RFC 8252 §7.3)' : '';
  return stop(`the authorization server does not accept ${candidate.label} with redirect ${opened.redirectUri}${ports} (${check.verdict.replace('-', ' ')}); the client's own login would be refused the same way: ask the server's owner to accept it, or configure a pre-registered client id`);
}

type OpenRedirect = (choice: RedirectChoice) => Promise<{ redirectUri: string; listener?: RedirectListener }>;

/** The redirect URI (and listener) for one choice, or undefined when its port is busy (said in the evidence). */
async function openRedirect(open: OpenRedirect, choice: RedirectChoice, candidate: LoginCandidate, evidence: string[]): Promise<{ redirectUri: string; listener?: RedirectListener } | undefined> {
  try {
    return await open(choice);
  } catch (err) {
    if (!(err instanceof RedirectPortBusy)) throw err;
    evidence.push(`${candidate.label}: ${err.message}`);
    return undefined;
  }
}

/** The credential-free pre-check of one client id with one redirect URI, its answer added to the evidence. */
async function precheckPair(http: HttpSettings, p: LoginPreparation, candidate: LoginCandidate, redirectUri: string, choice: RedirectChoice, evidence: string[]): Promise<Awaited<ReturnType<typeof precheckClient>>> {
  const check = await precheckClient(http, p.as, { clientId: candidate.clientId, redirectUri, resource: p.discovery.resource, ...(p.scopes ? { scopes: p.scopes } : {}) });
  evidence.push(`${candidate.label} with redirect ${redirectUri} (${choice.why}): ${check.verdict === 'accepted' ? 'accepted' : check.verdict.replace('-', ' ')} — ${check.evidence}`);
  return check;
}

/** How the login's client authenticates at the token endpoint: the registration's method wins, else chosen from the AS's list. */
export function tokenClientFor(as: oauth.AuthorizationServer, client: LoginClient): TokenEndpointClient {
  const secret = client.clientSecret;
  if (!secret || client.authMethod === 'none') return clientAuthFor(as, client.clientId);
  // The registration response's method wins (RFC 7591 §3.2.1); otherwise chosen from the AS's list.
  const method = client.authMethod ?? clientAuthFor(as, client.clientId, secret).method;
  const auth = method === 'client_secret_post' ? oauth.ClientSecretPost(secret) : formEncodedBasic(secret);
  return { client: { client_id: client.clientId, token_endpoint_auth_method: method }, auth, method };
}

/** RFC 6749 §4.1.2.1 errors and RFC 9207 / state mismatches, in the repair contract's kinds. */
function authorizationResponseFailure(err: unknown, d: RepairDiscovery): Failure {
  if (err instanceof oauth.AuthorizationResponseError) {
    const said = `the authorization server answered ${err.error}${err.error_description ? ` ("${clean(err.error_description)}")` : ''}`;
    switch (err.error) {
      case 'access_denied':
        return failure('denied', `the login was refused at the authorization server (${said}); nothing was written`, ['relogin']);
      case 'invalid_scope':
        return failure('invalid-scope', `${said} for the scopes asked; nothing was written`, ['edit-config', 'report-server']);
      case 'invalid_target':
        return failure('discovery', `the authorization server refused the resource ${d.resource} (invalid_target); nothing was written`, ['edit-config', 'report-server']);
      case 'unauthorized_client':
        return failure('unauthorized-client', `${said}; nothing was written`, ['reset', 'report-server']);
      case 'invalid_client':
        return failure('invalid-client', `${said}; nothing was written`, ['reset', 'relogin']);
      case 'temporarily_unavailable':
      case 'server_error':
        return failure('network', `${said}; nothing was written`, ['relogin']);
      default:
        return failure('other', `${said}; nothing was written`, ['relogin', 'report-server']);
    }
  }
  if (err instanceof oauth.OperationProcessingError) {
    if (/"iss"/.test(err.message)) {
      // RFC 9207 §2.4: the code may come from another authorization server (mix-up); never exchange it.
      return failure(
        'discovery',
        `the answer to the login did not come from ${d.issuer} (${err.message.includes('missing') ? 'it carries no iss though the server promises one' : 'its iss names another issuer'}); the code was not used and nothing was written`,
        ['relogin', 'report-server'],
      );
    }
    if (/"state"/.test(err.message)) return failure('other', `the answer to the login does not belong to this login (${err.message}); the code was not used and nothing was written`, ['relogin']);
    return failure('other', `the answer to the login is not valid (${err.message}); nothing was written`, ['relogin']);
  }
  return failure('other', `the answer to the login could not be read (${err instanceof Error ? err.message : String(err)}); nothing was written`, ['relogin']);
}

function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  const t = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}
