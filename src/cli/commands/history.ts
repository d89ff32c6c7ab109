// `mcp-auth-doctor history [<server>] [--client <id>] [--cwd DIR] [--json]`: the
// timeline of each server's credential entry across every snapshot we keep (token fingerprints,
// expiry, client id, scope, and what changed), with the rotations that were never persisted and
// the client registrations piling up. Read-only; fingerprints only.
import { parseArgs } from 'node:util';
import { ALL_CLIENTS, scanConfigs } from '../../core/config/scan';
import { snapshotStoreFor } from '../../core/credentials/backups';
import { serverHistory, timelineLines, type ServerHistory } from '../../core/journal/history';
import { journalFromEnvironment } from '../../core/journal/journal';
import { CLIENT_LABELS, type McpServer } from '../../core/model';
import { cliEnvironment } from '../environment';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliIo } from '../io';
import { parseClientOption } from './backups';

export async function history(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { client: { type: 'string' }, cwd: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const [name, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError('history takes at most one server name');
  const client = parseClientOption(values.client);
  const e = cliEnvironment(io, values.cwd);
  const scan = await scanConfigs(e, client ? [client] : ALL_CLIENTS);
  const remote = scan.servers.filter((s) => s.storageKey && s.transport !== 'stdio' && (name === undefined || s.name === name));
  if (name !== undefined && remote.length === 0) {
    if (scan.servers.some((s) => s.name === name)) throw new UsageError(`"${name}" is a stdio server: it has no OAuth credential`);
    throw new UsageError(`no remote MCP server named "${name}"${client ? ` for ${CLIENT_LABELS[client]}` : ''} (see \`mcp-auth-doctor status\`)`);
  }
  // One history per credential: several config entries (scopes) can share a storage key.
  const servers = remote.filter((s, i) => remote.findIndex((o) => o.client === s.client && o.storageKey === s.storageKey) === i);
  const snapshots = snapshotStoreFor(e);
  const stores = [snapshots, journalFromEnvironment(e).snapshots];
  const histories: { server: McpServer; history: ServerHistory }[] = [];
  for (const server of servers) {
    histories.push({ server, history: await serverHistory(stores, { client: server.client, key: server.storageKey!, serverName: server.name }) });
  }
  const diagnosed = histories.some((h) => h.history.diagnoses.length > 0);
  if (values.json) {
    io.stdout(JSON.stringify(historyJson(snapshots.dir, histories, stores[1]!.dir), null, 2) + '\n');
    return diagnosed ? EXIT_FINDINGS : EXIT_OK;
  }
  io.stdout(historyText(stores.map((s) => s.dir).join(' and '), histories));
  return diagnosed ? EXIT_FINDINGS : EXIT_OK;
}

export const run = history;

/** The `history --json` document (README): fingerprints, times, client ids; never a token. */
export function historyJson(dir: string, histories: { server: McpServer; history: ServerHistory }[], journalDir?: string) {
  return {
    dir,
    ...(journalDir ? { journalDir } : {}),
    servers: histories.map(({ server, history: h }) => ({
      client: server.client,
      name: server.name,
      url: server.url ?? null,
      key: h.key,
      timelines: h.timelines,
      registrations: h.registrations,
      diagnoses: h.diagnoses,
      unreadableSnapshots: h.unreadableSnapshots,
    })),
  };
}

function historyText(dir: string, histories: { server: McpServer; history: ServerHistory }[]): string {
  if (histories.length === 0) return 'No remote MCP servers configured.\n';
  const lines: string[] = [];
  for (const { server, history: h } of histories) {
    lines.push(`${server.name} (${CLIENT_LABELS[server.client]}, entry ${h.key})`);
    if (h.timelines.length === 0) lines.push(`  no snapshot in ${dir} holds this entry`);
    lines.push(...timelineLines(h));
    for (const d of h.diagnoses) {
      lines.push(`  ! ${d.title}`, `    ${d.detail}`, '    Rests on:', ...d.basis.map((b) => `      - ${b}`));
    }
    if (h.unreadableSnapshots.length > 0) lines.push(`  (${h.unreadableSnapshots.length} unreadable snapshot(s) skipped)`);
    lines.push('');
  }
  return lines.join('\n');
}
