// `mcp-auth-doctor login <server> [--client <id>] [--cwd DIR] [--no-browser] [--yes] [--accept-unknown-fields]`:
// log in to one server again for one client and write the tokens into that client's own store.
// Without --yes it prints what would change (exit 1); with it, it prints the authorization URL
// (and opens a browser unless --no-browser), waits for the callback (with --no-browser in a
// terminal, or for the address pasted), writes, and re-probes.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ALL_CLIENTS, scanConfigs } from '../../core/config/scan';
import { credentialStoresFor } from '../../core/credentials/index';
import { CLIENT_LABELS, type ClientId, type McpServer, type RepairId } from '../../core/model';
import { DEFAULT_MAX_BODY_BYTES } from '../../core/probe/http';
import { HEALTHY_STATES } from '../../core/probe/probe';
import { proxyFetchFor } from '../../core/probe/proxy';
import { probeReport } from '../../core/probe/run';
import { login as runLogin, planLogin, type LoginContext } from '../../core/repair/login';
import { clientCallbackSettings } from '../../core/repair/loopbackRedirect';
import type { RepairPlan, RepairTarget } from '../../core/repair/types';
import { collectStatus } from '../../core/status';
import { cliEnvironment } from '../environment';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, type CliIo } from '../io';
import { ACCEPT_UNKNOWN_FIELDS, refusedForUnknownFields, storeWriteGuard } from '../unknownFields';

const LOGIN_HTTP_TIMEOUT_MS = 10_000;

export async function login(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      client: { type: 'string' },
      cwd: { type: 'string' },
      'no-browser': { type: 'boolean', default: false },
      yes: { type: 'boolean', default: false },
      [ACCEPT_UNKNOWN_FIELDS]: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const [name, ...extra] = positionals;
  if (!name || extra.length > 0) throw new UsageError('login takes one server name (see `mcp-auth-doctor status`)');
  if (values.client !== undefined && !ALL_CLIENTS.includes(values.client as ClientId)) {
    throw new UsageError(`unknown client "${values.client}" (expected ${ALL_CLIENTS.join(' or ')})`);
  }
  const e = cliEnvironment(io, values.cwd);
  const scan = await scanConfigs(e, values.client ? [values.client as ClientId] : ALL_CLIENTS);
  const named = scan.servers.filter((s) => s.name === name);
  const remote = named.filter((s) => s.url && s.storageKey && s.transport !== 'stdio');
  if (remote.length === 0) {
    if (named.length > 0) throw new UsageError(`"${name}" is a stdio server: it has no OAuth login`);
    throw new UsageError(`no remote MCP server named "${name}"${values.client ? ` for ${CLIENT_LABELS[values.client as ClientId]}` : ''} (see \`mcp-auth-doctor status\`)`);
  }
  // One credential per client and storage key: the same entry in two scopes is one login.
  const distinct = remote.filter((s, i) => remote.findIndex((o) => o.client === s.client && o.storageKey === s.storageKey) === i);
  if (distinct.length > 1) {
    io.stderr(`mcp-auth-doctor login: "${name}" names ${distinct.length} different credentials; choose one with --client (and --cwd for a project's own entry):\n`);
    for (const s of distinct) io.stderr(`  --client ${s.client.padEnd(11)} ${s.scope.padEnd(7)} ${s.url}  (${s.source.file}:${s.source.line})\n`);
    return EXIT_USAGE;
  }
  const server = distinct[0]!;
  const store = credentialStoresFor(e, undefined, { clients: [server.client] })[0];
  if (!store) throw new Error(`no credential store for ${CLIENT_LABELS[server.client]}`);
  const target: RepairTarget = { server, store, key: server.storageKey! };

  const proxied = proxyFetchFor({ env: io.env });
  try {
    const ctx: LoginContext = {
      http: { fetch: proxied.fetch, timeoutMs: LOGIN_HTTP_TIMEOUT_MS, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, routeFor: (url) => proxied.routeFor(url).description },
      callback: await clientCallbackSettings(e, server.client),
    };
    const plan = await planLogin(target, ctx);
    io.stdout(describePlan(plan, server));
    if (plan.blocked) {
      io.stdout(`Cannot log in: ${plan.blocked.message}.\n${nextSteps(plan.blocked.next, server)}`);
      return EXIT_FINDINGS;
    }
    if (refusedForUnknownFields(await storeWriteGuard(e, server.client, target.key), values.yes, values[ACCEPT_UNKNOWN_FIELDS], io)) return EXIT_FINDINGS;
    if (!values.yes) {
      io.stdout('Nothing written. Run again with --yes to log in (the store is snapshotted first).\n');
      return EXIT_FINDINGS;
    }
    // --no-browser (SSH, a container): the browser may be on another machine, where the redirect to
    // this one's loopback cannot arrive; the address it ends on can be pasted instead (F3).
    const pasting = values['no-browser'] ? io.readLine?.() : undefined;
    let outcome;
    try {
      outcome = await runLogin(target, ctx, {
        openBrowser: async (url) => {
          io.stdout(`Open this URL in your browser to log in (waiting for the answer):\n${url}\n`);
          if (pasting) io.stdout('If that browser is on another machine, paste here the address it ends on after you log in (it starts with the redirect URI), then press Enter.\n');
          if (!values['no-browser']) openInBrowser(url, io);
        },
        ...(pasting ? { pastedCallback: pasting.line } : {}),
      });
    } finally {
      pasting?.close();
    }
    if (!outcome.ok) {
      io.stdout(`Login failed (${outcome.error}): ${outcome.message}.\n${nextSteps(outcome.next, server)}`);
      return EXIT_FINDINGS;
    }
    io.stdout(`${outcome.summary}\n${outcome.changed.map((c) => `  ${c}\n`).join('')}`);
    if (outcome.undoSnapshotId) io.stdout(`Undo: mcp-auth-doctor restore ${outcome.undoSnapshotId} --entry ${shellQuote(target.key)} --yes\n`);
    return await reprobe(server, io, e);
  } finally {
    await proxied.close();
  }
}

export const run = login;

/** The server as a fresh status run sees it now, probed with the new token. */
async function reprobe(server: McpServer, io: CliIo, e: ReturnType<typeof cliEnvironment>): Promise<number> {
  const report = await collectStatus(e, { clients: [server.client] });
  const row = report.servers.find((r) => r.server.name === server.name && r.server.storageKey === server.storageKey);
  if (!row) {
    io.stdout('The server is no longer in the config; not probed.\n');
    return EXIT_FINDINGS;
  }
  const run = await probeReport({ ...report, servers: [row] }, { proxy: { env: io.env } });
  const probe = run.probes[0]!;
  io.stdout(`State now: ${probe.state}: ${probe.summary}\n`);
  return HEALTHY_STATES.has(probe.state) ? EXIT_OK : EXIT_FINDINGS;
}

function describePlan(plan: RepairPlan, server: McpServer): string {
  const lines = [`Log in to ${server.name} again for ${CLIENT_LABELS[server.client]} (${server.url}), writing entry ${plan.target.key} in ${plan.target.store}:`];
  for (const c of plan.changes) lines.push(`  ${c}`);
  for (const w of plan.warnings) lines.push(`  ! ${w}`);
  if (plan.handOff) lines.push(`  The client can do the same itself: ${[plan.handOff.command, ...plan.handOff.args].join(' ')}`);
  return lines.join('\n') + '\n';
}

/** The storage key holds `|`: quoted, the Undo line can be pasted into a shell as is. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function nextSteps(next: RepairId[], server: McpServer): string {
  const words: Record<RepairId, string> = {
    relogin: `try again: mcp-auth-doctor login ${server.name} --client ${server.client} --yes`,
    refresh: 'refresh the stored token instead',
    reset: 'remove the stored client registration so the next login registers afresh',
    'edit-config': `check the server's entry in ${server.source.file}:${server.source.line}`,
    'report-server': "tell the server's owner (the authorization server misbehaves)",
  };
  return next.length ? `Next: ${next.map((n) => words[n]).join('; or ')}.\n` : '';
}

/**
 * The system's URL opener, never through a shell (mcp-remote CVE-2025-6514): the URL is one argv
 * entry. The URL was built by us from validated http(s) metadata.
 */
function openInBrowser(url: string, io: CliIo): void {
  const u = new URL(url);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return;
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => io.stdout(`(Could not start ${cmd}; open the URL above yourself.)\n`));
    child.unref();
  } catch {
    io.stdout(`(Could not start ${cmd}; open the URL above yourself.)\n`);
  }
}
