// docs/findings.md is the user's catalogue of finding codes: every code the core can emit has a
// `### \`code\`` entry there, and every entry there is still emitted. Codes are found as string
// literals in src/core, wherever they sit (a `code:` value, a constants object such as
// STORE_FINDING, a union type), so a new code cannot slip past by being reached through a constant.
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { describeRevisions, PROBE_CATALOGUE, type FindingSpec } from '../../src/core/probe/catalogue';

const ROOT = path.resolve(__dirname, '..', '..');
const CORE = path.join(ROOT, 'src', 'core');
const DOC = path.join(ROOT, 'docs', 'findings.md');

/** `<family>.<kebab-name>`; the families the core uses or is about to (probe, token). */
const CODE = /^(config|credentials|probe|token)\.[a-z0-9]+(-[a-z0-9]+)*$/;

/** Where each family's entries live in the doc. */
const SECTIONS: Record<string, string> = {
  config: 'Config files',
  credentials: 'Credential stores',
  probe: 'Probe findings',
  token: 'Token findings',
};

/** Calls whose string arguments are path pieces (`path.join(home, 'config.toml')`), not codes. */
const PATH_CALL = /^path\.(join|resolve|basename|dirname|relative)$/;

interface Literal {
  text: string;
  file: string;
  line: number;
  /** A template literal with `${…}` whose fixed head looks like a code. */
  dynamic?: boolean;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return tsFiles(p);
    return d.isFile() && p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Code-shaped string literals of one source text (comments are not literals, so they never count). */
function codeLiterals(text: string, file: string): Literal[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: Literal[] = [];
  const lineOf = (n: ts.Node) => source.getLineAndCharacterOfPosition(n.getStart(source)).line + 1;
  const isPathPiece = (n: ts.Node) =>
    ts.isCallExpression(n.parent) && n.parent.arguments.includes(n as ts.Expression) && PATH_CALL.test(n.parent.expression.getText(source));
  const visit = (n: ts.Node): void => {
    if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && CODE.test(n.text) && !isPathPiece(n)) {
      out.push({ text: n.text, file, line: lineOf(n) });
    } else if (ts.isTemplateExpression(n) && /^(config|credentials|probe|token)\.[a-z0-9-]*$/.test(n.head.text)) {
      out.push({ text: n.getText(source), file, line: lineOf(n), dynamic: true });
    }
    ts.forEachChild(n, visit);
  };
  visit(source);
  return out;
}

function sourceCodes(): { codes: Map<string, Literal>; dynamic: Literal[] } {
  const codes = new Map<string, Literal>();
  const dynamic: Literal[] = [];
  for (const file of tsFiles(CORE)) {
    for (const lit of codeLiterals(readFileSync(file, 'utf8'), path.relative(ROOT, file))) {
      if (lit.dynamic) dynamic.push(lit);
      else if (!codes.has(lit.text)) codes.set(lit.text, lit);
    }
  }
  return { codes, dynamic };
}

interface DocEntry {
  code: string;
  section: string | undefined;
  body: string;
}

/** Each `### \`code\`` heading with the `## ` section it sits in and its text up to the next heading. */
function docEntries(markdown: string): DocEntry[] {
  const entries: DocEntry[] = [];
  let section: string | undefined;
  let current: DocEntry | undefined;
  for (const line of markdown.split(/\r?\n/)) {
    const h2 = /^## (.+)$/.exec(line);
    const h3 = /^### (.+)$/.exec(line);
    if (h2) {
      section = h2[1]!.trim();
      current = undefined;
    } else if (h3) {
      const code = /^`([^`]+)`$/.exec(h3[1]!.trim())?.[1];
      assert.ok(code, `docs/findings.md: a ### heading must be exactly one code in backticks, got "${line}"`);
      current = { code, section, body: '' };
      entries.push(current);
    } else if (current) {
      current.body += line + '\n';
    }
  }
  return entries;
}

describe('docs/findings.md, the catalogue of finding codes', () => {
  const { codes, dynamic } = sourceCodes();
  const entries = docEntries(readFileSync(DOC, 'utf8'));
  const documented = new Set(entries.map((e) => e.code));

  it('the scan sees codes however the core spells them, and skips file names', () => {
    const sample = [
      "const A = { gone: 'credentials.store-gone' } as const;",
      "push({ code: 'config.invalid-json', severity: 'error' });",
      "type P = { code: 'config.invalid-entry' | 'config.missing-url' };",
      "const f = path.join(home, 'config.toml');",
      '// a comment naming `config.unreadable` is not a literal',
      'const t = `credentials.${kind}`;',
    ].join('\n');
    const found = codeLiterals(sample, 'sample.ts');
    assert.deepEqual(
      found.filter((l) => !l.dynamic).map((l) => l.text),
      ['credentials.store-gone', 'config.invalid-json', 'config.invalid-entry', 'config.missing-url'],
    );
    assert.deepEqual(
      found.filter((l) => l.dynamic).map((l) => l.text),
      ['`credentials.${kind}`'],
    );
    // On the real tree: codes reached only through constants objects are found.
    for (const viaConstant of ['credentials.store-drift', 'credentials.keychain-near-limit', 'config.managed-exclusive']) {
      assert.ok(codes.has(viaConstant), `the scan missed ${viaConstant}`);
    }
    assert.ok(!codes.has('config.toml'), 'the file name config.toml was taken for a code');
  });

  it('the core builds no finding code at run time, so the scan sees them all', () => {
    assert.deepEqual(
      dynamic.map((l) => `${l.file}:${l.line}: ${l.text}`),
      [],
      'finding codes must be plain string literals so docs/findings.md can be checked against them',
    );
  });

  it('documents every code the core emits', () => {
    const missing = [...codes.values()].filter((l) => !documented.has(l.text)).map((l) => `${l.text} (${l.file}:${l.line})`);
    assert.deepEqual(missing, [], `add a "### \`code\`" entry to docs/findings.md for: ${missing.join(', ')}`);
  });

  it('documents no code the core no longer emits', () => {
    const stale = entries.filter((e) => !codes.has(e.code)).map((e) => e.code);
    assert.deepEqual(stale, [], `docs/findings.md has entries for codes not found in src/core: ${stale.join(', ')}`);
  });

  it('documents each code once, under its family’s section', () => {
    const seen = new Set<string>();
    const dupes = entries.filter((e) => (seen.has(e.code) ? true : (seen.add(e.code), false))).map((e) => e.code);
    assert.deepEqual(dupes, [], 'codes with more than one entry');
    const misplaced = entries
      .filter((e) => {
        const want = SECTIONS[e.code.slice(0, e.code.indexOf('.'))];
        return want !== undefined && e.section !== want;
      })
      .map((e) => `${e.code} is under "${e.section ?? '(no section)'}"`);
    assert.deepEqual(misplaced, []);
  });

  it('gives every entry a severity and a next step', () => {
    const thin = entries.filter((e) => !/\*\*Severity:\*\*/.test(e.body) || !/\*\*What to do:\*\*/.test(e.body)).map((e) => e.code);
    assert.deepEqual(thin, [], 'entries without a **Severity:** or **What to do:** line');
  });

  it('documents the probe catalogue in its order, with its default severity, revisions and reference', () => {
    const catalogue = Object.entries(PROBE_CATALOGUE) as [string, FindingSpec][];
    const inDoc = entries.filter((e) => e.code in PROBE_CATALOGUE).map((e) => e.code);
    assert.deepEqual(inDoc, catalogue.map(([code]) => code), 'probe and token entries must follow PROBE_CATALOGUE’s order');
    const line = (body: string, label: string) => {
      // A "- **Label:** …" item up to the next item, its wrapped lines joined.
      const m = new RegExp(`^- \\*\\*${label}:\\*\\*([\\s\\S]*?)(?=^- \\*\\*|(?![\\s\\S]))`, 'm').exec(body);
      return m ? m[1]!.replace(/\s+/g, ' ').trim() : undefined;
    };
    const wrong: string[] = [];
    for (const [code, spec] of catalogue) {
      const body = entries.find((e) => e.code === code)?.body ?? '';
      const severity = line(body, 'Severity');
      if (!severity || !new RegExp(`\\b${spec.severity}\\b`).test(severity)) wrong.push(`${code}: Severity does not name ${spec.severity}`);
      const revisions = line(body, 'Spec revisions');
      if (!revisions) wrong.push(`${code}: no Spec revisions`);
      else if (!spec.revisions?.length && !revisions.startsWith('none')) wrong.push(`${code}: Spec revisions should say none`);
      else if (spec.revisions?.length && !revisions.startsWith(describeRevisions(spec.revisions) ?? '')) wrong.push(`${code}: Spec revisions should be "${describeRevisions(spec.revisions)}"`);
      const reference = line(body, 'Reference')?.replace(/\.$/, '');
      if (reference !== spec.reference) wrong.push(`${code}: Reference differs from the catalogue`);
      for (const label of ['When it fires', 'What you see', 'Which clients are affected']) if (!line(body, label)) wrong.push(`${code}: no ${label}`);
    }
    assert.deepEqual(wrong, []);
  });
});
