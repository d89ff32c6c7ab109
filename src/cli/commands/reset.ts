// `mcp-auth-doctor reset <server> [--client <id>] [--cwd DIR] [--yes] [--accept-unknown-fields]`: remove that
// server's stored credential (one entry, after a snapshot), as the client's own logout does.
// Without --yes it prints the plan and exits 1.
import { CLIENT_LABELS } from '../../core/model';
import { planReset, reset as runReset } from '../../core/repair/reset';
import { EXIT_FINDINGS, EXIT_OK, type CliIo } from '../io';
import { refusedForUnknownFields, storeWriteGuard } from '../unknownFields';
import { describeRepairPlan, findRepairTarget, nextSteps, parseRepairArgs, printOutcome } from './refresh';

export async function reset(args: string[], io: CliIo): Promise<number> {
  const parsed = parseRepairArgs('reset', args);
  const found = await findRepairTarget('reset', parsed, io);
  if (typeof found === 'number') return found;
  const { target, e } = found;
  // A reset talks to no server; the context's network is never used.
  const ctx = { http: { fetch: () => Promise.reject(new Error('reset sends no requests')), timeoutMs: 1, maxBodyBytes: 0 } };
  const plan = await planReset(target, ctx);
  io.stdout(describeRepairPlan(`Reset ${target.server.name} for ${CLIENT_LABELS[target.server.client]}`, plan));
  if (plan.blocked) {
    io.stdout(`Nothing to reset: ${plan.blocked.message}\n${nextSteps(plan.blocked.next, target.server)}`);
    return EXIT_FINDINGS;
  }
  if (refusedForUnknownFields(await storeWriteGuard(e, target.server.client, target.key), parsed.yes, parsed.acceptUnknownFields, io)) return EXIT_FINDINGS;
  if (!parsed.yes) {
    io.stdout('Nothing written. Run again with --yes to reset (the store is snapshotted first).\n');
    return EXIT_FINDINGS;
  }
  return printOutcome('Reset', await runReset(target, ctx), target, io) ? EXIT_OK : EXIT_FINDINGS;
}

export const run = reset;
