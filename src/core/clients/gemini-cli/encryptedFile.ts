// Read-only view of Gemini CLI's encrypted keychain fallback, `<home>/.gemini/gemini-credentials.json`
// (FileKeychain, chunk-JDPZ4CE3.js:278391-278470), used for MCP logins only with
// GEMINI_FORCE_ENCRYPTED_FILE_STORAGE=true when keytar's keychain does not answer (checked with
// the real 0.61.0 on Linux without a Secret Service: a login wrote this file, 0600, and no
// mcp-oauth-tokens.json). Format: `<iv hex>:<GCM tag hex>:<ciphertext hex>`, AES-256-GCM, key =
// scrypt("gemini-cli-oauth", "<os.hostname()>-<username>-gemini-cli", 32); plaintext
// `{ "<service>": { "<account>": "<entry as JSON>" } }`. MCP logins are service
// "gemini-cli-oauth", account = the sanitized server name, entry = the same shape as the plain
// file's; the same service also holds Gemini's own Google login (account "main-account",
// OAuthCredentialStorage :278846) and keychain probes/secrets (`__keychain_test__…`,
// `__secret__…`, :278383). Never written here: one blob holds all of that.
import { createDecipheriv, scryptSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import { isPlainObject } from '../../jsonShape';
import type { TokenEntry } from './tokenFile';

export const GEMINI_KEYCHAIN_SERVICE = 'gemini-cli-oauth';
const NOT_MCP = (account: string) => account === 'main-account' || account.startsWith('__keychain_test__') || account.startsWith('__secret__');

export type EncryptedRead = { state: 'absent' } | { state: 'bad'; reason: string } | { state: 'ok'; entries: Map<string, TokenEntry> };

export async function readEncryptedLogins(file: string, identity = { hostname: os.hostname(), username: os.userInfo().username }): Promise<EncryptedRead> {
  let data: string;
  try {
    data = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? { state: 'absent' } : { state: 'bad', reason: code ?? String(err) };
  }
  let plain: unknown;
  try {
    const parts = data.split(':');
    if (parts.length !== 3) throw new Error('format');
    const [iv, tag, ct] = parts as [string, string, string];
    const key = scryptSync('gemini-cli-oauth', `${identity.hostname}-${identity.username}-gemini-cli`, 32);
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'hex'), { authTagLength: 16 });
    d.setAuthTag(Buffer.from(tag, 'hex'));
    plain = JSON.parse(d.update(ct, 'hex', 'utf8') + d.final('utf8'));
  } catch {
    return { state: 'bad', reason: 'it cannot be decrypted with this host name and user name (Gemini says "Corrupted credentials file detected" then)' };
  }
  const service = isPlainObject(plain) ? plain[GEMINI_KEYCHAIN_SERVICE] : undefined;
  const entries = new Map<string, TokenEntry>();
  if (!isPlainObject(service)) return { state: 'ok', entries };
  let index = 0;
  for (const [account, value] of Object.entries(service)) {
    if (NOT_MCP(account) || typeof value !== 'string') continue;
    try {
      const raw: unknown = JSON.parse(value);
      if (isPlainObject(raw) && typeof raw.serverName === 'string') entries.set(raw.serverName, { index: index++, key: raw.serverName, raw });
    } catch {
      // Gemini skips an entry it cannot parse too (getAllCredentials).
    }
  }
  return { state: 'ok', entries };
}
