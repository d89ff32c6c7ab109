// Reading a JSON credential store and saying exactly what is wrong with it. Shared by the
// per-client stores: a malformed store gets a finding naming the file and line, and is never
// "repaired" by overwriting it (Claude Code reads an unparsable store as empty and then writes a
// blob holding only the new entry: anthropics/claude-code#28542, #45551).
import { promises as fs } from 'node:fs';
import { findNodeAtLocation, printParseErrorCode, type JSONPath } from 'jsonc-parser';
import type { Finding, SourceLocation } from '../model';
import { positionAt } from '../config/sourceText';

/** Finding codes of credential stores (docs/findings.md). */
export const STORE_FINDING = {
  unreadable: 'credentials.unreadable',
  danglingSymlink: 'credentials.dangling-symlink',
  empty: 'credentials.empty',
  invalidJson: 'credentials.invalid-json',
  wrongType: 'credentials.wrong-type',
  keychainUnavailable: 'credentials.keychain-unavailable',
  keychainNearLimit: 'credentials.keychain-near-limit',
  splitStore: 'credentials.split-store',
  storeGone: 'credentials.store-gone',
  accountLoginLost: 'credentials.account-login-lost',
  entriesLost: 'credentials.entries-lost',
  noToken: 'credentials.no-token',
  duplicateServer: 'credentials.duplicate-server',
  staleNeedsAuth: 'credentials.stale-needs-auth-cache',
} as const;

/**
 * A token file others may read (`credentials.file-permissions`), or none; `what` names it for
 * people ("opencode's MCP login file") and `creator` is the client that creates it 0600.
 */
export async function filePermissionFindings(file: string, platform: NodeJS.Platform, what: string, creator: string): Promise<Finding[]> {
  if (platform === 'win32') return [];
  const mode = await fs.stat(file).then(
    (st) => st.mode & 0o777,
    () => undefined,
  );
  if (mode === undefined || (mode & 0o077) === 0) return [];
  return [
    {
      code: 'credentials.file-permissions',
      severity: 'warning',
      title: `${what} is readable by other users`,
      detail: `${file} has mode ${mode.toString(8).padStart(4, '0')}; it holds live tokens, and ${creator} creates it 0600. Run: chmod 600 '${file}'`,
      location: { file, line: 1, column: 1 },
    },
  ];
}

/** Thrown by writes to a store we could not parse: replacing it would lose what it holds. */
export class MalformedStoreError extends Error {
  constructor(readonly finding: Finding) {
    super(`${finding.title}: ${finding.detail} Nothing was written.`);
    this.name = 'MalformedStoreError';
  }
}

export type StoreText =
  | { state: 'absent' }
  | { state: 'present'; text: string }
  | { state: 'unreadable'; finding: Finding };

/** Reads a store file; a missing file is normal, everything else odd becomes a finding. */
export async function readStoreText(file: string, storeLabel: string): Promise<StoreText> {
  let stat;
  try {
    stat = await fs.lstat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'absent' };
    return unreadable(file, storeLabel, code ?? String(err));
  }
  if (stat.isSymbolicLink()) {
    try {
      await fs.stat(file);
    } catch {
      const target = await fs.readlink(file).catch(() => '?');
      return {
        state: 'unreadable',
        finding: {
          code: STORE_FINDING.danglingSymlink,
          severity: 'error',
          title: `${storeLabel} is a symbolic link to a missing file`,
          detail: `${file} points to ${target}, which does not exist, so the client sees no credentials. Restore the target file or the link; nothing will be written until then.`,
          location: { file, line: 1, column: 1 },
        },
      };
    }
  }
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    return unreadable(file, storeLabel, (err as NodeJS.ErrnoException).code ?? String(err));
  }
  return { state: 'present', text };
}

function unreadable(file: string, storeLabel: string, reason: string): StoreText {
  return {
    state: 'unreadable',
    finding: {
      code: STORE_FINDING.unreadable,
      severity: 'error',
      title: `${storeLabel} cannot be read`,
      detail: `Reading ${file} failed (${reason}). Check that it is a regular file you own; nothing will be written until it can be read.`,
      location: { file, line: 1, column: 1 },
    },
  };
}

/** Where a store's text came from, for findings: a file (with line/column) or a label only. */
export interface StoreOrigin {
  /** e.g. `Claude Code's credential store`. */
  label: string;
  /** The file, when the store is one; Keychain items have no line to point at. */
  file?: string;
  /** Said to the user after what is wrong, e.g. how the client behaves with such a store. */
  consequence: string;
}

/** Parses a store that must be one JSON object; any other shape is a finding, never an exception. */
export function parseJsonStore(text: string, origin: StoreOrigin): { ok: true; value: Record<string, unknown> } | { ok: false; finding: Finding } {
  const where = origin.file ?? origin.label;
  if (text.trim() === '') {
    return malformed(origin, STORE_FINDING.empty, `${origin.label} is empty`, `${where} holds no data. ${origin.consequence}`, 0, text);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Bounded: jsonc-parser recurses per nesting level, and a damaged file may nest thousands deep.
    const located = firstErrorOffset(text, { disallowComments: true, allowTrailingComma: false });
    const first = located.error;
    const offset = first?.offset ?? located.offset;
    const why = first ? printParseErrorCode(first.error) : 'InvalidJSON';
    // The first error runs to the end of the text (an unterminated string or object): cut short.
    const truncated = first !== undefined && first.offset + first.length >= text.trimEnd().length;
    return malformed(
      origin,
      STORE_FINDING.invalidJson,
      `${origin.label} is not valid JSON${truncated ? ' (cut off)' : ''}`,
      `${where} could not be parsed (${why}${truncated ? `; it ends after ${Buffer.byteLength(text)} bytes, as if a write was cut short` : ''}). ${origin.consequence}`,
      offset,
      text,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return malformed(
      origin,
      STORE_FINDING.wrongType,
      `${origin.label} is not a JSON object`,
      `${where} holds ${describeJson(value)} where an object is expected. ${origin.consequence}`,
      0,
      text,
    );
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** A finding that makes the whole store unusable (and writes refuse). */
export function malformed(origin: StoreOrigin, code: string, title: string, detail: string, offset: number, text: string): { ok: false; finding: Finding } {
  return { ok: false, finding: { code, severity: 'error', title, detail, ...(origin.file ? { location: locationIn(origin.file, text, offset) } : {}) } };
}

export function locationIn(file: string, text: string, offset: number): SourceLocation {
  return { file, ...positionAt(text, offset) };
}

/** Offset of the value at `path` (e.g. ['mcpOAuth', key]) in JSON text, for line/column. */
export function offsetOfPath(text: string, path: JSONPath): number {
  const root = parseTreeBounded(text).root;
  const node = root ? findNodeAtLocation(root, path) : undefined;
  return node?.parent?.type === 'property' ? node.parent.offset : (node?.offset ?? 0);
}

import { describeJson, isPlainObject } from '../jsonShape';
import { firstErrorOffset, parseTreeBounded } from '../config/jsonTree';

export { describeJson, isPlainObject };
