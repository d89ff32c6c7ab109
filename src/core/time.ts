// Epoch milliseconds as people read them. Stores and tokens are untrusted: an expiry can be any
// number (1e308, NaN), and Date#toISOString throws outside ±8.64e15 ms, so every time taken from
// a store or a token is printed through here.

/** ISO 8601, or the number itself with a note when no Date can hold it. */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `${ms} ms (not a date)` : d.toISOString();
}
