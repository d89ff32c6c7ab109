// Claude Code's MCP servers, read the way Claude Code 2.1.197 reads them (its bundled cli, checked
// against `claude mcp list` on a sandbox HOME):
// - user:    `mcpServers` of the global config ($CLAUDE_CONFIG_DIR/.claude.json, else ~/.claude.json);
// - local:   `projects["<project key>"].mcpServers` there (the key is the project's git root);
// - project: `.mcp.json` in each open folder and its ancestors (not the filesystem root);
// - managed: managed-mcp.json; when it parses, Claude Code uses only its servers;
// - plugin:  enabled plugins' `.mcp.json` / manifest servers, named `plugin:<plugin>:<server>`.
// A server is off when listed in `projects[key].disabledMcpServers` (the /mcp toggle); a .mcp.json
// server also needs approval (enabledMcpjsonServers / enableAllProjectMcpServers in settings) and
// is off when rejected (disabledMcpjsonServers).
//
// Finding codes (docs/findings.md is written from this list):
// - config.unreadable              error    a config file exists but cannot be read
// - config.invalid-json            error    not JSON (also empty, comments, trailing commas); settings/plugin files: warning
// - config.too-large               error    .mcp.json / managed-mcp.json over 2 MiB, which Claude Code skips
// - config.missing-servers         error    .mcp.json / managed-mcp.json without an "mcpServers" object
// - config.invalid-entry           error    mcpServers, projects or a server entry of the wrong JSON type, or a field failing Claude Code's schema
// - config.unknown-type            warning  "type" is none Claude Code knows; it skips the entry
// - config.unsupported-type        info     ws / sdk / claudeai-proxy entries: valid, but without OAuth; not listed
// - config.missing-type            error    a url but no "type": Claude Code reads it as stdio and skips it
// - config.missing-url             error    http/sse entry without "url"
// - config.missing-command         error    stdio entry without a non-empty "command"
// - config.invalid-url             error    the url (placeholders expanded) is not an absolute http(s) URL
// - config.unset-variable          warning  ${VAR} without default and VAR unset (names the variable, never a value)
// - config.project-server-pending  info     .mcp.json server not yet approved: Claude Code asks before starting it
// - config.project-server-rejected info     .mcp.json server the user declined (disabledMcpjsonServers)
// - config.managed-exclusive       info     managed-mcp.json takes exclusive control: this server does not load
// - config.headers-helper-untrusted warning a local or .mcp.json server's headersHelper in a folder without persisted trust: 2.1.332 does not run it
import * as path from 'node:path';
import { findNodeAtLocation, type Node } from 'jsonc-parser';
import type { Environment } from '../environment';
import type { ConfigScan, Finding, McpServer } from '../model';
import { CONFIG_FINDING } from './claudeCodeFindings';
import { readServerMap } from './claudeCodeEntries';
import { describeJson, isPlainObject, locate, members, readJsonFile, type JsonDoc } from './claudeCodeJson';
import { globalConfigCandidates, managedMcpFile, mcpJsonChain, projectKey } from './claudeCodePaths';
import { scanPlugins } from './claudeCodePlugins';
import { readProjectSettings, type Approval, type ClaudeSettings, type ProjectSettings, type Trust } from './claudeCodeSettings';

/** Claude Code skips .mcp.json and managed-mcp.json files above this size (`H2n`). */
const MAX_MCP_CONFIG_BYTES = 2 * 1024 * 1024;

/** What ~/.claude.json says about one project beyond its servers. */
interface ProjectState {
  disabledMcpServers: Set<string>;
  trusted: boolean;
  legacyApprovals: ClaudeSettings;
}

export async function scanClaudeCode(e: Environment): Promise<ConfigScan> {
  const projectDirs = [...new Set(e.projectDirs.map((d) => path.resolve(d)))];
  const located = await Promise.all(projectDirs.map((d) => projectKey(d, e.platform)));
  const keys = located.map((l) => l.key);
  const files: string[] = [];
  const findings: Finding[] = [];

  const global = await readGlobalConfig(e, keys);
  files.push(...global.files);
  findings.push(...global.findings);
  const stateOf = (key: string | undefined): ProjectState | undefined => (key === undefined ? undefined : global.projects.get(key));

  const settingsOf: ProjectSettings[] = [];
  for (const [i, dir] of projectDirs.entries()) settingsOf.push(await readProjectSettings(e, dir, stateOf(keys[i])?.legacyApprovals));
  const baseSettings = settingsOf[0] ?? (await readProjectSettings(e, undefined));
  for (const s of settingsOf.length > 0 ? settingsOf : [baseSettings]) {
    files.push(...s.files);
    findings.push(...s.findings);
  }

  const ignoreTrust = ignoresPersistedTrust(e.env);
  const trusts: Trust[] = located.map((l) => ({ trusted: stateOf(l.key)?.trusted ?? false, localCounts: l.inGitRepo }));
  const project = await readProjectServers(projectDirs, keys, trusts, settingsOf, stateOf, e.env);
  files.push(...project.files);
  findings.push(...project.findings);

  const managed = await readMcpFile(managedMcpFile(e), 'managed', undefined, e.env, {
    label: 'Claude Code managed MCP config',
    consequence: 'Claude Code loads none of its servers.',
  });
  files.push(managed.file);
  findings.push(...managed.findings);

  const plugins = await scanPlugins({ e, settings: baseSettings, projectDirs, projectKeys: keys });
  files.push(...plugins.files);
  findings.push(...plugins.findings);

  // The /mcp toggle is per project: servers outside any one project follow the first open project.
  const firstDisabled = stateOf(keys[0])?.disabledMcpServers;
  const off = (s: McpServer, disabled: Set<string> | undefined) => (disabled?.has(s.name) ? { ...s, enabled: false } : s);
  let servers: McpServer[] = [
    ...global.user.map((s) => off(s, firstDisabled)),
    ...global.local.map((s) => helperTrust(off(s, stateOf(s.projectPath)?.disabledMcpServers), !ignoreTrust && (stateOf(s.projectPath)?.trusted ?? false), s.projectPath, ignoreTrust)),
    ...project.servers,
    ...managed.servers.map((s) => off(s, firstDisabled)),
    ...plugins.servers.map((s) => off(s, firstDisabled)),
  ];
  if (managed.valid) {
    // `doesEnterpriseMcpConfigExist`: a parseable managed-mcp.json makes it the only source.
    servers = servers.map((s) =>
      s.scope === 'managed'
        ? s
        : {
            ...s,
            enabled: false,
            findings: [
              ...s.findings,
              {
                code: CONFIG_FINDING.managedExclusive,
                severity: 'info',
                title: `"${s.name}" is ignored: managed-mcp.json is in control`,
                detail: `${managed.file} exists, so Claude Code loads only the servers listed there. Ask your administrator to add this one.`,
                location: s.source,
              },
            ],
          },
    );
  }
  return { servers, findings: dedupeFindings(findings), files: [...new Set(files)] };
}

interface GlobalRead {
  files: string[];
  findings: Finding[];
  user: McpServer[];
  local: McpServer[];
  projects: Map<string, ProjectState>;
}

async function readGlobalConfig(e: Environment, openKeys: string[]): Promise<GlobalRead> {
  const { file, looked } = await globalConfigCandidates(e);
  const out: GlobalRead = { files: looked, findings: [], user: [], local: [], projects: new Map() };
  const read = await readJsonFile(file, {
    label: 'Claude Code config',
    consequence: 'Claude Code then starts with an empty config (and backs up the broken file): none of its user or local MCP servers load.',
  });
  if (read.kind === 'bad') out.findings.push(read.finding);
  if (read.kind !== 'ok') return out;
  const { doc } = read;
  if (!isPlainObject(doc.value)) {
    out.findings.push(shapeFinding(doc, doc.root, 'The config', doc.value, 'Claude Code loads no user or local servers from it.'));
    return out;
  }
  const userMap = serverMapNode(doc, doc.root, ['mcpServers'], 'Claude Code loads no user-scope servers.', out.findings);
  if (userMap) {
    const r = readServerMap({ doc, scope: 'user', env: e.env }, userMap);
    out.user.push(...r.servers);
    out.findings.push(...r.findings);
  }
  const projectsNode = findNodeAtLocation(doc.root, ['projects']);
  if (!projectsNode || doc.value.projects === null) return out;
  if (projectsNode.type !== 'object') {
    out.findings.push(shapeFinding(doc, projectsNode, '"projects"', doc.value.projects, 'Claude Code loads no local-scope servers.'));
    return out;
  }
  const entries = members(projectsNode);
  // The open projects first, in the order they were given; then every other project as in the file.
  const rank = (name: string) => (openKeys.includes(name) ? openKeys.indexOf(name) : openKeys.length);
  const ordered = entries.map((m, i) => ({ m, i })).sort((a, b) => rank(a.m.name) - rank(b.m.name) || a.i - b.i);
  for (const { m } of ordered) {
    if (m.value.type !== 'object') continue;
    const raw = (doc.value.projects as Record<string, unknown>)[m.name];
    if (!isPlainObject(raw)) continue;
    out.projects.set(m.name, {
      disabledMcpServers: new Set(stringList(raw.disabledMcpServers)),
      trusted: raw.hasTrustDialogAccepted === true,
      legacyApprovals: {
        ...(typeof raw.enableAllProjectMcpServers === 'boolean' ? { enableAllProjectMcpServers: raw.enableAllProjectMcpServers } : {}),
        enabledMcpjsonServers: stringList(raw.enabledMcpjsonServers),
        disabledMcpjsonServers: stringList(raw.disabledMcpjsonServers),
      },
    });
    const map = serverMapNode(doc, m.value, ['mcpServers'], `Claude Code loads no local-scope servers for ${m.name}.`, out.findings);
    if (!map) continue;
    const r = readServerMap({ doc, scope: 'local', projectPath: m.name, env: e.env }, map);
    out.local.push(...r.servers);
    out.findings.push(...r.findings);
  }
  return out;
}

interface McpFileRead {
  file: string;
  servers: McpServer[];
  findings: Finding[];
  /** The file parsed and has an mcpServers object: what makes managed-mcp.json exclusive. */
  valid: boolean;
}

/** A file in .mcp.json form, `{"mcpServers": {...}}`: a project's, an ancestor's or the managed one. */
async function readMcpFile(
  file: string,
  scope: 'project' | 'managed',
  projectPath: string | undefined,
  env: Record<string, string | undefined>,
  opts: { label: string; consequence: string },
): Promise<McpFileRead> {
  const out: McpFileRead = { file, servers: [], findings: [], valid: false };
  const read = await readJsonFile(file, { ...opts, maxBytes: MAX_MCP_CONFIG_BYTES });
  if (read.kind === 'bad') out.findings.push(read.finding);
  if (read.kind !== 'ok') return out;
  const { doc } = read;
  const mapNode = findNodeAtLocation(doc.root, ['mcpServers']);
  if (!isPlainObject(doc.value) || !mapNode || mapNode.type !== 'object') {
    const hasServersKey = isPlainObject(doc.value) && 'servers' in doc.value && !('mcpServers' in doc.value);
    out.findings.push({
      code: mapNode ? CONFIG_FINDING.invalidEntry : CONFIG_FINDING.missingServers,
      severity: 'error',
      title: `${opts.label} has no "mcpServers" object`,
      detail: hasServersKey
        ? `${file} uses "servers"; Claude Code reads servers only from "mcpServers". Rename the key. ${opts.consequence}`
        : `${file} must be {"mcpServers": {...}}${mapNode ? `, but "mcpServers" holds ${describeJson(isPlainObject(doc.value) ? doc.value.mcpServers : undefined)}` : ''}. ${opts.consequence}`,
      location: locate(doc, mapNode ?? doc.root),
    });
    return out;
  }
  out.valid = true;
  const r = readServerMap({ doc, scope, ...(projectPath ? { projectPath } : {}), env }, mapNode);
  out.servers = r.servers;
  out.findings.push(...r.findings);
  return out;
}

async function readProjectServers(
  projectDirs: string[],
  keys: string[],
  trusts: Trust[],
  settingsOf: ProjectSettings[],
  stateOf: (key: string | undefined) => ProjectState | undefined,
  env: Record<string, string | undefined>,
): Promise<{ servers: McpServer[]; findings: Finding[]; files: string[] }> {
  const out = { servers: [] as McpServer[], findings: [] as Finding[], files: [] as string[] };
  const seen = new Set<string>();
  for (const [i, dir] of projectDirs.entries()) {
    const settings = settingsOf[i]!;
    const disabled = stateOf(keys[i])?.disabledMcpServers;
    for (const file of mcpJsonChain(dir)) {
      if (seen.has(file)) continue;
      seen.add(file);
      out.files.push(file);
      const r = await readMcpFile(file, 'project', path.dirname(file), env, {
        label: 'Project MCP config (.mcp.json)',
        consequence: 'Claude Code loads no servers from it.',
      });
      out.findings.push(...r.findings);
      for (const s of r.servers) out.servers.push(helperTrust(withApproval(s, settings.approval(s.name, trusts[i]!), disabled), trusts[i]!.trusted && !ignoresPersistedTrust(env), keys[i], ignoresPersistedTrust(env)));
    }
  }
  return out;
}

/**
 * Claude Code 2.1.332 treats local and project (.mcp.json) entries as "repo-resident" and runs
 * their headersHelper only when the folder has persisted trust: `projects["<project key>"]
 * .hasTrustDialogAccepted === true` in the global config (exact key, no walk up to parents), and
 * never when CLAUDE_CODE_IGNORE_PERSISTED_TRUST is set (read from the shipped binary: `gxo`
 * returns "missing_trust", logged as "headersHelper not run: this workspace has no persisted
 * trust"). It then connects without those headers. User, managed and plugin entries are not
 * gated. Untested on 2.1.197, which this reader keeps the same rule for.
 */
function helperTrust(s: McpServer, trusted: boolean, key: string | undefined, ignored: boolean): McpServer {
  if (!s.headersHelper || trusted || (s.scope !== 'local' && s.scope !== 'project')) return s;
  const where = key ?? s.projectPath ?? 'this folder';
  const finding: Finding = {
    code: CONFIG_FINDING.headersHelperUntrusted,
    severity: 'warning',
    title: `"${s.name}": Claude Code will not run its headersHelper here`,
    detail: ignored
      ? `CLAUDE_CODE_IGNORE_PERSISTED_TRUST is set, so no folder counts as trusted and Claude Code connects to "${s.name}" without the headers its helper would print. Add the server at user scope instead, or unset the variable.`
      : `${where} has no persisted trust (projects["${where}"].hasTrustDialogAccepted is not true in ~/.claude.json), so Claude Code connects to "${s.name}" without the headers its helper would print and the server may ask for a login or refuse. Start claude in that folder once and accept the trust dialog, or add the server at user scope.`,
    location: s.source,
  };
  return { ...s, findings: [...s.findings, finding] };
}

function ignoresPersistedTrust(env: Record<string, string | undefined>): boolean {
  const v = env.CLAUDE_CODE_IGNORE_PERSISTED_TRUST;
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());
}

function withApproval(s: McpServer, approval: Approval, disabled: Set<string> | undefined): McpServer {
  const enabled = s.enabled && approval !== 'rejected' && !disabled?.has(s.name);
  if (approval === 'approved') return { ...s, enabled };
  const finding: Finding =
    approval === 'pending'
      ? {
          code: CONFIG_FINDING.projectServerPending,
          severity: 'info',
          title: `"${s.name}" from .mcp.json is not approved yet`,
          detail: `Claude Code asks before it starts servers from a project's .mcp.json and does not connect to "${s.name}" until you approve it (when Claude Code starts in this folder, or in /mcp). Approvals in .claude/settings.local.json count only once the folder is trusted.`,
          location: s.source,
        }
      : {
          code: CONFIG_FINDING.projectServerRejected,
          severity: 'info',
          title: `"${s.name}" from .mcp.json was declined`,
          detail: `It is listed in disabledMcpjsonServers, so Claude Code does not start it. Remove it from that list in .claude/settings.local.json (or run \`claude mcp reset-project-choices\`) to be asked again.`,
          location: s.source,
        };
  return { ...s, enabled, findings: [...s.findings, finding] };
}

/** The `mcpServers` node below `parent`, or a finding when it is there but not an object. */
function serverMapNode(doc: JsonDoc, parent: Node, at: string[], consequence: string, findings: Finding[]): Node | undefined {
  const node = findNodeAtLocation(parent, at);
  if (!node || node.type === 'null') return undefined;
  if (node.type === 'object') return node;
  findings.push(shapeFinding(doc, node, `"${at.join('.')}"`, JSON.parse(doc.text.slice(node.offset, node.offset + node.length)), consequence));
  return undefined;
}

function shapeFinding(doc: JsonDoc, node: Node, what: string, value: unknown, consequence: string): Finding {
  return {
    code: CONFIG_FINDING.invalidEntry,
    severity: 'error',
    title: `${what} in ${path.basename(doc.file)} is not an object`,
    detail: `${what} holds ${describeJson(value)} where an object is expected. ${consequence}`,
    location: locate(doc, node),
  };
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function dedupeFindings(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const id = `${f.code}|${f.location?.file}|${f.location?.line}|${f.location?.column}|${f.title}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
