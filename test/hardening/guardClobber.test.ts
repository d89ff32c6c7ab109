// Issue 13's done-when for the CLI: `guard` running as a real process beside a writer that
// clobbers the credential stores 200 times at random moments, in the ways users have lost their
// logins (every mcpOAuth entry's tokens zeroed, every entry removed, the account login dropped,
// the file emptied, truncated JSON left by a non-atomic writer SIGKILLed mid-write, each of these
// in place or by atomic rename, and a slow in-place write that a read can catch half done). After
// each clobber guard must print the loss, and `restore --lost --yes` must bring back every grant
// (checked by fingerprint). At the end the journal is within its bound of states, every file is
// 0600, and guard exits 0 on SIGTERM. The seed is printed (HARDENING_SEED replays a run).
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import { Journal, contentHash } from '../../src/core/journal/journal';
import { fingerprint } from '../../src/core/storageKey';
import { count, rng } from './support/random';
import { sandbox, type Sandbox } from './support/sandbox';

const REPO = path.resolve(__dirname, '../..');
const MAX_STATES = 20;
const CLOBBERS = count(200);
/** The poll is the fallback; the folder watch sees nearly every write (a faster poll only loads the machine). */
const INTERVAL_MS = 1_000;
/** Bounded waits (a deadline, not a speed assertion). */
const EVENT_DEADLINE_MS = 20_000;

type Client = 'claude-code' | 'codex';
type Kind = 'blank' | 'remove-all' | 'drop-account' | 'empty' | 'truncate-kill' | 'atomic-blank' | 'atomic-remove-all' | 'atomic-drop-account' | 'slow-blank';
const CLAUDE_KINDS: Kind[] = ['blank', 'remove-all', 'drop-account', 'empty', 'truncate-kill', 'atomic-blank', 'atomic-remove-all', 'atomic-drop-account', 'slow-blank'];
const CODEX_KINDS: Kind[] = ['blank', 'remove-all', 'empty', 'truncate-kill', 'atomic-blank', 'atomic-remove-all', 'slow-blank'];

/**
 * The writer: started ahead of time (node takes a while to start), it reads one command line
 * `[kind, client, file, delay]`, waits `delay` ms, then clobbers the store. In place means truncate-and-write (as a
 * careless writer does); `truncate-kill` writes half the file in place and waits to be SIGKILLed.
 */
const WRITER = String.raw`
const fs = require('fs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let line = '';
process.stdin.setEncoding('utf8').on('data', (d) => {
  line += d;
  if (line.includes('\n')) { process.stdin.pause(); clobber(...JSON.parse(line)); }
});
async function clobber(kind, client, file, delay) {
  await sleep(Number(delay));
  const text = fs.readFileSync(file, 'utf8');
  const data = JSON.parse(text);
  const entries = client === 'claude-code' ? (data.mcpOAuth ?? {}) : data;
  const base = kind.replace(/^(atomic|slow)-/, '');
  if (base === 'blank') {
    for (const e of Object.values(entries)) {
      if (client === 'claude-code') { e.accessToken = ''; delete e.refreshToken; }
      else { e.access_token = ''; delete e.refresh_token; }
    }
  } else if (base === 'remove-all') {
    if (client === 'claude-code') data.mcpOAuth = {};
    else for (const k of Object.keys(data)) delete data[k];
  } else if (base === 'drop-account') {
    delete data.claudeAiOauth;
  }
  const out = base === 'empty' ? '' : JSON.stringify(data);
  if (kind === 'truncate-kill') {
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, text.slice(0, Math.floor(text.length / 2)));
    process.stdout.write('partial\n');
    setInterval(() => {}, 1000);
    return;
  }
  if (kind.startsWith('atomic-')) {
    const tmp = file + '.tmp-' + process.pid;
    fs.writeFileSync(tmp, out, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } else if (kind.startsWith('slow-')) {
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, out.slice(0, out.length >> 1));
    await sleep(5);
    fs.writeSync(fd, out.slice(out.length >> 1));
    fs.closeSync(fd);
  } else {
    fs.writeFileSync(file, out);
  }
  process.stdout.write('done\n');
  process.exit(0);
}
`;

interface GuardEvent {
  event: string;
  client?: Client;
  location?: string;
  stateId?: string | null;
  verdict?: string;
  entries?: { key: string; accessToken?: string; refreshToken?: string }[];
  losses?: { kind: string; count: number }[];
  restore?: { lost: string };
  [k: string]: unknown;
}

interface GuardProcess {
  child: ChildProcessWithoutNullStreams;
  /** Every JSON line printed so far, parsed as it comes. */
  events: GuardEvent[];
  stdout(): string;
  stderr(): string;
  exited: boolean;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `mcp-auth-doctor guard` from the sources, its output parsed line by line; killed after 9 minutes whatever happens. */
function startGuard(args: string[], env: Record<string, string>): GuardProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/bin.ts'), 'guard', ...args], { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end();
  let out = '';
  let err = '';
  let partial = '';
  const g: GuardProcess = {
    child,
    events: [],
    stdout: () => out,
    stderr: () => err,
    exited: false,
    done: new Promise((resolve) => child.on('close', (code, signal) => ((g.exited = true), clearTimeout(deadline), resolve({ code, signal })))),
  };
  const deadline = setTimeout(() => child.kill('SIGKILL'), 9 * 60_000);
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const l of lines) if (l.startsWith('{')) g.events.push(JSON.parse(l) as GuardEvent);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return g;
}

function startWriter(script: string): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
}

const mint = (label: string) => `${label}-${randomBytes(16).toString('hex')}`;

describe('guard beside a writer that clobbers the stores', function () {
  this.timeout(10 * 60_000);
  let box: Sandbox;
  let guard: GuardProcess | undefined;

  afterEach(async () => {
    guard?.child.kill('SIGKILL');
    await box?.remove();
  });

  it(`catches each of ${CLOBBERS} clobbers and restore --lost brings every grant back; the journal stays bounded`, async () => {
    const r = rng('guard-clobber');
    box = await sandbox('guard');
    const claudeFile = path.join(box.home, '.claude', '.credentials.json');
    const codexDir = path.join(box.home, '.codex');
    const codexFile = path.join(codexDir, '.credentials.json');
    const journalDir = path.join(box.home, '.mcp-auth-doctor', 'backups', 'journal');
    await fs.mkdir(path.dirname(claudeFile), { recursive: true });
    await fs.mkdir(codexDir, { recursive: true });
    await fs.writeFile(path.join(codexDir, 'config.toml'), 'mcp_oauth_credentials_store = "file"\n');

    // Several grants per store, every secret minted now. What must come back: fingerprints.
    const claudeNames = ['linear', 'github', 'sentry', 'notion', 'atlassian'];
    const codexNames = ['linear', 'figma', 'stripe', 'vercel'];
    const secrets: string[] = [];
    const keep = (s: string) => (secrets.push(s), s);
    const claude = {
      claudeAiOauth: { accessToken: keep(mint('acct')), refreshToken: keep(mint('acct-r')), expiresAt: 4_000_000_000_000, scopes: ['user:inference'] },
      mcpOAuth: Object.fromEntries(
        claudeNames.map((n, i) => [
          `${n}|${i.toString(16).padStart(16, '0')}`,
          { serverName: n, serverUrl: `http://127.0.0.1:9/${n}/mcp`, clientId: `client-${n}`, accessToken: keep(mint(`a-${n}`)), refreshToken: keep(mint(`r-${n}`)), expiresAt: 4_000_000_000_000 },
        ]),
      ),
    };
    const codex = Object.fromEntries(
      codexNames.map((n, i) => [
        `${n}|${(i + 100).toString(16).padStart(16, '0')}`,
        { server_name: n, server_url: `http://127.0.0.1:9/${n}/mcp`, client_id: `client-${n}`, access_token: keep(mint(`ca-${n}`)), refresh_token: keep(mint(`cr-${n}`)), expires_at: 4_000_000_000_000, scopes: [] },
      ]),
    );
    await fs.writeFile(claudeFile, JSON.stringify(claude), { mode: 0o600 });
    await fs.writeFile(codexFile, JSON.stringify(codex), { mode: 0o600 });

    /** Every grant of a store by fingerprint, as a user checks it (`backups` shows the same). */
    const wanted = (client: Client): string[] =>
      client === 'claude-code'
        ? [
            `claudeAiOauth ${fingerprint(claude.claudeAiOauth.accessToken)} ${fingerprint(claude.claudeAiOauth.refreshToken)}`,
            ...Object.entries(claude.mcpOAuth).map(([k, v]) => `${k} ${fingerprint(v.accessToken)} ${fingerprint(v.refreshToken)}`),
          ].sort()
        : Object.entries(codex).map(([k, v]) => `${k} ${fingerprint(v.access_token)} ${fingerprint(v.refresh_token)}`).sort();
    const held = async (client: Client): Promise<string[]> => {
      const text = await fs.readFile(client === 'claude-code' ? claudeFile : codexFile, 'utf8');
      let data: Record<string, Record<string, unknown>>;
      try {
        data = JSON.parse(text) as Record<string, Record<string, unknown>>;
      } catch {
        return [`unparsable (${text.length} bytes)`];
      }
      const fp = (v: unknown) => (typeof v === 'string' && v ? fingerprint(v) : 'none');
      if (client === 'codex') return Object.entries(data).map(([k, v]) => `${k} ${fp(v.access_token)} ${fp(v.refresh_token)}`).sort();
      const acct = data.claudeAiOauth;
      return [
        ...(acct ? [`claudeAiOauth ${fp(acct.accessToken)} ${fp(acct.refreshToken)}`] : []),
        ...Object.entries((data.mcpOAuth ?? {}) as Record<string, Record<string, unknown>>).map(([k, v]) => `${k} ${fp(v.accessToken)} ${fp(v.refreshToken)}`),
      ].sort();
    };

    const env = { HOME: box.home, PATH: process.env.PATH ?? '/usr/bin:/bin', MCP_AUTH_DOCTOR_JOURNAL_MAX_STATES: String(MAX_STATES) };
    const writer = path.join(box.root, 'writer.js');
    await fs.writeFile(writer, WRITER);

    guard = startGuard(['--interval', String(INTERVAL_MS), '--json'], env);
    const g = guard;
    /** The first event at or after index `from` that `pred` accepts; fails after the deadline. */
    const waitEvent = async (from: number, pred: (e: GuardEvent) => boolean, what: string): Promise<{ event: GuardEvent; index: number }> => {
      const deadline = Date.now() + EVENT_DEADLINE_MS;
      for (let seen = from; ; ) {
        for (; seen < g.events.length; seen++) if (pred(g.events[seen]!)) return { event: g.events[seen]!, index: seen };
        if (g.exited) assert.fail(`guard exited before it printed ${what}\n--- stderr ---\n${g.stderr().slice(-2000)}`);
        if (Date.now() > deadline) assert.fail(`guard never printed ${what}\n--- guard events (tail) ---\n${g.events.slice(-20).map((e) => JSON.stringify(e)).join('\n')}\n--- stderr ---\n${g.stderr().slice(-2000)}`);
        await new Promise((res) => setTimeout(res, 5));
      }
    };
    const start = await waitEvent(0, (e) => e.event === 'start', 'its start line');
    assert.deepEqual((start.event.journal as { maxStates: number }).maxStates, MAX_STATES);
    // Every journaled client's store is watched; this test clobbers Claude Code's and Codex's.
    const others = [path.join(box.home, '.gemini', 'mcp-oauth-tokens.json'), path.join(box.home, '.local', 'share', 'opencode', 'mcp-auth.json')];
    assert.deepEqual((start.event.stores as { file: string }[]).map((s) => s.file).sort(), [claudeFile, codexFile, ...others].sort());
    await waitEvent(0, (e) => e.event === 'state' && e.client === 'claude-code', "Claude Code's first state");
    let cursor = (await waitEvent(0, (e) => e.event === 'state' && e.client === 'codex', "Codex's first state")).index + 1;

    const restoreLost = async (client: Client) => {
      let out = '';
      let err = '';
      const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env, cwd: box.root };
      // --no-verify: the tokens are minted here, no server would accept them (and no network is used).
      const code = await runCli(['restore', '--lost', '--client', client, '--yes', '--no-verify'], io);
      return { code, out, err };
    };

    const caught = new Map<string, number>();
    let nextWriter = startWriter(writer);
    for (let i = 0; i < CLOBBERS; i++) {
      const client: Client = r.chance(0.6) ? 'claude-code' : 'codex';
      const kind = r.pick(client === 'claude-code' ? CLAUDE_KINDS : CODEX_KINDS);
      const file = client === 'claude-code' ? claudeFile : codexFile;
      const delay = r.int(200);
      const label = `clobber ${i + 1}/${CLOBBERS} (${client}, ${kind}, after ${delay} ms)`;

      const child = nextWriter;
      nextWriter = startWriter(writer);
      let childOut = '';
      let childErr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        childOut += d;
        if (kind === 'truncate-kill' && childOut.includes('partial')) child.kill('SIGKILL');
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => (childErr += d));
      child.stdin.end(JSON.stringify([kind, client, file, delay]) + '\n');
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => (child.exitCode !== null || child.signalCode !== null ? res({ code: child.exitCode, signal: child.signalCode }) : child.on('close', (code, signal) => res({ code, signal }))));
      if (kind === 'truncate-kill') assert.equal(exit.signal, 'SIGKILL', `${label}: the writer was not killed mid-write (${childErr})`);
      else assert.equal(exit.code, 0, `${label}: the writer failed: ${childErr}`);

      const loss = await waitEvent(cursor, (e) => e.event === 'loss' && e.client === client, `the loss of ${label}`);
      assert.equal(loss.event.restore?.lost, `mcp-auth-doctor restore --lost --client ${client} --yes`, label);
      for (const l of loss.event.losses ?? []) caught.set(l.kind, (caught.get(l.kind) ?? 0) + 1);

      const restored = await restoreLost(client);
      assert.equal(restored.code, 0, `${label}: restore --lost failed\n${restored.out}\n${restored.err}`);
      assert.deepEqual(await held(client), wanted(client), `${label}: not every grant is back\n${restored.out}`);

      // restore --lost journals the state it wrote, so the next clobber is compared with it, not
      // with the clobbered one (a clobber landing before guard's next poll would go unseen).
      const newest = await new Journal(journalDir).newest(client, file);
      assert.equal(contentHash(newest?.raw ?? null), contentHash(await fs.readFile(file, 'utf8')), `${label}: the journal's newest state is not the restored one`);
      cursor = loss.index + 1;
    }

    // The journal kept no more than its bound per store, all 0600, and no temp file left behind.
    const files = await fs.readdir(journalDir);
    const perStore = new Map<string, number>();
    for (const f of files) {
      const m = /^[0-9TZ]+-(claude-code|codex)-([0-9a-f]+)-[0-9a-f]+\.json$/.exec(f);
      assert.ok(m, `an odd file in the journal: ${f}`);
      const st = await fs.stat(path.join(journalDir, f));
      assert.equal(st.mode & 0o777, 0o600, `${f} is ${(st.mode & 0o777).toString(8)}`);
      const store = `${m[1]}-${m[2]}`;
      perStore.set(store, (perStore.get(store) ?? 0) + 1);
    }
    assert.equal(perStore.size, 2, `states of both stores: ${[...perStore.keys()].join(', ')}`);
    for (const [store, n] of perStore) assert.ok(n <= MAX_STATES, `${store}: ${n} states kept, bound ${MAX_STATES}`);

    g.child.kill('SIGTERM');
    const result = await g.done;
    assert.equal(result.code, 0, `guard exit on SIGTERM: ${result.code} ${result.signal}\n${g.stderr().slice(-2000)}`);
    assert.equal(g.events.at(-1)?.event, 'stop');
    for (const s of secrets) assert.ok(!(g.stdout() + g.stderr()).includes(s), 'guard printed a token');
    nextWriter.kill('SIGKILL');
    const after = await fs.readdir(journalDir);
    assert.ok(after.every((f) => f.endsWith('.json')), `a partial journal file was left: ${after.join(', ')}`);
    console.log(`    losses caught by kind: ${JSON.stringify(Object.fromEntries([...caught].sort()))}; journal: ${JSON.stringify(Object.fromEntries(perStore))}`);
  });
});
