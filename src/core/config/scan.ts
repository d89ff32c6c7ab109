// Every client's config, read in parallel; one client's broken file never hides another's servers.
import type { ClientId, ConfigScan } from '../model';
import { mergeScans } from '../model';
import type { Environment } from '../environment';
import { scanClaudeCode } from './claudeCode';
import { scanCodex } from './codex';
import { scanExtraConfigs } from './extraConfigs';

const READERS: Record<ClientId, (e: Environment) => Promise<ConfigScan>> = {
  'claude-code': scanClaudeCode,
  codex: scanCodex,
};

export const ALL_CLIENTS = Object.keys(READERS) as ClientId[];

export async function scanConfigs(e: Environment, clients: ClientId[] = ALL_CLIENTS): Promise<ConfigScan> {
  const merged = mergeScans(await Promise.all(clients.map((c) => READERS[c](e))));
  // Extra files are Claude Code's --mcp-config form: read only when Claude Code is, and once.
  if (!e.extraConfigPaths?.length || !clients.includes('claude-code')) return merged;
  return mergeScans([merged, await scanExtraConfigs(e, new Set(merged.files))]);
}
