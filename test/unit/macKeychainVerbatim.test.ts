// Our real macOS code over `security` outputs copied verbatim from public reports
// (test/fixtures/macos-security/ with recorded: "verbatim"; each fixture's `source` is the report and
// its `note` lists every edit). No Mac ran here: these prove our parser and classifier read what real
// `security` runs printed, not that a Mac behaves so today.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ClaudeKeychain } from '../../src/core/credentials/claudeCodeKeychain';
import { codexKey } from '../../src/core/credentials/codexFormat';
import type { KeyringOp, KeyringRunner } from '../../src/core/credentials/codexKeyring';
import { argvReadsSecretOrAcl, classifySecurityFailure, decodeSecurityPassword, parseKeychainItems, SECURITY_PATH } from '../../src/core/credentials/macKeychain';
import { collectStatus } from '../../src/core/status';
import { describeToken } from '../../src/core/tokenStatus';
import { sandboxEnv, tempDir } from './credentialsHelpers';
import { loadRecording, securityReplay, type SecurityRecording } from './macKeychainReplay';

/** The verbatim recording, checked to be one. */
function verbatim(name: string): SecurityRecording {
  const r = loadRecording(name);
  assert.equal(r.recorded, 'verbatim', name);
  return r;
}

describe('macOS security outputs copied from public reports (verbatim recordings)', function () {
  this.timeout(30_000);

  describe('attribute listings', () => {
    it('an older-format listing (no "version:" line, login.keychain without -db) with an empty account parses whole', () => {
      const r = verbatim('find-secure-note-null-account');
      assert.ok(!r.stdout.includes('version:'));
      assert.deepEqual(parseKeychainItems(r.stdout), [
        {
          keychain: '/Users/USERNAME/Library/Keychains/login.keychain',
          service: 'Testing Note',
          account: '',
          modified: '2014-12-12T17:31:09Z',
          created: '2014-12-12T17:31:09Z',
          label: 'Testing Note',
        },
      ]);
    });

    it('ClaudeKeychain.find where macOS refuses to create the search (a sandbox; exit 44 all the same): unavailable, never "absent", so nothing is written as if no login existed', async () => {
      const replay = securityReplay(loadRecording('find-search-refused-sandbox'));
      const found = await new ClaudeKeychain('Claude Code-credentials', 'alex', replay.run).find();
      assert.equal(found.state, 'unavailable');
      assert.equal(replay.calls.length, 1, 'no second lookup on a refused search');
      const read = await new ClaudeKeychain('Claude Code-credentials', 'alex', replay.run).read('alex');
      assert.equal(read.ok, false);
      assert.equal(!read.ok && read.absent, false, 'a refused search is not an absent item');
    });

    it('ClaudeKeychain.find on it: the $USER lookup finds nothing, the service-only lookup finds the empty-account item; no secret is asked for', async () => {
      // Real security would not match `-a alex` against an item whose account is empty: that call gets the not-found recording.
      const notFoundForAlex: SecurityRecording = { ...verbatim('not-found'), argv: ['find-generic-password', '-a', 'alex', '*...'] };
      const replay = securityReplay(notFoundForAlex, verbatim('find-secure-note-null-account'));
      const found = await new ClaudeKeychain('Testing Note', 'alex', replay.run).find();
      assert.deepEqual(found, { state: 'found', account: '' });
      assert.deepEqual(
        replay.calls.map((c) => [c.answeredBy, c.args]),
        [
          ['not-found', ['find-generic-password', '-a', 'alex', '-s', 'Testing Note']],
          ['find-secure-note-null-account', ['find-generic-password', '-s', 'Testing Note']],
        ],
      );
      for (const c of replay.calls) {
        assert.equal(c.file, SECURITY_PATH);
        assert.ok(!argvReadsSecretOrAcl(c.args), c.args.join(' '));
      }
      assert.deepEqual(replay.unmatched, []);
    });

    it('the System.keychain listing with its "version:" line: service, account, keychain and label; no date from hand-edited hex', () => {
      const r = verbatim('find-ga-system-keychain-airport');
      assert.deepEqual(parseKeychainItems(r.stdout), [{ keychain: '/Library/Keychains/System.keychain', service: 'AirPort', account: 'feei-guest', label: 'feei-guest' }]);
      // The password went to stderr, never into what we parse; and -g is a secret read our code never sends.
      assert.ok(!r.stdout.includes('password:'));
      assert.ok(argvReadsSecretOrAcl(r.argv));
    });

    it("a Codex item in that real older format (service and account substituted): status shows it in the Keychain, unread, with its account and date", async () => {
      const home = await tempDir('mad-mac-verbatim-');
      try {
        const url = 'http://127.0.0.1:38423/mcp';
        await fs.mkdir(path.join(home, '.codex'), { recursive: true });
        await fs.writeFile(path.join(home, '.codex', 'config.toml'), `[mcp_servers.lab]\nurl = "${url}"\n`);
        const e = sandboxEnv(home, {}, 'darwin');
        const key = codexKey('lab', url);
        const note = verbatim('find-secure-note-null-account');
        // The only edits: the item's name/service and its account become Codex's; format, dates and keychain stay as printed.
        const stdout = note.stdout.split('"Testing Note"').join('"Codex MCP Credentials"').replace('"acct"<blob>=<NULL>', `"acct"<blob>="${key}"`);
        const find: SecurityRecording = { ...note, name: 'codex-in-secure-note-format', recorded: 'composed', argv: ['find-generic-password', '-s', 'Codex MCP Credentials', '-a', key], stdout };
        const dump: SecurityRecording = { ...find, name: 'codex-dump-in-secure-note-format', argv: ['dump-keychain'] };
        const security = securityReplay(find, dump, 'not-found');
        const readerCalls: KeyringOp[] = [];
        const reader: KeyringRunner = async (ops) => {
          readerCalls.push(...ops);
          return { reachable: true, results: ops.map(() => ({ ok: true as const, value: null })) };
        };
        const report = await collectStatus(e, { clients: ['codex'], stores: { codexSecurity: security.run, codexKeychainReader: reader } });
        const row = report.servers.find((s) => s.server.name === 'lab');
        assert.equal(row?.token?.state, 'in-keychain');
        assert.deepEqual(row.token.keychain, { account: key, keychain: '/Users/USERNAME/Library/Keychains/login.keychain', modified: '2014-12-12T17:31:09Z' });
        assert.equal(describeToken(row.token, report.at), `logged in (in the Keychain; not read) · account ${key}, changed 2014-12-12T17:31:09Z`);
        assert.deepEqual(readerCalls, [], 'no read through the keyring binding (each would be a macOS dialog)');
        assert.ok(security.calls.length > 0);
        for (const c of security.calls) assert.ok(!argvReadsSecretOrAcl(c.args), `no -w/-g/-d before the explicit read: ${c.args.join(' ')}`);
        assert.deepEqual(security.unmatched, []);
      } finally {
        await fs.rm(home, { recursive: true, force: true });
      }
    });
  });

  describe('-w reads (the explicit action only)', () => {
    it('text and hex outputs of the same Claude-shaped JSON both read back as that JSON, through the exact recorded argv', async () => {
      for (const [name, service, accessToken] of [
        ['read-text-probe-ascii', 'probe-ascii', 'plain'],
        ['read-hex-probe-utf8', 'probe-utf8', 'café'],
      ] as const) {
        const r = verbatim(name);
        assert.deepEqual(JSON.parse(decodeSecurityPassword(r.stdout)), { claudeAiOauth: { accessToken } }, name);
        // An item with no account is read by service alone: exactly the command the reporter ran.
        const replay = securityReplay(r);
        const read = await new ClaudeKeychain(service, 'alex', replay.run).read('');
        assert.ok(read.ok, name);
        assert.deepEqual(JSON.parse(read.value), { claudeAiOauth: { accessToken } }, name);
        assert.deepEqual(
          replay.calls.map((c) => c.args),
          [r.argv],
        );
        assert.ok(argvReadsSecretOrAcl(r.argv), 'this is the secret read, sent only by read()');
      }
      assert.match(verbatim('read-hex-probe-utf8').stdout, /^(?:[0-9a-f]{2})+\n$/, 'lowercase hex, one newline');
    });
  });

  describe('failures', () => {
    it('a locked keychain without a window server (exit 36, nothing printed) reads as "locked, macOS may not ask here"', () => {
      const r = verbatim('internet-password-locked-status-36');
      assert.equal(r.codeSeen, true);
      const f = classifySecurityFailure({ code: r.code, stdout: r.stdout, stderr: r.stderr, timedOut: false });
      assert.equal(f.kind, 'interaction-not-allowed');
      assert.match(f.message, /^the keychain is locked and macOS may not ask for its password here/);
      assert.ok(argvReadsSecretOrAcl(r.argv), 'a password read (-g): never part of a scan');
    });

    it("Claude Code's own not-found line and the refused-search line keep their meaning", () => {
      const notFound = verbatim('not-found');
      assert.ok(notFound.source.some((s) => s.startsWith('https://github.com/anthropics/claude-code/issues/1552')));
      assert.equal(classifySecurityFailure({ code: notFound.code, stdout: '', stderr: notFound.stderr, timedOut: false }).kind, 'other');
      const refused = verbatim('dump-auth-failed');
      assert.equal(classifySecurityFailure({ code: refused.code, stdout: '', stderr: refused.stderr, timedOut: false }).kind, 'auth-failed');
    });
  });
});
