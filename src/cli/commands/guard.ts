// `mcp-auth-doctor guard [--client <id>] [--interval MS] [--json]`: journals the
// credential stores in the foreground for as long as it runs (core/journal/guard.ts) and prints
// each loss with the commands that put it back. Fingerprints only. SIGINT/SIGTERM stop it after
// the observation in progress (exit 0), so a journal file is never left half written.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Environment } from '../../core/environment';
import { DEFAULT_GUARD_POLL_MS, DEFAULT_GUARD_SECURE_MS, guardedFiles, runGuard, type GuardState } from '../../core/journal/guard';
import { journalEnabled, journalFromEnvironment, type Journal } from '../../core/journal/journal';
import { CLAUDE_ACCOUNT_GRANTS, type GrantState } from '../../core/journal/losses';
import { journaledClients } from '../../core/journal/sources';
import { CLIENT_LABELS, type ClientId } from '../../core/model';
import { cliEnvironment } from '../environment';
import { EXIT_OK, EXIT_USAGE, UsageError, type CliIo } from '../io';
import { parseClientOption } from './backups';

const DAY_MS = 86_400_000;

export async function guard(args: string[], io: CliIo): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  // `once`: a second Ctrl-C while the last observation finishes kills the process the usual way.
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await guardUntil(args, io, controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export const run = guard;

/** The command, stopped by `signal` (tests run it in-process). */
export async function guardUntil(args: string[], io: CliIo, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { client: { type: 'string' }, interval: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError('guard takes no arguments');
  const client = parseClientOption(values.client);
  const interval = values.interval === undefined ? DEFAULT_GUARD_POLL_MS : Number(values.interval);
  if (!Number.isInteger(interval) || interval < 100 || interval > 86_400_000) throw new UsageError('--interval takes milliseconds between 100 and 86400000');
  const e = cliEnvironment(io, undefined);
  if (!journalEnabled(e)) {
    io.stderr('mcp-auth-doctor guard: the credential journal is turned off (MCP_AUTH_DOCTOR_JOURNAL); nothing to guard.\n');
    return EXIT_USAGE;
  }
  const clients: ClientId[] = client ? [client] : journaledClients();
  const journal = journalFromEnvironment(e);
  const print = (line: string) => io.stdout(line + '\n');
  const json = values.json;
  const emit = (o: Record<string, unknown>) => print(JSON.stringify(o));

  const start = startInfo(e, clients, journal, interval);
  if (json) emit({ event: 'start', ...start });
  else print(startLine(start));

  const summary = await runGuard(e, {
    journal,
    signal,
    clients,
    pollIntervalMs: interval,
    onState: (s) => {
      if (json) emit({ event: 'state', ...stateJson(s) });
    },
    onLoss: (s) => {
      if (json) emit({ event: 'loss', ...lossJson(s) });
      else print(lossText(s));
    },
    onError: (err, c) => {
      const message = err instanceof Error ? err.message : String(err);
      if (json) emit({ event: 'error', client: c, message });
      else io.stderr(`mcp-auth-doctor guard: ${CLIENT_LABELS[c]}'s store could not be journaled now (${message}); trying again at the next change or poll.\n`);
    },
  });
  if (json) emit({ event: 'stop', ...summary });
  else print(`Stopped: ${summary.states} state${summary.states === 1 ? '' : 's'} journaled, ${summary.losses} loss${summary.losses === 1 ? '' : 'es'} seen.`);
  return EXIT_OK;
}

interface StartInfo {
  stores: { client: ClientId; file: string; watching: string; secureStores: string }[];
  journal: { dir: string; maxStates: number; maxAgeDays: number };
  pollIntervalMs: number;
  secureIntervalMs: number;
}

function startInfo(e: Environment, clients: ClientId[], journal: Journal, interval: number): StartInfo {
  return {
    stores: guardedFiles(e, clients).map((f) => ({
      client: f.client,
      file: f.file,
      watching: path.dirname(f.file),
      secureStores:
        f.client === 'claude-code'
          ? e.platform === 'darwin'
            ? 'the Keychain item, only while Claude Code runs'
            : 'none (the file is the store)'
          : f.client === 'codex'
            ? 'the OS keyring and secrets file, only while Codex runs'
            : 'none (the file is the store)',
    })),
    journal: { dir: journal.dir, maxStates: journal.maxStates, maxAgeDays: Math.round((journal.maxAgeMs / DAY_MS) * 100) / 100 },
    pollIntervalMs: interval,
    secureIntervalMs: DEFAULT_GUARD_SECURE_MS,
  };
}

function startLine(s: StartInfo): string {
  const stores = s.stores.map((x) => `${CLIENT_LABELS[x.client]} ${x.file}`).join(', ');
  return (
    `mcp-auth-doctor guard: journaling ${stores} (watching their folders, and every ${s.pollIntervalMs} ms); ` +
    `Keychain/keyring every ${s.secureIntervalMs / 1000} s only while that client runs. ` +
    `Journal ${s.journal.dir}: at most ${s.journal.maxStates} states per store, ${s.journal.maxAgeDays} days. Stop with Ctrl-C.`
  );
}

/** The command that puts back only what the newest loss of `client` took. */
export function restoreLostCommand(client: ClientId): string {
  return `mcp-auth-doctor restore --lost --client ${client} --yes`;
}

/** Shell-quoted, so an entry key with `|` can be pasted as is. */
function quoted(s: string): string {
  return /^[A-Za-z0-9._:/=@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function entryCommands(s: GuardState): { key: string; serverName?: string; before: GrantState; command?: string }[] {
  const from = s.state.previous?.id;
  return s.state.losses
    .filter((l) => l.alarm)
    .flatMap((l) => l.entries)
    // An account grant (claudeAiOauth, …) is not an mcpOAuth entry: `restore --lost` puts it back.
    .filter((x) => !(CLAUDE_ACCOUNT_GRANTS as readonly string[]).includes(x.key))
    .map((x) => ({
      key: x.key,
      ...(x.serverName ? { serverName: x.serverName } : {}),
      before: x.before,
      ...(from ? { command: `mcp-auth-doctor restore ${from} --entry ${quoted(x.key)} --yes` } : {}),
    }));
}

function lossText(s: GuardState): string {
  const lines = s.state.findings.filter((f) => f.severity !== 'info').map((f) => `${f.title}.`);
  lines.push(`  Put back only what was lost: ${restoreLostCommand(s.state.client)}`);
  for (const x of entryCommands(s)) {
    if (!x.command) continue;
    lines.push(`  ${x.serverName ?? x.key} (access ${x.before.accessToken ?? 'none'}, refresh ${x.before.refreshToken ?? 'none'}): ${x.command}`);
  }
  return lines.join('\n');
}

function stateJson(s: GuardState) {
  const st = s.state;
  return {
    client: st.client,
    storeKind: st.storeKind,
    location: st.location,
    stateId: st.snapshot?.id ?? null,
    previousStateId: st.previous?.id ?? null,
    at: st.snapshot?.createdAt ?? null,
    trigger: s.trigger,
    verdict: st.classification.verdict,
    entries: st.snapshot?.entries ?? [],
  };
}

function lossJson(s: GuardState) {
  const st = s.state;
  return {
    ...stateJson(s),
    writer: st.snapshot?.writer ?? null,
    losses: st.losses.map((l) => ({ kind: l.kind, code: l.code, count: l.count, alarm: l.alarm, ...(l.why ? { why: l.why } : {}), entries: l.entries })),
    findings: st.findings.map((f) => ({ code: f.code, severity: f.severity, title: f.title })),
    restore: { lost: restoreLostCommand(st.client), entries: entryCommands(s).filter((x) => x.command).map((x) => ({ key: x.key, command: x.command })) },
  };
}
