// The lab's MCP server: @modelcontextprotocol/sdk over Streamable HTTP (stateless: one server per
// request), behind bearer tokens checked against the lab's AS. Without a good token it answers
// 401 with `WWW-Authenticate: Bearer resource_metadata="..."` (MCP authorization spec, RFC 9728
// section 5.1) and serves its protected-resource metadata at the path-aware and the root
// well-known URLs. Every deviation from that (LabBehaviour) is read per request, here.
import { createHash } from 'node:crypto';
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
  /** Good tokens answered 403 insufficient_scope (requiredScope). */
  forbidden: number;
}

export interface McpResourceServer {
  mcpUrl: string;
  /** RFC 9728 path-aware metadata URL, the one the 401 challenge names. */
  protectedResourceMetadataUrl: string;
  counters: McpResourceCounters;
  /** Requests received so far, by path (any method, any answer). */
  requestsSeen(): Record<string, number>;
  /** Points token checks at the AS (it starts after this server, whose URL it needs). */
  trust(config: TokenCheckConfig): void;
  /** From now on this access token gets 401 invalid_token, whatever its signature says. */
  revokeAccessToken(token: string): void;
  close(): Promise<void>;
}

export const LAB_TOOLS = ['echo', 'whoami'] as const;

/** Size of an `oversized` answer: past any sane cap on a metadata or MCP response. */
export const OVERSIZED_BYTES = 3 * 1024 * 1024;

const ROOT_PRM_PATH = '/.well-known/oauth-protected-resource';
const NOT_FOUND_PAGE = '<!DOCTYPE html>\n<html><head><title>Not Found</title></head><body><div id="root"><h1>404 Not Found</h1></div></body></html>\n';
const WAF_PAGE = '<!DOCTYPE html>\n<html><head><title>Access denied</title></head><body><h1>Access denied</h1><p>The request was blocked by the security policy. Reference #lab.0.0</p></body></html>\n';

export async function startMcpServer(options: { behaviour: LabBehaviour; log: (line: string) => void; path?: string; canaryOrigin: string }): Promise<McpResourceServer> {
  const { behaviour, log, canaryOrigin } = options;
  const mcpPath = options.path ?? '/mcp';
  const counters: McpResourceCounters = { authorized: 0, rejected: 0, forbidden: 0 };
  const seen = new Map<string, number>();
  // Hashes, not tokens: a JWT access token is verified by signature alone (tokenCheck.ts), so the
  // AS cannot revoke it (oidc-provider's revocation endpoint refuses structured tokens); the lab
  // keeps its own list, as a resource server with a deny list would.
  const revoked = new Set<string>();
  const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');
  let tokenCheck: TokenCheck | undefined;
  let issuer = '';

  const listener = await listenLoopback(
    (req, res) => handle(req, res),
    (err) => log(`MCP server error: ${String(err)}`),
  );
  const mcpUrl = `${listener.origin}${mcpPath}`;
  const prmPath = `${ROOT_PRM_PATH}${mcpPath}`;
  const protectedResourceMetadataUrl = `${listener.origin}${prmPath}`;

  const advertisedResource = (): string => {
    switch (behaviour.advertisedResource) {
      case 'origin':
        return listener.origin;
      case 'trailing-slash':
        return `${mcpUrl}/`;
      case 'other-host':
        return `http://localhost:${listener.port}${mcpPath}`;
      default:
        return mcpUrl;
    }
  };

  const resourceMetadata = () => ({
    resource: advertisedResource(),
    authorization_servers: [behaviour.resourceMetadataAuthorizationServers === 'canary' ? canaryOrigin : issuer],
    scopes_supported: behaviour.scopes,
    bearer_methods_supported: ['header'],
    resource_name: 'MCP Auth Doctor lab',
  });

  const wwwAuthenticate = (error?: { code: string; description: string }): string | undefined => {
    const errorParams = error ? `error="${error.code}", error_description="${error.description}"` : '';
    switch (behaviour.challenge) {
      case 'none':
        return undefined;
      case 'basic':
        return 'Basic realm="lab"';
      case 'bearer-without-metadata':
        return errorParams ? `Bearer ${errorParams}` : 'Bearer';
      default:
        return `Bearer ${[errorParams, `resource_metadata="${protectedResourceMetadataUrl}"`].filter(Boolean).join(', ')}`;
    }
  };

  const challenge = (res: http.ServerResponse, error?: { code: string; description: string }) => {
    counters.rejected++;
    const header = wwwAuthenticate(error);
    sendJson(res, 401, { error: error?.code ?? 'unauthorized' }, header ? { 'www-authenticate': header } : {});
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (behaviour.latencyMs > 0) await new Promise((r) => setTimeout(r, behaviour.latencyMs));
    const url = new URL(req.url ?? '/', listener.origin);
    seen.set(url.pathname, (seen.get(url.pathname) ?? 0) + 1);
    log(`MCP ${req.method} ${url.pathname}`);
    if (req.method === 'GET' && (url.pathname === prmPath || url.pathname === ROOT_PRM_PATH)) return serveResourceMetadata(url.pathname, req, res);
    if (url.pathname !== mcpPath) return sendJson(res, 404, { error: 'not_found' });

    // What sits in front of the MCP endpoint, before any token is looked at.
    const front = behaviour.mcpEndpoint;
    switch (front === 'method-not-allowed' && req.method === 'GET' ? 'normal' : front) {
      case 'public':
        return serveMcp(req, res, undefined);
      case 'forbidden':
        return sendText(res, 403, 'text/html; charset=utf-8', WAF_PAGE);
      case 'html-404':
        return sendText(res, 404, 'text/html; charset=utf-8', NOT_FOUND_PAGE);
      case 'method-not-allowed':
        return sendText(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', { allow: 'GET' });
      case 'server-error':
        return sendText(res, 503, 'text/plain; charset=utf-8', 'Service Unavailable\n');
      case 'hang':
        return hang(req);
      case 'oversized':
        return streamOversizedJson(res, { jsonrpc: '2.0', id: 1, result: {} });
      case 'redirect':
        return redirect(res, `${canaryOrigin}${mcpPath}`);
      default:
        break;
    }

    if (!tokenCheck) return sendJson(res, 503, { error: 'lab not ready' });
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer) return challenge(res);
    const verdict = revoked.has(tokenHash(bearer)) ? ({ ok: false, reason: 'token revoked' } as const) : await tokenCheck.check(bearer);
    if (!verdict.ok) {
      log(`MCP rejected a token: ${verdict.reason}`);
      return challenge(res, { code: 'invalid_token', description: verdict.reason });
    }
    const required = behaviour.requiredScope?.split(' ').filter(Boolean) ?? [];
    if (required.some((s) => !verdict.info.scopes.includes(s))) {
      counters.forbidden++;
      log(`MCP refused a token without scope ${behaviour.requiredScope}`);
      // MCP 2025-11-25, Scope Challenge Handling: 403 naming the scopes the operation needs.
      return sendJson(res, 403, { error: 'insufficient_scope' }, {
        'www-authenticate': `Bearer error="insufficient_scope", scope="${behaviour.requiredScope}", resource_metadata="${protectedResourceMetadataUrl}"`,
      });
    }
    counters.authorized++;
    return serveMcp(req, res, { token: bearer, clientId: verdict.info.clientId, scopes: verdict.info.scopes, expiresAt: verdict.info.expiresAt, resource: new URL(mcpUrl) });
  }

  function serveResourceMetadata(pathname: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> | void {
    switch (behaviour.metadataEndpoint) {
      case 'html-404':
        return sendText(res, 404, 'text/html; charset=utf-8', NOT_FOUND_PAGE);
      case 'hang':
        return hang(req);
      case 'oversized':
        return streamOversizedJson(res, resourceMetadata());
      case 'redirect':
        return redirect(res, `${canaryOrigin}${prmPath}`);
      default:
        break;
    }
    const location = behaviour.resourceMetadataLocation;
    const here = pathname === prmPath ? 'path' : 'root';
    if (location === 'none' || (location !== 'both' && location !== here)) return sendJson(res, 404, { error: 'not_found' });
    return sendJson(res, 200, resourceMetadata());
  }

  async function serveMcp(req: http.IncomingMessage, res: http.ServerResponse, auth: AuthInfo | undefined): Promise<void> {
    const server = labMcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(auth ? Object.assign(req, { auth }) : req, res);
  }

  return {
    mcpUrl,
    protectedResourceMetadataUrl,
    counters,
    requestsSeen: () => Object.fromEntries(seen),
    trust(config) {
      issuer = config.issuer;
      tokenCheck = new TokenCheck(config);
    },
    revokeAccessToken(token) {
      revoked.add(tokenHash(token));
    },
    close: () => listener.close(),
  };
}

function sendText(res: http.ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function redirect(res: http.ServerResponse, location: string): void {
  sendText(res, 302, 'text/plain; charset=utf-8', `Found: ${location}\n`, { location });
}

/** Takes the request and never answers; the socket stays open until the client gives up or the lab closes (closeAllConnections). */
function hang(req: http.IncomingMessage): void {
  req.resume();
}

/**
 * 200 application/json of about OVERSIZED_BYTES: `head` with a long `padding` string, streamed in
 * 64 KiB chunks at the pace the client reads (never built whole), dropped if the client goes away.
 */
async function streamOversizedJson(res: http.ServerResponse, head: Record<string, unknown>): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  const opening = `${JSON.stringify(head).slice(0, -1)}${Object.keys(head).length ? ',' : ''}"padding":"`;
  const chunk = Buffer.alloc(64 * 1024, 'x');
  res.write(opening);
  for (let sent = opening.length; sent < OVERSIZED_BYTES; sent += chunk.length) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await drained(res);
  }
  if (!res.destroyed) res.end('"}');
}

function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
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
