// One server, many clients: entries with the same URL group together whatever each client calls
// them, and the group line says each client's state in order.
import { strict as assert } from 'node:assert';
import type { McpServer } from '../../../src/core/model';
import type { TokenStatus } from '../../../src/core/tokenStatus';
import { describeGroup, groupByServer, serverUrlKey, shortState } from '../../../src/core/present/byServer';

function entry(client: McpServer['client'], name: string, url: string | undefined, extra: Partial<McpServer> = {}): { server: McpServer } {
  return {
    server: {
      client,
      scope: 'user',
      name,
      transport: url ? 'http' : 'stdio',
      ...(url ? { url } : { command: 'npx' }),
      headerNames: [],
      headers: {},
      enabled: true,
      source: { file: '/x', line: 1, column: 1 },
      findings: [],
      ...extra,
    },
  };
}

describe('grouping servers by URL across clients', () => {
  it('takes the same endpoint written differently as one server, and a different path or tenant as another', () => {
    assert.equal(serverUrlKey('HTTPS://MCP.Linear.app:443/mcp/'), 'https://mcp.linear.app/mcp');
    assert.equal(serverUrlKey('https://mcp.linear.app/mcp#x'), 'https://mcp.linear.app/mcp');
    assert.notEqual(serverUrlKey('https://mcp.linear.app/sse'), serverUrlKey('https://mcp.linear.app/mcp'));
    assert.notEqual(serverUrlKey('https://a.example/mcp?tenant=1'), serverUrlKey('https://a.example/mcp?tenant=2'));
    assert.equal(serverUrlKey('https://a.example/'), 'https://a.example');
  });

  it('groups entries of four clients under the name most of them use, keeping their order', () => {
    const statuses = [
      entry('claude-code', 'linear', 'https://mcp.linear.app/mcp'),
      entry('codex', 'linear', 'https://mcp.linear.app/mcp/'),
      entry('cursor', 'Linear', 'https://MCP.linear.app/mcp'),
      entry('mcp-remote', 'linear', 'https://mcp.linear.app/mcp', { host: 'Claude Desktop' }),
      entry('claude-code', 'sentry', 'https://mcp.sentry.dev/sse'),
      entry('codex', 'files', undefined),
      // Another stdio server run by npx is another server: the name tells them apart.
      entry('claude-code', 'context7', undefined),
      entry('claude-code', 'files', undefined),
    ];
    const groups = groupByServer(statuses);
    assert.deepEqual(
      groups.map((g) => [g.name, g.members]),
      [
        ['linear', [0, 1, 2, 3]],
        ['sentry', [4]],
        ['files', [5, 7]],
        ['context7', [6]],
      ],
    );
  });

  it('says each client\'s state: probed first, else the stored token, and a login we do not read as such', () => {
    const [claude, codex, cursor, bridge] = [
      entry('claude-code', 'linear', 'https://l/mcp').server,
      entry('codex', 'linear', 'https://l/mcp').server,
      entry('cursor', 'linear', 'https://l/mcp').server,
      entry('mcp-remote', 'linear', 'https://l/mcp', { host: 'Cursor' }).server,
    ];
    const token: TokenStatus = { state: 'expired', expiresAt: 1, fingerprint: 'sha256:x', hasRefreshToken: true, store: 's', storeKind: 'file', clientId: null, scopes: [] };
    assert.equal(shortState(claude, undefined, 'valid'), 'valid');
    assert.equal(shortState(codex, token, undefined), 'expired');
    assert.equal(shortState(cursor, undefined, 'login-not-read'), 'login not read');
    assert.equal(shortState(bridge, undefined, 'not-logged-in'), 'not logged in');
    assert.equal(shortState({ ...claude, enabled: false }, undefined, 'not-probed'), 'disabled');
    assert.equal(
      describeGroup([
        { server: claude, state: 'valid' },
        { server: codex, state: 'expired' },
        { server: cursor, state: 'login not read' },
        { server: bridge, state: 'not logged in' },
      ]),
      'valid in Claude Code, expired in Codex, login not read in Cursor, not logged in in mcp-remote (Cursor)',
    );
  });
});
