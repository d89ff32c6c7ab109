// `mcp-auth-doctor status [--json] [--cwd DIR] [--client claude-code|codex]`
import { parseArgs } from 'node:util';
import { ALL_CLIENTS } from '../../core/config/scan';
import type { ClientId, Finding, McpServer } from '../../core/model';
import { collectStatus, type StatusReport } from '../../core/status';
import { describeToken, type TokenStatus } from '../../core/tokenStatus';
import { CLIENT_LABELS } from '../../core/model';
import { displayUrl, serverWhere } from '../../core/present/describe';
import { cliEnvironment } from '../environment';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliIo } from '../io';

export async function status(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      cwd: { type: 'string' },
      client: { type: 'string', multiple: true },
    },
    strict: true,
  });
  const clients = parseClients(values.client);
  const report = await collectStatus(cliEnvironment(io, values.cwd), { clients });
  io.stdout(values.json ? JSON.stringify(statusJson(report), null, 2) + '\n' : statusTable(report));
  const anyError = [...report.findings, ...report.scan.servers.flatMap((s) => s.findings)].some((f) => f.severity === 'error');
  return anyError ? EXIT_FINDINGS : EXIT_OK;
}

function parseClients(given: string[] | undefined): ClientId[] {
  if (!given || given.length === 0) return ALL_CLIENTS;
  for (const c of given) {
    if (!ALL_CLIENTS.includes(c as ClientId)) throw new UsageError(`unknown client "${c}" (expected ${ALL_CLIENTS.join(' or ')})`);
  }
  return given as ClientId[];
}

/** The `status --json` document; its schema is documented in the README. */
export function statusJson(report: StatusReport) {
  return {
    servers: report.servers.map(({ server: s, token }) => ({
      client: s.client,
      scope: s.scope,
      name: s.name,
      transport: s.transport,
      url: displayUrl(s) ?? null,
      enabled: s.enabled,
      key: s.storageKey ?? null,
      source: { file: s.source.file, line: s.source.line, column: s.source.column },
      token: token ? tokenJson(token) : null,
      findings: s.findings.map(findingJson),
    })),
    findings: report.findings.map(findingJson),
  };
}

function tokenJson(t: TokenStatus) {
  return {
    state: t.state,
    expiresAt: t.expiresAt === null ? null : new Date(t.expiresAt).toISOString(),
    fingerprint: t.fingerprint,
    hasRefreshToken: t.hasRefreshToken,
    store: t.store,
    clientId: t.clientId,
    scopes: t.scopes,
  };
}

function findingJson(f: Finding) {
  return {
    code: f.code,
    severity: f.severity,
    title: f.title,
    detail: f.detail,
    ...(f.location ? { location: { file: f.location.file, line: f.location.line, column: f.location.column } } : {}),
  };
}

function statusTable(report: StatusReport): string {
  const lines: string[] = [];
  const scan = report.scan;
  if (scan.servers.length === 0) lines.push('No MCP servers found in Claude Code or Codex configs.');
  for (const client of ALL_CLIENTS) {
    const rowsOf = report.servers.filter((r) => r.server.client === client);
    const servers = rowsOf.map((r) => r.server);
    if (servers.length === 0) continue;
    lines.push(`${CLIENT_LABELS[client]} (${servers.length})`);
    const rows = rowsOf.map(({ server: s, token }) => [
      s.name + (s.enabled ? '' : ' (disabled)'),
      serverWhere(s),
      token ? describeToken(token, report.at) : '',
      sourceOf(s),
    ]);
    lines.push(...alignColumns(rows).map((r) => '  ' + r));
    for (const s of servers) for (const f of s.findings) lines.push(`    ${s.name}: ${findingLine(f)}`);
  }
  if (report.findings.length > 0) {
    lines.push('Problems');
    for (const f of report.findings) lines.push('  ' + findingLine(f));
  }
  return lines.join('\n') + '\n';
}

function sourceOf(s: McpServer): string {
  return `${s.source.file}:${s.source.line}`;
}

function findingLine(f: Finding): string {
  const at = f.location ? ` (${f.location.file}:${f.location.line}:${f.location.column})` : '';
  return `${f.severity}: ${f.title}${at}`;
}

function alignColumns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}
