// Does the server accept this access token right now? One authenticated MCP `initialize`, sent
// only to the URL the grant was stored for (the origin it was issued for), never following
// redirects, with a timeout and without reading the body. Used after a restore, where a restored
// token may have been revoked or rotated away since the snapshot. The full diagnostic probe
// (discovery, metadata, every URL it tried) is the probe's job; this is the one live question.
// An access token goes to the MCP server it was issued for (its audience), never to an
// authorization server, so a server that now names another issuer does not change where this
// sends it; only a refresh token is bound to the issuer (probe token.issuer-changed, refresh.ts).

export type AccessTokenVerdict =
  | { state: 'accepted'; status: number }
  | { state: 'rejected'; status: number; error?: string }
  | { state: 'forbidden'; status: number; error?: string }
  | { state: 'unexpected'; status: number }
  | { state: 'unreachable'; reason: string }
  | { state: 'refused-to-send'; reason: string };

export interface AccessTokenCheckOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** MCP-Protocol-Version to announce; the 2025-06-18 revision's initialize is widely accepted. */
  protocolVersion?: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export async function checkAccessToken(serverUrl: string, accessToken: string, options: AccessTokenCheckOptions = {}): Promise<AccessTokenVerdict> {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    return { state: 'refused-to-send', reason: `"${serverUrl}" is not a URL` };
  }
  // A bearer token over plain HTTP is readable on the wire; only loopback is exempt (spec: HTTPS).
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (LOOPBACK.has(url.hostname) || url.hostname.startsWith('127.')))) {
    return { state: 'refused-to-send', reason: `${url.origin} is not HTTPS; the token is not sent` };
  }
  const protocolVersion = options.protocolVersion ?? '2025-06-18';
  const doFetch = options.fetch ?? fetch;
  try {
    const res = await doFetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': protocolVersion,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion, capabilities: {}, clientInfo: { name: 'mcp-auth-doctor', version: '0.1.0' } },
      }),
    });
    // The body is not needed and may never end (an SSE stream): drop it.
    void res.body?.cancel().catch(() => undefined);
    const error = bearerError(res.headers.get('www-authenticate'));
    if (res.status >= 200 && res.status < 300) return { state: 'accepted', status: res.status };
    if (res.status === 401) return { state: 'rejected', status: 401, ...(error ? { error } : {}) };
    if (res.status === 403) return { state: 'forbidden', status: 403, ...(error ? { error } : {}) };
    return { state: 'unexpected', status: res.status };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer within ${(options.timeoutMs ?? 5000) / 1000} s` : (e.cause?.code ?? e.message);
    return { state: 'unreachable', reason };
  }
}

/** The `error` parameter of a Bearer challenge (RFC 6750 §3), e.g. invalid_token. */
function bearerError(header: string | null): string | undefined {
  if (!header || !/^\s*bearer\b/i.test(header)) return undefined;
  return /\berror\s*=\s*"?([A-Za-z_]+)"?/i.exec(header)?.[1];
}

export function describeVerdict(v: AccessTokenVerdict): string {
  switch (v.state) {
    case 'accepted':
      return 'live: the server accepted the access token';
    case 'rejected':
      return `dead: the server rejected the access token (401${v.error ? ` ${v.error}` : ''})`;
    case 'forbidden':
      return `the server knows the token but refused it (403${v.error ? ` ${v.error}` : ''}): scope or audience`;
    case 'unexpected':
      return `the server answered ${v.status}; the token could not be judged`;
    case 'unreachable':
      return `not checked: the server is unreachable (${v.reason})`;
    case 'refused-to-send':
      return `not checked: ${v.reason}`;
  }
}
