// Repairs post refresh tokens, codes and client secrets to whatever endpoints the authorization
// server's metadata names. Those endpoints get the probe's URL rules too: a metadata document
// pointing its token endpoint at a cloud metadata address (or carrying credentials in the URL)
// gets no request at all, and the user is told why.
import { strict as assert } from 'node:assert';
import * as oauth from 'oauth4webapi';
import { DEFAULT_MAX_BODY_BYTES, type HttpSettings } from '../../../src/core/probe/http';
import { RefusedRequest, classifyTokenError, requestOptionsFor } from '../../../src/core/repair/tokenClient';

describe('repair requests: the URL rules before anything is sent', () => {
  const client: oauth.Client = { client_id: 'c' };

  function spyHttp(): { http: HttpSettings; urls: string[] } {
    const urls: string[] = [];
    const http: HttpSettings = {
      fetch: async (input) => {
        urls.push(String(input));
        return new Response('{"access_token":"a","token_type":"bearer"}', { status: 200, headers: { 'content-type': 'application/json' } });
      },
      timeoutMs: 2000,
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    };
    return { http, urls };
  }

  for (const tokenEndpoint of ['https://169.254.169.254/latest/api/token', 'https://[::ffff:169.254.169.254]/token', 'https://[fe80::1]/token', 'https://user:secret@as.example/token']) {
    it(`sends no refresh token to ${tokenEndpoint}, and says why`, async () => {
      const { http, urls } = spyHttp();
      const as: oauth.AuthorizationServer = { issuer: 'https://as.example', token_endpoint: tokenEndpoint };
      const err = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), 'rt-never-sent', requestOptionsFor(tokenEndpoint, http)).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof RefusedRequest, `expected a refusal, got ${String(err)}`);
      assert.deepEqual(urls, [], 'a request went out');
      const said = await classifyTokenError(err, tokenEndpoint, http);
      assert.equal(said.transient, false, 'a retry would be refused the same way');
      assert.match(said.words, tokenEndpoint.includes('@') ? /was not contacted: it carries a user name or password/ : /was not contacted: it points at a link-local address/);
      assert.doesNotMatch(said.words, /secret/, 'the URL\'s password is not repeated');
    });
  }

  it('lets an https token endpoint and a loopback http one through', async () => {
    for (const tokenEndpoint of ['https://as.example/token', 'http://127.0.0.1:4000/token']) {
      const { http, urls } = spyHttp();
      const as: oauth.AuthorizationServer = { issuer: 'https://as.example', token_endpoint: tokenEndpoint };
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), 'rt', requestOptionsFor(tokenEndpoint, http));
      assert.deepEqual(urls, [tokenEndpoint]);
    }
  });
});
