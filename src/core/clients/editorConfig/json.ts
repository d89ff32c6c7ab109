// Reading one editor/app MCP config file with positions, in the dialect the app itself parses:
// 'jsonc' (comments and trailing commas allowed, as VS Code's McpResourceScannerService reads
// mcp.json: jsonc `parse` with allowTrailingComma and allowEmptyContent, microsoft/vscode
// src/vs/platform/mcp/common/mcpResourceScannerService.ts) or 'json' (JSON.parse, as Claude
// Desktop's file is read by VS Code's own discovery adapter, nativeMcpDiscoveryAdapters.ts
// `claudeConfigToServerDefinition`). Any parse error makes the whole file unusable to the app, so
// it is one finding at the first error and no servers. jsonc-parser only supplies positions.
import { getNodeValue, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { JsonDoc } from '../../config/claudeCodeJson';
import { CONFIG_FINDING } from '../../config/claudeCodeFindings';
import { firstErrorOffset, parseTreeBounded } from '../../config/jsonTree';
import { positionAt, readConfigText } from '../../config/sourceText';
import type { Finding, SourceLocation } from '../../model';

export type { JsonDoc };

export type Dialect = 'json' | 'jsonc';

export type EditorJsonRead = { kind: 'missing' } | { kind: 'ok'; doc: JsonDoc } | { kind: 'bad'; finding: Finding };

export interface EditorJsonOptions {
  /** What the file is, for the user: "VS Code user MCP config (mcp.json)". */
  label: string;
  /** The app, in sentences: "VS Code". */
  app: string;
  dialect: Dialect;
  /** VS Code reads an empty mcp.json as no servers (allowEmptyContent); JSON.parse refuses one. */
  allowEmpty?: boolean;
}

export async function readEditorJson(file: string, opts: EditorJsonOptions): Promise<EditorJsonRead> {
  const read = await readConfigText(file);
  if (read.kind === 'missing') return { kind: 'missing' };
  const bad = (code: string, title: string, detail: string, location: SourceLocation = { file, line: 1, column: 1 }): EditorJsonRead => ({
    kind: 'bad',
    finding: { code, severity: 'error', title, detail: `${detail} ${opts.app} loads no servers from this file until it is fixed.`, location },
  });
  if (read.kind === 'unreadable') return bad(CONFIG_FINDING.unreadable, `${opts.label} cannot be read`, `Reading ${file} failed (${read.reason}).`);
  const text = read.text.startsWith('\uFEFF') ? read.text.slice(1) : read.text;
  if (text.trim() === '') {
    if (opts.allowEmpty) return { kind: 'missing' };
    return bad(CONFIG_FINDING.invalidJson, `${opts.label} is empty`, `${file} holds no JSON.`);
  }
  const strict = opts.dialect === 'json';
  const parseOptions = { disallowComments: strict, allowTrailingComma: !strict, allowEmptyContent: false };
  let failed = false;
  if (strict) {
    try {
      JSON.parse(text);
    } catch {
      failed = true;
    }
  } else {
    const errors: ParseError[] = [];
    parseTreeBounded(text, errors, parseOptions);
    failed = errors.length > 0;
  }
  if (failed) {
    const first = firstErrorOffset(text, parseOptions);
    const why = first.error ? printParseErrorCode(first.error.error) : first.offset > 0 ? 'invalid JSON inside deeply nested brackets' : 'not JSON';
    const location = { file, ...positionAt(text, first.offset) };
    const dialectNote = strict
      ? `${opts.app} reads this file as plain JSON: comments and trailing commas are errors too.`
      : `${opts.app} reads this file as JSON with comments (trailing commas allowed).`;
    return bad(CONFIG_FINDING.invalidJson, `${opts.label} is not valid JSON`, `${file}:${location.line}:${location.column}: ${why}. ${dialectNote}`, location);
  }
  const { root } = parseTreeBounded(text, [], parseOptions);
  if (!root) return bad(CONFIG_FINDING.invalidJson, `${opts.label} is not valid JSON`, `${file} could not be parsed.`);
  return { kind: 'ok', doc: { file, text, value: valueOf(root), root } };
}

/**
 * A node's value. Taken from the tree, not JSON.parse of its text, because a JSONC file's slice
 * can hold comments; containers below the tree's depth limit read as empty, which no field we
 * look at ever is (they are a few levels down from the top).
 */
export function valueOf(node: Node): unknown {
  return getNodeValue(node) as unknown;
}
