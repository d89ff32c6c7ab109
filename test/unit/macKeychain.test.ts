// The macOS Keychain by attributes only, on a `security` stand-in replaying recorded outputs
// (test/fixtures/macos-security/, each citing its source): what a scan lists, that it never asks
// for a secret, and that each failure of `security` ends in its own clear message.
import { strict as assert } from 'node:assert';
import { ClaudeKeychain } from '../../src/core/credentials/claudeCodeKeychain';
import {
  argvReadsSecretOrAcl,
  classifySecurityFailure,
  decodeSecurityPassword,
  decodeValue,
  parseKeychainItems,
  scanKeychain,
  SECURITY_PATH,
} from '../../src/core/credentials/macKeychain';
import { runCommand, type CommandRunner } from '../../src/core/credentials/runCommand';
import { allRecordings, argvMatches, loadRecording, securityReplay } from './macKeychainReplay';

describe('macOS Keychain by attributes (replayed security)', () => {
  describe('the recordings', () => {
    it('each names its source and what it shows, and its argv pattern is one a call can match', () => {
      const all = allRecordings();
      assert.ok(all.length >= 10, `recordings: ${all.length}`);
      for (const r of all) {
        assert.ok(r.source.length > 0 && r.source.every((s) => s.length > 10), `${r.name}: source`);
        assert.ok(['verbatim', 'composed', 'synthetic'].includes(r.recorded), `${r.name}: recorded`);
        assert.ok(r.what.length > 10, `${r.name}: what`);
        assert.ok(r.hang || typeof r.code === 'number', `${r.name}: exit code`);
      }
      assert.ok(argvMatches(['find-generic-password', '*...', '-w'], ['find-generic-password', '-a', 'x', '-s', 'y', '-w']));
      assert.ok(!argvMatches(['find-generic-password', '*...', '-w'], ['find-generic-password', '-a', 'x', '-s', 'y']));
    });

    it('every attribute recording parses to items with service, account, keychain and modification date', () => {
      // Its poster edited the dates' hex by hand (see its note): no date is read from it, rather than a guess.
      const hexEdited = new Set(['find-ga-system-keychain-airport']);
      for (const r of allRecordings().filter((x) => x.code === 0 && !x.argv.includes('-w'))) {
        const items = parseKeychainItems(r.stdout);
        assert.ok(items.length > 0, r.name);
        for (const i of items) {
          assert.match(i.keychain, /^\/.*\.keychain(-db)?$/, r.name);
          assert.ok(i.service.length > 0, r.name);
          if (hexEdited.has(r.name)) assert.equal(i.modified, undefined, r.name);
          else assert.match(i.modified ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, r.name);
          assert.equal(typeof i.account, 'string');
        }
      }
    });
  });

  describe('parsing', () => {
    it('dump-keychain: generic passwords only, across keychains, hex-printed and empty accounts decoded', () => {
      const items = parseKeychainItems(loadRecording('dump-keychain-attributes').stdout);
      const codex = items.filter((i) => i.service === 'Codex MCP Credentials');
      assert.deepEqual(
        codex.map((i) => [i.account, i.keychain, i.modified]),
        [
          ['lab|5d41402abc4b2a76', '/Users/alex/Library/Keychains/login.keychain-db', '2025-12-01T07:45:02Z'],
          ['café|0cc175b9c0f1b6a8', '/Users/alex/Library/Keychains/login.keychain-db', '2025-11-22T12:12:12Z'],
          ['docs|9e107d9d372bb682', '/Users/alex/Library/Keychains/work.keychain-db', '2025-10-02T09:00:00Z'],
        ],
      );
      // The internet password with the same svce and the certificate are not generic passwords.
      assert.equal(items.length, 6);
      const claude = items.filter((i) => i.service === 'Claude Code-credentials');
      assert.deepEqual(
        claude.map((i) => i.account),
        ['alex', ''],
      );
      assert.equal(claude[0]!.created, '2025-06-14T09:00:00Z');
      assert.equal(claude[0]!.label, 'Claude Code-credentials');
    });

    it('print_buffer values: quoted text with octal escapes, hex with or without text, <NULL>, empty', () => {
      assert.equal(decodeValue('"plain"'), 'plain');
      assert.equal(decodeValue('"a\\134b"'), 'a\\b'); // a backslash is always escaped
      assert.equal(decodeValue('"say "hi""'), 'say "hi"'); // quotes are not
      assert.equal(decodeValue('0x636166C3A9  "caf\\303\\251"'), 'café');
      assert.equal(decodeValue('0xC3A9 '), 'é');
      assert.equal(decodeValue('<NULL>'), null);
      assert.equal(decodeValue(''), '');
    });

    it('-w output: text as is, the hex of macOS 26 decoded to the same JSON', () => {
      const text = decodeSecurityPassword(loadRecording('claude-read-text').stdout);
      const hex = decodeSecurityPassword(loadRecording('claude-read-hex-macos26').stdout);
      assert.match(loadRecording('claude-read-hex-macos26').stdout, /^[0-9a-f]+\n$/);
      assert.deepEqual(JSON.parse(hex), JSON.parse(text));
      assert.ok('claudeAiOauth' in (JSON.parse(hex) as object));
      // A password that merely looks like hex but is not JSON stays what it is.
      assert.equal(decodeSecurityPassword('cafe\n'), 'cafe');
    });
  });

  describe('scanning', () => {
    it('lists a service by attributes with no -w, -g or -d, and never touches the access list', async () => {
      const replay = securityReplay('dump-keychain-attributes', 'codex-find-lab', 'not-found');
      const all = await scanKeychain(replay.run, { service: 'Codex MCP Credentials' });
      const one = await scanKeychain(replay.run, { service: 'Codex MCP Credentials', account: 'lab|5d41402abc4b2a76' });
      const none = await scanKeychain(replay.run, { service: 'Codex MCP Credentials', account: 'gone|0000' });
      assert.ok(all.ok && one.ok && none.ok);
      assert.equal(all.items.length, 3);
      assert.deepEqual(
        one.items.map((i) => i.account),
        ['lab|5d41402abc4b2a76'],
      );
      assert.deepEqual(none.items, []);
      assert.deepEqual(replay.unmatched, []);
      for (const c of replay.calls) {
        assert.equal(c.file, SECURITY_PATH);
        assert.ok(!argvReadsSecretOrAcl(c.args), c.args.join(' '));
      }
      assert.deepEqual(
        replay.calls.map((c) => c.args[0]),
        ['dump-keychain', 'find-generic-password', 'find-generic-password'],
      );
    });

    it('the guard itself tells attribute look-ups from secret reads and ACL changes', () => {
      assert.ok(argvReadsSecretOrAcl(['find-generic-password', '-s', 'x', '-w']));
      assert.ok(argvReadsSecretOrAcl(['find-generic-password', '-gs', 'x']));
      assert.ok(argvReadsSecretOrAcl(['dump-keychain', '-d']));
      assert.ok(argvReadsSecretOrAcl(['add-generic-password', '-U', '-a', 'a', '-s', 's', '-T', '/usr/bin/security', '-w', 'x']));
      assert.ok(!argvReadsSecretOrAcl(['find-generic-password', '-a', 'alex', '-s', 'x']));
      assert.ok(!argvReadsSecretOrAcl(['dump-keychain']));
    });

    it('an empty account is listed through dump-keychain, not asked for with -a ""', async () => {
      const replay = securityReplay('dump-keychain-attributes');
      const r = await scanKeychain(replay.run, { service: 'Claude Code-credentials', account: '' });
      assert.ok(r.ok);
      assert.deepEqual(
        r.items.map((i) => [i.account, i.modified]),
        [['', '2025-01-02T03:04:05Z']],
      );
      assert.deepEqual(replay.calls[0]!.args, ['dump-keychain']);
    });
  });

  describe('failures end in a clear result', () => {
    it('not found is an empty list; a refused search, a hang and a missing program each have their own message', async () => {
      const refused = await scanKeychain(securityReplay('dump-auth-failed').run, { service: 'Codex MCP Credentials' });
      assert.ok(!refused.ok);
      assert.equal(refused.failure.kind, 'auth-failed');
      assert.equal(refused.failure.code, 51);
      assert.match(refused.failure.message, /refused access to the keychain/);

      const hung = await scanKeychain(securityReplay('find-hangs').run, { service: 'Codex MCP Credentials', account: 'lab|x' });
      assert.ok(!hung.ok);
      assert.equal(hung.failure.kind, 'timeout');
      assert.match(hung.failure.message, /did not answer in time/);

      // Exit 44, yet not "no item": the search itself was refused (a sandbox), so the item may exist.
      const sandboxed = await scanKeychain(securityReplay('find-search-refused-sandbox').run, { service: 'Claude Code-credentials', account: 'alex' });
      assert.ok(!sandboxed.ok);
      assert.equal(sandboxed.failure.kind, 'search-failed');
      assert.equal(sandboxed.failure.code, 44);
      assert.match(sandboxed.failure.message, /could not search the keychain here \(it said "SecKeychainSearchCreateFromAttributes: One or more parameters passed to a function were not valid\."; a sandbox/);
      assert.match(sandboxed.failure.message, /nothing was read, and the item may well exist$/);

      const missing = classifySecurityFailure({ code: null, stdout: '', stderr: 'spawn /usr/bin/security ENOENT', timedOut: false });
      assert.equal(missing.kind, 'could-not-run');
      assert.match(missing.message, /ENOENT/);
    });

    it('locked (SSH), denied and refused reads are told apart by exit code, each from its recording', () => {
      const kinds = ['read-interaction-not-allowed', 'read-user-canceled', 'dump-auth-failed', 'not-found'].map((n) => {
        const r = loadRecording(n);
        return [n, classifySecurityFailure({ code: r.code, stdout: r.stdout, stderr: r.stderr, timedOut: false })] as const;
      });
      const [locked, denied, refused, notFound] = kinds.map(([, f]) => f);
      assert.equal(locked!.kind, 'interaction-not-allowed');
      assert.match(locked!.message, /locked.*SSH.*unlock-keychain/);
      assert.equal(denied!.kind, 'user-canceled');
      assert.match(denied!.message, /denied or dismissed/);
      assert.equal(refused!.kind, 'auth-failed');
      // Not found is never a failure of a scan; classified alone it keeps security's own line.
      assert.equal(notFound!.kind, 'other');
      assert.match(notFound!.message, /could not be found/);
      assert.equal(new Set(kinds.map(([, f]) => f.message)).size, kinds.length);
    });

    it('a security that really hangs is killed at the runner timeout and reported, not waited for', async () => {
      // The real runner, on a stand-in program that never answers (a dialog nobody can see).
      const hanging: CommandRunner = (_file, _args, options) => runCommand(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], options);
      const r = await scanKeychain(hanging, { service: 'Codex MCP Credentials' }, 300);
      assert.ok(!r.ok);
      assert.equal(r.failure.kind, 'timeout');
    });
  });

  describe("Claude Code's item stays on /usr/bin/security without -A/-T", () => {
    it('find, scan, read (text and macOS 26 hex) and write: every argv checked', async () => {
      const blob = JSON.parse(decodeSecurityPassword(loadRecording('claude-read-text').stdout)) as Record<string, unknown>;
      for (const readRecording of ['claude-read-text', 'claude-read-hex-macos26']) {
        const replay = securityReplay('claude-find-attributes', readRecording, 'dump-keychain-attributes', 'not-found');
        const kc = new ClaudeKeychain('Claude Code-credentials', 'alex', replay.run);
        const found = await kc.find();
        assert.deepEqual(found, { state: 'found', account: 'alex' });
        const scan = await kc.scan();
        assert.ok(scan.ok);
        assert.deepEqual(
          scan.items.map((i) => i.account),
          ['alex', ''],
        );
        const read = await kc.read('alex');
        assert.ok(read.ok);
        assert.deepEqual(JSON.parse(read.value), blob, readRecording);
        // Attribute look-ups never read the secret; only read() carries -w.
        const reads = replay.calls.filter((c) => argvReadsSecretOrAcl(c.args));
        assert.deepEqual(
          reads.map((c) => c.args),
          [['find-generic-password', '-a', 'alex', '-s', 'Claude Code-credentials', '-w']],
        );
        assert.deepEqual(replay.unmatched, []);
      }

      // A write goes through `security -i` on stdin; neither the argv nor the line adds -A/-T.
      const writes: { args: string[]; input?: string }[] = [];
      let stored = '';
      const writer: CommandRunner = async (_file, args, options) => {
        writes.push({ args, ...(options.input !== undefined ? { input: options.input } : {}) });
        if (args[0] === '-i') {
          stored = Buffer.from(/-X "([0-9a-f]+)"/.exec(options.input ?? '')![1]!, 'hex').toString('utf8');
          return { code: 0, stdout: '', stderr: '', timedOut: false };
        }
        return { code: 0, stdout: `${stored}\n`, stderr: '', timedOut: false };
      };
      await new ClaudeKeychain('Claude Code-credentials', 'alex', writer).write('alex', JSON.stringify(blob));
      assert.ok(writes.length >= 2);
      for (const w of writes) {
        assert.ok(!w.args.some((a) => a === '-A' || a === '-T'), w.args.join(' '));
        assert.ok(!/ -[AT] /.test(w.input ?? ''), 'stdin line');
      }
    });
  });
});
