// The guided OAuth flow for one server: the re-login repair taken apart into the steps the MCP
// authorization spec describes, each run on its own and recorded (request, answer, verdict, rule),
// so a user can watch where a login goes wrong, as MCP Inspector's old "Guided OAuth Flow" and
// MCPJam's debugger let them (shared/docs/spec-and-peers.md §0 item 4). Discovery is the probe's
// own (resourceSide, DiscoveryCache); the client choice, registration, callback check, code
// exchange and store write are login.ts's building blocks, so the flow and the repair cannot
// disagree. Read-only steps run freely; a step that changes something (a registration at the
// AS, the browser and a loopback listener, the code exchange, the store write) runs only when
// the caller's confirm() says yes. Secrets stay in this object's private fields; records hold
// fingerprints only (recorder.ts).
import * as oauth from 'oauth4webapi';
import { CLIENT_LABELS, type ClientId, type Finding, type McpServer, type Scope } from '../model';
import { displayUrl } from '../present/describe';
import { DiscoveryCache } from '../probe/authorizationServer';
import { exchange } from '../probe/http';
import { mcpProbeRequest } from '../probe/mcpRequest';
import { resourceSide, type ResourceSide } from '../probe/probe';
import { DEFAULT_REVISION, isStateless, type SpecRevision } from '../probe/revisions';
import { bearerChallenge, parseWwwAuthenticate } from '../probe/wwwAuthenticate';
import {
  checkAuthorizationResponse,
  chooseLoginClient,
  exchangeAuthorizationCode,
  plannedRedirect,
  prepareLogin,
  runningClientWarnings,
  saveLogin,
  type LoginContext,
  type LoginDecision,
  type LoginPreparation,
} from '../repair/login';
import { listenForRedirect, RedirectCancelled, RedirectTimeout, type CallbackAnswer, type RedirectChoice, type RedirectListener } from '../repair/loopbackRedirect';
import { authorizationUrl, registerClient, registrationName, type LoginClient } from '../repair/registration';
import type { RepairTarget } from '../repair/types';
import { fingerprint } from '../storageKey';
import { isoTime } from '../time';
import { describeSpan } from '../tokenStatus';
import { recordingHttp, redacted, Redactor, type Recording } from './recorder';
import { GUIDED_STEPS, type GuidedStepId, type RecordedExchange, type StepConfirmation, type StepRecord, type StepVerdict } from './steps';

/** How the flow reaches the user's browser: the editor's openExternal, the CLI's opener, a test's lab.approve. */
export interface GuidedUi {
  /** Opens the authorization URL (http(s), http only to loopback, built from validated metadata); resolving does not wait for the user. */
  openBrowser(url: string): Promise<void>;
}

/** Asked before a step that changes something runs; false leaves the step as it was. */
export type Confirm = (confirmation: StepConfirmation, step: StepRecord) => Promise<boolean>;

export interface GuidedContext extends LoginContext {
  /** The MCP revision the first request speaks (default 2025-11-25); the server may move it. */
  revision?: SpecRevision;
}

export interface GuidedServer {
  name: string;
  client: ClientId;
  clientLabel: string;
  scope: Scope;
  projectPath?: string;
  /** For display: query values masked. */
  url: string;
  storageKey: string;
  /** Where the tokens would be written. */
  store: string;
}

/** Everything a surface shows, as plain data (records are copies; no secret in them). */
export interface GuidedState {
  server: GuidedServer;
  steps: StepRecord[];
  /** The step running now (or waiting for the browser). */
  busy?: GuidedStepId;
  /** The step the user can run next. */
  next?: GuidedStepId;
  /** The tokens are saved: nothing is left to run. */
  finished: boolean;
}

export class GuidedFlowBusy extends Error {
  override name = 'GuidedFlowBusy';
}

class BrowserNotOpened extends Error {
  override name = 'BrowserNotOpened';
}

const WAIT_MS = 5 * 60_000;

export class GuidedFlow {
  private readonly records: StepRecord[];
  private readonly redactor: Redactor;
  private readonly listeners = new Set<(state: GuidedState) => void>();
  private busy: GuidedStepId | undefined;
  private abort = new AbortController();
  private readonly serverUrl: URL | undefined;

  // What the steps learnt; secrets (verifier, tokens, the client secret) live only here.
  private side: ResourceSide | undefined;
  private issuerShown: string | undefined;
  private prepared: LoginPreparation | undefined;
  private plan: LoginDecision | undefined;
  private client: LoginClient | undefined;
  private redirectUri: string | undefined;
  private listenChoice: RedirectChoice | undefined;
  private listener: RedirectListener | undefined;
  private listenerOpen = false;
  private verifier: string | undefined;
  private state: string | undefined;
  private callback: { url: URL; answer: (a: CallbackAnswer) => void } | undefined;
  private params: URLSearchParams | undefined;
  private tokens: oauth.TokenEndpointResponse | undefined;
  private tokenAccepted: boolean | undefined;

  constructor(
    private readonly target: RepairTarget,
    private readonly ctx: GuidedContext,
    private readonly ui: GuidedUi,
  ) {
    const { server } = target;
    this.redactor = new Redactor({ headers: server.headers, ...(server.url ? { serverUrl: server.url } : {}) });
    this.serverUrl = server.url && URL.canParse(server.url) ? new URL(server.url) : undefined;
    this.records = GUIDED_STEPS.map((s, i) => ({ id: s.id, number: i + 1, title: s.title, effect: s.effect, status: 'pending', reference: s.reference, facts: [], exchanges: [], findings: [] }));
  }

  get server(): McpServer {
    return this.target.server;
  }

  snapshot(): GuidedState {
    const { server, store, key } = this.target;
    const next = this.records.find((r) => this.runnable(r.id))?.id;
    return {
      server: {
        name: server.name,
        client: server.client,
        clientLabel: CLIENT_LABELS[server.client],
        scope: server.scope,
        ...(server.projectPath ? { projectPath: server.projectPath } : {}),
        url: displayUrl(server) ?? '',
        storageKey: key,
        store: store.location,
      },
      steps: structuredClone(this.records),
      ...(this.busy ? { busy: this.busy } : {}),
      ...(next ? { next } : {}),
      finished: this.record('save').status === 'done' && this.record('save').verdict?.level === 'pass',
    };
  }

  /** Called after every change (a step starts, waits, finishes); returns the unsubscribe. */
  onDidChange(fn: (state: GuidedState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Whether `id` can run now: every step before it is done or skipped, and it is pending or failed. */
  runnable(id: GuidedStepId): boolean {
    if (this.busy) return false;
    const i = this.records.findIndex((r) => r.id === id);
    const r = this.records[i];
    if (!r || (r.status !== 'pending' && r.status !== 'failed')) return false;
    // The callback is checked as soon as the browser comes back; it has no run of its own.
    if (id === 'callback' && !this.callback) return false;
    return this.records.slice(0, i).every((p) => p.status === 'done' || p.status === 'skipped');
  }

  /** Whether `id` would change something (and so asks first). */
  needsConfirmation(id: GuidedStepId): boolean {
    if (id === 'registration') return this.plan?.kind === 'register';
    return this.record(id).effect !== 'read-only';
  }

  /**
   * Runs one step. A step that changes something asks `confirm` first (none given: it does not
   * run). Throws GuidedFlowBusy while another step runs, and an Error when the step cannot run yet.
   */
  async run(id: GuidedStepId, confirm?: Confirm): Promise<StepRecord> {
    if (this.busy) throw new GuidedFlowBusy(`step ${this.record(this.busy).number} (${this.record(this.busy).title}) is still running`);
    const r = this.record(id);
    if (!this.runnable(id)) throw new Error(`step ${r.number} (${r.title}) cannot run now: ${this.whyNot(id)}`);
    if (this.needsConfirmation(id)) {
      r.confirmation = await this.confirmationFor(id);
      this.emit();
      if (!confirm || !(await confirm(structuredClone(r.confirmation), structuredClone(r)))) return structuredClone(r);
    }
    await this.execute(id);
    // The answer to the browser is checked at once: the page waits for it.
    if (id === 'authorization' && r.status === 'done' && this.callback) await this.execute('callback');
    return structuredClone(this.record(id));
  }

  /** Runs the read-only steps from the next one on, stopping before the first that would change something. */
  async runReadOnly(): Promise<void> {
    const ran = new Set<GuidedStepId>();
    for (;;) {
      const next = this.records.find((r) => this.runnable(r.id));
      // A step that failed stays runnable (to retry); once per call is enough.
      if (!next || this.needsConfirmation(next.id) || ran.has(next.id)) return;
      ran.add(next.id);
      const r = await this.run(next.id);
      if (r.status === 'failed') return;
    }
  }

  /** Ends the wait for the browser (the user cancelled); the listener closes. */
  cancel(): void {
    this.abort.abort();
    this.abort = new AbortController();
  }

  /** Back to the start: the listener closes, everything learnt is forgotten. */
  async restart(): Promise<void> {
    if (this.busy) throw new GuidedFlowBusy('a step is still running; cancel it first');
    await this.closeListener();
    this.side = this.prepared = this.plan = this.client = this.redirectUri = this.listenChoice = undefined;
    this.verifier = this.state = this.callback = this.params = this.tokens = this.tokenAccepted = this.issuerShown = undefined;
    for (const r of this.records) {
      r.status = 'pending';
      r.facts = [];
      r.exchanges = [];
      r.findings = [];
      delete r.request;
      delete r.response;
      delete r.verdict;
      delete r.confirmation;
      delete r.ms;
    }
    this.emit();
  }

  async dispose(): Promise<void> {
    this.listeners.clear();
    this.abort.abort();
    await this.closeListener();
    this.tokens = undefined;
    this.verifier = undefined;
  }

  // ── Running ───────────────────────────────────────────────────────────────────────────────

  private async execute(id: GuidedStepId): Promise<void> {
    const r = this.record(id);
    this.busy = id;
    r.status = 'running';
    r.facts = [];
    r.exchanges = [];
    r.findings = [];
    delete r.request;
    delete r.response;
    delete r.verdict;
    const started = performance.now();
    this.emit();
    try {
      await this.steps[id]();
    } catch (err) {
      // A bug or an unexpected answer: the step failed, in words, and can be run again.
      r.status = 'failed';
      r.verdict = { level: 'fail', summary: this.redactor.text(`unexpected error: ${err instanceof Error ? err.message : String(err)}`) };
    } finally {
      r.ms = Math.round(performance.now() - started);
      delete r.confirmation;
      this.busy = undefined;
      const next = this.records.find((x) => this.runnable(x.id));
      if (next && this.needsConfirmation(next.id)) next.confirmation = await this.confirmationFor(next.id).catch(() => undefined);
      this.emit();
    }
  }

  private readonly steps: Record<GuidedStepId, () => Promise<void>> = {
    'unauthenticated-request': () => this.unauthenticatedRequest(),
    // Fetched in the same pass as the challenge (the probe's resourceSide); run alone only after a failure of that pass.
    'resource-metadata': () => this.unauthenticatedRequest(),
    'authorization-server-metadata': () => this.authorizationServerMetadata(),
    client: () => this.chooseClient(),
    registration: () => this.registration(),
    authorization: () => this.authorization(),
    callback: () => this.checkCallback(),
    token: () => this.exchangeCode(),
    'authenticated-request': () => this.authenticatedRequest(),
    save: () => this.save(),
  };

  /** Steps 1 and 2: the unauthenticated MCP request and protected-resource metadata, as the probe discovers them. */
  private async unauthenticatedRequest(): Promise<void> {
    const r1 = this.record('unauthenticated-request');
    const r2 = this.record('resource-metadata');
    const serverUrl = this.serverUrl;
    if (!serverUrl) {
      r1.status = 'failed';
      r1.request = 'none: the server has no usable URL';
      r1.response = 'none';
      r1.verdict = { level: 'fail', summary: `${this.server.name} has no usable URL; check its entry in the config` };
      return;
    }
    r1.status = 'running';
    r2.status = 'running';
    r2.exchanges = [];
    r2.facts = [];
    r2.findings = [];
    const rec = this.recording((e, raw) => (sameEndpoint(raw, serverUrl) ? r1 : r2).exchanges.push(e));
    const side = await resourceSide(this.server, serverUrl, this.ctx.revision ?? DEFAULT_REVISION, rec.http);
    await rec.settled();
    this.side = side;
    const prmFindings = new Set(side.prm?.findings ?? []);
    r1.findings = side.findings.filter((f) => !prmFindings.has(f));
    r2.findings = side.prm?.findings ?? [];

    const sent = r1.exchanges.find((e) => e.method !== 'DELETE');
    const method = this.server.transport === 'sse' ? 'event stream' : isStateless(side.spoken) ? 'server/discover' : 'initialize';
    r1.request = sent ? `${sent.method} ${sent.url} (${method}, MCP ${side.spoken}), no token` : 'none: the URL is not allowed';
    const answered = [...r1.exchanges].reverse().find((e) => e.method !== 'DELETE' && e.status !== undefined);
    r1.response = answered ? describeAnswer(answered, 'www-authenticate') : (sent?.error ?? 'no answer');
    r1.facts.push({ label: 'MCP revision spoken', value: `${side.spoken}${side.era ? ` (the server speaks the ${side.era} era)` : ''}` });
    const outcome = side.outcome;
    if (outcome.kind === 'oauth') {
      const b = outcome.bearer;
      r1.facts.push({ label: 'Challenge', value: `Bearer (HTTP ${outcome.status})` });
      r1.facts.push({ label: 'resource_metadata', value: b.resourceMetadata ?? 'not named (clients try the well-known URLs)' });
      if (b.scope) r1.facts.push({ label: 'scope', value: b.scope });
      if (b.error) r1.facts.push({ label: 'error', value: `${b.error}${b.errorDescription ? ` (${this.redactor.text(b.errorDescription)})` : ''}` });
    }
    r1.status = 'done';
    switch (outcome.kind) {
      case 'oauth':
        r1.verdict = fromFindings(r1.findings, `${outcome.status} with a Bearer challenge${outcome.bearer.resourceMetadata ? ' naming its resource metadata' : ''}`);
        break;
      case 'unauthorized':
        r1.verdict = fromFindings(r1.findings, '401 without a Bearer challenge: clients look for metadata at the well-known URLs', 'warn');
        break;
      case 'no-auth':
        r1.verdict = { level: 'info', summary: `${this.server.name} answers without a token: there is nothing to log in to` };
        this.blockAfter('unauthenticated-request', 'the server needs no login');
        return;
      case 'stop':
        r1.status = 'failed';
        r2.status = 'pending';
        r1.verdict = fromFindings(r1.findings, 'the MCP endpoint did not answer as an MCP server', 'fail');
        return;
      default:
        r1.verdict = fromFindings(r1.findings, 'the server refuses every protocol revision the flow speaks', 'fail');
        this.blockAfter('unauthenticated-request', 'the server refused the MCP request');
        return;
    }

    const prm = side.prm;
    const tried = r2.exchanges.map((e) => `${e.method} ${e.url}`);
    r2.request = tried.length ? tried.join('; ') : 'none';
    const last = r2.exchanges[r2.exchanges.length - 1];
    r2.response = last ? describeAnswer(last) : 'none';
    r2.facts.push({ label: 'Fetched', value: 'in the same pass as step 1, as the probe discovers the resource side' });
    if (prm?.found) {
      const doc = prm.found.document;
      r2.facts.push({ label: 'Metadata URL', value: `${prm.found.url} (${SOURCE_WORDS[prm.found.source]})` });
      r2.facts.push({ label: 'resource', value: doc.resource ? `${doc.resource}${prm.found.resource ? ` (${prm.found.resource.match} match with ${prm.found.resource.expected})` : ''}` : 'missing' });
      r2.facts.push({ label: 'authorization_servers', value: doc.authorization_servers?.join(', ') || 'none' });
      if (doc.scopes_supported) r2.facts.push({ label: 'scopes_supported', value: doc.scopes_supported.join(' ') || '(empty)' });
      if (doc.bearer_methods_supported) r2.facts.push({ label: 'bearer_methods_supported', value: doc.bearer_methods_supported.join(', ') });
      r2.verdict = fromFindings(r2.findings, `found at the ${SOURCE_WORDS[prm.found.source]}; authorization server ${prm.authorizationServers[0] ?? 'none'}`);
    } else {
      r2.verdict = fromFindings(r2.findings, 'no protected-resource metadata: the 2025-03-26 rule applies (the server origin is the authorization server)', 'warn');
    }
    r2.status = 'done';
  }

  /** Step 3: the issuer a login uses (configured override, else the first listed, else the server origin) and its metadata. */
  private async authorizationServerMetadata(): Promise<void> {
    const r = this.record('authorization-server-metadata');
    const side = this.side!;
    const serverUrl = this.serverUrl!;
    const issuers = side.prm?.authorizationServers ?? [];
    const configured = this.server.oauth?.authServerMetadataUrl;
    const cache = new DiscoveryCache();
    const rec = this.recording((e) => r.exchanges.push(e));
    // The same choice discoverForRepair makes, so the next step's own discovery finds the same issuer.
    const d = configured
      ? await cache.get(rec.http, configured, 'configured', configured)
      : issuers[0]
        ? await cache.get(rec.http, issuers[0], 'resource-metadata')
        : await cache.get(rec.http, serverUrl.origin, 'legacy');
    await rec.settled();
    r.findings = d.findings;
    this.issuerShown = d.document?.issuer ?? d.issuer;
    r.request = r.exchanges.map((e) => `${e.method} ${e.url}`).join('; ') || 'none: the issuer URL is not allowed';
    const last = r.exchanges[r.exchanges.length - 1];
    r.response = last ? describeAnswer(last) : 'none';
    r.facts.push({
      label: 'Issuer asked for',
      value: `${d.issuer} (${configured ? 'oauth.authServerMetadataUrl in the config, which overrides discovery' : issuers[0] ? 'the first of authorization_servers, as SDK clients pick' : 'no protected-resource metadata: the server origin, as 2025-03-26 has it'})`,
    });
    if (issuers.length > 1 && !configured) r.facts.push({ label: 'Also listed', value: `${issuers.slice(1).join(', ')} (not used)` });
    const doc = d.document;
    r.status = 'done';
    if (!doc) {
      if (d.via === 'legacy') {
        r.verdict = { level: 'warn', summary: 'no metadata at the server origin: 2025-03-26 clients (and the re-login) use its /authorize, /token and /register' };
      } else {
        r.verdict = fromFindings(r.findings, 'no authorization-server metadata', 'fail');
        this.blockAfter('authorization-server-metadata', 'there is no authorization-server metadata');
      }
      return;
    }
    r.facts.push({ label: 'Metadata URL', value: `${d.metadataUrl ?? '?'} (${d.kind === 'oidc' ? 'OpenID Connect discovery' : 'RFC 8414'})` });
    const list = (v: string[] | undefined) => (v ? v.join(' ') || '(empty)' : 'not listed');
    r.facts.push(
      { label: 'issuer', value: doc.issuer ?? 'missing' },
      { label: 'authorization_endpoint', value: doc.authorization_endpoint ?? 'missing' },
      { label: 'token_endpoint', value: doc.token_endpoint ?? 'missing' },
      { label: 'registration_endpoint', value: doc.registration_endpoint ?? 'not offered' },
      { label: 'code_challenge_methods_supported', value: list(doc.code_challenge_methods_supported) },
      { label: 'grant_types_supported', value: list(doc.grant_types_supported) },
      { label: 'token_endpoint_auth_methods_supported', value: list(doc.token_endpoint_auth_methods_supported) },
      { label: 'client_id_metadata_document_supported', value: String(doc.client_id_metadata_document_supported ?? false) },
      { label: 'authorization_response_iss_parameter_supported', value: String(doc.authorization_response_iss_parameter_supported ?? false) },
    );
    if (doc.scopes_supported) r.facts.push({ label: 'scopes_supported', value: list(doc.scopes_supported) });
    r.verdict = fromFindings(r.findings, `${d.issuer} publishes its endpoints${doc.code_challenge_methods_supported?.includes('S256') ? ' and PKCE S256' : ''}`);
  }

  /** Step 4: the re-login's own preparation, then which client it would use, pre-checked without credentials. */
  private async chooseClient(): Promise<void> {
    const r = this.record('client');
    const { server } = this.target;
    const prepared = await prepareLogin(this.target, this.ctx);
    if (!prepared.ok) {
      r.status = 'failed';
      r.request = 'none: the login cannot start';
      r.response = 'none';
      r.verdict = { level: 'fail', summary: this.redactor.text(prepared.message) };
      return;
    }
    this.prepared = prepared;
    const { as, discovery } = prepared;
    if (this.issuerShown && !sameIssuer(this.issuerShown, discovery.issuer)) {
      r.facts.push({ label: 'Note', value: `the login's own discovery found ${discovery.issuer}, not ${this.issuerShown} as in step 3; it uses ${discovery.issuer}` });
    }
    const rec = this.recording((e) => r.exchanges.push(e));
    const plan = await chooseLoginClient(prepared, rec.http, plannedRedirect);
    await rec.settled();
    this.plan = plan;
    const stored = prepared.summary;
    r.facts.push(
      { label: 'Resource (RFC 8707)', value: discovery.resource },
      { label: 'Scopes to ask for', value: prepared.scopes?.join(' ') ?? 'none (scope is left out)' },
      { label: 'Pre-registered client (config)', value: server.oauth?.clientId ?? 'none configured' },
      { label: 'Stored client', value: stored?.clientId ? `${stored.clientId}${stored.hasClientSecret ? ' (with a client secret)' : ''}` : 'none stored' },
      ...prepared.notes.map((n) => ({ label: 'Not offered', value: n })),
      {
        label: 'Client ID Metadata Documents',
        value:
          as.client_id_metadata_document_supported !== true
            ? 'not offered'
            : prepared.candidates.some((c) => c.source === 'metadata-document')
              ? `offered by the authorization server; ${CLIENT_LABELS[server.client]} logs in with its document here, and so does this login`
              : `offered by the authorization server; ${CLIENT_LABELS[server.client]} does not use its document here (see above)`,
      },
      { label: 'Dynamic registration', value: as.registration_endpoint ? `offered at ${String(as.registration_endpoint)}` : 'not offered' },
      ...plan.evidence.map((e) => ({ label: 'Pre-check', value: this.redactor.text(e) })),
    );
    r.request = r.exchanges.length
      ? r.exchanges.map((e) => `${e.method} ${pathOf(e.url)} (credential-free pre-check, redirects not followed)`).join('; ')
      : 'none: no stored or configured client to pre-check';
    r.response = r.exchanges.length ? r.exchanges.map((e) => describeAnswer(e)).join('; ') : 'none';
    r.status = 'done';
    if (plan.kind === 'reuse') {
      r.facts.push({ label: 'Decision', value: `reuse ${plan.client.label} with redirect ${plan.redirectUri}` });
      r.verdict = {
        level: 'pass',
        summary:
          plan.client.source === 'metadata-document'
            ? `${plan.client.label} is used, as ${CLIENT_LABELS[server.client]} itself logs in here: nothing is registered`
            : `${plan.client.label} is reused: the authorization server still accepts it, so nothing is registered`,
      };
    } else if (plan.kind === 'register') {
      r.facts.push({ label: 'Decision', value: `register a new client at ${String(as.registration_endpoint)} as "${registrationName(server.client)}"` });
      r.verdict = {
        level: 'pass',
        summary: `${prepared.candidates.length ? 'the authorization server accepts no stored or configured client' : 'no client is stored or configured'}: a new one is registered in the next step`,
      };
    } else {
      r.facts.push({ label: 'Decision', value: 'none: the login cannot go on' });
      r.verdict = { level: 'fail', summary: this.redactor.text(plan.message) };
      this.blockAfter('client', 'no client can be used');
    }
  }

  /** Step 5: RFC 7591 registration, when step 4 found no client to reuse; it starts the loopback listener the redirect URI names. */
  private async registration(): Promise<void> {
    const r = this.record('registration');
    const prepared = this.prepared!;
    const plan = this.plan!;
    if (plan.kind === 'reuse') {
      r.status = 'skipped';
      r.request = 'none';
      r.response = 'none';
      r.verdict = { level: 'info', summary: `nothing to register: ${plan.client.label} is reused` };
      return;
    }
    const rec = this.recording((e) => r.exchanges.push(e));
    const decision = await chooseLoginClient(prepared, rec.http, (choice) => this.listen(choice));
    if (decision.kind === 'fail') {
      await rec.settled();
      return this.stepFailed(r, decision.message);
    }
    this.redirectUri = decision.redirectUri;
    if (decision.kind === 'reuse') {
      await rec.settled();
      this.client = decision.client;
      r.status = 'done';
      r.request = r.exchanges.map((e) => `${e.method} ${pathOf(e.url)}`).join('; ') || 'none';
      r.response = r.exchanges.map((e) => describeAnswer(e)).join('; ') || 'none';
      r.verdict = { level: 'info', summary: `nothing registered: the authorization server now accepts ${decision.client.label}` };
      return;
    }
    const registered = await registerClient(rec.http, prepared.as, { client: this.server.client, redirectUri: decision.redirectUri, ...(prepared.scopes ? { scopes: prepared.scopes } : {}) });
    await rec.settled();
    const post = r.exchanges.find((e) => e.method === 'POST');
    r.request = post ? `${post.method} ${post.url} (RFC 7591, native client, redirect ${decision.redirectUri})` : 'none';
    r.response = post ? describeAnswer(post) : 'none';
    if (!registered.ok) {
      await this.closeListener();
      return this.stepFailed(r, registered.error.words);
    }
    const client = registered.client;
    this.redactor.remember(client.clientSecret);
    this.client = client;
    r.status = 'done';
    r.facts.push(
      { label: 'client_id', value: client.clientId },
      { label: 'client_name', value: registrationName(this.server.client) },
      { label: 'token_endpoint_auth_method', value: client.authMethod ?? (client.clientSecret ? 'client_secret_basic (the default)' : 'none') },
      { label: 'client_secret', value: client.clientSecret ? redacted(client.clientSecret) : 'none issued (a public client)' },
      { label: 'redirect_uri', value: decision.redirectUri },
      { label: 'Listening', value: `on ${new URL(decision.redirectUri).origin} for the browser's answer (step ${this.record('authorization').number})` },
    );
    r.verdict = { level: 'pass', summary: `registered client ${client.clientId} as "${registrationName(this.server.client)}"` };
  }

  /** Step 6: the authorization URL, opened in the browser; waits for the redirect back to the loopback listener. */
  private async authorization(): Promise<void> {
    const r = this.record('authorization');
    const prepared = this.prepared!;
    const rec = this.recording((e) => r.exchanges.push(e));
    if (!this.client) {
      // Reusing a client: listen now, on the redirect URI it is pre-checked with again.
      const decision = await chooseLoginClient(prepared, rec.http, (choice) => this.listen(choice));
      await rec.settled();
      if (decision.kind !== 'reuse') {
        await this.closeListener();
        return this.stepFailed(
          r,
          decision.kind === 'fail' ? decision.message : `the authorization server no longer accepts the stored client with the redirect URI ${decision.redirectUri}; start over to register a new one`,
        );
      }
      this.client = decision.client;
      this.redirectUri = decision.redirectUri;
    } else if (!this.listenerOpen && this.listenChoice) {
      // The listener gave up waiting (or was cancelled): the same port again, the redirect URI is registered with it.
      await this.listen(this.listenChoice);
    }
    const client = this.client;
    const redirectUri = this.redirectUri!;
    const listener = this.listener;
    if (!listener || !this.listenerOpen) return this.stepFailed(r, 'no loopback listener is waiting for the browser; start over');
    this.verifier = oauth.generateRandomCodeVerifier();
    this.state = oauth.generateRandomState();
    this.redactor.remember(this.verifier);
    const built = authorizationUrl(prepared.as, {
      clientId: client.clientId,
      redirectUri,
      codeChallenge: await oauth.calculatePKCECodeChallenge(this.verifier),
      state: this.state,
      resource: prepared.discovery.resource,
      ...(prepared.scopes ? { scopes: prepared.scopes } : {}),
    });
    if (!built.ok) {
      await this.closeListener();
      return this.stepFailed(r, built.reason);
    }
    const shownUrl = this.redactor.url(built.url.href);
    r.exchanges.push({ direction: 'browser', method: 'GET', url: shownUrl, requestHeaders: {}, responseHeaders: {}, outcome: 'sent', ms: 0 });
    r.request = `GET ${shownUrl} (in your browser)`;
    for (const [name, value] of built.url.searchParams) r.facts.push({ label: name, value });
    r.facts.push({ label: 'Waiting on', value: `${redirectUri} (at most ${Math.round((this.ctx.callbackTimeoutMs ?? WAIT_MS) / 1000)} s)` });
    r.status = 'waiting';
    this.emit();

    const opened = this.ui.openBrowser(built.url.href).then(
      () => new Promise<never>(() => undefined),
      (err: unknown) => {
        throw new BrowserNotOpened(err instanceof Error ? err.message : String(err));
      },
    );
    opened.catch(() => undefined);
    let cb: { url: URL; answer: (a: CallbackAnswer) => void };
    try {
      cb = await Promise.race([listener.callback, opened]);
    } catch (err) {
      await this.closeListener();
      r.response = 'no answer';
      if (err instanceof RedirectTimeout) return this.stepFailed(r, `${err.message}: run this step again to retry`);
      if (err instanceof RedirectCancelled) return this.stepFailed(r, 'cancelled: run this step again to retry');
      if (err instanceof BrowserNotOpened) return this.stepFailed(r, `the browser could not be opened (${err.message})`);
      throw err;
    }
    this.callback = cb;
    const code = cb.url.searchParams.get('code');
    this.redactor.remember(code ?? undefined);
    const shownCallback = this.redactor.url(cb.url.href);
    r.exchanges.push({ direction: 'incoming', method: 'GET', url: shownCallback, requestHeaders: {}, responseHeaders: {}, outcome: 'answered', ms: 0 });
    r.response = `redirect to ${shownCallback}`;
    r.status = 'done';
    const error = cb.url.searchParams.get('error');
    r.verdict = error
      ? { level: 'fail', summary: `the authorization server answered error=${error}${cb.url.searchParams.get('error_description') ? ` (${clean(cb.url.searchParams.get('error_description') ?? '')})` : ''}` }
      : { level: 'pass', summary: `the browser came back to ${pathOf(redirectUri)} with an authorization code` };
  }

  /** Step 7: state, iss (RFC 9207) and error checked before the code is used; the browser's page says how it went. */
  private async checkCallback(): Promise<void> {
    const r = this.record('callback');
    const prepared = this.prepared!;
    const cb = this.callback!;
    const url = cb.url;
    const expectedIssuer = prepared.discovery.issuer;
    const iss = url.searchParams.get('iss');
    const code = url.searchParams.get('code');
    const receivedState = url.searchParams.get('state');
    r.request = `GET ${this.redactor.url(url.href)} (from your browser)`;
    r.facts.push(
      { label: 'state', value: receivedState === this.state ? `${receivedState} (matches the one sent)` : `${receivedState ?? 'missing'} (sent ${this.state})` },
      {
        label: 'iss',
        value: iss
          ? `${iss}${sameIssuer(iss, expectedIssuer) ? ' (the issuer the login was sent to)' : ` (expected ${expectedIssuer})`}`
          : `absent (the authorization server ${prepared.as.authorization_response_iss_parameter_supported === true ? 'promises it: a mix-up guard fails' : 'does not promise it'})`,
      },
      { label: 'code', value: code ? redacted(code) : 'none' },
    );
    const checked = checkAuthorizationResponse(prepared.as, this.client!, url, this.state!, prepared.discovery);
    const answer: CallbackAnswer = checked.ok
      ? { ok: true, message: `MCP Auth Doctor has the authorization code for ${this.server.name}. Go back to the guided flow to exchange it for tokens; nothing is saved yet.` }
      : { ok: false, message: capitalize(checked.message) };
    cb.answer(answer);
    // The listener closes once it has answered.
    this.listenerOpen = false;
    const incoming = this.record('authorization').exchanges.find((e) => e.direction === 'incoming');
    if (incoming) {
      incoming.status = answer.ok ? 200 : 400;
      incoming.responseBody = answer.message;
      incoming.contentType = 'text/html; charset=utf-8';
    }
    r.response = `${answer.ok ? 200 : 400} page: "${answer.message}"`;
    r.status = 'done';
    if (!checked.ok) {
      r.verdict = { level: 'fail', summary: this.redactor.text(checked.message) };
      this.blockAfter('callback', 'the authorization response was refused; start over');
      return;
    }
    this.params = checked.params;
    r.verdict = {
      level: iss || prepared.as.authorization_response_iss_parameter_supported !== true ? 'pass' : 'warn',
      summary: `state matches; ${iss ? `iss names ${expectedIssuer}` : 'no iss (not promised)'}; code ${code ? fingerprint(code) : 'missing'}`,
    };
  }

  /** Step 8: the code and PKCE verifier for tokens, at the token endpoint; the tokens stay in memory. */
  private async exchangeCode(): Promise<void> {
    const r = this.record('token');
    const prepared = this.prepared!;
    const rec = this.recording((e) => r.exchanges.push(e));
    const exchanged = await exchangeAuthorizationCode(rec.http, prepared, this.client!, this.params!, this.redirectUri!, this.verifier!);
    await rec.settled();
    // A code is good for one exchange, whatever the answer.
    this.verifier = undefined;
    this.params = undefined;
    const post = r.exchanges.find((e) => e.method === 'POST');
    r.request = post ? `${post.method} ${post.url} (grant_type=authorization_code, code_verifier, resource=${prepared.discovery.resource})` : 'none';
    r.response = post ? describeAnswer(post) : 'none';
    if (!exchanged.ok) {
      r.status = 'done';
      r.verdict = { level: 'fail', summary: this.redactor.text(exchanged.message) };
      this.blockAfter('token', 'no tokens were issued; start over');
      return;
    }
    const t = exchanged.tokens;
    this.tokens = t;
    this.redactor.remember(t.access_token, t.refresh_token, typeof t.id_token === 'string' ? t.id_token : undefined);
    const asked = prepared.scopes?.join(' ');
    r.facts.push(
      { label: 'token_type', value: String(t.token_type) },
      { label: 'access_token', value: redacted(t.access_token) },
      { label: 'expires_in', value: typeof t.expires_in === 'number' ? `${t.expires_in} s (${describeSpan(t.expires_in * 1000)})` : 'not given' },
      { label: 'refresh_token', value: t.refresh_token ? redacted(t.refresh_token) : 'none issued' },
      { label: 'scope', value: t.scope !== undefined ? `${t.scope || '(empty)'}${asked && t.scope !== asked ? ` (asked for ${asked})` : ''}` : `not given (asked for ${asked ?? 'none'})` },
    );
    r.status = 'done';
    r.verdict = {
      level: 'pass',
      summary: `tokens issued: access ${fingerprint(t.access_token)}${typeof t.expires_in === 'number' ? `, expires in ${describeSpan(t.expires_in * 1000)}` : ''}, ${t.refresh_token ? `refresh ${fingerprint(t.refresh_token)}` : 'no refresh token'}`,
    };
  }

  /** Step 9: the MCP request again, with the new token (to the server's own origin only). */
  private async authenticatedRequest(): Promise<void> {
    const r = this.record('authenticated-request');
    const serverUrl = this.serverUrl!;
    const token = this.tokens!.access_token;
    const spoken = this.side?.spoken ?? this.ctx.revision ?? DEFAULT_REVISION;
    const rec = this.recording((e) => r.exchanges.push(e));
    const ex = await exchange(rec.http, mcpProbeRequest(this.server, spoken, 'token-check', { token, origin: serverUrl.origin }));
    const sessionId = ex.headers?.get('mcp-session-id');
    if (sessionId && ex.status && ex.status < 300) {
      // initialize opened a session; close it so the server does not keep it (Streamable HTTP §Session Management).
      await exchange(rec.http, {
        step: 'session-close',
        method: 'DELETE',
        url: serverUrl.href,
        headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': spoken },
        configHeaders: this.server.headers,
        bearer: { token, origin: serverUrl.origin },
        read: 'none',
      });
    }
    await rec.settled();
    const sent = r.exchanges[0];
    r.request = sent ? `${sent.method} ${sent.url} with Authorization: Bearer ${redacted(token)}` : `none: ${ex.entry.error ?? 'not sent'}`;
    r.response = sent ? describeAnswer(sent, 'www-authenticate') : 'none';
    if (ex.status === undefined) {
      this.tokenAccepted = undefined;
      return this.stepFailed(r, `the server did not answer (${this.redactor.text(ex.entry.error ?? ex.entry.outcome)})`);
    }
    r.status = 'done';
    const challenge = bearerChallenge(parseWwwAuthenticate(ex.headers?.get('www-authenticate')));
    this.tokenAccepted = ex.status >= 200 && ex.status < 300;
    if (this.tokenAccepted) r.verdict = { level: 'pass', summary: `the server accepted the new token (${ex.status})` };
    else if (ex.status === 403 && challenge?.error === 'insufficient_scope') r.verdict = { level: 'fail', summary: `the token lacks a scope the server wants (${challenge.scope ?? 'not named'})` };
    else r.verdict = { level: 'fail', summary: `the server refused the new token (${ex.status}${challenge?.error ? ` ${challenge.error}` : ''})` };
  }

  /** Step 10: the tokens into the client's own store, as the re-login writes them (snapshot first: Undo). */
  private async save(): Promise<void> {
    const r = this.record('save');
    const { store, key } = this.target;
    const outcome = await saveLogin(this.target, this.prepared!, this.client!, this.redirectUri!, this.tokens!, (this.ctx.now ?? Date.now)());
    r.request = `write entry ${key} in ${store.location} (locked, after a snapshot)`;
    if (!outcome.ok) {
      r.response = 'nothing written';
      return this.stepFailed(r, outcome.message);
    }
    r.response = outcome.undoSnapshotId ? `written; snapshot ${outcome.undoSnapshotId} holds the entry as it was` : 'written (the store held no entry before, so there is no snapshot)';
    for (const c of outcome.changed) r.facts.push({ label: 'Changed', value: c });
    if (outcome.undoSnapshotId) r.facts.push({ label: 'Undo', value: `mcp-auth-doctor restore ${outcome.undoSnapshotId} --entry '${key}' --yes` });
    r.status = 'done';
    r.verdict = { level: 'pass', summary: outcome.summary };
    // Saved: the flow no longer needs them.
    this.tokens = undefined;
  }

  // ── Confirmations ────────────────────────────────────────────────────────────────────────

  private async confirmationFor(id: GuidedStepId): Promise<StepConfirmation> {
    const p = this.prepared;
    const server = this.server;
    const wait = `${Math.round((this.ctx.callbackTimeoutMs ?? WAIT_MS) / 60_000)} min`;
    switch (id) {
      case 'registration': {
        const endpoint = String(p?.as.registration_endpoint);
        const redirect = this.plan && this.plan.kind !== 'fail' ? this.plan.redirectUri : 'a loopback redirect URI';
        return {
          question: `Register a new OAuth client at ${endpoint}?`,
          changes: [
            `${p?.discovery.issuer} creates a client named "${registrationName(server.client)}" (native, redirect ${redirect}); it stays registered there.`,
            `MCP Auth Doctor starts listening on ${originOf(redirect)} for the browser's answer (used in the next step; at most ${wait}).`,
          ],
          warnings: [],
          action: 'Register',
        };
      }
      case 'authorization': {
        const endpoint = String(p?.as.authorization_endpoint);
        const redirect = this.redirectUri ?? (this.plan && this.plan.kind !== 'fail' ? this.plan.redirectUri : undefined);
        return {
          question: `Open your browser to log in to ${server.name}?`,
          changes: [
            `Your browser opens ${pathlessOrigin(endpoint)}; log in and approve there.`,
            `MCP Auth Doctor waits on ${redirect ? originOf(redirect) : 'a loopback port'} for the answer (at most ${wait}).`,
            'Nothing is written: the code is exchanged and the tokens saved in later steps, each after you confirm.',
          ],
          warnings: [],
          action: 'Open Browser',
        };
      }
      case 'token':
        return {
          question: `Exchange the authorization code for tokens at ${String(p?.as.token_endpoint)}?`,
          changes: [
            `${p?.discovery.issuer} issues tokens to client ${this.client?.clientId} for ${p?.discovery.resource}; the code cannot be used again.`,
            'The tokens stay in this window: nothing is written until the last step.',
          ],
          warnings: [],
          action: 'Exchange Code',
        };
      case 'save': {
        const s = p?.summary;
        const t = this.tokens;
        const granted = t?.scope !== undefined ? t.scope.split(' ').filter(Boolean) : (p?.scopes ?? []);
        const warnings = await runningClientWarnings(server, this.ctx);
        if (this.tokenAccepted === false) warnings.unshift(`The server refused the new token in step ${this.record('authenticated-request').number}; saving it will not make ${server.name} work.`);
        return {
          question: `Save the new tokens for ${server.name} in ${CLIENT_LABELS[server.client]}'s store?`,
          changes: [
            `accessToken: ${s?.accessTokenFingerprint ?? 'none'} → ${t ? fingerprint(t.access_token) : 'new'}`,
            `refreshToken: ${s?.refreshTokenFingerprint ?? 'none'} → ${t?.refresh_token ? fingerprint(t.refresh_token) : 'none (the authorization server issued none)'}`,
            `expiresAt: ${s?.expiresAt ? isoTime(s.expiresAt) : 'none'} → ${typeof t?.expires_in === 'number' ? `in ${describeSpan(t.expires_in * 1000)}` : 'none'}`,
            `scopes: ${s?.scopes.length ? s.scopes.join(' ') : 'none'} → ${granted.length ? granted.join(' ') : 'none'}`,
            `clientId: ${s?.clientId ?? 'none'} → ${this.client?.clientId ?? '?'}`,
            ...(server.client === 'codex' ? [`issuer: ${s?.issuer ?? 'none'} → ${p?.discovery.issuer}`] : []),
            `written to ${this.target.store.location}, entry ${this.target.key}, after a snapshot (Undo restores it)`,
          ],
          warnings,
          action: 'Save Tokens',
        };
      }
      default:
        return { question: `Run step ${this.record(id).number}?`, changes: [], warnings: [], action: 'Run' };
    }
  }

  // ── Helpers ──────────────────────────────────────────────────────────────────────────────

  private record(id: GuidedStepId): StepRecord {
    return this.records.find((r) => r.id === id)!;
  }

  private whyNot(id: GuidedStepId): string {
    const i = this.records.findIndex((r) => r.id === id);
    const r = this.records[i]!;
    if (r.status === 'blocked') return r.verdict?.summary ?? 'an earlier step stopped the flow';
    if (r.status === 'done' || r.status === 'skipped') return 'it has run; start over to run it again';
    if (id === 'callback') return 'it runs when the browser comes back';
    const before = this.records.slice(0, i).find((p) => p.status !== 'done' && p.status !== 'skipped');
    return before ? `step ${before.number} (${before.title}) has not run` : 'it is running';
  }

  private blockAfter(id: GuidedStepId, reason: string): void {
    const i = this.records.findIndex((r) => r.id === id);
    for (const r of this.records.slice(i + 1)) {
      if (r.status !== 'pending' && r.status !== 'failed' && r.status !== 'running') continue;
      r.status = 'blocked';
      r.verdict = { level: 'info', summary: `not run: ${reason}` };
    }
  }

  private stepFailed(r: StepRecord, message: string): void {
    r.status = 'failed';
    r.request ??= 'none';
    r.response ??= 'none';
    r.verdict = { level: 'fail', summary: this.redactor.text(message) };
  }

  private recording(sink: (e: RecordedExchange, raw: string) => void): Recording {
    return recordingHttp(this.ctx.http, this.redactor, sink);
  }

  private async listen(choice: RedirectChoice): Promise<{ redirectUri: string; listener: RedirectListener }> {
    await this.closeListener();
    const listener = await listenForRedirect(choice, { timeoutMs: this.ctx.callbackTimeoutMs ?? WAIT_MS, signal: this.abort.signal });
    this.listener = listener;
    this.listenerOpen = true;
    this.listenChoice = { ...choice, port: listener.port };
    listener.callback.catch(() => {
      if (this.listener === listener) this.listenerOpen = false;
    });
    return { redirectUri: listener.redirectUri, listener };
  }

  private async closeListener(): Promise<void> {
    const l = this.listener;
    this.listener = undefined;
    this.listenerOpen = false;
    await l?.close();
  }

  private emit(): void {
    if (this.listeners.size === 0) return;
    const state = this.snapshot();
    for (const fn of this.listeners) fn(state);
  }
}

const SOURCE_WORDS = { header: 'URL the challenge names', path: 'path-aware well-known URL', root: 'root well-known URL' } as const;

/** error findings fail the step, warnings make it a warning; otherwise `pass` (or the level given). */
function fromFindings(findings: Finding[], summary: string, level: StepVerdict['level'] = 'pass'): StepVerdict {
  const error = findings.find((f) => f.severity === 'error');
  if (error) return { level: 'fail', summary: `${error.title}${findings.filter((f) => f.severity === 'error').length > 1 ? ' (and more, below)' : ''}` };
  const warning = findings.find((f) => f.severity === 'warning');
  if (warning && level === 'pass') return { level: 'warn', summary: `${summary}; but ${lowerFirst(warning.title)}` };
  return { level, summary };
}

/** `401 application/json · WWW-Authenticate: Bearer …` */
function describeAnswer(e: RecordedExchange, header?: string): string {
  if (e.status === undefined) return e.error ?? e.outcome;
  const type = e.contentType ? ` ${e.contentType.split(';')[0]}` : '';
  const named = header && e.responseHeaders[header] ? ` · ${header}: ${e.responseHeaders[header]}` : '';
  const location = e.responseHeaders.location ? ` → ${e.responseHeaders.location}` : '';
  return `${e.status}${type}${location}${named}`;
}

function sameEndpoint(raw: string, serverUrl: URL): boolean {
  if (!URL.canParse(raw)) return false;
  const u = new URL(raw);
  return u.origin === serverUrl.origin && u.pathname === serverUrl.pathname;
}

function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function pathOf(url: string): string {
  return URL.canParse(url) ? new URL(url).pathname : url.split('?')[0]!;
}

function originOf(url: string): string {
  return URL.canParse(url) ? new URL(url).origin : url;
}

function pathlessOrigin(url: string): string {
  return URL.canParse(url) ? `${new URL(url).origin}${new URL(url).pathname}` : url;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function lowerFirst(s: string): string {
  return /^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s;
}

function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  const t = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}
