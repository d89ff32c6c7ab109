// Step 1 of the probe: what the MCP endpoint answers to a request without a token, classified
// as the spec and the clients see it (spec-and-peers §1.11 B; failure-modes §3 "Minimal probe
// sequence"): no auth needed, an OAuth challenge, or a reason no client will get further.
import type { Finding } from '../model';
import { probeFinding } from './catalogue';
import { exchangeFailure } from './failures';
import { describeExchange, type Exchange } from './http';
import { isHtml } from './metadata';
import { jsonRpcError, MODERN_ERROR_CODES } from './mcpRequest';
import { redactUrl } from './urls';
import { bearerChallenge, parseWwwAuthenticate, type BearerChallenge } from './wwwAuthenticate';

/**
 * no-auth: the server answered without a token. oauth: a Bearer challenge (401, or 403 with
 * one). unauthorized: 401 without a Bearer challenge; discovery may still find metadata at the
 * well-known URLs. modern-version: a 2026-07-28 server refused the legacy request (retry modern).
 * legacy-version: a legacy server refused the modern request (retry initialize). stop: nothing
 * further can be learned; `unreachable` says whether the server was reached at all.
 */
export type ChallengeOutcome =
  | { kind: 'no-auth' }
  | { kind: 'oauth'; status: number; bearer: BearerChallenge }
  | { kind: 'unauthorized' }
  | { kind: 'modern-version'; supported?: string[] }
  | { kind: 'legacy-version' }
  | { kind: 'stop'; unreachable: boolean };

export interface ChallengeResult {
  outcome: ChallengeOutcome;
  findings: Finding[];
  /** The HTTP status the classification rests on, when there was one. */
  status?: number;
}

export function classifyChallenge(ex: Exchange, serverLabel: string, sentModern: boolean): ChallengeResult {
  const result = classify(ex, serverLabel, sentModern);
  return ex.status === undefined ? result : { ...result, status: ex.status };
}

function classify(ex: Exchange, serverLabel: string, sentModern: boolean): ChallengeResult {
  const failure = exchangeFailure(ex, `The MCP endpoint of ${serverLabel}`);
  if (failure) return { outcome: { kind: 'stop', unreachable: ex.entry.outcome !== 'too-large' }, findings: [failure] };
  const status = ex.status ?? 0;
  const evidence = [describeExchange(ex.entry)];
  const header = ex.headers?.get('www-authenticate') ?? undefined;
  if (header) evidence.push(`WWW-Authenticate: ${redactChallenge(header)}`);
  const html = isHtml(ex.entry.contentType, ex.body);

  if (ex.entry.outcome === 'redirect') {
    const location = ex.entry.location;
    let where = 'elsewhere';
    try {
      if (location) where = new URL(location).origin === new URL(ex.entry.url).origin ? 'another path on the same origin' : `another origin (${new URL(location).origin})`;
    } catch {
      // An unparsable Location still counts as a redirect.
    }
    return stop(false, 'probe.redirect', {
      title: `The MCP endpoint redirects (${status}) to ${where}`,
      detail: `MCP clients do not follow a redirect on the MCP endpoint, and none sends its token across origins. This is typically a single sign-on or firewall front door, or an old URL. Use the URL the redirect points to if it is the real MCP endpoint${location ? ` (${location})` : ''}, or ask the server's owner for a path without the front door.`,
      evidence,
    });
  }

  if (status >= 200 && status < 300) {
    if (html) {
      return stop(false, 'probe.html-response', {
        title: 'The MCP endpoint answers with an HTML page',
        detail: 'A web page came back where an MCP answer was expected: the URL points at a website or a login page, not at the MCP endpoint. Check the URL in the config (often it ends in /mcp or /sse).',
        evidence,
      });
    }
    return {
      outcome: { kind: 'no-auth' },
      findings: [
        probeFinding('probe.no-auth-required', {
          title: 'The server answers without a token',
          detail: 'No OAuth login is needed for this server as configured: it accepted an MCP request without credentials. If a client still says "Needs authentication", its cached state is stale.',
          evidence,
        }),
      ],
    };
  }

  const parsed = parseWwwAuthenticate(header);
  const bearer = bearerChallenge(parsed);
  const findings: Finding[] = [];
  if (parsed.problems.length) {
    findings.push(
      probeFinding('probe.challenge-malformed', {
        title: 'The WWW-Authenticate header does not follow the HTTP grammar',
        detail: `Clients may misread it: ${parsed.problems.join('; ')}.`,
        evidence,
      }),
    );
  }

  if (status === 401 || (status === 403 && bearer)) {
    if (bearer) return { outcome: { kind: 'oauth', status, bearer }, findings };
    if (!header) {
      findings.push(
        probeFinding('probe.challenge-missing', {
          title: 'The server answers 401 without saying how to authenticate',
          detail: 'A 401 must carry a WWW-Authenticate header; without "Bearer resource_metadata=…" Claude Code reports "Failed to connect" instead of offering a login, while clients of 2025-11-25 and later fall back to the well-known metadata URLs (checked below). Tell the server\'s owner.',
          evidence,
        }),
      );
    } else {
      const schemes = parsed.challenges.map((c) => c.rawScheme).join(', ') || 'an unparsable scheme';
      findings.push(
        probeFinding('probe.challenge-not-bearer', {
          title: `The server asks for ${schemes} authentication, not OAuth`,
          detail: `The 401 challenges with ${schemes}. MCP clients start an OAuth login only for a Bearer challenge. If the server takes an API key or password, put it in the config as a header (Claude Code "headers", Codex "http_headers" or "bearer_token_env_var"); otherwise the server is not an OAuth MCP server.`,
          evidence,
        }),
      );
    }
    return { outcome: { kind: 'unauthorized' }, findings };
  }

  if (status === 403) {
    return stop(false, 'probe.forbidden-without-challenge', {
      title: 'The server refuses the request (403) without an OAuth challenge',
      detail: 'A 403 without WWW-Authenticate is a network policy (firewall, CDN, IP allow-list, VPN), not a login problem: Claude Code may still show "Needs authentication", but logging in again will not help. Check VPN and network access, or ask the server\'s owner.',
      evidence,
    }, findings);
  }

  if (status === 400) {
    const rpc = jsonRpcError(ex.body);
    if (!sentModern && rpc && MODERN_ERROR_CODES.has(rpc.code)) return { outcome: { kind: 'modern-version', ...(rpc.supported ? { supported: rpc.supported } : {}) }, findings };
    if (sentModern && !(rpc && MODERN_ERROR_CODES.has(rpc.code))) return { outcome: { kind: 'legacy-version' }, findings };
  }

  if (status === 404) {
    return stop(false, 'probe.not-found', {
      title: `The MCP endpoint does not exist (404${html ? ', an HTML page' : ''})`,
      detail: 'Nothing answers MCP at this URL. Check the path in the config: most servers serve MCP at /mcp (Streamable HTTP) or /sse (the older transport).',
      evidence,
    }, findings);
  }
  if (status === 405) {
    const allow = ex.headers?.get('allow');
    return stop(false, 'probe.method-not-allowed', {
      title: 'The endpoint does not accept this transport (405)',
      detail: `The server refused the ${ex.entry.method}${allow ? `; it allows ${allow}` : ''}. The config's transport type probably does not match the server: a Streamable HTTP server takes POST ("type": "http"), an HTTP+SSE server opens with GET ("type": "sse").`,
      evidence,
    }, findings);
  }
  if (status >= 500) {
    return stop(false, 'probe.server-error', {
      title: `The server is failing (${status})`,
      detail: 'The server or a gateway in front of it reported an error. This is an outage, not an authentication problem: logging in again will not help. Try again later.',
      evidence,
    }, findings);
  }
  if (html) {
    return stop(false, 'probe.html-response', {
      title: `The MCP endpoint answers ${status} with an HTML page`,
      detail: 'A web page came back where an MCP answer or an OAuth challenge was expected. Check the URL in the config.',
      evidence,
    }, findings);
  }
  return stop(false, 'probe.unexpected-status', {
    title: `The MCP endpoint answers ${status} to a request without a token`,
    detail: 'The spec expects 401 with a Bearer challenge from an OAuth-protected server, or an MCP answer from an open one. Clients treat this as a connection failure.',
    evidence,
  }, findings);
}

function stop(unreachable: boolean, code: Parameters<typeof probeFinding>[0], text: Parameters<typeof probeFinding>[1], before: Finding[] = []): ChallengeResult {
  return { outcome: { kind: 'stop', unreachable }, findings: [...before, probeFinding(code, text)] };
}

/** The header with any URL's query masked (resource_metadata URLs are not secret, but queries may be). */
function redactChallenge(header: string): string {
  const short = header.length > 300 ? `${header.slice(0, 300)}…` : header;
  return short.replace(/https?:\/\/[^\s",]+/g, (u) => redactUrl(u));
}
