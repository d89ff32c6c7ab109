// The status bar follows the clock: Codex's lab-soon is re-minted to expire 8 s from now (one store
// write, which the file watcher picks up: still fine then). With a 3 s margin (the workspace sets
// mcpAuthDoctor.expiryWarningMinutes to 0.05) the expiry timer alone turns the item on as
// "expiring" 3 s before the expiry and "expired" at it: no file changes in between.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { extensionApi, note, waitFor } from '../helpers';
import { uiDriverAvailable } from '../uiBridge';
import { CODEX_STORE, expireSoon, rememberTokens, renderedStatusItem } from './lab';

const MARGIN_MS = 3000;

describe('the status bar at the next expiry, without a file change', function () {
  this.timeout(60_000);

  it('turns to "expiring" inside the margin and to "expired" at the expiry, each by the timer', async () => {
    const api = await extensionApi();
    await api.rescan();
    assert.equal(api.statusBar(), undefined, 'the sandbox starts healthy (the quick-fix test fixed lab-expired)');
    const expiresAt = await expireSoon(8);
    rememberTokens();
    const written = fs.statSync(CODEX_STORE()).mtimeMs;

    // The watcher's pass after the write: the token is fine, the timer aims at the margin.
    const armed = await waitFor(() => {
      const wake = api.nextWake();
      return wake !== undefined && Math.abs(wake - (expiresAt - MARGIN_MS)) < 1000 ? wake : undefined;
    }, 5000);
    assert.ok(armed, `the expiry timer is not armed for ${new Date(expiresAt - MARGIN_MS).toISOString()} (next wake: ${api.nextWake() ? new Date(api.nextWake()!).toISOString() : 'none'})`);
    assert.equal(api.statusBar(), undefined, 'a token 8 s from expiry is outside the 3 s margin');

    const expiring = await waitFor(() => (api.statusBar()?.text.includes('expiring') ? api.statusBar() : undefined), 10_000, 50);
    assert.ok(expiring, 'the item did not appear when the token entered the margin');
    assert.ok(Date.now() >= expiresAt - MARGIN_MS, 'it appeared before the margin began');
    assert.equal(expiring.value.text, '$(key) MCP: 1 expiring');
    assert.equal(expiring.value.error, false);
    assert.match(expiring.value.tooltip, /^lab-soon \(Codex, user\): expires in \d s \(at .+\) · refresh token present$/m);
    assert.deepEqual(api.lastUpdate()?.reasons, ['expiry timer']);

    const expired = await waitFor(() => (api.statusBar()?.text.includes('expired') ? api.statusBar() : undefined), 10_000, 50);
    assert.ok(expired, 'the item did not turn to "expired" at the expiry');
    assert.ok(Date.now() >= expiresAt, 'it said expired before the stored expiry');
    assert.equal(expired.value.text, '$(key) MCP: 1 expired');
    assert.deepEqual(api.lastUpdate()?.reasons, ['expiry timer']);
    assert.equal(fs.statSync(CODEX_STORE()).mtimeMs, written, 'the store changed meanwhile');
    note('      expiring after %d ms, expired %d ms after the stored expiry', expiring.elapsedMs, Date.now() - expiresAt);

    if (uiDriverAvailable()) {
      const item = await renderedStatusItem();
      assert.ok(item?.warning, `rendered: ${JSON.stringify(item)}`);
      assert.match(item.ariaLabel, /lab-soon: expired \d s ago/);
    }
  });
});
