// When a server uses enterprise-managed authorization (SEP-990), so that no browser login may be
// opened for it: from the client's config (Claude Code oauth.xaa, Codex auth = "ema_auth", as the
// config readers record them) or from authorization-server metadata that offers only the JWT
// bearer grant (the conformance suite's enterprise-managed AS).
import { strict as assert } from 'node:assert';
import { assertionGrantOnly, enterpriseManagedAuthorization, JWT_BEARER_GRANT } from '../../src/core/enterpriseAuthorization';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanClaudeCode } from '../../src/core/config/claudeCode';
import { scanCodex } from '../../src/core/config/codex';
import type { Environment } from '../../src/core/environment';
import type { McpServer } from '../../src/core/model';

const claude = (oauth?: McpServer['oauth']) => ({ client: 'claude-code' as const, name: 'work', ...(oauth ? { oauth } : {}) });
const codex = (oauth?: McpServer['oauth']) => ({ client: 'codex' as const, name: 'work', ...(oauth ? { oauth } : {}) });

describe('enterprise-managed authorization', () => {
  it('is not required for an ordinary server, whatever else its metadata offers', () => {
    assert.deepEqual(enterpriseManagedAuthorization(claude()), { required: false });
    assert.deepEqual(enterpriseManagedAuthorization(codex({ clientId: 'x' }), { grant_types_supported: ['authorization_code', JWT_BEARER_GRANT, 'refresh_token'] }), { required: false }, 'jwt-bearer beside a browser login is not a requirement');
    assert.deepEqual(enterpriseManagedAuthorization(claude(), { grant_types_supported: ['client_credentials'] }), { required: false });
    assert.deepEqual(enterpriseManagedAuthorization(claude(), {}), { required: false }, 'no grant types listed: RFC 8414 default, authorization_code');
  });

  it('is required by metadata that offers the JWT bearer grant and no authorization code', () => {
    assert.equal(assertionGrantOnly({ grant_types_supported: [JWT_BEARER_GRANT] }), true);
    for (const server of [claude(), codex()]) {
      const r = enterpriseManagedAuthorization(server, { grant_types_supported: [JWT_BEARER_GRANT, 'refresh_token'] });
      assert.equal(r.required, true);
      if (r.required) assert.match(r.why, /only the JWT bearer grant/);
    }
  });

  it('is required by the config, with each client\'s own command', () => {
    const c = enterpriseManagedAuthorization(claude({ clientId: 'mcp-app', enterpriseManaged: true }));
    assert.ok(c.required);
    if (c.required) {
      assert.match(c.why, /"oauth": \{"xaa": true\}/);
      assert.match(c.handOff, /`claude mcp xaa login`/);
      assert.match(c.handOff, /CLAUDE_CODE_ENABLE_XAA=1/);
    }
    const x = enterpriseManagedAuthorization(codex({ enterpriseManaged: true }));
    assert.ok(x.required);
    if (x.required) {
      assert.match(x.why, /auth = "ema_auth"/);
      assert.match(x.handOff, /Open Codex/);
      assert.match(x.handOff, /`codex mcp login` refuses/);
    }
  });

  it('the config readers record oauth.xaa and auth = "ema_auth", and the predicate sees them', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ema-'));
    try {
      fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: { work: { type: 'http', url: 'https://mcp.example/mcp', oauth: { clientId: 'mcp-app', xaa: true } }, plain: { type: 'http', url: 'https://plain.example/mcp' } } }));
      fs.mkdirSync(path.join(home, '.codex'));
      fs.writeFileSync(path.join(home, '.codex', 'config.toml'), '[mcp_servers.work]\nurl = "https://mcp.example/mcp"\nauth = "ema_auth"\n[mcp_servers.plain]\nurl = "https://plain.example/mcp"\n');
      const e: Environment = { home, env: {}, platform: 'linux', projectDirs: [] };
      const servers = [...(await scanClaudeCode(e)).servers, ...(await scanCodex(e)).servers];
      const required = servers.map((s) => [s.client, s.name, enterpriseManagedAuthorization(s).required]);
      assert.deepEqual(required.sort(), [['claude-code', 'plain', false], ['claude-code', 'work', true], ['codex', 'plain', false], ['codex', 'work', true]]);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
