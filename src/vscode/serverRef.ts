// How the editor names one configured server across commands: a tree node, a quick fix or a
// notification button passes a ServerRef (plain data, so it survives command URIs and
// serialisation), and each repair resolves it against a fresh status pass, so it acts on what is
// configured and stored now rather than on what the tree showed a minute ago.
import * as vscode from 'vscode';
import * as z from 'zod';
import type { CredentialStore } from '../core/credentials/store';
import { CLIENT_IDS } from '../core/clients/ids';
import { clientDefinition } from '../core/clients/registry';
import { CLIENT_LABELS, type ClientId, type McpServer, type Scope } from '../core/model';
import { serverWhere } from '../core/present/describe';
import type { RepairTarget } from '../core/repair/types';
import { collectStatus, type StatusReport } from '../core/status';
import { describeToken } from '../core/tokenStatus';
import { editorEnvironment } from './environment';

/** One configured server, as commands take it (the keys of the tree's server ids). */
export interface ServerRef {
  client: ClientId;
  scope: Scope;
  name: string;
  /** Local and project scopes: the project the entry belongs to. */
  projectPath?: string;
  /** Codex: the profile file the entry comes from, when it is not the user's config.toml. */
  profile?: string;
}

// Command arguments arrive from menus, command URIs and other extensions: checked, never trusted.
export const ServerRefSchema = z.object({
  client: z.enum(CLIENT_IDS),
  scope: z.enum(['user', 'local', 'project', 'managed', 'plugin', 'dynamic']),
  name: z.string().min(1),
  projectPath: z.string().optional(),
  profile: z.string().optional(),
});

export function refOf(server: McpServer): ServerRef {
  return {
    client: server.client,
    scope: server.scope,
    name: server.name,
    ...(server.projectPath ? { projectPath: server.projectPath } : {}),
    ...(server.profile ? { profile: server.profile } : {}),
  };
}

/** A ServerRef from a command argument: a tree node (`{kind: 'server', server}`) or a plain ref; undefined otherwise. */
export function serverRefOf(arg: unknown): ServerRef | undefined {
  const candidate = arg && typeof arg === 'object' && (arg as { kind?: unknown }).kind === 'server' ? (arg as { server?: unknown }).server : arg;
  // The schema strips every other field (a tree node's server carries headers: never kept here).
  const parsed = ServerRefSchema.safeParse(candidate);
  if (!parsed.success) return undefined;
  const { client, scope, name, projectPath, profile } = parsed.data;
  return { client, scope, name, ...(projectPath ? { projectPath } : {}), ...(profile ? { profile } : {}) };
}

export function sameRef(a: ServerRef, b: ServerRef): boolean {
  return a.client === b.client && a.scope === b.scope && a.name === b.name && (a.projectPath ?? '') === (b.projectPath ?? '') && (a.profile ?? '') === (b.profile ?? '');
}

/** "lab-notes (Claude Code, user scope)": how notifications name a server. */
export function describeRef(ref: ServerRef): string {
  return `${ref.name} (${CLIENT_LABELS[ref.client]}, ${ref.scope} scope${ref.profile ? `, profile ${ref.profile}` : ''})`;
}

export interface ResolvedServer {
  server: McpServer;
  store: CredentialStore;
  /** The storage key; set when the server has an OAuth credential slot (remote, with a URL). */
  key?: string;
  report: StatusReport;
}

/** The server as configured now, with its client's store; a sentence when it cannot be found. */
export async function resolveServerRef(ref: ServerRef): Promise<ResolvedServer | { problem: string }> {
  const report = await collectStatus(editorEnvironment(), { clients: [ref.client] });
  const server = report.servers.map((s) => s.server).find((s) => sameRef(refOf(s), ref));
  if (!server) return { problem: `${describeRef(ref)} is no longer configured.` };
  const store = report.readings.find((r) => r.client === ref.client)?.store;
  if (!store) return { problem: clientDefinition(ref.client).tokensNotRead ?? `No credential store for ${CLIENT_LABELS[ref.client]}.` };
  return { server, store, ...(server.storageKey && server.transport !== 'stdio' ? { key: server.storageKey } : {}), report };
}

/** A repair target, or why the server has none (stdio, no URL). */
export function repairTargetOf(r: ResolvedServer): RepairTarget | { problem: string } {
  if (r.server.transport === 'stdio') return { problem: `${r.server.name} is a stdio server: it has no OAuth credential.` };
  if (!r.key) return { problem: `${r.server.name} has no usable URL, so it has no stored credential.` };
  return { server: r.server, store: r.store, key: r.key };
}

/** Asks for a remote server (the commands run from the palette). */
export async function pickServer(placeHolder: string): Promise<ServerRef | undefined> {
  const report = await collectStatus(editorEnvironment());
  const items = report.servers
    .filter(({ server }) => server.transport !== 'stdio' && server.storageKey)
    .map(({ server, token }) => ({
      label: server.name,
      description: `${CLIENT_LABELS[server.client]} · ${serverWhere(server)}`,
      ...(token ? { detail: describeToken(token, report.at) } : {}),
      ref: refOf(server),
    }));
  if (items.length === 0) {
    void vscode.window.showInformationMessage('No remote MCP server is configured for Claude Code or Codex.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true });
  return picked?.ref;
}
