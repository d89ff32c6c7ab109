// One Gemini CLI settings file, parsed as Gemini 0.61.0 parses it (chunk-2YTYPKEZ.js:16541-16560,
// `load`): readFileSync(utf-8), strip-json-comments, JSON.parse. So `//` and `/* */` comments are
// fine, but a trailing comma or a BOM is an error, and a file that is not a JSON object is too
// (both checked against the real 0.61.0: `gemini mcp list` then stops with "Error in <file>: …
// Please fix the configuration file(s) and try again", FatalConfigError, :16671). jsonc-parser
// supplies positions only.
import { printParseErrorCode, stripComments, type Node } from 'jsonc-parser';
import type { Finding, SourceLocation } from '../../model';
import { CONFIG_FINDING } from '../../config/claudeCodeFindings';
import { firstErrorOffset, parseTreeBounded } from '../../config/jsonTree';
import { positionAt, readConfigText } from '../../config/sourceText';
import { describeJson, isPlainObject } from '../../jsonShape';

export interface SettingsDoc {
  file: string;
  text: string;
  value: Record<string, unknown>;
  root: Node;
}

export type SettingsRead = { kind: 'missing' } | { kind: 'ok'; doc: SettingsDoc } | { kind: 'bad'; finding: Finding };

const PARSE_OPTIONS = { disallowComments: false, allowTrailingComma: false, allowEmptyContent: false };

/** What Gemini does with a broken settings file, said after what is wrong. */
const FATAL = 'Gemini CLI refuses to start until it is fixed ("Please fix the configuration file(s) and try again"), for every command, in every folder.';

export async function readSettingsFile(file: string, label: string): Promise<SettingsRead> {
  const read = await readConfigText(file);
  if (read.kind === 'missing') return { kind: 'missing' };
  const bad = (code: string, title: string, detail: string, location: SourceLocation = { file, line: 1, column: 1 }): SettingsRead => ({
    kind: 'bad',
    finding: { code, severity: 'error', title, detail: `${detail} ${FATAL}`, location },
  });
  if (read.kind === 'unreadable') return bad(CONFIG_FINDING.unreadable, `${label} cannot be read`, `Reading ${file} failed (${read.reason}).`);
  const text = read.text;
  if (text.startsWith('\uFEFF')) {
    return bad(CONFIG_FINDING.invalidJson, `${label} starts with a byte order mark`, `${file} begins with a UTF-8 BOM, which Gemini CLI's JSON.parse rejects ("Unexpected token"). Save it as UTF-8 without BOM.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(stripComments(text, ' '));
  } catch {
    const first = firstErrorOffset(text, PARSE_OPTIONS);
    const why = first.error ? printParseErrorCode(first.error.error) : 'not JSON';
    const location = { file, ...positionAt(text, first.offset) };
    return bad(
      CONFIG_FINDING.invalidJson,
      `${label} is not valid JSON`,
      `${file}:${location.line}:${location.column}: ${why}. Gemini CLI allows comments in this file, but not trailing commas.`,
      location,
    );
  }
  if (!isPlainObject(value)) {
    return bad(CONFIG_FINDING.invalidEntry, `${label} is not a JSON object`, `${file} holds ${describeJson(value)} ("Settings file is not a valid JSON object").`);
  }
  const { root } = parseTreeBounded(text, [], PARSE_OPTIONS);
  if (!root) return bad(CONFIG_FINDING.invalidJson, `${label} is not valid JSON`, `${file} could not be parsed.`);
  return { kind: 'ok', doc: { file, text, value, root } };
}
