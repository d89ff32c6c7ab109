// Generated malformed credential stores read through the stores' own list() in a sandbox HOME
// (read-only use of the public API): Claude Code's `.credentials.json` blob, Codex's fallback
// `.credentials.json` and Codex keyring values (through a scripted keyring). Promised: list()
// never throws; a store that is not JSON, or not an object, is a finding naming the file and a
// line in it; an entry of the wrong shape gets a finding at that entry (Claude Code: the other
// entries still come through; Codex: the whole file is unusable, as Codex itself reads it); and
// no finding ever holds a token or any 16-character piece of one.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { claudeCodeStore, claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import type { KeyringOpResult, KeyringRunner } from '../../src/core/credentials/codexKeyring';
import { CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import { positionAt } from '../../src/core/config/sourceText';
import type { Finding } from '../../src/core/model';
import { storageKey } from '../../src/core/storageKey';
import { getAt, isRecord, jsonStyle, keepFailure, mutateBytes, oddKey, oddValue, pathsOf, Raw, renamedAt, toJson, withAt, type Path } from './support/mutate';
import { count, rng, type Rng } from './support/random';
import { leaks, mintToken as token } from './support/secrets';
import { assertWellFormed, describeFindings, inFile, sandbox } from './support/sandbox';


function findingText(f: Finding): string {
  return `${f.title}\n${f.detail}\n${(f.evidence ?? []).join('\n')}`;
}

function materialize(v: unknown): unknown {
  return v instanceof Raw ? JSON.parse(v.text) : v;
}

function startsWith(p: Path, prefix: Path): boolean {
  return prefix.length <= p.length && prefix.every((k, i) => p[i] === k);
}

interface Input {
  bytes: Buffer;
  did: string;
  path?: Path;
  rename?: string;
}

/** Nesting stays at 1,000 here: deeper crashes Claude Code's store (see the pending test below). */
const STORE_DEPTH = 1000;

function generate(r: Rng, seed: Record<string, unknown>): Input {
  const style = jsonStyle(r);
  if (r.chance(0.45)) {
    const m = mutateBytes(r, Buffer.from(toJson(seed, style), 'utf8'));
    return { bytes: m.bytes, did: m.did.join(', ') };
  }
  const p = r.pick(pathsOf(seed));
  if (typeof p[p.length - 1] === 'string' && r.chance(0.15)) {
    const rename = oddKey(r);
    return { bytes: Buffer.from(toJson(renamedAt(seed, p, rename), style)), did: `rename ${JSON.stringify(p)}`, path: p, rename };
  }
  const replacement = p.length > 0 && r.chance(0.1) ? undefined : oddValue(r, { maxDepth: STORE_DEPTH, allowNull: true });
  return { bytes: Buffer.from(toJson(withAt(seed, p, replacement), style)), did: `${replacement === undefined ? 'delete' : 'set'} ${JSON.stringify(p)}`, path: p };
}

/** Lines spanned by the value at `p` (its key included). */
function span(text: string, p: Path): [number, number] | undefined {
  let root;
  try {
    root = parseTree(text);
  } catch {
    return undefined;
  }
  const node = root && findNodeAtLocation(root, p);
  if (!node) return undefined;
  const start = node.parent?.type === 'property' ? node.parent.offset : node.offset;
  return [positionAt(text, start).line, positionAt(text, node.offset + node.length).line];
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const nullableString = (v: unknown) => v === null || v === undefined || typeof v === 'string';

/** claudeCodeBlob.ts EntrySchema: the fields whose type Claude Code's entries must have. */
function claudeEntryOk(v: unknown): boolean {
  if (!isRecord(v)) return false;
  for (const f of ['serverName', 'serverUrl', 'clientId', 'clientSecret', 'redirectUri', 'accessToken', 'refreshToken', 'scope']) if (!nullableString(v[f])) return false;
  if (!(v.expiresAt === null || v.expiresAt === undefined || typeof v.expiresAt === 'number')) return false;
  const d = v.discoveryState;
  if (d === null || d === undefined) return true;
  if (!isRecord(d)) return false;
  return nullableString(d.authorizationServerUrl) && nullableString(d.resourceMetadataUrl) && (d.oauthMetadataFound === null || d.oauthMetadataFound === undefined || typeof d.oauthMetadataFound === 'boolean');
}

/** codexFormat.ts FallbackEntrySchema. */
function codexEntryOk(v: unknown): boolean {
  if (!isRecord(v)) return false;
  const str = (x: unknown) => typeof x === 'string';
  const optNullStr = (x: unknown) => x === undefined || x === null || str(x);
  const u64 = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  return (
    str(v.server_name) &&
    str(v.server_url) &&
    str(v.client_id) &&
    str(v.access_token) &&
    optNullStr(v.issuer) &&
    optNullStr(v.refresh_token) &&
    (v.expires_at === undefined || v.expires_at === null || u64(v.expires_at)) &&
    (v.scopes === undefined || (Array.isArray(v.scopes) && v.scopes.every(str))) &&
    (v.executor_owned === undefined || typeof v.executor_owned === 'boolean')
  );
}

describe('hardening: generated credential stores', function () {
  this.timeout(120_000);

  it(`Claude Code .credentials.json: ${count(1000)} malformed blobs never throw, each is a finding at its file and entry, other entries still listed, no token in any finding`, async () => {
    const s = await sandbox('claude-store');
    const file = claudeCredentialsFile(s.e);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const store = claudeCodeStore(s.e, { backups: new SnapshotStore(path.join(s.root, 'backups')) });
    const r = rng('claude-store');
    const stats = { inputs: 0, invalid: 0, structural: 0, entryChecks: 0 };
    const started = Date.now();
    try {
      for (let i = 0; i < count(1000); i++) {
        const secrets: string[] = [];
        const mintOne = () => {
          const t = token();
          secrets.push(t);
          return t;
        };
        const entry = (name: string, url: string, extra: Record<string, unknown> = {}) => ({
          serverName: name,
          serverUrl: url,
          clientId: `client-${name}`,
          accessToken: mintOne(),
          refreshToken: mintOne(),
          expiresAt: Date.now() + 3600_000,
          scope: 'mcp:tools offline_access',
          discoveryState: { authorizationServerUrl: 'https://as.example', resourceMetadataUrl: `${url}/.well-known/oauth-protected-resource` },
          ...extra,
        });
        const keys = [storageKey('alpha', 'http', 'https://alpha.example/mcp'), storageKey('beta', 'sse', 'https://beta.example/sse'), storageKey('gamma', 'http', 'https://gamma.example/mcp')];
        const seed = {
          claudeAiOauth: { accessToken: mintOne(), refreshToken: mintOne(), expiresAt: Date.now() + 3600_000, scopes: ['user:inference'] },
          mcpOAuth: {
            [keys[0]!]: entry('alpha', 'https://alpha.example/mcp'),
            [keys[1]!]: entry('beta', 'https://beta.example/sse'),
            [keys[2]!]: entry('gamma', 'https://gamma.example/mcp', { clientSecret: mintOne() }),
          },
        };
        const input = generate(r, seed);
        await fs.writeFile(file, input.bytes);
        stats.inputs++;
        const label = `claude .credentials.json #${i} (${input.did})`;
        let listing;
        try {
          listing = await store.list();
        } catch (err) {
          const kept = await keepFailure(`claude-store-${i}`, input.bytes);
          assert.fail(`${label}: list() threw ${String(err).slice(0, 200)}; input kept at ${kept}`);
        }
        const text = input.bytes.toString('utf8');
        const here = inFile(listing.findings, file);
        assertWellFormed(listing.findings, file, text, label);
        const parsed = parseJson(text);
        if (!parsed.ok || text.trim() === '') {
          stats.invalid++;
          assert.ok(here.some((f) => f.code === 'credentials.invalid-json' || f.code === 'credentials.empty'), `${label}: not JSON but no finding at ${file}; got ${describeFindings(here)}`);
          for (const f of listing.findings) for (const t of secrets) assert.ok(!leaks(findingText(f), t), `${label}: ${f.code} holds a piece of a token`);
          continue;
        }
        if (!input.path) continue;
        stats.structural++;
        for (const f of listing.findings) for (const t of secrets) assert.ok(!leaks(findingText(f), t), `${label}: ${f.code} holds a piece of a token`);
        const value = parsed.value;
        if (!isRecord(value)) {
          assert.ok(here.some((f) => f.code === 'credentials.wrong-type'), `${label}: not an object but no credentials.wrong-type; got ${describeFindings(here)}`);
          continue;
        }
        const mcp = value.mcpOAuth;
        if (mcp !== undefined && !isRecord(mcp)) {
          assert.ok(here.some((f) => f.code === 'credentials.wrong-type'), `${label}: mcpOAuth is ${typeof mcp} but no finding; got ${describeFindings(here)}`);
          continue;
        }
        for (const key of keys) {
          const at = ['mcpOAuth', key];
          const touched = startsWith(input.path, at) || startsWith(at, input.path);
          if (!touched) {
            assert.ok(listing.entries.some((e) => e.key === key), `${label}: untouched entry ${key} is not listed; listed ${JSON.stringify(listing.entries.map((e) => e.key))}`);
            continue;
          }
          if (input.rename !== undefined || !isRecord(mcp) || !(key in mcp)) continue;
          if (claudeEntryOk(materialize(getAt(value, at)))) continue;
          stats.entryChecks++;
          const about = here.filter((f) => f.code === 'credentials.wrong-type' && f.title.includes(key));
          assert.ok(about.length > 0, `${label}: entry ${key} has a field of the wrong type but no finding names it; got ${describeFindings(here)}`);
          const lines = span(text, at);
          if (lines) assert.ok(about.some((f) => f.location!.line >= lines[0] && f.location!.line <= lines[1]), `${label}: the finding is outside the entry (lines ${lines.join('-')})`);
          assert.ok(!listing.entries.some((e) => e.key === key), `${label}: an entry of the wrong shape is listed as usable`);
        }
      }
    } finally {
      await s.remove();
    }
    console.log(`      Claude Code store: ${stats.inputs} inputs (${stats.invalid} not JSON, ${stats.structural} structural, ${stats.entryChecks} bad entries located) in ${Date.now() - started} ms`);
    assert.ok(stats.invalid > count(1000) / 10 && stats.entryChecks > 0);
  });

  it(`Codex .credentials.json: ${count(600)} malformed files never throw, each is a finding at its file and entry, no token in any finding`, async () => {
    const s = await sandbox('codex-store');
    const file = codexCredentialsFile(s.e);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const servers = [
      { name: 'alpha', url: 'https://alpha.example/mcp' },
      { name: 'beta', url: 'https://beta.example/mcp' },
      { name: 'gamma', url: 'https://gamma.example/mcp' },
    ];
    const keyring: KeyringRunner = async (ops) => ({ reachable: true, results: ops.map((): KeyringOpResult => ({ ok: true, value: null, found: [] })) });
    const store = new CodexStore(s.e, { settings: { mode: 'file', secretAuthStorage: false, servers }, backups: new SnapshotStore(path.join(s.root, 'backups')), keyring });
    const r = rng('codex-store');
    const stats = { inputs: 0, invalid: 0, structural: 0, entryChecks: 0 };
    const started = Date.now();
    try {
      for (let i = 0; i < count(600); i++) {
        const secrets: string[] = [];
        const mintOne = () => {
          const t = token();
          secrets.push(t);
          return t;
        };
        const seed: Record<string, unknown> = {};
        for (const sv of servers) {
          seed[codexKey(sv.name, sv.url)] = {
            server_name: sv.name,
            server_url: sv.url,
            issuer: 'https://as.example',
            client_id: `client-${sv.name}`,
            access_token: mintOne(),
            expires_at: Date.now() + 3600_000,
            refresh_token: mintOne(),
            scopes: ['mcp:tools', 'offline_access'],
          };
        }
        const input = generate(r, seed);
        await fs.writeFile(file, input.bytes, { mode: 0o600 });
        stats.inputs++;
        const label = `codex .credentials.json #${i} (${input.did})`;
        let listing;
        try {
          listing = await store.list();
        } catch (err) {
          const kept = await keepFailure(`codex-store-${i}`, input.bytes);
          assert.fail(`${label}: list() threw ${String(err).slice(0, 200)}; input kept at ${kept}`);
        }
        const text = input.bytes.toString('utf8');
        const here = inFile(listing.findings, file);
        assertWellFormed(listing.findings, file, text, label);
        const parsed = parseJson(text);
        const checkLeaks = !parsed.ok || input.path !== undefined;
        if (checkLeaks) for (const f of listing.findings) for (const t of secrets) assert.ok(!leaks(findingText(f), t), `${label}: ${f.code} holds a piece of a token`);
        if (!parsed.ok || text.trim() === '') {
          stats.invalid++;
          assert.ok(here.some((f) => f.code === 'credentials.invalid-json' || f.code === 'credentials.empty'), `${label}: not JSON but no finding at ${file}; got ${describeFindings(here)}`);
          continue;
        }
        if (!input.path) continue;
        stats.structural++;
        const value = parsed.value;
        if (!isRecord(value)) {
          assert.ok(here.some((f) => f.code === 'credentials.wrong-type'), `${label}: not an object but no finding; got ${describeFindings(here)}`);
          continue;
        }
        const bad = Object.entries(value).find(([, v]) => !codexEntryOk(v));
        if (!bad) {
          // A file Codex can read: Codex 0.171 finds a grant by the entry's own server_name and
          // server_url, not by the map key (codexStore.ts codexFileView). So every grant is listed
          // under that key of it, and each entry Codex reads for no grant (a second one for the
          // same server) is named in a drift finding instead: none is silently dropped.
          const grants = new Set(Object.values(value).map((v) => codexKey(String((v as Record<string, unknown>).server_name), String((v as Record<string, unknown>).server_url))));
          assert.deepEqual(listing.entries.map((e) => e.key).sort(), [...grants].sort(), `${label}: entries missing`);
          const drift = here.filter((f) => f.code === 'credentials.store-drift').length;
          assert.equal(listing.entries.length + drift, Object.keys(value).length, `${label}: an entry neither listed nor named in a finding`);
          continue;
        }
        // Codex parses the file as a whole: one entry it cannot read makes all of them unusable.
        stats.entryChecks++;
        const f = here.find((x) => x.code === 'credentials.invalid-entry');
        assert.ok(f, `${label}: entry ${bad[0].slice(0, 40)} is not what Codex reads but no credentials.invalid-entry; got ${describeFindings(here)}`);
        const lines = span(text, [bad[0]]);
        if (lines) assert.ok(f.location!.line >= lines[0] && f.location!.line <= lines[1], `${label}: the finding is outside the entry (lines ${lines.join('-')}): ${describeFindings([f])}`);
        assert.equal(listing.entries.length, 0, `${label}: entries listed from a file Codex cannot read`);
      }
    } finally {
      await s.remove();
    }
    console.log(`      Codex file store: ${stats.inputs} inputs (${stats.invalid} not JSON, ${stats.structural} structural, ${stats.entryChecks} bad entries located) in ${Date.now() - started} ms`);
    assert.ok(stats.invalid > count(600) / 10 && stats.entryChecks > 0);
  });

  // Found by this suite, fixed in src/core/credentials/storeFile.ts (bounded position parsing): before,
  // parseJsonStore's error path and offsetOfPath call jsonc-parser's recursive parseTree on
  // the whole text, so a store nested ~10,000 levels deep (valid JSON or not) throws RangeError
  // "Maximum call stack size exceeded" out of list(). status survives (readStores turns it into
  // credentials.unreadable without a line), but the promise is a finding at file and line.
  // src/core/config/jsonTree.ts (parseTreeBounded, firstErrorOffset) fixes the same for configs.
  for (const [client, text] of [
    ['Claude Code', (deep: string) => `{"mcpOAuth": {"a|1": {"serverName": "a", "accessToken": "x", "scope": ${deep}}}}`],
    ['Claude Code (broken)', (deep: string) => `{"mcpOAuth": ${deep.slice(0, deep.length / 2)}`],
    ['Codex', (deep: string) => `{"a|1": ${deep}}`],
  ] as const) {
    it(`${client}: a credentials file nested 20,000 levels deep is a finding at its line, not a RangeError`, async () => {
      const s = await sandbox('deep-store');
      try {
        const deep = '['.repeat(20_000) + ']'.repeat(20_000);
        const backups = new SnapshotStore(path.join(s.root, 'backups'));
        const keyring: KeyringRunner = async (ops) => ({ reachable: true, results: ops.map((): KeyringOpResult => ({ ok: true, value: null, found: [] })) });
        const store = client.startsWith('Codex')
          ? new CodexStore(s.e, { settings: { mode: 'file', secretAuthStorage: false, servers: [] }, backups, keyring })
          : claudeCodeStore(s.e, { backups });
        const file = client.startsWith('Codex') ? codexCredentialsFile(s.e) : claudeCredentialsFile(s.e);
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, text(deep), { mode: 0o600 });
        const listing = await store.list();
        assert.ok(listing.findings.some((f) => f.location?.file === file && f.location.line === 1), describeFindings(listing.findings));
      } finally {
        await s.remove();
      }
    });
  }

  it(`Codex keyring values: ${count(1000)} malformed values never throw, each is a finding naming the server, no token in any finding`, async () => {
    const s = await sandbox('codex-keyring');
    await fs.mkdir(path.join(s.home, '.codex'), { recursive: true });
    const servers = [
      { name: 'alpha', url: 'https://alpha.example/mcp' },
      { name: 'beta', url: 'https://beta.example/mcp' },
    ];
    const items = new Map<string, string>();
    const keyring: KeyringRunner = async (ops) => ({
      reachable: true,
      results: ops.map((op): KeyringOpResult => {
        if (op.op === 'find') return { ok: true, found: [...items].map(([account, password]) => ({ account, password })) };
        if (op.op === 'get') return { ok: true, value: items.get(op.account) ?? null };
        throw new Error(`the hardening suite only reads; got ${op.op}`);
      }),
    });
    const store = new CodexStore(s.e, { settings: { mode: 'keyring', secretAuthStorage: false, servers }, backups: new SnapshotStore(path.join(s.root, 'backups')), keyring });
    const r = rng('codex-keyring');
    const stats = { inputs: 0, flagged: 0 };
    const started = Date.now();
    try {
      for (let i = 0; i < count(1000); i++) {
        const secrets: string[] = [];
        const mintOne = () => {
          const t = token();
          secrets.push(t);
          return t;
        };
        const value = (name: string, url: string) => ({
          server_name: name,
          url,
          issuer: 'https://as.example',
          client_id: `client-${name}`,
          token_response: { access_token: mintOne(), token_type: 'bearer', expires_in: 3599, refresh_token: mintOne(), scope: 'mcp:tools' },
          expires_at: Date.now() + 3600_000,
        });
        const [a, b] = servers.map((sv) => codexKey(sv.name, sv.url)) as [string, string];
        const good = JSON.stringify(value('beta', servers[1]!.url));
        const input = generate(r, value('alpha', servers[0]!.url));
        items.clear();
        items.set(a, input.bytes.toString('utf8'));
        items.set(b, good);
        stats.inputs++;
        const label = `keyring value #${i} (${input.did})`;
        let listing;
        try {
          listing = await store.list();
        } catch (err) {
          const kept = await keepFailure(`codex-keyring-${i}`, input.bytes);
          assert.fail(`${label}: list() threw ${String(err).slice(0, 200)}; input kept at ${kept}`);
        }
        assertWellFormed(listing.findings, '', '', label);
        if (!input.path && parseJson(items.get(a)!).ok) continue;
        for (const f of listing.findings) for (const t of secrets) assert.ok(!leaks(findingText(f), t), `${label}: ${f.code} holds a piece of a token`);
        // The other server's good item is still read.
        assert.ok(listing.entries.some((e) => e.key === b), `${label}: the untouched keyring item is not listed`);
        const ok = listing.entries.some((e) => e.key === a);
        if (!ok) {
          stats.flagged++;
          assert.ok(
            listing.findings.some((f) => f.code.startsWith('credentials.') && f.title.includes('"alpha"')),
            `${label}: the item is unusable but no finding names alpha; got ${describeFindings(listing.findings)}`,
          );
        }
      }
    } finally {
      await s.remove();
    }
    console.log(`      Codex keyring values: ${stats.inputs} inputs (${stats.flagged} unusable and reported) in ${Date.now() - started} ms`);
    assert.ok(stats.flagged > count(1000) / 10);
  });
});
