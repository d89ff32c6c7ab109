// What the guided flow records of an exchange (src/core/guided/recorder.ts): everything a user
// needs to follow it, and never a secret: Authorization (Bearer and Basic), cookies, the config's
// own header values, an API key in the server URL's query, the OAuth parameters that carry
// secrets in URLs, form and JSON bodies, and any secret seen once, wherever it shows up again.
// The fetch is a stub answering in memory (secrets minted at test time); no network.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { recordingHttp, Redactor } from '../../src/core/guided/recorder';
import type { RecordedExchange } from '../../src/core/guided/steps';
import type { FetchLike } from '../../src/core/probe/http';
import { fingerprint } from '../../src/core/storageKey';

const mint = () => randomBytes(24).toString('base64url');

function record(redactor: Redactor, answer: (url: string, init?: RequestInit) => Response) {
  const seen: RecordedExchange[] = [];
  const fetch: FetchLike = async (input, init) => answer(String(input), init);
  const rec = recordingHttp({ fetch, timeoutMs: 2000, maxBodyBytes: 1 << 20 }, redactor, (e) => seen.push(e));
  return { http: rec.http, seen, settled: rec.settled };
}

describe('the guided flow’s exchange recorder', () => {
  it('fingerprints the token request: Basic credentials, code, verifier and client secret in the form, tokens in the answer', async () => {
    const [code, verifier, secret, access, refresh, idToken] = [mint(), mint(), mint(), mint(), mint(), mint()];
    const r = record(new Redactor(), () =>
      Response.json({ access_token: access, refresh_token: refresh, id_token: idToken, token_type: 'Bearer', expires_in: 3600, scope: 'mcp:tools' }, { headers: { 'set-cookie': `sid=${mint()}` } }),
    );
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_secret: secret, redirect_uri: 'http://127.0.0.1:5555/callback' });
    const res = await r.http.fetch('http://127.0.0.1:4000/token', {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`client:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    assert.equal(((await res.json()) as { access_token: string }).access_token, access, 'the caller still reads the real answer');
    await r.settled();
    const [e] = r.seen;
    assert.ok(e);
    assert.match(e.requestHeaders.authorization ?? '', /^Basic \[redacted sha256:[0-9a-f]{12}\]$/);
    assert.equal(e.responseHeaders['set-cookie']?.startsWith('[redacted sha256:'), true);
    assert.ok(e.requestBody?.includes(`code=[redacted ${fingerprint(code)}]`), e.requestBody);
    assert.ok(e.requestBody?.includes(`code_verifier=[redacted ${fingerprint(verifier)}]`));
    assert.ok(e.requestBody?.includes(`client_secret=[redacted ${fingerprint(secret)}]`));
    assert.ok(e.requestBody?.includes('redirect_uri=http://127.0.0.1:5555/callback'), 'what is not secret is shown');
    for (const [name, value] of [['access_token', access], ['refresh_token', refresh], ['id_token', idToken]] as const) {
      assert.ok(e.responseBody?.includes(`"${name}": "[redacted ${fingerprint(value)}]"`), `${name}: ${e.responseBody}`);
    }
    assert.ok(e.responseBody?.includes('"scope": "mcp:tools"'));
    const all = JSON.stringify(r.seen);
    for (const s of [code, verifier, secret, access, refresh, idToken]) assert.ok(!all.includes(s), `${fingerprint(s)} shows`);
  });

  it('keeps the config’s header values and the server URL’s query out, and masks a code in a redirect', async () => {
    const apiKey = mint();
    const queryKey = mint();
    const code = mint();
    const serverUrl = `http://127.0.0.1:4100/mcp?key=${queryKey}`;
    const redactor = new Redactor({ headers: { 'X-Api-Key': apiKey }, serverUrl });
    const r = record(redactor, (url) =>
      url.startsWith('http://127.0.0.1:4100/mcp')
        ? new Response(`<html><body>your key ${queryKey} is wrong</body></html>`, { status: 401, headers: { 'content-type': 'text/html', 'www-authenticate': 'Bearer resource_metadata="http://127.0.0.1:4100/.well-known/oauth-protected-resource/mcp"' } })
        : new Response(null, { status: 303, headers: { location: `http://127.0.0.1:5555/callback?code=${code}&state=abc` } }),
    );
    const answered = await r.http.fetch(serverUrl, { method: 'POST', headers: { 'X-Api-Key': apiKey, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"initialize"}' });
    assert.match(await answered.text(), /your key/, 'the caller reads the body as it was sent');
    await r.http.fetch('http://127.0.0.1:4000/auth?client_id=c&state=abc&code_challenge=xyz', { redirect: 'manual' });
    await r.settled();
    const [mcp, auth] = r.seen;
    assert.equal(mcp?.url, 'http://127.0.0.1:4100/mcp?key=***');
    assert.equal(mcp?.requestHeaders['x-api-key'], `[redacted ${fingerprint(apiKey)}]`);
    assert.match(mcp?.responseHeaders['www-authenticate'] ?? '', /^Bearer resource_metadata=/, 'protocol headers are shown');
    assert.ok(mcp?.responseBody?.includes(`your key [redacted ${fingerprint(queryKey)}] is wrong`), mcp?.responseBody);
    assert.equal(auth?.url, 'http://127.0.0.1:4000/auth?client_id=c&state=abc&code_challenge=xyz', 'state and code_challenge are not secrets');
    assert.equal(auth?.responseHeaders.location, `http://127.0.0.1:5555/callback?code=[redacted ${fingerprint(code)}]&state=abc`);
    assert.ok(!redactor.text(`later: ${code}`).includes(code), 'a code seen once is scrubbed wherever it shows again');
    const all = JSON.stringify(r.seen);
    for (const s of [apiKey, queryKey, code]) assert.ok(!all.includes(s), `${fingerprint(s)} shows`);
  });

  it('fingerprints a registration’s client secret and registration access token, and caps a long body', async () => {
    const secret = mint();
    const rat = mint();
    const r = record(new Redactor(), (url) =>
      url.endsWith('/reg')
        ? Response.json({ client_id: 'abc', client_secret: secret, registration_access_token: rat, client_name: 'MCP Auth Doctor (for Codex)' }, { status: 201 })
        : new Response('x'.repeat(50_000), { headers: { 'content-type': 'text/plain' } }),
    );
    await (await r.http.fetch('http://127.0.0.1:4000/reg', { method: 'POST', body: '{"client_name":"MCP Auth Doctor (for Codex)"}', headers: { 'content-type': 'application/json' } })).json();
    assert.equal((await (await r.http.fetch('http://127.0.0.1:4000/big')).text()).length, 50_000, 'the caller gets the whole body');
    await r.settled();
    const [reg, big] = r.seen;
    assert.ok(reg?.responseBody?.includes(`"client_secret": "[redacted ${fingerprint(secret)}]"`));
    assert.ok(reg?.responseBody?.includes(`"registration_access_token": "[redacted ${fingerprint(rat)}]"`));
    assert.ok(reg?.responseBody?.includes('"client_id": "abc"'));
    assert.ok((big?.responseBody?.length ?? 0) < 10_000, `a ${big?.responseBody?.length}-character body is shown whole`);
    assert.match(big?.responseBody ?? '', /more characters not shown\)$/);
  });

  it('records only what the caller read: a body it discards is shown as none, one it cuts after the first event as that event', async () => {
    const r = record(new Redactor(), (url) =>
      url.endsWith('/sse')
        ? new Response(
            new ReadableStream({
              start(c) {
                // An event stream that stays open after its first event, as an MCP server's may.
                c.enqueue(new TextEncoder().encode('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n'));
              },
            }),
            { headers: { 'content-type': 'text/event-stream' } },
          )
        : new Response('unread', { status: 404 }),
    );
    const discarded = await r.http.fetch('http://127.0.0.1:4000/gone');
    await discarded.body?.cancel();
    const stream = await r.http.fetch('http://127.0.0.1:4000/sse');
    const reader = stream.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /^event: message/);
    await reader.cancel();
    const started = Date.now();
    await r.settled();
    assert.ok(Date.now() - started < 1000, 'settled() does not wait for a stream the caller has let go');
    assert.equal(r.seen[0]?.responseBody, undefined);
    assert.match(r.seen[1]?.responseBody ?? '', /^event: message\ndata: \{"jsonrpc"/);
  });

  it('records a request that got no answer, with the reason', async () => {
    const r = record(new Redactor(), () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    });
    await assert.rejects(r.http.fetch('http://127.0.0.1:1/mcp'), /fetch failed/);
    assert.equal(r.seen[0]?.outcome, 'network-error');
    assert.equal(r.seen[0]?.error, 'ECONNREFUSED: fetch failed');
  });
});
