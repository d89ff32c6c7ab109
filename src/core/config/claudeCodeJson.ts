// Claude Code's JSON files as Claude Code reads them: JSON.parse after dropping a BOM (2.1.197
// safeParseJSON / getGlobalConfig), so comments and trailing commas make the whole file unusable.
// jsonc-parser only supplies positions: of a parse error, and of each key for "Open config".
import { findNodeAtLocation, printParseErrorCode, type JSONPath, type Node } from 'jsonc-parser';
import type { Finding, Severity, SourceLocation } from '../model';
import { positionAt, readConfigText } from './sourceText';
import { CONFIG_FINDING } from './claudeCodeFindings';
import { firstErrorOffset, parseTreeBounded } from './jsonTree';

export interface JsonDoc {
  file: string;
  /** The text without a leading BOM: offsets and columns match what an editor shows. */
  text: string;
  value: unknown;
  root: Node;
}

export type JsonRead = { kind: 'missing' } | { kind: 'ok'; doc: JsonDoc } | { kind: 'bad'; finding: Finding };

export interface ReadOptions {
  /** What the file is, for the user: "Claude Code user config (~/.claude.json)". */
  label: string;
  /** What Claude Code does when the file is unusable, said after what is wrong. */
  consequence: string;
  severity?: Severity;
  /** Claude Code skips .mcp.json and managed-mcp.json files larger than this (2 MiB in 2.1.197). */
  maxBytes?: number;
}

export async function readJsonFile(file: string, opts: ReadOptions): Promise<JsonRead> {
  const read = await readConfigText(file);
  if (read.kind === 'missing') return { kind: 'missing' };
  const severity = opts.severity ?? 'error';
  const bad = (code: string, title: string, detail: string, location: SourceLocation = { file, line: 1, column: 1 }): JsonRead => ({
    kind: 'bad',
    finding: { code, severity, title, detail: `${detail} ${opts.consequence}`, location },
  });
  if (read.kind === 'unreadable') {
    return bad(CONFIG_FINDING.unreadable, `${opts.label} cannot be read`, `Reading ${file} failed (${read.reason}).`);
  }
  const text = read.text.startsWith('\uFEFF') ? read.text.slice(1) : read.text;
  if (opts.maxBytes !== undefined && Buffer.byteLength(text, 'utf8') > opts.maxBytes) {
    return bad(CONFIG_FINDING.tooLarge, `${opts.label} is too large`, `${file} is over ${opts.maxBytes} bytes, the most Claude Code reads.`);
  }
  if (text.trim() === '') return bad(CONFIG_FINDING.invalidJson, `${opts.label} is empty`, `${file} holds no JSON.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const first = firstErrorOffset(text, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const why = first.error ? printParseErrorCode(first.error.error) : first.offset > 0 ? 'invalid JSON inside deeply nested brackets' : 'not JSON';
    const location = { file, ...positionAt(text, first.offset) };
    return bad(
      CONFIG_FINDING.invalidJson,
      `${opts.label} is not valid JSON`,
      `${file}:${location.line}:${location.column}: ${why}. Claude Code parses this file with JSON.parse: comments and trailing commas are errors too.`,
      location,
    );
  }
  const { root } = parseTreeBounded(text, [], { disallowComments: true, allowTrailingComma: false });
  if (!root) return bad(CONFIG_FINDING.invalidJson, `${opts.label} is not valid JSON`, `${file} could not be parsed.`);
  return { kind: 'ok', doc: { file, text, value, root } };
}

export function locate(doc: JsonDoc, node: Node | undefined): SourceLocation {
  // A property's position is its key: that is the line a user looks for.
  const at = node?.parent?.type === 'property' && node.parent.children?.[1] === node ? node.parent : node;
  return { file: doc.file, ...positionAt(doc.text, at?.offset ?? 0) };
}

/** The node at `path` below `from`, or the deepest one that exists on the way there. */
export function nodeAt(from: Node, path: JSONPath): Node {
  for (let n = path.length; n > 0; n--) {
    const found = findNodeAtLocation(from, path.slice(0, n));
    if (found) return found;
  }
  return from;
}

export interface Member {
  name: string;
  /** The key's node: where a user looks for the entry. */
  key: Node;
  value: Node;
}

/** An object node's members in JSON.parse's order: a repeated key keeps its first place and last value. */
export function members(obj: Node): Member[] {
  const byName = new Map<string, Member>();
  for (const prop of obj.children ?? []) {
    const [key, value] = prop.children ?? [];
    if (!key || !value || typeof key.value !== 'string') continue;
    byName.set(key.value, { name: key.value, key, value });
  }
  return [...byName.values()];
}

import { describeJson, isPlainObject } from '../jsonShape';

export { describeJson, isPlainObject };
