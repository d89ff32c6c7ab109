// jsonc-parser's tree, safe on any input. Its parser recurses once per nesting level, so a file
// nested a few thousand levels deep (valid JSON: V8's JSON.parse is not recursive, and Claude Code
// reads such a file fine) overflowed the stack and the RangeError escaped the whole scan. Positions
// are only ever needed near the top (mcpServers → entry → field), so containers below
// TREE_DEPTH_LIMIT are blanked to empty ones of the same span before parsing: every offset and
// length above them stays exact, and values are still read from the original text.
import { parseTree, type Node, type ParseError, type ParseOptions } from 'jsonc-parser';

export const TREE_DEPTH_LIMIT = 64;

/** A container below the depth limit, left out of the tree. */
export interface DeepRegion {
  offset: number;
  length: number;
}

export interface BoundedTree {
  root: Node | undefined;
  /** Containers blanked in the tree: a parse error inside one is not in `errors`. */
  deep: DeepRegion[];
}

export function parseTreeBounded(text: string, errors: ParseError[] = [], options?: ParseOptions): BoundedTree {
  const { shallow, deep } = blankDeepContainers(text, TREE_DEPTH_LIMIT);
  try {
    return { root: parseTree(shallow, errors, options), deep };
  } catch (err) {
    // Only if the blanking scan misread the text: no tree rather than an exception.
    if (!(err instanceof RangeError)) throw err;
    return { root: undefined, deep: [{ offset: 0, length: text.length }] };
  }
}

/**
 * Offset of the first thing JSON.parse rejects: jsonc-parser's first error, or, when that lies in
 * a blanked container, the start of the first such container that does not parse on its own.
 */
export function firstErrorOffset(text: string, options?: ParseOptions): { offset: number; error?: ParseError } {
  const errors: ParseError[] = [];
  const { deep } = parseTreeBounded(text, errors, options);
  const first = errors[0];
  const inDeep = deep.find((r) => !parses(text.slice(r.offset, r.offset + r.length)));
  if (inDeep && (!first || inDeep.offset < first.offset)) return { offset: inDeep.offset };
  return first ? { offset: first.offset, error: first } : { offset: 0 };
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The text with every container that opens below `limit` replaced by spaces between its brackets
 * (line breaks kept). Strings and comments are skipped so a bracket in them never counts; an
 * unclosed container is blanked to the end.
 */
export function blankDeepContainers(text: string, limit: number): { shallow: string; deep: DeepRegion[] } {
  const deep: DeepRegion[] = [];
  let depth = 0;
  let i = 0;
  const n = text.length;
  /** Index just past a string, comment or other single token starting at `i`, or undefined. */
  const skipOpaque = (k: number): number | undefined => {
    const c = text.charCodeAt(k);
    if (c === 34 /* " */) {
      k++;
      while (k < n) {
        const d = text.charCodeAt(k);
        if (d === 92 /* \ */) k += 2;
        else if (d === 34 || d === 10) return k + 1; // a line break ends a broken string, as jsonc-parser's scanner does
        else k++;
      }
      return n;
    }
    if (c === 47 /* / */ && text.charCodeAt(k + 1) === 47) {
      const end = text.indexOf('\n', k);
      return end < 0 ? n : end;
    }
    if (c === 47 && text.charCodeAt(k + 1) === 42 /* * */) {
      const end = text.indexOf('*/', k + 2);
      return end < 0 ? n : end + 2;
    }
    return undefined;
  };
  while (i < n) {
    const past = skipOpaque(i);
    if (past !== undefined) {
      i = past;
      continue;
    }
    const c = text.charCodeAt(i);
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (depth < limit) {
        depth++;
        i++;
        continue;
      }
      // Too deep: find where this container ends and leave it out.
      const start = i;
      let inner = 0;
      let k = i;
      while (k < n) {
        const skipped = skipOpaque(k);
        if (skipped !== undefined) {
          k = skipped;
          continue;
        }
        const d = text.charCodeAt(k);
        if (d === 123 || d === 91) inner++;
        else if (d === 125 || d === 93) inner--;
        k++;
        if (inner === 0) break;
      }
      deep.push({ offset: start, length: k - start });
      i = k;
      continue;
    }
    if (c === 125 /* } */ || c === 93 /* ] */) depth = Math.max(0, depth - 1);
    i++;
  }
  if (deep.length === 0) return { shallow: text, deep };
  let shallow = '';
  let from = 0;
  for (const r of deep) {
    const end = r.offset + r.length;
    const closed = end <= n && r.length >= 2 && (text[end - 1] === '}' || text[end - 1] === ']');
    const innerEnd = closed ? end - 1 : end;
    shallow += text.slice(from, r.offset + 1) + text.slice(r.offset + 1, innerEnd).replace(/[^\r\n]/g, ' ') + (closed ? text[end - 1] : '');
    from = end;
  }
  return { shallow: shallow + text.slice(from), deep };
}
