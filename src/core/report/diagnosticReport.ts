// A Markdown report a user can paste into a bug: versions, the shape of each config (names,
// transports, scopes and hosts only), each server's probed state, its findings and the redacted
// discovery trace. Built from data that never holds a secret (fingerprints, redacted traces), and
// scrubbed once more at the end: query values, header values and anything token-shaped go.
import type { ServerProbe } from '../probe/probe';
import { describeExchange } from '../probe/http';
import { COMPAT_CLIENT_LABELS } from '../probe/verdict';
import { CLIENT_LABELS } from '../model';
import { CLIENT_IDS } from '../clients/ids';
import { describeRegistration, serverWhere } from '../present/describe';
import type { StatusReport } from '../status';
import { describeToken } from '../tokenStatus';

export interface ReportContext {
  extensionVersion: string;
  hostVersion: string;
  platform: string;
  /** When the report was made (epoch ms). */
  at: number;
  /** "direct (no proxy configured)" or the proxy, credentials masked. */
  network?: string;
  /** The clients' own version lines (`claude --version`), or why there is none. */
  clients?: { label: string; version: string }[];
  /** Settings that change what is read or sent, as `name: value`. */
  settings?: string[];
}

export function diagnosticReport(report: StatusReport, probes: (ServerProbe | undefined)[], ctx: ReportContext): string {
  const lines: string[] = [
    '# MCP Auth Doctor diagnostic report',
    '',
    `- MCP Auth Doctor ${ctx.extensionVersion}, ${ctx.hostVersion}, ${ctx.platform}`,
    `- Made ${new Date(ctx.at).toISOString()}${ctx.network ? `; network: ${ctx.network}` : ''}`,
    ...(ctx.clients?.length ? [`- Client versions: ${ctx.clients.map((c) => `${c.label} ${c.version}`).join('; ')}`] : []),
    ...(ctx.settings?.length ? [`- Settings: ${ctx.settings.join('; ')}`] : []),
    `- ${report.servers.length} server${report.servers.length === 1 ? '' : 's'} from ${report.scan.files.length} config file${report.scan.files.length === 1 ? '' : 's'} looked at${probes.some((p) => p && p.state !== 'not-probed') ? '' : '; not probed (states from the stored expiry)'}`,
    '- Tokens appear only as fingerprints (sha256 prefixes); header values, URL query values and secret-looking URL path segments are left out.',
    '',
  ];
  for (const client of CLIENT_IDS) {
    const rows = report.servers.map((s, i) => ({ ...s, probe: probes[i] })).filter((r) => r.server.client === client);
    if (rows.length === 0) continue;
    lines.push(`## ${CLIENT_LABELS[client]} (${rows.length} server${rows.length === 1 ? '' : 's'})`, '');
    lines.push('| Server | Transport | Where | State |', '| --- | --- | --- | --- |');
    for (const { server, token, probe } of rows) {
      const state = probe && probe.state !== 'not-probed' ? (probe.summary.startsWith(probe.state) ? probe.summary : `${probe.state}: ${probe.summary}`) : token ? describeToken(token, report.at) : server.transport === 'stdio' ? 'stdio' : '';
      lines.push(`| ${cell(server.name)}${server.enabled ? '' : ' (disabled)'} | ${server.transport} | ${cell(serverWhere(server))} | ${cell(state)} |`);
    }
    lines.push('');
    for (const { server, probe } of rows) {
      const findings = [...server.findings, ...(probe?.findings ?? [])];
      if (findings.length === 0 && !probe?.trace.length) continue;
      lines.push(`### ${server.name}`, '');
      if (server.headerNames.length) lines.push(`Header names: ${server.headerNames.join(', ')}`, '');
      if (probe && probe.state !== 'not-probed') {
        lines.push(`Spoke MCP ${probe.revision}${probe.era ? ` (the server answered in the ${probe.era} era)` : ''}.`);
        for (const as of probe.authorizationServers) lines.push(`Authorization server ${as.issuer} (${as.kind ?? 'metadata not found'}; client registration: ${as.registration.join(', ') || 'none offered'}).`);
        for (const r of probe.registration ?? []) lines.push(`Registration, ${CLIENT_LABELS[r.client]}${r.client === server.client ? '' : ' (if added there)'}: ${describeRegistration(r)}.`);
        lines.push('');
      }
      for (const f of findings) lines.push(`- **${f.severity}** \`${f.code}\`: ${f.title}`);
      if (probe?.trace.length) {
        lines.push('', '```text', ...probe.trace.map((t) => describeExchange(t)), '```');
      }
      if (probe?.compatibility.length && probe.state !== 'not-probed') {
        lines.push('', `Client verdicts: ${probe.compatibility.map((c) => `${COMPAT_CLIENT_LABELS[c.client]}: ${c.verdict}`).join(', ')}`);
      }
      lines.push('');
    }
  }
  if (report.findings.length) {
    lines.push('## Config and store problems', '');
    for (const f of report.findings) lines.push(`- **${f.severity}** \`${f.code}\`: ${f.title}${f.location ? ` (${f.location.file}:${f.location.line})` : ''}`);
    lines.push('');
  }
  return scrub(lines.join('\n'));
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * Last line of defence: query values, URL path segments that look like keys (some servers put an
 * API key in the path) and long token-shaped runs (JWTs, opaque tokens) are masked.
 */
export function scrub(text: string): string {
  return text
    .replace(/\?[^\s)`|]*/g, (q) => q.replace(/=([^&\s]*)/g, '=***'))
    .replace(/(https?:\/\/[^\s/?#)`|]+)(\/[^\s?#)`|]*)/g, (_, origin: string, p: string) => origin + p.split('/').map((seg) => (secretLike(seg) ? '[redacted]' : seg)).join('/'))
    .replace(/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, '[jwt]')
    .replace(/(?<![\w/.:-])[A-Za-z0-9_\-+/=~.]{40,}(?![\w/.:-])/g, '[redacted]');
}

/** A path segment that could be a key: long, letters and digits mixed (UUIDs and hex ids too). */
function secretLike(segment: string): boolean {
  return segment.length >= 20 && /\d/.test(segment) && /[A-Za-z]/.test(segment);
}
