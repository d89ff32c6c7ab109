// The MCP request a probe sends, shaped for the revision it speaks: `initialize` up to 2025-11-25,
// `server/discover` with per-request `_meta` on 2026-07-28 (basic/versioning.mdx; the
// `Mcp-Method` header from transports/streamable-http.mdx), and a GET on the deprecated HTTP+SSE
// transport. The same request goes out with and without the stored token.
import type { McpServer } from '../model';
import { isStateless, type SpecRevision } from './revisions';
import type { ProbeRequest, ProbeStep } from './http';

export const CLIENT_INFO = { name: 'mcp-auth-doctor', version: '0.1.0' };

/** JSON-RPC error codes that only a 2026-07-28 ("modern") server sends. */
export const MODERN_ERROR_CODES = new Set([-32020, -32021, -32022]);

export function mcpProbeRequest(server: McpServer, revision: SpecRevision, step: ProbeStep, bearer?: { token: string; origin: string }): ProbeRequest {
  const url = server.url ?? '';
  const base = { step, url, configHeaders: server.headers, ...(bearer ? { bearer } : {}) };
  if (server.transport === 'sse') {
    // HTTP+SSE (2024-11-05): the client opens the event stream with a GET; the first event names the POST endpoint.
    return { ...base, method: 'GET', headers: { accept: 'text/event-stream' }, read: 'sse-event' };
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': revision,
  };
  let body: unknown;
  if (isStateless(revision)) {
    headers['mcp-method'] = 'server/discover';
    body = {
      jsonrpc: '2.0',
      id: 1,
      method: 'server/discover',
      params: {
        _meta: {
          'io.modelcontextprotocol/protocolVersion': revision,
          'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    };
  } else {
    body = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: revision, capabilities: {}, clientInfo: CLIENT_INFO } };
  }
  return { ...base, method: 'POST', headers, body: JSON.stringify(body), read: 'sse-event' };
}

/** The JSON-RPC error in a body (plain JSON or the first SSE `data:` line), if there is one. */
export function jsonRpcError(body: string | undefined): { code: number; message?: string; supported?: string[] } | undefined {
  if (!body) return undefined;
  const text = body.trimStart().startsWith('{') ? body : (/^data:\s?(.*)$/m.exec(body)?.[1] ?? '');
  try {
    const v = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; data?: { supported?: unknown } } };
    if (!v.error || typeof v.error.code !== 'number') return undefined;
    const supported = Array.isArray(v.error.data?.supported) ? v.error.data.supported.filter((s): s is string => typeof s === 'string') : undefined;
    return { code: v.error.code, ...(typeof v.error.message === 'string' ? { message: v.error.message.slice(0, 200) } : {}), ...(supported ? { supported } : {}) };
  } catch {
    return undefined;
  }
}
