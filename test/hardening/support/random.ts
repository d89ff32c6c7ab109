// Seeded randomness for the hardening suite: every generated input follows from one seed, printed
// at the start of the run, so a failure replays with HARDENING_SEED=<seed>. HARDENING_SCALE
// multiplies the number of generated inputs (default 1, the CI size).
import { createHash } from 'node:crypto';

function seedFromEnv(): number {
  const given = process.env.HARDENING_SEED;
  if (given === undefined || given === '') return 20_260_607;
  const n = Number(given);
  return Number.isInteger(n) ? n >>> 0 : createHash('sha256').update(given).digest().readUInt32LE(0);
}

export const SEED = seedFromEnv();
export const SCALE = Math.max(0.01, Number(process.env.HARDENING_SCALE ?? '1') || 1);

// Printed once per process (this module is loaded once), before any test runs.
console.log(`hardening: seed ${SEED}, scale ${SCALE} (replay with HARDENING_SEED=${SEED})`);

/** How many inputs to generate for a parser at this scale. */
export function count(base: number): number {
  return Math.max(1, Math.round(base * SCALE));
}

export interface Rng {
  /** [0, 1) */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Buffer;
}

/** mulberry32: small, fast and good enough to spread inputs; not for secrets. */
export function rng(label: string): Rng {
  let a = createHash('sha256').update(`${SEED}:${label}`).digest().readUInt32LE(0);
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r: Rng = {
    next,
    int: (n) => Math.floor(next() * n),
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
    bytes: (n) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
  return r;
}
