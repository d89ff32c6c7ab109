// Rules that changed in Claude Code 2.1.332 (read from its shipped binary; see the comments in
// the code under test): the redirect URI a re-login reuses, headersHelper behind folder trust,
// oauth.scopes as one string, whole-store wipes and the entry fields it writes.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanClaudeCode } from '../../src/core/config/claudeCode';
import { parseClaudeBlob, patchEntry } from '../../src/core/credentials/claudeCodeBlob';
import { emptiedGrantsFindings, newestTokensByKey, zeroedGrantsFindings } from '../../src/core/credentials/claudeCodeFindings';
import type { McpServer } from '../../src/core/model';
import { redirectChoicesFor, redirectUriOf } from '../../src/core/repair/loopbackRedirect';
import { sandboxEnvironment } from './sandboxEnvironment';

const where = { kind: 'file' as const, location: '/h/.claude/.credentials.json' };
const server = { client: 'claude-code', name: 'lab', scope: 'user', transport: 'http', url: 'http://127.0.0.1:1/mcp', headerNames: [], headers: {}, enabled: true, findings: [] } as unknown as McpServer;

function blobOf(mcpOAuth: Record<string, unknown>) {
  const r = parseClaudeBlob(JSON.stringify({ mcpOAuth }), where);
  assert.ok(r.ok);
  return r.blob;
}

describe('Claude Code 2.1.332 rules', () => {
  it('a re-login offers the stored redirect URI exactly as stored, and 3118 only when nothing is stored', () => {
    const stored = 'http://localhost:54321/callback';
    const c = redirectChoicesFor(server, {}, stored);
    assert.ok(!('refused' in c));
    assert.deepEqual(c.reuse.map((r) => redirectUriOf(r)).slice(0, 1), [stored]);
    assert.ok(!c.reuse.some((r) => r.port === 3118), 'a stored URI on another port rules 3118 out');
    const none = redirectChoicesFor(server, {});
    assert.ok(!('refused' in none));
    assert.ok(none.reuse.some((r) => redirectUriOf(r) === 'http://localhost:3118/callback'), '2.1.197 stores may hold a client on 3118');
    assert.equal(none.register.host, 'localhost', 'claude sends localhost, not 127.0.0.1');
  });

  it('token writes keep the issuer in the entry and the tokenless mark as claude\'s own login does; other fields stay', () => {
    const blob = blobOf({ 'lab|1': { serverName: 'lab', accessToken: '', stepUpScope: 'x', discoveryState: { authorizationServerUrl: 'http://as', tokenlessRejectedAt: 5, oauthMetadataFound: true } } });
    const next = patchEntry(blob, 'lab|1', { accessToken: 'AT', issuer: 'http://as' });
    const e = JSON.parse(next!.text).mcpOAuth['lab|1'];
    assert.equal(e.issuer, 'http://as');
    assert.equal(e.discoveryState.tokenlessRejectedAt, 5);
    assert.equal(e.discoveryState.oauthMetadataFound, true);
    assert.equal(e.stepUpScope, 'x');
  });

  it('many registration-only entries at once are one wipe, restorable entry by entry from the snapshot that held their tokens', () => {
    const reg = (n: string) => ({ serverName: n, clientId: `c-${n}`, accessToken: '' });
    const blob = blobOf({ 'a|1': reg('a'), 'b|1': reg('b'), 'c|1': reg('c'), 'e|1': reg('e'), 'd|1': { ...reg('d'), accessToken: 'live' } });
    const byKey = newestTokensByKey([
      { id: '20260101-old', createdAt: 'old', entries: [{ key: 'a|1', accessToken: 'sha256:1' }] },
      { id: '20260102-new', createdAt: 'new', entries: [{ key: 'a|1' }, { key: 'b|1', refreshToken: 'sha256:2' }] },
    ]);
    const [f] = zeroedGrantsFindings(blob, where, (k) => byKey.get(k));
    assert.equal(f?.code, 'credentials.grants-zeroed');
    assert.match(f!.title, /^4 of 5 /);
    assert.match(f!.detail, /restore 20260101-old --entry 'a\|1'/, 'the newest snapshot WITH tokens for a');
    assert.match(f!.detail, /restore 20260102-new --entry 'b\|1'/);
    assert.match(f!.detail, /no snapshot holds tokens for c, e/);
    // One unfinished login is not a wipe.
    assert.deepEqual(zeroedGrantsFindings(blobOf({ 'a|1': reg('a'), 'd|1': { ...reg('d'), accessToken: 'live' } }), where, () => undefined), []);
  });

  it('an emptied mcpOAuth names the lost grants and the needs-auth stamps seen since', () => {
    const src = { snapshotId: 's1', createdAt: 't' };
    const [f] = emptiedGrantsFindings(where, [{ key: 'lab|1', name: 'lab', src }], ['lab']);
    assert.equal(f?.code, 'credentials.grants-emptied');
    assert.match(f!.detail, /marked lab as needing authentication/);
    assert.deepEqual(emptiedGrantsFindings(where, [], ['lab']), []);
  });

  it('a local server with headersHelper in an untrusted folder is flagged; trusted, user scope, or oauth.scopes as a string are not', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-332-'));
    const e = sandboxEnvironment(root);
    const app = e.projectDirs[0]!;
    await fs.mkdir(app, { recursive: true });
    await fs.mkdir(e.home, { recursive: true });
    const helper = { type: 'http', url: 'https://x.example/mcp', headersHelper: 'print-headers' };
    const write = (trusted: boolean) =>
      fs.writeFile(
        path.join(e.home, '.claude.json'),
        JSON.stringify({
          mcpServers: { mine: { ...helper, oauth: { scopes: 'read write' } }, listy: { ...helper, oauth: { scopes: ['read'] } } },
          projects: { [app]: { hasTrustDialogAccepted: trusted, mcpServers: { local: helper } } },
        }),
      );
    await write(false);
    let scan = await scanClaudeCode(e);
    const local = scan.servers.find((s) => s.name === 'local')!;
    assert.ok(local.findings.some((f) => f.code === 'config.headers-helper-untrusted'));
    const mine = scan.servers.find((s) => s.name === 'mine')!;
    assert.ok(!mine.findings.some((f) => f.code === 'config.headers-helper-untrusted'), 'user scope is not gated');
    assert.deepEqual(mine.oauth?.scopes, ['read', 'write']);
    // 2.1.332's schema has scopes: string; an array fails it and claude skips the entry.
    assert.ok(scan.servers.find((s) => s.name === 'listy')!.findings.some((f) => f.code === 'config.invalid-entry' && /oauth\.scopes/.test(f.title)));
    await write(true);
    scan = await scanClaudeCode(e);
    assert.ok(!scan.servers.find((s) => s.name === 'local')!.findings.some((f) => f.code === 'config.headers-helper-untrusted'));
    scan = await scanClaudeCode({ ...e, env: { CLAUDE_CODE_IGNORE_PERSISTED_TRUST: '1' } });
    assert.ok(scan.servers.find((s) => s.name === 'local')!.findings.some((f) => f.code === 'config.headers-helper-untrusted'));
    await fs.rm(root, { recursive: true, force: true });
  });
});
