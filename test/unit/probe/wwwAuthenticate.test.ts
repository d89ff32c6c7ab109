import { strict as assert } from 'node:assert';
import { bearerChallenge, parseWwwAuthenticate } from '../../../src/core/probe/wwwAuthenticate';

describe('WWW-Authenticate parser (RFC 9110 §11.6.1)', () => {
  it('reads a Bearer challenge with quoted and token values', () => {
    const p = parseWwwAuthenticate('Bearer realm="mcp", error=invalid_token, resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp"');
    assert.deepEqual(p.problems, []);
    assert.deepEqual(bearerChallenge(p), { realm: 'mcp', error: 'invalid_token', resourceMetadata: 'https://a.example/.well-known/oauth-protected-resource/mcp' });
  });

  it('finds Bearer among several challenges, whatever the case of the scheme', () => {
    const p = parseWwwAuthenticate('Basic realm="x", DPoP algs="ES256", bearer scope="read write", error="insufficient_scope"');
    assert.deepEqual(p.challenges.map((c) => c.scheme), ['basic', 'dpop', 'bearer']);
    assert.deepEqual(bearerChallenge(p), { scope: 'read write', error: 'insufficient_scope' });
  });

  it('resolves backslash escapes inside quoted strings (the SDK regex stops at the first quote)', () => {
    const p = parseWwwAuthenticate('Bearer error_description="say \\"hi\\", then go", scope="a"');
    assert.equal(bearerChallenge(p)?.errorDescription, 'say "hi", then go');
    assert.equal(bearerChallenge(p)?.scope, 'a');
  });

  it('keeps a token68 credential and moves on to the next challenge', () => {
    const p = parseWwwAuthenticate('Negotiate abc+/def==, Bearer realm="r"');
    assert.equal(p.challenges[0]?.token68, 'abc+/def==');
    assert.equal(bearerChallenge(p)?.realm, 'r');
  });

  it('reports what breaks the grammar and still returns what it could read', () => {
    const p = parseWwwAuthenticate('Bearer realm="never closed');
    assert.match(p.problems.join(), /never ends/);
    assert.equal(p.challenges[0]?.scheme, 'bearer');
    const dup = parseWwwAuthenticate('Bearer scope="a", scope="b"');
    assert.equal(bearerChallenge(dup)?.scope, 'a');
    assert.match(dup.problems.join(), /more than once/);
  });

  it('terminates on hostile input and bounds what it reads', () => {
    for (const header of ['"'.repeat(5000), ',,,,'.repeat(5000), '=' .repeat(10000), 'a b=c, '.repeat(5000), '\\'.repeat(3000)]) {
      const p = parseWwwAuthenticate(header);
      assert.ok(p.challenges.length <= 32);
    }
    assert.match(parseWwwAuthenticate('Bearer ' + 'x'.repeat(20000)).problems.join(), /only the first/);
    assert.deepEqual(parseWwwAuthenticate(undefined), { challenges: [], problems: [] });
  });
});
