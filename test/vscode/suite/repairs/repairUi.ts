// Shared by the repairs suite: the sandbox's credential stores as files, the tree's probed state
// per server, and the real workbench's dialogs, toasts and QuickPicks through the UI driver
// (test/vscode/uiDriver.mjs): a modal cannot be answered from the extension host, so the driver
// clicks it in the page as a user would.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import * as vscode from 'vscode';
import type { ConfirmationShown } from '../../../../src/vscode/confirm';
import type { ServerRef } from '../../../../src/vscode/serverRef';
import { clientNode, extensionApi, sandboxHome, waitFor } from '../helpers';
import { askUi } from '../uiBridge';

/** A modal as the workbench rendered it (uiDriver.mjs readDialog / realDialog). */
export interface UiDialog {
  message: string;
  detail: string;
  buttons: string[];
}

export interface UiToast {
  message: string;
  buttons: string[];
}

export const claudeStoreFile = (): string => path.join(sandboxHome(), '.claude', '.credentials.json');
export const codexStoreFile = (): string => path.join(sandboxHome(), '.codex', '.credentials.json');

export function userRef(client: ServerRef['client'], name: string): ServerRef {
  return { client, scope: 'user', name };
}

/** Claude Code's store: `mcpOAuth` entries keyed `<name>|<hash>`, each naming its server. */
export interface ClaudeStore {
  raw: string;
  data: { mcpOAuth: Record<string, { serverName?: string; accessToken?: string } & Record<string, unknown>> } & Record<string, unknown>;
}

export function readClaudeStore(): ClaudeStore {
  const raw = fs.readFileSync(claudeStoreFile(), 'utf8');
  return { raw, data: JSON.parse(raw) as ClaudeStore['data'] };
}

export function claudeKeyOf(store: ClaudeStore, name: string): string {
  const key = Object.keys(store.data.mcpOAuth).find((k) => store.data.mcpOAuth[k]?.serverName === name);
  assert.ok(key, `no ${name} entry in Claude Code's store; it has ${Object.keys(store.data.mcpOAuth).join(', ')}`);
  return key;
}

/** The exact text of one value in the store file (an entry, or a top-level key such as claudeAiOauth). */
export function rawText(raw: string, jsonPath: string[]): string | undefined {
  const node = findNodeAtLocation(parseTree(raw)!, jsonPath);
  return node ? raw.slice(node.offset, node.offset + node.length) : undefined;
}

/** The probed state of a server as the tree's item says it (`server.remote.<state>[.refreshable]`). */
export async function treeState(client: 'Claude Code' | 'Codex', name: string): Promise<string | undefined> {
  const tree = await (await extensionApi()).treeSnapshot();
  const item = clientNode(tree, client)?.children.find((n) => n.label === name);
  return /^server\.remote\.([a-z-]+)/.exec(item?.contextValue ?? '')?.[1];
}

/** Waits until the tree shows `state` for the server (the tree follows scans on its own). */
export async function expectTreeState(client: 'Claude Code' | 'Codex', name: string, state: string, timeoutMs = 15_000): Promise<number> {
  const seen = await waitFor(async () => ((await treeState(client, name)) === state ? true : undefined), timeoutMs, 100);
  assert.ok(seen, `${client} ${name}: the tree shows ${await treeState(client, name)}, not ${state}, after ${timeoutMs} ms`);
  return seen.elapsedMs;
}

/**
 * Runs a command whose confirmations are answered with `answers` (in order; undefined = Cancel)
 * through the extension's test seam: VS Code refuses modal dialogs while extension tests run
 * (DialogService.skipDialogs), so the modal itself is checked in a second window (realDialog).
 * Resolves with what the command returned and what each confirmation showed.
 */
export async function answerDialogs<T>(run: () => Thenable<T>, answers: (string | undefined)[]): Promise<{ result: T; shown: ConfirmationShown[] }> {
  const api = await extensionApi();
  assert.ok(api.answerConfirmations, 'the extension runs in test mode, so it offers answerConfirmations');
  const log = api.answerConfirmations(answers);
  try {
    const result = await run();
    return { result, shown: log.shown };
  } finally {
    // From here on an unexpected confirmation fails loudly instead of waiting for a user.
    api.answerConfirmations([]);
  }
}

/** The one confirmation a command showed, answered with `answer`. */
export async function answerDialog<T>(run: () => Thenable<T>, answer: string): Promise<{ result: T; dialog: ConfirmationShown }> {
  const { result, shown } = await answerDialogs(run, [answer]);
  assert.equal(shown.length, 1, `expected one confirmation, saw ${shown.length}`);
  return { result, dialog: shown[0]! };
}

export function command<T>(id: string, ...args: unknown[]): () => Thenable<T> {
  return () => vscode.commands.executeCommand<T>(id, ...args);
}

/** Clicks a toast's button once a toast containing `contains` shows; returns that toast's message. */
export async function clickToast(contains: string, button: string): Promise<string> {
  const r = await askUi<{ message: string }>('clickNotificationButton', { contains, button });
  return r.message;
}

export async function toasts(): Promise<UiToast[]> {
  return askUi<UiToast[]>('readNotifications');
}

/** Empties the Notification Center, so a test reads only its own notifications. */
export async function clearNotifications(): Promise<void> {
  await vscode.commands.executeCommand('notifications.clearAll');
}
