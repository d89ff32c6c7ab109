// The guided OAuth flow (src/core/guided/flow.ts) against the loopback lab: each step's record
// says what went out, what came back, a verdict and the rule; read-only steps run freely and stop
// before the first step that changes something; nothing changes without a yes; the whole flow
// ends with the tokens in Claude Code's store; no record holds a token, the code, the PKCE
// verifier or a client secret, only fingerprints. The "browser" is lab.approve(url) followed by a
// GET of the redirect, as a browser would deliver it. Loopback only.
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanConfigs } from '../../src/core/config/scan';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { claudeCodeStore, claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import type { Environment } from '../../src/core/environment';
import { GuidedFlow, type Confirm, type GuidedContext, type GuidedState } from '../../src/core/guided/flow';
import type { GuidedStepId, StepConfirmation } from '../../src/core/guided/steps';
import type { HttpSettings } from '../../src/core/probe/http';
import type { RepairTarget } from '../../src/core/repair/types';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';

const HTTP: HttpSettings = { fetch: (input, init) => fetch(input, init), timeoutMs: 5000, maxBodyBytes: 1 << 20 };

interface Sandbox {
  home: string;
  target: RepairTarget;
  file: string;
}

const homes: string[] = [];
after(async () => {
  for (const h of homes) await fs.rm(h, { recursive: true, force: true });
});

/** A sandbox HOME where Claude Code has one server "lab" at the lab's MCP URL. */
async function sandbox(lab: Lab): Promise<Sandbox> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-guided-'));
  homes.push(home);
  const e: Environment = { home, env: { HOME: home }, platform: process.platform, projectDirs: [home], managedMcpPath: path.join(home, 'no-managed-mcp.json') };
  await fs.writeFile(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: { lab: { type: 'http', url: lab.mcpUrl } } }), { mode: 0o600 });
  const [server] = (await scanConfigs(e, ['claude-code'])).servers;
  assert.ok(server?.storageKey, 'the sandbox config has the lab server');
  const store = claudeCodeStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) });
  return { home, target: { server, store, key: server.storageKey }, file: claudeCredentialsFile(e) };
}

function ctx(): GuidedContext {
  return { http: HTTP, callbackTimeoutMs: 20_000, runningClients: async () => ({ processes: [], known: true }) };
}

/** The browser: the lab approves, the redirect (perhaps tampered with) goes to our listener; the page it showed is kept. */
function browser(lab: Lab, tamper?: (redirect: URL) => URL) {
  const seen = { urls: [] as string[], codes: [] as string[], pages: [] as Promise<string>[] };
  return {
    seen,
    openBrowser: async (url: string) => {
      seen.urls.push(url);
      let redirect = new URL(await lab.approve(url));
      seen.codes.push(redirect.searchParams.get('code') ?? '');
      if (tamper) redirect = tamper(redirect);
      seen.pages.push(fetch(redirect, { signal: AbortSignal.timeout(15_000) }).then((r) => r.text()));
    },
  };
}

/** Says yes and remembers what it was asked. */
function yes(asked: StepConfirmation[] = []): Confirm {
  return async (c) => {
    asked.push(c);
    return true;
  };
}

function step(state: GuidedState, id: GuidedStepId) {
  const s = state.steps.find((x) => x.id === id);
  assert.ok(s, `no step ${id}`);
  return s;
}

/** Every secret a careless record would show: whole, or any 16-character piece (test/hardening/support/secrets.ts). */
function leaked(text: string, secrets: string[]): string[] {
  const out: string[] = [];
  for (const s of secrets) {
    for (let i = 0; i + 16 <= s.length; i++) {
      if (text.includes(s.slice(i, i + 16))) {
        out.push(fingerprint(s));
        break;
      }
    }
    if (s.length < 16 && text.includes(s)) out.push(fingerprint(s));
  }
  return out;
}

describe('the guided OAuth flow against the lab', function () {
  this.timeout(60_000);
  let lab: Lab;
  let sb: Sandbox;

  before(async () => {
    lab = await startLab();
    sb = await sandbox(lab);
  });
  after(async () => lab?.close());

  it('runs the read-only steps and stops before the registration, which it only describes', async () => {
    const flow = new GuidedFlow(sb.target, ctx(), { openBrowser: async () => assert.fail('no browser during read-only steps') });
    const tokenRequests = lab.tokenEndpointRequests();
    await flow.runReadOnly();
    const state = flow.snapshot();
    await flow.dispose();

    const s1 = step(state, 'unauthenticated-request');
    assert.equal(s1.status, 'done');
    assert.equal(s1.verdict?.level, 'pass', s1.verdict?.summary);
    assert.match(s1.request ?? '', /^POST http:\/\/127\.0\.0\.1:\d+\/mcp \(initialize, MCP 2025-11-25\), no token$/);
    assert.match(s1.response ?? '', /^401 .*www-authenticate: Bearer .*resource_metadata=/);
    assert.ok(s1.facts.some((f) => f.label === 'resource_metadata' && f.value === lab.protectedResourceMetadataUrl), JSON.stringify(s1.facts));

    const s2 = step(state, 'resource-metadata');
    assert.equal(s2.verdict?.level, 'pass', s2.verdict?.summary);
    assert.ok(s2.exchanges.some((e) => e.url === lab.protectedResourceMetadataUrl && e.status === 200 && (e.responseBody ?? '').includes(`"resource": "${lab.mcpUrl}"`)), 'the metadata document is shown');
    assert.ok(s2.facts.some((f) => f.label === 'authorization_servers' && f.value === lab.issuer));

    const s3 = step(state, 'authorization-server-metadata');
    assert.equal(s3.verdict?.level, 'pass', s3.verdict?.summary);
    assert.ok(s3.facts.some((f) => f.label === 'code_challenge_methods_supported' && f.value === 'S256'));
    assert.ok(s3.facts.some((f) => f.label === 'token_endpoint' && f.value === lab.metadata().token_endpoint));

    const s4 = step(state, 'client');
    assert.equal(s4.verdict?.level, 'pass', s4.verdict?.summary);
    assert.match(s4.verdict?.summary ?? '', /no client is stored or configured: a new one is registered/);
    assert.ok(s4.facts.some((f) => f.label === 'Dynamic registration' && f.value.startsWith('offered at ')));

    const s5 = step(state, 'registration');
    assert.equal(s5.status, 'pending', 'the registration waits for the user');
    assert.equal(state.next, 'registration');
    assert.match(s5.confirmation?.question ?? '', /^Register a new OAuth client at http:\/\/127\.0\.0\.1:\d+\/reg\?$/);
    assert.ok(s5.confirmation?.changes.some((c) => c.includes('"MCP Auth Doctor (for Claude Code)"')), JSON.stringify(s5.confirmation));

    assert.equal(lab.registrationRequests(), 0, 'nothing was registered');
    assert.equal(lab.tokenEndpointRequests(), tokenRequests, 'the token endpoint was not asked');
    assert.equal(existsSync(sb.file), false, 'nothing was written');
  });

  it('declining a confirmation leaves the step as it was; steps cannot run out of order', async () => {
    const flow = new GuidedFlow(sb.target, ctx(), { openBrowser: async () => assert.fail('no browser') });
    await assert.rejects(flow.run('token', yes()), /cannot run now: step 1 \(Unauthenticated MCP request\) has not run/);
    await flow.runReadOnly();
    const asked: StepConfirmation[] = [];
    const r = await flow.run('registration', async (c) => {
      asked.push(c);
      return false;
    });
    assert.equal(asked.length, 1, 'the user was asked');
    assert.equal(r.status, 'pending');
    assert.equal(await flow.run('registration').then((x) => x.status), 'pending', 'without a confirm function it does not run');
    await flow.dispose();
    assert.equal(lab.registrationRequests(), 0);
  });

  it('walks the whole flow on the user’s yes: one registration, the browser, state and iss checked, the exchange, the token accepted, the store written; no record holds a secret', async () => {
    const ui = browser(lab);
    const flow = new GuidedFlow(sb.target, ctx(), ui);
    const asked: StepConfirmation[] = [];
    const states: GuidedState[] = [];
    flow.onDidChange((s) => states.push(s));
    await flow.runReadOnly();
    assert.equal((await flow.run('registration', yes(asked))).status, 'done');
    assert.equal(lab.registrations(), 1);
    const [client] = lab.clients();

    const authorization = await flow.run('authorization', yes(asked));
    assert.equal(authorization.status, 'done', authorization.verdict?.summary);
    assert.ok(states.some((s) => step(s, 'authorization').status === 'waiting'), 'the step showed it was waiting for the browser');
    const page = await ui.seen.pages[0]!;
    assert.match(page, /MCP Auth Doctor has the authorization code for lab\. Go back to the guided flow/);
    const sentUrl = new URL(ui.seen.urls[0]!);
    assert.equal(sentUrl.searchParams.get('client_id'), client?.clientId);
    assert.equal(sentUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(sentUrl.searchParams.get('resource'), lab.mcpUrl);
    // The shown authorization URL keeps state and code_challenge, which are not secrets.
    assert.ok(authorization.facts.some((f) => f.label === 'state' && f.value === sentUrl.searchParams.get('state')));
    assert.ok(authorization.facts.some((f) => f.label === 'code_challenge' && f.value === sentUrl.searchParams.get('code_challenge')));

    let state = flow.snapshot();
    const callback = step(state, 'callback');
    assert.equal(callback.status, 'done', 'the callback is checked as soon as it arrives');
    assert.equal(callback.verdict?.level, 'pass', callback.verdict?.summary);
    assert.ok(callback.facts.some((f) => f.label === 'state' && f.value.endsWith('(matches the one sent)')));
    assert.ok(callback.facts.some((f) => f.label === 'iss' && f.value === `${lab.issuer} (the issuer the login was sent to)`), JSON.stringify(callback.facts));
    assert.ok(callback.facts.some((f) => f.label === 'code' && f.value === `[redacted ${fingerprint(ui.seen.codes[0]!)}]`));

    const tokens = lab.tokensIssued();
    assert.equal((await flow.run('token', yes(asked))).verdict?.level, 'pass');
    assert.equal(lab.tokensIssued(), tokens + 1);
    assert.equal(existsSync(sb.file), false, 'the exchange writes nothing');

    const authorized = lab.mcpRequests().authorized;
    await flow.runReadOnly();
    assert.equal(step(flow.snapshot(), 'authenticated-request').verdict?.summary, 'the server accepted the new token (200)');
    assert.ok(lab.mcpRequests().authorized > authorized, 'the lab saw the token');

    const save = await flow.run('save', yes(asked));
    assert.equal(save.verdict?.level, 'pass', save.verdict?.summary);
    state = flow.snapshot();
    assert.equal(state.finished, true);
    await flow.dispose();

    const raw = JSON.parse(await fs.readFile(sb.file, 'utf8')).mcpOAuth[sb.target.key] as { accessToken: string; refreshToken: string; clientId: string; clientSecret?: string };
    assert.equal(raw.clientId, client?.clientId);
    assert.match(save.verdict?.summary ?? '', new RegExp(`new token ${fingerprint(raw.accessToken)}`));
    assert.deepEqual(
      asked.map((c) => c.action),
      ['Register', 'Open Browser', 'Exchange Code', 'Save Tokens'],
      'each step that changes something asked first',
    );
    const saveAsked = asked[3]!;
    assert.ok(saveAsked.changes.includes(`accessToken: none → ${fingerprint(raw.accessToken)}`), saveAsked.changes.join('\n'));

    // Every step's record: a request, an answer, a verdict, a reference.
    for (const s of state.steps) {
      assert.ok(s.status === 'done' || s.status === 'skipped', `${s.id} is ${s.status}`);
      assert.ok(s.request && s.response, `${s.id} has no request or response line`);
      assert.ok(s.verdict?.summary, `${s.id} has no verdict`);
      assert.ok(s.reference.length > 20, `${s.id} has no reference`);
    }
    const token = step(state, 'token');
    const post = token.exchanges.find((e) => e.method === 'POST');
    assert.match(post?.requestBody ?? '', /^code=\[redacted sha256:[0-9a-f]{12}\]$/m, post?.requestBody);
    assert.match(post?.requestBody ?? '', /^code_verifier=\[redacted sha256:[0-9a-f]{12}\]$/m);
    assert.ok((post?.responseBody ?? '').includes(`"access_token": "[redacted ${fingerprint(raw.accessToken)}]"`), post?.responseBody);
    assert.ok((post?.responseBody ?? '').includes(`"refresh_token": "[redacted ${fingerprint(raw.refreshToken)}]"`));
    const auth = step(state, 'authenticated-request').exchanges[0];
    assert.equal(auth?.requestHeaders.authorization, `Bearer [redacted ${fingerprint(raw.accessToken)}]`);

    // No secret anywhere: not in the final state, not in any state sent on the way.
    const secrets = [raw.accessToken, raw.refreshToken, ui.seen.codes[0]!, ...(raw.clientSecret ? [raw.clientSecret] : [])];
    const verifiers = token.exchanges.flatMap((e) => /code_verifier=(.*)/.exec(e.requestBody ?? '')?.[1] ?? []);
    assert.ok(verifiers.every((v) => v.startsWith('[redacted ')), 'the verifier is redacted');
    assert.deepEqual(leaked(JSON.stringify([state, ...states]), secrets), []);
    assert.deepEqual(leaked(JSON.stringify(asked), secrets), []);
  });

  it('a second walk reuses the stored client: the registration is skipped, nothing is registered', async () => {
    const flow = new GuidedFlow(sb.target, ctx(), { openBrowser: async () => assert.fail('no browser') });
    const registrations = lab.registrationRequests();
    await flow.runReadOnly();
    const state = flow.snapshot();
    await flow.dispose();
    const [client] = lab.clients();
    assert.match(step(state, 'client').verdict?.summary ?? '', new RegExp(`the stored client ${client?.clientId} is reused`));
    assert.ok(step(state, 'client').exchanges.some((e) => e.method === 'GET' && e.status === 303), 'the pre-check asked the authorization endpoint');
    assert.equal(step(state, 'registration').status, 'skipped');
    assert.equal(state.next, 'authorization');
    assert.equal(lab.registrationRequests(), registrations);
  });

  it('a callback whose iss names another issuer (RFC 9207 mix-up) fails the check; the code is never exchanged and nothing is written', async () => {
    const before = await fs.readFile(sb.file, 'utf8');
    const ui = browser(lab, (redirect) => {
      redirect.searchParams.set('iss', 'http://127.0.0.1:1/evil');
      return redirect;
    });
    const flow = new GuidedFlow(sb.target, ctx(), ui);
    await flow.runReadOnly();
    const tokens = lab.tokenEndpointRequests();
    await flow.run('authorization', yes());
    const state = flow.snapshot();
    await flow.dispose();
    assert.match(await ui.seen.pages[0]!, /did not come from/);
    assert.equal(step(state, 'callback').verdict?.level, 'fail');
    assert.match(step(state, 'callback').verdict?.summary ?? '', /its iss names another issuer/);
    assert.equal(step(state, 'token').status, 'blocked');
    assert.equal(lab.tokenEndpointRequests(), tokens, 'the code was not exchanged');
    assert.equal(await fs.readFile(sb.file, 'utf8'), before);
  });
});

describe('the guided OAuth flow on a server that needs no login', function () {
  this.timeout(30_000);
  let lab: Lab;
  after(async () => lab?.close());

  it('says so in step 1 and blocks the rest', async () => {
    lab = await startLab({ mcpEndpoint: 'public' });
    const sb = await sandbox(lab);
    const flow = new GuidedFlow(sb.target, ctx(), { openBrowser: async () => assert.fail('no browser') });
    await flow.runReadOnly();
    const state = flow.snapshot();
    await flow.dispose();
    assert.equal(step(state, 'unauthenticated-request').verdict?.level, 'info');
    assert.match(step(state, 'unauthenticated-request').verdict?.summary ?? '', /answers without a token/);
    assert.deepEqual(
      state.steps.slice(1).map((s) => s.status),
      Array(9).fill('blocked'),
    );
    assert.equal(state.next, undefined);
  });
});

describe('the guided OAuth flow on a misconfigured authorization server', function () {
  this.timeout(30_000);
  let lab: Lab;
  after(async () => lab?.close());

  it('fails the metadata step on the issuer mismatch, the client step refuses, and running the read-only steps again stops at the failed one', async () => {
    lab = await startLab({ advertisedIssuer: 'other' });
    const sb = await sandbox(lab);
    const flow = new GuidedFlow(sb.target, ctx(), { openBrowser: async () => assert.fail('no browser') });
    await flow.runReadOnly();
    await flow.runReadOnly();
    const state = flow.snapshot();
    await flow.dispose();
    const as = step(state, 'authorization-server-metadata');
    assert.equal(as.verdict?.level, 'fail');
    assert.ok(as.findings.some((f) => f.code === 'probe.issuer-mismatch'));
    const client = step(state, 'client');
    assert.equal(client.status, 'failed');
    assert.match(client.verdict?.summary ?? '', /issuer/);
    assert.equal(state.next, 'client', 'the failed step can be run again');
    assert.equal(lab.registrationRequests(), 0);
  });
});
