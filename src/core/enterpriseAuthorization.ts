// Enterprise-managed authorization (MCP extension io.modelcontextprotocol/enterprise-managed-
// authorization, SEP-990; "cross-app access", XAA): the client signs in once at the
// organisation's IdP, trades the ID token for an ID-JAG there (RFC 8693 token exchange,
// requested_token_type urn:ietf:params:oauth:token-type:id-jag) and presents the ID-JAG at the
// MCP server's authorization server with the JWT bearer grant (RFC 7523,
// urn:ietf:params:oauth:grant-type:jwt-bearer). No browser login at that authorization server
// is part of it, so MCP Auth Doctor never opens one there: it hands off to the client. Pure.
//
// How a server that requires it shows itself (the spec, modelcontextprotocol/ext-auth
// specification/draft/enterprise-managed-authorization.mdx, defines no metadata field or
// challenge of its own; the clients decide by config):
// - Config. Claude Code 2.1.332: `"oauth": {"xaa": true}` on the server (`claude mcp add --xaa
//   --client-id … --client-secret …`, only with CLAUDE_CODE_ENABLE_XAA=1), one IdP connection for
//   all such servers in settings `xaaIdp` (`claude mcp xaa setup --issuer … --client-id …`), and
//   `claude mcp xaa login` caches the IdP id_token so the servers authenticate silently; its XAA
//   path skips the browser login and DCR for the server. Codex 0.171: `auth = "ema_auth"` (with
//   oauth.authorization_server_issuer / token_endpoint_auth_method); `codex mcp login` refuses it
//   ("Enterprise MCP authorization is managed by Codex account sign-in. Open Codex to sign in.",
//   run against 0.171.0) and `codex mcp list` shows it disabled, auth "unsupported".
// - Metadata. An authorization server whose grant_types_supported lists the JWT bearer grant and
//   not authorization_code has no browser login for anyone: the conformance suite's
//   auth/enterprise-managed-authorization AS advertises exactly [jwt-bearer] and refuses every
//   other grant, and Claude Code's XAA skips an AS that does not list jwt-bearer. Workload
//   identity (SEP-1933, auth/wif-jwt-bearer) looks the same on the wire; either way no
//   browser login can work there, which is what this predicate decides.
import type { McpServer } from './model';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';

/** The AS metadata field the decision reads (RFC 8414 §2). */
export interface GrantMetadata {
  grant_types_supported?: unknown;
}

export type EnterpriseAuthorization =
  | {
      required: true;
      /** One sentence: what says so (the config, or the metadata). */
      why: string;
      /** What to run instead, in the client's own words (exact commands). */
      handOff: string;
    }
  | { required: false };

/** True when the metadata offers the JWT bearer grant and no authorization-code grant: no browser login at this AS. */
export function assertionGrantOnly(as: GrantMetadata | undefined): boolean {
  const grants = Array.isArray(as?.grant_types_supported) ? (as.grant_types_supported as unknown[]) : undefined;
  return !!grants && grants.includes(JWT_BEARER_GRANT) && !grants.includes('authorization_code');
}

/**
 * Whether `server` uses enterprise-managed authorization, from its config or (given) its
 * authorization server's metadata; `required: true` means no browser login may be opened for it.
 */
export function enterpriseManagedAuthorization(server: Pick<McpServer, 'client' | 'name' | 'oauth'>, as?: GrantMetadata): EnterpriseAuthorization {
  const configured = server.oauth?.enterpriseManaged === true;
  const metadata = assertionGrantOnly(as);
  if (!configured && !metadata) return { required: false };
  const name = server.name;
  if (server.client === 'claude-code') {
    const why = configured
      ? `"${name}" is configured for enterprise-managed authorization ("oauth": {"xaa": true}): Claude Code gets its token from your organisation's IdP (ID-JAG), not from a browser login at the server`
      : `the server's authorization server offers only the JWT bearer grant (${JWT_BEARER_GRANT}), no authorization-code login: tokens come from an enterprise IdP assertion (ID-JAG)`;
    const handOff = configured
      ? 'Sign in at your IdP with `claude mcp xaa login` (once for all such servers; with CLAUDE_CODE_ENABLE_XAA=1 set, and `claude mcp xaa setup --issuer <idp> --client-id <id>` done first if `claude mcp xaa show` has no connection); Claude Code then authenticates the server itself.'
      : `Ask your administrator for the server's client id and secret and the IdP connection, then with CLAUDE_CODE_ENABLE_XAA=1: \`claude mcp xaa setup --issuer <idp> --client-id <id>\`, \`claude mcp add --transport http --xaa --client-id <id> --client-secret ${name} <url>\` and \`claude mcp xaa login\`.`;
    return { required: true, why, handOff };
  }
  const why = configured
    ? `"${name}" is configured for enterprise-managed authorization (auth = "ema_auth"): Codex gets its token through your organisation's IdP, not from a browser login at the server`
    : `the server's authorization server offers only the JWT bearer grant (${JWT_BEARER_GRANT}), no authorization-code login: tokens come from an enterprise IdP assertion (ID-JAG)`;
  const handOff = configured
    ? 'Open Codex and complete the enterprise sign-in it asks for (`codex login` first if you are signed out); `codex mcp login` refuses such a server ("Enterprise MCP authorization is managed by Codex account sign-in").'
    : 'Codex reaches such a server only with auth = "ema_auth" set by your organisation\'s host policy and its enterprise sign-in (open Codex to sign in); ask your administrator.';
  return { required: true, why, handOff };
}
