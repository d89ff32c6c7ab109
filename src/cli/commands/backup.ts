// `mcp-auth-doctor backup [--client <id>]`: snapshot each client's credential store
// now (a private copy under ~/.mcp-auth-doctor/backups) and print the snapshot ids.
import { parseArgs } from 'node:util';
import { credentialStoresFor } from '../../core/credentials/index';
import { snapshotStoreFor } from '../../core/credentials/backups';
import { CLIENT_LABELS } from '../../core/model';
import { cliEnvironment } from '../environment';
import { EXIT_OK, type CliIo } from '../io';
import { parseClientOption } from './backups';

export async function backup(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { client: { type: 'string' } }, strict: true });
  const client = parseClientOption(values.client);
  const e = cliEnvironment(io, undefined);
  const snapshots = snapshotStoreFor(e);
  const stores = credentialStoresFor(e, undefined, { backups: snapshots, ...(client ? { clients: [client] } : {}) });
  for (const store of stores) {
    const label = CLIENT_LABELS[store.client];
    if (!store.backup) {
      io.stdout(`${label}: backups are not supported for this store yet.\n`);
      continue;
    }
    const snap = await store.backup();
    if (snap) io.stdout(`${snap.id}  ${label}  ${snap.location}  ${snap.entries.length} MCP grant(s)\n`);
    else io.stdout(`${label}: nothing stored at ${store.location}; no snapshot taken.\n`);
  }
  io.stdout(`Snapshots are in ${snapshots.dir} (private: they hold live tokens).\n`);
  return EXIT_OK;
}

export const run = backup;
