// Where each key of a config.toml is written. smol-toml parses but keeps no positions, so this
// scanner walks the text once more and records the first position of every key path: table
// headers (`[mcp_servers."my server"]`, spaces around dots), dotted keys
// (`mcp_servers.x.url = …`), keys inside `[mcp_servers]` and inside inline tables
// (`x = { url = "…", oauth = { client_id = "…" } }`). Strings (all four kinds, multi-line too),
// comments and arrays are skipped so a `[` or `=` inside them never counts. It expects text that
// already parsed as TOML; on anything else it stops early rather than guessing.

export interface KeyPosition {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units as editors count them. */
  column: number;
}

export class TomlKeyPositions {
  private readonly byPath = new Map<string, KeyPosition>();

  /** @internal the scanner's way in; first write wins (a later `[x.y]` never moves `x`). */
  note(path: readonly string[], at: KeyPosition): void {
    const id = JSON.stringify(path);
    if (!this.byPath.has(id)) this.byPath.set(id, at);
  }

  /** Exact position of a key path, if it is written in the file. */
  get(path: readonly string[]): KeyPosition | undefined {
    return this.byPath.get(JSON.stringify(path));
  }

  /** The position of `path`, else of its longest written prefix (a key Codex read but no one wrote is not findable). */
  nearest(path: readonly string[]): KeyPosition | undefined {
    for (let n = path.length; n > 0; n--) {
      const at = this.get(path.slice(0, n));
      if (at) return at;
    }
    return undefined;
  }
}

export function tomlKeyPositions(text: string): TomlKeyPositions {
  const out = new TomlKeyPositions();
  try {
    // A leading BOM is no key (TOML parsers drop it, editors hide it): without this the scan
    // stopped at once and every finding in such a file pointed at 1:1.
    new Scanner(text.startsWith('\uFEFF') ? text.slice(1) : text, out).document();
  } catch (err) {
    if (!(err instanceof ScanStop)) throw err;
  }
  return out;
}

class ScanStop extends Error {}

const BARE_KEY = /[A-Za-z0-9_-]+/y;

/** Key paths longer than this are not recorded (the deepest a finding points is mcp_servers.<name>.oauth.<field>). */
const MAX_NOTED_DEPTH = 16;

class Scanner {
  private i = 0;
  private readonly lineStarts: number[] = [0];

  constructor(
    private readonly s: string,
    private readonly out: TomlKeyPositions,
  ) {
    for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) === 10) this.lineStarts.push(k + 1);
  }

  document(): void {
    let table: string[] = [];
    for (;;) {
      this.skipBlank();
      if (this.i >= this.s.length) return;
      const c = this.s[this.i];
      if (c === '[') {
        const at = this.pos(this.i);
        const array = this.s[this.i + 1] === '[';
        this.i += array ? 2 : 1;
        table = this.key().parts;
        this.noteAll(table, at);
        this.skipInline();
        this.expect(array ? ']]' : ']');
      } else {
        const { parts, at } = this.key();
        this.noteAll([...table, ...parts], at);
        this.skipInline();
        this.expect('=');
        this.value([...table, ...parts]);
      }
      this.skipInline();
      if (this.s[this.i] === '#') this.skipComment();
    }
  }

  /** A dotted key at the cursor; `at` is where its first part starts. */
  private key(): { parts: string[]; at: KeyPosition } {
    this.skipInline();
    const at = this.pos(this.i);
    const parts: string[] = [];
    for (;;) {
      this.skipInline();
      const c = this.s[this.i];
      if (c === '"') parts.push(this.basicString());
      else if (c === "'") parts.push(this.literalString());
      else {
        BARE_KEY.lastIndex = this.i;
        const m = BARE_KEY.exec(this.s);
        if (!m) throw new ScanStop();
        parts.push(m[0]);
        this.i = BARE_KEY.lastIndex;
      }
      this.skipInline();
      if (this.s[this.i] !== '.') return { parts, at };
      this.i++;
    }
  }

  /** Skips one value; records keys of inline tables under `path` (undefined inside arrays). */
  private value(path: string[] | undefined): void {
    this.skipInline();
    const s = this.s;
    if (s.startsWith('"""', this.i)) this.multiline('"""');
    else if (s.startsWith("'''", this.i)) this.multiline("'''");
    else if (s[this.i] === '"') this.basicString();
    else if (s[this.i] === "'") this.literalString();
    else if (s[this.i] === '[') {
      this.i++;
      for (;;) {
        this.skipBlank();
        if (s[this.i] === ']') break;
        this.value(undefined);
        this.skipBlank();
        if (s[this.i] === ',') this.i++;
        else if (s[this.i] !== ']') throw new ScanStop();
      }
      this.i++;
    } else if (s[this.i] === '{') {
      this.i++;
      for (;;) {
        this.skipBlank();
        if (s[this.i] === '}') break;
        const { parts, at } = this.key();
        // Below a few levels no finding ever points: stop noting there, or an inline table nested
        // 999 deep (smol-toml accepts 1000) costs cubic time in path copies and took seconds.
        const inner = path && path.length + parts.length <= MAX_NOTED_DEPTH ? [...path, ...parts] : undefined;
        if (inner) this.noteAll(inner, at);
        this.skipInline();
        this.expect('=');
        this.value(inner);
        this.skipBlank();
        if (s[this.i] === ',') this.i++;
        else if (s[this.i] !== '}') throw new ScanStop();
      }
      this.i++;
    } else {
      // Numbers, booleans, dates (which may contain one space): up to a delimiter.
      const start = this.i;
      while (this.i < s.length && !',]}#\n'.includes(s[this.i]!)) this.i++;
      if (this.i === start) throw new ScanStop();
    }
  }

  private basicString(): string {
    let out = '';
    this.i++;
    while (this.i < this.s.length && this.s[this.i] !== '"') {
      if (this.s[this.i] === '\\') {
        out += this.escape();
      } else {
        if (this.s[this.i] === '\n') throw new ScanStop();
        out += this.s[this.i++];
      }
    }
    this.expect('"');
    return out;
  }

  private escape(): string {
    const n = this.s[this.i + 1];
    this.i += 2;
    const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\x1b', '"': '"', '\\': '\\' };
    if (n !== undefined && n in simple) return simple[n]!;
    const len = n === 'u' ? 4 : n === 'U' ? 8 : n === 'x' ? 2 : 0;
    if (!len) throw new ScanStop();
    const code = parseInt(this.s.slice(this.i, this.i + len), 16);
    this.i += len;
    if (!Number.isFinite(code)) throw new ScanStop();
    return String.fromCodePoint(code);
  }

  private literalString(): string {
    const close = this.s.indexOf("'", this.i + 1);
    if (close < 0) throw new ScanStop();
    const out = this.s.slice(this.i + 1, close);
    this.i = close + 1;
    return out;
  }

  private multiline(delim: '"""' | "'''"): void {
    this.i += 3;
    for (;;) {
      if (this.i >= this.s.length) throw new ScanStop();
      if (delim === '"""' && this.s[this.i] === '\\') this.i += 2;
      else if (this.s.startsWith(delim, this.i)) {
        this.i += 3;
        // Up to two quotes may sit right before the closing delimiter (`""""` ends with a quote).
        for (let extra = 0; extra < 2 && this.s[this.i] === delim[0]; extra++) this.i++;
        return;
      } else this.i++;
    }
  }

  private skipInline(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
  }

  /** Whitespace, newlines and comments (TOML 1.1 lets inline tables span lines too). */
  private skipBlank(): void {
    for (;;) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.i++;
      else if (c === '#') this.skipComment();
      else return;
    }
  }

  private skipComment(): void {
    const nl = this.s.indexOf('\n', this.i);
    this.i = nl < 0 ? this.s.length : nl;
  }

  private expect(token: string): void {
    if (!this.s.startsWith(token, this.i)) throw new ScanStop();
    this.i += token.length;
  }

  /** Notes the path and each of its prefixes (a `[a.b.c]` header is where `a.b` shows up first). */
  private noteAll(path: string[], at: KeyPosition): void {
    for (let n = 1; n <= Math.min(path.length, MAX_NOTED_DEPTH); n++) this.out.note(path.slice(0, n), at);
  }

  private pos(offset: number): KeyPosition {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }
}
