// Ways to spoil a valid input: values of the wrong type or of extreme size at any path of a JSON or
// TOML document, odd unicode, deep nesting, different formatting (indent, CRLF, BOM), and byte
// mutations of the serialized text (flip, insert, delete, truncate, duplicate). Every choice comes
// from the caller's seeded Rng, so an input is reproduced by seed and iteration alone.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Rng } from './random';

export type Path = (string | number)[];

/** JSON text emitted as it is: nesting too deep for a recursive serializer, or deliberately odd. */
export class Raw {
  constructor(readonly text: string) {}
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Raw) && !(v instanceof Date);
}

/** Every path in a value, the root ([]) first; containers and leaves alike. */
export function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (isRecord(value)) for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

export function getAt(value: unknown, p: Path): unknown {
  let v = value;
  for (const k of p) v = (v as Record<string | number, unknown>)?.[k];
  return v;
}

/** A copy of `value` with the value at `p` replaced (`undefined` deletes it); the root path replaces all. */
export function withAt(value: unknown, p: Path, replacement: unknown): unknown {
  if (p.length === 0) return replacement;
  const [head, ...rest] = p;
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && replacement === undefined) copy.splice(head as number, 1);
    else copy[head as number] = withAt(copy[head as number], rest, replacement);
    return copy;
  }
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) define(copy, k, v);
  if (rest.length === 0 && replacement === undefined) delete copy[head as string];
  else define(copy, head as string, withAt(copy[head as string], rest, replacement));
  return copy;
}

/** A copy of `value` with the key at `p` (an object member) renamed, in the same place; a clash keeps the renamed one. */
export function renamedAt(value: unknown, p: Path, newKey: string): unknown {
  const parent = p.slice(0, -1);
  const old = p[p.length - 1] as string;
  const holder = getAt(value, parent) as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(holder)) {
    if (k === old) define(copy, newKey, v);
    else if (k !== newKey) define(copy, k, v);
  }
  return withAt(value, parent, copy);
}

/** Key names that trip object lookups, displays and positions. */
export function oddKey(r: Rng): string {
  return r.pick(['', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'a'.repeat(2000), '\u0000', 'x\ny', '😀', '\u202Eevil', ' spaced ', 'a.b', 'a|b', '"quoted"', '[x]', '${HOME}']);
}

/** Own property even for "__proto__", as JSON.parse makes it. */
function define(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Strings a parser, a placeholder expander or a display might choke on. */
export function oddString(r: Rng): string {
  switch (r.int(16)) {
    case 0:
      return '';
    case 1:
      return 'x'.repeat(r.range(10_000, 200_000));
    case 2:
      return '\u202Eevil\u202C\u200B\uFEFF';
    case 3:
      return '\uD800 lone \uDFFF surrogates';
    case 4:
      return '😀'.repeat(r.range(1, 5000));
    case 5:
      return 'e\u0301'.repeat(r.range(1, 3000)) + '\u0000';
    case 6:
      return '${' + 'A'.repeat(r.range(1, 50_000));
    case 7:
      return '${A:-'.repeat(r.range(1, 2000)) + '}'.repeat(r.range(0, 2000));
    case 8:
      return '$'.repeat(r.range(1, 50_000)) + '{}';
    case 9:
      return 'line\r\nbreak\nand\rmore\t';
    case 10:
      return 'http://[::1';
    case 11:
      return `https://${'a'.repeat(r.range(1, 70_000))}.example/mcp`;
    case 12:
      return 'javascript:alert(1)';
    case 13:
      return r.chance(0.5) ? '%00%zz%' : '${' + 'V'.repeat(r.range(100, 50_000)) + '}';
    case 14:
      return String.fromCharCode(...Array.from({ length: 64 }, () => r.int(0x10000)));
    default:
      return '\\"\'`';
  }
}

/** Nesting of arrays or objects `depth` deep, as text (a JS value that deep breaks recursive code in the test itself). */
export function deepText(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

export interface OddValueOptions {
  /** Deepest nesting to generate (JSON readers: far past any recursive parser's stack). */
  maxDepth: number;
  /** TOML has no null. */
  allowNull: boolean;
}

/** A value of a random type and size: numbers at the edges, odd strings, containers, deep nesting. */
export function oddValue(r: Rng, o: OddValueOptions): unknown {
  switch (r.int(14)) {
    case 0:
      return r.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 2, 65536, 0.1]);
    case 1:
    case 2:
      return oddString(r);
    case 3:
      return r.chance(0.5);
    case 4:
      return o.allowNull ? null : 'null';
    case 5:
      return [];
    case 6:
      return [1, 'a', true, [], {}];
    case 7:
      return Array.from({ length: r.range(1000, 10_000) }, (_, i) => i);
    case 8:
      return {};
    case 9:
      return JSON.parse('{"__proto__": {"polluted": true}, "constructor": "x", "toString": 1, "hasOwnProperty": []}') as unknown;
    case 10:
      return Object.fromEntries(Array.from({ length: r.range(100, 2000) }, (_, i) => [`k${i}`, i]));
    case 11:
      return new Raw(deepText(r.range(2, o.maxDepth), r.pick(['array', 'object'] as const)));
    case 12:
      return r.pick(['http', 'sse', 'stdio', 'ws', 'streamable-http', 'HTTP', ' http']);
    default:
      return { type: r.pick(['http', 'sse', 1]), url: r.pick(['http://127.0.0.1:1/x', 5, '']) };
  }
}

export interface JsonStyle {
  indent: string;
  eol: '\n' | '\r\n';
  bom: boolean;
}

export function jsonStyle(r: Rng): JsonStyle {
  return { indent: r.pick(['', '  ', '\t', '    ']), eol: r.chance(0.3) ? '\r\n' : '\n', bom: r.chance(0.15) };
}

/** JSON text in the given style; Raw fragments are emitted verbatim. */
export function toJson(value: unknown, style: JsonStyle): string {
  const { indent, eol } = style;
  const nl = indent ? eol : '';
  const sep = indent ? ': ' : ':';
  const emit = (v: unknown, pad: string): string => {
    if (v instanceof Raw) return v.text;
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      const inner = pad + indent;
      return `[${nl}${v.map((x) => inner + emit(x, inner)).join(`,${nl}`)}${nl}${pad}]`;
    }
    if (isRecord(v)) {
      const entries = Object.entries(v);
      if (entries.length === 0) return '{}';
      const inner = pad + indent;
      return `{${nl}${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}${sep}${emit(x, inner)}`).join(`,${nl}`)}${nl}${pad}}`;
    }
    return JSON.stringify(v) ?? 'null';
  };
  return (style.bom ? '\uFEFF' : '') + emit(value, '') + (indent ? eol : '');
}

const INTERESTING = ['{', '}', '[', ']', '"', ',', ':', '\\', '//', '/*', '\u0000', '\r', '\n', '=', '#', "'''", '"""', '\t', '\uFEFF', 'nul', '1e999', '-'];
const BROKEN_UTF8 = [Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xe2, 0x82]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xef, 0xbb, 0xbf])];

export type ByteMutation = 'flip' | 'insert' | 'delete' | 'truncate' | 'duplicate' | 'random';

/** 1–4 byte-level mutations of `input`; returns the bytes and what was done (for a failure message). */
export function mutateBytes(r: Rng, input: Buffer): { bytes: Buffer; did: string[] } {
  let b = Buffer.from(input);
  const did: string[] = [];
  const times = r.range(1, 4);
  for (let t = 0; t < times; t++) {
    const at = b.length === 0 ? 0 : r.int(b.length);
    const kind = r.pick<ByteMutation>(['flip', 'insert', 'insert', 'delete', 'truncate', 'duplicate', 'random']);
    switch (kind) {
      case 'flip':
        if (b.length > 0) b[at] = b[at]! ^ (1 << r.int(8));
        break;
      case 'insert': {
        const piece = r.chance(0.25) ? r.pick(BROKEN_UTF8) : Buffer.from(r.pick(INTERESTING));
        b = Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
        break;
      }
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + r.range(1, 16)))]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'duplicate': {
        const end = Math.min(b.length, at + r.range(1, 200));
        b = Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)]);
        break;
      }
      case 'random':
        b = Buffer.concat([b.subarray(0, at), r.bytes(r.range(1, 8)), b.subarray(at)]);
        break;
    }
    did.push(`${kind}@${at}`);
  }
  return { bytes: b, did };
}

/** Keeps a failing input on disk so it can be opened and replayed; returns its path. */
export async function keepFailure(label: string, bytes: Buffer | string): Promise<string> {
  const dir = path.join(os.tmpdir(), 'mcp-auth-doctor-hardening-failures');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${label.replace(/[^A-Za-z0-9.-]+/g, '_')}.bin`);
  await fs.writeFile(file, bytes);
  return file;
}

/** Lines in a text as editors count them (LF, CRLF; a lone CR does not end a line for our positions). */
export function lineCount(text: string): number {
  let n = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}
