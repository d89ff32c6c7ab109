// `mcp-auth-doctor status [--json] [--cwd DIR] [--client <id>] [--offline] [--no-live] [--revision R] [--timeout S] [--verbose] [--read-keychain]`
import { parseArgs } from 'node:util';
import { probeReport, type ProbeRun } from '../../core/probe/run';
import { HEALTHY_STATES, type ServerProbe } from '../../core/probe/probe';
import { describeRevisions } from '../../core/probe/catalogue';
import { COMPAT_CLIENT_LABELS } from '../../core/probe/verdict';
import { isSpecRevision, REVISIONS } from '../../core/probe/revisions';
import { ALL_CLIENTS } from '../../core/config/scan';
import type { ClientId, Finding, McpServer } from '../../core/model';
import { collectStatus, type StatusReport } from '../../core/status';
import { describeClientVersion, nodeVersionIo, type ClientVersionInfo } from '../../core/clientVersions';
import { persistentVersionIo } from '../../core/versionCache';
import { describeToken, type TokenStatus } from '../../core/tokenStatus';
import { CLIENT_LABELS } from '../../core/model';
import { clientAuthentication, describeRegistration, displayUrl, listInWords, loginNotRead, serverWhere } from '../../core/present/describe';
import { cliEnvironment } from '../environment';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CliIo } from '../io';
import { isoTime } from '../../core/time';
import type { CredentialStoreOptions } from '../../core/credentials/index';
import { CODEX_KEYCHAIN_PROMPT_EXPLANATION } from '../../core/credentials/macKeychainCodex';
import type { Environment } from '../../core/environment';

/** What tests put in place of this machine: its platform, and the stores' runners. */
export interface StatusDeps {
  platform?: NodeJS.Platform;
  stores?: CredentialStoreOptions;
}

export function status(args: string[], io: CliIo): Promise<number> {
  return statusWith(args, io, {});
}

export async function statusWith(args: string[], io: CliIo, deps: StatusDeps): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      cwd: { type: 'string' },
      client: { type: 'string', multiple: true },
      offline: { type: 'boolean', default: false },
      'no-live': { type: 'boolean', default: false },
      revision: { type: 'string' },
      timeout: { type: 'string' },
      verbose: { type: 'boolean', short: 'v', default: false },
      'read-keychain': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const clients = parseClients(values.client);
  if (values.revision !== undefined && !isSpecRevision(values.revision)) throw new UsageError(`unknown revision "${values.revision}" (expected one of ${REVISIONS.join(', ')})`);
  const timeoutSeconds = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutSeconds !== undefined && !(timeoutSeconds > 0 && timeoutSeconds <= 120)) throw new UsageError('--timeout takes seconds between 0 and 120');
  const e: Environment = { ...cliEnvironment(io, values.cwd), ...(deps.platform ? { platform: deps.platform } : {}) };
  const readKeychain = values['read-keychain'];
  if (readKeychain && e.platform !== 'darwin') throw new UsageError('--read-keychain is for macOS, where Codex keeps MCP logins in Keychain items only Codex may read without asking');
  // The user asked for it: say what macOS will ask, and what each answer means, before it asks.
  if (readKeychain) io.stderr(`Reading Codex's Keychain items. ${CODEX_KEYCHAIN_PROMPT_EXPLANATION}\n`);
  const stores: CredentialStoreOptions = { ...deps.stores, ...(readKeychain ? { allowKeychainPrompt: true, keychainReadOnce: true } : {}) };
  // Each client's `--version` (3 s at most, no shell) and extension folders: local, also with --offline.
  const report = await collectStatus(e, { clients, versions: persistentVersionIo(nodeVersionIo(e), e), stores });
  const run = values.offline
    ? undefined
    : await probeReport(report, {
        proxy: { env: io.env },
        liveCheck: !values['no-live'],
        ...(values.revision && isSpecRevision(values.revision) ? { revision: values.revision } : {}),
        ...(timeoutSeconds ? { timeoutMs: timeoutSeconds * 1000 } : {}),
      });
  io.stdout(values.json ? JSON.stringify(statusJson(report, run), null, 2) + '\n' : statusTable(report, run, values.verbose));
  return healthy(report, run) ? EXIT_OK : EXIT_FINDINGS;
}

/** Healthy: no finding is an error and every probed server is in a working state. */
function healthy(report: StatusReport, run: ProbeRun | undefined): boolean {
  const findings = [...report.findings, ...report.scan.servers.flatMap((s) => s.findings), ...(run?.probes.flatMap((p) => p.findings) ?? [])];
  if (findings.some((f) => f.severity === 'error')) return false;
  return !run || run.probes.every((p) => HEALTHY_STATES.has(p.state));
}

function parseClients(given: string[] | undefined): ClientId[] {
  if (!given || given.length === 0) return ALL_CLIENTS;
  for (const c of given) {
    if (!ALL_CLIENTS.includes(c as ClientId)) throw new UsageError(`unknown client "${c}" (expected ${ALL_CLIENTS.join(' or ')})`);
  }
  return given as ClientId[];
}

/** The `status --json` document; its schema is documented in the README. */
export function statusJson(report: StatusReport, run?: ProbeRun) {
  return {
    servers: report.servers.map(({ server: s, token }, i) => ({
      client: s.client,
      scope: s.scope,
      // The app whose config runs a bridge entry (mcp-remote: "Claude Desktop", "Cursor", "Windsurf").
      host: s.host ?? null,
      name: s.name,
      transport: s.transport,
      url: displayUrl(s) ?? null,
      enabled: s.enabled,
      key: s.storageKey ?? null,
      source: { file: s.source.file, line: s.source.line, column: s.source.column },
      token: token ? tokenJson(token) : null,
      state: run?.probes[i]?.state ?? null,
      summary: run?.probes[i]?.summary ?? null,
      findings: [...s.findings, ...(run?.probes[i]?.findings ?? [])].map(findingJson),
      probe: run?.probes[i] ? probeJson(run.probes[i]) : null,
    })),
    findings: report.findings.map(findingJson),
    clients: (report.clients ?? []).map(clientJson),
    probed: run ? { ms: run.ms, metadataFetches: run.metadataFetches, network: run.network } : null,
  };
}

/** One client's installed version: the one we judge by, and every installation looked at. */
function clientJson(c: ClientVersionInfo) {
  return {
    client: c.client,
    version: c.version ?? null,
    source: c.source ?? null,
    newestVerified: c.newestVerified,
    newerThanVerified: c.newerThanVerified,
    installations: c.installations.map((i) => ({
      source: i.source,
      where: i.where,
      version: i.version ?? null,
      ...(i.extensionVersion ? { extensionVersion: i.extensionVersion } : {}),
      ...(i.problem ? { problem: i.problem } : {}),
    })),
  };
}

function probeJson(p: ServerProbe) {
  return {
    revision: p.revision,
    era: p.era ?? null,
    ms: p.ms,
    resourceMetadata: p.resourceMetadata ?? null,
    authorizationServers: p.authorizationServers,
    token: p.token ? { live: p.token.live, status: p.token.liveStatus ?? null, notCheckedBecause: p.token.notCheckedBecause ?? null, claims: p.token.claims ? { ...p.token.claims, exp: p.token.claims.exp ? isoTime(p.token.claims.exp) : null } : null } : null,
    compatibility: p.compatibility,
    registration: p.registration ?? [],
    enterpriseManaged: p.enterpriseManaged ?? false,
    trace: p.trace,
  };
}

function tokenJson(t: TokenStatus) {
  return {
    state: t.state,
    expiresAt: t.expiresAt === null ? null : isoTime(t.expiresAt),
    fingerprint: t.fingerprint,
    hasRefreshToken: t.hasRefreshToken,
    store: t.store,
    clientId: t.clientId,
    scopes: t.scopes,
    // in-keychain: the Keychain item's attributes; its secret was not read.
    keychain: t.keychain ? { account: t.keychain.account, keychain: t.keychain.keychain, modified: t.keychain.modified ?? null } : null,
  };
}

function findingJson(f: Finding) {
  return {
    code: f.code,
    severity: f.severity,
    title: f.title,
    detail: f.detail,
    ...(f.location ? { location: { file: f.location.file, line: f.location.line, column: f.location.column } } : {}),
    ...(f.evidence ? { evidence: f.evidence } : {}),
    ...(f.reference ? { reference: f.reference } : {}),
    ...(f.revisions ? { revisions: f.revisions } : {}),
    ...(f.repairs ? { repairs: f.repairs } : {}),
  };
}

function statusTable(report: StatusReport, run: ProbeRun | undefined, verbose: boolean): string {
  const lines: string[] = [];
  const scan = report.scan;
  if (scan.servers.length === 0) lines.push(`No MCP servers found in ${listInWords(ALL_CLIENTS.map((c) => CLIENT_LABELS[c]))} configs.`);
  for (const client of ALL_CLIENTS) {
    const rowsOf = report.servers.filter((r) => r.server.client === client);
    const servers = rowsOf.map((r) => r.server);
    if (servers.length === 0) continue;
    lines.push(`${CLIENT_LABELS[client]} (${servers.length})`);
    const probeOf = (s: McpServer) => run?.probes[report.servers.findIndex((r) => r.server === s)];
    const rows = rowsOf.map(({ server: s, token }) => {
      const p = probeOf(s);
      return [
        s.name + (s.enabled ? '' : ' (disabled)'),
        serverWhere(s),
        p && p.state !== 'not-probed' ? `${p.state}: ${p.summary}` : offlineState(s, token, report.at),
        sourceOf(s),
      ];
    });
    lines.push(...alignColumns(rows).map((r) => '  ' + r));
    for (const s of servers) {
      const p = probeOf(s);
      for (const f of [...s.findings, ...(p?.findings ?? [])]) {
        if (f.severity === 'info' && !verbose) continue;
        lines.push(`    ${s.name}: ${findingLine(f)}`);
        if (verbose) {
          lines.push(`      ${f.detail}`);
          for (const e of f.evidence ?? []) lines.push(`      | ${e}`);
          const revisions = describeRevisions(f.revisions);
          if (f.reference) lines.push(`      see: ${f.reference}${revisions ? ` (${revisions})` : ''}`);
        }
      }
      const own = p?.registration?.find((r) => r.client === s.client);
      if (p && verbose && own) lines.push(`      registration: ${describeRegistration(own)}`);
      if (p && verbose && p.compatibility.length && p.state !== 'not-probed') {
        lines.push(`      clients: ${p.compatibility.map((c) => `${COMPAT_CLIENT_LABELS[c.client]} ${c.verdict}`).join(', ')}`);
      }
    }
  }
  if (report.servers.some((r) => r.token?.state === 'in-keychain')) {
    lines.push("Codex's Keychain items were not read (macOS would ask); --read-keychain reads them, after saying what the dialog means.");
  }
  if (report.clients?.length) lines.push(`Clients: ${report.clients.map(describeClientVersion).join('; ')}`);
  if (run) lines.push(`Probed ${run.probes.filter((p) => p.state !== 'not-probed').length} server(s) in ${run.ms} ms (${run.network}); -v for details, --offline to skip the network.`);
  if (report.findings.length > 0) {
    lines.push('Problems');
    for (const f of report.findings) lines.push('  ' + findingLine(f));
  }
  return lines.join('\n') + '\n';
}

/** Without a probe (--offline): how Codex authenticates a server it needs no OAuth login for, else the stored token. */
function offlineState(s: McpServer, token: TokenStatus | undefined, at: number): string {
  const managed = clientAuthentication(s, token !== undefined && token.state !== 'missing');
  if (managed) return `client-auth: ${managed.summary}`;
  return token ? describeToken(token, at) : (loginNotRead(s)?.summary ?? '');
}

function sourceOf(s: McpServer): string {
  return `${s.source.file}:${s.source.line}`;
}

function findingLine(f: Finding): string {
  const at = f.location ? ` (${f.location.file}:${f.location.line}:${f.location.column})` : '';
  return `${f.severity}: ${f.title}${at} [${f.code}]`;
}

function alignColumns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}
