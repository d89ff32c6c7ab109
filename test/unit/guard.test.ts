// The guard loop on an injected clock, folder watch and store reads: a change the watch reports
// is read once however many events it raises; the poll catches what the watch missed and watches
// a folder that appears late; the Keychain/keyring side is read only on its own timer while a
// client runs; a torn read is journaled only when it stays torn; stopping waits for the
// observation in progress and leaves no timer or watch behind. Then the CLI command in-process.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { guardUntil } from '../../src/cli/commands/guard';
import type { CliIo } from '../../src/cli/io';
import { claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import type { Environment } from '../../src/core/environment';
import { runGuard, type FolderWatch, type GuardOptions, type GuardState, type GuardSummary, type Timers } from '../../src/core/journal/guard';
import { Journal } from '../../src/core/journal/journal';
import type { CapturedState, StateSource } from '../../src/core/journal/sources';
import type { ClientId } from '../../src/core/model';

const tok = (s: string) => `tok-${s}-${'q'.repeat(24)}`;
const blob = (names: string[]) =>
  JSON.stringify({
    claudeAiOauth: { accessToken: tok('acct') },
    mcpOAuth: Object.fromEntries(names.map((n) => [`${n}|0000000000000000`, { serverName: n, serverUrl: `https://${n}.example/mcp`, clientId: `c-${n}`, accessToken: tok(`a-${n}`), refreshToken: tok(`r-${n}`) }])),
  });

/** Timers the test moves by hand. */
class FakeTimers implements Timers {
  now = 0;
  private seq = 0;
  readonly queue = new Map<number, { at: number; ms: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.queue.set(id, { at: this.now + ms, ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.queue.delete(h as number);
  }
  /** Fires every timer due within `ms`, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const next = [...this.queue].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.queue.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = end;
  }
  pending(ms: number): number {
    return [...this.queue.values()].filter((t) => t.ms === ms).length;
  }
}

/** Lets real I/O (the journal's files) and promise chains run until `cond` holds; fails after 10 s. */
async function until(cond: () => boolean, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`never happened: ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('guard loop', () => {
  let root: string;
  let e: Environment;
  let timers: FakeTimers;
  let journal: Journal;
  let raw: string[];
  /** Each store read: was the secure side allowed? */
  let reads: boolean[];
  let running: boolean;
  let runningAsked: number;
  let states: GuardState[];
  let losses: GuardState[];
  let watches: { dir: string; onChange: (f: string | undefined) => void; closed: boolean }[];
  let controller: AbortController;
  let captureGate: Promise<void> | undefined;

  const location = () => claudeCredentialsFile(e);
  /** The next read returns raw[0] (and drops it unless it is the last). */
  const source = (secure: boolean, client: ClientId): StateSource => ({
    client,
    async capture(): Promise<CapturedState[]> {
      reads.push(secure);
      if (captureGate) await captureGate;
      const text = raw.length > 1 ? raw.shift()! : raw[0]!;
      return [{ client, storeKind: 'file', location: location(), raw: text, entries: [], topLevelKeys: [] }];
    },
  });
  const watch: FolderWatch = (dir, onChange) => {
    const w = { dir, onChange, closed: false };
    watches.push(w);
    return { close: () => void (w.closed = true) };
  };
  const start = (over: Partial<GuardOptions> = {}): Promise<GuardSummary> =>
    runGuard(e, {
      journal,
      signal: controller.signal,
      clients: ['claude-code'],
      pollIntervalMs: 2_000,
      secureIntervalMs: 60_000,
      debounceMs: 50,
      settleMs: 150,
      sources: source,
      clientRunning: async () => {
        runningAsked++;
        return running;
      },
      watch,
      timers,
      onState: (s) => void states.push(s),
      onLoss: (s) => void losses.push(s),
      ...over,
    });

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-guard-'));
    e = { home: path.join(root, 'home'), env: {}, platform: 'linux', projectDirs: [] };
    await fs.mkdir(path.dirname(claudeCredentialsFile(e)), { recursive: true });
    timers = new FakeTimers();
    journal = new Journal(path.join(root, 'journal'), { writer: { listClients: async () => ({ processes: [], known: true }) } });
    raw = [blob(['linear', 'github', 'sentry'])];
    reads = [];
    running = false;
    runningAsked = 0;
    states = [];
    losses = [];
    watches = [];
    controller = new AbortController();
    captureGate = undefined;
  });
  afterEach(async () => {
    controller.abort();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('journals the store at start, then reads a change the folder watch reports once, however many events it raises', async () => {
    const done = start();
    await until(() => states.length === 1, 'the first state');
    assert.equal(watches.length, 1);
    assert.equal(watches[0]!.dir, path.dirname(location()));
    raw = [blob(['linear'])];
    for (let i = 0; i < 5; i++) watches[0]!.onChange('.credentials.json');
    watches[0]!.onChange('.storage-write.lock'); // Claude Code's lock folder: not the store.
    timers.advance(50);
    await until(() => losses.length === 1, 'the loss');
    assert.equal(reads.length, 2, 'one read at start, one for the burst of events');
    assert.equal(losses[0]!.trigger, 'change');
    assert.deepEqual(
      losses[0]!.state.losses.map((l) => [l.kind, l.entries.map((x) => x.serverName).sort()]),
      [['grants-gone', ['github', 'sentry']]],
    );
    // A lock-folder event alone reads nothing.
    watches[0]!.onChange('.storage-write.lock');
    timers.advance(50);
    controller.abort();
    const summary = await done;
    assert.equal(reads.length, 2);
    assert.deepEqual({ states: summary.states, losses: summary.losses }, { states: 2, losses: 1 });
  });

  it('polls when no event comes, and starts watching a folder that appears after the start', async () => {
    await fs.rm(path.dirname(location()), { recursive: true });
    const done = start();
    await until(() => reads.length === 1, 'the first read');
    assert.equal(watches.length, 0, 'no folder, no watch');
    raw = [blob(['linear'])];
    await fs.mkdir(path.dirname(location()), { recursive: true });
    timers.advance(2_000);
    await until(() => losses.length === 1, 'the poll to see the loss');
    assert.equal(losses[0]!.trigger, 'poll');
    await until(() => watches.length === 1, 'the poll to watch the new folder');
    controller.abort();
    await done;
  });

  it('reads the Keychain/keyring side only on its own timer and only while a client runs', async () => {
    const done = start();
    await until(() => runningAsked === 1 && reads.length === 1, 'the start');
    for (let minute = 0; minute < 3; minute++) {
      const before = reads.length;
      for (let i = 0; i < 30; i++) timers.advance(2_000); // 30 polls, one secure tick
      await until(() => runningAsked === 2 + minute && reads.length > before, 'polls and the secure tick');
    }
    assert.ok(reads.length >= 4);
    assert.deepEqual([...new Set(reads)], [false], 'no secure read while no client runs');
    assert.equal(runningAsked, 4, 'the process table is looked at once per secure tick, not per poll');
    running = true;
    timers.advance(60_000);
    await until(() => reads.includes(true), 'a secure read while a client runs');
    controller.abort();
    await done;
  });

  it('re-reads a torn store once after the settle time and journals nothing when the writer finished', async () => {
    const good = blob(['linear', 'github', 'sentry']);
    raw = [good];
    const done = start();
    await until(() => states.length === 1, 'the first state');
    raw = [good.slice(0, 40), good]; // an in-place writer caught half way, then done
    watches[0]!.onChange('.credentials.json');
    timers.advance(50);
    await until(() => reads.length === 2 && timers.pending(150) === 1, 'the settle wait');
    timers.advance(150);
    await until(() => reads.length === 3, 'the re-read');
    raw = [blob(['linear'])]; // a real loss afterwards (2 of 3 gone) is still caught: the loop went on
    watches[0]!.onChange('.credentials.json');
    timers.advance(50);
    await until(() => losses.length === 1, 'the later loss');
    assert.equal(losses[0]!.state.losses[0]!.kind, 'grants-gone', 'the torn read raised no alarm of its own');
    assert.equal(states.length, 2);
    controller.abort();
    await done;
  });

  it('journals a store that stays unparsable after the re-read as a loss', async () => {
    const good = blob(['linear', 'github']);
    raw = [good];
    const done = start();
    await until(() => states.length === 1, 'the first state');
    raw = [good.slice(0, 40)];
    watches[0]!.onChange('.credentials.json');
    timers.advance(50);
    await until(() => timers.pending(150) === 1, 'the settle wait');
    timers.advance(150);
    await until(() => losses.length === 1, 'the loss');
    assert.equal(reads.length, 3);
    assert.deepEqual(losses[0]!.state.losses.map((l) => [l.kind, l.count]), [['store-unparsable', 3]], '2 MCP logins and the account login at risk');
    controller.abort();
    await done;
  });

  it('on stop, finishes the observation in progress (a whole journal file) and leaves no timer or watch behind', async () => {
    const done = start();
    await until(() => states.length === 1, 'the first state');
    let release!: () => void;
    captureGate = new Promise<void>((r) => (release = r));
    raw = [blob(['linear'])];
    watches[0]!.onChange('.credentials.json');
    timers.advance(50);
    await until(() => reads.length === 2, 'the read in progress');
    let finished = false;
    void done.then(() => (finished = true));
    controller.abort();
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.equal(finished, false, 'stopped in the middle of an observation');
    release();
    const summary = await done;
    assert.equal(summary.losses, 1);
    assert.equal(losses.length, 1);
    const files = await fs.readdir(journal.dir);
    assert.equal(files.length, 2, files.join(', '));
    assert.ok(files.every((f) => f.endsWith('.json')), `no temp file left: ${files.join(', ')}`);
    assert.equal(timers.queue.size, 0, 'no timer left');
    assert.ok(watches.every((w) => w.closed), 'every watch closed');
  });
});

describe('guard command (in-process)', () => {
  let root: string;
  let home: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-guard-cli-'));
    home = path.join(root, 'home');
    await fs.mkdir(path.join(home, '.claude'), { recursive: true });
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  it('prints a start line, each loss with the commands that restore it (fingerprints only), and exits 0 when stopped', async () => {
    const file = path.join(home, '.claude', '.credentials.json');
    await fs.writeFile(file, blob(['linear', 'github']), { mode: 0o600 });
    let out = '';
    let err = '';
    const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: { HOME: home, MCP_AUTH_DOCTOR_JOURNAL_MAX_STATES: '7' }, cwd: root };
    const controller = new AbortController();
    const done = guardUntil(['--client', 'claude-code', '--interval', '100', '--json'], io, controller.signal);
    await until(() => out.includes('"event":"state"'), 'the first state');
    await fs.writeFile(file, JSON.stringify({ mcpOAuth: {} }), { mode: 0o600 });
    await until(() => out.includes('"event":"loss"'), 'the loss');
    controller.abort();
    assert.equal(await done, 0, err);
    const events = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(events[0]!.event, 'start');
    assert.deepEqual(events[0]!.journal, { dir: path.join(home, '.mcp-auth-doctor', 'backups', 'journal'), maxStates: 7, maxAgeDays: 30 });
    assert.deepEqual((events[0]!.stores as { file: string }[]).map((s) => s.file), [file]);
    const loss = events.find((x) => x.event === 'loss') as { restore: { lost: string; entries: { key: string; command: string }[] }; findings: { title: string }[]; previousStateId: string };
    assert.equal(loss.restore.lost, 'mcp-auth-doctor restore --lost --client claude-code --yes');
    assert.deepEqual(loss.restore.entries.map((x) => x.key).sort(), ['github|0000000000000000', 'linear|0000000000000000']);
    assert.ok(loss.restore.entries.every((x) => x.command === `mcp-auth-doctor restore ${loss.previousStateId} --entry '${x.key}' --yes`));
    assert.match(loss.findings.map((f) => f.title).join('\n'), /Claude Code's credential store was emptied at \d\d:\d\d: 2 MCP logins and your Claude login lost/);
    assert.equal(events.at(-1)!.event, 'stop');
    assert.doesNotMatch(out + err, /tok-/, 'no token printed');
  });

  it('refuses an interval below 100 ms', async () => {
    const io: CliIo = { stdout: () => undefined, stderr: () => undefined, env: { HOME: home }, cwd: root };
    await assert.rejects(guardUntil(['--interval', '5'], io, new AbortController().signal), /--interval/);
  });
});
