// PLACEHOLDER until the Codex reader lands (issue 2): returns nothing.
import type { ConfigScan } from '../model';
import { emptyScan } from '../model';
import type { Environment } from '../environment';

export async function scanCodex(_e: Environment): Promise<ConfigScan> {
  return emptyScan();
}
