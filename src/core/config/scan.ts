// Every client's config, read in parallel; one client's broken file never hides another's servers.
import type { ClientId, ConfigScan } from '../model';
import { mergeScans } from '../model';
import type { Environment } from '../environment';
import { CLIENT_IDS } from '../clients/ids';
import { clientDefinition } from '../clients/registry';

export const ALL_CLIENTS: ClientId[] = [...CLIENT_IDS];

export async function scanConfigs(e: Environment, clients: readonly ClientId[] = ALL_CLIENTS): Promise<ConfigScan> {
  const merged = mergeScans(await Promise.all(clients.map((c) => clientDefinition(c).scanConfigs(e))));
  return { ...merged, findings: distinctFindings(merged.findings) };
}

/**
 * Two clients can read one file (mcp-remote's entries sit in Cursor's and Claude Desktop's
 * configs): a broken file is then reported once, not once per reader.
 */
function distinctFindings(findings: ConfigScan['findings']): ConfigScan['findings'] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const id = `${f.code}\0${f.location ? `${f.location.file}:${f.location.line}:${f.location.column}` : ''}\0${f.title}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
