// The lab's MCP server: @modelcontextprotocol/sdk over Streamable HTTP (stateless: one server per
// request), behind bearer tokens checked against the lab's AS. Without a good token it answers
// 401 with `WWW-Authenticate: Bearer resource_metadata="..."` (MCP authorization spec, RFC 9728
// section 5.1) and serves its protected-resource metadata at the path-aware and the root
// well-known URLs.
import type * as http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { z } from 'zod';
import type { LabBehaviour } from './behaviour';
import { listenLoopback, sendJson } from './loopbackServer';
import { TokenCheck, type TokenCheckConfig } from './tokenCheck';

export interface McpResourceCounters {
  /** MCP requests that carried a good token. */
  authorized: number;
  /** MCP requests answered 401. */
  rejected: number;
}

export interface McpResourceServer {
  mcpUrl: string;
  /** RFC 9728 path-aware metadata URL, the one the 401 challenge names. */
  protectedResourceMetadataUrl: string;
  counters: McpResourceCounters;
  /** Points token checks at the AS (it starts after this server, whose URL it needs). */
  trust(config: TokenCheckConfig): void;
  close(): Promise<void>;
}

export const LAB_TOOLS = ['echo', 'whoami'] as const;

export async function startMcpServer(options: { behaviour: LabBehaviour; log: (line: string) => void; path?: string }): Promise<McpResourceServer> {
  const { behaviour, log } = options;
  const mcpPath = options.path ?? '/mcp';
  const counters: McpResourceCounters = { authorized: 0, rejected: 0 };
  let tokenCheck: TokenCheck | undefined;
  let issuer = '';

  const listener = await listenLoopback(
    (req, res) => handle(req, res),
    (err) => log(`MCP server error: ${String(err)}`),
  );
  const mcpUrl = `${listener.origin}${mcpPath}`;
  const prmPath = `/.well-known/oauth-protected-resource${mcpPath}`;
  const protectedResourceMetadataUrl = `${listener.origin}${prmPath}`;

  const resourceMetadata = () => ({
    resource: mcpUrl,
    authorization_servers: [issuer],
    scopes_supported: behaviour.scopes,
    bearer_methods_supported: ['header'],
    resource_name: 'MCP Auth Doctor lab',
  });

  const challenge = (res: http.ServerResponse, error?: { code: string; description: string }) => {
    counters.rejected++;
    const params = [error ? `error="${error.code}", error_description="${error.description}"` : '', `resource_metadata="${protectedResourceMetadataUrl}"`].filter(Boolean);
    sendJson(res, 401, { error: error?.code ?? 'unauthorized' }, { 'www-authenticate': `Bearer ${params.join(', ')}` });
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', listener.origin);
    log(`MCP ${req.method} ${url.pathname}`);
    if (req.method === 'GET' && (url.pathname === prmPath || url.pathname === '/.well-known/oauth-protected-resource')) {
      return sendJson(res, 200, resourceMetadata());
    }
    if (url.pathname !== mcpPath) return sendJson(res, 404, { error: 'not_found' });
    if (!tokenCheck) return sendJson(res, 503, { error: 'lab not ready' });
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer) return challenge(res);
    const verdict = await tokenCheck.check(bearer);
    if (!verdict.ok) {
      log(`MCP rejected a token: ${verdict.reason}`);
      return challenge(res, { code: 'invalid_token', description: verdict.reason });
    }
    counters.authorized++;
    const auth: AuthInfo = { token: bearer, clientId: verdict.info.clientId, scopes: verdict.info.scopes, expiresAt: verdict.info.expiresAt, resource: new URL(mcpUrl) };
    const server = labMcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(Object.assign(req, { auth }), res);
  }

  return {
    mcpUrl,
    protectedResourceMetadataUrl,
    counters,
    trust(config) {
      issuer = config.issuer;
      tokenCheck = new TokenCheck(config);
    },
    close: () => listener.close(),
  };
}

function labMcpServer(): McpServer {
  const server = new McpServer({ name: 'mcp-auth-doctor-lab', version: '1.0.0' });
  server.registerTool('echo', { description: 'Returns the text it is given.', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('whoami', { description: 'The OAuth client and scopes of the calling token.' }, async (extra) => ({
    content: [{ type: 'text', text: JSON.stringify({ clientId: extra.authInfo?.clientId, scopes: extra.authInfo?.scopes }) }],
  }));
  return server;
}
