// The credential journal in the editor (issue 13): on activation and whenever a client's
// credential file changes, every store's new content is journaled and compared with the last one
// (core/journal). The macOS Keychain and the OS keyring, which no watcher sees and whose reads can
// raise a prompt, are read only on a timer and only while a Claude Code or Codex process runs.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { claudeConfigDir, codexHome, type Environment } from '../core/environment';
import { journalFor, type Journal, type JournalObservation, type ObservedState } from '../core/journal/journal';
import { CLIENTS } from '../core/clients/registry';
import { journalSources } from '../core/journal/sources';
import { runningClients, type RunningClients } from '../core/repair/processes';
import { ConfigWatcher } from './configWatcher';
import { editorEnvironment } from './environment';

const DAY_MS = 86_400_000;
/** How often the Keychain / keyring are looked at while a client runs. */
export const SECURE_STORE_INTERVAL_MS = 60_000;

export interface JournalSettings {
  enabled: boolean;
  maxStates: number;
  maxAgeDays: number;
}

/** `mcpAuthDoctor.journal.*`; a value out of range falls back to the default (never prunes to nothing). */
export function journalSettings(): JournalSettings {
  const c = vscode.workspace.getConfiguration('mcpAuthDoctor.journal');
  const positive = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback);
  return {
    enabled: c.get<unknown>('enabled', true) !== false,
    maxStates: Math.trunc(positive(c.get<unknown>('maxStates'), 100)),
    maxAgeDays: positive(c.get<unknown>('maxAgeDays'), 30),
  };
}

export type ObserveReason = 'activation' | 'file change' | 'secure-store timer' | 'after restore' | 'test';

/** One observation the watcher made: the states journaled and the losses found. */
export interface JournalPass {
  reason: ObserveReason;
  readSecureStores: boolean;
  observation: JournalObservation;
}

/** The credential files the clients write (Keychain and keyrings cannot be watched). */
export function credentialFiles(e: Environment): string[] {
  return [path.join(claudeConfigDir(e), '.credentials.json'), path.join(codexHome(e), '.credentials.json'), ...CLIENTS.flatMap((c) => c.journal?.files(e) ?? [])];
}

export class JournalWatcher implements vscode.Disposable {
  private readonly passed = new vscode.EventEmitter<JournalPass>();
  /** Fires after each observation that journaled something. */
  readonly onDidObserve = this.passed.event;
  /** Short debounce: a client rewriting its store twice in a row should give two states where it can. */
  private readonly files = new ConfigWatcher(() => void this.observe('file change'), 50);
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private journalCache: { key: string; journal: Journal } | undefined;
  private disposed = false;

  constructor(
    private readonly log: (line: string) => void,
    private readonly listClients: () => Promise<RunningClients> = () => runningClients(),
  ) {}

  /** Starts (or, after a settings change, restarts) watching; stops everything when turned off. */
  async start(): Promise<void> {
    this.stopTimers();
    if (!journalSettings().enabled || this.disposed) {
      this.files.dispose();
      return;
    }
    await this.files.watch(credentialFiles(editorEnvironment()));
    this.timer = setInterval(() => void this.secureStoreTick(), SECURE_STORE_INTERVAL_MS);
    await this.observe('activation');
  }

  /** The journal as the settings bound it now. */
  journal(): Journal {
    const s = journalSettings();
    const e = editorEnvironment();
    const key = JSON.stringify([s.maxStates, s.maxAgeDays, e.env.MCP_AUTH_DOCTOR_JOURNAL_DIR ?? '', e.home]);
    if (this.journalCache?.key !== key) this.journalCache = { key, journal: journalFor(e, { maxStates: s.maxStates, maxAgeMs: s.maxAgeDays * DAY_MS }) };
    return this.journalCache.journal;
  }

  /**
   * Journals every store that can be read without a prompt (and the secure stores when asked):
   * one observation at a time, so two changes in a row are compared in order.
   */
  observe(reason: ObserveReason, readSecureStores = false): Promise<JournalPass | undefined> {
    const run = this.chain.then(() => this.observeNow(reason, readSecureStores));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async observeNow(reason: ObserveReason, readSecureStores: boolean): Promise<JournalPass | undefined> {
    if (this.disposed || !journalSettings().enabled) return undefined;
    const e = editorEnvironment();
    const journal = this.journal();
    const states: ObservedState[] = [];
    for (const source of journalSources(e, { readSecureStores })) {
      try {
        states.push(...(await journal.observe(source)).states);
      } catch (err) {
        // One store that cannot be read must not keep the other from being journaled.
        this.log(`journal: ${source.client} not journaled now (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    const observation: JournalObservation = {
      recorded: states.some((s) => s.recorded),
      states,
      losses: states.flatMap((s) => s.losses),
      findings: states.flatMap((s) => s.findings),
    };
    for (const s of states.filter((x) => x.recorded)) {
      const what = s.classification.verdict === 'deliberate-removal' ? `, one entry removed deliberately (${s.classification.removed?.serverName ?? s.classification.removed?.key})` : '';
      this.log(`journal (${reason}): new state ${s.snapshot?.id} of ${s.location}: ${s.classification.verdict}${what}${s.losses.length ? `; ${s.losses.map((l) => `${l.kind} ×${l.count}${l.alarm ? '' : ' (no alarm)'}`).join(', ')}` : ''}`);
    }
    const pass: JournalPass = { reason, readSecureStores, observation };
    if (observation.recorded && !this.disposed) this.passed.fire(pass);
    return pass;
  }

  /** The Keychain / keyring: only while a client runs (then its own reads raise no new prompt for us to add). */
  private async secureStoreTick(): Promise<void> {
    const running = await this.listClients().catch(() => undefined);
    if (!running?.known || running.processes.length === 0) return;
    await this.observe('secure-store timer', true);
  }

  private stopTimers(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.stopTimers();
    this.files.dispose();
    this.passed.dispose();
  }
}
