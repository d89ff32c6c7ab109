// The sidebar tree: client → server → findings, plus a node for config files that failed to load.
import * as vscode from 'vscode';
import type { ClientId, Finding, McpServer, Severity } from '../core/model';
import type { ServerStatus, StatusReport } from '../core/status';
import { describeToken, type TokenStatus } from '../core/tokenStatus';
import { describeClientVersion } from '../core/clientVersions';
import { CLIENT_LABELS } from '../core/model';
import { clientDefinition } from '../core/clients/registry';
import { ALL_CLIENTS } from '../core/config/scan';
import { clientAuthentication, describeRegistration, displayUrl, loginNotRead, serverWhere, sourceLabel, worstSeverity } from '../core/present/describe';
import type { ServerProbe, ServerState } from '../core/probe/probe';
import { describeRevisions } from '../core/probe/catalogue';
import { COMPAT_CLIENT_LABELS } from '../core/probe/verdict';
import { describeGroup, groupByServer, shortState, type ServerGroup } from '../core/present/byServer';

export type TreeGrouping = 'client' | 'server';

export type TreeNode =
  | { kind: 'client'; client: ClientId; servers: ServerStatus[] }
  /** "By server": one URL's entries across clients. */
  | { kind: 'group'; group: ServerGroup; members: { status: ServerStatus; probe?: ServerProbe }[]; probing: boolean }
  /** `member`: shown under a group, so labelled by its client rather than its name. */
  | { kind: 'server'; server: McpServer; token?: TokenStatus; at: number; probe?: ServerProbe; probing?: boolean; member?: boolean }
  | { kind: 'finding'; finding: Finding }
  /** The probe's informational notes on one server, folded so its warnings and errors stand out. */
  | { kind: 'notes'; serverId: string; findings: Finding[] }
  | { kind: 'problems'; label: string; findings: Finding[] };

/** The tree exactly as shown, for the extension-host tests (and anything that reports on it). */
export interface TreeSnapshotNode {
  label: string;
  description?: string;
  tooltip?: string;
  contextValue?: string;
  children: TreeSnapshotNode[];
}

const TRANSPORT_ICON: Record<McpServer['transport'], string> = { http: 'globe', sse: 'radio-tower', stdio: 'terminal' };
const SEVERITY_ICON: Record<Severity, [string, string]> = {
  error: ['error', 'list.errorForeground'],
  warning: ['warning', 'list.warningForeground'],
  info: ['info', 'foreground'],
};

export class ServerTreeProvider implements vscode.TreeDataProvider<TreeNode> {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private report: Pick<StatusReport, 'servers' | 'findings' | 'at' | 'clients'> = { servers: [], findings: [], at: 0 };
  /** Index-aligned with report.servers once the probe has answered. */
  private probes: ServerProbe[] | undefined;
  private probing = false;
  /** Losses the credential journal caught and that are not restored yet (shown with the stores' findings). */
  private journalFindings: Finding[] = [];
  private grouping: TreeGrouping = 'client';

  /** "by client" (client → servers) or "by server" (one URL → the clients that configure it). */
  setGrouping(grouping: TreeGrouping): void {
    if (grouping === this.grouping) return;
    this.grouping = grouping;
    this.changed.fire(undefined);
  }

  get groupedBy(): TreeGrouping {
    return this.grouping;
  }

  /** A new local status; `probing` says a probe of it is on its way. */
  update(report: StatusReport, probing = false): void {
    this.report = report;
    this.probes = undefined;
    this.probing = probing;
    this.changed.fire(undefined);
  }

  setJournalFindings(findings: Finding[]): void {
    this.journalFindings = findings;
    this.changed.fire(undefined);
  }

  updateProbes(probes: ServerProbe[]): void {
    this.probes = probes;
    this.probing = false;
    this.changed.fire(undefined);
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) {
      const clients: TreeNode[] = this.grouping === 'server' ? this.groups() : ALL_CLIENTS.map((client) => ({
        kind: 'client' as const,
        client,
        servers: this.report.servers.filter((s) => s.server.client === client),
      })).filter((n) => n.servers.length > 0);
      // Broken config files and troubled credential stores are different jobs for the user.
      const config = this.report.findings.filter((f) => !f.code.startsWith('credentials.'));
      const stores = [...this.journalFindings, ...this.report.findings.filter((f) => f.code.startsWith('credentials.'))];
      return [
        ...clients,
        ...(config.length > 0 ? [{ kind: 'problems' as const, label: 'Config problems', findings: config }] : []),
        ...(stores.length > 0 ? [{ kind: 'problems' as const, label: 'Credential stores', findings: stores }] : []),
      ];
    }
    switch (node.kind) {
      case 'group':
        return node.members.map(({ status: { server, token }, probe }) => ({ kind: 'server', server, ...(token ? { token } : {}), at: this.report.at, ...(probe ? { probe } : {}), probing: node.probing, member: true }));
      case 'client':
        return node.servers.map(({ server, token }) => {
          const probe = this.probes?.[this.report.servers.findIndex((s) => s.server === server)];
          return { kind: 'server', server, ...(token ? { token } : {}), at: this.report.at, ...(probe ? { probe } : {}), probing: this.probing };
        });
      case 'server': {
        const probed = node.probe?.findings ?? [];
        const notes = probed.filter(isProbeNote);
        // One note reads as well inline; two or more (most servers get "logins happen at another
        // origin" and "DCR only") are folded, so the row's real problem is what the eye meets.
        const folded = notes.length >= 2;
        const shown = [...node.server.findings, ...(folded ? probed.filter((f) => !isProbeNote(f)) : probed)];
        return [
          ...shown.map((finding) => ({ kind: 'finding' as const, finding })),
          ...(folded ? [{ kind: 'notes' as const, serverId: serverId(node.server), findings: notes }] : []),
        ];
      }
      case 'problems':
      case 'notes':
        return node.findings.map((finding) => ({ kind: 'finding', finding }));
      case 'finding':
        return [];
    }
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'client': {
        const item = new vscode.TreeItem(CLIENT_LABELS[node.client], vscode.TreeItemCollapsibleState.Expanded);
        item.id = `client:${node.client}`;
        // The installed version (core/clientVersions): the one the repairs are judged against.
        const version = this.report.clients?.find((c) => c.client === node.client);
        item.description = `${plural(node.servers.length, 'server')}${version?.version ? ` · ${version.version}${version.newerThanVerified ? ' (newer than verified)' : ''}` : ''}`;
        if (version) item.tooltip = `${describeClientVersion(version)}\nNewest version verified: ${version.newestVerified}`;
        item.contextValue = 'client';
        item.iconPath = new vscode.ThemeIcon('account');
        return item;
      }
      case 'group':
        return groupItem(node);
      case 'server':
        return serverItem(node);
      case 'finding':
        return findingItem(node.finding);
      case 'notes': {
        const item = new vscode.TreeItem(plural(node.findings.length, 'note'), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `notes:${node.serverId}`;
        item.description = 'how this server does OAuth; nothing to fix';
        item.tooltip = node.findings.map((f) => f.title).join('\n');
        item.contextValue = 'notes';
        item.iconPath = new vscode.ThemeIcon('info', new vscode.ThemeColor(SEVERITY_ICON.info[1]));
        return item;
      }
      case 'problems': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `problems:${node.label}`;
        item.description = plural(node.findings.length, 'problem');
        item.contextValue = 'problems';
        const worst = worstSeverity(node.findings) ?? 'info';
        item.iconPath = new vscode.ThemeIcon(SEVERITY_ICON[worst][0], new vscode.ThemeColor(SEVERITY_ICON[worst][1]));
        return item;
      }
    }
  }

  private groups(): TreeNode[] {
    const statuses = this.report.servers;
    return groupByServer(statuses).map((group) => ({
      kind: 'group' as const,
      group,
      members: group.members.map((i) => ({ status: statuses[i]!, ...(this.probes?.[i] ? { probe: this.probes[i] } : {}) })),
      probing: this.probing,
    }));
  }

  /** Resolves the whole tree into plain data, through the same getTreeItem the view uses. */
  snapshot(node?: TreeNode): TreeSnapshotNode[] {
    return this.getChildren(node).map((child) => {
      const item = this.getTreeItem(child);
      const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
      const tooltip = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : item.tooltip;
      return {
        label,
        ...(typeof item.description === 'string' ? { description: item.description } : {}),
        ...(tooltip ? { tooltip } : {}),
        ...(item.contextValue ? { contextValue: item.contextValue } : {}),
        children: this.snapshot(child),
      };
    });
  }
}

const TOKEN_ICON: Record<TokenStatus['state'], [string, string] | undefined> = {
  missing: ['circle-large-outline', 'disabledForeground'],
  'not-logged-in': ['circle-large-outline', 'disabledForeground'],
  expired: ['warning', 'list.warningForeground'],
  expiring: ['watch', 'list.warningForeground'],
  stored: undefined,
  'in-keychain': ['lock', 'foreground'],
};

/** Icon and colour per probed state; undefined falls back to the worst finding or the transport. */
const STATE_ICON: Record<ServerState, [string, string] | undefined> = {
  valid: ['pass', 'testing.iconPassed'],
  'no-auth-needed': ['pass', 'testing.iconPassed'],
  'not-logged-in': ['circle-large-outline', 'list.warningForeground'],
  expired: ['error', 'list.errorForeground'],
  expiring: ['watch', 'list.warningForeground'],
  rejected: ['error', 'list.errorForeground'],
  'insufficient-scope': ['error', 'list.errorForeground'],
  forbidden: ['error', 'list.errorForeground'],
  stored: undefined,
  misconfigured: ['error', 'list.errorForeground'],
  unreachable: ['debug-disconnect', 'list.errorForeground'],
  'not-probed': undefined,
  'client-auth': ['key', 'foreground'],
  'login-not-read': ['lock', 'foreground'],
};

const STATE_WORDS: Record<ServerState, string> = {
  valid: 'valid',
  'no-auth-needed': 'no login needed',
  'not-logged-in': 'not logged in',
  expired: 'expired',
  expiring: 'expiring',
  rejected: 'rejected by the server',
  'insufficient-scope': 'insufficient scope',
  forbidden: 'refused (403)',
  stored: 'not checked live',
  misconfigured: 'misconfigured',
  unreachable: 'unreachable',
  'not-probed': 'not probed',
  'client-auth': 'authenticated by Codex itself (no OAuth login)',
  'login-not-read': 'login kept by the client (not read)',
};

function groupItem(node: Extract<TreeNode, { kind: 'group' }>): vscode.TreeItem {
  const { group, members } = node;
  const item = new vscode.TreeItem(group.name, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `group:${group.key}`;
  const entries = members.map(({ status: { server, token }, probe }) => ({ server, state: shortState(server, token, probe?.state) }));
  item.description = describeGroup(entries);
  item.tooltip = `${group.url ?? group.key}\n\n${entries.map((e) => `${CLIENT_LABELS[e.server.client]}${e.server.host ? ` (${e.server.host})` : ''}, ${e.server.scope} scope: ${e.state}`).join('\n')}`;
  item.contextValue = 'group';
  const worst = worstSeverity(members.flatMap(({ status, probe }) => [...status.server.findings, ...(probe?.findings ?? [])]));
  item.iconPath = worst === 'error' ? new vscode.ThemeIcon(SEVERITY_ICON.error[0], new vscode.ThemeColor(SEVERITY_ICON.error[1])) : new vscode.ThemeIcon(group.url ? 'server' : 'terminal');
  return item;
}

function serverItem(node: Extract<TreeNode, { kind: 'server' }>): vscode.TreeItem {
  const { server: s, token, at, probe } = node;
  const findings = [...s.findings, ...(probe?.findings ?? [])];
  // Under a group the row is one client's line of the group: its findings wait for a click.
  const collapsible = findings.length === 0 ? vscode.TreeItemCollapsibleState.None : node.member ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded;
  const label = node.member ? `${CLIENT_LABELS[s.client]}${s.host ? ` (${s.host})` : ''}` : s.name;
  const item = new vscode.TreeItem(label, collapsible);
  item.id = serverId(s);
  // A server Codex authenticates without an OAuth login is never "not logged in" (describe.ts).
  const managed = clientAuthentication(s, token !== undefined && token.state !== 'missing');
  const elsewhere = loginNotRead(s);
  const tokenWords = managed ? managed.summary : token ? describeToken(token, at) : elsewhere?.summary;
  const probed = probe && probe.state !== 'not-probed';
  // State first: it is what the user came to see, and the sidebar cuts long descriptions.
  // Under a group the label is the client: the entry's own name joins where it is.
  const where = (node.member ? `${s.name} · ` : '') + serverWhere(s) + (s.enabled ? '' : ' · disabled');
  const stateWords = probed
    ? ['unreachable', 'misconfigured'].includes(probe.state)
      ? `${STATE_WORDS[probe.state]} · ${probe.summary}`
      : probe.summary
    : node.probing && s.transport !== 'stdio' && s.enabled
      ? `checking… · ${tokenWords ?? 'no token'}`
      : tokenWords;
  item.description = stateWords ? `${stateWords} — ${where}` : where;
  const worst = worstSeverity(findings);
  const stateIcon = probed ? STATE_ICON[probe.state] : undefined;
  const tokenIcon = token ? TOKEN_ICON[token.state] : undefined;
  // An error anywhere wins; otherwise the probed state (green when valid), then the stored token.
  const icon = worst === 'error' ? SEVERITY_ICON.error : (stateIcon ?? (worst ? SEVERITY_ICON[worst] : tokenIcon));
  item.iconPath = icon ? new vscode.ThemeIcon(icon[0], new vscode.ThemeColor(icon[1])) : new vscode.ThemeIcon(TRANSPORT_ICON[s.transport]);
  // `.refreshable`: a refresh token is stored, so the Refresh action applies (package.json menus).
  // `server.client-auth`: no login, refresh or reset in its menus (there is no OAuth login to repair).
  // `.keychain`: a macOS Keychain item not read; "Read Codex's Keychain Item…" applies.
  // `.nologin`: we do not log in for this client (mcp-remote): no Re-login or hand-off.
  // `server.elsewhere.<client>`: its login is in an editor's storage; only that editor's own command applies.
  item.contextValue =
    s.transport === 'stdio'
      ? 'server.stdio'
      : managed
        ? 'server.client-auth'
        : elsewhere
          ? `server.elsewhere.${s.client}`
          : `server.remote${probed ? `.${probe.state}` : ''}${token?.hasRefreshToken ? '.refreshable' : ''}${token?.state === 'in-keychain' ? '.keychain' : ''}${clientDefinition(s.client).ourLogin ? '' : '.nologin'}`;
  const tooltip = new vscode.MarkdownString(undefined, true);
  tooltip.appendText(`${s.name} (${CLIENT_LABELS[s.client]}, ${s.scope} scope)\n\n`);
  const url = displayUrl(s);
  if (url) tooltip.appendText(`${s.transport.toUpperCase()} ${url}\n\n`);
  else if (s.command) tooltip.appendText(`stdio: ${s.command}\n\n`);
  if (s.headerNames.length > 0) tooltip.appendText(`Headers: ${s.headerNames.join(', ')}\n\n`);
  if (s.storageKey) tooltip.appendText(`Credential key: ${s.storageKey}\n\n`);
  if (token) {
    tooltip.appendText(`Token: ${tokenWords}${token.fingerprint ? ` (${token.fingerprint})` : ''}\n\n`);
    if (token.expiresAt !== null) tooltip.appendText(`Expires: ${new Date(token.expiresAt).toLocaleString()}\n\n`);
    tooltip.appendText(`Stored in ${token.store}\n\n`);
    if (token.keychain) {
      const k = token.keychain;
      tooltip.appendText(`Keychain item: account ${k.account || '(none)'}${k.modified ? `, last changed ${new Date(k.modified).toLocaleString()}` : ''}, in ${k.keychain}; not read (macOS would ask). Run "Read Codex's Keychain Item…" to check it.\n\n`);
    }
  }
  if (probed) {
    tooltip.appendText(`State: ${STATE_WORDS[probe.state]} (probed in ${probe.ms} ms, MCP ${probe.revision})\n\n`);
    if (probe.authorizationServers[0]) tooltip.appendText(`Authorization server: ${probe.authorizationServers[0].issuer}\n\n`);
    const registration = probe.registration?.find((r) => r.client === s.client);
    if (registration) tooltip.appendText(`Registration: ${describeRegistration(registration)}\n\n`);
    tooltip.appendText(`Client verdicts: ${probe.compatibility.map((c) => `${COMPAT_CLIENT_LABELS[c.client]}: ${c.verdict}`).join(' · ')}\n\n`);
  }
  if (elsewhere) tooltip.appendText(`${elsewhere.detail}\n\n`);
  tooltip.appendText(`Defined in ${sourceLabel(s)}`);
  item.tooltip = tooltip;
  // Read aloud: the state first, as it is seen first; "·" and "—" read badly, so commas.
  item.accessibilityInformation = { label: [label, stateWords, `${CLIENT_LABELS[s.client]} ${s.scope} scope`, where].filter(Boolean).join(', ').replace(/ · | — /g, ', ') };
  return item;
}

function findingItem(f: Finding): vscode.TreeItem {
  const item = new vscode.TreeItem(f.title, vscode.TreeItemCollapsibleState.None);
  item.description = f.location ? `${baseName(f.location.file)}:${f.location.line}` : undefined;
  const tooltip = new vscode.MarkdownString(undefined, true);
  tooltip.appendText(`${f.title}\n\n${f.detail}\n\n`);
  if (f.evidence?.length) tooltip.appendCodeblock(f.evidence.join('\n'), 'text');
  const revisions = describeRevisions(f.revisions);
  if (f.reference) tooltip.appendText(`\nSee: ${f.reference}${revisions ? ` (MCP ${revisions})` : ''}\n\n`);
  if (f.location) tooltip.appendText(`${f.location.file}:${f.location.line}:${f.location.column}\n\n`);
  tooltip.appendText(f.code);
  item.tooltip = tooltip;
  item.contextValue = f.location ? 'finding.located' : 'finding';
  item.iconPath = new vscode.ThemeIcon(SEVERITY_ICON[f.severity][0], new vscode.ThemeColor(SEVERITY_ICON[f.severity][1]));
  if (f.location) {
    item.command = { command: 'mcpAuth.openLocation', title: 'Open', arguments: [f.location] };
  }
  return item;
}

/** A probe finding that describes the server rather than a fault (info severity). */
function isProbeNote(f: Finding): boolean {
  return f.severity === 'info' && f.code.startsWith('probe.');
}

function serverId(s: McpServer): string {
  return `server:${s.client}:${s.scope}:${s.projectPath ?? ''}:${s.name}`;
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
