// The lab is a real OAuth authorization server and a real MCP server: what the client tests rely
// on is checked here with a plain OAuth client and the MCP SDK's own client.
import { strict as assert } from 'node:assert';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startLab, type Lab } from '../lab';
import { authorizationCodeFlow, authorizationUrl, discover, pkcePair, registerClient } from '../lab/oauthClient';

const REDIRECT = 'http://127.0.0.1:1/callback';

/** tools/list through the SDK's Streamable HTTP client with a bearer token. */
async function listTools(lab: Lab, accessToken: string): Promise<string[]> {
  const client = new Client({ name: 'lab-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(lab.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${accessToken}` } } }));
  try {
    return (await client.listTools()).tools.map((t) => t.name).sort();
  } finally {
    await client.close();
  }
}

async function callWhoami(lab: Lab, accessToken: string): Promise<{ clientId?: string; scopes?: string[] }> {
  const client = new Client({ name: 'lab-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(lab.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${accessToken}` } } }));
  try {
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const content = result.content as { type: string; text: string }[];
    return JSON.parse(content[0]?.text ?? '{}');
  } finally {
    await client.close();
  }
}

/** A bare MCP initialize POST, to read the status and challenge a client sees. */
function initialize(lab: Lab, accessToken?: string): Promise<Response> {
  return fetch(lab.mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'lab-test', version: '1' } } }),
    signal: AbortSignal.timeout(5000),
  });
}

describe('lab: loopback authorization server and MCP server', function () {
  this.timeout(60_000);
  const labs: Lab[] = [];
  const open = async (options: Parameters<typeof startLab>[0] = {}) => {
    const lab = await startLab(options);
    labs.push(lab);
    return lab;
  };
  afterEach(async () => {
    await Promise.all(labs.splice(0).map((l) => l.close()));
  });

  for (const format of ['jwt', 'opaque'] as const) {
    it(`a code flow with PKCE S256 and resource gives a ${format} token the MCP server accepts`, async () => {
      const lab = await open({ accessTokenFormat: format });
      const metadata = await discover(lab.issuer);
      const { client_id } = await registerClient(metadata, { redirect_uris: [REDIRECT], client_name: 'lab test' });
      assert.equal(lab.registrations(), 1);

      const r = await authorizationCodeFlow(metadata, { clientId: client_id, redirectUri: REDIRECT, scope: 'mcp:tools offline_access', resource: lab.mcpUrl });
      assert.ok(r.tokens, `token request failed: ${r.error} ${r.errorDescription ?? ''}`);
      assert.equal(r.tokens.token_type, 'Bearer');
      assert.ok(r.tokens.refresh_token, 'a refresh token is issued');
      assert.equal(r.tokens.expires_in, 3600);
      if (format === 'jwt') assert.equal(r.tokens.access_token.split('.').length, 3);
      else assert.notEqual(r.tokens.access_token.split('.').length, 3);

      assert.deepEqual(await listTools(lab, r.tokens.access_token), ['echo', 'whoami']);
      const who = await callWhoami(lab, r.tokens.access_token);
      assert.equal(who.clientId, client_id, 'the MCP server sees the token of the client that logged in');
      assert.deepEqual(who.scopes, ['mcp:tools']);
      assert.equal(lab.tokensIssued(), 1);
      assert.equal(lab.mcpRequests().rejected, 0);
    });
  }

  it('without a good token the MCP server answers 401 and points at its RFC 9728 metadata, which names the AS', async () => {
    const lab = await open();
    const anonymous = await initialize(lab);
    assert.equal(anonymous.status, 401);
    const challenge = anonymous.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.ok(challenge.includes(`resource_metadata="${lab.protectedResourceMetadataUrl}"`), challenge);
    assert.equal(lab.protectedResourceMetadataUrl, `${new URL(lab.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`);

    const forged = await initialize(lab, 'not-a-token-the-lab-issued');
    assert.equal(forged.status, 401);
    assert.match(forged.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

    for (const url of [lab.protectedResourceMetadataUrl, `${new URL(lab.mcpUrl).origin}/.well-known/oauth-protected-resource`]) {
      const prm = (await (await fetch(url)).json()) as Record<string, unknown>;
      assert.equal(prm.resource, lab.mcpUrl, url);
      assert.deepEqual(prm.authorization_servers, [lab.issuer], url);
      assert.deepEqual(prm.scopes_supported, ['mcp:tools'], url);
    }

    const as = await discover(lab.issuer);
    assert.equal(as.issuer, lab.issuer);
    assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
    assert.ok(as.registration_endpoint, 'DCR is advertised');
    const oidc = (await (await fetch(`${lab.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(oidc.token_endpoint, as.token_endpoint, 'OpenID discovery and RFC 8414 describe the same AS');
  });

  it('refuses an authorization request without PKCE and one for another resource', async () => {
    const lab = await open();
    const metadata = await discover(lab.issuer);
    const { client_id } = await registerClient(metadata, { redirect_uris: [REDIRECT] });
    const noPkce = new URL(authorizationUrl(metadata, { clientId: client_id, redirectUri: REDIRECT, state: 's', codeChallenge: pkcePair().challenge }));
    noPkce.searchParams.delete('code_challenge');
    noPkce.searchParams.delete('code_challenge_method');
    const refused = new URL(await lab.approve(noPkce.href));
    assert.equal(refused.searchParams.get('error'), 'invalid_request');
    assert.match(refused.searchParams.get('error_description') ?? '', /PKCE/);

    const other = await authorizationCodeFlow(metadata, { clientId: client_id, redirectUri: REDIRECT, resource: 'https://other.example/mcp', scope: 'mcp:tools' });
    assert.equal(other.error, 'invalid_target');
    assert.equal(lab.tokensIssued(), 0);
  });

  it("a token from another lab's authorization server is refused", async () => {
    const [a, b] = [await open(), await open()];
    const fromA = await a.mintTokens();
    assert.deepEqual(await listTools(a, fromA.accessToken), ['echo', 'whoami']);
    const atB = await initialize(b, fromA.accessToken);
    assert.equal(atB.status, 401);
    assert.equal(b.mcpRequests().rejected, 1);
  });

  it('rotation on: a refresh returns a new refresh token and the old one then fails', async () => {
    const lab = await open({ rotateRefreshTokens: true });
    const t = await lab.mintTokens();
    assert.ok(t.refreshToken);
    const first = await lab.refresh(t.clientId, t.refreshToken);
    assert.ok(first.tokens?.refresh_token, `refresh failed: ${first.error}`);
    assert.notEqual(first.tokens.refresh_token, t.refreshToken, 'the refresh token rotated');
    assert.deepEqual(await listTools(lab, first.tokens.access_token), ['echo', 'whoami']);

    const reuse = await lab.refresh(t.clientId, t.refreshToken);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.error, 'invalid_grant');
    // Reuse of a rotated-out token revokes the whole grant (refresh-token replay protection).
    const after = await lab.refresh(t.clientId, first.tokens.refresh_token);
    assert.equal(after.error, 'invalid_grant');
    assert.equal(lab.refreshes(), 1);
  });

  it('rotation off: the same refresh token works twice', async () => {
    const lab = await open({ rotateRefreshTokens: false });
    const t = await lab.mintTokens();
    assert.ok(t.refreshToken);
    for (let i = 0; i < 2; i++) {
      const r = await lab.refresh(t.clientId, t.refreshToken);
      assert.ok(r.tokens, `refresh ${i + 1} failed: ${r.error}`);
      assert.equal(r.tokens.refresh_token ?? t.refreshToken, t.refreshToken);
    }
    assert.equal(lab.refreshes(), 2);
  });

  it('a short access-token TTL: the token stops working, a refresh gives one that works', async () => {
    const lab = await open({ accessTokenTtl: 2 });
    const t = await lab.mintTokens();
    assert.equal(t.expiresIn, 2);
    assert.equal((await initialize(lab, t.accessToken)).status, 200);
    await new Promise((r) => setTimeout(r, 2500));
    const expired = await initialize(lab, t.accessToken);
    assert.equal(expired.status, 401);
    assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const refreshed = await lab.refresh(t.clientId, t.refreshToken ?? '');
    assert.ok(refreshed.tokens, `refresh failed: ${refreshed.error}`);
    assert.equal((await initialize(lab, refreshed.tokens.access_token)).status, 200);
  });

  it('registrations() counts DCR registrations; with DCR off there is no endpoint to call', async () => {
    const lab = await open();
    const metadata = await discover(lab.issuer);
    await registerClient(metadata, { redirect_uris: [REDIRECT] });
    await registerClient(metadata, { redirect_uris: ['http://localhost:3118/callback'], client_name: 'second' });
    assert.equal(lab.registrations(), 2);
    assert.deepEqual(lab.clients().map((c) => c.redirectUris[0]).sort(), ['http://127.0.0.1:1/callback', 'http://localhost:3118/callback']);

    lab.configure({ dynamicRegistration: false });
    assert.equal((await discover(lab.issuer)).registration_endpoint, undefined);
    const res = await fetch(metadata.registration_endpoint ?? '', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT] }) });
    assert.equal(res.status, 404);
    assert.equal(lab.registrations(), 2);
  });

  it('close() frees both ports', async () => {
    const lab = await startLab();
    await lab.mintTokens();
    await lab.close();
    for (const url of [lab.mcpUrl, `${lab.issuer}/.well-known/oauth-authorization-server`]) {
      await assert.rejects(fetch(url, { signal: AbortSignal.timeout(2000) }), url);
    }
  });
});
