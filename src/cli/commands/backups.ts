// `mcp-auth-doctor backups [--client <id>] [--json]`: the snapshots we keep of each
// client's credential store, newest first, entries shown by fingerprint only.
import { parseArgs } from 'node:util';
import { snapshotStoreFor, type EntryFingerprints, type SnapshotInfo } from '../../core/credentials/backups';
import type { ClientId } from '../../core/model';
import { CLIENT_LABELS } from '../../core/model';
import { cliEnvironment } from '../environment';
import { clientsWithStores } from '../../core/clients/registry';
import { EXIT_OK, UsageError, type CliIo } from '../io';
import { isoTime } from '../../core/time';

const CLIENTS: ClientId[] = clientsWithStores().map((c) => c.id);

export async function backups(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { client: { type: 'string' }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  const client = parseClientOption(values.client);
  const store = snapshotStoreFor(cliEnvironment(io, undefined));
  const listing = await store.list(client ? { client } : {});
  for (const bad of listing.unreadable) io.stderr(`warning: ${bad.file} is not a readable snapshot (${bad.reason})\n`);
  if (values.json) {
    io.stdout(JSON.stringify({ dir: store.dir, snapshots: listing.snapshots }, null, 2) + '\n');
    return EXIT_OK;
  }
  if (listing.snapshots.length === 0) {
    io.stdout(`No snapshots in ${store.dir}.\n`);
    return EXIT_OK;
  }
  const lines: string[] = [];
  for (const s of listing.snapshots) {
    lines.push(snapshotLine(s));
    for (const e of s.entries) lines.push(`    ${entryLine(e)}`);
    if (s.entries.length === 0) lines.push('    (no MCP grants)');
  }
  io.stdout(lines.join('\n') + '\n');
  return EXIT_OK;
}

export const run = backups;

export function parseClientOption(value: string | undefined): ClientId | undefined {
  if (value === undefined) return undefined;
  if (!CLIENTS.includes(value as ClientId)) throw new UsageError(`unknown client "${value}" (expected ${CLIENTS.join(' or ')})`);
  return value as ClientId;
}

export function snapshotLine(s: SnapshotInfo): string {
  const when = s.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const extra = s.topLevelKeys.filter((k) => k !== 'mcpOAuth');
  return `${s.id}  ${when}  ${CLIENT_LABELS[s.client]}  ${s.reason}  ${s.location}${extra.length ? `  (also: ${extra.join(', ')})` : ''}`;
}

/** One entry by fingerprint: `lab|0273…  lab  access sha256:…  refresh sha256:…  expires …`. */
export function entryLine(e: EntryFingerprints): string {
  return [
    e.key,
    e.serverName ?? '?',
    `access ${e.accessToken ?? '-'}`,
    `refresh ${e.refreshToken ?? '-'}`,
    `expires ${e.expiresAt ? isoTime(e.expiresAt) : '-'}`,
  ].join('  ');
}
