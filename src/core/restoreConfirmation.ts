// What a restore must ask when the client is newer than the newest we verified and its store holds
// fields we do not know (storeFields.ts storeWriteGuard): the same explicit confirmation a repair
// asks (vscode/repairs.ts), naming the fields, with a button that names them. A
// restore is not a patch, so what happens differs from a repair's write: a whole-store restore
// writes the snapshot's bytes (claudeCodeStore.ts / codexStore.ts `restore`), so fields the store
// holds now and the snapshot lacks are gone; a one-entry restore puts that entry back as the
// snapshot has it and keeps every other entry and the top level byte for byte.
import { CLIENT_LABELS } from './model';
import { describeUnknownField, type UnknownField, type WriteGuard } from './storeFields';

export interface RestoreConfirmation {
  /** The button that restores; it names the unknown fields when there are any. */
  primary: string;
  /** The warning for the confirmation's detail (absent: nothing to warn about). */
  warning?: string;
  /** The unknown fields the user is asked about, each once. */
  fields: UnknownField[];
}

/**
 * `guards`: one per entry the restore writes (a one-entry restore, or each entry a put-back
 * restores), or the one guard of a whole-store restore (`whole`); undefined where there is none.
 */
export function restoreConfirmation(verb: string, guards: (WriteGuard | undefined)[], whole: boolean): RestoreConfirmation {
  const present = guards.filter((g): g is WriteGuard => g !== undefined);
  const seen = new Set<string>();
  const fields = present.flatMap((g) => g.fields).filter((f) => {
    const id = describeUnknownField(f);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  if (fields.length === 0) return { primary: verb, fields };
  const count = `${fields.length} unknown field${fields.length === 1 ? '' : 's'}`;
  const first = present[0]!;
  const where = [...new Set(present.map((g) => g.location))].join(', ');
  const warning =
    `${CLIENT_LABELS[first.client]} ${first.version} is newer than the newest version we verified (${first.newestVerified}), and ${where} holds ` +
    `field${fields.length === 1 ? '' : 's'} we do not know: ${fields.map(describeUnknownField).join(', ')}. ` +
    (whole
      ? 'A whole-store restore writes the store exactly as the snapshot holds it: those fields come back as the snapshot had them, and any the snapshot lacks are gone.'
      : `The restored entr${present.length === 1 ? 'y comes' : 'ies come'} back as the snapshot had ${present.length === 1 ? 'it' : 'them'}; every other entry and the top level are kept byte for byte.`) +
    ' The client may expect such fields to change together with what is written.';
  // The button names the count, so pressing it is a choice made knowing of the fields.
  return { primary: `${verb} despite ${count}`, warning, fields };
}
