// Step 3, judged for registration: how each of our clients gets a client id at this
// authorization server (clientRegistration.ts registrationVerdict: configured, stored, its Client
// ID Metadata Document, dynamic registration, or none), and the findings that follow: no way in
// for a client (which one, and why), Codex falling back to DCR on a CIMD server that does not list
// `none`, and enterprise-managed authorization (no browser login at all). Pure: the probe hands
// in what it fetched.
//
// Not judged here: whether the server accepts the clients' port-less loopback redirects (failure
// mode C5). The documents list http://localhost/callback and http://127.0.0.1/callback while the
// clients listen on a port; only an authorization request shows whether the AS ignores the port
// (RFC 8252 §7.3), and the probe sends none. A login says so when it happens (repair/login.ts).
import type { AuthorizationServerMetadata } from './metadata';
import type { ClientId, Finding, McpServer, Severity } from '../model';
import { CLIENT_LABELS } from '../model';
import { clientDefinition } from '../clients/registry';
import { registrationSupport, registrationVerdict, type RegistrationVerdict } from '../clientRegistration';
import { enterpriseManagedAuthorization, type EnterpriseAuthorization } from '../enterpriseAuthorization';
import { probeFinding } from './catalogue';

export interface RegistrationInput {
  server: Pick<McpServer, 'client' | 'name' | 'oauth'>;
  /** The first authorization server's metadata, when one was found. */
  document?: AuthorizationServerMetadata;
  metadataUrl?: string;
  /** The client id stored for the server (the store summary). */
  storedClientId?: string;
  /** Claude Code's MCP_OAUTH_CLIENT_METADATA_URL. */
  clientMetadataUrl?: string;
}

export interface RegistrationJudgement {
  /** The server's own client first (with its configured and stored ids), then the other one as if it were added there. */
  verdicts: RegistrationVerdict[];
  enterprise: EnterpriseAuthorization;
  findings: Finding[];
}

/** Claude Code and Codex are judged side by side: a server set up in one is often added to the other. */
const OTHER: Partial<Record<ClientId, ClientId>> = { 'claude-code': 'codex', codex: 'claude-code' };

export function judgeRegistration(input: RegistrationInput): RegistrationJudgement {
  const { server, document: doc } = input;
  const enterprise = enterpriseManagedAuthorization(server, doc);
  const findings: Finding[] = [];
  const evidence = input.metadataUrl ? [`metadata: ${input.metadataUrl}`] : [];
  if (enterprise.required) {
    findings.push(
      probeFinding('probe.enterprise-managed', {
        title: 'The server uses enterprise-managed authorization: no browser login here',
        detail: `${capitalize(enterprise.why)}. MCP Auth Doctor never opens a browser login for it (Re-login is refused) and does not exchange tokens itself. ${enterprise.handOff}`,
        evidence: [...evidence, ...(Array.isArray(doc?.grant_types_supported) ? [`grant_types_supported: ${doc.grant_types_supported.join(', ')}`] : [])],
        // Only the metadata says so and the client is not set up for it: its own login will not work either.
        ...(server.oauth?.enterpriseManaged ? {} : { severity: 'warning' as Severity }),
      }),
    );
  }
  if (!doc) return { verdicts: [], enterprise, findings };

  const own = registrationVerdict(server.client, doc, {
    ...(server.oauth?.clientId ? { configuredClientId: server.oauth.clientId } : {}),
    ...(input.storedClientId ? { storedClientId: input.storedClientId } : {}),
    ...(input.clientMetadataUrl ? { clientMetadataUrl: input.clientMetadataUrl } : {}),
  });
  const counterpart = OTHER[server.client];
  const verdicts = counterpart ? [own, registrationVerdict(counterpart, doc, input.clientMetadataUrl ? { clientMetadataUrl: input.clientMetadataUrl } : {})] : [own];
  if (enterprise.required) return { verdicts, enterprise, findings };

  const support = registrationSupport(doc);
  // Only the entry's own client decides: the other one is not configured for this server (its verdict goes to the compatibility list).
  if (own.method === 'none') {
    const others = verdicts.filter((v) => v !== own);
    const offers = support.cimd
      ? 'Client ID Metadata Documents' + (support.publicClients ? '' : ' without listing token endpoint auth method `none`') + (support.dcr ? ' and dynamic registration' : ', and no dynamic registration')
      : 'neither Dynamic Client Registration nor Client ID Metadata Documents';
    findings.push(
      probeFinding('probe.no-registration-path', {
        title: `${CLIENT_LABELS[server.client]} has no way to register with the authorization server`,
        detail:
          `The authorization server offers ${offers}, and no client id is configured. ${CLIENT_LABELS[server.client]} cannot log in: ${own.why}.` +
          others.map((v) => (v.method === 'none' ? ` Nor can ${CLIENT_LABELS[v.client]}.` : ` ${CLIENT_LABELS[v.client]} could: ${v.why}.`)).join('') +
          (input.storedClientId ? ` The stored client (${input.storedClientId}) still refreshes, but ${CLIENT_LABELS[server.client]}'s next login does not reuse it.` : '') +
          ` Register an OAuth app with the provider and give the client its id${fixFor(server.client)}` +
          (support.cimd && !support.publicClients && server.client === 'codex' ? '; or ask the server\'s owner to list `none` in token_endpoint_auth_methods_supported.' : '.'),
        evidence,
        // A stored client still refreshes (Codex's login ignores it, its refresh does not): the next login is what fails.
        ...(input.storedClientId ? { severity: 'warning' as Severity } : {}),
      }),
    );
  }
  const codex = verdicts.find((v) => v.client === 'codex');
  if (server.client === 'codex' && support.cimd && codex?.method === 'dynamic-registration') {
    findings.push(
      probeFinding('probe.cimd-without-public-clients', {
        title: 'Codex registers by dynamic registration here although the server supports Client ID Metadata Documents',
        detail:
          'The server sets client_id_metadata_document_supported but does not list `none` in token_endpoint_auth_methods_supported; Codex 0.171 uses its document (https://chatgpt.com/oauth/codex/client.json) only where `none` is listed, so each `codex mcp login` registers a new client instead. It works; to have Codex log in as itself, ask the server\'s owner to list `none`.',
        evidence: [...evidence, `token_endpoint_auth_methods_supported: ${(doc.token_endpoint_auth_methods_supported ?? []).join(', ') || '(absent)'}`],
      }),
    );
  }
  return { verdicts, enterprise, findings };
}

function fixFor(client: ClientId): string {
  const how = clientDefinition(client).configureClientId;
  return how ? `: ${how}` : ` in ${CLIENT_LABELS[client]}'s config`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
