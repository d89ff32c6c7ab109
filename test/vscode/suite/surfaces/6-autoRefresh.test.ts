// mcpAuthDoctor.autoRefresh: Codex's lab-soon has expired (the timer test) with a good refresh
// token. Turning the setting on refreshes it at the lab with no confirmation, logs it, and the
// warning goes away; unless a Codex process runs on this machine, which keeps its refresh token in
// memory: then the refresh is left to Codex and the log says so. Which case applies is read from
// the same process table the extension reads.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { runningClients } from '../../../../src/core/repair/processes';
import { fingerprint } from '../../../../src/core/storageKey';
import { extensionApi, note, waitFor } from '../helpers';
import { labStats, leakedIn, logFile, rememberTokens } from './lab';

describe('auto-refresh (opt-in)', function () {
  this.timeout(60_000);

  after(async () => {
    await vscode.workspace.getConfiguration('mcpAuthDoctor').update('autoRefresh', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('refreshes the expired token of a client that is not running, logs it, and the warning goes away', async () => {
    const api = await extensionApi();
    await api.rescan();
    assert.equal(api.statusBar()?.text, '$(key) MCP: 1 expired', 'lab-soon is expired after the timer test');
    const codex = await runningClients('codex');
    const before = await labStats();
    await vscode.workspace.getConfiguration('mcpAuthDoctor').update('autoRefresh', true, vscode.ConfigurationTarget.Workspace);
    const log = () => {
      const f = logFile(api.logDir);
      return f ? fs.readFileSync(f, 'utf8') : '';
    };

    if (codex.known && codex.processes.length === 0) {
      const refreshed = await waitFor(async () => ((await labStats()).refreshes > before.refreshes ? true : undefined), 15_000, 200);
      assert.ok(refreshed, 'no refresh reached the lab');
      const line = await waitFor(() => /\[info\] auto-refresh: lab-soon \(Codex\): Refreshed lab-soon: new token sha256:[0-9a-f]{12}, expires in 60 min \(undo: MCP Auth: Restore Credentials…, snapshot \d{8}T\d{9}Z-codex-[0-9a-f]{8}-[0-9a-f]+\)/.exec(log())?.[0], 5000, 200);
      assert.ok(line, 'the refresh is not in the log');
      note('      %s', line.value);
      const gone = await waitFor(() => (api.statusBar() === undefined ? true : undefined), 10_000);
      assert.ok(gone, `the status bar still shows ${JSON.stringify(api.statusBar())}`);
      assert.equal((await labStats()).refreshes - before.refreshes, 1, 'exactly one refresh');
    } else {
      note('      a Codex process runs on this machine (%s): the refresh is left to it', codex.processes.map((p) => p.pid).join(', ') || codex.reason);
      const line = await waitFor(() => /auto-refresh: skipped for Codex: .+/.exec(log())?.[0], 10_000, 200);
      assert.ok(line, 'the skip is not in the log');
      assert.equal((await labStats()).refreshes, before.refreshes, 'refreshed although Codex runs');
    }
    const leaks = leakedIn(log(), rememberTokens());
    assert.deepEqual(leaks.map(fingerprint), [], 'tokens in the log');
  });
});
