// When to look again without any file changing: at the next expiry moment (a token entering the
// margin, or expiring), and every mcpAuthDoctor.probe.intervalMinutes if the user set one. No
// polling otherwise: file changes, repairs and commands trigger the other passes.
import type * as vscode from 'vscode';
import type { StatusReport } from '../core/status';
import type { RescanReason } from './activate';

const MIN_WAIT_MS = 1000;
/** A day: far moments are re-armed by the next pass (and Node's timers cap near 24.8 days anyway). */
const MAX_WAIT_MS = 24 * 3600_000;
/** Fire just after the moment, so the pass sees the token on the far side of it. */
const SLACK_MS = 250;

/** The next moment something changes by the clock alone: a stored expiry, or that expiry minus the margin. */
export function nextExpiryMoment(report: Pick<StatusReport, 'servers'>, marginMs: number, now: number): number | undefined {
  const moments = report.servers
    .filter(({ server }) => server.enabled && server.transport !== 'stdio')
    .flatMap(({ token }) => (token?.expiresAt ? [token.expiresAt - marginMs, token.expiresAt] : []))
    .filter((t) => t > now);
  return moments.length ? Math.min(...moments) : undefined;
}

/** How long to wait for `moment`, clamped to [1 s, 24 h]. */
export function waitFor(moment: number, now: number): number {
  return Math.min(Math.max(moment - now + SLACK_MS, MIN_WAIT_MS), MAX_WAIT_MS);
}

export class RescanSchedule implements vscode.Disposable {
  private expiry: { at: number; timer: NodeJS.Timeout } | undefined;
  private interval: { ms: number; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly rescan: (reason: RescanReason) => unknown) {}

  /** Re-armed after every pass, from what that pass read. */
  armExpiry(report: Pick<StatusReport, 'servers'>, marginMs: number, now = Date.now()): void {
    if (this.expiry) clearTimeout(this.expiry.timer);
    this.expiry = undefined;
    const moment = nextExpiryMoment(report, marginMs, now);
    if (moment === undefined) return;
    const wait = waitFor(moment, now);
    const timer = setTimeout(() => {
      this.expiry = undefined;
      void this.rescan('expiry timer');
    }, wait);
    this.expiry = { at: now + wait, timer };
  }

  /** The periodic pass (0: off); re-armed only when the setting changes. */
  armInterval(ms: number): void {
    if ((this.interval?.ms ?? 0) === ms) return;
    if (this.interval) clearInterval(this.interval.timer);
    this.interval = ms > 0 ? { ms, timer: setInterval(() => void this.rescan('interval'), ms) } : undefined;
  }

  /** When the expiry timer fires (epoch ms), if armed. */
  nextWake(): number | undefined {
    return this.expiry?.at;
  }

  dispose(): void {
    if (this.expiry) clearTimeout(this.expiry.timer);
    if (this.interval) clearInterval(this.interval.timer);
    this.expiry = undefined;
    this.interval = undefined;
  }
}
