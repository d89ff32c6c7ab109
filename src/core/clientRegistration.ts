// How each client identifies itself to an authorization server, read from the pinned clients'
// shipped code and checked against the lab with the real clients (test/interop/cimdLogin.test.ts):
// a configured (pre-registered) client id, the client it stored, its Client ID Metadata Document
// (CIMD: an https URL as client_id, draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25
// §Client Registration Approaches), or Dynamic Client Registration (RFC 7591). Pure: no I/O.
//
// Claude Code 2.1.332 (binary: resolveClientInformation, `get clientMetadataUrl`, the SDK's auth()):
//   the stored entry's clientId, else the configured oauth.clientId, else — when the AS metadata
//   says client_id_metadata_document_supported: true — the document URL
//   (MCP_OAUTH_CLIENT_METADATA_URL, default https://claude.ai/oauth/claude-code-client-metadata;
//   only with its loopback `/callback` redirect, which it always uses), else DCR. Seen at the lab:
//   CIMD is used even where DCR is offered, with redirect http://localhost:<port>/callback.
// Codex 0.171 (binary strings; lab runs): the configured client_id, else CIMD with
//   https://chatgpt.com/oauth/codex/client.json when the AS advertises CIMD *and* lists `none` in
//   token_endpoint_auth_methods_supported ("MCP authorization server does not advertise CIMD with
//   token endpoint auth method `none`"; without `none` the lab saw a DCR registration), else DCR.
//   Its login does not reuse a stored client; `codex mcp login --oauth-client-registration
//   cimd|dcr` forces one way for that login only. Redirect http://127.0.0.1:<port>/callback.

import { CLIENT_LABELS, type ClientId, type McpServer } from './model';
import { isLoopbackHost } from './probe/urls';

export const CLAUDE_CODE_CLIENT_METADATA_URL = 'https://claude.ai/oauth/claude-code-client-metadata';
export const CODEX_CLIENT_METADATA_URL = 'https://chatgpt.com/oauth/codex/client.json';

/**
 * The redirect URIs each published document lists, as public reports quote them (Claude Code:
 * anthropics/claude-code#37767, #42301; Codex: servers that accept it by this id). Port-less
 * loopback URIs: an AS must ignore the port (RFC 8252 §7.3) or the client cannot log in there.
 */
const PUBLISHED_REDIRECT_URIS: Readonly<Record<string, readonly string[]>> = {
  [CLAUDE_CODE_CLIENT_METADATA_URL]: ['http://localhost/callback', 'http://127.0.0.1/callback'],
  [CODEX_CLIENT_METADATA_URL]: ['http://127.0.0.1/callback', 'http://localhost/callback'],
};

/** The AS metadata fields registration depends on (RFC 8414 + the CIMD draft). */
export interface RegistrationMetadata {
  registration_endpoint?: unknown;
  client_id_metadata_document_supported?: unknown;
  token_endpoint_auth_methods_supported?: unknown;
}

/** What an authorization server offers for a client without a registration of its own. */
export interface RegistrationSupport {
  /** `client_id_metadata_document_supported: true`. */
  cimd: boolean;
  /** A `registration_endpoint` (RFC 7591). */
  dcr: boolean;
  /** `none` listed in `token_endpoint_auth_methods_supported` (public clients). */
  publicClients: boolean;
}

export function registrationSupport(as: RegistrationMetadata): RegistrationSupport {
  const methods = Array.isArray(as.token_endpoint_auth_methods_supported) ? as.token_endpoint_auth_methods_supported : [];
  return {
    cimd: as.client_id_metadata_document_supported === true,
    dcr: typeof as.registration_endpoint === 'string' && as.registration_endpoint.length > 0,
    publicClients: methods.includes('none'),
  };
}

/** A client's document: its URL (the client_id) and, when it is a published one we know, the redirect URIs it lists. */
export interface ClientMetadataDocument {
  url: string;
  /** Where the URL comes from, for people: `Claude Code's published document`, `MCP_OAUTH_CLIENT_METADATA_URL`. */
  origin: string;
  /** Undefined: not a published document we know; only the authorization server can tell what it allows. */
  redirectUris?: readonly string[];
}

/**
 * The client's CIMD URL. Claude Code's is overridable by MCP_OAUTH_CLIENT_METADATA_URL, which its
 * SDK refuses unless https with a non-root path ("clientMetadataUrl must be a valid HTTPS URL with
 * a non-root pathname"); `invalid` says so instead of a document.
 */
export function clientMetadataDocumentFor(client: ClientId, overrideUrl?: string): ClientMetadataDocument | { invalid: string } {
  if (client === 'codex') return { url: CODEX_CLIENT_METADATA_URL, origin: "Codex's published document", redirectUris: PUBLISHED_REDIRECT_URIS[CODEX_CLIENT_METADATA_URL] };
  const url = overrideUrl?.trim() || CLAUDE_CODE_CLIENT_METADATA_URL;
  if (url !== CLAUDE_CODE_CLIENT_METADATA_URL) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.protocol !== 'https:' || parsed.pathname === '/' || parsed.pathname === '') {
      return { invalid: `MCP_OAUTH_CLIENT_METADATA_URL "${url}" is not an https URL with a path, which Claude Code refuses before it logs in` };
    }
  }
  const published = PUBLISHED_REDIRECT_URIS[url];
  return { url, origin: url === CLAUDE_CODE_CLIENT_METADATA_URL ? "Claude Code's published document" : 'MCP_OAUTH_CLIENT_METADATA_URL', ...(published ? { redirectUris: published } : {}) };
}

/** True when the client id is one of the clients' document URLs (so it is no registration of ours to orphan). */
export function isClientMetadataUrl(clientId: string | undefined, overrideUrl?: string): boolean {
  return !!clientId && (clientId === CLAUDE_CODE_CLIENT_METADATA_URL || clientId === CODEX_CLIENT_METADATA_URL || (!!overrideUrl && clientId === overrideUrl));
}

/**
 * Whether a document listing `listed` allows `redirectUri`: an exact match, or an http loopback
 * URI that matches a listed one but for the port (RFC 8252 §7.3; how the clients' port-less
 * documents are meant to be read). Undefined list: unknown, so allowed (the AS decides).
 */
export function documentAllowsRedirect(listed: readonly string[] | undefined, redirectUri: string): boolean {
  if (!listed) return true;
  if (listed.includes(redirectUri)) return true;
  const portless = portlessLoopback(redirectUri);
  return portless !== undefined && listed.some((l) => portlessLoopback(l) === portless);
}

function portlessLoopback(uri: string): string | undefined {
  try {
    const u = new URL(uri);
    if (u.protocol !== 'http:' || !isLoopbackHost(u.hostname)) return undefined;
    u.port = '';
    return u.href;
  } catch {
    return undefined;
  }
}

export type RegistrationMethod = 'configured' | 'stored' | 'metadata-document' | 'dynamic-registration' | 'none';

/** What a client will do at its next login to this authorization server, and why. */
export interface RegistrationVerdict {
  client: ClientId;
  method: RegistrationMethod;
  /** The client id it will use, when known before it registers (configured, stored, document URL). */
  clientId?: string;
  /** One sentence for people. */
  why: string;
}

export interface RegistrationInputs {
  /** The client id configured for the server (oauth.clientId / [mcp_servers.x.oauth] client_id). */
  configuredClientId?: string;
  /** The client id the client stored for the server, if any. */
  storedClientId?: string;
  /** Claude Code's MCP_OAUTH_CLIENT_METADATA_URL. */
  clientMetadataUrl?: string;
}

/** The registration each client's own login would use here (rules at the top of this file). */
export function registrationVerdict(client: ClientId, as: RegistrationMetadata, inputs: RegistrationInputs): RegistrationVerdict {
  const support = registrationSupport(as);
  const doc = clientMetadataDocumentFor(client, inputs.clientMetadataUrl);
  const { configuredClientId: configured, storedClientId: stored } = inputs;
  if (client === 'claude-code') {
    if (stored) return { client, method: 'stored', clientId: stored, why: `Claude Code reuses the client it stored (${stored})` };
    if (configured) return { client, method: 'configured', clientId: configured, why: `Claude Code uses the configured client id ${configured}` };
    if (support.cimd) {
      if ('invalid' in doc) return { client, method: 'none', why: doc.invalid };
      return { client, method: 'metadata-document', clientId: doc.url, why: `Claude Code identifies itself with its Client ID Metadata Document (${doc.url}), since the server supports them` };
    }
  } else if (client === 'codex') {
    if (configured) return { client, method: 'configured', clientId: configured, why: `Codex uses the configured client_id ${configured}` };
    if (support.cimd && support.publicClients && !('invalid' in doc)) {
      return { client, method: 'metadata-document', clientId: doc.url, why: `Codex identifies itself with its Client ID Metadata Document (${doc.url}), since the server supports them for public clients` };
    }
    if (support.cimd && !support.dcr) {
      return { client, method: 'none', why: 'Codex uses Client ID Metadata Documents only where the server lists token endpoint auth method `none`, which this one does not, and it offers no dynamic registration' };
    }
  } else {
    // Other clients' own rules are not read yet: a stored client, then a configured one, then DCR.
    if (stored) return { client, method: 'stored', clientId: stored, why: `${CLIENT_LABELS[client]} reuses the client it stored (${stored})` };
    if (configured) return { client, method: 'configured', clientId: configured, why: `${CLIENT_LABELS[client]} uses the configured client id ${configured}` };
  }
  if (support.dcr) {
    const label = CLIENT_LABELS[client];
    const cimdNote = client === 'codex' && support.cimd ? ' (it supports Client ID Metadata Documents, but does not list token endpoint auth method `none`, which Codex requires for them)' : '';
    return { client, method: 'dynamic-registration', why: `${label} registers a new client by dynamic registration${cimdNote}` };
  }
  return { client, method: 'none', why: 'the server offers neither Client ID Metadata Documents nor dynamic registration, and no client id is configured' };
}

/** The verdict for a configured server (its own client, its configured id). */
export function registrationVerdictFor(server: Pick<McpServer, 'client' | 'oauth'>, as: RegistrationMetadata, inputs: Omit<RegistrationInputs, 'configuredClientId'> = {}): RegistrationVerdict {
  return registrationVerdict(server.client, as, { ...inputs, ...(server.oauth?.clientId ? { configuredClientId: server.oauth.clientId } : {}) });
}
