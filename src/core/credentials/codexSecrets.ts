// Codex's encrypted secrets backend for MCP OAuth tokens, read and written the way Codex does.
// Used instead of direct keyring items when `[features] secret_auth_storage` is on (default on
// Windows builds only) and mcp_oauth_credentials_store is `keyring` or `auto`.
//
// Verified against Codex 0.171.0 (Linux build, `-c features.secret_auth_storage=true`: the real
// `codex mcp login` wrote what test/interop/codexSecretsStore.test.ts reads) and its source
// (openai/codex codex-rs/secrets/src/lib.rs + local.rs, codex-rs/rmcp-client/src/oauth.rs and the
// credential key helpers next to it, oauth/store_lock.rs):
// - File: `$CODEX_HOME/secrets/mcp_oauth.age` (LocalSecretsNamespace::McpOAuth; `local.age`,
//   `codex_auth.age` and `gateway_oauth.age` are other namespaces we never touch). An age v1 file
//   encrypted to one scrypt recipient (rage; Codex 0.171 wrote work factor 19 here, rage calibrates
//   it per machine), whose plaintext is compact JSON `{"version":1,"secrets":{<key>: <value>}}`
//   (`SecretsFile`, a BTreeMap, so keys in byte order). Version 0 reads as 1; a newer version is
//   refused by Codex ("newer than supported version"), so we refuse to write it too.
// - Keys: `global/<name>` (SecretScope::Global; `env/<id>/<name>` for environment scopes, which
//   MCP OAuth does not use). `<name>` = `MCP_OAUTH_` + the first 32 digits of the UPPERCASE hex
//   SHA-256 of the grant's storage key (`secret_name_for_key`). The value is `StoredOAuthTokens`
//   serialised, exactly the JSON a direct keyring item holds.
// - The age passphrase: OS keyring, service `codex`, account `secrets|<first 16 hex of
//   SHA-256(canonical CODEX_HOME)>` (`compute_keyring_account`; canonicalize falls back to the
//   path as given). Codex creates it (base64 of 32 random bytes) on the first save; once the file
//   exists and the passphrase is gone, Codex 0.171 stops with "missing keyring passphrase for the
//   existing encrypted secrets file" (string in the 0.171 binary), and so do we.
// - Lock: `$CODEX_HOME/mcp-oauth-locks/secrets-store.lock`, flock exclusive for every
//   read-modify-write and shared for reads, taken after the per-grant refresh lock (store_lock.rs).
//   An older source (openai/codex 06566159) wrote the secrets file with no lock; 0.171 takes it (0.169 not checked).
// Codex writes the file with a plain create (mode 0644 under a 022 umask); we keep whatever mode
// the file has and create it 0600.
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { pathForDir } from '../environment';
import * as z from 'zod';

export const CODEX_SECRETS_KEYRING_SERVICE = 'codex';
export const CODEX_SECRETS_DIR = 'secrets';
export const CODEX_MCP_OAUTH_SECRETS_FILE = 'mcp_oauth.age';
/** local.rs SECRETS_VERSION. */
export const CODEX_SECRETS_VERSION = 1;
/** age's recommended scrypt work factor, for a file we create (rage decrypts up to its calibrated target + 4). */
export const DEFAULT_SCRYPT_LOG_N = 18;
/** Refuse more: 2^21 would need 2 GiB of memory to decrypt. */
const MAX_SCRYPT_LOG_N = 20;

export function codexSecretsFilePath(codexHome: string): string {
  return pathForDir(codexHome).join(codexHome, CODEX_SECRETS_DIR, CODEX_MCP_OAUTH_SECRETS_FILE);
}

/**
 * `compute_keyring_account`: Rust's canonicalize is realpath; when it fails, the path as given.
 * `platform`: the OS Codex runs on (its canonical form differs on Windows: rustCanonicalForm).
 */
export async function codexSecretsPassphraseAccount(codexHome: string, platform: NodeJS.Platform = process.platform): Promise<string> {
  const real = await fs.realpath(codexHome).catch(() => undefined);
  const canonical = real === undefined ? codexHome : rustCanonicalForm(real, platform);
  return `secrets|${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

/**
 * Node's realpath as Rust's `Path::canonicalize` spells it. Windows: Rust returns the verbatim
 * form GetFinalPathNameByHandleW gives (`\\?\C:\…`, `\\?\UNC\server\share\…`; std::fs::canonicalize
 * docs), and libuv's realpath strips exactly that prefix (src/win/fs.c `fs__realpath_handle`),
 * so we put it back; the hash of CODEX_HOME, and so the passphrase's account, differs otherwise
 * (source-derived, untested on Windows). Elsewhere both are realpath(3).
 */
export function rustCanonicalForm(realpath: string, platform: NodeJS.Platform): string {
  // A POSIX path under win32 is a sandbox on this host (environment.ts pathFor): left as is.
  if (platform !== 'win32' || realpath.startsWith('/') || realpath.startsWith('\\\\?\\')) return realpath;
  return realpath.startsWith('\\\\') ? `\\\\?\\UNC\\${realpath.slice(2)}` : `\\\\?\\${realpath}`;
}

/** `secret_name_for_key`: the entry name of one grant, from its storage key. */
export function codexSecretName(storageKey: string): string {
  return `MCP_OAUTH_${createHash('sha256').update(storageKey).digest('hex').toUpperCase().slice(0, 32)}`;
}

/** `SecretScope::Global.canonical_key`: where the grant sits in the `secrets` map. */
export function codexSecretKey(storageKey: string): string {
  return `global/${codexSecretName(storageKey)}`;
}

/** `generate_passphrase`: 32 random bytes, standard base64. */
export function generateSecretsPassphrase(): string {
  return randomBytes(32).toString('base64');
}

// ── the plaintext ────────────────────────────────────────────────────────────────────────────

/** `SecretsFile` as serde reads it; fields we do not know are kept (serde would drop them, we do not need to). */
export const SecretsDocSchema = z
  .object({
    version: z.number().int().min(0).max(255),
    secrets: z.record(z.string(), z.string()),
  })
  .loose();
export type SecretsDoc = z.infer<typeof SecretsDocSchema>;

export type SecretsDocParse = { ok: true; doc: SecretsDoc } | { ok: false; reason: string };

export function parseSecretsPlaintext(text: string): SecretsDocParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'its decrypted content is not JSON' };
  }
  const r = SecretsDocSchema.safeParse(json);
  if (!r.success) return { ok: false, reason: `its decrypted content is not Codex's secrets file (${r.error.issues[0]?.path.join('.') || 'top level'}: ${r.error.issues[0]?.message})` };
  const doc = { ...r.data, version: r.data.version === 0 ? CODEX_SECRETS_VERSION : r.data.version };
  if (doc.version > CODEX_SECRETS_VERSION) return { ok: false, reason: `it is secrets file version ${doc.version}, newer than the version ${CODEX_SECRETS_VERSION} this tool (and Codex 0.171) understands` };
  return { ok: true, doc };
}

/** serde_json::to_vec of `SecretsFile`: compact, version first, secrets in byte order. */
export function serializeSecretsDoc(doc: SecretsDoc): string {
  const { version, secrets, ...rest } = doc;
  const sorted = Object.fromEntries(Object.entries(secrets).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({ version, secrets: sorted, ...rest });
}

// ── age with an scrypt recipient ─────────────────────────────────────────────────────────────
// age-encryption does the format (header, HMAC, STREAM payload); the scrypt stanza is ours so the
// key derivation runs in Node's native scrypt off the main thread (the library's pure-JS scrypt
// blocks the event loop for seconds at work factor 19). Spec: age-encryption.org/v1, scrypt
// recipient: key = scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt16, N=2^logN, r=8,
// p=1, 32), body = ChaCha20-Poly1305(key, zero nonce, file key).

const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';

function scrypt(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  const options: ScryptOptions = { N, r: 8, p: 1, maxmem: 129 * N * 8 + 32 * 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(passphrase, salt, 32, options, (err, key) => (err ? reject(err) : resolve(key))));
}

function wrapKey(key: Buffer, fileKey: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: 16 });
  return Buffer.concat([c.update(fileKey), c.final(), c.getAuthTag()]);
}

function unwrapKey(key: Buffer, body: Uint8Array): Uint8Array | null {
  const d = createDecipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: 16 });
  d.setAuthTag(Buffer.from(body.subarray(16)));
  try {
    return Buffer.concat([d.update(body.subarray(0, 16)), d.final()]);
  } catch {
    return null;
  }
}

export class SecretsDecryptError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SecretsDecryptError';
  }
}

/** Work factor of the file's scrypt stanza, read from the header without decrypting. */
export function scryptWorkFactorOf(ciphertext: Uint8Array): number | undefined {
  const head = Buffer.from(ciphertext.subarray(0, 512)).toString('latin1');
  const m = /^age-encryption\.org\/v1\n-> scrypt \S+ ([1-9][0-9]*)\n/.exec(head);
  return m ? Number(m[1]) : undefined;
}

export async function decryptSecretsFile(ciphertext: Uint8Array, passphrase: string): Promise<{ plaintext: string; logN: number }> {
  const { Decrypter } = await import('age-encryption');
  let logN: number | undefined;
  const identity = {
    async unwrapFileKey(stanzas: { args: string[]; body: Uint8Array }[]): Promise<Uint8Array | null> {
      const s = stanzas.find((x) => x.args[0] === 'scrypt');
      if (!s) return null;
      // rage and the age spec: an scrypt stanza must be the only one.
      if (stanzas.length !== 1 || s.args.length !== 3 || !/^[1-9][0-9]*$/.test(s.args[2]!) || s.body.length !== 32) throw new SecretsDecryptError('its age header is not a single well-formed scrypt stanza');
      const salt = Buffer.from(s.args[1]!, 'base64');
      if (salt.length !== 16) throw new SecretsDecryptError('its scrypt salt is not 16 bytes');
      logN = Number(s.args[2]);
      if (logN > MAX_SCRYPT_LOG_N) throw new SecretsDecryptError(`its scrypt work factor ${logN} is higher than ${MAX_SCRYPT_LOG_N}`);
      const key = await scrypt(passphrase, Buffer.concat([Buffer.from(SCRYPT_LABEL), salt]), logN);
      return unwrapKey(key, s.body);
    },
  };
  const d = new Decrypter();
  d.addIdentity(identity);
  let plaintext: string;
  try {
    plaintext = await d.decrypt(ciphertext, 'text');
  } catch (err) {
    if (err instanceof SecretsDecryptError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new SecretsDecryptError(
      /no identity matched/.test(message) && logN !== undefined
        ? 'the passphrase in the OS keyring does not open it'
        : /no identity matched/.test(message)
          ? 'it is not encrypted to a passphrase'
          : `it is not a readable age file (${message})`,
    );
  }
  return { plaintext, logN: logN ?? DEFAULT_SCRYPT_LOG_N };
}

export async function encryptSecretsFile(plaintext: string, passphrase: string, logN = DEFAULT_SCRYPT_LOG_N): Promise<Uint8Array> {
  const { Encrypter, Stanza } = await import('age-encryption');
  const recipient = {
    async wrapFileKey(fileKey: Uint8Array) {
      const salt = randomBytes(16);
      const key = await scrypt(passphrase, Buffer.concat([Buffer.from(SCRYPT_LABEL), salt]), logN);
      return [new Stanza(['scrypt', salt.toString('base64').replace(/=+$/, ''), String(logN)], wrapKey(key, fileKey))];
    },
  };
  const e = new Encrypter();
  e.addRecipient(recipient);
  return e.encrypt(plaintext);
}
