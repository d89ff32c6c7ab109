// Where each `mcp_servers.<name>` entry starts in a config.toml. smol-toml parses but keeps no
// positions, so this scanner walks the text: table headers (`[mcp_servers.name]`, quoted names,
// spaces around dots), dotted keys (`mcp_servers.name.url = …`) and keys inside `[mcp_servers]`
// (`name = { … }`). Comments and multi-line strings are skipped so a `[` inside them never counts.

export interface KeyPosition {
  line: number;
  column: number;
}

/** First position of each server name under `mcp_servers`, in a text that already parsed as TOML. */
export function mcpServerPositions(text: string): Map<string, KeyPosition> {
  const found = new Map<string, KeyPosition>();
  const lines = text.split(/\r?\n/);
  let table: string[] = [];
  let inMultiline: '"""' | "'''" | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (inMultiline) {
      if (raw.includes(inMultiline)) inMultiline = undefined;
      continue;
    }
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const note = (path: string[]) => {
      if (path[0] === 'mcp_servers' && path.length >= 2 && !found.has(path[1]!)) found.set(path[1]!, { line: i + 1, column: indent + 1 });
    };
    if (line.startsWith('[')) {
      const inner = line.startsWith('[[') ? line.slice(2) : line.slice(1);
      const keys = parseKeyPath(inner);
      if (keys) {
        table = keys.path;
        note(table);
      }
      continue;
    }
    const keys = parseKeyPath(line);
    if (keys && line.slice(keys.end).trimStart().startsWith('=')) note([...table, ...keys.path]);
    // A value that opens a multi-line string continues past this line.
    for (const q of ['"""', "'''"] as const) {
      const at = line.indexOf(q);
      if (at >= 0 && line.indexOf(q, at + 3) < 0) inMultiline = q;
    }
  }
  return found;
}

/** Parses a dotted TOML key at the start of `s`; returns the parts and where the key ended. */
function parseKeyPath(s: string): { path: string[]; end: number } | undefined {
  const path: string[] = [];
  let i = 0;
  for (;;) {
    while (s[i] === ' ' || s[i] === '\t') i++;
    const c = s[i];
    if (c === '"') {
      let out = '';
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) {
          const n = s[i + 1]!;
          out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          i += 2;
        } else out += s[i++];
      }
      if (s[i] !== '"') return undefined;
      i++;
      path.push(out);
    } else if (c === "'") {
      const close = s.indexOf("'", i + 1);
      if (close < 0) return undefined;
      path.push(s.slice(i + 1, close));
      i = close + 1;
    } else {
      const m = /^[A-Za-z0-9_-]+/.exec(s.slice(i));
      if (!m) return undefined;
      path.push(m[0]);
      i += m[0].length;
    }
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] !== '.') return { path, end: i };
    i++;
  }
}
