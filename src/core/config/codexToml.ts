// One Codex config.toml read from disk: its parsed table, the positions of its keys, and the
// finding when it cannot be read or parsed. Integers come back as bigint so an integer and a float
// stay apart, as they do for Codex's serde types (`callback_port = 5555.0` is rejected there).
import type { Finding, Severity, SourceLocation } from '../model';
import { tomlKeyPositions, type TomlKeyPositions } from './codexTomlPositions';
import { readConfigText } from './sourceText';

export type TomlTable = Record<string, unknown>;

export type CodexTomlFile =
  | { kind: 'missing'; file: string }
  | { kind: 'broken'; file: string; finding: Finding }
  | { kind: 'ok'; file: string; doc: TomlTable; positions: TomlKeyPositions };

export interface BrokenFileWording {
  severity: Severity;
  /** What Codex does with this file when it is broken, e.g. "Codex refuses to start …". */
  consequence: string;
}

export async function readCodexToml(file: string, wording: BrokenFileWording): Promise<CodexTomlFile> {
  const read = await readConfigText(file);
  if (read.kind === 'missing') return { kind: 'missing', file };
  if (read.kind === 'unreadable') {
    return {
      kind: 'broken',
      file,
      finding: {
        code: 'config.unreadable',
        severity: wording.severity,
        title: 'Codex config cannot be read',
        detail: `${file} exists but cannot be read (${read.reason}). ${wording.consequence}`,
        location: { file, line: 1, column: 1 },
      },
    };
  }
  // smol-toml ships types for its ESM entry only; a dynamic import satisfies Node16 resolution.
  const { parse } = await import('smol-toml');
  try {
    const doc = parse(read.text, { integersAsBigInt: true }) as TomlTable;
    return { kind: 'ok', file, doc, positions: tomlKeyPositions(read.text) };
  } catch (err) {
    const e = err as { line?: unknown; column?: unknown; message?: unknown };
    const line = typeof e.line === 'number' ? e.line : 1;
    const column = typeof e.column === 'number' ? e.column : 1;
    // smol-toml's message is "Invalid TOML document: <reason>" plus a code excerpt, which may
    // show a secret value: keep the reason only.
    const reason = String(e.message ?? err)
      .split('\n')[0]!
      .replace(/^Invalid TOML document: /, '');
    return {
      kind: 'broken',
      file,
      finding: {
        code: 'config.invalid-toml',
        severity: wording.severity,
        title: 'Codex config is not valid TOML',
        detail: `${file}:${line}:${column}: ${reason}. ${wording.consequence}`,
        location: { file, line, column },
      },
    };
  }
}

/** Where `path` is written in this file, else its nearest written parent, else the file's start. */
export function locate(f: { file: string; positions: TomlKeyPositions }, path: readonly string[]): SourceLocation {
  const at = f.positions.nearest(path);
  return { file: f.file, line: at?.line ?? 1, column: at?.column ?? 1 };
}

export function isTable(v: unknown): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** A word for a TOML value's type, for messages; never the value (it may be a secret). */
export function describeToml(v: unknown): string {
  if (typeof v === 'bigint') return 'an integer';
  if (typeof v === 'number') return 'a float';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  if (v instanceof Date) return 'a date';
  if (Array.isArray(v)) return 'an array';
  return 'a table';
}
