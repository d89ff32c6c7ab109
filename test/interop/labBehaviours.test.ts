// Every switchable misbehaviour of the lab (test/lab/behaviour.ts), checked with plain fetch: the
// probe's tests trust the lab to really send a Basic challenge, a 3 MiB body or a redirect to
// the canary, so each is seen here on the wire. One lab serves most checks, switched with
// configure() between requests and put back to the defaults after each test.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { startLab, type Lab } from '../lab';
import { DEFAULT_BEHAVIOUR, type LabBehaviour } from '../lab/behaviour';

const MiB = 1024 * 1024;
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'lab-behaviours-test', version: '1' } },
});

/** A bare MCP initialize POST, as a probe sends it; redirects are not followed. */
function initialize(lab: Lab, options: { token?: string; signal?: AbortSignal } = {}): Promise<Response> {
  return fetch(lab.mcpUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: INITIALIZE,
    signal: options.signal ?? AbortSignal.timeout(5000),
  });
}

function get(url: string, signal: AbortSignal = AbortSignal.timeout(5000)): Promise<Response> {
  return fetch(url, { redirect: 'manual', signal });
}

const rootPrmUrl = (lab: Lab) => `${new URL(lab.mcpUrl).origin}/.well-known/oauth-protected-resource`;
const prmUrls = (lab: Lab) => [lab.protectedResourceMetadataUrl, rootPrmUrl(lab)];
const asMetadataUrls = (lab: Lab) => [`${lab.issuer}/.well-known/oauth-authorization-server`, `${lab.issuer}/.well-known/openid-configuration`];

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe('lab behaviours: each misbehaviour is switchable and really happens', function () {
  this.timeout(20_000);
  let lab: Lab;
  const extra: Lab[] = [];
  const open = async (options: Parameters<typeof startLab>[0] = {}) => {
    const l = await startLab(options);
    extra.push(l);
    return l;
  };
  before(async () => {
    lab = await startLab();
  });
  afterEach(async () => {
    lab.configure({ ...DEFAULT_BEHAVIOUR, scopes: [...DEFAULT_BEHAVIOUR.scopes] });
    await Promise.all(extra.splice(0).map((l) => l.close()));
  });
  after(async () => {
    await lab?.close();
  });

  it('resourceMetadataLocation: path-aware, root, both or neither well-known URL serves RFC 9728 metadata', async () => {
    const expected: Record<LabBehaviour['resourceMetadataLocation'], [number, number]> = { both: [200, 200], path: [200, 404], root: [404, 200], none: [404, 404] };
    for (const [location, statuses] of Object.entries(expected)) {
      lab.configure({ resourceMetadataLocation: location as LabBehaviour['resourceMetadataLocation'] });
      const got = [];
      for (const url of prmUrls(lab)) {
        const res = await get(url);
        assert.equal(res.headers.get('content-type'), 'application/json', `${location} ${url}`);
        const body = await json(res);
        if (res.status === 200) assert.equal(body.resource, lab.mcpUrl);
        got.push(res.status);
      }
      assert.deepEqual(got, statuses, location);
    }
  });

  it('challenge: Bearer with resource_metadata, Bearer without it, Basic, or no WWW-Authenticate', async () => {
    const cases: [LabBehaviour['challenge'], (h: string | null) => void][] = [
      ['bearer', (h) => assert.equal(h, `Bearer resource_metadata="${lab.protectedResourceMetadataUrl}"`)],
      ['bearer-without-metadata', (h) => assert.equal(h, 'Bearer')],
      ['basic', (h) => assert.equal(h, 'Basic realm="lab"')],
      ['none', (h) => assert.equal(h, null)],
    ];
    for (const [challenge, check] of cases) {
      lab.configure({ challenge });
      const res = await initialize(lab);
      assert.equal(res.status, 401, challenge);
      check(res.headers.get('www-authenticate'));
    }
    lab.configure({ challenge: 'bearer-without-metadata' });
    const forged = await initialize(lab, { token: 'not-a-token-the-lab-issued' });
    assert.equal(forged.status, 401);
    const header = forged.headers.get('www-authenticate') ?? '';
    assert.match(header, /^Bearer error="invalid_token"/);
    assert.doesNotMatch(header, /resource_metadata/);
  });

  it('advertisedResource: the metadata names mcpUrl, its origin, mcpUrl with a slash, or another host', async () => {
    const origin = new URL(lab.mcpUrl).origin;
    const port = new URL(lab.mcpUrl).port;
    const expected: Record<LabBehaviour['advertisedResource'], string> = {
      exact: lab.mcpUrl,
      origin,
      'trailing-slash': `${lab.mcpUrl}/`,
      'other-host': `http://localhost:${port}/mcp`,
    };
    for (const [advertised, resource] of Object.entries(expected)) {
      lab.configure({ advertisedResource: advertised as LabBehaviour['advertisedResource'] });
      for (const url of prmUrls(lab)) assert.equal((await json(await get(url))).resource, resource, `${advertised} ${url}`);
    }
    assert.equal(origin, `http://127.0.0.1:${port}`);
  });

  it('resourceMetadataAuthorizationServers: the metadata sends clients to the lab AS or to the canary', async () => {
    assert.deepEqual((await json(await get(lab.protectedResourceMetadataUrl))).authorization_servers, [lab.issuer]);
    lab.configure({ resourceMetadataAuthorizationServers: 'canary' });
    assert.notEqual(new URL(lab.canary.origin).port, new URL(lab.issuer).port);
    for (const url of prmUrls(lab)) assert.deepEqual((await json(await get(url))).authorization_servers, [lab.canary.origin], url);
  });

  it("advertisedIssuer: both AS documents carry the wrong issuer while the AS's real one keeps working", async () => {
    const port = new URL(lab.issuer).port;
    const expected: Record<LabBehaviour['advertisedIssuer'], string> = { exact: lab.issuer, 'trailing-slash': `${lab.issuer}/`, other: `http://localhost:${port}` };
    for (const [advertised, issuer] of Object.entries(expected)) {
      lab.configure({ advertisedIssuer: advertised as LabBehaviour['advertisedIssuer'] });
      for (const url of asMetadataUrls(lab)) assert.equal((await json(await get(url))).issuer, issuer, `${advertised} ${url}`);
    }
    // Only the document lies: tokens are still minted and accepted under the real issuer.
    const t = await lab.mintTokens();
    assert.equal((await initialize(lab, { token: t.accessToken })).status, 200);
  });

  it('codeChallengeMethods: S256 as oidc-provider says, plain only, or no field', async () => {
    const expected: Record<LabBehaviour['codeChallengeMethods'], string[] | undefined> = { S256: ['S256'], 'plain-only': ['plain'], absent: undefined };
    for (const [methods, supported] of Object.entries(expected)) {
      lab.configure({ codeChallengeMethods: methods as LabBehaviour['codeChallengeMethods'] });
      for (const url of asMetadataUrls(lab)) {
        const doc = await json(await get(url));
        assert.deepEqual(doc.code_challenge_methods_supported, supported, `${methods} ${url}`);
        assert.equal('code_challenge_methods_supported' in doc, supported !== undefined);
      }
    }
  });

  it('openIdConfiguration and authorizationServerMetadata: OIDC only, RFC 8414 only, or no AS metadata at all', async () => {
    const statuses = async () => Promise.all(asMetadataUrls(lab).map(async (u) => (await get(u)).status));
    assert.deepEqual(await statuses(), [200, 200]);
    lab.configure({ authorizationServerMetadata: false });
    assert.deepEqual(await statuses(), [404, 200]);
    lab.configure({ authorizationServerMetadata: true, openIdConfiguration: false });
    assert.deepEqual(await statuses(), [200, 404]);
    lab.configure({ authorizationServerMetadata: false });
    assert.deepEqual(await statuses(), [404, 404]);
  });

  it('requiredScope: a good token without the scope gets 403 insufficient_scope naming it; one with it gets in', async () => {
    const t = await lab.mintTokens(); // scope mcp:tools offline_access
    lab.configure({ requiredScope: 'mcp:admin' });
    const refused = await initialize(lab, { token: t.accessToken });
    assert.equal(refused.status, 403);
    assert.equal(
      refused.headers.get('www-authenticate'),
      `Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="${lab.protectedResourceMetadataUrl}"`,
    );
    assert.equal(lab.mcpRequests().forbidden, 1);
    lab.configure({ requiredScope: undefined });
    assert.equal((await initialize(lab, { token: t.accessToken })).status, 200);

    const wide = await open({ scopes: ['mcp:tools', 'mcp:admin'], requiredScope: 'mcp:admin' });
    const narrow = await wide.mintTokens({ scope: 'mcp:tools offline_access' });
    assert.equal((await initialize(wide, { token: narrow.accessToken })).status, 403);
    const full = await wide.mintTokens();
    assert.match(full.scope, /mcp:admin/);
    assert.equal((await initialize(wide, { token: full.accessToken })).status, 200);
  });

  it('mcpEndpoint: public, WAF 403, HTML 404, 405, 503 and a redirect to the canary, before any token check', async () => {
    lab.configure({ mcpEndpoint: 'public' });
    const pub = await initialize(lab);
    assert.equal(pub.status, 200);
    const result = (await json(pub)).result as { serverInfo?: { name?: string } };
    assert.equal(result.serverInfo?.name, 'mcp-auth-doctor-lab', 'a real MCP initialize result without any token');

    const cases: [LabBehaviour['mcpEndpoint'], number, RegExp, RegExp][] = [
      ['forbidden', 403, /^text\/html/, /^<!DOCTYPE html>[\s\S]*Access denied/],
      ['html-404', 404, /^text\/html/, /^<!DOCTYPE html>[\s\S]*Not Found/],
      ['method-not-allowed', 405, /^text\/plain/, /Method Not Allowed/],
      ['server-error', 503, /^text\/plain/, /Service Unavailable/],
    ];
    for (const [mcpEndpoint, status, type, body] of cases) {
      lab.configure({ mcpEndpoint });
      const res = await initialize(lab, { token: 'any' });
      assert.equal(res.status, status, mcpEndpoint);
      assert.match(res.headers.get('content-type') ?? '', type, mcpEndpoint);
      assert.equal(res.headers.get('www-authenticate'), null, mcpEndpoint);
      assert.match(await res.text(), body, mcpEndpoint);
      if (mcpEndpoint === 'method-not-allowed') assert.equal(res.headers.get('allow'), 'GET');
    }

    lab.configure({ mcpEndpoint: 'redirect' });
    const canarySeen = lab.canary.requests().length;
    const moved = await initialize(lab);
    assert.equal(moved.status, 302);
    assert.equal(moved.headers.get('location'), `${lab.canary.origin}/mcp`);
    assert.equal(lab.canary.requests().length, canarySeen, 'a client that does not follow the redirect never reaches the canary');
  });

  it('oversized: the MCP endpoint and both metadata URLs stream well over 2 MiB of JSON', async () => {
    lab.configure({ mcpEndpoint: 'oversized', metadataEndpoint: 'oversized' });
    const bodies = [await initialize(lab), ...(await Promise.all(prmUrls(lab).map((u) => get(u))))];
    for (const res of bodies) {
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.equal(res.headers.get('content-length'), null, 'streamed, not announced');
      const text = await res.text();
      assert.ok(Buffer.byteLength(text) > 2 * MiB, `${Buffer.byteLength(text)} bytes`);
      assert.ok(Buffer.byteLength(text) < 4 * MiB, `${Buffer.byteLength(text)} bytes`);
      assert.equal(typeof JSON.parse(text), 'object', 'the oversized body is still one JSON document');
    }
  });

  it('metadataEndpoint: an SPA-style HTML 404 and a redirect to the canary at both well-known URLs', async () => {
    lab.configure({ metadataEndpoint: 'html-404' });
    for (const url of prmUrls(lab)) {
      const res = await get(url);
      assert.equal(res.status, 404);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await res.text(), /^<!DOCTYPE html>/);
    }
    lab.configure({ metadataEndpoint: 'redirect' });
    for (const url of prmUrls(lab)) {
      const res = await get(url);
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), `${lab.canary.origin}/.well-known/oauth-protected-resource/mcp`);
    }
  });

  it('hang: the MCP endpoint and the metadata never answer, and close() still ends at once', async () => {
    const hung = await open({ mcpEndpoint: 'hang', metadataEndpoint: 'hang' });
    await assert.rejects(initialize(hung, { signal: AbortSignal.timeout(1000) }), { name: 'TimeoutError' });
    await assert.rejects(get(hung.protectedResourceMetadataUrl, AbortSignal.timeout(1000)), { name: 'TimeoutError' });
    // Two requests still hanging when the lab closes: close() drops them.
    const pending = [initialize(hung, { signal: AbortSignal.timeout(15_000) }), get(rootPrmUrl(hung), AbortSignal.timeout(15_000))];
    const outcomes = Promise.allSettled(pending);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await hung.close();
    const took = Date.now() - started;
    assert.ok(took < 2000, `close() took ${took} ms`);
    for (const o of await outcomes) assert.equal(o.status, 'rejected', 'the hanging request ends with the lab, unanswered');
  });

  it('the canary answers tempting JSON and counts every request that carried a token', async () => {
    const { canary } = lab;
    const before = canary.tokensReceived();
    const prm = await json(await get(`${canary.origin}/.well-known/oauth-protected-resource/mcp`));
    assert.deepEqual(prm.authorization_servers, [canary.origin]);
    const as = await json(await get(`${canary.origin}/.well-known/oauth-authorization-server`));
    assert.equal(as.issuer, canary.origin);
    assert.equal(as.token_endpoint, `${canary.origin}/token`);
    assert.deepEqual(await json(await get(`${canary.origin}/anything`)), {});
    // A registration names refresh_token as a grant type: a value, not a token.
    await fetch(`${canary.origin}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_types: ['refresh_token'] }) });
    assert.equal(canary.tokensReceived(), before, 'metadata fetches and a registration carry no token');

    await fetch(`${canary.origin}/mcp`, { method: 'POST', headers: { authorization: 'Bearer canary-test-value' }, body: '{}' });
    await fetch(`${canary.origin}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x' });
    await get(`${canary.origin}/cb?access_token=x`);
    await fetch(`${canary.origin}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ nested: { access_token: 'x' } }) });
    assert.equal(canary.tokensReceived(), before + 4);
    const last = canary.requests().slice(-4);
    assert.deepEqual(
      last.map((r) => [r.method, r.path, r.hasAuthorization]),
      [
        ['POST', '/mcp', true],
        ['POST', '/token', false],
        ['GET', '/cb', false],
        ['POST', '/json', false],
      ],
    );
  });

  for (const format of ['jwt', 'opaque'] as const) {
    it(`revoke (${format} access tokens): a revoked refresh token gets invalid_grant, a revoked access token 401 invalid_token`, async () => {
      const l = await open({ accessTokenFormat: format });
      const a = await l.mintTokens();
      assert.ok(a.refreshToken);
      assert.equal((await initialize(l, { token: a.accessToken })).status, 200);
      await l.revoke(a.accessToken);
      const afterRevoke = await initialize(l, { token: a.accessToken });
      assert.equal(afterRevoke.status, 401);
      assert.match(afterRevoke.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      // The AS's revocation ends an opaque token's grant; a JWT is only on the MCP server's deny list.
      const sameGrant = await l.refresh(a.clientId, a.refreshToken);
      if (format === 'opaque') assert.equal(sameGrant.error, 'invalid_grant');
      else assert.ok(sameGrant.tokens, `refresh after revoking a JWT: ${sameGrant.error}`);

      const b = await l.mintTokens();
      assert.ok(b.refreshToken);
      await l.revoke(b.refreshToken);
      const refused = await l.refresh(b.clientId, b.refreshToken);
      assert.equal(refused.status, 400);
      assert.equal(refused.error, 'invalid_grant');
      // RFC 7009 at oidc-provider ends the grant: its opaque access token dies too; a JWT lives on to its exp.
      assert.equal((await initialize(l, { token: b.accessToken })).status, format === 'opaque' ? 401 : 200);
    });
  }

  it('requestsSeen, registrationRequests and tokenEndpointRequests count what each server received', async () => {
    const l = await open();
    assert.deepEqual([l.registrationRequests(), l.tokenEndpointRequests()], [0, 0], 'start-up itself is not counted');
    assert.deepEqual(l.requestsSeen().authorizationServer, {});
    const t = await l.mintTokens();
    assert.deepEqual([l.registrationRequests(), l.tokenEndpointRequests()], [1, 1]);
    await l.refresh(t.clientId, t.refreshToken ?? '');
    assert.equal(l.tokenEndpointRequests(), 2);
    l.configure({ dynamicRegistration: false });
    const refused = await fetch(`${l.issuer}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(refused.status, 404);
    assert.equal(l.registrationRequests(), 2, 'a refused registration still counts');
    await initialize(l);
    await get(l.protectedResourceMetadataUrl);
    const seen = l.requestsSeen();
    assert.equal(seen.mcpServer['/mcp'], 1);
    assert.equal(seen.mcpServer['/.well-known/oauth-protected-resource/mcp'], 1);
    assert.equal(seen.authorizationServer['/token'], 2);
  });

  it('cli.ts --behaviour key=value starts a misbehaving lab', async () => {
    const root = path.resolve(__dirname, '../..');
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/lab/cli.ts', '--json', '--behaviour', 'challenge=basic', '--behaviour', 'resourceMetadataLocation="none"'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error('cli.ts printed no JSON line within 15 s')), 15_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const nl = out.indexOf('\n');
          if (nl >= 0) {
            clearTimeout(timer);
            resolve(out.slice(0, nl));
          }
        });
        child.on('exit', () => reject(new Error('cli.ts exited before printing its URLs')));
      });
      const started = JSON.parse(line) as { mcpUrl: string; protectedResourceMetadataUrl: string; canary: string };
      const res = await fetch(started.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: INITIALIZE, signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Basic realm="lab"');
      assert.equal((await get(started.protectedResourceMetadataUrl)).status, 404);
      assert.match(started.canary, /^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });
});
