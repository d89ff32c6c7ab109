// One editor/app config file's server map turned into McpServer entries. The four apps share the
// shape (a name → entry object; `command`/`args`/`env` for stdio, a url and `headers` for remote)
// and differ in the key of the map, the key of the url, how the transport is chosen and which
// variables they expand: each passes those as AppRules. Finding codes are the Claude Code
// reader's (config/claudeCodeFindings.ts), documented in docs/findings.md.
import type { Node } from 'jsonc-parser';
import * as z from 'zod';
import { CONFIG_FINDING } from '../../config/claudeCodeFindings';
import { describeJson, isPlainObject, locate, members, nodeAt, type JsonDoc, type Member } from '../../config/claudeCodeJson';
import type { ClientId, Finding, McpServer, Scope, Transport } from '../../model';
import { runsMcpRemote } from './mcpRemote';
import { valueOf } from './json';
import { expandEditorVariables, type Unresolved, type VariableContext, type VariableRules } from './variables';
import { urlProblem } from '../../config/urlProblem';

/** How an app picks the transport of one entry; `undefined` with a finding when it cannot. */
export type TransportRule = (raw: Record<string, unknown>, url: string | undefined) => { transport?: Transport; finding?: Omit<Finding, 'location'> & { at?: string } };

export interface AppRules {
  client: ClientId;
  /** The app, in sentences ("VS Code"). */
  app: string;
  /** The map's key: "servers" (VS Code) or "mcpServers". */
  serversKey: string;
  /** Keys holding the url, first found wins (Windsurf: serverUrl, then url). */
  urlKeys: readonly string[];
  transport: TransportRule;
  variables: VariableRules;
  /** A key whose `true` turns the entry off (Windsurf "disabled"). */
  disabledKey?: string;
  /**
   * Leave `npx mcp-remote <url>` entries to the mcp-remote client, which reads this app's file too
   * (clients/mcp-remote/config.ts hostConfigFiles: Claude Desktop, Cursor, Windsurf). VS Code's
   * files are not among them, so there such an entry stays a VS Code stdio server.
   */
  mcpRemoteElsewhere: boolean;
}

export interface FileSource {
  doc: JsonDoc;
  scope: Scope;
  projectPath?: string;
  vars: VariableContext;
  /** VS Code profile the file belongs to, when not the default one. */
  profile?: string;
}

/** Findings listed per entry before the rest are summed up in one. */
const MAX_ISSUES_PER_ENTRY = 5;

const StringMap = z.record(z.string(), z.string());
const EntrySchema = z
  .object({
    type: z.string().optional(),
    command: z.string().optional(),
    args: z.array(z.string()).optional(),
    env: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).optional(),
    headers: StringMap.optional(),
  })
  .loose();

export interface ServersRead {
  servers: McpServer[];
  findings: Finding[];
}

/** The file's servers: its top-level `serversKey` object, with a finding when it is not one. */
export function readServersFile(rules: AppRules, src: FileSource, label: string): ServersRead {
  const top = src.doc.value;
  if (!isPlainObject(top)) {
    return { servers: [], findings: [{ code: CONFIG_FINDING.missingServers, severity: 'error', title: `${label} is not a JSON object`, detail: `${src.doc.file} holds ${describeJson(top)}; ${rules.app} expects {"${rules.serversKey}": {…}}.`, location: locate(src.doc, src.doc.root) }] };
  }
  const map = top[rules.serversKey];
  if (map === undefined) return { servers: [], findings: [] };
  const node = nodeAt(src.doc.root, [rules.serversKey]);
  if (!isPlainObject(map)) {
    return {
      servers: [],
      findings: [{ code: CONFIG_FINDING.missingServers, severity: 'error', title: `${label}: "${rules.serversKey}" is not an object`, detail: `"${rules.serversKey}" holds ${describeJson(map)} where an object of servers by name is expected. ${rules.app} loads no servers from this file.`, location: locate(src.doc, node) }],
    };
  }
  return readServerMap(rules, src, node);
}

export function readServerMap(rules: AppRules, src: FileSource, map: Node): ServersRead {
  const out: ServersRead = { servers: [], findings: [] };
  for (const m of members(map)) {
    const r = readEntry(rules, src, m);
    if (r.server) out.servers.push(r.server);
    out.findings.push(...r.findings);
  }
  return out;
}

function readEntry(rules: AppRules, src: FileSource, m: Member): { server?: McpServer; findings: Finding[] } {
  const name = m.name;
  const where = locate(src.doc, m.key);
  const raw = valueOf(m.value);
  if (!isPlainObject(raw)) {
    return { findings: [{ code: CONFIG_FINDING.invalidEntry, severity: 'error', title: `"${name}" is not a server entry`, detail: `${rules.serversKey}.${name} holds ${describeJson(raw)} where an object with "url" (or "command") is expected. ${rules.app} cannot load it.`, location: where }] };
  }
  // mcp-remote entries are the mcp-remote client's: it lists them, with this app as their host.
  if (rules.mcpRemoteElsewhere && runsMcpRemote(raw.command, raw.args)) return { findings: [] };

  const urlKey = rules.urlKeys.find((k) => raw[k] !== undefined);
  const rawUrlValue = urlKey ? raw[urlKey] : undefined;
  const findings: Finding[] = [];
  const at = (path: (string | number)[]) => locate(src.doc, nodeAt(m.value, path));
  if (urlKey && typeof rawUrlValue !== 'string') {
    findings.push({ code: CONFIG_FINDING.invalidEntry, severity: 'error', title: `"${name}": ${urlKey} is invalid`, detail: `${urlKey} holds ${describeJson(rawUrlValue)} where a URL string is expected. ${rules.app} cannot connect to this entry.`, location: at([urlKey]) });
  }
  const parsed = EntrySchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    for (const issue of issues.slice(0, MAX_ISSUES_PER_ENTRY)) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const field = path.join('.') || '(entry)';
      findings.push({ code: CONFIG_FINDING.invalidEntry, severity: 'error', title: `"${name}": ${field} is invalid`, detail: `${field}: ${issue.message.replace(/^Invalid input: /, '')}. ${rules.app} may refuse this entry until it is fixed.`, location: at(path) });
    }
    if (issues.length > MAX_ISSUES_PER_ENTRY) {
      findings.push({ code: CONFIG_FINDING.invalidEntry, severity: 'error', title: `"${name}": ${issues.length - MAX_ISSUES_PER_ENTRY} more invalid values`, detail: `Only the first ${MAX_ISSUES_PER_ENTRY} of ${issues.length} problems in this entry are listed.`, location: where });
    }
  }
  const url = typeof rawUrlValue === 'string' ? rawUrlValue : undefined;
  const chosen = rules.transport(raw, url);
  if (chosen.finding) {
    const { at: field, ...f } = chosen.finding;
    findings.push({ ...f, location: field ? at([field]) : where });
  }
  if (!chosen.transport) return { findings };
  const transport = chosen.transport;

  const server: McpServer = {
    client: rules.client,
    scope: src.scope,
    name,
    transport,
    headerNames: [],
    headers: {},
    enabled: !(rules.disabledKey && raw[rules.disabledKey] === true),
    source: where,
    ...(src.projectPath ? { projectPath: src.projectPath } : {}),
    ...(src.profile ? { profile: src.profile } : {}),
    findings,
  };
  const reported = new Set<string>();
  const expand = (text: string, path: (string | number)[], what: string): string => {
    const r = expandEditorVariables(text, rules.variables, src.vars);
    for (const u of r.unresolved) {
      if (reported.has(u.text)) continue;
      reported.add(u.text);
      findings.push(unresolvedFinding(rules, name, what, u, at(path)));
    }
    return r.value;
  };

  if (transport === 'stdio') {
    if (typeof raw.command === 'string') server.command = raw.command;
    return { server, findings: [] };
  }
  if (url !== undefined && urlKey) {
    server.rawUrl = url;
    const before = findings.length;
    server.url = expand(url, [urlKey], `The ${urlKey}`);
    if (findings.length === before) {
      const problem = urlProblem(server.url);
      if (problem) findings.push({ code: CONFIG_FINDING.invalidUrl, severity: 'error', title: `"${name}" has an invalid url`, detail: `The ${urlKey} ${problem}; ${rules.app} cannot connect to it.`, location: at([urlKey]) });
    }
  }
  if (isPlainObject(raw.headers)) {
    for (const [k, v] of Object.entries(raw.headers)) {
      if (typeof v !== 'string') continue;
      server.headerNames.push(k);
      server.headers[k] = expand(v, ['headers', k], `The ${k} header`);
    }
  }
  return { server, findings: [] };
}

/** A value quoted in a title stays a few words long. */
export function shorten(text: string, max = 48): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function unresolvedFinding(rules: AppRules, name: string, what: string, u: Unresolved, location: Finding['location']): Finding {
  const v = shorten(u.text);
  const base = { code: CONFIG_FINDING.unsetVariable, location } as const;
  switch (u.kind) {
    case 'unset-env':
      return {
        ...base,
        severity: 'warning',
        title: `"${name}" uses ${v}, which is not set`,
        detail: `${what} refers to the environment variable ${shorten(u.name)}, which is not set in this environment. ${rules.variables.unsetEnv === 'empty' ? `${rules.app} puts an empty string in its place.` : `No source says what ${rules.app} puts in its place; the text is checked as written.`} Set it where ${rules.app} starts (an app started from the dock or a desktop launcher may not see your shell's variables), then restart ${rules.app}.`,
      };
    case 'input':
      return {
        ...base,
        severity: 'info',
        title: `"${name}" asks for ${v} when it starts`,
        detail: `${what} uses the input "${shorten(u.name)}": ${rules.app} asks for its value the first time the server starts and keeps the answer in its own secret storage, which is not read here. The url or header is checked without it.`,
      };
    case 'no-folder':
      return {
        ...base,
        severity: 'warning',
        title: `"${name}" uses ${v} but no single folder is open`,
        detail: `${what} uses ${v}, which ${rules.app} fills with the open workspace folder. No single folder is open for this check, so the text is checked as written.`,
      };
    case 'file':
      return {
        ...base,
        severity: 'info',
        title: `"${name}" reads ${v}`,
        detail: `${what} takes part of its value from a file, which ${rules.app} reads when it connects; that file is not read here (it usually holds a secret), so the value is checked without it.`,
      };
    default:
      return {
        ...base,
        severity: 'warning',
        title: `"${name}" uses ${v}, which ${rules.app} does not expand here`,
        detail: `${what} uses ${v}. No source says ${rules.app} expands this variable in MCP configs, so it likely sends the text as written.`,
      };
  }
}
