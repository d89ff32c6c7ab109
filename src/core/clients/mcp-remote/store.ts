// mcp-remote's credential store: `<base>/<folder>/<hash>_<file>` (layout.ts), one folder per
// store format, and per server `tokens.json` (the token response plus, since the store-v1
// releases, `expires_at` in epoch ms, `requested_scope` and `issuer`: saveTokens,
// chunk-KJCT2FXL.js:35119-35147; OAuthTokensWithExpiresAtSchema 34274-34278) and
// `client_info.json` (the DCR response plus `issuer`: 34285-34287, saveClientInformation).
// Expiry: `expires_at` when stored; 0.1.x stored only the response's relative `expires_in`, so
// then the file's mtime (when mcp-remote wrote the response) + expires_in is the expiry.
// Keys: the hash for the current folder, `<folder>/<hash>` for another (config.ts storageKeyFor).
// Writes go temp → rename (atomicWrite.ts, mode kept, unknown fields kept) holding mcp-remote's own
// refresh lease (locks.ts), after a snapshot of every state file in every folder.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import type { Environment } from '../../environment';
import type { Finding } from '../../model';
import { fingerprint } from '../../storageKey';
import { atomicWriteFile } from '../../credentials/atomicWrite';
import type { EntryFingerprints, SnapshotInfo, SnapshotStore } from '../../credentials/backups';
import { locationIn, STORE_FINDING } from '../../credentials/storeFile';
import type { CredentialPatch, CredentialSecret, CredentialStore, CredentialSummary, RefreshTransaction, StoreDeleteResult, StoreListing, StoreWriteResult } from '../../credentials/store';
import { MCP_REMOTE_CLIENT, scanMcpRemoteEntries, storageKeyFor, type McpRemoteEntry } from './config';
import { lockFindings, versionSplitFindings, type LockFile, type TokensIndex } from './findings';
import { callbackPortCandidates, defaultCallbackPort } from './hash';
import { CURRENT_STORE_FOLDER, FILE, isServerStateFile, mcpRemoteBaseDir, parseStoreFolder, splitStateFile } from './layout';
import { leaseLive, legacyLockLive, mcpRemoteOnPort, McpRemoteBusyError, portListening, readLease, readLegacyLock, withLease } from './locks';

const TokensSchema = z.looseObject({
  access_token: z.string(),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().optional(),
  refresh_token: z.string().optional(),
  scope: z.string().optional(),
  id_token: z.string().optional(),
  expires_at: z.coerce.number().optional(),
  requested_scope: z.string().optional(),
  issuer: z.string().optional(),
});
type Tokens = z.infer<typeof TokensSchema>;
const ClientInfoSchema = z.looseObject({
  client_id: z.string(),
  client_secret: z.string().optional(),
  redirect_uris: z.array(z.string()).optional(),
  issuer: z.string().optional(),
});

/** A summary that also says which folder the login is in. */
export interface McpRemoteSummary extends CredentialSummary {
  hash: string;
  folder: string;
  /** Where expiresAt came from: `expires_at`, or the tokens file's mtime + `expires_in` (0.1.x). */
  expirySource?: 'expires_at' | 'mtime+expires_in';
}

export interface McpRemoteStoreOptions {
  backups: SnapshotStore;
  now?: () => number;
  /** The config's mcp-remote entries (names, ports, folders); default: scanned from the host configs. */
  entries?: () => Promise<McpRemoteEntry[]>;
}

export function parseKey(key: string): { folder: string; hash: string } | undefined {
  const slash = key.indexOf('/');
  const folder = slash < 0 ? CURRENT_STORE_FOLDER : key.slice(0, slash);
  const hash = slash < 0 ? key : key.slice(slash + 1);
  if (!/^[0-9a-f]{32}$/.test(hash) || !parseStoreFolder(folder)) return undefined;
  return { folder, hash };
}

interface ServerFiles {
  folder: string;
  hash: string;
  /** File names (`<hash>_…`) in the folder. */
  names: string[];
}

export class McpRemoteStore implements CredentialStore {
  readonly client = MCP_REMOTE_CLIENT;
  readonly kind = 'file' as const;
  readonly location: string;
  private readonly now: () => number;

  constructor(
    private readonly e: Environment,
    private readonly options: McpRemoteStoreOptions,
  ) {
    this.location = mcpRemoteBaseDir(e);
    this.now = options.now ?? Date.now;
  }

  private entries(): Promise<McpRemoteEntry[]> {
    return this.options.entries ? this.options.entries() : scanMcpRemoteEntries(this.e).then((s) => s.entries);
  }

  private folderPath(folder: string): string {
    return path.join(this.location, folder);
  }

  private fileOf(folder: string, hash: string, rest: string): string {
    return path.join(this.folderPath(folder), `${hash}_${rest}`);
  }

  /** Every server's files, by folder. */
  private async inventory(): Promise<ServerFiles[]> {
    let folders: string[];
    try {
      folders = (await fs.readdir(this.location)).filter((f) => parseStoreFolder(f)).sort();
    } catch {
      return [];
    }
    const out: ServerFiles[] = [];
    for (const folder of folders) {
      let names: string[];
      try {
        names = await fs.readdir(this.folderPath(folder));
      } catch {
        continue;
      }
      const byHash = new Map<string, string[]>();
      for (const n of names) {
        const s = splitStateFile(n);
        if (s) byHash.set(s.hash, [...(byHash.get(s.hash) ?? []), n]);
      }
      for (const [hash, list] of byHash) out.push({ folder, hash, names: list.sort() });
    }
    return out;
  }

  async list(): Promise<StoreListing> {
    const findings: Finding[] = [];
    const entries: McpRemoteSummary[] = [];
    const locks: LockFile[] = [];
    const index: TokensIndex = new Map();
    const configEntries = await this.entries().catch(() => [] as McpRemoteEntry[]);
    const names = new Map<string, string>();
    for (const en of configEntries) if (en.hash && !names.has(en.hash)) names.set(en.hash, en.server.name);
    for (const sf of await this.inventory()) {
      const read = await this.readServer(sf.folder, sf.hash, names, configEntries);
      if (read.finding) findings.push(read.finding);
      if (read.summary) {
        entries.push(read.summary);
        index.set(sf.hash, [...(index.get(sf.hash) ?? []), sf.folder]);
      }
      for (const n of sf.names) {
        const rest = splitStateFile(n)!.rest;
        const file = path.join(this.folderPath(sf.folder), n);
        if (rest === FILE.refreshLease) {
          const v = await readLease(file);
          if (v) locks.push({ file, hash: sf.hash, folder: sf.folder, lock: { kind: 'lease', value: v } });
        } else if (rest === FILE.lock) {
          const v = await readLegacyLock(file);
          if (v) locks.push({ file, hash: sf.hash, folder: sf.folder, lock: { kind: 'legacy', value: v } });
        }
      }
    }
    findings.push(...lockFindings(locks, names, this.now()));
    // Attached to the config's servers (they are what the user looks at), and listed here too.
    findings.push(...versionSplitFindings(configEntries, index));
    return { entries, findings };
  }

  private async readTokens(folder: string, hash: string): Promise<{ tokens?: Tokens; raw?: Record<string, unknown>; mtimeMs?: number; finding?: Finding }> {
    const file = this.fileOf(folder, hash, FILE.tokens);
    let text: string;
    let mtimeMs: number;
    try {
      [text, mtimeMs] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file).then((s) => s.mtimeMs)]);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return {};
      return { finding: { code: STORE_FINDING.unreadable, severity: 'error', title: 'mcp-remote tokens file cannot be read', detail: `Reading ${file} failed (${code ?? String(err)}).`, location: { file, line: 1, column: 1 } } };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { finding: { code: STORE_FINDING.invalidJson, severity: 'error', title: 'mcp-remote tokens file is not valid JSON', detail: `${file} could not be parsed; mcp-remote reads it as no login and starts a new sign-in.`, location: locationIn(file, text, 0) } };
    }
    const parsed = TokensSchema.safeParse(json);
    if (!parsed.success) {
      return { finding: { code: 'credentials.invalid-entry', severity: 'error', title: 'mcp-remote tokens file has the wrong shape', detail: `${file} is not a token response (${parsed.error.issues[0]?.path.join('.') || 'root'}: ${parsed.error.issues[0]?.message}); mcp-remote reads it as no login.`, location: { file, line: 1, column: 1 } } };
    }
    return { tokens: parsed.data, raw: json as Record<string, unknown>, mtimeMs };
  }

  private async readClientInfo(folder: string, hash: string): Promise<{ info?: z.infer<typeof ClientInfoSchema>; raw?: Record<string, unknown> }> {
    try {
      const json: unknown = JSON.parse(await fs.readFile(this.fileOf(folder, hash, FILE.clientInfo), 'utf8'));
      const parsed = ClientInfoSchema.safeParse(json);
      return parsed.success ? { info: parsed.data, raw: json as Record<string, unknown> } : {};
    } catch {
      return {};
    }
  }

  private async readServer(folder: string, hash: string, names: Map<string, string>, configEntries: McpRemoteEntry[]): Promise<{ summary?: McpRemoteSummary; finding?: Finding }> {
    const t = await this.readTokens(folder, hash);
    if (!t.tokens) return t.finding ? { finding: t.finding } : {};
    const { info } = await this.readClientInfo(folder, hash);
    const tokens = t.tokens;
    let expiresAt: number | undefined;
    let expirySource: McpRemoteSummary['expirySource'];
    if (typeof tokens.expires_at === 'number' && Number.isFinite(tokens.expires_at)) {
      expiresAt = tokens.expires_at;
      expirySource = 'expires_at';
    } else if (typeof tokens.expires_in === 'number' && Number.isFinite(tokens.expires_in) && t.mtimeMs !== undefined) {
      expiresAt = Math.round(t.mtimeMs + tokens.expires_in * 1000);
      expirySource = 'mtime+expires_in';
    }
    const entry = configEntries.find((en) => en.hash === hash);
    const summary: McpRemoteSummary = {
      key: storageKeyFor(hash, folder),
      hash,
      folder,
      ...(names.get(hash) ? { serverName: names.get(hash)! } : {}),
      ...(entry?.server.url ? { serverUrl: entry.server.url } : {}),
      hasAccessToken: tokens.access_token.length > 0,
      ...(tokens.access_token ? { accessTokenFingerprint: fingerprint(tokens.access_token) } : {}),
      hasRefreshToken: !!tokens.refresh_token,
      ...(tokens.refresh_token ? { refreshTokenFingerprint: fingerprint(tokens.refresh_token) } : {}),
      ...(expiresAt !== undefined ? { expiresAt, expirySource } : {}),
      scopes: (tokens.scope ?? '').split(' ').filter(Boolean),
      ...(info?.client_id ? { clientId: info.client_id } : entry?.server.oauth?.clientId ? { clientId: entry.server.oauth.clientId } : {}),
      hasClientSecret: !!info?.client_secret,
      ...(info?.redirect_uris?.[0] ? { redirectUri: info.redirect_uris[0] } : {}),
      ...((tokens.issuer ?? info?.issuer) ? { issuer: (tokens.issuer ?? info?.issuer)! } : {}),
    };
    return { summary };
  }

  async read(key: string): Promise<CredentialSummary | undefined> {
    const k = parseKey(key);
    if (!k) return undefined;
    const configEntries = await this.entries().catch(() => [] as McpRemoteEntry[]);
    const names = new Map<string, string>();
    for (const en of configEntries) if (en.hash && !names.has(en.hash)) names.set(en.hash, en.server.name);
    return (await this.readServer(k.folder, k.hash, names, configEntries)).summary;
  }

  async readSecret(key: string): Promise<CredentialSecret | undefined> {
    const k = parseKey(key);
    if (!k) return undefined;
    const { tokens } = await this.readTokens(k.folder, k.hash);
    if (!tokens) return undefined;
    const { info } = await this.readClientInfo(k.folder, k.hash);
    return {
      accessToken: tokens.access_token,
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      ...(info?.client_secret ? { clientSecret: info.client_secret } : {}),
    };
  }

  async write(key: string, patch: CredentialPatch): Promise<StoreWriteResult> {
    const k = this.keyOrThrow(key);
    return withLease(this.fileOf(k.folder, k.hash, FILE.refreshLease), () => this.writeHeld(k, patch));
  }

  async refreshTransaction<T>(key: string, fn: (tx: RefreshTransaction) => Promise<T>): Promise<T> {
    const k = this.keyOrThrow(key);
    // mcp-remote's own cross-instance refresh lock: while we hold it, a running mcp-remote that
    // needs a refresh waits, then reads the tokens we wrote. It counts as abandoned after 30 s.
    return withLease(this.fileOf(k.folder, k.hash, FILE.refreshLease), () =>
      fn({ read: () => this.read(key), readSecret: () => this.readSecret(key), write: (patch) => this.writeHeld(k, patch) }),
    );
  }

  private keyOrThrow(key: string): { folder: string; hash: string } {
    const k = parseKey(key);
    if (!k) throw new Error(`${key} is not an mcp-remote storage key (<hash> or <folder>/<hash>)`);
    return k;
  }

  private async writeHeld(k: { folder: string; hash: string }, patch: CredentialPatch): Promise<StoreWriteResult> {
    const t = await this.readTokens(k.folder, k.hash);
    if (t.finding && t.finding.code !== STORE_FINDING.unreadable) {
      // A damaged file is replaced only by a whole new token (a login), never patched.
      if (patch.accessToken === undefined) throw new Error(`${t.finding.title}: ${t.finding.detail} Nothing was written.`);
    } else if (t.finding) {
      throw new Error(`${t.finding.title}: ${t.finding.detail} Nothing was written.`);
    }
    const raw: Record<string, unknown> = t.raw ? { ...t.raw } : { token_type: 'Bearer' };
    if (!t.raw && patch.accessToken === undefined) throw new Error(`mcp-remote has no tokens for ${k.folder}/${k.hash}; a write needs an access token.`);
    const now = this.now();
    if (patch.accessToken !== undefined) raw.access_token = patch.accessToken;
    if (patch.refreshToken === null) delete raw.refresh_token;
    else if (patch.refreshToken !== undefined) raw.refresh_token = patch.refreshToken;
    const storeVersion = parseStoreFolder(k.folder)?.kind === 'store-version';
    if (patch.expiresAt === null) {
      delete raw.expires_in;
      delete raw.expires_at;
    } else if (patch.expiresAt !== undefined) {
      raw.expires_in = Math.max(0, Math.round((patch.expiresAt - now) / 1000));
      // 0.1.x reads expires_in against the file's mtime, which this write sets to now.
      if (storeVersion) raw.expires_at = patch.expiresAt;
    }
    if (patch.scopes !== undefined) raw.scope = patch.scopes.join(' ');
    if (patch.issuer !== undefined && storeVersion) raw.issuer = patch.issuer;

    const snapshot = await this.snapshot('before-write');
    await fs.mkdir(this.folderPath(k.folder), { recursive: true });
    await atomicWriteFile(this.fileOf(k.folder, k.hash, FILE.tokens), JSON.stringify(raw, null, 2), { mode: 0o600 });

    if (patch.clientId !== undefined || patch.clientSecret !== undefined) {
      const { raw: infoRaw } = await this.readClientInfo(k.folder, k.hash);
      const info: Record<string, unknown> = infoRaw ? { ...infoRaw } : {};
      if (patch.clientId !== undefined) info.client_id = patch.clientId;
      if (patch.clientSecret === null) delete info.client_secret;
      else if (patch.clientSecret !== undefined) info.client_secret = patch.clientSecret;
      if (patch.redirectUri && !Array.isArray(info.redirect_uris)) info.redirect_uris = [patch.redirectUri];
      await atomicWriteFile(this.fileOf(k.folder, k.hash, FILE.clientInfo), JSON.stringify(info, null, 2), { mode: 0o600 });
    }
    return snapshot ? { snapshotId: snapshot.id } : {};
  }

  /**
   * Reset one server: its tokens, client registration, PKCE verifiers, discovery state and a
   * stale lock or lease, in that one folder, after a snapshot (instead of `rm -rf ~/.mcp-auth`).
   * Refused while a live mcp-remote holds the server's lease or lock, or is signing in for it.
   */
  async delete(key: string): Promise<StoreDeleteResult> {
    const k = this.keyOrThrow(key);
    const sf = (await this.inventory()).find((s) => s.folder === k.folder && s.hash === k.hash);
    if (!sf) return { deleted: false };
    await this.refuseIfLive(k.folder, k.hash);
    const doomed = sf.names.filter((n) => isServerStateFile(splitStateFile(n)!.rest));
    if (doomed.length === 0) return { deleted: false };
    const snapshot = await this.snapshot('before-delete');
    for (const n of doomed) await fs.unlink(path.join(this.folderPath(k.folder), n)).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    return { deleted: true, ...(snapshot ? { snapshotId: snapshot.id, snapshotIds: [snapshot.id] } : {}) };
  }

  private async refuseIfLive(folder: string, hash: string): Promise<void> {
    const lease = await readLease(this.fileOf(folder, hash, FILE.refreshLease));
    if (lease && leaseLive(lease, this.now())) throw new McpRemoteBusyError(`mcp-remote (pid ${lease.pid}) is refreshing this server's token right now. Nothing was removed; try again in a moment.`);
    const lock = await readLegacyLock(this.fileOf(folder, hash, FILE.lock));
    if (lock && legacyLockLive(lock, this.now()) && (await portListening(lock.port))) {
      throw new McpRemoteBusyError(`mcp-remote (pid ${lock.pid}) is signing in to this server on port ${lock.port}. Nothing was removed: finish or cancel that sign-in first.`);
    }
    const entries = await this.entries().catch(() => [] as McpRemoteEntry[]);
    const ports = new Set<number>(callbackPortCandidates(defaultCallbackPort(hash), false));
    for (const en of entries) if (en.hash === hash && en.callbackPort) for (const p of callbackPortCandidates(en.callbackPort, en.strictPort)) ports.add(p);
    for (const port of ports) {
      if (!(await portListening(port, 300))) continue;
      if ((await mcpRemoteOnPort(port)) === hash) throw new McpRemoteBusyError(`An mcp-remote is signing in to this server right now (callback port ${port}). Nothing was removed: finish or cancel that sign-in first.`);
    }
  }

  async backup(): Promise<SnapshotInfo | undefined> {
    return this.snapshot('manual');
  }

  /** Every state file of every folder, as one snapshot; undefined when there is none. */
  private async snapshot(reason: string): Promise<SnapshotInfo | undefined> {
    const files: Record<string, string> = {};
    const fps: EntryFingerprints[] = [];
    for (const sf of await this.inventory()) {
      for (const n of sf.names) {
        if (!isServerStateFile(splitStateFile(n)!.rest)) continue;
        try {
          files[`${sf.folder}/${n}`] = await fs.readFile(path.join(this.folderPath(sf.folder), n), 'utf8');
        } catch {
          // Gone meanwhile (mcp-remote removes verifiers after a login).
        }
      }
      const t = await this.readTokens(sf.folder, sf.hash);
      if (t.tokens) {
        fps.push({
          key: storageKeyFor(sf.hash, sf.folder),
          accessToken: fingerprint(t.tokens.access_token),
          ...(t.tokens.refresh_token ? { refreshToken: fingerprint(t.tokens.refresh_token) } : {}),
          ...(typeof t.tokens.expires_at === 'number' ? { expiresAt: t.tokens.expires_at } : {}),
        });
      }
    }
    if (Object.keys(files).length === 0) return undefined;
    return this.options.backups.save({
      client: MCP_REMOTE_CLIENT,
      storeKind: 'file',
      location: this.location,
      reason,
      entries: fps,
      topLevelKeys: [],
      raw: JSON.stringify({ format: 'mcp-remote-files-1', files }),
    });
  }
}

export function mcpRemoteStore(e: Environment, options: McpRemoteStoreOptions): McpRemoteStore {
  return new McpRemoteStore(e, options);
}
