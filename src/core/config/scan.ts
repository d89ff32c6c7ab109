// Every client's config, read in parallel; one client's broken file never hides another's servers.
import type { ClientId, ConfigScan, Finding } from '../model';
import { mergeScans } from '../model';
import type { Environment } from '../environment';
import { CLIENT_IDS } from '../clients/ids';
import { clientDefinition } from '../clients/registry';

export const ALL_CLIENTS: ClientId[] = [...CLIENT_IDS];

export async function scanConfigs(e: Environment, clients: readonly ClientId[] = ALL_CLIENTS): Promise<ConfigScan> {
  const scans = await Promise.all(clients.map((c) => clientDefinition(c).scanConfigs(e)));
  return withoutRepeats(scans);
}

/**
 * Two clients can read one file (mcp-remote's entries sit in Cursor's and Claude Desktop's
 * configs): a finding another client's reader already made at the same place, with the same
 * code (a broken file), is reported once. Within one reader nothing is dropped.
 */
function withoutRepeats(scans: ConfigScan[]): ConfigScan {
  const seen = new Set<string>();
  const placeOf = (f: Finding) => (f.location ? `${f.code}\0${f.location.file}:${f.location.line}:${f.location.column}` : undefined);
  const kept = scans.map((scan) => {
    const findings = scan.findings.filter((f) => {
      const at = placeOf(f);
      return at === undefined || !seen.has(at);
    });
    for (const f of scan.findings) {
      const at = placeOf(f);
      if (at) seen.add(at);
    }
    return { ...scan, findings };
  });
  return mergeScans(kept);
}
