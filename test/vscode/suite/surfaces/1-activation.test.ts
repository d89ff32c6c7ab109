// Before the user opens the MCP Auth view, the extension sends nothing: the lab has received no
// request, yet the status bar already warns about the token the store says has expired (its
// stored expiry needs no network). Opening the view starts the probe.
import { strict as assert } from 'node:assert';
import { extensionApi, note, waitFor } from '../helpers';
import { askUi, uiDriverAvailable } from '../uiBridge';
import { labStats, rememberTokens, renderedStatusItem } from './lab';

describe('activation: stored state first, the network only once the view is opened', function () {
  this.timeout(30_000);

  before(() => {
    rememberTokens();
  });

  it('reads configs and stores at activation and probes nothing', async () => {
    const api = await extensionApi();
    const first = await waitFor(() => api.lastUpdate(), 10_000);
    assert.ok(first, 'no pass finished after activation');
    assert.deepEqual(first.value.reasons, ['activation']);
    assert.equal(first.value.probed, false, 'the first pass probed although the view was never opened');
    // Give a stray probe time to show itself before counting.
    await new Promise((r) => setTimeout(r, 1000));
    const stats = await labStats();
    assert.deepEqual(stats, { mcpRequests: 0, authorizationServerRequests: 0, refreshes: 0 }, 'the lab was contacted before the view was opened');
  });

  it('shows the stored expiry in the status bar without any request: a warning naming lab-expired', async () => {
    const bar = (await extensionApi()).statusBar();
    assert.ok(bar, 'no status-bar item although lab-expired is stored as expired');
    assert.equal(bar.text, '$(key) MCP: 1 expired');
    assert.equal(bar.error, false, 'a refresh token is stored, so it is a warning, not an error');
    assert.match(bar.tooltip, /^lab-expired \(Claude Code, user\): expired \d+ (s|min) ago \(at .+\) · refresh token present$/m);
    assert.doesNotMatch(bar.tooltip, /lab-valid|lab-soon/, 'servers that are fine are not listed');
  });

  it('renders it in the window as a warning a screen reader can read, and nothing else of ours', async function () {
    if (!uiDriverAvailable()) this.skip();
    const item = await renderedStatusItem();
    assert.ok(item, 'our status-bar entry is not in the window');
    assert.match(item.text, /MCP: 1 expired/);
    assert.ok(item.warning, `not warning-styled: ${JSON.stringify(item)}`);
    assert.match(item.ariaLabel, /^MCP Auth: 1 expired\. lab-expired: expired \d+ (s|min) ago \(at .+\), refresh token present\. Opens the MCP Auth view\.$/);
    assert.doesNotMatch(item.ariaLabel, /\$\(/, 'icon syntax is not read aloud');
    note('      status bar: "%s" (%s), read as "%s"', item.text, item.background, item.ariaLabel);
  });

  it('probes once the view is opened: the lab hears from the extension then', async function () {
    if (!uiDriverAvailable()) this.skip();
    const api = await extensionApi();
    await askUi('showView');
    const probed = await waitFor(() => (api.lastUpdate()?.probed ? api.lastUpdate() : undefined), 15_000);
    assert.ok(probed, 'opening the view did not start a probe');
    assert.ok(probed.value.reasons.includes('view opened'), `reasons: ${probed.value.reasons.join(', ')}`);
    const stats = await labStats();
    assert.ok(stats.mcpRequests >= 3, `the lab's MCP endpoint got ${stats.mcpRequests} requests for three servers`);
    assert.equal(stats.refreshes, 0, 'a probe never refreshes');
    const bar = api.statusBar();
    assert.equal(bar?.text, '$(key) MCP: 1 expired', 'the probe confirms the expiry (the lab rejects the token)');
  });
});
