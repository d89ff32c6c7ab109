// The confirmation every repair asks for: a modal that names exactly what will change (the store
// by file or Keychain/keyring item, the entry key, each field by fingerprint) from the plan the
// core made, with the plan's warnings, before anything is written.
import * as vscode from 'vscode';
import type { StoreKind } from '../core/credentials/store';
import type { RepairPlan } from '../core/repair/types';

const STORE_KIND_WORDS: Record<StoreKind, string> = { file: 'file', keychain: 'macOS Keychain item', keyring: 'OS keyring' };

export function storeWords(location: string, kind: StoreKind): string {
  return `${location} (${STORE_KIND_WORDS[kind]})`;
}

/** The modal's detail text for a repair plan: store, entry, changes one per line, warnings. */
export function planDetail(plan: RepairPlan, kind: StoreKind, closing?: string): string {
  const lines = [`Store: ${storeWords(plan.target.store, kind)}`, `Entry: ${plan.target.key}`, '', 'What changes:', ...plan.changes.map((c) => `• ${c}`)];
  if (plan.warnings.length > 0) lines.push('', ...plan.warnings.map((w) => `⚠ ${w}`));
  if (closing) lines.push('', closing);
  return lines.join('\n');
}

/** A confirmation as it was put to the user: what the extension-host tests check. */
export interface ConfirmationShown {
  message: string;
  detail: string;
  /** The buttons, Cancel last. */
  buttons: string[];
  /** What was answered (undefined: Cancel). */
  answer?: string;
}

/**
 * Answers confirmations instead of the user, in order, recording what each showed. Only for the
 * extension-host tests: VS Code refuses modal dialogs while extension tests run
 * (DialogService.skipDialogs() in 1.139 throws "refused to show dialog in tests"). activate.ts
 * hands this out only in ExtensionMode.Test, so no other extension can answer for the user.
 */
export class ConfirmationAnswers {
  readonly shown: ConfirmationShown[] = [];
  constructor(private readonly answers: (string | undefined)[]) {}
  answer(shown: Omit<ConfirmationShown, 'answer'>): string | undefined {
    if (this.answers.length === 0) throw new Error(`no answer queued for the confirmation "${shown.message}"`);
    const answer = this.answers.shift();
    this.shown.push({ ...shown, ...(answer !== undefined ? { answer } : {}) });
    return answer;
  }
}

let testAnswers: ConfirmationAnswers | undefined;

/** Tests: answer the next confirmations with `answers` (undefined = Cancel); returns the record of what they showed. */
export function answerConfirmationsForTests(answers: (string | undefined)[]): ConfirmationAnswers {
  testAnswers = new ConfirmationAnswers(answers);
  return testAnswers;
}

/**
 * Shows the modal; resolves to the label of the button pressed, undefined for Cancel (or Escape).
 * `primary` comes first; `others` follow (e.g. the hand-off to the client's own login).
 */
export async function confirm(message: string, detail: string, primary: string, others: string[] = []): Promise<string | undefined> {
  const items: vscode.MessageItem[] = [{ title: primary }, ...others.map((title) => ({ title })), { title: 'Cancel', isCloseAffordance: true }];
  if (testAnswers) {
    const answer = testAnswers.answer({ message, detail, buttons: items.map((i) => i.title) });
    if (answer !== undefined && !items.some((i) => i.title === answer)) throw new Error(`"${answer}" is not a button of "${message}"`);
    return answer === 'Cancel' ? undefined : answer;
  }
  const picked = await vscode.window.showWarningMessage(message, { modal: true, detail }, ...items);
  return picked && !picked.isCloseAffordance ? picked.title : undefined;
}
