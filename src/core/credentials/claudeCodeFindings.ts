// What Claude Code's credential store can tell a user beyond its entries: grants that vanished
// since our last snapshot, stubs without tokens, duplicate keys for one server, a stale "needs
// authentication" stamp, a Keychain blob near its size limit, a file copy beside the Keychain item.
import * as z from 'zod';
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
        title: entry.clientId ? `"${entry.serverName ?? key}" is registered but has no token` : `"${entry.serverName ?? key}" asks for a login and has no token`,
        // 2.1.332 writes a discovery-only entry (no client) when a server answers 401 on connect,
        // e.g. during `claude mcp list`; 2.1.197 registered a client there.
        detail: entry.clientId
          ? `The entry ${key} (client ${entry.clientId}) holds no access or refresh token: the login never completed or was cleared. Run \`claude mcp login ${entry.serverName ?? key.split('|')[0]}\`.`
          : `The entry ${key} holds only what Claude Code found out about the server's authorization (it answered 401 without a token); no client is registered and no login happened yet. Run \`claude mcp login ${entry.serverName ?? key.split('|')[0]}\`.`,
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

/** Finding codes of Claude Code's store beyond STORE_FINDING's shared ones (docs/findings.md). */
export const CLAUDE_STORE_FINDING = {
  /** Many entries at once down to their registration: every token blanked, clients kept. */
  grantsZeroed: 'credentials.grants-zeroed',
  /** mcpOAuth empty (or gone) while our snapshots or the needs-auth cache show servers that had grants. */
  grantsEmptied: 'credentials.grants-emptied',
  /** 2.1.332 moved part of the Keychain blob into a sealed `<service>-overflow-<slot>` item (claudeCodeKeychainOverflow.ts). */
  keychainOverflow: 'credentials.keychain-overflow',
  /** The main item points at an overflow item that is gone or does not open: Claude Code reads the item without those sections. */
  keychainOverflowLost: 'credentials.keychain-overflow-lost',
} as const;

/** Where the blob lives when 2.1.332 split it (info: nothing is wrong, and writes keep the split). */
export function keychainOverflowFinding(location: string, overflowItem: string, movedEntries: number, movedSections: string[]): Finding {
  return {
    code: CLAUDE_STORE_FINDING.keychainOverflow,
    severity: 'info',
    title: `${location} is split: part of it lives in Keychain item "${overflowItem}"`,
    detail:
      `Claude Code 2.1.332 moves what no longer fits one \`security -i\` line into a sealed overflow item (${movedEntries} MCP grant(s)` +
      `${movedSections.length ? `; sections ${movedSections.join(', ')}` : ''}). Every entry is shown as Claude Code reassembles it; our writes and restores keep the split valid ` +
      `(untested on macOS). Do not delete "${overflowItem}" by hand: the grants in it would be lost.`,
  };
}

/** The pointer names an overflow item that is missing or sealed with another key (2.1.332 store `de`: "its sections are absent"). */
export function keychainOverflowLostFinding(location: string, overflowItem: string, why: string): Finding {
  return {
    code: CLAUDE_STORE_FINDING.keychainOverflowLost,
    severity: 'error',
    title: `Part of ${location} is lost: its overflow item "${overflowItem}" ${why}`,
    detail:
      `The item points at "${overflowItem}" for the MCP grants it could not hold, but that item ${why}. Claude Code reads the rest without them, ` +
      `and its next write makes the loss permanent. Restore a snapshot taken before (mcp-auth-doctor backups / restore), or log in again ` +
      `(claude mcp login <name>). We write nothing else to this store until then.`,
  };
}

/** At least this many registration-only entries, and nearly all of them, look like one write wiping the store, not one unfinished login. */
const ZEROED_MIN_ENTRIES = 2;
const ZEROED_SHARE = 0.8;

/** The newest of our snapshots that held a token for a key, newest first in `snaps`. */
export interface GrantSource {
  snapshotId: string;
  createdAt: string;
}

/**
 * An entry with a client but no access or refresh token: what Claude Code leaves after a
 * registration without a finished login, and what whole-store wipes leave behind everywhere at
 * once (anthropics/claude-code#93537: concurrent claude processes, most often across an
 * auto-update, zero every mcpOAuth entry; #84274: 19 of 20 entries reduced to registration
 * fields; #83707: 11 registrations, all with an empty accessToken).
 */
function registrationOnly(e: { clientId?: string | null; accessToken?: string | null; refreshToken?: string | null }): boolean {
  return !!nonEmpty(e.clientId) && !nonEmpty(e.accessToken) && !nonEmpty(e.refreshToken);
}

/**
 * Detection from the store alone: many registration-only entries, nearly all the entries that
 * have a client. Repair: restore each from the newest snapshot that still held its tokens (the
 * restore repair, one entry at a time, after a snapshot of the current store), else log in again.
 */
export function zeroedGrantsFindings(blob: ParsedBlob, where: BlobOrigin, tokensIn: (key: string) => GrantSource | undefined): Finding[] {
  const withClient = blob.entries.filter((p) => p.entry && nonEmpty(p.entry.clientId));
  const zeroed = withClient.filter((p) => registrationOnly(p.entry!));
  if (zeroed.length < ZEROED_MIN_ENTRIES || zeroed.length < withClient.length * ZEROED_SHARE) return [];
  const restorable = zeroed.flatMap((p) => {
    const src = tokensIn(p.key);
    return src ? [{ key: p.key, name: p.entry?.serverName ?? p.key.split('|')[0]!, src }] : [];
  });
  const relogin = zeroed.filter((p) => !restorable.some((r) => r.key === p.key)).map((p) => p.entry?.serverName ?? p.key.split('|')[0]!);
  const steps: string[] = [];
  for (const r of restorable) steps.push(`\`mcp-auth-doctor restore ${r.src.snapshotId} --entry '${r.key}'\` (${r.name}, tokens as of ${r.src.createdAt})`);
  if (relogin.length) steps.push(`no snapshot holds tokens for ${relogin.join(', ')}: log in again (\`claude mcp login <name>\`)`);
  return [
    {
      code: CLAUDE_STORE_FINDING.grantsZeroed,
      severity: 'warning',
      title: `${zeroed.length} of ${withClient.length} MCP grants lost their tokens at once`,
      detail:
        `In ${where.location}, ${zeroed.map((p) => p.entry?.serverName ?? p.key).join(', ')} keep their client registration but no access or refresh token. ` +
        `One unfinished login leaves one such entry; this many at once is the wipe in anthropics/claude-code#93537 (several claude processes writing the store, most often right after an auto-update) and #84274. ` +
        `Quit the other Claude Code sessions first, then: ${steps.join('; ')}. A restored refresh token may have been rotated since; log in again if the server refuses it.`,
    },
  ];
}

/**
 * mcpOAuth is empty or absent while our snapshots (or Claude Code's own needs-auth cache) show
 * servers that had grants: the write that rotated the account token emptied it
 * (anthropics/claude-code#80422), or a Claude account /logout or switch discarded every MCP grant
 * with it (#90647). `lost` are the keys a snapshot held tokens for; `stamped` are server names the
 * needs-auth cache names (Claude Code stamps a server that then asked for a login again).
 */
export function emptiedGrantsFindings(where: { location: string }, lost: { key: string; name: string; src: GrantSource }[], stamped: string[]): Finding[] {
  if (lost.length === 0) return [];
  const newest = lost.map((l) => l.src).sort((a, b) => b.snapshotId.localeCompare(a.snapshotId))[0]!;
  const names = lost.map((l) => l.name);
  const stampedToo = names.filter((n) => stamped.includes(n));
  return [
    {
      code: CLAUDE_STORE_FINDING.grantsEmptied,
      severity: 'warning',
      title: `Claude Code's MCP grants are empty; ${lost.length} were stored before`,
      detail:
        `${where.location} holds no MCP grant, but snapshot ${newest.snapshotId} (${newest.createdAt}) held tokens for ${names.join(', ')}` +
        `${stampedToo.length ? `, and Claude Code has since marked ${stampedToo.join(', ')} as needing authentication` : ''}. ` +
        `A Claude account token refresh that rewrote the store without them (anthropics/claude-code#80422) or a Claude /logout or account switch (#90647) empties mcpOAuth this way. ` +
        `Restore them one at a time: ${lost.map((l) => `\`mcp-auth-doctor restore ${l.src.snapshotId} --entry '${l.key}'\``).join(', ')}; each takes a snapshot first and touches only that entry, your Claude login included. Where a server refuses the restored tokens, log in again.`,
    },
  ];
}

/** For each key, the newest snapshot (ids sort by time) whose fingerprints show an access or refresh token. */
export function newestTokensByKey(snaps: SnapshotInfoLike[]): Map<string, GrantSource> {
  const out = new Map<string, GrantSource>();
  for (const s of [...snaps].sort((a, b) => b.id.localeCompare(a.id))) {
    for (const e of s.entries) {
      if (out.has(e.key) || (!e.accessToken && !e.refreshToken)) continue;
      out.set(e.key, { snapshotId: s.id, createdAt: s.createdAt });
    }
  }
  return out;
}

export interface SnapshotInfoLike {
  id: string;
  createdAt: string;
  entries: { key: string; serverName?: string; accessToken?: string; refreshToken?: string }[];
}
