// The guard loop (issue 13, "guard outside the editor"): journals every credential store the way
// the extension does, for as long as it runs. Three triggers, one observation at a time:
// - a change in the folder of a client's credential file (fs.watch on the folder, not the file: an
//   atomic rename replaces the file's inode, which a watch on the file itself stops seeing);
// - a poll every `pollIntervalMs`, because watch events are lossy (coalesced, dropped on network
//   file systems, none while a folder does not exist yet); each poll also retries a missing watch;
// - a slower timer for the macOS Keychain and the OS keyring, read only while a process of that
//   client runs (no watcher sees them, and reading them can raise a prompt).
// A read that finds a store unparsable, empty or gone is read once more after `settleMs` before it
// is journaled: a client writing in place (truncate, then write) shows such a state for a moment,
// and only a state that stays so is a loss worth an alarm.
import { promises as fs, watch as fsWatch } from 'node:fs';
import * as path from 'node:path';
import type { Environment } from '../environment';
import type { ClientId } from '../model';
import { claudeCredentialsFile } from '../credentials/claudeCodeStore';
import { codexCredentialsFile } from '../credentials/codexStore';
import { runningClients } from '../repair/processes';
import type { Journal, ObservedState } from './journal';
import { parseStoreContent } from './losses';
import { journaledClients, journalSources, type CapturedState, type StateSource } from './sources';
import { clientDefinition } from '../clients/registry';

export const DEFAULT_GUARD_POLL_MS = 2_000;
export const DEFAULT_GUARD_SECURE_MS = 60_000;
export const DEFAULT_GUARD_DEBOUNCE_MS = 50;
export const DEFAULT_GUARD_SETTLE_MS = 150;

/** The file of a client's store the guard watches (its folder, really). */
export interface GuardedFile {
  client: ClientId;
  file: string;
}

/**
 * Claude Code's `.credentials.json` (Linux/Windows; on macOS a fallback), Codex's
 * `$CODEX_HOME/.credentials.json`, and the files of the clients journaled by their definition.
 */
export function guardedFiles(e: Environment, clients: readonly ClientId[]): GuardedFile[] {
  const files: GuardedFile[] = [];
  if (clients.includes('claude-code')) files.push({ client: 'claude-code', file: claudeCredentialsFile(e) });
  if (clients.includes('codex')) files.push({ client: 'codex', file: codexCredentialsFile(e) });
  for (const c of clients) {
    if (c === 'claude-code' || c === 'codex') continue;
    for (const file of clientDefinition(c).journal?.files(e) ?? []) files.push({ client: c, file });
  }
  return files;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A folder watch: calls back with the changed name (or undefined when the platform does not say); `close` stops it. */
export type FolderWatch = (dir: string, onChange: (filename: string | undefined) => void, onError: () => void) => { close(): void };

const realWatch: FolderWatch = (dir, onChange, onError) => {
  const w = fsWatch(dir, { persistent: true }, (_type, filename) => onChange(filename ? String(filename) : undefined));
  w.on('error', onError);
  return w;
};

/** Why an observation ran. */
export type GuardTrigger = 'start' | 'change' | 'poll' | 'secure-store timer';

export interface GuardState {
  state: ObservedState;
  trigger: GuardTrigger;
  readSecureStores: boolean;
}

export interface GuardOptions {
  journal: Journal;
  signal: AbortSignal;
  /** Only these clients; default both. */
  clients?: ClientId[];
  pollIntervalMs?: number;
  secureIntervalMs?: number;
  debounceMs?: number;
  settleMs?: number;
  /** Every state journaled (a loss or not). */
  onState?: (s: GuardState) => void | Promise<void>;
  /** Every journaled state with a loss that raises an alarm (what a user must hear about). */
  onLoss: (s: GuardState) => void | Promise<void>;
  /** An observation that failed (the loop goes on). */
  onError?: (err: unknown, client: ClientId) => void;
  /** Codex settings for the sources (default: read from its config.toml by the store). */
  codexSettings?: unknown;
  // Seams for tests.
  sources?: (readSecureStores: boolean, client: ClientId) => StateSource | undefined;
  clientRunning?: (client: ClientId) => Promise<boolean>;
  watch?: FolderWatch;
  timers?: Timers;
}

export interface GuardSummary {
  observations: number;
  states: number;
  losses: number;
  errors: number;
}

/** Is a process of `client` running now (a table that cannot be read counts as no: never prompt on a guess)? */
async function clientIsRunning(client: ClientId): Promise<boolean> {
  const listed = await runningClients(client).catch(() => undefined);
  return !!listed?.known && listed.processes.some((p) => p.client === client);
}

/** A state a writer in the middle of an in-place write can show for a moment. */
export function mayBeTorn(s: CapturedState): boolean {
  if (s.raw === null) return true;
  if (s.raw.trim() === '') return true;
  return parseStoreContent(s.client, s.storeKind, s.raw).state === 'unparsable';
}

/** `source`, read once more after `settleMs` when a read may have caught a write half done. */
export function settledSource(source: StateSource, settleMs: number, sleep: (ms: number) => Promise<void>): StateSource {
  return {
    client: source.client,
    async capture(previous) {
      const first = await source.capture(previous);
      if (!first.some(mayBeTorn)) return first;
      await sleep(settleMs);
      return source.capture(previous);
    },
  };
}

/**
 * Runs until `signal` aborts; then finishes the observation in progress (a journal write is never
 * cut short) and resolves with what it did.
 */
export async function runGuard(e: Environment, o: GuardOptions): Promise<GuardSummary> {
  const clients = o.clients ?? journaledClients();
  const timers = o.timers ?? realTimers;
  const pollMs = Math.max(o.pollIntervalMs ?? DEFAULT_GUARD_POLL_MS, 1);
  const secureMs = Math.max(o.secureIntervalMs ?? DEFAULT_GUARD_SECURE_MS, 1);
  const debounceMs = o.debounceMs ?? DEFAULT_GUARD_DEBOUNCE_MS;
  const settleMs = o.settleMs ?? DEFAULT_GUARD_SETTLE_MS;
  const watch = o.watch ?? realWatch;
  const clientRunning = o.clientRunning ?? clientIsRunning;
  const sourceFor =
    o.sources ??
    ((readSecureStores: boolean, client: ClientId) => journalSources(e, { readSecureStores, clients: [client], ...(o.codexSettings !== undefined ? { codexSettings: o.codexSettings } : {}) })[0]);
  // The settle wait is not one of the loop's timers: stopping must not cut it (the read it guards goes on to the journal).
  const sleep = (ms: number) => new Promise<void>((resolve) => timers.setTimeout(resolve, ms));
  const signal = o.signal;
  const summary: GuardSummary = { observations: 0, states: 0, losses: 0, errors: 0 };

  // Pending observations: client → (read secure stores too?, why). One runs at a time.
  const pending = new Map<ClientId, { secure: boolean; trigger: GuardTrigger }>();
  let draining: Promise<void> | undefined;
  const loopTimers = new Set<unknown>();
  const debounce = new Map<ClientId, unknown>();
  const watchers = new Map<string, { close(): void }>();

  const later = (fn: () => void, ms: number) => {
    const h = timers.setTimeout(() => {
      loopTimers.delete(h);
      fn();
    }, ms);
    loopTimers.add(h);
    return h;
  };

  const request = (client: ClientId, secure: boolean, trigger: GuardTrigger) => {
    if (signal.aborted) return;
    const had = pending.get(client);
    // A secure read covers a plain one; the first trigger names the pass.
    pending.set(client, { secure: secure || !!had?.secure, trigger: had?.trigger ?? trigger });
    kick();
  };

  const kick = () => {
    if (draining || signal.aborted) return;
    draining = (async () => {
      while (pending.size > 0 && !signal.aborted) {
        const [client, next] = pending.entries().next().value as [ClientId, { secure: boolean; trigger: GuardTrigger }];
        pending.delete(client);
        await observe(client, next.secure, next.trigger);
      }
    })().finally(() => {
      draining = undefined;
      if (pending.size > 0) kick();
    });
  };

  const observe = async (client: ClientId, secure: boolean, trigger: GuardTrigger) => {
    const source = sourceFor(secure, client);
    if (!source) return;
    summary.observations++;
    try {
      const observed = await o.journal.observe(settledSource(source, settleMs, sleep));
      for (const state of observed.states) {
        if (!state.recorded) continue;
        summary.states++;
        const s: GuardState = { state, trigger, readSecureStores: secure };
        await o.onState?.(s);
        if (state.losses.some((l) => l.alarm)) {
          summary.losses++;
          await o.onLoss(s);
        }
      }
    } catch (err) {
      summary.errors++;
      o.onError?.(err, client);
    }
  };

  // Folders, each with the clients whose file lives there (CLAUDE_CONFIG_DIR may equal CODEX_HOME).
  const folders = new Map<string, GuardedFile[]>();
  for (const f of guardedFiles(e, clients)) folders.set(path.dirname(f.file), [...(folders.get(path.dirname(f.file)) ?? []), f]);

  const onChange = (files: GuardedFile[], filename: string | undefined) => {
    for (const f of files) {
      // The file itself, or a temp file renamed onto it (its name starts with the file's); unnamed events count.
      if (filename !== undefined && !filename.startsWith(path.basename(f.file))) continue;
      const h = debounce.get(f.client);
      if (h !== undefined) {
        timers.clearTimeout(h);
        loopTimers.delete(h);
      }
      debounce.set(
        f.client,
        later(() => {
          debounce.delete(f.client);
          request(f.client, false, 'change');
        }, debounceMs),
      );
    }
  };

  const ensureWatches = async () => {
    for (const [dir, files] of folders) {
      if (watchers.has(dir) || signal.aborted) continue;
      // A folder that does not exist yet is polled until it does.
      const isDir = await fs.stat(dir).then((s) => s.isDirectory(), () => false);
      if (!isDir || signal.aborted || watchers.has(dir)) continue;
      try {
        const w = watch(
          dir,
          (filename) => onChange(files, filename),
          () => {
            // The folder went away (or the watch broke): drop it; the next poll watches again.
            watchers.get(dir)?.close();
            watchers.delete(dir);
            onChange(files, undefined);
          },
        );
        watchers.set(dir, w);
      } catch {
        // Raced with the folder's removal, or no watches left: the poll still covers it.
      }
    }
  };

  const poll = () => {
    void ensureWatches().finally(() => {
      for (const c of clients) request(c, false, 'poll');
      if (!signal.aborted) later(poll, pollMs);
    });
  };

  const secureTick = async () => {
    for (const c of clients) {
      if (signal.aborted) return;
      if (await clientRunning(c).catch(() => false)) request(c, true, 'secure-store timer');
    }
  };
  const scheduleSecure = () => {
    later(() => {
      void secureTick().finally(() => {
        if (!signal.aborted) scheduleSecure();
      });
    }, secureMs);
  };

  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

  if (!signal.aborted) {
    await ensureWatches();
    for (const c of clients) request(c, false, 'start');
    void secureTick();
    later(poll, pollMs);
    scheduleSecure();
  }

  await stopped;
  for (const h of loopTimers) timers.clearTimeout(h);
  loopTimers.clear();
  debounce.clear();
  for (const w of watchers.values()) w.close();
  watchers.clear();
  pending.clear();
  // The observation in progress finishes: its journal write is whole, never a partial file.
  while (draining) await draining;
  return summary;
}
