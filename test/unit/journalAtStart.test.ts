// The CLI journals the stores at the start of every command that reads them: a loss made between
// two runs is said on stderr with the command that restores it, stdout stays the command's own,
// bounds come from the environment, and MCP_AUTH_DOCTOR_JOURNAL=off turns it off.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import { fingerprint, storageKey } from '../../src/core/storageKey';

const tok = (s: string) => `tok-${s}-${'z'.repeat(24)}`;
const blob = (names: string[]) =>
  JSON.stringify({
    claudeAiOauth: { accessToken: tok('acct') },
    mcpOAuth: Object.fromEntries(names.map((n) => [`${n}|0000000000000000`, { serverName: n, serverUrl: `https://${n}.example/mcp`, clientId: `c-${n}`, accessToken: tok(`a-${n}`), refreshToken: tok(`r-${n}`) }])),
  });

describe('CLI: the journal at the start of a command', () => {
  let root: string;
  let home: string;
  const env = (extra: Record<string, string> = {}) => ({ HOME: home, PATH: process.env.PATH, ...extra });
  const run = async (args: string[], extra: Record<string, string> = {}) => {
    let out = '';
    let err = '';
    const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: env(extra), cwd: root };
    const code = await runCli(args, io);
    return { code, out, err };
  };
  const credentials = () => path.join(home, '.claude', '.credentials.json');
  const writeStore = async (text: string) => {
    await fs.mkdir(path.dirname(credentials()), { recursive: true });
    await fs.writeFile(credentials(), text, { mode: 0o600 });
  };
  const journalFiles = async () => (await fs.readdir(path.join(home, '.mcp-auth-doctor', 'backups', 'journal')).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-journal-cli-'));
    home = path.join(root, 'home');
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  it('says a loss made since the last run on stderr, with the restore command, and never a token', async () => {
    await writeStore(blob(['linear', 'github', 'sentry']));
    const first = await run(['backup']);
    assert.equal(first.code, 0, first.err);
    assert.doesNotMatch(first.err, /lost/);
    await writeStore(JSON.stringify({ claudeAiOauth: { accessToken: tok('acct') }, mcpOAuth: {} }));
    const second = await run(['backup', '--client', 'claude-code']);
    assert.match(second.err, /Claude Code lost 3 MCP logins at \d\d:\d\d/);
    assert.match(second.err, /mcp-auth-doctor restore --lost --client claude-code --yes/);
    assert.doesNotMatch(second.out, /lost/, 'stdout stays the command\'s own');
    assert.doesNotMatch(second.out + second.err, /tok-/);
    assert.equal((await journalFiles()).length, 2);
  });

  it('restores one entry from a journal state by its id, as guard prints it', async () => {
    await writeStore(blob(['linear', 'github']));
    await run(['backup']);
    const [before] = await journalFiles();
    await writeStore(JSON.stringify({ mcpOAuth: {} }));
    const r = await run(['restore', before!.replace(/\.json$/, ''), '--entry', 'linear|0000000000000000', '--yes', '--no-verify']);
    assert.equal(r.code, 0, r.err);
    const now = JSON.parse(await fs.readFile(credentials(), 'utf8')) as { mcpOAuth: Record<string, { accessToken: string }> };
    assert.deepEqual(Object.keys(now.mcpOAuth), ['linear|0000000000000000']);
    assert.equal(now.mcpOAuth['linear|0000000000000000']!.accessToken, tok('a-linear'));
  });

  it('history reads the journal: states only the journal saw show in the timeline', async () => {
    const url = 'https://linear.example/mcp';
    await fs.mkdir(home, { recursive: true });
    await fs.writeFile(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: { linear: { type: 'http', url } } }));
    const key = storageKey('linear', 'http', url);
    const state = (at: string) => JSON.stringify({ mcpOAuth: { [key]: { serverName: 'linear', serverUrl: url, clientId: 'c-linear', accessToken: at, refreshToken: tok('r') } } });
    await writeStore(state(tok('a1')));
    await run(['status', '--offline']);
    await writeStore(state(tok('a2')));
    await run(['status', '--offline']);
    const r = await run(['history', 'linear', '--json']);
    const json = JSON.parse(r.out) as { journalDir: string; servers: { timelines: { states: { accessToken?: string }[] }[] }[] };
    assert.equal(json.journalDir, path.join(home, '.mcp-auth-doctor', 'backups', 'journal'));
    const seen = json.servers[0]!.timelines.flatMap((t) => t.states.map((x) => x.accessToken));
    assert.deepEqual(seen, [fingerprint(tok('a1')), fingerprint(tok('a2'))]);
  });

  it('journals nothing when MCP_AUTH_DOCTOR_JOURNAL=off, and nothing for commands that do not read the stores', async () => {
    await writeStore(blob(['linear']));
    await run(['backup'], { MCP_AUTH_DOCTOR_JOURNAL: 'off' });
    await run(['backups']);
    assert.deepEqual(await journalFiles(), []);
  });

  it('keeps the journal within MCP_AUTH_DOCTOR_JOURNAL_MAX_STATES, and ignores a bound that is not a number', async () => {
    for (const names of [['a'], ['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd']]) {
      await writeStore(blob(names));
      await run(['backup'], { MCP_AUTH_DOCTOR_JOURNAL_MAX_STATES: '2' });
    }
    assert.equal((await journalFiles()).length, 2);
    await writeStore(blob(['e']));
    await run(['backup'], { MCP_AUTH_DOCTOR_JOURNAL_MAX_STATES: 'zero' });
    assert.equal((await journalFiles()).length, 3, 'a typo in the bound must not prune the journal');
  });
});
