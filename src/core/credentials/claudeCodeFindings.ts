// What Claude Code's credential store can tell a user beyond its entries: grants that vanished
// since our last snapshot, stubs without tokens, duplicate keys for one server, a stale "needs
// authentication" stamp, a Keychain blob near its size limit, a file copy beside the Keychain item.
import { z } from 'zod';
import type { Finding } from '../model';
import type { Snapshot, StoreShape } from './backups';
import { nonEmpty, type BlobOrigin, type ParsedBlob, type ParsedEntry } from './claudeCodeBlob';
import { KEYCHAIN_NEAR_LIMIT_BYTES } from './claudeCodeKeychain';
import type { CredentialSummary } from './store';
import { STORE_FINDING, locationIn, offsetOfPath } from './storeFile';
import { isoTime } from '../time';

/** 2.1.197: a 401 stamp makes Claude Code skip a server for 15 min (4 h for plugin and claude.ai servers). */
const NEEDS_AUTH_TTL_MS = 15 * 60_000;
const NEEDS_AUTH_TTL_LONG_MS = 4 * 3600_000;

const NeedsAuthCacheSchema = z.record(z.string(), z.object({ timestamp: z.number() }).loose());

export function keychainUnavailableFinding(label: string, reason: string): Finding {
  return {
    code: STORE_FINDING.keychainUnavailable,
    severity: 'error',
    title: `${label} cannot be read`,
    detail: `/usr/bin/security could not read it: ${reason}. Unlock the login keychain (security unlock-keychain) and try again; nothing is written meanwhile.`,
  };
}

/** Per-entry problems: registered-but-no-token stubs, and several keys for one server name. */
export function entryFindings(blob: ParsedBlob, where: BlobOrigin): Finding[] {
  const findings: Finding[] = [];
  const at = (key: string) => (where.file ? { location: locationIn(where.file, blob.text, offsetOfPath(blob.text, ['mcpOAuth', key])) } : {});
  for (const { key, entry } of blob.entries) {
    if (!entry) continue;
    // Claude Code leaves such a stub after registering a client (DCR) without a completed login,
    // and after /mcp "Clear authentication" (it keeps the client and blanks the tokens).
    if (!nonEmpty(entry.accessToken) && !nonEmpty(entry.refreshToken) && !entry.expiresAt) {
      findings.push({
        code: STORE_FINDING.noToken,
        severity: 'info',
        title: `"${entry.serverName ?? key}" is registered but has no token`,
        detail: `The entry ${key}${entry.clientId ? ` (client ${entry.clientId})` : ''} holds no access or refresh token: the login never completed or was cleared. Run \`claude mcp login ${entry.serverName ?? key.split('|')[0]}\`.`,
        ...at(key),
      });
    }
  }
  const byName = new Map<string, ParsedEntry[]>();
  for (const p of blob.entries) {
    const name = p.entry?.serverName;
    if (name) byName.set(name, [...(byName.get(name) ?? []), p]);
  }
  for (const [name, group] of byName) {
    if (group.length < 2) continue;
    const describe = (p: ParsedEntry) =>
      `${p.key} (${p.entry?.serverUrl ?? 'no url'}, ${nonEmpty(p.entry?.accessToken) ? `expires ${p.entry?.expiresAt ? isoTime(p.entry.expiresAt) : 'never'}` : 'no token'})`;
    findings.push({
      code: STORE_FINDING.duplicateServer,
      severity: 'warning',
      title: `${group.length} credential entries for "${name}"`,
      detail: `${group.map(describe).join('; ')}. Claude Code uses only the key that matches the server's current URL and headers; the others are left over from an earlier URL, headers or callback port (anthropics/claude-code#43000, #67528) and can be removed.`,
      ...at(group[1]!.key),
    });
  }
  return findings;
}

/** The Keychain item nears what Claude Code can write (seed 001, failure-modes E5). */
export function keychainSizeFindings(text: string, location: string): Finding[] {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes < KEYCHAIN_NEAR_LIMIT_BYTES) return [];
  return [
    {
      code: STORE_FINDING.keychainNearLimit,
      severity: 'warning',
      title: `${location} is ${bytes} bytes, close to what Claude Code can store`,
      detail: `Claude Code writes this item through \`security -i\`, which fits about 2,013 bytes of JSON; larger blobs have been cut off or silently not saved, losing every MCP login (anthropics/claude-code#28542, #30337, #92839). Log out of MCP servers you no longer use (claude mcp logout <name>) to make room.`,
    },
  ];
}

/**
 * What the store lost since `snap`, our newest snapshot of it (seed 001): the user's Claude login,
 * MCP grants, or the whole store. Only what existed then and was meant to stay counts, so our
 * own deletions are not reported. `now` is undefined when the store no longer exists.
 */
export function lossFindings(snap: Snapshot | undefined, location: string, now: StoreShape | undefined): Finding[] {
  if (!snap) return [];
  const expected = snap.expectedAfter ?? { topLevelKeys: snap.topLevelKeys, entryKeys: snap.entries.map((x) => x.key) };
  const keptTop = snap.topLevelKeys.filter((k) => expected.topLevelKeys.includes(k));
  const keptEntries = snap.entries.filter((x) => expected.entryKeys.includes(x.key));
  const when = `snapshot ${snap.id} (${snap.createdAt})`;
  const restoreHint = `restored tokens may since have been rotated; log in again if the server refuses them. If the change was yours, \`mcp-auth-doctor backup\` accepts the current state`;
  if (!now) {
    if (keptTop.length === 0) return [];
    return [
      {
        code: STORE_FINDING.storeGone,
        severity: 'warning',
        title: "Claude Code's credential store is gone",
        detail: `${location} held ${keptEntries.length} MCP grant(s)${keptTop.includes('claudeAiOauth') ? ' and your Claude login' : ''} at ${when} and no longer exists. If you did not log out, \`mcp-auth-doctor restore ${snap.id}\` puts it back (${restoreHint}).`,
      },
    ];
  }
  const findings: Finding[] = [];
  if (keptTop.includes('claudeAiOauth') && !now.topLevelKeys.includes('claudeAiOauth')) {
    findings.push({
      code: STORE_FINDING.accountLoginLost,
      severity: 'warning',
      title: 'Your Claude login was removed from the credential store',
      detail: `${location} held claudeAiOauth (your own Claude login) at ${when} and no longer does; Claude Code will say you are logged out. A write that dropped it is the bug in anthropics/claude-code#45551 and #36779. If you did not log out, \`mcp-auth-doctor restore ${snap.id}\` restores the whole store (${restoreHint}).`,
    });
  }
  const lost = keptEntries.filter((x) => !now.entryKeys.includes(x.key));
  if (lost.length > 0) {
    findings.push({
      code: STORE_FINDING.entriesLost,
      severity: 'warning',
      title: `${lost.length} MCP grant(s) disappeared from the credential store`,
      detail: `Present at ${when}, gone now: ${lost.map((x) => `${x.serverName ?? '?'} (${x.key})`).join(', ')}. \`claude mcp logout\` removes entries on purpose; otherwise \`mcp-auth-doctor restore ${snap.id} --entry <key>\` restores one (${restoreHint}).`,
    });
  }
  return findings;
}

/**
 * A 401 stamp in `mcp-needs-auth-cache.json` (`{"<name>": {"timestamp": ms}}`) makes Claude Code
 * skip a server for a while, even after a valid token is stored (client-formats.md: the stamp
 * outlived a successful connect). Claude Code reads a broken cache as empty; so does this check.
 */
export function needsAuthFindings(cacheFile: string, cacheText: string, entries: CredentialSummary[], now: number): Finding[] {
  let cache: z.infer<typeof NeedsAuthCacheSchema>;
  try {
    const parsed = NeedsAuthCacheSchema.safeParse(JSON.parse(cacheText));
    if (!parsed.success) return [];
    cache = parsed.data;
  } catch {
    return [];
  }
  const findings: Finding[] = [];
  for (const s of entries) {
    const name = s.serverName;
    const stamp = name !== undefined && Object.hasOwn(cache, name) ? cache[name] : undefined;
    if (!name || !stamp || !s.hasAccessToken || (s.expiresAt !== undefined && s.expiresAt <= now)) continue;
    const ttl = /^(plugin:|claude\.ai )/.test(name) ? NEEDS_AUTH_TTL_LONG_MS : NEEDS_AUTH_TTL_MS;
    const until = stamp.timestamp + ttl;
    if (until <= now) continue;
    findings.push({
      code: STORE_FINDING.staleNeedsAuth,
      severity: 'warning',
      title: `Claude Code still shows "${name}" as needing authentication`,
      detail: `mcp-needs-auth-cache.json stamped ${name} after a 401 at ${isoTime(stamp.timestamp)}, and Claude Code skips it until ${isoTime(until)}, although a valid token (${s.accessTokenFingerprint}) is stored now. Reconnect it from /mcp, or wait.`,
      location: locationIn(cacheFile, cacheText, offsetOfPath(cacheText, [name])),
    });
  }
  return findings;
}

/** macOS: a file copy beside the Keychain item is ignored by Claude Code and drifts (failure-modes E10). */
export function splitStoreFinding(itemLabel: string, file: string, fileEntryCount: number): Finding {
  return {
    code: STORE_FINDING.splitStore,
    severity: 'info',
    title: 'Claude Code credentials exist in both the Keychain and a file',
    detail: `Claude Code reads ${itemLabel}; ${file} (${fileEntryCount} MCP grant(s)) is only used when that item is absent, so its tokens may be stale.`,
    location: { file, line: 1, column: 1 },
  };
}
