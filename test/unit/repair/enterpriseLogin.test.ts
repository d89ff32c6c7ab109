// Re-login at a server that uses enterprise-managed authorization (SEP-990, ID-JAG): no browser
// login is ever opened there, nothing is written, and the refusal says which of the client's own
// commands to run instead. Decided from the config before any request, or from the authorization
// server's metadata (the JWT bearer grant and no authorization code) after discovery.
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { claudeCodeStore, claudeCredentialsFile } from '../../../src/core/credentials/claudeCodeStore';
import { SnapshotStore } from '../../../src/core/credentials/backups';
import type { Environment } from '../../../src/core/environment';
import type { McpServer } from '../../../src/core/model';
import type { FetchLike } from '../../../src/core/probe/http';
import { login } from '../../../src/core/repair/login';
import { storageKey } from '../../../src/core/storageKey';

const MCP = 'https://mcp.example/mcp';
const AS = 'https://login.example';
const PRM = 'https://mcp.example/.well-known/oauth-protected-resource/mcp';

function enterpriseServerFetch(requests: string[]): FetchLike {
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  return async (input) => {
    const url = String(input);
    requests.push(url);
    if (url === MCP) return new Response('{}', { status: 401, headers: { 'content-type': 'application/json', 'www-authenticate': `Bearer resource_metadata="${PRM}"` } });
    if (url === PRM) return json({ resource: MCP, authorization_servers: [AS] });
    if (url.startsWith(`${AS}/.well-known/`)) {
      // What the conformance suite's auth/enterprise-managed-authorization AS advertises.
      return json({ issuer: AS, authorization_endpoint: `${AS}/authorize`, token_endpoint: `${AS}/token`, response_types_supported: ['code'], code_challenge_methods_supported: ['S256'], grant_types_supported: ['urn:ietf:params:oauth:grant-type:jwt-bearer'], token_endpoint_auth_methods_supported: ['client_secret_basic'] });
    }
    return new Response('not found', { status: 404 });
  };
}

describe('re-login where enterprise-managed authorization is required', () => {
  let home: string;
  let e: Environment;
  beforeEach(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-ema-'));
    e = { home, env: { HOME: home }, platform: 'linux', projectDirs: [] };
  });
  afterEach(() => fs.rm(home, { recursive: true, force: true }));

  function target(oauth?: McpServer['oauth']) {
    const key = storageKey('work', 'http', MCP, {});
    const server: McpServer = { client: 'claude-code', scope: 'user', name: 'work', transport: 'http', url: MCP, rawUrl: MCP, headerNames: [], headers: {}, enabled: true, source: { file: path.join(home, '.claude.json'), line: 3, column: 5 }, storageKey: key, findings: [], ...(oauth ? { oauth } : {}) };
    return { server, store: claudeCodeStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) }), key };
  }

  it('the authorization server offers only the JWT bearer grant: refused after discovery, no browser, nothing written', async () => {
    const requests: string[] = [];
    const opened: string[] = [];
    const outcome = await login(target(), { http: { fetch: enterpriseServerFetch(requests), timeoutMs: 2000, maxBodyBytes: 1 << 20 } }, { openBrowser: async (u) => void opened.push(u) });
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.match(outcome.message, /offers only the JWT bearer grant/);
    assert.match(outcome.message, /opens no browser login there and wrote nothing/);
    assert.match(outcome.message, /claude mcp xaa login/);
    assert.deepEqual(opened, []);
    assert.ok(!requests.some((u) => u.startsWith(`${AS}/authorize`) || u.startsWith(`${AS}/reg`)), requests.join('\n'));
    assert.equal(existsSync(claudeCredentialsFile(e)), false);
  });

  it('configured for it ("oauth": {"xaa": true}): refused before any request', async () => {
    const requests: string[] = [];
    const outcome = await login(target({ enterpriseManaged: true }), { http: { fetch: enterpriseServerFetch(requests), timeoutMs: 2000, maxBodyBytes: 1 << 20 } }, { openBrowser: async () => assert.fail('no browser') });
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.match(outcome.message, /configured for enterprise-managed authorization/);
    assert.deepEqual(requests, []);
  });
});
