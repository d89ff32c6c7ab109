// Generated malformed Claude Code configs (~/.claude.json and a project's .mcp.json) through the
// real reader, scanClaudeCode, in a sandbox HOME. Each input is a valid seed spoiled one way:
// a value of the wrong type or of extreme size at a random path (deep nesting, huge strings, odd
// unicode, prototype-ish keys), a different layout (indent, CRLF, BOM), or byte mutations.
// What a user is promised: the reader never throws; a file that is not JSON gets a finding naming
// the file and a line that exists; a server entry of the wrong shape gets a finding at that entry;
// every server the mutation did not touch is still listed; header and env values never appear
// in a finding.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { scanClaudeCode } from '../../src/core/config/claudeCode';
import { positionAt } from '../../src/core/config/sourceText';
import type { ConfigScan, Finding } from '../../src/core/model';
import { getAt, isRecord, jsonStyle, keepFailure, mutateBytes, oddKey, oddValue, pathsOf, Raw, renamedAt, toJson, withAt, type Path } from './support/mutate';
import { count, rng, type Rng } from './support/random';
import { assertWellFormed, describeFindings, inFile, sandbox, type Sandbox } from './support/sandbox';

const REMOTE_TYPES = new Set(['http', 'sse', 'streamable-http']);
const NOT_ABOUT_SHAPE = new Set(['config.project-server-pending', 'config.project-server-rejected', 'config.managed-exclusive']);

/** What a remote entry's typed fields must hold for Claude Code 2.1.197 to load it (claudeCodeEntries.ts RemoteSchema). */
const REMOTE_FIELD_OK: Record<string, (v: unknown) => boolean> = {
  type: (v) => typeof v === 'string' && REMOTE_TYPES.has(v),
  url: (v) => typeof v === 'string',
  headers: (v) => isRecord(v) && Object.values(v).every((x) => typeof x === 'string'),
  headersHelper: (v) => typeof v === 'string',
  oauth: (v) => isRecord(v) && ['clientId', 'authServerMetadataUrl', 'scopes', 'callbackPort', 'xaa'].every((k) => !(k in v)),
  timeout: (v) => typeof v === 'number' && Number.isInteger(v) && v > 0,
  alwaysLoad: (v) => typeof v === 'boolean',
};

/** The JSON value of a generated value, Raw text included (JSON.parse is not recursive in V8). */
function materialize(v: unknown): unknown {
  return v instanceof Raw ? JSON.parse(v.text) : v;
}

interface Mutation {
  value: unknown;
  path?: Path;
  replacement?: unknown;
  /** The key at `path` was renamed to this. */
  rename?: string;
  did: string;
}

/** A structural mutation of `seed`: a random path gets an odd value, or is deleted. */
function structural(r: Rng, seed: unknown): Mutation {
  const paths = pathsOf(seed);
  const p = r.pick(paths);
  if (typeof p[p.length - 1] === 'string' && r.chance(0.15)) {
    const key = oddKey(r);
    return { value: renamedAt(seed, p, key), path: p, rename: key, did: `rename ${JSON.stringify(p)} to ${JSON.stringify(key.slice(0, 20))}` };
  }
  if (p.length > 0 && r.chance(0.1)) return { value: withAt(seed, p, undefined), path: p, replacement: undefined, did: `delete ${JSON.stringify(p)}` };
  const replacement = oddValue(r, { maxDepth: 20_000, allowNull: true });
  return { value: withAt(seed, p, replacement), path: p, replacement, did: `set ${JSON.stringify(p)}` };
}

function startsWith(p: Path, prefix: Path): boolean {
  return prefix.length <= p.length && prefix.every((k, i) => p[i] === k);
}

/** Lines spanned by the node at `p` in `text` (key included), when the text is shallow enough to walk here. */
function linesOf(text: string, p: Path): [number, number] | undefined {
  let root;
  try {
    root = parseTree(text);
  } catch {
    return undefined; // nesting too deep for jsonc-parser's recursion: skip the line check
  }
  const node = root && findNodeAtLocation(root, p);
  if (!node) return undefined;
  const start = node.parent?.type === 'property' ? node.parent.offset : node.offset;
  return [positionAt(text, start).line, positionAt(text, node.offset + node.length).line];
}

function all(scan: ConfigScan): Finding[] {
  return [...scan.findings, ...scan.servers.flatMap((s) => s.findings)];
}

interface Target {
  label: string;
  file: (s: Sandbox) => string;
  seed: (s: Sandbox, secret: string) => Record<string, unknown>;
  /** Server names per scope and the path of their map in the seed. */
  maps: (s: Sandbox) => { scope: 'user' | 'local' | 'project'; at: Path }[];
  /** A structural change the reader must report for this file (beyond server entries). */
  mustReport: (p: Path, replacement: unknown, s: Sandbox) => boolean;
  maxBytes?: number;
}

const CLAUDE_JSON: Target = {
  label: '.claude.json',
  file: (s) => path.join(s.home, '.claude.json'),
  seed: (s, secret) => ({
    numStartups: 3,
    mcpServers: {
      alpha: { type: 'http', url: 'https://alpha.example/mcp', headers: { 'X-Api-Key': secret } },
      beta: { type: 'sse', url: 'https://beta.example/sse', oauth: { clientId: 'c1', callbackPort: 5555 } },
      gamma: { command: 'npx', args: ['-y', 'gamma'], env: { GAMMA_TOKEN: secret } },
      delta: { type: 'http', url: 'http://127.0.0.1:9/mcp', timeout: 3000 },
    },
    projects: {
      [s.project]: {
        mcpServers: { local1: { type: 'http', url: 'https://local.example/mcp' }, local2: { type: 'streamable-http', url: 'https://l2.example/mcp' } },
        disabledMcpServers: [],
        hasTrustDialogAccepted: true,
        enabledMcpjsonServers: ['p1'],
      },
    },
  }),
  maps: (s) => [
    { scope: 'user', at: ['mcpServers'] },
    { scope: 'local', at: ['projects', s.project, 'mcpServers'] },
  ],
  mustReport: (p, v, s) => {
    const value = materialize(v);
    if (p.length === 0) return !isRecord(value);
    // mcpServers or projects of the wrong type (null means "none" to Claude Code).
    if (p.length === 1 && (p[0] === 'mcpServers' || p[0] === 'projects')) return value !== null && value !== undefined && !isRecord(value);
    if (p.length === 3 && p[0] === 'projects' && p[1] === s.project && p[2] === 'mcpServers') return value !== null && value !== undefined && !isRecord(value);
    return false;
  },
};

const MCP_JSON: Target = {
  label: '.mcp.json',
  file: (s) => path.join(s.project, '.mcp.json'),
  seed: (_s, secret) => ({
    mcpServers: {
      p1: { type: 'http', url: 'https://p1.example/mcp' },
      p2: { type: 'http', url: 'https://p2.example/mcp', headers: { Authorization: `Bearer ${secret}` } },
      p3: { command: 'node', args: ['server.js'], env: { P3_SECRET: secret } },
      p4: { type: 'sse', url: 'https://p4.example/sse', oauth: { clientId: 'x' } },
    },
  }),
  maps: () => [{ scope: 'project', at: ['mcpServers'] }],
  mustReport: (p, v) => {
    const value = materialize(v);
    if (p.length === 0) return !isRecord(value) || !isRecord(value.mcpServers);
    if (p.length === 1 && p[0] === 'mcpServers') return !isRecord(value);
    return false;
  },
  maxBytes: 2 * 1024 * 1024,
};

/** The finding a remote entry at `entry` must get when `field` now holds `value`, or undefined when it may be fine. */
function entryMustReport(seed: unknown, entry: Path, rest: Path, v: unknown): boolean {
  const value = materialize(v);
  const original = getAt(seed, entry) as Record<string, unknown>;
  const remote = typeof original.type === 'string' && REMOTE_TYPES.has(original.type);
  if (rest.length === 0) return value !== undefined && !isRecord(value);
  if (!remote || rest.length !== 1) return false;
  const field = String(rest[0]);
  if (value === undefined) return field === 'url' || field === 'type';
  const ok = REMOTE_FIELD_OK[field];
  return ok !== undefined && !ok(value);
}

async function fuzz(target: Target, n: number): Promise<{ inputs: number; invalidJson: number; structural: number; lineChecks: number }> {
  const s = await sandbox(target.label.replace('.', ''));
  const stats = { inputs: 0, invalidJson: 0, structural: 0, lineChecks: 0 };
  try {
    const file = target.file(s);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const r = rng(`claude-config:${target.label}`);
    for (let i = 0; i < n; i++) {
      const secret = `hx-${randomBytes(12).toString('hex')}`;
      const seed = target.seed(s, secret);
      const style = jsonStyle(r);
      let bytes: Buffer;
      let mutation: Mutation | undefined;
      let did: string;
      if (r.chance(0.5)) {
        mutation = structural(r, seed);
        bytes = Buffer.from(toJson(mutation.value, style), 'utf8');
        did = mutation.did;
      } else {
        const m = mutateBytes(r, Buffer.from(toJson(seed, style), 'utf8'));
        bytes = m.bytes;
        did = m.did.join(', ');
      }
      await fs.writeFile(file, bytes);
      stats.inputs++;
      const label = `${target.label} #${i} (${did})`;
      let scan: ConfigScan;
      try {
        scan = await scanClaudeCode(s.e);
      } catch (err) {
        const kept = await keepFailure(`claude-${target.label}-${i}`, bytes);
        assert.fail(`${label}: scanClaudeCode threw ${String(err).slice(0, 200)}; input kept at ${kept}`);
      }
      const decoded = bytes.toString('utf8');
      const text = decoded.startsWith('\uFEFF') ? decoded.slice(1) : decoded;
      const findings = all(scan);
      const here = inFile(findings, file);
      assertWellFormed(findings, file, text, label);

      let value: unknown;
      let parses = true;
      try {
        value = JSON.parse(text);
      } catch {
        parses = false;
      }
      if (target.maxBytes !== undefined && Buffer.byteLength(text) > target.maxBytes) {
        assert.ok(here.some((f) => f.code === 'config.too-large'), `${label}: no config.too-large; got ${describeFindings(here)}`);
        continue;
      }
      if (!parses) {
        stats.invalidJson++;
        assert.ok(here.some((f) => f.code === 'config.invalid-json' && f.severity === 'error'), `${label}: not JSON but no config.invalid-json for ${file}; got ${describeFindings(here)}`);
        continue;
      }
      if (!mutation?.path) continue;
      stats.structural++;
      const p = mutation.path;
      // Header and env values may be secrets: no finding ever quotes them.
      for (const f of findings) assert.ok(!`${f.title} ${f.detail} ${(f.evidence ?? []).join(' ')}`.includes(secret), `${label}: ${f.code} quotes a header or env value`);
      if (mutation.rename === undefined && target.mustReport(p, mutation.replacement, s)) {
        assert.ok(here.some((f) => f.severity === 'error'), `${label}: wrong type but no error finding in ${file}; got ${describeFindings(here)}`);
      }
      const rootOk = isRecord(value);
      for (const map of target.maps(s)) {
        const names = Object.keys(getAt(seed, map.at) as Record<string, unknown>);
        for (const name of names) {
          const entry = [...map.at, name];
          const touched = startsWith(p, entry) || startsWith(entry, p);
          if (!touched) {
            // Good parts still come through: an untouched entry is listed as before.
            if (!rootOk) continue;
            const listed = scan.servers.some((x) => x.name === name && x.scope === map.scope && x.source.file === file);
            assert.ok(listed, `${label}: untouched server ${name} (${map.scope}) is missing; listed ${JSON.stringify(scan.servers.map((x) => [x.scope, x.name]))}; findings ${describeFindings(here)}`);
            continue;
          }
          const rename: string | undefined = mutation.rename;
          if (rename !== undefined) {
            // A server under an odd name ("__proto__", "", 2,000 characters, a NUL) is still a server.
            if (p.length === entry.length && rootOk) {
              const renamed: unknown[] = scan.servers.filter((x) => x.name === rename && x.scope === map.scope && x.source.file === file);
              assert.equal(renamed.length, 1, `${label}: the server renamed from ${name} is listed ${renamed.length} times`);
            }
            continue;
          }
          if (!startsWith(p, entry) || !entryMustReport(seed, entry, p.slice(entry.length), mutation.replacement)) continue;
          // Approval and managed-config notes name every project server; they say nothing about its shape.
          const about = here.filter((f) => !NOT_ABOUT_SHAPE.has(f.code) && f.title.includes(`"${name}"`));
          assert.ok(about.length > 0, `${label}: ${name} got a wrong value but no finding names it; got ${describeFindings(here)}`);
          const span = linesOf(text, entry);
          if (span) {
            stats.lineChecks++;
            assert.ok(
              about.some((f) => f.location!.line >= span[0] && f.location!.line <= span[1]),
              `${label}: the finding for ${name} is not within its entry (lines ${span[0]}-${span[1]}): ${describeFindings(about)}`,
            );
          }
        }
      }
    }
  } finally {
    await s.remove();
  }
  return stats;
}

describe('hardening: generated Claude Code configs', function () {
  this.timeout(120_000);

  for (const [target, base] of [
    [CLAUDE_JSON, 1000],
    [MCP_JSON, 1000],
  ] as const) {
    it(`${target.label}: ${count(base)} malformed variants never throw, each bad one is a finding at its file and line, untouched servers stay listed`, async () => {
      const started = Date.now();
      const stats = await fuzz(target, count(base));
      console.log(`      ${target.label}: ${stats.inputs} inputs (${stats.invalidJson} not JSON, ${stats.structural} structural, ${stats.lineChecks} entry lines checked) in ${Date.now() - started} ms`);
      assert.ok(stats.invalidJson > count(base) / 10 && stats.structural > count(base) / 10, 'the generator produced both kinds of input');
    });
  }
});
