// One `mcpServers` object of a Claude Code config file turned into McpServer entries, judged as
// Claude Code 2.1.197 judges them (`Dpt` and the server schemas in its bundled cli): the "type"
// picks a schema (missing means stdio, "streamable-http" means http), an entry that fails its
// schema is skipped, and `${VAR}` placeholders are expanded with unset ones left as written.
import type { Node } from 'jsonc-parser';
import * as z from 'zod';
import type { Finding, McpServer, OAuthSettings, Scope, Transport } from '../model';
import { expandPlaceholders, type Expansion } from '../placeholders';
import { CONFIG_FINDING } from './claudeCodeFindings';
import { describeJson, isPlainObject, locate, members, nodeAt, type JsonDoc, type Member } from './claudeCodeJson';
import { claudeCodeStorageKey } from './claudeCodeStorageKey';
import { urlProblem } from './urlProblem';

const PositiveInt = z.number().int().positive();

const OAuthSchema = z
  .object({
    clientId: z.string().optional(),
    callbackPort: PositiveInt.optional(),
    authServerMetadataUrl: z.url().startsWith('https://', { message: 'authServerMetadataUrl must use https://' }).optional(),
    // One string, space-separated, as in an OAuth scope parameter.
    scopes: z.string().min(1).optional(),
    xaa: z.boolean().optional(),
  })
  .loose();

const StdioSchema = z
  .object({
    type: z.literal('stdio').optional(),
    command: z.string().min(1, 'Command cannot be empty'),
    args: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    timeout: PositiveInt.optional(),
    alwaysLoad: z.boolean().optional(),
  })
  .loose();

const RemoteSchema = z
  .object({
    type: z.enum(['http', 'streamable-http', 'sse']),
    url: z.string(),
    headers: z.record(z.string(), z.string()).optional(),
    headersHelper: z.string().optional(),
    oauth: OAuthSchema.optional(),
    timeout: PositiveInt.optional(),
    alwaysLoad: z.boolean().optional(),
    tools: z.array(z.object({ name: z.string(), permission_policy: z.enum(['always_allow', 'always_ask', 'always_deny']).optional() }).loose()).optional(),
    toolPermissions: z.record(z.string(), z.enum(['allow', 'ask', 'blocked'])).optional(),
  })
  .loose();

/** Findings listed per entry before the rest are summed up in one. */
const MAX_ISSUES_PER_ENTRY = 5;

/** Types Claude Code accepts in config files but that carry no OAuth state for us to show. */
const OTHER_KNOWN_TYPES = new Set(['ws', 'sdk', 'claudeai-proxy']);

export interface EntrySource {
  doc: JsonDoc;
  scope: Scope;
  projectPath?: string;
  env: Record<string, string | undefined>;
  /** The name Claude Code lists the server under (plugins: `plugin:<plugin>:<server>`). */
  displayName?: (name: string) => string;
  /** Plugins only: substitutions Claude Code makes before `${VAR}` (CLAUDE_PLUGIN_ROOT, user_config.*). */
  preExpand?: (text: string) => Expansion;
  /** Plugins only: Claude Code expands headersHelper too. */
  expandHeadersHelper?: boolean;
}

export interface EntriesRead {
  servers: McpServer[];
  /** Entries that are not servers at all (wrong JSON type, unknown "type"). */
  findings: Finding[];
}

export function readServerMap(src: EntrySource, map: Node): EntriesRead {
  const out: EntriesRead = { servers: [], findings: [] };
  for (const m of members(map)) {
    const r = readEntry(src, m);
    if (r.server) out.servers.push(r.server);
    out.findings.push(...r.findings);
  }
  return out;
}

/** `${VAR}` expansion with Claude Code's rule for unset variables: the placeholder stays as written. */
export function expandLikeClaude(text: string, env: Record<string, string | undefined>): Expansion {
  const first = expandPlaceholders(text, env);
  if (first.missing.length === 0) return first;
  const keep = Object.fromEntries(first.missing.map((n) => [n, '${' + n + '}']));
  return { value: expandPlaceholders(text, { ...env, ...keep }).value, missing: first.missing };
}

function readEntry(src: EntrySource, m: Member): { server?: McpServer; findings: Finding[] } {
  const name = src.displayName ? src.displayName(m.name) : m.name;
  const where = locate(src.doc, m.key);
  const raw: unknown = JSON.parse(src.doc.text.slice(m.value.offset, m.value.offset + m.value.length));
  if (!isPlainObject(raw)) {
    return {
      findings: [
        {
          code: CONFIG_FINDING.invalidEntry,
          severity: 'error',
          title: `"${name}" is not a server entry`,
          detail: `mcpServers.${m.name} holds ${describeJson(raw)} where an object with "type" and "url" (or "command") is expected. Claude Code skips it.`,
          location: where,
        },
      ],
    };
  }
  const type = typeof raw.type === 'string' ? raw.type : raw.type === undefined ? 'stdio' : undefined;
  if (type !== undefined && type !== 'stdio' && !RemoteSchema.shape.type.safeParse(type).success) {
    const known = OTHER_KNOWN_TYPES.has(type);
    return {
      findings: [
        {
          code: known ? CONFIG_FINDING.unsupportedType : CONFIG_FINDING.unknownType,
          severity: known ? 'info' : 'warning',
          title: known ? `"${name}" is a ${type} server, not shown` : `"${name}" has an unknown type "${shorten(type)}"`,
          detail: known
            ? `Claude Code loads "${type}" servers, but they do not use OAuth, so there is nothing to check here.`
            : `Claude Code skips it. Valid types are stdio, http (or streamable-http) and sse (ws and sdk are for special cases).`,
          location: locate(src.doc, nodeAt(m.value, ['type'])),
        },
      ],
    };
  }
  const remote = type === 'http' || type === 'streamable-http' || type === 'sse';
  // No "type" but a url: Claude Code reads a stdio server without a command and skips it. Shown as
  // the http server the user meant, with that error, so the fix is one line away.
  const missingType = raw.type === undefined && raw.command === undefined && typeof raw.url === 'string';
  const transport: Transport = type === 'sse' ? 'sse' : remote || missingType ? 'http' : 'stdio';

  const findings: Finding[] = [];
  const parsed = (remote ? RemoteSchema : StdioSchema).safeParse(raw);
  if (missingType) {
    findings.push({
      code: CONFIG_FINDING.missingType,
      severity: 'error',
      title: `"${name}" has a url but no "type"`,
      detail: `Claude Code treats an entry without "type" as a stdio server, finds no "command" and skips it. Add "type": "http" (or "sse").`,
      location: where,
    });
  } else if (!parsed.success) {
    // An array of 20,000 numbers where strings belong is 20,000 issues: the first few say enough.
    const issues = parsed.error.issues;
    for (const issue of issues.slice(0, MAX_ISSUES_PER_ENTRY)) findings.push(issueFinding(src, m, name, raw, issue));
    if (issues.length > MAX_ISSUES_PER_ENTRY) {
      findings.push({
        code: CONFIG_FINDING.invalidEntry,
        severity: 'error',
        title: `"${name}": ${issues.length - MAX_ISSUES_PER_ENTRY} more invalid values`,
        detail: `Only the first ${MAX_ISSUES_PER_ENTRY} of ${issues.length} problems in this entry are listed. Claude Code skips this entry until they are fixed.`,
        location: where,
      });
    }
  }

  const server: McpServer = {
    client: 'claude-code',
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
    const pre = src.preExpand ? src.preExpand(text) : { value: text, missing: [] };
    const env = expandLikeClaude(pre.value, src.env);
    for (const variable of [...pre.missing, ...env.missing]) {
      if (reported.has(variable)) continue;
      reported.add(variable);
      const v = shorten(variable, 64);
      findings.push({
        code: CONFIG_FINDING.unsetVariable,
        severity: 'warning',
        title: `"${name}" uses \${${v}}, which is not set`,
        detail: `${what} refers to ${v}, which is not set in this environment and has no default. Claude Code sends the text \${${v}} as it is. Set ${v} where Claude Code starts (VS Code's environment may differ from your shell's), or give a default with \${${v}:-value}.`,
        location: locate(src.doc, nodeAt(m.value, path)),
      });
    }
    return env.value;
  };

  if (transport === 'stdio') {
    if (typeof raw.command === 'string') {
      server.command = raw.command;
      expand(raw.command, ['command'], 'The command');
    }
    if (Array.isArray(raw.args)) raw.args.forEach((a, i) => typeof a === 'string' && expand(a, ['args', i], `Argument ${i + 1}`));
    if (isPlainObject(raw.env)) for (const [k, v] of Object.entries(raw.env)) if (typeof v === 'string') expand(v, ['env', k], `The environment variable ${k}`);
    return { server, findings: [] };
  }

  if (typeof raw.url === 'string') {
    server.rawUrl = raw.url;
    const before = findings.length;
    server.url = expand(raw.url, ['url'], 'The url');
    if (findings.length === before && !missingType) {
      const problem = urlProblem(server.url);
      if (problem) {
        findings.push({
          code: CONFIG_FINDING.invalidUrl,
          severity: 'error',
          title: `"${name}" has an invalid url`,
          detail: `The url ${problem}; Claude Code loads the entry but cannot connect to it.`,
          location: locate(src.doc, nodeAt(m.value, ['url'])),
        });
      }
    }
  }
  if (isPlainObject(raw.headers)) {
    for (const [k, v] of Object.entries(raw.headers)) {
      if (typeof v !== 'string') continue;
      server.headerNames.push(k);
      server.headers[k] = expand(v, ['headers', k], `The ${k} header`);
    }
  }
  if (typeof raw.headersHelper === 'string') {
    server.headersHelper = src.expandHeadersHelper ? expand(raw.headersHelper, ['headersHelper'], 'headersHelper') : raw.headersHelper;
  }
  const oauth = oauthSettings(raw.oauth);
  if (oauth) server.oauth = oauth;
  // Only for an entry Claude Code loads: it never computes a key for one it skipped.
  if (remote && parsed.success && server.url !== undefined) {
    server.storageKey = claudeCodeStorageKey(name, { type: type === 'sse' ? 'sse' : 'http', url: server.url, headers: server.headers });
  }
  return { server, findings: [] };
}

function issueFinding(src: EntrySource, m: Member, name: string, raw: Record<string, unknown>, issue: z.core.$ZodIssue): Finding {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const location = locate(src.doc, nodeAt(m.value, path));
  const field = path.join('.') || '(entry)';
  if (field === 'url' && raw.url === undefined) {
    return {
      code: CONFIG_FINDING.missingUrl,
      severity: 'error',
      title: `"${name}" has no url`,
      detail: `A ${String(raw.type)} server needs "url"; Claude Code skips this entry.`,
      location,
    };
  }
  if (field === 'command' && (raw.command === undefined || raw.command === '')) {
    return {
      code: CONFIG_FINDING.missingCommand,
      severity: 'error',
      title: `"${name}" has no command`,
      detail: `${raw.type === undefined ? 'Without "type" an entry is a stdio server, which' : 'A stdio server'} needs a non-empty "command"; Claude Code skips this entry.`,
      location,
    };
  }
  return {
    code: CONFIG_FINDING.invalidEntry,
    severity: 'error',
    title: `"${name}": ${field} is invalid`,
    detail: `${field}: ${issue.message.replace(/^Invalid input: /, '')}. Claude Code skips this entry until it is fixed.`,
    location,
  };
}

/** A value quoted in a title stays a few words long, however long the file's string is. */
function shorten(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function oauthSettings(raw: unknown): OAuthSettings | undefined {
  if (!isPlainObject(raw)) return undefined;
  const o: OAuthSettings = {};
  if (typeof raw.clientId === 'string') o.clientId = raw.clientId;
  if (typeof raw.callbackPort === 'number') o.callbackPort = raw.callbackPort;
  if (typeof raw.authServerMetadataUrl === 'string') o.authServerMetadataUrl = raw.authServerMetadataUrl;
  if (typeof raw.scopes === 'string') o.scopes = raw.scopes.split(/\s+/).filter(Boolean);
  if (raw.xaa === true) o.enterpriseManaged = true;
  return Object.keys(o).length > 0 ? o : undefined;
}
