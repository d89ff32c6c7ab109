// The registration each client's own login uses (src/core/clientRegistration.ts), on the metadata
// shapes the lab runs with the real clients showed (test/interop/cimdLogin.test.ts) and the ones
// around them: which client id, and why, for every mix of CIMD, DCR, `none` and configured ids.
import { strict as assert } from 'node:assert';
import {
  CLAUDE_CODE_CLIENT_METADATA_URL,
  CODEX_CLIENT_METADATA_URL,
  clientMetadataDocumentFor,
  documentAllowsRedirect,
  registrationVerdict,
  type RegistrationMetadata,
} from '../../src/core/clientRegistration';

const BOTH: RegistrationMetadata = { registration_endpoint: 'https://as.example/reg', client_id_metadata_document_supported: true, token_endpoint_auth_methods_supported: ['client_secret_basic', 'none'] };
const CIMD_ONLY: RegistrationMetadata = { client_id_metadata_document_supported: true, token_endpoint_auth_methods_supported: ['none'] };
const CIMD_NO_NONE: RegistrationMetadata = { client_id_metadata_document_supported: true, token_endpoint_auth_methods_supported: ['client_secret_basic'] };
const DCR_ONLY: RegistrationMetadata = { registration_endpoint: 'https://as.example/reg' };

describe('registrationVerdict: what each client logs in with', () => {
  it('CIMD and DCR offered: both clients use their document, not a registration (seen at the lab)', () => {
    assert.deepEqual(
      [registrationVerdict('claude-code', BOTH, {}), registrationVerdict('codex', BOTH, {})].map((v) => [v.method, v.clientId]),
      [
        ['metadata-document', CLAUDE_CODE_CLIENT_METADATA_URL],
        ['metadata-document', CODEX_CLIENT_METADATA_URL],
      ],
    );
  });

  it('CIMD without `none`: Claude Code still uses its document; Codex registers, or has no way in without DCR', () => {
    assert.equal(registrationVerdict('claude-code', CIMD_NO_NONE, {}).method, 'metadata-document');
    const codex = registrationVerdict('codex', CIMD_NO_NONE, {});
    assert.equal(codex.method, 'none');
    assert.match(codex.why, /`none`/);
    const withDcr = registrationVerdict('codex', { ...CIMD_NO_NONE, registration_endpoint: 'https://as.example/reg' }, {});
    assert.equal(withDcr.method, 'dynamic-registration');
    assert.match(withDcr.why, /does not list token endpoint auth method `none`/);
  });

  it('a stored client: Claude Code reuses it before its document; Codex’s login does not (its document wins)', () => {
    assert.deepEqual(registrationVerdict('claude-code', BOTH, { storedClientId: 'dcr-1' }), { client: 'claude-code', method: 'stored', clientId: 'dcr-1', why: 'Claude Code reuses the client it stored (dcr-1)' });
    assert.equal(registrationVerdict('codex', BOTH, { storedClientId: 'dcr-1' }).method, 'metadata-document');
  });

  it('a configured client id wins for Codex; for Claude Code it comes after a stored client', () => {
    assert.equal(registrationVerdict('codex', BOTH, { configuredClientId: 'pre', storedClientId: 'dcr-1' }).clientId, 'pre');
    assert.equal(registrationVerdict('claude-code', BOTH, { configuredClientId: 'pre' }).clientId, 'pre');
    assert.equal(registrationVerdict('claude-code', BOTH, { configuredClientId: 'pre', storedClientId: 'dcr-1' }).clientId, 'dcr-1');
  });

  it('DCR only: both register; nothing at all: no way in, for either', () => {
    assert.equal(registrationVerdict('claude-code', DCR_ONLY, {}).method, 'dynamic-registration');
    assert.equal(registrationVerdict('codex', DCR_ONLY, {}).method, 'dynamic-registration');
    for (const client of ['claude-code', 'codex'] as const) assert.equal(registrationVerdict(client, {}, {}).method, 'none');
    assert.equal(registrationVerdict('codex', CIMD_ONLY, {}).method, 'metadata-document');
  });

  it('MCP_OAUTH_CLIENT_METADATA_URL replaces Claude Code’s document; one Claude Code would refuse is a dead end, not a fallback', () => {
    assert.equal(registrationVerdict('claude-code', BOTH, { clientMetadataUrl: 'https://example.test/client.json' }).clientId, 'https://example.test/client.json');
    for (const bad of ['http://example.test/client.json', 'https://example.test/', 'not a url']) {
      const v = registrationVerdict('claude-code', BOTH, { clientMetadataUrl: bad });
      assert.equal(v.method, 'none', bad);
      assert.match(v.why, /MCP_OAUTH_CLIENT_METADATA_URL/);
    }
    const codex = clientMetadataDocumentFor('codex', 'https://example.test/client.json');
    assert.ok(!('invalid' in codex) && codex.url === CODEX_CLIENT_METADATA_URL, 'the variable is Claude Code’s only');
  });
});

describe('documentAllowsRedirect: the published documents’ port-less loopback entries', () => {
  const claude = clientMetadataDocumentFor('claude-code');
  const listed = 'invalid' in claude ? undefined : claude.redirectUris;
  it('any port on the listed loopback host and path matches; another path, host or scheme does not', () => {
    assert.ok(documentAllowsRedirect(listed, 'http://localhost:51234/callback'));
    assert.ok(documentAllowsRedirect(listed, 'http://127.0.0.1:3118/callback'));
    assert.ok(!documentAllowsRedirect(listed, 'http://localhost:51234/oauth/callback'));
    assert.ok(!documentAllowsRedirect(listed, 'http://[::1]:51234/callback'));
    assert.ok(!documentAllowsRedirect(listed, 'https://localhost:51234/callback'));
    assert.ok(!documentAllowsRedirect(listed, 'http://dev.example:51234/callback'));
  });
  it('an unknown document (an overridden URL) leaves the judgement to the authorization server', () => {
    assert.ok(documentAllowsRedirect(undefined, 'http://anything:1/x'));
  });
});
