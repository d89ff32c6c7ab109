// What Codex's credential store can tell a user beyond its entries (failure-modes E7, E10, E11):
// the picture of both stores as read, and the findings drawn from it.
import { promises as fs } from 'node:fs';
import type { Finding } from '../model';
import { codexKey, fingerprintsOfView, type CodexCredentialSummary, type GrantView } from './codexFormat';
import { usesSecretsBackend, type CodexCredentialSettings, type CodexOAuthStoreMode } from './codexSettings';
import { locationIn, offsetOfPath } from './storeFile';
import { isoTime } from '../time';
import type { KeychainItem } from './macKeychain';
import { isKeychainNotRead } from './macKeychainCodex';

/** Finding codes of the Codex store (next to STORE_FINDING in storeFile.ts). */
export const CODEX_FINDING = {
  invalidEntry: 'credentials.invalid-entry',
  storeDrift: 'credentials.store-drift',
  keyringUnavailable: 'credentials.keyring-unavailable',
  keyringValueInvalid: 'credentials.keyring-value-invalid',
  keyringAmbiguous: 'credentials.keyring-ambiguous',
  encryptedSecrets: 'credentials.encrypted-secrets',
  issuerUnbound: 'credentials.issuer-unbound',
  notConfigured: 'credentials.not-configured',
  needsLogin: 'credentials.needs-login',
  keychainNotRead: 'credentials.keychain-not-read',
  symlinkNotWritable: 'credentials.symlink-not-writable',
  filePermissions: 'credentials.file-permissions',
} as const;

/** One entry of the fallback file: as stored, and as a grant. */
export type FileEntry = { raw: Record<string, unknown>; view: GrantView };

/** The fallback file as read: a malformed one is one finding, and nothing is written to it. */
export type FileState =
  | { state: 'absent' }
  | { state: 'broken'; finding: Finding; text?: string }
  | { state: 'present'; text: string; entries: Map<string, FileEntry> };

/** One keyring item as read (`error`: the keyring answered with an error for this account). */
export type KeyringCopy =
  | { state: 'present'; text: string; raw: Record<string, unknown>; view: GrantView }
  | { state: 'absent' }
  | { state: 'invalid'; text: string; reason: string }
  // `notRead`: macOS, the item seen by its attributes only (reason CODEX_KEYCHAIN_NOT_READ).
  | { state: 'error'; reason: string; ambiguous: boolean; notRead?: KeychainItem };

export interface KeyringState {
  /** false: not consulted (no Codex here) or out of reach (for the secrets file: not decryptable). */
  reachable: boolean;
  /** Direct keyring items (default) or the encrypted secrets file (`secret_auth_storage`). */
  backend?: 'direct' | 'secrets';
  /** Secrets file only: how many entries it holds, ours or not. */
  secretEntries?: number;
  reason?: string;
  consulted: boolean;
  copies: Map<string, KeyringCopy>;
}

/** Both stores as read for one listing or write. */
export interface Picture {
  settings: CodexCredentialSettings;
  file: FileState;
  keyring: KeyringState;
  keys: string[];
  /** Grants we had reason to look up (configured servers, file entries) before asking the keyring. */
  lookedFor: number;
}

export function fileEntry(file: FileState, key: string): FileEntry | undefined {
  return file.state === 'present' ? file.entries.get(key) : undefined;
}

/** Where the two stores are, for the words of a finding. */
export interface CodexStorePlaces {
file: string;
keyringLabel: string;
secretsFile: string;
}

/**
 * What is wrong with Codex's credentials beyond their entries: a broken or exposed file, an
 * unreachable keyring, copies in the store Codex does not read (drift), grants of servers no
 * longer configured, and grants Codex will not use (`used`: the copies Codex reads).
 */
export async function codexFindings(pic: Picture, used: CodexCredentialSummary[], at: CodexStorePlaces): Promise<Finding[]> {
  const findings: Finding[] = [];
  const { mode } = pic.settings;
  if (pic.file.state === 'broken') findings.push(pic.file.finding);
  findings.push(...(await fileFindings(at.file)));

  if (usesSecretsBackend(pic.settings)) {
    if (pic.keyring.consulted && !pic.keyring.reachable) {
      findings.push({
        code: CODEX_FINDING.encryptedSecrets,
        severity: mode === 'keyring' ? 'error' : 'warning',
        title: "Codex's encrypted secrets file cannot be read",
        detail:
          `With the secret_auth_storage feature on (the default on Windows), Codex keeps MCP logins in ${at.secretsFile}, encrypted with a key in the OS keyring (service "codex"); ${pic.keyring.reason}. ` +
          (mode === 'keyring'
            ? 'Codex (mcp_oauth_credentials_store = "keyring") can neither read nor save MCP logins until it can; nothing will be written to it.'
            : 'Codex (auto) then reads and saves MCP logins in its credentials file instead; nothing will be written to the secrets file.') +
          ' If the key is gone for good, move the file aside and log in again.',
      });
    }
  } else if (pic.keyring.consulted && !pic.keyring.reachable && mode !== 'file' && pic.lookedFor > 0) {
    findings.push({
      code: CODEX_FINDING.keyringUnavailable,
      // In auto mode Codex falls back to its file, so a machine without a keyring is normal, not a problem.
      severity: mode === 'keyring' ? 'error' : 'info',
      title: `${at.keyringLabel} cannot be reached`,
      detail:
        `${pic.keyring.reason}. ` +
        (mode === 'keyring'
          ? 'Codex is set to mcp_oauth_credentials_store = "keyring", so it can neither read nor save MCP logins until the keyring answers. Unlock or start the keyring, or set mcp_oauth_credentials_store = "file" (plain-text tokens in a 0600 file).'
          : 'Codex (mcp_oauth_credentials_store = "auto") then reads and saves MCP logins in its credentials file instead; logins kept in the keyring are not seen until it answers again.'),
    });
  }

  const configured = pic.settings.servers;
  for (const key of pic.keys) {
    const f = fileEntry(pic.file, key);
    const k = pic.keyring.copies.get(key);
    const name = f?.view.serverName ?? (k?.state === 'present' ? k.view.serverName : key.split('|')[0]);
    if (k?.state === 'error' && mode !== 'file' && isKeychainNotRead(k)) findings.push(keychainNotReadFinding(key, name ?? key, k, !!f, at.keyringLabel));
    else if (k?.state === 'invalid' || (k?.state === 'error' && mode !== 'file')) {
      findings.push(keyringEntryFinding(key, name ?? key, k, mode, !!f, at.keyringLabel));
    }
    findings.push(...driftFindings(pic, key, name ?? key, f, k, at.file, at.keyringLabel));
    if (configured && (f || k?.state === 'present')) {
      const view = f?.view ?? (k?.state === 'present' ? k.view : undefined);
      const isConfigured = configured.some((s) => codexKey(s.name, s.url) === key || (view && s.name === view.serverName && s.url === view.serverUrl));
      if (!isConfigured && !view?.executorOwned) {
        const where = [f ? at.file : undefined, k?.state === 'present' ? at.keyringLabel : undefined].filter(Boolean).join(' and ');
        // The grant's key comes from the entry's own server_name (Codex 0.171 looks it up by name
        // and URL), so it may be anything the file holds: quoted short, located where it is stored.
        const storedKey = (f as { storedKey?: string } | undefined)?.storedKey ?? key;
        findings.push({
          code: CODEX_FINDING.notConfigured,
          severity: 'info',
          title: `Codex credentials for "${clipped(name ?? key)}", which is no longer configured`,
          detail: `${where} hold${f && k?.state === 'present' ? '' : 's'} a grant under ${clipped(storedKey)} (${clipped(view?.serverUrl ?? 'unknown URL')}), but no server in config.toml has that name and URL: the server was removed, renamed or moved. \`codex mcp logout\` only works for configured servers; this entry can be removed here.`,
          ...(f ? { location: locationIn(at.file, (pic.file as { text: string }).text, offsetOfPath((pic.file as { text: string }).text, [storedKey])) } : {}),
        });
      }
    }
  }
  for (const s of used) {
    if (s.executorOwned) continue;
    if (s.usable && s.hasRefreshToken && !s.issuer?.trim()) findings.push(issuerUnboundFinding(s, s.store === 'file' ? at.file : at.keyringLabel));
    if (s.usable) continue;
    findings.push({
      code: CODEX_FINDING.needsLogin,
      severity: 'warning',
      title: `Codex will ask to log in to "${s.serverName ?? s.key}" again`,
      detail: `The grant Codex reads (${s.store === 'file' ? at.file : at.keyringLabel}, ${s.key}) cannot be used: ${s.unusableReason}. Run \`codex mcp login ${s.serverName ?? s.key.split('|')[0]}\`.`,
    });
  }
  return findings;
}

/**
 * A refresh token with no issuer: Codex 0.169 and 0.171 will not send it anywhere (issuer_binding.rs
 * `validate_refresh_token_issuer`: "OAuth refresh credentials for server X are missing an
 * authorization server issuer; authorization required"). While the access token lasts Codex uses it
 * alone (rmcp_client.rs: "stored OAuth refresh credentials could not be bound to their issuer for MCP
 * server `X`; using the stored access token without refresh"); then it asks for a login. Entries
 * written before Codex stored `issuer` look like this. Our refresh binds the issuer it refreshed at;
 * our login writes the issuer it logged in at.
 */
function issuerUnboundFinding(s: CodexCredentialSummary, where: string): Finding {
  const name = s.serverName ?? s.key.split('|')[0] ?? s.key;
  const until = s.expiresAt ? `until the access token expires (${isoTime(s.expiresAt)})` : 'while the access token is accepted';
  return {
    code: CODEX_FINDING.issuerUnbound,
    severity: 'warning',
    title: `Codex will not refresh the login for "${name}": it records no issuer`,
    detail: `The grant Codex reads (${where}, ${s.key}) has a refresh token but no authorization-server issuer, so Codex refuses to refresh it ("stored OAuth refresh credentials could not be bound to their issuer") and uses the access token alone ${until}, then asks to log in again. Refresh it here (the refreshed entry records the issuer) or run \`codex mcp login ${name}\`.`,
  };
}

async function fileFindings(file: string): Promise<Finding[]> {
  let st;
  try {
    st = await fs.lstat(file);
  } catch {
    return [];
  }
  const findings: Finding[] = [];
  if (st.isSymbolicLink()) {
    // oauth.rs `open_fallback_file_for_write`: O_NOFOLLOW, then "credentials path is not a regular file".
    findings.push({
      code: CODEX_FINDING.symlinkNotWritable,
      severity: 'warning',
      title: "Codex's credentials file is a symbolic link",
      detail: `${file} points to ${await fs.readlink(file).catch(() => '?')}. Codex reads through the link but refuses to write through it (it opens the file with O_NOFOLLOW), so its MCP logins and token refreshes fail. Replace the link with the file itself.`,
      location: { file: file, line: 1, column: 1 },
    });
    st = await fs.stat(file).catch(() => undefined);
  }
  if (st && process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    findings.push({
      code: CODEX_FINDING.filePermissions,
      severity: 'warning',
      title: "Codex's credentials file is readable by other users",
      detail: `${file} has mode ${(st.mode & 0o777).toString(8)}; it holds live tokens, and Codex itself creates it 0600. Run \`chmod 600 ${file}\`.`,
      location: { file: file, line: 1, column: 1 },
    });
  }
  return findings;
}

/**
 * macOS: Codex's item for this grant exists (seen by its attributes) and was not read, since macOS
 * would ask first. Codex itself reads it without asking, so this is a login, not a fault.
 */
function keychainNotReadFinding(key: string, name: string, copy: Extract<KeyringCopy, { state: 'error' }>, inFile: boolean, label: string): Finding {
  const item = copy.notRead;
  const attrs = item ? `account ${item.account || '(none)'}${item.modified ? `, last changed ${item.modified}` : ''}, in ${item.keychain}` : `account ${key}`;
  return {
    code: CODEX_FINDING.keychainNotRead,
    severity: 'info',
    title: `Codex's login for "${name}" is in the Keychain (not read)`,
    detail:
      `${label}, ${attrs}: ${copy.reason}. Only Codex may read this item without macOS asking, so its token was not read and not checked. ` +
      (inFile ? "Codex reads this item first and ignores the copy in its credentials file. " : '') +
      'To check it, run "MCP Auth: Read Codex\'s Keychain Item…" or `mcp-auth-doctor status --read-keychain` (macOS will ask; "Allow" reads it once).',
  };
}

function keyringEntryFinding(key: string, name: string, copy: Extract<KeyringCopy, { state: 'invalid' | 'error' }>, mode: CodexOAuthStoreMode, inFile: boolean, label: string): Finding {
  const what = copy.reason;
  const effect =
    mode === 'keyring'
      ? 'Codex (keyring only) fails to load this server\'s login; log in again with `codex mcp login`.'
      : inFile
        ? 'Codex (auto) ignores it and uses the copy in its credentials file.'
        : 'Codex (auto) ignores it and finds no login for this server.';
  if (copy.state === 'error' && copy.ambiguous) {
    return {
      code: CODEX_FINDING.keyringAmbiguous,
      severity: 'error',
      title: `Several keyring items match "${name}"`,
      detail: `More than one item in ${label} has account ${key}, so the keyring refuses to pick one (${what}). ${effect} Remove the extra items (e.g. with Seahorse or secret-tool), then log in again.`,
    };
  }
  return {
    code: CODEX_FINDING.keyringValueInvalid,
    severity: mode === 'keyring' ? 'error' : 'warning',
    title: copy.state === 'invalid' ? `The keyring item for "${name}" is not valid Codex credentials` : `The keyring item for "${name}" cannot be read`,
    detail: `${label}, account ${key}: ${what}. ${effect}`,
  };
}

/** The store Codex would read differs from where a token actually is (failure-modes E10). */
function driftFindings(pic: Picture, key: string, name: string, f: FileEntry | undefined, k: KeyringCopy | undefined, file: string, label: string): Finding[] {
  const { mode } = pic.settings;
  const inKeyring = k?.state === 'present' ? k : undefined;
  const at = f && pic.file.state === 'present' ? { location: locationIn(file, pic.file.text, offsetOfPath(pic.file.text, [key])) } : {};
  const describe = (v: GrantView) => `token ${v.accessToken ? fingerprintsOfView(key, v).accessToken : 'empty'}, ${v.expiresAt ? `expires ${isoTime(v.expiresAt)}` : 'no expiry'}`;
  const same = (a: GrantView, b: GrantView) => a.accessToken === b.accessToken && a.refreshToken === b.refreshToken && a.expiresAt === b.expiresAt;
  if (mode === 'file' && inKeyring && !f) {
    return [
      {
        code: CODEX_FINDING.storeDrift,
        severity: 'warning',
        title: `Codex's login for "${name}" is in the keyring, but Codex reads only the file`,
        detail: `mcp_oauth_credentials_store = "file", yet the grant for ${key} (${describe(inKeyring.view)}) is in ${label} and not in ${file}, so Codex reports "${name}" as not logged in. Log in again (\`codex mcp login ${name}\`) or set the store back to "auto".`,
      },
    ];
  }
  if (mode === 'keyring' && f && (!inKeyring || k?.state === 'absent')) {
    if (!pic.keyring.reachable) return [];
    return [
      {
        code: CODEX_FINDING.storeDrift,
        severity: 'warning',
        title: `Codex's login for "${name}" is in the credentials file, but Codex reads only the keyring`,
        detail: `mcp_oauth_credentials_store = "keyring", yet the grant for ${key} (${describe(f.view)}) is only in ${file}, so Codex reports "${name}" as not logged in. Log in again (\`codex mcp login ${name}\`) or set the store to "auto".`,
        ...at,
      },
    ];
  }
  if (f && inKeyring) {
    const used = mode === 'file' ? 'file' : 'keyring';
    const differ = !same(f.view, inKeyring.view);
    const usedView = used === 'file' ? f.view : inKeyring.view;
    const otherView = used === 'file' ? inKeyring.view : f.view;
    return [
      {
        code: CODEX_FINDING.storeDrift,
        severity: differ ? 'warning' : 'info',
        title: differ ? `Two different Codex logins for "${name}"` : `Codex's login for "${name}" is stored twice`,
        detail:
          `${key} is in ${label} (${describe(inKeyring.view)}) and in ${file} (${describe(f.view)}). With mcp_oauth_credentials_store = "${mode}" Codex uses the ${used === 'file' ? 'file' : 'keyring'} copy (${describe(usedView)}); the other is ignored` +
          (differ
            ? `${otherView.expiresAt && usedView.expiresAt && otherView.expiresAt > usedView.expiresAt ? ' although it is newer' : ''}, and would be used if the store setting or the keyring's availability changed, possibly with a refresh token the server has already rotated. Log out and in once (\`codex mcp logout ${name}\`, then \`codex mcp login ${name}\`) to leave one copy.`
            : '. Remove the unused copy to avoid drift later.'),
        ...at,
      },
    ];
  }
  return [];
}

/** A name or key from the file as a finding quotes it: never more than `max` characters. */
function clipped(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
