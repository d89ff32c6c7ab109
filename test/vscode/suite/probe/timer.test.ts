// The status bar follows the clock, not only files: a token that expires in a few seconds turns
// the warning on when it expires, with no file change and no other event, through the timer the
// surfaces arm at the next expiry.
import { strict as assert } from 'node:assert';
import type { McpServer } from '../../../../src/core/model';
import type { StatusReport } from '../../../../src/core/status';
import type { TokenStatus } from '../../../../src/core/tokenStatus';
import { AttentionSurfaces } from '../../../../src/vscode/attention';

describe('the status bar at the next expiry', () => {
  it('appears when a token expires a few seconds from now, without any file change', async function () {
    this.timeout(15_000);
    const expiresAt = Date.now() + 2500;
    const server: McpServer = {
      client: 'claude-code', scope: 'user', name: 'soon', transport: 'http', url: 'http://127.0.0.1:9/mcp', rawUrl: 'http://127.0.0.1:9/mcp',
      headerNames: [], headers: {}, enabled: true, source: { file: '/nowhere/.claude.json', line: 1, column: 1 }, findings: [],
    };
    const token: TokenStatus = { state: 'stored', expiresAt, fingerprint: 'sha256:000000000000', hasRefreshToken: false, store: '/nowhere', storeKind: 'file', clientId: 'c', scopes: [] };
    const report = { scan: { servers: [server], findings: [], files: [] }, servers: [{ server, token }], findings: [], readings: [], at: Date.now() } as StatusReport;
    let rescans = 0;
    // What a rescan does, for this one server: judge the same stored token again, now.
    const surfaces: AttentionSurfaces = new AttentionSurfaces(() => {
      rescans++;
      surfaces.update({ ...report, at: Date.now() }, [], 0);
    });
    try {
      surfaces.update(report, [], 0);
      assert.equal(surfaces.statusSnapshot(), undefined, 'nothing to show while the token is valid and outside the margin');
      const deadline = Date.now() + 8000;
      while (!surfaces.statusSnapshot() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const bar = surfaces.statusSnapshot();
      assert.ok(bar, 'the status bar did not appear after the token expired');
      assert.match(bar.text, /1 expired/);
      assert.ok(Date.now() >= expiresAt, 'it appeared before the token expired');
      assert.ok(bar.error, 'an expired token without a refresh token is an error');
      assert.equal(rescans, 1, 'exactly one timer-driven rescan');
    } finally {
      surfaces.dispose();
    }
  });
});
