// Words for a server that every surface uses the same way (tree, CLI table, reports).
import type { Finding, McpServer, Severity } from '../model';

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function worstSeverity(findings: Finding[]): Severity | undefined {
  return findings.reduce<Severity | undefined>(
    (worst, f) => (worst === undefined || SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[worst] ? f.severity : worst),
    undefined,
  );
}

/** Host (or `stdio`) and scope, e.g. `api.example.com · user`. */
export function serverWhere(s: McpServer): string {
  // The expanded URL gives a real host even when the file says ${HOST}; hosts are not secrets.
  const where = s.transport === 'stdio' ? 'stdio' : hostOf(s.url || s.rawUrl);
  return `${where} · ${s.scope}`;
}

function hostOf(url: string | undefined): string {
  if (!url) return 'no url';
  try {
    return new URL(url).host || url;
  } catch {
    // Unexpanded placeholders or a typo: show what was written, minus any query (it may hold a key).
    return url.split('?')[0] ?? url;
  }
}

/** `file:line` as editors print it. */
export function sourceLabel(s: McpServer): string {
  return `${s.source.file}:${s.source.line}`;
}

/** The URL to display: as written (placeholders unexpanded), query values masked since they may be keys. */
export function displayUrl(s: McpServer): string | undefined {
  const raw = s.rawUrl ?? s.url;
  if (!raw) return undefined;
  const q = raw.indexOf('?');
  if (q < 0) return raw;
  const masked = raw
    .slice(q + 1)
    .split('&')
    .map((pair) => pair.split('=')[0] + (pair.includes('=') ? '=…' : ''))
    .join('&');
  return `${raw.slice(0, q)}?${masked}`;
}
