// The hand-off: "Re-login with Codex" types the real `codex mcp login lab-fresh` into a VS Code
// terminal's shell (cwd the workspace for a user-scope server; codex found on the shell's PATH), and
// the view follows when the client writes its store: here the test writes the grant into Codex's
// credentials file as Codex does once its login completes (a browser the sandbox lacks), and the
// tree turns valid with no re-scan asked for.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { scanConfigs } from '../../../../src/core/config/scan';
import { environmentFromProcess } from '../../../../src/core/environment';
import type { RepairRun } from '../../../../src/vscode/repairs';
import { extensionApi, note, replaceFile, waitFor, workspaceDir } from '../helpers';
import { uiDriverAvailable } from '../uiBridge';
import { answerDialog, clearNotifications, codexStoreFile, command, treeState, userRef } from './repairUi';

describe('hand-off to the client\'s own login', function () {
  this.timeout(60_000);

  before(async function () {
    if (!uiDriverAvailable()) this.skip();
    await (await extensionApi()).rescan();
    assert.equal(await treeState('Codex', 'lab-fresh'), 'not-logged-in');
  });

  it('runs `codex mcp login lab-fresh` in a terminal, and the tree follows when Codex writes its store', async () => {
    await clearNotifications();
    const run = (await command<RepairRun>('mcpAuth.handOffLogin', userRef('codex', 'lab-fresh'))()) as RepairRun;
    assert.equal(run.handedOff, true);
    // A remote window (code-server is one: the browser is not on the host that runs codex) gets
    // --no-browser, so codex prints the URL and takes the pasted callback (failure mode F3).
    const typed = vscode.env.remoteName !== undefined ? 'mcp login lab-fresh --no-browser' : 'mcp login lab-fresh';
    note('      remote window: %s; typed: codex %s', vscode.env.remoteName ?? 'no', typed);
    const terminal = vscode.window.terminals.find((t) => t.name === `Codex: codex ${typed}`);
    assert.ok(terminal, `terminals: ${vscode.window.terminals.map((t) => t.name).join(', ')}`);
    try {
      const options = terminal.creationOptions as vscode.TerminalOptions;
      assert.equal(options.shellPath, undefined, "a plain name is typed into the user's own shell");
      assert.equal(options.cwd, workspaceDir());

      // The client really runs, under the terminal's shell, with the command line we typed.
      note('      terminal created; waiting for its shell');
      const shell = await Promise.race([terminal.processId, new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000))]);
      assert.ok(shell, 'the terminal started no shell');
      const client = await waitFor(() => processUnder(shell, (argv) => argv.slice(-typed.split(' ').length).join(' ') === typed), 15_000, 200);
      assert.ok(client, `no \`codex ${typed}\` under the terminal's shell (pid ${shell})`);
      note('      shell pid %d runs pid %d: %s', shell, client.value.pid, client.value.argv.map((a) => a.split('/').pop()).join(' '));

      // What Codex writes when its login completes: its fallback file gains the lab-fresh grant.
      const e = environmentFromProcess([workspaceDir()]);
      const scan = await scanConfigs(e, ['codex']);
      const key = scan.servers.find((s) => s.name === 'lab-fresh')?.storageKey;
      assert.ok(key);
      const file = JSON.parse(fs.readFileSync(codexStoreFile(), 'utf8')) as Record<string, Record<string, unknown>>;
      const notes = Object.values(file).find((v) => v.server_name === 'lab-notes');
      assert.ok(notes, 'the demo stores a Codex lab-notes grant (same lab as lab-fresh)');
      replaceFile(codexStoreFile(), JSON.stringify({ ...file, [key]: { ...notes, server_name: 'lab-fresh' } }));
      const seen = await waitFor(async () => ((await treeState('Codex', 'lab-fresh')) === 'valid' ? true : undefined), 15_000, 100);
      assert.ok(seen, `the tree still shows lab-fresh ${await treeState('Codex', 'lab-fresh')}`);
      note('      lab-fresh valid %d ms after the store changed', seen.elapsedMs);
    } finally {
      terminal.dispose();
    }
  });

  it('offers the client\'s own logout in the reset modal, and the real `codex mcp logout` empties the entry', async () => {
    await clearNotifications();
    const before = JSON.parse(fs.readFileSync(codexStoreFile(), 'utf8')) as Record<string, Record<string, unknown>>;
    const key = Object.keys(before).find((k) => before[k]?.server_name === 'lab-notes');
    assert.ok(key, 'the demo stores a Codex lab-notes grant');
    assert.equal(await treeState('Codex', 'lab-notes'), 'valid');
    const { result, dialog } = await answerDialog(command<RepairRun>('mcpAuth.reset', userRef('codex', 'lab-notes')), 'Log out with Codex instead');
    assert.equal(dialog.message, 'Remove the stored credential of "lab-notes" from Codex\'s store?');
    assert.equal(result.handedOff, true);
    const terminal = vscode.window.terminals.find((t) => t.name === 'Codex: codex mcp logout lab-notes');
    assert.ok(terminal, `terminals: ${vscode.window.terminals.map((t) => t.name).join(', ')}`);
    try {
      // Codex itself removes the grant (nothing of ours wrote), and the tree follows its write.
      const gone = await waitFor(() => {
        // Codex rewrites the file in place (truncate, then write): a read in between sees it empty.
        let now: Record<string, unknown>;
        try {
          now = JSON.parse(fs.readFileSync(codexStoreFile(), 'utf8')) as Record<string, unknown>;
        } catch {
          return undefined;
        }
        return now[key] === undefined ? now : undefined;
      }, 30_000, 200);
      assert.ok(gone, 'codex mcp logout did not remove the entry');
      for (const k of Object.keys(before).filter((k) => k !== key)) assert.deepEqual(gone.value[k], before[k], `codex changed ${k}`);
      const seen = await waitFor(async () => ((await treeState('Codex', 'lab-notes')) === 'not-logged-in' ? true : undefined), 15_000, 100);
      assert.ok(seen, `the tree still shows lab-notes ${await treeState('Codex', 'lab-notes')}`);
      note('      codex logged out in %d ms; the tree followed %d ms later', gone.elapsedMs, seen.elapsedMs);
    } finally {
      terminal.dispose();
    }
  });
});

/** A process descending from `root` whose argv matches, from /proc (Linux, where this suite runs). */
function processUnder(root: number, match: (argv: string[]) => boolean): { pid: number; argv: string[] } | undefined {
  const parentOf = new Map<number, number>();
  const argvOf = new Map<number, string[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      argvOf.set(Number(name), fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean));
    } catch {
      // gone meanwhile
    }
  }
  for (const [pid, argv] of argvOf) {
    if (!match(argv)) continue;
    for (let p = parentOf.get(pid), hops = 0; p && hops < 50; p = parentOf.get(p), hops++) if (p === root) return { pid, argv };
  }
  return undefined;
}
