// One settings file's `mcpServers` entries as Gemini CLI 0.61.0 reads them, turned into McpServer.
// - Schema: MCPServerConfig in the settings schema (chunk-2YTYPKEZ.js:15115): command, args, env,
//   cwd, url, httpUrl, headers, tcp, type ("stdio" | "sse" | "http"), timeout, trust, description,
//   includeTools, excludeTools, extension, oauth (any object), authProviderType, targetAudience,
//   targetServiceAccount. A value of the wrong type is only a warning for Gemini: it warns and
//   goes on with the file as written (`load`, :16563-16581), so such entries are still listed.
// - Transport (createTransport / createUrlTransport, chunk-JDPZ4CE3.js:370207-370260): `httpUrl`
//   is Streamable HTTP (and wins over `url`); `url` is SSE with `type: "sse"`, else Streamable
//   HTTP (without `type`, Gemini falls back to SSE when the HTTP attempt fails with anything but
//   a 401, :370086); a url is checked before `command`; none of the three is an error.
// - OAuth block: MCPOAuthConfig (packages/core/src/mcp/oauth-provider.ts): enabled, clientId,
//   clientSecret, authorizationUrl, tokenUrl, scopes (array), audiences, redirectUri,
//   tokenParamName, registrationUrl. The redirect URI's port is the callback port
//   (getPortFromUrl, chunk-JDPZ4CE3.js:368509), unless OAUTH_CALLBACK_PORT is set.
// - Tokens are filed under the server's name as written (MCPOAuthTokenStorage keys its map by
//   `serverName`, :368166), so that name is the storage key. `authProviderType`
//   google_credentials / service_account_impersonation never read stored tokens (:370252).
import * as z from 'zod';
import type { Finding, McpServer, OAuthSettings, Scope, Transport } from '../../model';
import { CONFIG_FINDING } from '../../config/claudeCodeFindings';
import { locate, members, nodeAt, type Member } from '../../config/claudeCodeJson';
import { describeJson, isPlainObject } from '../../jsonShape';
import { expandLikeGemini } from './envExpand';
import type { SettingsDoc } from './settingsFile';
import { urlProblem } from '../../config/urlProblem';

export const GEMINI_CLIENT: McpServer['client'] = 'gemini-cli';

/** The auth providers that bring their own credentials instead of Gemini's MCP OAuth store. */
const GOOGLE_AUTH_PROVIDERS = new Set(['google_credentials', 'service_account_impersonation']);

const StringRecord = z.record(z.string(), z.string());
const StringArray = z.array(z.string());

/** Gemini's own field types (warnings only, as Gemini treats them). */
const EntrySchema = z.object({
  command: z.string().optional(),
  args: StringArray.optional(),
  env: StringRecord.optional(),
  cwd: z.string().optional(),
  url: z.string().optional(),
  httpUrl: z.string().optional(),
  headers: StringRecord.optional(),
  tcp: z.string().optional(),
  type: z.enum(['stdio', 'sse', 'http']).optional(),
  timeout: z.number().optional(),
  trust: z.boolean().optional(),
  description: z.string().optional(),
  includeTools: StringArray.optional(),
  excludeTools: StringArray.optional(),
  extension: z.record(z.string(), z.unknown()).optional(),
  oauth: z
    .object({
      enabled: z.boolean().optional(),
      clientId: z.string().optional(),
      clientSecret: z.string().optional(),
      authorizationUrl: z.string().optional(),
      tokenUrl: z.string().optional(),
      scopes: StringArray.optional(),
      audiences: StringArray.optional(),
      redirectUri: z.string().optional(),
      tokenParamName: z.string().optional(),
      registrationUrl: z.string().optional(),
    })
    .optional(),
  authProviderType: z.enum(['dynamic_discovery', 'google_credentials', 'service_account_impersonation']).optional(),
  targetAudience: z.string().optional(),
  targetServiceAccount: z.string().optional(),
});

const MAX_ISSUES_PER_ENTRY = 5;

export interface EntrySource {
  doc: SettingsDoc;
  scope: Scope;
  projectPath?: string;
  env: Record<string, string | undefined>;
  /** For people: "Gemini CLI user settings (~/.gemini/settings.json)". */
  label: string;
}

export interface EntriesRead {
  servers: McpServer[];
  findings: Finding[];
}

/** Every entry of the file's `mcpServers`, or a finding when that is not an object. */
export function readMcpServers(src: EntrySource): EntriesRead {
  const out: EntriesRead = { servers: [], findings: [] };
  const raw = src.doc.value.mcpServers;
  if (raw === undefined) return out;
  const node = nodeAt(src.doc.root, ['mcpServers']);
  if (!isPlainObject(raw) || node.type !== 'object') {
    out.findings.push({
      code: CONFIG_FINDING.invalidEntry,
      severity: 'warning',
      title: `"mcpServers" in ${src.label} is not an object`,
      detail: `${src.doc.file}: mcpServers holds ${describeJson(raw)} where an object of servers by name is expected. Gemini CLI warns and finds no servers in this file.`,
      location: locate(src.doc, node),
    });
    return out;
  }
  for (const m of members(node)) {
    const r = readEntry(src, m);
    if (r.server) out.servers.push(r.server);
    out.findings.push(...r.findings);
  }
  return out;
}

function readEntry(src: EntrySource, m: Member): { server?: McpServer; findings: Finding[] } {
  const name = m.name;
  const where = locate(src.doc, m.key);
  const raw = (src.doc.value.mcpServers as Record<string, unknown>)[name];
  if (!isPlainObject(raw)) {
    return {
      findings: [
        {
          code: CONFIG_FINDING.invalidEntry,
          severity: 'warning',
          title: `"${name}" is not a server entry`,
          detail: `mcpServers.${name} holds ${describeJson(raw)} where an object with "httpUrl", "url" or "command" is expected. Gemini CLI cannot connect to it.`,
          location: where,
        },
      ],
    };
  }
  const findings: Finding[] = [];
  const parsed = EntrySchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues.slice(0, MAX_ISSUES_PER_ENTRY)) findings.push(issueFinding(src, m, name, issue));
  }
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const httpUrl = str(raw.httpUrl);
  const url = str(raw.url);
  const command = str(raw.command);
  const remoteUrl = httpUrl || url;
  let transport: Transport;
  if (httpUrl) transport = 'http';
  else if (url) transport = raw.type === 'sse' ? 'sse' : 'http';
  else if (command) transport = 'stdio';
  else {
    findings.push({
      code: CONFIG_FINDING.missingUrl,
      severity: 'error',
      title: `"${name}" has no httpUrl, url or command`,
      detail: `Gemini CLI cannot start this server ("Invalid configuration: missing httpUrl (for Streamable HTTP), url (for SSE), and command (for stdio)"). Add "httpUrl" or "url" with "type": "http" for a remote server.`,
      location: where,
    });
    return { findings };
  }

  const server: McpServer = {
    client: GEMINI_CLIENT,
    scope: src.scope,
    name,
    transport,
    headerNames: [],
    headers: {},
    enabled: true,
    source: where,
    ...(src.projectPath ? { projectPath: src.projectPath } : {}),
    findings,
  };
  const reported = new Set<string>();
  const expand = (text: string, path: (string | number)[], what: string): string => {
    const r = expandLikeGemini(text, src.env);
    for (const variable of r.missing) {
      if (reported.has(variable)) continue;
      reported.add(variable);
      const v = variable.length > 64 ? `${variable.slice(0, 64)}…` : variable;
      findings.push({
        code: CONFIG_FINDING.unsetVariable,
        severity: 'warning',
        title: `"${name}" uses $${v}, which is not set`,
        detail: `${what} refers to ${v}, which is not set in this environment and has no default. Gemini CLI leaves the text $${v} (or \${${v}}) as it is. Set ${v} where Gemini CLI starts, or give a default with \${${v}:-value}.`,
        location: locate(src.doc, nodeAt(m.value, path)),
      });
    }
    return r.value;
  };

  if (transport === 'stdio') {
    server.command = command;
    expand(command ?? '', ['command'], 'The command');
    if (Array.isArray(raw.args)) raw.args.forEach((a, i) => typeof a === 'string' && expand(a, ['args', i], `Argument ${i + 1}`));
    if (isPlainObject(raw.env)) for (const [k, v] of Object.entries(raw.env)) if (typeof v === 'string') expand(v, ['env', k], `The environment variable ${k}`);
    return { server, findings: [] };
  }

  const urlField = httpUrl ? 'httpUrl' : 'url';
  server.rawUrl = remoteUrl;
  const before = findings.length;
  server.url = expand(remoteUrl ?? '', [urlField], `The ${urlField}`);
  if (findings.length === before) {
    const problem = urlProblem(server.url);
    if (problem) {
      findings.push({
        code: CONFIG_FINDING.invalidUrl,
        severity: 'error',
        title: `"${name}" has an invalid ${urlField}`,
        detail: `The ${urlField} ${problem}; Gemini CLI cannot connect to it.`,
        location: locate(src.doc, nodeAt(m.value, [urlField])),
      });
    }
  }
  if (isPlainObject(raw.headers)) {
    for (const [k, v] of Object.entries(raw.headers)) {
      if (typeof v !== 'string') continue;
      server.headerNames.push(k);
      server.headers[k] = expand(v, ['headers', k], `The ${k} header`);
    }
  }
  const oauth = oauthSettings(raw.oauth, (text, path) => expand(text, ['oauth', ...path], `oauth.${path.join('.')}`));
  if (oauth) server.oauth = oauth;
  if (!(typeof raw.authProviderType === 'string' && GOOGLE_AUTH_PROVIDERS.has(raw.authProviderType))) server.storageKey = name;
  return { server, findings: [] };
}

function issueFinding(src: EntrySource, m: Member, name: string, issue: z.core.$ZodIssue): Finding {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const field = path.join('.') || '(entry)';
  return {
    code: CONFIG_FINDING.invalidEntry,
    severity: 'warning',
    title: `"${name}": ${field} is invalid`,
    detail: `${field}: ${issue.message.replace(/^Invalid input: /, '')}. Gemini CLI warns about it ("Invalid configuration in ${src.doc.file}") and uses the value as written, which may fail when it connects.`,
    location: locate(src.doc, nodeAt(m.value, path)),
  };
}

function oauthSettings(raw: unknown, expand: (text: string, path: (string | number)[]) => string): OAuthSettings | undefined {
  if (!isPlainObject(raw)) return undefined;
  const o: OAuthSettings = {};
  if (typeof raw.clientId === 'string') o.clientId = expand(raw.clientId, ['clientId']);
  if (Array.isArray(raw.scopes)) o.scopes = raw.scopes.flatMap((s, i) => (typeof s === 'string' ? [expand(s, ['scopes', i])] : []));
  if (typeof raw.redirectUri === 'string') {
    o.callbackUrl = expand(raw.redirectUri, ['redirectUri']);
    const port = portOf(o.callbackUrl);
    if (port !== undefined) o.callbackPort = port;
  }
  return Object.keys(o).length > 0 ? o : undefined;
}

/** getPortFromUrl: an explicit port from 1 to 65535, else none. */
function portOf(url: string): number | undefined {
  try {
    const port = new URL(url).port;
    const n = port ? Number.parseInt(port, 10) : NaN;
    return n > 0 && n <= 65535 ? n : undefined;
  } catch {
    return undefined;
  }
}

