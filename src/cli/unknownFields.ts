// The CLI's extra confirmation before a write to a store whose client is newer than the newest
// we verified and which holds fields we do not know (core/storeFields.ts): the plan names the
// fields, and `--yes` alone is not enough; `--accept-unknown-fields` says the user read them.
import { type WriteGuard } from '../core/storeFields';
import type { CliIo } from './io';

export { storeWriteGuard } from '../core/storeFields';

export const ACCEPT_UNKNOWN_FIELDS = 'accept-unknown-fields';

/**
 * Prints the guard (when there is one) under the plan; true when the write must not go ahead:
 * `--yes` was given without `--accept-unknown-fields`.
 */
export function refusedForUnknownFields(guard: WriteGuard | undefined, yes: boolean, accepted: boolean, io: CliIo): boolean {
  if (!guard) return false;
  io.stdout(`  ! ${guard.message}\n`);
  if (!yes || accepted) return false;
  io.stdout(`Nothing written. To write anyway (the fields above are kept as they are), run again with --yes --${ACCEPT_UNKNOWN_FIELDS}.\n`);
  return true;
}
