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

/**
 * Shows the modal; resolves to the label of the button pressed, undefined for Cancel (or Escape).
 * `primary` comes first; `others` follow (e.g. the hand-off to the client's own login).
 */
export async function confirm(message: string, detail: string, primary: string, others: string[] = []): Promise<string | undefined> {
  const items: vscode.MessageItem[] = [{ title: primary }, ...others.map((title) => ({ title })), { title: 'Cancel', isCloseAffordance: true }];
  const picked = await vscode.window.showWarningMessage(message, { modal: true, detail }, ...items);
  return picked && !picked.isCloseAffordance ? picked.title : undefined;
}
