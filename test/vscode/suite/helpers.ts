// What every extension-host test needs: the extension's API, the sandbox's paths, polling.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { format } from 'node:util';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/vscode/activate';
import type { TreeSnapshotNode } from '../../../src/vscode/serverTree';

export const EXTENSION_ID = 'mcp-auth-doctor.mcp-auth-doctor';

/**
 * Marks the suite's console lines: in the code-server runner they arrive mixed with the
 * workbench's own log, and runServer.mjs shows only marked lines.
 */
export const HOST_MARK = '[host] ';

/** A line for the person running the tests (the host's console is not wrappable, so mark it). */
export function note(...args: unknown[]): void {
  console.log(HOST_MARK + format(...args));
}

export async function extensionApi(): Promise<ExtensionApi> {
  const ext = vscode.extensions.getExtension<ExtensionApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

/** The sandbox HOME the runner gave the VS Code server (never the developer's own). */
export function sandboxHome(): string {
  return os.homedir();
}

export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the runner opened no workspace folder');
  return folder.uri.fsPath;
}

/** Polls `probe` until it returns a value other than undefined; the elapsed time comes back too. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 25): Promise<{ value: T; elapsedMs: number } | undefined> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return { value, elapsedMs: Date.now() - started };
    if (Date.now() - started > timeoutMs) return undefined;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** 1-based number of the first line of `file` containing `needle`. */
export function lineOf(file: string, needle: string): number {
  const index = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`${needle} not in ${file}`);
  return index + 1;
}

export function topLabels(tree: TreeSnapshotNode[]): string[] {
  return tree.map((n) => n.label);
}

export function clientNode(tree: TreeSnapshotNode[], label: string): TreeSnapshotNode | undefined {
  return tree.find((n) => n.label === label);
}

/** Writes like Claude Code does: a temporary file renamed over the original. */
export function replaceFile(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
