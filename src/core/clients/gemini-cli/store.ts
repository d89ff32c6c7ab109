// Gemini CLI 0.61.0's MCP OAuth logins, read and written in its own format (tokenFile.ts).
// Which backend holds them (MCPOAuthTokenStorage, chunk-JDPZ4CE3.js:368128):
// - by default, on every OS: the plain file `<home>/.gemini/mcp-oauth-tokens.json` (paths.ts;
//   `<home>/.cache/.gemini/…` under SANDBOX=sandbox-exec). Checked on Linux with the real 0.61.0:
//   a login wrote it, 0600, with @github/keytar installed and loadable;
// - with GEMINI_FORCE_ENCRYPTED_FILE_STORAGE=true (`useEncryptedFile`, :368130): HybridTokenStorage,
//   service "gemini-cli-oauth" (:278939), account = the server name with [^A-Za-z0-9-_.] as "_"
//   (sanitizeServerName :273384), value = the same entry as JSON. That is the OS keychain through
//   keytar when keytar loads and passes a set/get/delete probe within 2 s (KeychainService
//   :278509-278650; on macOS only with a default keychain), else the encrypted file
//   `<home>/.gemini/gemini-credentials.json` (FileKeychain :278391: AES-256-GCM, key =
//   scrypt("gemini-cli-oauth", "<hostname>-<username>-gemini-cli", 32), `iv:tag:ciphertext` hex,
//   one blob for every service — Gemini's own Google login lives there too; checked on Linux with
//   the real 0.61.0 and no Secret Service: a login wrote that file, 0600, and no plain file, and
//   the key derivation decrypted it). The keychain is not
//   read: which backend Gemini chose depends on its own keytar probe at start, and the keychain
//   would ask the OS. The encrypted file is listed read-only (encryptedFile.ts; it may be left
//   over when the keychain is in use), and never written: a rewrite of the shared blob could lose
//   Gemini's Google login. A finding says all this instead of guessing.
// Locks: Gemini has none for this file (fs.writeFile in place, :368192); ours is a
// proper-lockfile directory `<file>.lock`, so two of our writes never interleave. A Gemini
// process refreshing at the same moment can still overwrite our write (or we its), as two Gemini
// processes can each other: the process rule in definition.ts lets surfaces warn first.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Environment } from '../../environment';
import type { Finding } from '../../model';
import { atomicWriteFile, withFileLock } from '../../credentials/atomicWrite';
import type { Snapshot, SnapshotInfo, SnapshotStore, StoreShape } from '../../credentials/backups';
import { KeyedFileRestore, type LoadedFile } from '../../credentials/keyedFileRestore';
import type {
  CredentialPatch,
  CredentialSecret,
  CredentialStore,
  CredentialSummary,
  EntriesRestoreOutcome,
  EntriesRestorePlan,
  EntrySelection,
  RestoreDecision,
  RestoreOutcome,
  RestorePlan,
  StoreDeleteResult,
  StoreListing,
  StoreWriteResult,
} from '../../credentials/store';
import { filePermissionFindings, MalformedStoreError, readStoreText } from '../../credentials/storeFile';
import { GEMINI_KEYCHAIN_SERVICE, readEncryptedLogins } from './encryptedFile';
import { GEMINI_CLIENT } from './entries';
import { geminiEncryptedCredentialsPath, geminiTokenFilePath } from './paths';
import { fingerprintsOfEntry, parseTokenFile, patchedText, removedText, secretOf, summaryOf, TOKEN_FILE_LABEL, withEntries, type ParsedTokens, type TokenEntry } from './tokenFile';

export { GEMINI_KEYCHAIN_SERVICE };

export interface GeminiStoreOptions {
  backups: SnapshotStore;
  now?: () => number;
  lockTimeoutMs?: number;
}

/** Gemini sanitizes server names this way for keychain accounts (BaseTokenStorage.sanitizeServerName). */
export function geminiKeychainAccount(serverName: string): string {
  return serverName.replace(/[^a-zA-Z0-9-_.]/g, '_');
}

export class GeminiCliStore implements CredentialStore {
  readonly client = GEMINI_CLIENT;
  readonly kind = 'file' as const;
  readonly location: string;

  constructor(
    private readonly e: Environment,
    private readonly options: GeminiStoreOptions,
  ) {
    this.location = geminiTokenFilePath(e);
  }

  /** GEMINI_FORCE_ENCRYPTED_FILE_STORAGE=true in the environment we were given: Gemini then keeps logins elsewhere. */
  private get encryptedMode(): boolean {
    return this.e.env.GEMINI_FORCE_ENCRYPTED_FILE_STORAGE === 'true';
  }

  async list(): Promise<StoreListing> {
    if (this.encryptedMode) {
      const enc = await readEncryptedLogins(geminiEncryptedCredentialsPath(this.e));
      const entries = enc.state === 'ok' ? [...enc.entries.values()].map(summaryOf) : [];
      return { entries, findings: [this.notReadFinding(enc.state === 'bad' ? enc.reason : enc.state === 'ok' ? enc.entries.size : 0)] };
    }
    const r = await this.load();
    if (r.kind === 'bad') return { entries: [], findings: [r.finding] };
    if (r.kind === 'absent') return { entries: [], findings: [] };
    return { entries: [...r.parsed.entries.values()].map(summaryOf), findings: [...r.parsed.findings, ...(await this.modeFindings())] };
  }

  async read(key: string): Promise<CredentialSummary | undefined> {
    return (await this.list()).entries.find((s) => s.key === key);
  }

  async readSecret(key: string): Promise<CredentialSecret | undefined> {
    return (await this.readSecrets([key])).get(key);
  }

  async readSecrets(keys: string[]): Promise<Map<string, CredentialSecret>> {
    const out = new Map<string, CredentialSecret>();
    if (this.encryptedMode) return out;
    const r = await this.load();
    if (r.kind !== 'ok') return out;
    for (const k of keys) {
      const entry = r.parsed.entries.get(k);
      if (entry) out.set(k, secretOf(entry));
    }
    return out;
  }

  async write(key: string, patch: CredentialPatch): Promise<StoreWriteResult> {
    assertKey(key);
    const now = (this.options.now ?? Date.now)();
    const snapshot = await this.mutate('before-write', (current) => {
      const text = patchedText(current, key, patch, now);
      return text === current?.text ? undefined : text;
    });
    return snapshot ? { snapshotId: snapshot.id } : {};
  }

  async delete(key: string): Promise<StoreDeleteResult> {
    assertKey(key);
    let deleted = false;
    const snapshot = await this.mutate('before-delete', (current) => {
      if (!current?.indices.has(key)) return undefined;
      deleted = true;
      return removedText(current, key);
    });
    return { deleted, ...(snapshot ? { snapshotId: snapshot.id } : {}) };
  }

  async backup(): Promise<SnapshotInfo | undefined> {
    if (this.encryptedMode) return undefined;
    const read = await readStoreText(this.location, TOKEN_FILE_LABEL);
    if (read.state !== 'present') return undefined;
    const parsed = parseTokenFile(read.text, this.location);
    return this.options.backups.save(this.snapshotOf(read.text, parsed.ok ? parsed.parsed : undefined, 'manual'));
  }

  // ── restore (backups and the journal's `restore --lost`): credentials/keyedFileRestore.ts ──

  private restorerCache: KeyedFileRestore<ParsedTokens, TokenEntry> | undefined;
  private get restorer(): KeyedFileRestore<ParsedTokens, TokenEntry> {
    return (this.restorerCache ??= new KeyedFileRestore<ParsedTokens, TokenEntry>(
      {
        client: this.client,
        location: this.location,
        label: TOKEN_FILE_LABEL,
        backups: this.options.backups,
        load: () => this.load(),
        mutate: (reason, plan) => this.mutate(reason, plan),
        locked: async (fn) => {
          if (this.encryptedMode) throw new MalformedStoreError(this.notReadFinding());
          await fs.mkdir(path.dirname(this.location), { recursive: true, mode: 0o700 });
          return withFileLock(this.location, async () => fn(await this.load()), { timeoutMs: this.options.lockTimeoutMs ?? 10_000, lockfilePath: `${this.location}.lock` });
        },
        snapshotOf: (raw, parsed, reason) => this.snapshotOf(raw, parsed, reason),
      },
      {
        parse: parseTokenFile,
        text: (p) => p.text,
        entries: (p) => [...p.entries.values()],
        keyOf: (x) => x.key,
        fingerprints: (x) => fingerprintsOfEntry(x.key, x.raw),
        withEntries,
        refusal: (p) => p.unreadFrom?.finding,
      },
    ));
  }

  planRestore(snapshot: Snapshot, entryKey?: string): Promise<RestorePlan> {
    return this.restorer.planRestore(snapshot, entryKey);
  }

  /** The whole file as the snapshot holds it, byte for byte (this also repairs one Gemini cannot read), or one entry merged in. */
  restore(snapshot: Snapshot, entryKey?: string): Promise<RestoreOutcome> {
    return this.restorer.restore(snapshot, entryKey);
  }

  planRestoreEntries(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestorePlan> {
    return this.restorer.planRestoreEntries(snapshot, keys, decide);
  }

  /** Puts logins of `snapshot` back in one write under our lock after a snapshot; every other entry and byte stays. */
  restoreEntries(snapshot: Snapshot, keys: EntrySelection, decide?: RestoreDecision): Promise<EntriesRestoreOutcome> {
    return this.restorer.restoreEntries(snapshot, keys, decide);
  }

  private async load(): Promise<LoadedFile<ParsedTokens>> {
    const read = await readStoreText(this.location, TOKEN_FILE_LABEL);
    if (read.state === 'absent') return { kind: 'absent' };
    if (read.state === 'unreadable') return { kind: 'bad', finding: read.finding };
    const parsed = parseTokenFile(read.text, this.location);
    return parsed.ok ? { kind: 'ok', parsed: parsed.parsed } : { kind: 'bad', finding: parsed.finding, text: read.text };
  }

  /**
   * The one write path: our lock, re-read, compute the new text, snapshot the current file,
   * replace it atomically (its mode kept; a new file is 0600 as Gemini creates it).
   */
  private async mutate(reason: string, plan: (current: ParsedTokens | undefined) => string | undefined): Promise<SnapshotInfo | undefined> {
    if (this.encryptedMode) throw new MalformedStoreError(this.notReadFinding());
    const file = this.location;
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    return withFileLock(
      file,
      async (lock) => {
        const r = await this.load();
        if (r.kind === 'bad') throw new MalformedStoreError(r.finding);
        if (r.kind === 'ok' && r.parsed.unreadFrom) throw new MalformedStoreError(r.parsed.unreadFrom.finding);
        const current = r.kind === 'ok' ? r.parsed : undefined;
        const next = plan(current);
        if (next === undefined) return undefined;
        const after = parseTokenFile(next, file);
        const shape: StoreShape = { topLevelKeys: [], entryKeys: after.ok ? [...after.parsed.entries.keys()] : [] };
        const previous = current ? await this.options.backups.save({ ...this.snapshotOf(current.text, current, reason), expectedAfter: shape }) : undefined;
        await atomicWriteFile(file, next, { mode: 0o600, beforeCommit: () => lock.assertHeld() });
        return previous;
      },
      { timeoutMs: this.options.lockTimeoutMs ?? 10_000, lockfilePath: `${file}.lock` },
    );
  }

  private snapshotOf(raw: string, parsed: ParsedTokens | undefined, reason: string) {
    return {
      client: GEMINI_CLIENT,
      storeKind: 'file' as const,
      location: this.location,
      reason,
      raw,
      entries: parsed ? [...parsed.entries.values()].map((x) => fingerprintsOfEntry(x.key, x.raw)) : [],
      topLevelKeys: [],
    };
  }

  private modeFindings(): Promise<Finding[]> {
    return filePermissionFindings(this.location, this.e.platform, "Gemini CLI's MCP token file", 'Gemini CLI');
  }

  /** The keychain-mode finding; `seen` is how many logins the encrypted file lists, or why it could not be read. */
  private notReadFinding(seen: number | string = 0): Finding {
    const encrypted = geminiEncryptedCredentialsPath(this.e);
    const fileSays =
      typeof seen === 'string'
        ? `${encrypted} exists but ${seen}.`
        : seen > 0
          ? `The ${seen} login(s) listed here are read from ${encrypted}, read-only; if keytar works where Gemini runs, its logins are in the keychain and that file is left over.`
          : `${encrypted} holds no MCP login.`;
    return {
      code: 'credentials.keychain-not-read',
      severity: 'info',
      title: "Gemini CLI's MCP logins are in its keychain store, which is read-only here",
      detail:
        `GEMINI_FORCE_ENCRYPTED_FILE_STORAGE=true: Gemini CLI keeps MCP logins in the OS keychain (service "${GEMINI_KEYCHAIN_SERVICE}", one item per server) when its keytar module answers a probe at start, ` +
        `else in the encrypted file ${encrypted}, one blob that also holds Gemini's own Google sign-in. The keychain is not read, and neither is written: refresh and reset are refused. ${fileSays} ` +
        `Use /mcp auth <server> in Gemini CLI to log in again; without that variable Gemini uses ${this.location}, which is read and repaired here.`,
    };
  }
}

function assertKey(key: string): void {
  if (!key) throw new Error('An entry key is required.');
}

export function geminiCliStore(e: Environment, options: GeminiStoreOptions): GeminiCliStore {
  return new GeminiCliStore(e, options);
}
