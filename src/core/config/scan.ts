// Every client's config, read in parallel; one client's broken file never hides another's servers.
import type { ClientId, ConfigScan } from '../model';
import { mergeScans } from '../model';
import type { Environment } from '../environment';
import { scanClaudeCode } from './claudeCode';
import { scanCodex } from './codex';

const READERS: Record<ClientId, (e: Environment) => Promise<ConfigScan>> = {
  'claude-code': scanClaudeCode,
  codex: scanCodex,
};

export const ALL_CLIENTS = Object.keys(READERS) as ClientId[];

export async function scanConfigs(e: Environment, clients: ClientId[] = ALL_CLIENTS): Promise<ConfigScan> {
  return mergeScans(await Promise.all(clients.map((c) => READERS[c](e))));
}
