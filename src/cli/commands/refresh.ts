// `mcp-auth-doctor refresh <server> [--client <id>] [--cwd DIR] [--yes] [--accept-unknown-fields]`: use the
// stored refresh token once and write the new tokens into that client's own store. Without --yes
// it prints the plan (what changes, running clients, the client's own command) and exits 1; with
// it, it refreshes, prints what changed and how to undo it, and probes the server again.
import { parseArgs } from 'node:util';
import { ALL_CLIENTS, scanConfigs } from '../../core/config/scan';
import { credentialStoresFor } from '../../core/credentials/index';
import { clientDefinition } from '../../core/clients/registry';
import type { Environment } from '../../core/environment';
import { CLIENT_LABELS, type ClientId, type McpServer, type RepairId } from '../../core/model';
import { DEFAULT_MAX_BODY_BYTES, type HttpSettings } from '../../core/probe/http';
import { HEALTHY_STATES } from '../../core/probe/probe';
import { proxyFetchFor } from '../../core/probe/proxy';
import { probeReport } from '../../core/probe/run';
import { clientLoginCommand, commandText } from '../../core/repair/processes';
import { planRefresh, refresh as runRefresh } from '../../core/repair/refresh';
import type { RepairErrorKind, RepairOutcome, RepairPlan, RepairTarget } from '../../core/repair/types';
import { collectStatus } from '../../core/status';
import { cliEnvironment } from '../environment';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, type CliIo } from '../io';
import { refusedForUnknownFields, storeWriteGuard } from '../unknownFields';

/** Longer than the probe's 5 s: a token endpoint may be slow, and a refresh is one request the user asked for. */
export const REPAIR_HTTP_TIMEOUT_MS = 15_000;

export async function refresh(args: string[], io: CliIo): Promise<number> {
  const parsed = parseRepairArgs('refresh', args);
  const found = await findRepairTarget('refresh', parsed, io);
  if (typeof found === 'number') return found;
  const { target, e } = found;
  const proxied = proxyFetchFor({ env: io.env });
  try {
    const http: HttpSettings = { fetch: proxied.fetch, timeoutMs: REPAIR_HTTP_TIMEOUT_MS, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, routeFor: (url) => proxied.routeFor(url).description };
    const plan = await planRefresh(target, { http });
    io.stdout(describeRepairPlan(`Refresh the stored token of ${target.server.name} for ${CLIENT_LABELS[target.server.client]}`, plan));
    if (plan.blocked) {
      io.stdout(`Cannot refresh (${plan.blocked.error}): ${plan.blocked.message}\n${nextSteps(plan.blocked.next, target.server)}`);
      return EXIT_FINDINGS;
    }
    if (refusedForUnknownFields(await storeWriteGuard(e, target.server.client, target.key), parsed.yes, parsed.acceptUnknownFields, io)) return EXIT_FINDINGS;
    if (!parsed.yes) {
      io.stdout('Nothing written. Run again with --yes to refresh (the store is snapshotted first).\n');
      return EXIT_FINDINGS;
    }
    const outcome = await runRefresh(target, { http });
    if (!printOutcome('Refresh', outcome, target, io)) return EXIT_FINDINGS;
    return await reprobe(target.server, io, e);
  } finally {
    await proxied.close();
  }
}

export const run = refresh;

export interface RepairArgs {
  name: string;
  client?: ClientId;
  cwd?: string;
  yes: boolean;
  /** `--accept-unknown-fields`: write although a newer client's store holds fields we do not know (named in the plan). */
  acceptUnknownFields: boolean;
}

export function parseRepairArgs(command: string, args: string[]): RepairArgs {
  const { values, positionals } = parseArgs({
    args,
    options: { client: { type: 'string' }, cwd: { type: 'string' }, yes: { type: 'boolean', default: false }, 'accept-unknown-fields': { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const [name, ...extra] = positionals;
  if (!name || extra.length > 0) throw new UsageError(`${command} takes one server name (see \`mcp-auth-doctor status\`)`);
  if (values.client !== undefined && !ALL_CLIENTS.includes(values.client as ClientId)) {
    throw new UsageError(`unknown client "${values.client}" (expected ${ALL_CLIENTS.join(' or ')})`);
  }
  return { name, yes: values.yes, acceptUnknownFields: values['accept-unknown-fields'], ...(values.client ? { client: values.client as ClientId } : {}), ...(values.cwd ? { cwd: values.cwd } : {}) };
}

/**
 * The one stored credential a server name points at. The same entry in two scopes is one
 * credential (one storage key); different clients or keys are a choice the user makes (exit 2).
 */
export async function findRepairTarget(command: string, a: RepairArgs, io: CliIo): Promise<{ target: RepairTarget; e: Environment } | number> {
  const e = cliEnvironment(io, a.cwd);
  const scan = await scanConfigs(e, a.client ? [a.client] : ALL_CLIENTS);
  const named = scan.servers.filter((s) => s.name === a.name);
  const remote = named.filter((s) => s.url && s.storageKey && s.transport !== 'stdio');
  if (remote.length === 0) {
    // A client whose tokens live in an editor's secret storage: say where, and what to run there.
    const elsewhere = named.find((s) => s.transport !== 'stdio' && clientDefinition(s.client).tokensNotRead);
    if (elsewhere) throw new UsageError(`"${a.name}" is ${CLIENT_LABELS[elsewhere.client]}'s: ${clientDefinition(elsewhere.client).tokensNotRead}`);
    if (named.length > 0) throw new UsageError(`"${a.name}" is a stdio server: it has no OAuth credential`);
    throw new UsageError(`no remote MCP server named "${a.name}"${a.client ? ` for ${CLIENT_LABELS[a.client]}` : ''} (see \`mcp-auth-doctor status\`)`);
  }
  const distinct = remote.filter((s, i) => remote.findIndex((o) => o.client === s.client && o.storageKey === s.storageKey) === i);
  if (distinct.length > 1) {
    io.stderr(`mcp-auth-doctor ${command}: "${a.name}" names ${distinct.length} different credentials; choose one with --client (and --cwd for a project's own entry):\n`);
    for (const s of distinct) io.stderr(`  --client ${s.client.padEnd(11)} ${s.scope.padEnd(7)} ${s.url}  (${s.source.file}:${s.source.line})\n`);
    return EXIT_USAGE;
  }
  const server = distinct[0]!;
  const store = credentialStoresFor(e, undefined, { clients: [server.client] })[0];
  if (!store) throw new Error(`no credential store for ${CLIENT_LABELS[server.client]}`);
  return { target: { server, store, key: server.storageKey! }, e };
}

export function describeRepairPlan(title: string, plan: RepairPlan): string {
  const lines = [`${title} (${plan.target.store}, entry ${plan.target.key}):`];
  for (const c of plan.changes) lines.push(`  ${c}`);
  for (const w of plan.warnings) lines.push(`  ! ${w}`);
  if (plan.handOff) lines.push(`  The client's own command: ${[plan.handOff.command, ...plan.handOff.args].join(' ')}`);
  return lines.join('\n') + '\n';
}

/** Prints the outcome (with the Undo line); true when the repair succeeded. */
export function printOutcome(what: string, outcome: RepairOutcome, target: RepairTarget, io: CliIo): boolean {
  if (!outcome.ok) {
    io.stdout(`${what} failed (${outcome.error}): ${outcome.message}\n${nextSteps(outcome.next, target.server, outcome.error)}`);
    return false;
  }
  io.stdout(`${outcome.summary}\n${outcome.changed.map((c) => `  ${c}\n`).join('')}`);
  if (outcome.undoSnapshotId) io.stdout(`Undo: mcp-auth-doctor restore ${outcome.undoSnapshotId} --entry ${shellQuote(target.key)} --yes\n`);
  return true;
}

export function nextSteps(next: RepairId[], server: McpServer, error?: RepairErrorKind): string {
  const login = clientLoginCommand(server);
  const flags = `--client ${server.client} --yes`;
  const words: Record<RepairId, string> = {
    relogin: login ? `log in again: ${commandText(login)} (or mcp-auth-doctor login ${server.name} ${flags})` : `log in again: mcp-auth-doctor login ${server.name} ${flags}`,
    refresh: error === 'network' || error === 'store' ? `try again later: mcp-auth-doctor refresh ${server.name} ${flags}` : `mcp-auth-doctor refresh ${server.name} ${flags}`,
    reset: `forget the stored client and tokens so the next login registers afresh: mcp-auth-doctor reset ${server.name} ${flags}`,
    'edit-config': `check the server's entry in ${server.source.file}:${server.source.line}`,
    'report-server': "tell the server's owner (mcp-auth-doctor status -v shows what the server does)",
  };
  return next.length ? `Next: ${next.map((n) => words[n]).join('; or ')}.\n` : '';
}

/** The storage key holds `|`: quoted, the Undo line can be pasted into a shell as is. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The server as a fresh status run sees it now, probed with what is stored now. */
async function reprobe(server: McpServer, io: CliIo, e: Environment): Promise<number> {
  const report = await collectStatus(e, { clients: [server.client] });
  const row = report.servers.find((r) => r.server.name === server.name && r.server.storageKey === server.storageKey);
  if (!row) {
    io.stdout('The server is no longer in the config; not probed.\n');
    return EXIT_FINDINGS;
  }
  const probed = await probeReport({ ...report, servers: [row] }, { proxy: { env: io.env } });
  const probe = probed.probes[0]!;
  io.stdout(`State now: ${probe.state}: ${probe.summary}\n`);
  return HEALTHY_STATES.has(probe.state) ? EXIT_OK : EXIT_FINDINGS;
}
