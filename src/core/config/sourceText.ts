// Reading config files and turning offsets into the line/column a user sees in Problems.
import { AsyncLocalStorage } from 'node:async_hooks';
import { promises as fs } from 'node:fs';

export type TextRead =
  | { kind: 'ok'; text: string }
  | { kind: 'missing' }
  | { kind: 'unreadable'; reason: string };

/**
 * Unsaved editor text by absolute path. Set only around one scan (withUnsavedText), so every
 * reader sees what the user is typing without each one taking a text parameter.
 */
const unsaved = new AsyncLocalStorage<ReadonlyMap<string, string>>();

/** Runs `scan` with `texts` read instead of the files at those paths (the editor's unsaved buffers). */
export function withUnsavedText<T>(texts: ReadonlyMap<string, string>, scan: () => Promise<T>): Promise<T> {
  return unsaved.run(texts, scan);
}

/** Reads a config file; a missing file is normal (the client simply has no such scope). */
export async function readConfigText(file: string): Promise<TextRead> {
  const text = unsaved.getStore()?.get(file);
  if (text !== undefined) return { kind: 'ok', text };
  try {
    return { kind: 'ok', text: await fs.readFile(file, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'unreadable', reason: code ?? String(err) };
  }
}

/** 1-based line and column of a 0-based character offset. */
export function positionAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
