import { strict as assert } from 'node:assert';
import { authorizationServerMetadataUrls, compareResource, protectedResourceMetadataUrls, redactUrl, refusalFor } from '../../../src/core/probe/urls';

describe('probe URL rules', () => {
  it('builds RFC 9728 well-known URLs: path-aware first, then root (2025-11-25 order)', () => {
    assert.deepEqual(
      protectedResourceMetadataUrls(new URL('https://example.com/public/mcp')).map((c) => c.url),
      ['https://example.com/.well-known/oauth-protected-resource/public/mcp', 'https://example.com/.well-known/oauth-protected-resource'],
    );
    assert.deepEqual(protectedResourceMetadataUrls(new URL('https://example.com/')).map((c) => c.source), ['root']);
  });

  it('builds RFC 8414 / OpenID URLs in the spec order, with and without an issuer path', () => {
    assert.deepEqual(
      authorizationServerMetadataUrls(new URL('https://auth.example.com/tenant1')).map((c) => c.url),
      [
        'https://auth.example.com/.well-known/oauth-authorization-server/tenant1',
        'https://auth.example.com/.well-known/openid-configuration/tenant1',
        'https://auth.example.com/tenant1/.well-known/openid-configuration',
      ],
    );
    assert.deepEqual(
      authorizationServerMetadataUrls(new URL('https://auth.example.com')).map((c) => c.kind),
      ['oauth', 'oidc'],
    );
  });

  it('compares a metadata resource the way RFC 9728 §3.3 and the SDK each do', () => {
    assert.equal(compareResource('https://a.example/mcp', 'https://a.example/mcp').match, 'identical');
    assert.equal(compareResource('HTTPS://A.example/mcp', 'https://a.example/mcp').match, 'equivalent');
    const slash = compareResource('https://a.example/mcp/', 'https://a.example/mcp');
    assert.equal(slash.match, 'trailing-slash');
    const parent = compareResource('https://a.example', 'https://a.example/mcp');
    assert.equal(parent.match, 'prefix');
    assert.equal(parent.sdkAccepts, true);
    const other = compareResource('https://b.example/mcp', 'https://a.example/mcp');
    assert.equal(other.match, 'mismatch');
    assert.equal(other.sdkAccepts, false);
    assert.equal(compareResource('http://a.example/mcp', 'https://a.example/mcp').match, 'mismatch');
    assert.equal(compareResource('https://a.example/mcp#x', 'https://a.example/mcp').match, 'invalid');
  });

  it('refuses plain http off loopback, link-local hosts and URLs with credentials', () => {
    assert.equal(refusalFor(new URL('http://example.com/mcp')), 'insecure');
    assert.equal(refusalFor(new URL('http://127.0.0.1:3000/mcp')), undefined);
    assert.equal(refusalFor(new URL('http://[::1]:3000/mcp')), undefined);
    assert.equal(refusalFor(new URL('http://localhost/mcp')), undefined);
    assert.equal(refusalFor(new URL('https://169.254.169.254/latest')), 'link-local');
    assert.equal(refusalFor(new URL('https://user:pw@example.com/')), 'credentials-in-url');
    assert.equal(refusalFor(new URL('file:///etc/passwd')), 'not-http');
  });

  it('masks query values and user info when it prints a URL', () => {
    assert.equal(redactUrl('https://u:p@example.com/mcp?key=SECRET&x=1#frag'), 'https://***@example.com/mcp?key=***&x=***');
  });
});
