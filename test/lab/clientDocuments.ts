// Stand-ins for the Client ID Metadata Documents the real clients host, served to the lab's
// authorization server in place of the internet (the lab is loopback-only). Each is the document
// as published, as far as public reports show it; where a field is not reported it is left out
// rather than guessed, since what a document omits is what strict servers trip over.
//
// - Claude Code: https://claude.ai/oauth/claude-code-client-metadata, the default of its
//   MCP_OAUTH_CLIENT_METADATA_URL (2.1.332 binary: `Pqo`, `ot()`). Port-less loopback redirects and
//   no `application_type`: anthropics/claude-code#37767, #42301, #44429 quote the redirect_uris,
//   #44378 and #64705 the missing application_type (so RFC 7591 reads it as `web`).
// - Codex: https://chatgpt.com/oauth/codex/client.json (0.171 binary, next to "MCP authorization
//   server does not advertise CIMD with token endpoint auth method `none`"). Loopback 127.0.0.1 and
//   localhost `/callback` redirects, public client: as servers that accept Codex by this id list
//   them (the public registries quoted in the issue-14 note); the hosted document itself was not
//   fetched here (no network), so its other fields are untested.

export const CLAUDE_CODE_CLIENT_ID = 'https://claude.ai/oauth/claude-code-client-metadata';
export const CODEX_CLIENT_ID = 'https://chatgpt.com/oauth/codex/client.json';

export const CLIENT_DOCUMENTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  [CLAUDE_CODE_CLIENT_ID]: {
    client_id: CLAUDE_CODE_CLIENT_ID,
    client_name: 'Claude Code',
    redirect_uris: ['http://localhost/callback', 'http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  },
  [CODEX_CLIENT_ID]: {
    client_id: CODEX_CLIENT_ID,
    client_name: 'Codex',
    redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  },
};
