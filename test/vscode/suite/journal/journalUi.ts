// Shared by the journal suite: the sandbox's Claude Code store (three real logins and a Claude
// login, test/vscode/journalLab.ts), the loss notifications as the workbench shows them, and the
// real `claude` run against the sandbox HOME from inside the extension host.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ShownLoss } from '../../../../src/vscode/lossNotification';
import { runBounded, type RunResult } from '../../../support/boundedProcess';
import { parseClaudeMcpList, sandboxEnv, type ClaudeListedServer } from '../../../support/realClients';
import { EXTENSION_ID, extensionApi, note, sandboxHome, waitFor, workspaceDir } from '../helpers';
import { clickToast, toasts, type UiToast } from '../repairs/repairUi';
import { askUi } from '../uiBridge';

export const SERVERS = ['lab-alpha', 'lab-beta', 'lab-gamma'] as const;

/** The project's pinned claude (the bundled suite cannot find the repository from its own folder). */
function claudeBin(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, 'the extension is loaded');
  return process.env.MAD_CLAUDE_BIN || path.join(ext.extensionPath, 'node_modules', '.bin', 'claude');
}

export async function runClaude(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  const r = await runBounded(claudeBin(), args, { cwd: workspaceDir(), env: sandboxEnv(sandboxHome()), timeoutMs });
  assert.equal(r.code, 0, `claude ${args.join(' ')} exited ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr.slice(0, 400)}`);
  return r;
}

/** What the real `claude mcp list` says of each lab server. */
export async function claudeStatuses(): Promise<Record<string, ClaudeListedServer['statusText']>> {
  const listed = parseClaudeMcpList((await runClaude(['mcp', 'list'])).stdout);
  return Object.fromEntries(listed.map((s) => [s.name, s.statusText]));
}

export async function expectConnected(names: readonly string[]): Promise<void> {
  const statuses = await claudeStatuses();
  for (const n of names) assert.equal(statuses[n], '✔ Connected', `claude mcp list says ${n}: ${statuses[n]}`);
}

/** The losses the extension has shown so far. */
export async function lossesShown(): Promise<ShownLoss[]> {
  return (await extensionApi()).journal.losses();
}

/**
 * Waits until the extension shows one more loss than `before`, and the notification with its
 * title is in the Notification Center; returns both.
 */
export async function nextLoss(before: number, timeoutMs = 20_000): Promise<{ loss: ShownLoss; toast: UiToast }> {
  const shown = await waitFor(async () => {
    const all = await lossesShown();
    return all.length > before ? all[before] : undefined;
  }, timeoutMs, 100);
  assert.ok(shown, `no loss was shown within ${timeoutMs} ms of the write`);
  const toast = await waitFor(async () => (await toasts()).find((t) => t.message === shown.value.finding.title), 10_000, 200);
  assert.ok(toast, `no notification reads "${shown.value.finding.title}"; seen: ${(await toasts()).map((t) => t.message).join(' | ')}`);
  return { loss: shown.value, toast: toast.value };
}

/** The notifications the journal could have raised (our loss titles), as shown now. */
export async function lossToasts(): Promise<UiToast[]> {
  return (await toasts()).filter((t) => /^(Claude Code|Codex)('s credential store| lost| replaced)/.test(t.message));
}

/** `(written by claude 2.1.332, pid 4121)` when exactly one claude ran elsewhere, else `(writer unknown)`. */
export const WRITER = String.raw`\((?:writer unknown|written by claude[^)]*pid \d+)\)`;

/**
 * Clicks a notification's button; once more if the first click found the Notification Center
 * re-rendering (a notification arriving meanwhile detaches the row), with a screenshot of it.
 */
export async function clickToastButton(contains: string, button: string): Promise<string> {
  try {
    return await clickToast(contains, button);
  } catch (err) {
    await askUi('screenshot', { name: `journal-click-${button.replace(/\W/g, '')}` }).catch(() => undefined);
    note('      clicking %s again after: %s', button, err instanceof Error ? err.message.split('\n')[0] : String(err));
    return clickToast(contains, button);
  }
}
