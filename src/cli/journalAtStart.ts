// The journal at the start of every command that reads the credential stores (issue 13): a store
// a client destroyed since we last looked is journaled and its loss said, before the command
// touches anything, so the state just before the loss is never older than our last run. A loss
// goes to stderr (stdout stays the command's own, `--json` included), with the command that puts
// it back. The journal never stops a command: a failure to journal is one line on stderr.
import { journalEnabled, journalFromEnvironment } from '../core/journal/journal';
import { journalSources } from '../core/journal/sources';
import { cliEnvironment } from './environment';
import type { CliIo } from './io';

/**
 * Commands that read the stores anyway (so reading them once more raises no prompt the command
 * would not). `backups` and `history` only read our own folders; `guard` journals by itself.
 */
export const JOURNALED_COMMANDS = new Set(['status', 'backup', 'restore', 'refresh', 'reset', 'login']);

export async function journalAtStart(command: string, io: CliIo): Promise<void> {
  if (!JOURNALED_COMMANDS.has(command)) return;
  const e = cliEnvironment(io, undefined);
  if (!journalEnabled(e)) return;
  try {
    const journal = journalFromEnvironment(e);
    for (const source of journalSources(e, { readSecureStores: true })) {
      const observed = await journal.observe(source);
      for (const state of observed.states) {
        const alarms = state.losses.filter((l) => l.alarm);
        if (alarms.length === 0) continue;
        for (const f of state.findings.filter((f) => f.severity !== 'info')) io.stderr(`mcp-auth-doctor: ${f.title}.\n`);
        io.stderr(`  Put back only what was lost: mcp-auth-doctor restore --lost --client ${state.client} --yes\n`);
      }
    }
  } catch (err) {
    io.stderr(`mcp-auth-doctor: the credential journal could not record the stores now (${err instanceof Error ? err.message : String(err)}); continuing.\n`);
  }
}
