// Generated hostile input for the probe's parsers and the repair's token-response handling: RFC
// 9728 / RFC 8414 metadata documents (parseProtectedResourceMetadata,
// parseAuthorizationServerMetadata), WWW-Authenticate headers (parseWwwAuthenticate), JWT access
// tokens (decodeJwtClaims), and token endpoint answers (oauth4webapi's
// processRefreshTokenResponse, then classifyTokenError, as refresh.ts runs them). Promised: nothing
// throws; a wrong member is named and left out while the right ones still come through; a
// well-formed challenge reads back exactly as it was written; what a user is told never holds a
// token the server sent back.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { decodeJwtClaims } from '../../src/core/probe/jwt';
import {
  AuthorizationServerMetadataFields,
  parseAuthorizationServerMetadata,
  parseProtectedResourceMetadata,
  ProtectedResourceMetadataFields,
  type DocumentParse,
} from '../../src/core/probe/metadata';
import { bearerChallenge, parseWwwAuthenticate } from '../../src/core/probe/wwwAuthenticate';
import { classifyTokenError } from '../../src/core/repair/tokenClient';
import { isRecord, jsonStyle, mutateBytes, oddKey, oddValue, pathsOf, renamedAt, toJson, withAt } from './support/mutate';
import { count, rng, type Rng } from './support/random';
import { leaks } from './support/secrets';

const str = (v: unknown) => typeof v === 'string';
const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0;
const list = (v: unknown) => Array.isArray(v) && v.every(str);
const bool = (v: unknown) => typeof v === 'boolean';

/** What each member must be for the parser to keep it (metadata.ts field schemas). */
const PRM_OK: Record<string, (v: unknown) => boolean> = { resource: nonEmpty, authorization_servers: list, scopes_supported: list, bearer_methods_supported: list, resource_name: str };
const ASM_OK: Record<string, (v: unknown) => boolean> = {
  issuer: nonEmpty,
  authorization_endpoint: nonEmpty,
  token_endpoint: nonEmpty,
  registration_endpoint: nonEmpty,
  response_types_supported: list,
  grant_types_supported: list,
  code_challenge_methods_supported: list,
  token_endpoint_auth_methods_supported: list,
  scopes_supported: list,
  client_id_metadata_document_supported: bool,
  authorization_response_iss_parameter_supported: bool,
};

function metadataInput(r: Rng, seed: Record<string, unknown>): string {
  const style = jsonStyle(r);
  switch (r.int(4)) {
    case 0:
      return mutateBytes(r, Buffer.from(toJson(seed, style))).bytes.toString('utf8');
    case 1: {
      const p = r.pick(pathsOf(seed).filter((x) => x.length > 0));
      return toJson(renamedAt(seed, p.slice(0, 1), oddKey(r)), style);
    }
    default: {
      // One to three members (or the whole document) get an odd value.
      let doc: unknown = seed;
      for (let k = r.range(1, 3); k > 0; k--) doc = withAt(doc, r.pick(pathsOf(doc)), oddValue(r, { maxDepth: 20_000, allowNull: true }));
      return toJson(doc, style);
    }
  }
}

function checkDocument(parsed: DocumentParse<Record<string, unknown>>, text: string, fields: Record<string, (v: unknown) => boolean>, label: string): 'not-json' | 'not-object' | 'object' {
  assert.ok(Array.isArray(parsed.problems) && parsed.problems.every((p) => typeof p === 'string' && p.length < 500), `${label}: odd problems ${JSON.stringify(parsed.problems).slice(0, 300)}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    assert.equal(parsed.document, undefined, `${label}: a document from text that is not JSON`);
    assert.ok(parsed.problems.length === 1 && /^the body (is empty|is not JSON)/.test(parsed.problems[0]!), `${label}: ${JSON.stringify(parsed.problems)}`);
    return 'not-json';
  }
  if (!isRecord(value)) {
    assert.equal(parsed.document, undefined, `${label}: a document from JSON that is not an object`);
    assert.match(parsed.problems[0] ?? '', /not an object/, label);
    return 'not-object';
  }
  const doc = parsed.document as Record<string, unknown>;
  assert.ok(doc, `${label}: no document from a JSON object`);
  for (const [name, ok] of Object.entries(fields)) {
    const v: unknown = Object.hasOwn(value, name) ? value[name] : undefined;
    if (v === undefined) {
      assert.ok(!(name in doc), `${label}: ${name} appeared from nowhere`);
    } else if (ok(v)) {
      // Good members still come through, whatever is wrong beside them.
      assert.deepEqual(doc[name], v, `${label}: the valid ${name} was not kept`);
    } else {
      assert.ok(!(name in doc), `${label}: ${name} of the wrong type was kept`);
      assert.ok(parsed.problems.some((p) => p.startsWith(`${name} is `)), `${label}: ${name} is wrong but no problem names it: ${JSON.stringify(parsed.problems)}`);
    }
  }
  assert.equal(parsed.problems.length, Object.entries(fields).filter(([n, ok]) => Object.hasOwn(value as object, n) && (value as Record<string, unknown>)[n] !== undefined && !ok((value as Record<string, unknown>)[n])).length, `${label}: problems without cause: ${JSON.stringify(parsed.problems)}`);
  return 'object';
}

// ── WWW-Authenticate ────────────────────────────────────────────────────────────────────────

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const TOKEN68 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-._~+/';

function randomToken(r: Rng, alphabet = TCHARS, max = 12): string {
  return Array.from({ length: r.range(1, max) }, () => alphabet[r.int(alphabet.length)]).join('');
}

interface ChallengeModel {
  scheme: string;
  token68?: string;
  params: [string, string][];
}

function challengeModel(r: Rng): ChallengeModel {
  const scheme = r.chance(0.6) ? r.pick(['Bearer', 'bearer', 'BEARER', 'Basic', 'DPoP', 'Negotiate']) : randomToken(r);
  if (r.chance(0.15)) return { scheme, token68: randomToken(r, TOKEN68, 40) + '='.repeat(r.int(3)), params: [] };
  const names = new Set<string>();
  const params: [string, string][] = [];
  for (let k = r.int(6); k > 0; k--) {
    const name = r.chance(0.6) ? r.pick(['realm', 'scope', 'error', 'error_description', 'resource_metadata', 'Realm', 'ERROR']) : randomToken(r);
    if (names.has(name.toLowerCase())) continue;
    names.add(name.toLowerCase());
    const value = r.chance(0.4)
      ? randomToken(r)
      : r.pick([
          'https://mcp.example/.well-known/oauth-protected-resource/mcp',
          'has "quotes", commas, and = signs',
          'back\\slash \\" escaped',
          'mcp:tools mcp:admin',
          'ünïcödé 😀 \u202E',
          ' ',
          `${'x'.repeat(r.range(1, 2000))}`,
        ]);
    params.push([name, value]);
  }
  return { scheme, params };
}

function serialize(r: Rng, challenges: ChallengeModel[]): string {
  const ws = () => (r.chance(0.2) ? r.pick([' ', '  ', '\t', ' \t ']) : '');
  return challenges
    .map((c) => {
      if (c.token68) return `${c.scheme} ${c.token68}`;
      if (c.params.length === 0) return c.scheme;
      const params = c.params.map(([n, v]) => {
        const bare = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v) && r.chance(0.7);
        return `${n}${ws()}=${ws()}${bare ? v : `"${v.replace(/[\\"]/g, (m) => `\\${m}`)}"`}`;
      });
      return `${c.scheme} ${params.join(`${ws()},${ws()}`)}`;
    })
    .join(`${ws()},${ws()}`);
}

// ── token responses ─────────────────────────────────────────────────────────────────────────

function tokenResponseBody(r: Rng, issued: { access: string; refresh: string }): { status: number; body: string; contentType: string } {
  const good = { access_token: issued.access, token_type: 'Bearer', expires_in: 3600, refresh_token: issued.refresh, scope: 'mcp:tools' };
  const error = {
    error: r.pick(['invalid_grant', 'invalid_client', 'invalid_scope', 'server_error', 'temporarily_unavailable', 'weird_error']),
    // An echo of the sent refresh token is left out here: it leaks (see the pending test below).
    error_description: r.pick(['The refresh token is revoked', 'bad\u0000control\u001bchars', 'x'.repeat(5000), '', '\u202Eevil']),
  };
  const status = r.pick([200, 200, 200, 400, 400, 401, 403, 500, 503]);
  const seed: Record<string, unknown> = status === 200 ? good : error;
  let body: string;
  switch (r.int(4)) {
    case 0:
      body = mutateBytes(r, Buffer.from(JSON.stringify(seed))).bytes.toString('utf8');
      break;
    case 1: {
      // Odd error / error_description values are left out here: they throw or flood (pending tests below).
      const p = r.pick(pathsOf(seed).filter((x) => x[0] !== 'error_description' && x[0] !== 'error'));
      body = toJson(withAt(seed, p, oddValue(r, { maxDepth: 5000, allowNull: true })), jsonStyle(r));
      break;
    }
    default:
      body = JSON.stringify(seed);
  }
  return { status, body, contentType: r.pick(['application/json', 'application/json;charset=UTF-8', 'text/html', 'text/plain', '']) };
}

describe('hardening: generated input for the probe parsers and token responses', function () {
  this.timeout(120_000);

  it(`metadata documents: ${count(3000)} protected-resource and ${count(3000)} authorization-server documents; wrong members named and left out, good ones kept`, () => {
    const r = rng('metadata');
    const kinds = { 'not-json': 0, 'not-object': 0, object: 0 };
    const prm = {
      resource: 'https://mcp.example/mcp',
      authorization_servers: ['https://as.example'],
      scopes_supported: ['mcp:tools', 'offline_access'],
      bearer_methods_supported: ['header'],
      resource_name: 'Example MCP',
      unknown_member: { nested: [1, 2, 3] },
    };
    const asm = {
      issuer: 'https://as.example',
      authorization_endpoint: 'https://as.example/authorize',
      token_endpoint: 'https://as.example/token',
      registration_endpoint: 'https://as.example/register',
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'],
      scopes_supported: ['mcp:tools'],
      client_id_metadata_document_supported: true,
      authorization_response_iss_parameter_supported: true,
    };
    for (let i = 0; i < count(3000); i++) {
      const a = metadataInput(r, prm);
      kinds[checkDocument(parseProtectedResourceMetadata(a) as DocumentParse<Record<string, unknown>>, a, PRM_OK, `PRM #${i}`)]++;
      const b = metadataInput(r, asm);
      kinds[checkDocument(parseAuthorizationServerMetadata(b) as DocumentParse<Record<string, unknown>>, b, ASM_OK, `AS metadata #${i}`)]++;
    }
    // The oracle's field lists are the parser's: a field added there must be added here.
    assert.deepEqual(Object.keys(PRM_OK).sort(), Object.keys(ProtectedResourceMetadataFields).sort());
    assert.deepEqual(Object.keys(ASM_OK).sort(), Object.keys(AuthorizationServerMetadataFields).sort());
    // Empty and absent bodies.
    for (const t of [undefined, '', '   \n']) assert.deepEqual(parseProtectedResourceMetadata(t), { problems: ['the body is empty'] });
    console.log(`      metadata: ${count(3000) * 2} documents (${kinds['not-json']} not JSON, ${kinds['not-object']} not an object, ${kinds.object} objects checked member by member)`);
    assert.ok(kinds['not-json'] > 100 && kinds.object > 1000);
  });

  it(`WWW-Authenticate: ${count(5000)} well-formed headers read back exactly; ${count(5000)} mangled ones never throw and stay bounded`, () => {
    const r = rng('www-authenticate');
    const started = Date.now();
    for (let i = 0; i < count(5000); i++) {
      const model = Array.from({ length: r.range(1, 4) }, () => challengeModel(r));
      const header = serialize(r, model);
      const parsed = parseWwwAuthenticate(header);
      const label = `header #${i}: ${JSON.stringify(header.slice(0, 200))}`;
      assert.deepEqual(parsed.problems, [], label);
      assert.equal(parsed.challenges.length, model.length, label);
      model.forEach((m, k) => {
        const c = parsed.challenges[k]!;
        assert.equal(c.rawScheme, m.scheme, label);
        assert.equal(c.scheme, m.scheme.toLowerCase(), label);
        assert.equal(c.token68, m.token68, label);
        const expected = Object.fromEntries(m.params.filter(([, v]) => v !== '').map(([n, v]) => [n.toLowerCase(), v]));
        assert.deepEqual({ ...c.params }, expected, label);
      });
      bearerChallenge(parsed);
    }
    const roundTrip = Date.now() - started;
    let problems = 0;
    for (let i = 0; i < count(5000); i++) {
      const model = Array.from({ length: r.range(1, 6) }, () => challengeModel(r));
      let header = serialize(r, model);
      header = r.chance(0.8) ? mutateBytes(r, Buffer.from(header, 'latin1')).bytes.toString('latin1') : r.pick(['', ',,,,', '"'.repeat(20_000), 'Bearer ' + 'a=b,'.repeat(10_000), 'x '.repeat(30_000), '\\'.repeat(5000), 'Bearer realm="unterminated', '=,=,=']);
      const t0 = Date.now();
      const parsed = parseWwwAuthenticate(header);
      assert.ok(Date.now() - t0 < 250, `mangled #${i} took ${Date.now() - t0} ms`);
      assert.ok(parsed.challenges.length <= 32, `mangled #${i}: ${parsed.challenges.length} challenges`);
      for (const c of parsed.challenges) {
        assert.equal(c.scheme, c.rawScheme.toLowerCase());
        assert.equal(Object.getPrototypeOf(c.params), null, 'params must be a null-prototype map');
        for (const v of Object.values(c.params)) assert.equal(typeof v, 'string');
      }
      problems += parsed.problems.length > 0 ? 1 : 0;
      bearerChallenge(parsed);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    console.log(`      WWW-Authenticate: ${count(5000)} round trips in ${roundTrip} ms, ${count(5000)} mangled headers (${problems} with problems reported) in ${Date.now() - started - roundTrip} ms`);
  });

  it(`JWT claims: ${count(3000)} odd or mangled tokens decode to typed claims or to nothing, never an exception`, () => {
    const r = rng('jwt');
    const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');
    let decoded = 0;
    for (let i = 0; i < count(3000); i++) {
      const claims = { iss: 'https://as.example', aud: ['https://mcp.example/mcp'], exp: 1_900_000_000, iat: 1_800_000_000, scope: 'a b', client_id: 'c' };
      const payload =
        r.chance(0.2)
          ? r.bytes(r.range(0, 64))
          : toJson(r.chance(0.5) ? withAt(claims, r.pick(pathsOf(claims)), oddValue(r, { maxDepth: 20_000, allowNull: true })) : claims, jsonStyle(r));
      let token = `${b64('{"alg":"RS256"}')}.${b64(payload)}.${b64(randomBytes(32))}`;
      if (r.chance(0.3)) token = mutateBytes(r, Buffer.from(token)).bytes.toString('latin1');
      const c = decodeJwtClaims(token);
      if (!c) continue;
      decoded++;
      assert.ok(Array.isArray(c.aud) && c.aud.every(str) && Array.isArray(c.scopes) && c.scopes.every(str), `#${i}: ${JSON.stringify(c).slice(0, 200)}`);
      for (const k of ['exp', 'iat'] as const) assert.ok(c[k] === undefined || Number.isFinite(c[k]), `#${i}: ${k} ${c[k]}`);
      for (const k of ['iss', 'clientId'] as const) assert.ok(c[k] === undefined || str(c[k]), `#${i}: ${k}`);
    }
    console.log(`      JWT: ${count(3000)} tokens, ${decoded} decoded to claims`);
    assert.ok(decoded > count(3000) / 4);
  });

  it(`token endpoint answers: ${count(1500)} odd refresh responses are tokens or a classified error, and no error words hold a token`, async () => {
    const r = rng('token-response');
    const as: oauth.AuthorizationServer = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };
    const client: oauth.Client = { client_id: 'client-1', token_endpoint_auth_method: 'none' };
    const http = { fetch, timeoutMs: 1000, maxBodyBytes: 1024 * 1024 };
    const kinds = new Map<string, number>();
    for (let i = 0; i < count(1500); i++) {
      const sent = randomBytes(24).toString('base64url');
      const issued = { access: randomBytes(24).toString('base64url'), refresh: randomBytes(24).toString('base64url') };
      const { status, body, contentType } = tokenResponseBody(r, issued);
      const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
      if (status === 401 && r.chance(0.5)) headers['www-authenticate'] = r.pick(['Basic realm="as"', 'Bearer error="invalid_client"', 'Bearer error="', '"']);
      const response = new Response(body, { status, headers });
      const label = `response #${i} (${status} ${contentType}): ${JSON.stringify(body.slice(0, 120))}`;
      let kind: string;
      try {
        const tokens = await oauth.processRefreshTokenResponse(as, client, response);
        assert.equal(typeof tokens.access_token, 'string', label);
        kind = 'tokens';
      } catch (err) {
        const classified = await classifyTokenError(err, as.token_endpoint!, http);
        kind = classified.kind;
        assert.ok(typeof classified.words === 'string' && classified.words.length > 0 && classified.words.length < 1000, `${label}: words ${classified.words?.length}`);
        // eslint-disable-next-line no-control-regex
        assert.ok(!/[\u0000-\u001f]/.test(classified.words), `${label}: control characters in the words`);
        for (const secret of [sent, issued.access, issued.refresh]) {
          assert.ok(!leaks(`${classified.words} ${classified.description ?? ''}`, secret), `${label}: the words hold a token: ${classified.words}`);
        }
      }
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    console.log(`      token responses: ${count(1500)} (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')})`);
    assert.ok((kinds.get('tokens') ?? 0) > 0 && kinds.size > 3);
  });

  // Found by this suite, fixed in src/core/repair/tokenClient.ts (cleanServerWords): an authorization server's error_description is shown to the user as it came, so a
  // server that echoes the refresh token it was sent ("refresh token <token> is revoked") puts the
  // token into the refresh outcome's message. The sent secrets could be masked there, or a run of
  // 16+ token characters replaced by its fingerprint.
  it('a token endpoint that echoes the refresh token in error_description: the words shown never hold it', async () => {
    const as: oauth.AuthorizationServer = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };
    const client: oauth.Client = { client_id: 'client-1', token_endpoint_auth_method: 'none' };
    const sent = randomBytes(24).toString('base64url');
    const response = new Response(JSON.stringify({ error: 'invalid_grant', error_description: `refresh token ${sent} is revoked` }), { status: 400, headers: { 'content-type': 'application/json' } });
    const err = await oauth.processRefreshTokenResponse(as, client, response).then(
      () => assert.fail('an error answer was taken for tokens'),
      (e: unknown) => e,
    );
    const classified = await classifyTokenError(err, as.token_endpoint!, { fetch, timeoutMs: 1000, maxBodyBytes: 1024 });
    assert.equal(classified.kind, 'invalid-grant');
    assert.ok(!leaks(`${classified.words} ${classified.description ?? ''}`, sent), classified.words);
  });


  // Found by this suite, fixed in src/core/repair/tokenClient.ts (cleanServerWords): oauth4webapi
  // passes error_description through as the server sent it, and a number or an object there makes
  // classifyTokenError throw "text.replace is not a function" instead of classifying the error; a
  // refresh then reports that TypeError rather than invalid_grant.
  it('a token endpoint error whose error_description is not a string is still classified', async () => {
    const as: oauth.AuthorizationServer = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };
    const client: oauth.Client = { client_id: 'client-1', token_endpoint_auth_method: 'none' };
    const response = new Response(JSON.stringify({ error: 'invalid_grant', error_description: 5 }), { status: 400, headers: { 'content-type': 'application/json' } });
    const err = await oauth.processRefreshTokenResponse(as, client, response).then(
      () => assert.fail('an error answer was taken for tokens'),
      (e: unknown) => e,
    );
    const classified = await classifyTokenError(err, as.token_endpoint!, { fetch, timeoutMs: 1000, maxBodyBytes: 1024 });
    assert.equal(classified.kind, 'invalid-grant');
  });


  // Found by this suite, fixed in src/core/repair/tokenClient.ts (fromOAuthError cuts the code): the `error` code is
  // repeated in full, so a server answering with a 14,000-character error floods the message a
  // user reads (error_description is cut at 200 characters; error is not).
  it('a token endpoint error code of 14,000 characters is shortened in the words', async () => {
    const as: oauth.AuthorizationServer = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };
    const client: oauth.Client = { client_id: 'client-1', token_endpoint_auth_method: 'none' };
    const response = new Response(JSON.stringify({ error: 'x'.repeat(14_000) }), { status: 400, headers: { 'content-type': 'application/json' } });
    const err = await oauth.processRefreshTokenResponse(as, client, response).then(
      () => assert.fail('an error answer was taken for tokens'),
      (e: unknown) => e,
    );
    const classified = await classifyTokenError(err, as.token_endpoint!, { fetch, timeoutMs: 1000, maxBodyBytes: 1024 });
    assert.ok(classified.words.length < 1000, `${classified.words.length} characters`);
  });

});
