// Loading and saving Codex's encrypted secrets file (format: codexSecrets.ts). The caller holds
// Codex's `secrets-store.lock` (codexLocks.ts) around a load and the save that follows it; the
// age passphrase comes from the OS keyring through the same killable runners as keyring items.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { atomicWriteFile } from './atomicWrite';
import type { KeyringRunner } from './codexKeyring';
import {
  CODEX_SECRETS_VERSION,
  DEFAULT_SCRYPT_LOG_N,
  SecretsDecryptError,
  codexSecretsFilePath,
  codexSecretsPassphraseAccount,
  decryptSecretsFile,
  encryptSecretsFile,
  generateSecretsPassphrase,
  parseSecretsPlaintext,
  serializeSecretsDoc,
  type SecretsDoc,
} from './codexSecrets';

export interface CodexSecretsIo {
  codexHome: string;
  /** The OS Codex runs on (the passphrase's account hashes CODEX_HOME as Rust spells it there); default process.platform. */
  platform?: NodeJS.Platform;
  /** Runner bound to keyring service `codex` (where Codex keeps the age passphrase). */
  keyring: KeyringRunner;
}

/** The file as loaded. `unreadable`: Codex cannot read it either (its reason, for people). */
export type LoadedSecrets =
  | { state: 'absent'; passphrase?: string }
  | { state: 'present'; doc: SecretsDoc; logN: number; passphrase: string }
  | { state: 'unreadable'; reason: string };

export function emptySecretsDoc(): SecretsDoc {
  return { version: CODEX_SECRETS_VERSION, secrets: {} };
}

/**
 * Reads and decrypts the file. An absent file needs no passphrase (the keyring is then only
 * asked when `wantPassphrase`, i.e. before a first save).
 */
export async function loadCodexSecrets(io: CodexSecretsIo, options: { wantPassphrase?: boolean } = {}): Promise<LoadedSecrets> {
  const file = codexSecretsFilePath(io.codexHome);
  let ciphertext: Buffer | undefined;
  try {
    ciphertext = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return { state: 'unreadable', reason: `${file} cannot be read (${code ?? String(err)})` };
  }
  if (!ciphertext && !options.wantPassphrase) return { state: 'absent' };
  const account = await codexSecretsPassphraseAccount(io.codexHome, io.platform);
  const batch = await io.keyring([{ op: 'get', account }]);
  if (!batch.reachable) return { state: 'unreadable', reason: `its key cannot be read from the OS keyring (${batch.reason})` };
  const got = batch.results[0];
  if (!got?.ok) return { state: 'unreadable', reason: `its key cannot be read from the OS keyring (${got?.error ?? 'no answer'})` };
  const passphrase = got.value ?? undefined;
  if (!ciphertext) return passphrase ? { state: 'absent', passphrase } : { state: 'absent' };
  if (!passphrase) {
    // local.rs (0.171): "missing keyring passphrase for the existing encrypted secrets file".
    return { state: 'unreadable', reason: `its key is missing from the OS keyring (service "codex", account "${account}"), so neither Codex nor this tool can decrypt it` };
  }
  let decrypted: { plaintext: string; logN: number };
  try {
    decrypted = await decryptSecretsFile(ciphertext, passphrase);
  } catch (err) {
    return { state: 'unreadable', reason: err instanceof SecretsDecryptError ? err.reason : `it cannot be decrypted (${err instanceof Error ? err.message : String(err)})` };
  }
  const parsed = parseSecretsPlaintext(decrypted.plaintext);
  if (!parsed.ok) return { state: 'unreadable', reason: parsed.reason };
  return { state: 'present', doc: parsed.doc, logN: decrypted.logN, passphrase };
}

/**
 * Encrypts `doc` with the passphrase the file was loaded with (a new file: the one in the
 * keyring, else a new one stored there first, as Codex's `load_or_create_passphrase` does) and the
 * same scrypt work factor, then replaces the file atomically (its mode kept; a new file is 0600).
 */
export async function saveCodexSecrets(io: CodexSecretsIo, doc: SecretsDoc, loaded: Exclude<LoadedSecrets, { state: 'unreadable' }>): Promise<void> {
  let passphrase = loaded.passphrase;
  if (!passphrase) {
    passphrase = generateSecretsPassphrase();
    const account = await codexSecretsPassphraseAccount(io.codexHome, io.platform);
    const done = await io.keyring([{ op: 'set', account, value: passphrase }]);
    if (!done.reachable) throw new Error(`the OS keyring cannot store the secrets file's key (${done.reason}); nothing was written`);
    if (!done.results[0]?.ok) throw new Error(`the OS keyring cannot store the secrets file's key (${(done.results[0] as { error?: string } | undefined)?.error ?? 'no answer'}); nothing was written`);
  }
  const ciphertext = await encryptSecretsFile(serializeSecretsDoc(doc), passphrase, loaded.state === 'present' ? loaded.logN : DEFAULT_SCRYPT_LOG_N);
  const file = codexSecretsFilePath(io.codexHome);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await atomicWriteFile(file, ciphertext, { mode: 0o600 });
}
