// Installed client versions (core/clientVersions.ts) with injected I/O, the unknown fields of each
// store (core/storeFields.ts), and the guard a write to such a store must pass: the status
// finding, the CLI's extra confirmation, and the proof that our writes keep unknown fields byte
// for byte.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  NEWEST_VERIFIED,
  compareVersions,
  describeClientVersion,
  detectClientVersions,
  parseVersionLine,
  type VersionIo,
  type VersionRun,
} from '../../src/core/clientVersions';
import { claudeCodeStorageKey } from '../../src/core/config/claudeCodeStorageKey';
import { claudeCodeStore, claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import { codexCredentialsFile, codexStore } from '../../src/core/credentials/codexStore';
import { codexKey } from '../../src/core/credentials/codexFormat';
import type { Environment } from '../../src/core/environment';
import { collectStatus } from '../../src/core/status';
import { STORE_FIELDS_FINDING, unknownClaudeFields, unknownCodexFileFields, unknownCodexStoredFields, unknownStoreFields, writeGuard } from '../../src/core/storeFields';
import { runCli as main } from '../../src/cli/main';

/** A fake machine: what each command prints, and a file tree of extension folders. */
function fakeIo(runs: Record<string, VersionRun | (() => Promise<VersionRun>)>, files: Record<string, string> = {}, extensionDirs = ['/home/u/.vscode/extensions']): VersionIo & { ran: string[] } {
  const ran: string[] = [];
  const dirs = new Map<string, Set<string>>();
  for (const f of Object.keys(files)) {
    let p = f;
    while (p !== path.dirname(p)) {
      const parent = path.dirname(p);
      if (!dirs.has(parent)) dirs.set(parent, new Set());
      dirs.get(parent)!.add(path.basename(p));
      p = parent;
    }
  }
  return {
    ran,
    extensionDirs,
    runVersion: async (command) => {
      ran.push(command);
      const r = runs[command];
      if (!r) return { stdout: '', code: null, error: 'not-found' };
      return typeof r === 'function' ? r() : r;
    },
    listDir: async (dir) => {
      const d = dirs.get(dir);
      if (!d) throw Object.assign(new Error(`ENOENT ${dir}`), { code: 'ENOENT' });
      return [...d];
    },
    readFile: async (file) => {
      if (!(file in files)) throw Object.assign(new Error(`ENOENT ${file}`), { code: 'ENOENT' });
      return files[file]!;
    },
  };
}

describe('client versions', () => {
  it('reads the version lines the pinned binaries print, OSC 8 and colours stripped', () => {
    assert.equal(parseVersionLine('claude-code', '2.1.332 (Claude Code)\n'), '2.1.332');
    assert.equal(parseVersionLine('codex', 'codex-cli 0.171.0\n'), '0.171.0');
    assert.equal(parseVersionLine('codex', '\u001b[1mcodex-cli 0.172.0-alpha.3\u001b[0m'), '0.172.0-alpha.3');
    assert.equal(parseVersionLine('claude-code', '\u001b]8;;https://x\u0007 2.1.400 (Claude Code)\u001b]8;;\u0007'), '2.1.400');
    assert.equal(parseVersionLine('claude-code', 'codex-cli 0.171.0'), undefined);
    assert.equal(parseVersionLine('codex', 'Usage: codex [OPTIONS]'), undefined);
  });

  it('compares versions numerically (2.1.40 < 2.1.332), a pre-release before its release', () => {
    assert.ok(compareVersions('2.1.40', '2.1.332') < 0);
    assert.ok(compareVersions('0.172.0-alpha.1', '0.172.0') < 0);
    assert.ok(compareVersions('0.172.0-alpha.1', '0.171.0') > 0);
  });

  it('the binary on PATH: version, source and whether it is newer than the newest verified', async () => {
    const io = fakeIo({ claude: { stdout: '2.1.400 (Claude Code)\n', code: 0 }, codex: { stdout: 'codex-cli 0.171.0\n', code: 0 } });
    const [claude, codex] = await detectClientVersions(io, ['claude-code', 'codex']);
    assert.deepEqual([claude!.version, claude!.source, claude!.newerThanVerified, claude!.newestVerified], ['2.1.400', 'path', true, NEWEST_VERIFIED['claude-code']]);
    assert.deepEqual([codex!.version, codex!.source, codex!.newerThanVerified], ['0.171.0', 'path', false]);
    assert.deepEqual(io.ran, ['claude', 'codex']);
    assert.equal(describeClientVersion(claude!), 'Claude Code 2.1.400 (claude on PATH, newer than the newest verified 2.1.332)');
  });

  it('says why there is no version: not found, no answer in time, a non-zero exit, an unknown answer', async () => {
    const io = fakeIo({ codex: { stdout: '', code: null, error: 'timeout' } });
    const [claude, codex] = await detectClientVersions(io, ['claude-code', 'codex']);
    assert.equal(claude!.version, undefined);
    assert.equal(claude!.installations[0]!.problem, 'not found');
    assert.match(codex!.installations[0]!.problem!, /did not answer within 3 s/);
    assert.equal(claude!.newerThanVerified, false);
    const odd = await detectClientVersions(fakeIo({ claude: { stdout: 'hello', code: 0 }, codex: { stdout: 'codex-cli 0.171.0', code: 3 } }), ['claude-code', 'codex']);
    assert.equal(odd[0]!.installations[0]!.problem, 'printed no version we recognise');
    assert.equal(odd[1]!.installations[0]!.problem, 'exited 3');
    assert.match(describeClientVersion(odd[0]!), /^Claude Code: version unknown \(claude: printed no version we recognise\)$/);
  });

  it("the VS Code extensions: Claude Code's folder version; the ChatGPT extension's bundled Codex binary, not its own version", async () => {
    const ext = '/home/u/.vscode/extensions';
    const io = fakeIo(
      { [`${ext}/openai.chatgpt-26.901.22334-linux-x64/bin/linux-x86_64/codex`]: { stdout: 'codex-cli 0.175.0\n', code: 0 } },
      {
        [`${ext}/anthropic.claude-code-2.1.340-linux-x64/package.json`]: JSON.stringify({ name: 'claude-code', publisher: 'Anthropic', version: '2.1.340' }),
        [`${ext}/openai.chatgpt-26.901.22334-linux-x64/package.json`]: JSON.stringify({ name: 'chatgpt', publisher: 'openai', version: '26.901.22334' }),
        [`${ext}/openai.chatgpt-26.901.22334-linux-x64/bin/linux-x86_64/codex`]: '',
        // Another publisher's folder whose name starts alike is not Claude Code.
        [`${ext}/anthropic.claude-code-helper-1.0.0/package.json`]: JSON.stringify({ name: 'claude-code-helper', publisher: 'someone', version: '9.9.9' }),
      },
    );
    const [claude, codex] = await detectClientVersions(io, ['claude-code', 'codex']);
    assert.deepEqual([claude!.version, claude!.source, claude!.newerThanVerified], ['2.1.340', 'vscode-extension', true]);
    assert.equal(claude!.installations.length, 2, 'PATH (not found) and the one real extension folder');
    assert.deepEqual([codex!.version, codex!.source, codex!.newerThanVerified], ['0.175.0', 'vscode-extension', true]);
    assert.equal(codex!.installations[1]!.extensionVersion, '26.901.22334');
    // With the binary on PATH too, the newest installation is the one judged by.
    const both = await detectClientVersions(fakeIo({ claude: { stdout: '2.1.332 (Claude Code)', code: 0 } }, { [`${ext}/anthropic.claude-code-2.1.300/package.json`]: JSON.stringify({ name: 'claude-code', publisher: 'anthropic', version: '2.1.300' }) }), ['claude-code']);
    assert.deepEqual([both[0]!.version, both[0]!.source, both[0]!.newerThanVerified], ['2.1.332', 'path', false]);
  });
});

describe('unknown store fields', () => {
  it("Claude Code: the schema's fields are known (discoveryState's too); others are named with their entry", () => {
    const data = {
      claudeAiOauth: { accessToken: 'x' },
      mcpOAuth: {
        'linear|1b2c3d4e5f607182': { serverName: 'linear', serverUrl: 'https://l', accessToken: 'a', expiresAt: 1, discoveryState: { authorizationServerUrl: 'https://as', pkceVerifier2: 'v' }, stepUpScope: 'x' },
        'plain|0000000000000000': { serverName: 'plain', accessToken: '' },
      },
      organizationCache: {},
    };
    assert.deepEqual(unknownClaudeFields(data), [
      { path: 'organizationCache' },
      { entry: 'linear|1b2c3d4e5f607182', path: 'discoveryState.pkceVerifier2' },
      { entry: 'linear|1b2c3d4e5f607182', path: 'stepUpScope' },
    ]);
  });

  it("Codex: file entries by FallbackTokenEntry's fields; keyring values by StoredOAuthTokens', the server's token_response extras not counted", () => {
    const entry = { server_name: 's', server_url: 'https://s', client_id: 'c', access_token: 'a', expires_at: null, refresh_token: null, scopes: [], issuer: 'https://as', executor_owned: false, dpop_key: 'k' };
    assert.deepEqual(unknownCodexFileFields({ 's|1': entry }), [{ entry: 's|1', path: 'dpop_key' }]);
    const stored = { server_name: 's', url: 'https://s', client_id: 'c', token_response: { access_token: 'a', token_type: 'bearer', id_token: 'x' }, expires_at: 1, audience: 'y' };
    assert.deepEqual(unknownCodexStoredFields('s|1', stored), [{ entry: 's|1', path: 'audience' }]);
  });

  it('the guard: only for a client newer than verified with unknown fields, and only the fields of the entry written and the top level', () => {
    const unknown = { client: 'claude-code' as const, location: '/h/.claude/.credentials.json', fields: [{ path: 'organizationCache' }, { entry: 'a|1', path: 'stepUpScope' }, { entry: 'b|2', path: 'other' }] };
    const newer = { client: 'claude-code' as const, version: '2.1.400', source: 'path' as const, installations: [], newestVerified: '2.1.332', newerThanVerified: true };
    const guard = writeGuard(newer, unknown, 'a|1');
    assert.deepEqual(guard?.fields, [{ path: 'organizationCache' }, { entry: 'a|1', path: 'stepUpScope' }]);
    assert.equal(
      guard?.message,
      'Claude Code 2.1.400 is newer than the newest version we verified (2.1.332), and /h/.claude/.credentials.json holds fields we do not know: organizationCache (top level), stepUpScope (entry a|1). They are kept byte for byte, but Claude Code may expect them to change together with what is written.',
    );
    assert.equal(writeGuard(newer, unknown)?.fields.length, 3, 'a whole-store restore names every unknown field');
    assert.equal(writeGuard({ ...newer, version: '2.1.332', newerThanVerified: false }, unknown, 'a|1'), undefined, 'the verified version writes without asking');
    assert.equal(writeGuard(newer, { ...unknown, fields: [{ entry: 'b|2', path: 'other' }] }, 'a|1'), undefined, "another entry's field does not hold up this one");
  });
});

describe('a newer client whose store has unknown fields (sandbox HOME)', function () {
  let home: string;
  let bin: string;
  let e: Environment;
  const claudeKey = claudeCodeStorageKey('linear', { type: 'http', url: 'https://mcp.example.test/mcp', headers: {} });
  // Compact, as Claude Code writes it; `futureField` and `discoveryState.futureState` are unknown to us.
  const claudeText =
    `{"claudeAiOauth":{"accessToken":"acct-token"},"mcpOAuth":{"${claudeKey}":{"serverName":"linear","serverUrl":"https://mcp.example.test/mcp","clientId":"cid","accessToken":"old-token","refreshToken":"rt","expiresAt":1,` +
    `"futureField":{"nested":[1,2,{"x":"y"}],"n":1.50},"discoveryState":{"authorizationServerUrl":"https://as.example.test","futureState":"state-value-9"}}},"futureTop":true}`;

  beforeEach(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-versions-'));
    bin = path.join(home, 'bin');
    await fs.mkdir(bin);
    // A fake `claude` on PATH that says it is newer than verified (no shell features: a plain sh script).
    await fs.writeFile(path.join(bin, 'claude'), '#!/bin/sh\necho "2.1.400 (Claude Code)"\n', { mode: 0o755 });
    e = { home, env: { HOME: home, PATH: `${bin}:/usr/bin:/bin` }, platform: 'linux', projectDirs: [home] };
    await fs.mkdir(path.dirname(claudeCredentialsFile(e)), { recursive: true });
    await fs.writeFile(claudeCredentialsFile(e), claudeText, { mode: 0o600 });
  });
  afterEach(() => fs.rm(home, { recursive: true, force: true }));

  it('status: the version from PATH and an info finding naming the unknown fields', async () => {
    const { nodeVersionIo } = await import('../../src/core/clientVersions');
    const report = await collectStatus(e, { clients: ['claude-code'], versions: nodeVersionIo(e, []) });
    assert.equal(report.clients?.[0]?.version, '2.1.400');
    const f = report.findings.find((x) => x.code === STORE_FIELDS_FINDING);
    assert.ok(f, 'the finding is there');
    assert.equal(f.severity, 'info');
    assert.match(f.detail, new RegExp(`futureTop \\(top level\\), futureField \\(entry ${claudeKey.replace('|', '\\|')}\\), discoveryState\\.futureState \\(entry`));
    assert.doesNotMatch(f.detail, /old-token|acct-token|state-value-9/, 'names only, never values');
  });

  it('CLI reset: --yes alone is refused and names the fields; --accept-unknown-fields writes, and the unknown fields stay byte for byte', async () => {
    await fs.writeFile(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: { linear: { type: 'http', url: 'https://mcp.example.test/mcp' } } }));
    const out: string[] = [];
    const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => out.push(t), env: e.env, cwd: home };
    assert.equal(await main(['reset', 'linear', '--client', 'claude-code', '--yes'], io), 1);
    assert.match(out.join(''), /! Claude Code 2\.1\.400 is newer than the newest version we verified \(2\.1\.332\).*futureTop \(top level\), futureField \(entry linear\|/s);
    assert.match(out.join(''), /Nothing written\. To write anyway .* --yes --accept-unknown-fields/);
    assert.equal(await fs.readFile(claudeCredentialsFile(e), 'utf8'), claudeText, 'nothing written');
    out.length = 0;
    assert.equal(await main(['reset', 'linear', '--client', 'claude-code', '--yes', '--accept-unknown-fields'], io), 0, out.join(''));
    const after = await fs.readFile(claudeCredentialsFile(e), 'utf8');
    // The entry is gone; the top-level unknown key and the account login are the same bytes.
    assert.ok(after.includes('"claudeAiOauth":{"accessToken":"acct-token"}') && after.includes('"futureTop":true'), after);
    assert.ok(!after.includes(claudeKey));
  });

  it("a write to the entry (as refresh and re-login do) keeps its unknown fields byte for byte, in Claude Code's and Codex's file stores", async () => {
    const store = claudeCodeStore(e);
    await store.write(claudeKey, { accessToken: 'new-token', expiresAt: 2 });
    const after = await fs.readFile(claudeCredentialsFile(e), 'utf8');
    assert.equal(after, claudeText.replace('"accessToken":"old-token"', '"accessToken":"new-token"').replace('"expiresAt":1,', '"expiresAt":2,'));
    assert.deepEqual((await unknownStoreFields(e, 'claude-code'))?.fields.map((f) => f.path), ['futureTop', 'futureField', 'discoveryState.futureState']);

    // Codex, file mode: the entry's unknown field keeps its value and place.
    const codexHome = path.join(home, '.codex');
    await fs.mkdir(codexHome, { recursive: true });
    await fs.writeFile(path.join(codexHome, 'config.toml'), 'mcp_oauth_credentials_store = "file"\n[mcp_servers.s]\nurl = "https://s.example.test/mcp"\n');
    const key = codexKey('s', 'https://s.example.test/mcp');
    const entry = { server_name: 's', server_url: 'https://s.example.test/mcp', issuer: 'https://as.example.test', client_id: 'c', access_token: 'old', expires_at: 1, refresh_token: 'r', scopes: [], future_binding: { alg: 'ES256', n: [1, 2] } };
    await fs.writeFile(codexCredentialsFile(e), JSON.stringify({ [key]: entry }), { mode: 0o600 });
    await codexStore(e).write(key, { accessToken: 'new', expiresAt: 2 });
    const written = JSON.parse(await fs.readFile(codexCredentialsFile(e), 'utf8'));
    assert.deepEqual(Object.keys(written[key]), Object.keys(entry), 'field order kept');
    assert.equal(JSON.stringify(written[key].future_binding), JSON.stringify(entry.future_binding));
    assert.equal(written[key].access_token, 'new');
    assert.deepEqual((await unknownStoreFields(e, 'codex'))?.fields, [{ entry: key, path: 'future_binding' }]);
  });
});
