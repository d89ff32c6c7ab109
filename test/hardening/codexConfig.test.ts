// Generated malformed Codex config.toml files through the real reader, scanCodex, in a sandbox
// CODEX_HOME: values of the wrong type or extreme size at random paths (deep inline arrays and
// tables, huge strings, odd unicode, odd keys), duplicate tables and keys, CRLF and BOM, and byte
// mutations. Promised: the reader never throws; a file that is not TOML gets config.invalid-toml
// at its file and a line that exists; a server entry Codex would refuse gets a finding within
// that entry; every server the mutation did not touch is still listed; header and env values
// never appear in a finding.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { scanCodex } from '../../src/core/config/codex';
import type { ConfigScan, Finding } from '../../src/core/model';
import { getAt, isRecord, keepFailure, lineCount, mutateBytes, oddKey, oddValue, pathsOf, Raw, renamedAt, withAt, type Path } from './support/mutate';
import { count, rng, type Rng } from './support/random';
import { assertWellFormed, describeFindings, inFile, sandbox } from './support/sandbox';

type Toml = typeof import('smol-toml');

const isTable = (v: unknown): v is Record<string, unknown> => isRecord(v);
const isString = (v: unknown) => typeof v === 'string';
const strings = (v: unknown) => Array.isArray(v) && v.every(isString);
const stringTable = (v: unknown) => isTable(v) && Object.values(v).every(isString);

/** codexEntry.ts EntryTable, for the fields the seed uses: what Codex 0.169 accepts in each. */
const FIELD_OK: Record<string, (v: unknown) => boolean> = {
  url: isString,
  command: isString,
  bearer_token_env_var: isString,
  args: strings,
  scopes: strings,
  env: stringTable,
  http_headers: stringTable,
  enabled: (v) => typeof v === 'boolean',
  startup_timeout_sec: (v) => (typeof v === 'number' || typeof v === 'bigint') && Number(v) >= 0,
  oauth: (v) => isTable(v) && (v.client_id === undefined || isString(v.client_id)) && (v.callback_port === undefined || (typeof v.callback_port === 'bigint' && v.callback_port >= 0n && v.callback_port <= 65535n)),
};

function seedText(secret: string, project: string): string {
  return [
    'model = "o3"',
    'mcp_oauth_credentials_store = "file"',
    '',
    '[mcp_servers.alpha]',
    'url = "https://alpha.example/mcp"',
    'bearer_token_env_var = "ALPHA_TOKEN"',
    `http_headers = { "X-Api-Key" = "${secret}" }`,
    '',
    '[mcp_servers.beta]',
    'command = "npx"',
    'args = ["-y", "beta"]',
    `env = { BETA_SECRET = "${secret}" }`,
    'enabled = true',
    '',
    '[mcp_servers.gamma]',
    'url = "https://gamma.example/mcp"',
    'scopes = ["read", "write"]',
    'startup_timeout_sec = 20',
    '',
    '[mcp_servers.gamma.oauth]',
    'client_id = "gamma-client"',
    'callback_port = 5555',
    '',
    `[projects.${JSON.stringify(project)}]`,
    'trust_level = "trusted"',
    '',
  ].join('\n');
}

const SERVERS = ['alpha', 'beta', 'gamma'];

/** Nesting `depth` deep as TOML inline arrays or tables. */
function deepToml(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{ a = '.repeat(depth) + '1' + ' }'.repeat(depth);
}

/** A TOML-able odd value; deep nesting comes back as a marker replaced in the text afterwards. */
function oddToml(r: Rng): unknown {
  const v = oddValue(r, { maxDepth: 5000, allowNull: false });
  if (v instanceof Raw) return new Raw(deepToml(Math.min(5000, Math.max(2, v.text.length / 4)), r.pick(['array', 'object'] as const)));
  return v;
}

function startsWith(p: Path, prefix: Path): boolean {
  return prefix.length <= p.length && prefix.every((k, i) => p[i] === k);
}

interface Generated {
  text: string;
  did: string;
  path?: Path;
  rename?: string;
  /** A duplicate table or key was added: not TOML, and the finding must point at it. */
  duplicateAt?: number;
}

function generate(r: Rng, toml: Toml, seed: string): Generated {
  const choice = r.int(10);
  if (choice < 4) {
    const m = mutateBytes(r, Buffer.from(seed, 'utf8'));
    return { text: m.bytes.toString('latin1'), did: m.did.join(', ') };
  }
  if (choice === 4) {
    // The same table twice, or the same key twice in one table (TOML forbids both; Codex refuses to start).
    const lines = seed.split('\n');
    const name = r.pick(SERVERS);
    const header = lines.indexOf(`[mcp_servers.${name}]`);
    if (r.chance(0.5)) {
      const text = `${seed}\n[mcp_servers.${name}]\nurl = "https://dup.example/mcp"\n`;
      return { text, did: `duplicate table ${name}`, duplicateAt: lineCount(seed) + 1 };
    }
    const dupKey = lines[header + 1]!;
    lines.splice(header + 2, 0, dupKey);
    return { text: lines.join('\n'), did: `duplicate key in ${name}`, duplicateAt: header + 3 };
  }
  const doc = toml.parse(seed, { integersAsBigInt: true }) as Record<string, unknown>;
  const paths = pathsOf(doc);
  const p = r.pick(paths);
  let value: unknown;
  let did: string;
  let rename: string | undefined;
  const raws: string[] = [];
  if (p.length > 0 && typeof p[p.length - 1] === 'string' && r.chance(0.15)) {
    rename = oddKey(r);
    value = renamedAt(doc, p, rename);
    did = `rename ${JSON.stringify(p)} to ${JSON.stringify(rename.slice(0, 20))}`;
  } else if (p.length > 0 && r.chance(0.1)) {
    value = withAt(doc, p, undefined);
    did = `delete ${JSON.stringify(p)}`;
  } else {
    let odd = oddToml(r);
    if (odd instanceof Raw) {
      raws.push(odd.text);
      odd = `__RAW_${raws.length - 1}__`;
    }
    // TOML's root is a table: a scalar there becomes one key.
    value = withAt(doc, p, p.length === 0 && !isTable(odd) ? { odd } : odd);
    did = `set ${JSON.stringify(p)}`;
  }
  let text = toml.stringify(value as Record<string, unknown>);
  raws.forEach((raw, i) => (text = text.replace(`"__RAW_${i}__"`, raw)));
  if (r.chance(0.25)) text = text.replace(/\n/g, '\r\n');
  if (r.chance(0.1)) text = `\uFEFF${text}`;
  return { text, did, path: p, ...(rename !== undefined ? { rename } : {}) };
}

function all(scan: ConfigScan): Finding[] {
  return [...scan.findings, ...scan.servers.flatMap((s) => s.findings)];
}

/** Lines from a server's `[mcp_servers.<name>]` header up to the next top-level server or section. */
function entrySpan(text: string, name: string): [number, number] | undefined {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const start = lines.indexOf(`[mcp_servers.${name}]`);
  if (start < 0) return undefined;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('[') && !l.startsWith(`[mcp_servers.${name}.`)) {
      end = i;
      break;
    }
  }
  return [start + 1, end];
}

describe('hardening: generated Codex config.toml', function () {
  this.timeout(120_000);

  it(`${count(1000)} malformed config.toml variants never throw, each bad one is a finding at its file and line, untouched servers stay listed`, async () => {
    const toml: Toml = await import('smol-toml');
    const s = await sandbox('codex-config');
    const file = path.join(s.home, '.codex', 'config.toml');
    await fs.mkdir(path.dirname(file), { recursive: true });
    const r = rng('codex-config');
    const stats = { inputs: 0, invalid: 0, structural: 0, duplicates: 0, lineChecks: 0 };
    const started = Date.now();
    try {
      for (let i = 0; i < count(1000); i++) {
        const secret = `hx-${randomBytes(12).toString('hex')}`;
        const seed = seedText(secret, s.project);
        const g = generate(r, toml, seed);
        // Byte mutations are carried as latin1 so every byte survives; the rest is UTF-8 text.
        const bytes = g.path === undefined && g.duplicateAt === undefined ? Buffer.from(g.text, 'latin1') : Buffer.from(g.text, 'utf8');
        await fs.writeFile(file, bytes);
        stats.inputs++;
        const label = `config.toml #${i} (${g.did})`;
        let scan: ConfigScan;
        try {
          scan = await scanCodex(s.e);
        } catch (err) {
          const kept = await keepFailure(`codex-config-${i}`, bytes);
          assert.fail(`${label}: scanCodex threw ${String(err).slice(0, 200)}; input kept at ${kept}`);
        }
        const text = bytes.toString('utf8');
        const findings = all(scan);
        const here = inFile(findings, file);
        assertWellFormed(findings, file, text, label);

        let doc: Record<string, unknown> | undefined;
        try {
          doc = toml.parse(text, { integersAsBigInt: true }) as Record<string, unknown>;
        } catch {
          doc = undefined;
        }
        if (!doc) {
          stats.invalid++;
          const f = here.find((x) => x.code === 'config.invalid-toml');
          assert.ok(f, `${label}: not TOML but no config.invalid-toml for ${file}; got ${describeFindings(here)}`);
          if (g.duplicateAt !== undefined) {
            stats.duplicates++;
            assert.equal(f.location!.line, g.duplicateAt, `${label}: the finding does not point at the duplicate`);
          }
          continue;
        }
        if (!g.path) continue;
        stats.structural++;
        const p = g.path;
        for (const f of findings) assert.ok(!`${f.title} ${f.detail}`.includes(secret), `${label}: ${f.code} quotes a header or env value`);
        if (p.length === 1 && p[0] === 'mcp_servers' && g.rename === undefined && doc.mcp_servers !== undefined && !isTable(doc.mcp_servers)) {
          assert.ok(here.some((f) => f.code === 'config.invalid-entry'), `${label}: mcp_servers is not a table but nothing says so; got ${describeFindings(here)}`);
        }
        for (const name of SERVERS) {
          const entry = ['mcp_servers', name];
          const touched = startsWith(p, entry) || startsWith(entry, p);
          if (!touched) {
            const listed = scan.servers.some((x) => x.name === name && x.scope === 'user' && x.source.file === file);
            assert.ok(listed, `${label}: untouched server ${name} is missing; listed ${JSON.stringify(scan.servers.map((x) => x.name))}; findings ${describeFindings(here)}`);
            continue;
          }
          if (g.rename !== undefined) {
            if (p.length === 2) {
              const renamed = scan.servers.filter((x) => x.name === g.rename && x.source.file === file);
              assert.equal(renamed.length, 1, `${label}: the server renamed from ${name} is listed ${renamed.length} times`);
            }
            continue;
          }
          if (!startsWith(p, entry) || p.length > 3) continue;
          const now = getAt(doc, entry);
          let refused: boolean;
          if (p.length === 2) refused = now !== undefined && !isTable(now);
          else {
            const field = String(p[2]);
            const v = (now as Record<string, unknown>)[field];
            refused = v === undefined ? field === 'url' || field === 'command' : FIELD_OK[field] !== undefined && !FIELD_OK[field](v);
          }
          if (!refused) continue;
          const about = here.filter((f) => f.title.includes(`"${name}"`));
          assert.ok(about.length > 0, `${label}: Codex would refuse ${name} but no finding names it; got ${describeFindings(here)}`);
          const span = entrySpan(text, name);
          if (span) {
            stats.lineChecks++;
            assert.ok(about.some((f) => f.location!.line >= span[0] && f.location!.line <= span[1]), `${label}: the finding for ${name} is outside its entry (lines ${span[0]}-${span[1]}): ${describeFindings(about)}`);
          }
        }
      }
    } finally {
      await s.remove();
    }
    console.log(
      `      config.toml: ${stats.inputs} inputs (${stats.invalid} not TOML of which ${stats.duplicates} duplicate tables/keys, ${stats.structural} structural, ${stats.lineChecks} entry lines checked) in ${Date.now() - started} ms`,
    );
    assert.ok(stats.invalid > count(1000) / 10 && stats.structural > count(1000) / 10 && stats.duplicates > 0, 'the generator produced every kind of input');
  });
});
