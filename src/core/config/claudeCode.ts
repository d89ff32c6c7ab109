// PLACEHOLDER until the Claude Code reader lands (issue 2): returns nothing.
import type { ConfigScan } from '../model';
import { emptyScan } from '../model';
import type { Environment } from '../environment';

export async function scanClaudeCode(_e: Environment): Promise<ConfigScan> {
  return emptyScan();
}
