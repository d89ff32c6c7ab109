// The key both clients use for a server's credentials: `<name>|<sha256 hex prefix 16>` of the
// compact JSON {type, url, headers} in that key order (verified on Claude Code 2.1.197 and
// Codex 0.169.0: shared/docs/client-formats.md). Codex always hashes type "http" and empty
// headers (codex-rs/rmcp-client/src/oauth.rs compute_store_key); Claude Code hashes the
// server's own type and headers (anthropics/claude-code#67528).
import { createHash } from 'node:crypto';

export function storageKey(name: string, type: string, url: string, headers: Record<string, string> = {}): string {
  const digest = createHash('sha256').update(JSON.stringify({ type, url, headers })).digest('hex');
  return `${name}|${digest.slice(0, 16)}`;
}

/** A short SHA-256 prefix of a secret: safe to show, enough to tell two tokens apart. */
export function fingerprint(secret: string): string {
  return 'sha256:' + createHash('sha256').update(secret).digest('hex').slice(0, 12);
}
