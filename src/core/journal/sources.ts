// Where the journal reads a store's whole content from: the stores' own `backup()` read paths
// (Claude Code: resolve the Keychain item or file, read it, reassemble a 2.1.332 Keychain
// overflow; Codex: `backupAll`, the file under its shared lock and the keyring side as `list()`
// reads it), with the snapshot they would save caught instead of written. So the journal sees
// exactly what a `backup` would keep, in the same snapshot format, and adds no read path of its own.
//
// Keychain / keyring reads can raise an OS prompt and no file watcher sees them: the caller says
// whether they may be read now (the editor only while a client runs). When they may not, Codex's
// keyring runners refuse every call (the store then reads only its file), and Claude Code is not
// read at all on macOS, where its store is the Keychain item first.
import type { Environment } from '../environment';
import type { ClientId } from '../model';
import { SnapshotStore, type NewSnapshot, type Snapshot, type SnapshotInfo, type SnapshotListing } from '../credentials/backups';
import { claudeCodeStore } from '../credentials/claudeCodeStore';
import type { CommandRunner } from '../credentials/claudeCodeKeychain';
import type { KeyringRunner } from '../credentials/codexKeyring';
import { codexCredentialSettings, CodexCredentialSettingsSchema } from '../credentials/codexSettings';
import { codexStore, type CodexStore } from '../credentials/codexStore';
import { promises as fs } from 'node:fs';
import { CLIENTS } from '../clients/registry';

/** One store's whole content as read now: a snapshot not yet saved. */
export type CapturedState = Omit<NewSnapshot, 'reason'>;

export interface StateSource {
  client: ClientId;
  /**
   * Every store location of this client that could be read now (Codex: its file and its keyring
   * side). `previous` gives the journal's newest state of a location, so a store that vanished can
   * be told from one never seen.
   */
  capture(previous: (location: string) => Promise<Snapshot | undefined>): Promise<CapturedState[]>;
}

/**
 * A SnapshotStore that keeps what a store's `backup()` would save instead of writing it, and
 * answers `newest` from the journal (Claude Code's backup records a vanished store only when the
 * newest snapshot had one).
 */
class CapturingSnapshotStore extends SnapshotStore {
  readonly captured: NewSnapshot[] = [];
  constructor(private readonly previous: (location: string) => Promise<Snapshot | undefined>) {
    super('/nonexistent-capture-only', Number.MAX_SAFE_INTEGER);
  }
  override async save(snapshot: NewSnapshot): Promise<SnapshotInfo> {
    this.captured.push(snapshot);
    return { ...snapshot, id: 'captured', createdAt: new Date(0).toISOString() };
  }
  override async newest(_client: ClientId, location: string): Promise<Snapshot | undefined> {
    return this.previous(location);
  }
  override async list(): Promise<SnapshotListing> {
    return { snapshots: [], unreadable: [] };
  }
  override async read(): Promise<Snapshot | undefined> {
    return undefined;
  }
  override async prune(): Promise<number> {
    return 0;
  }
}

export interface JournalSourceOptions {
  /**
   * May the macOS Keychain and the OS keyring (and Codex's secrets file, whose key is there) be
   * read now? Never without need: such reads can raise a prompt.
   */
  readSecureStores: boolean;
  /** Codex settings from the config reader (as credentialStoresFor takes them). */
  codexSettings?: unknown;
  /** Only these clients; default every client the journal covers. */
  clients?: ClientId[];
  /** Tests: the runners the stores use for /usr/bin/security and the keyring. */
  security?: CommandRunner;
  keyring?: KeyringRunner;
  secretsKeyring?: KeyringRunner;
}

const refusingKeyring: KeyringRunner = async () => ({ reachable: false, reason: 'not read now (the journal reads the keyring only while a client runs)' });

function stripReason(s: NewSnapshot): CapturedState {
  const out: CapturedState & { reason?: string; expectedAfter?: unknown } = { ...s };
  delete out.reason;
  delete out.expectedAfter;
  return out;
}

/** Every client the journal covers: Claude Code, Codex, and each client with a journal rule and a store. */
export function journaledClients(): ClientId[] {
  return ['claude-code', 'codex', ...CLIENTS.filter((c) => c.id !== 'claude-code' && c.id !== 'codex' && c.journal && c.credentialStore).map((c) => c.id)];
}

export function journalSources(e: Environment, options: JournalSourceOptions): StateSource[] {
  const wanted = (c: ClientId) => !options.clients || options.clients.includes(c);
  const sources: StateSource[] = [];
  if (wanted('claude-code')) {
    sources.push({
      client: 'claude-code',
      async capture(previous) {
        if (e.platform === 'darwin' && !options.readSecureStores) return [];
        const capture = new CapturingSnapshotStore(previous);
        const store = claudeCodeStore(e, { backups: capture, ...(options.security ? { security: options.security } : {}) });
        await store.backup();
        return capture.captured.map(stripReason);
      },
    });
  }
  if (wanted('codex')) {
    const parsed = CodexCredentialSettingsSchema.safeParse(options.codexSettings);
    const settings = parsed.success && options.codexSettings !== undefined ? codexCredentialSettings(parsed.data, e.platform) : undefined;
    sources.push({
      client: 'codex',
      async capture(previous) {
        const capture = new CapturingSnapshotStore(previous);
        const keyring = options.readSecureStores ? options.keyring : refusingKeyring;
        const secretsKeyring = options.readSecureStores ? (options.secretsKeyring ?? options.keyring) : refusingKeyring;
        const store: CodexStore = codexStore(e, {
          backups: capture,
          ...(settings ? { settings } : {}),
          ...(keyring ? { keyring } : {}),
          ...(secretsKeyring ? { secretsKeyring } : {}),
        });
        await store.backupAll();
        const states = capture.captured.map(stripReason);
        // backupAll saves only a side that holds something: a side the journal last saw holding
        // grants and that is now gone (file) or empty but readable (keyring) is a state too.
        if (!states.some((s) => s.storeKind === 'file')) {
          const last = await previous(store.file);
          if (last && last.raw !== null && (await absent(store.file))) {
            states.push({ client: 'codex', storeKind: 'file', location: store.file, raw: null, entries: [], topLevelKeys: [] });
          }
        }
        if (options.readSecureStores && !states.some((s) => s.storeKind === 'keyring')) {
          const side = await store.keyringValues();
          const last = side ? await previous(side.location) : undefined;
          if (side && last && last.raw !== null && last.raw !== '{}' && Object.keys(side.values).length === 0) {
            states.push({ client: 'codex', storeKind: 'keyring', location: side.location, raw: '{}', entries: [], topLevelKeys: [] });
          }
        }
        return states;
      },
    });
  }
  // Every other client with a journal rule and a file store (opencode): its backup() read path,
  // and a state of its own when the file the journal last saw holding logins is gone.
  for (const def of CLIENTS) {
    if (def.id === 'claude-code' || def.id === 'codex' || !def.journal || !def.credentialStore || !wanted(def.id)) continue;
    sources.push({
      client: def.id,
      async capture(previous) {
        const capture = new CapturingSnapshotStore(previous);
        const store = def.credentialStore!(e, { backups: capture });
        if (!store.backup || store.kind !== 'file') return [];
        await store.backup();
        const states = capture.captured.map(stripReason);
        if (states.length === 0) {
          const last = await previous(store.location);
          if (last && last.raw !== null && (await absent(store.location))) states.push({ client: def.id, storeKind: 'file', location: store.location, raw: null, entries: [], topLevelKeys: [] });
        }
        return states;
      },
    });
  }
  return sources;
}

async function absent(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => false,
    (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
  );
}
