// The credential stores of every client we know, built for one environment; surfaces (CLI
// backup/backups/restore, the editor) go through this factory rather than constructing stores.
import type { Environment } from '../environment';
import type { ClientId } from '../model';
import { snapshotStoreFor, type SnapshotStore } from './backups';
import type { CommandRunner } from './claudeCodeKeychain';
import { claudeCodeStore } from './claudeCodeStore';
import { codexCredentialSettings, CodexCredentialSettingsSchema } from './codexSettings';
import { codexStore } from './codexStore';
import type { CredentialStore } from './store';

export interface CredentialStoreOptions {
  /** Shared by every store; default `snapshotStoreFor(e)` (`~/.mcp-auth-doctor/backups`). */
  backups?: SnapshotStore;
  /** macOS: runs /usr/bin/security for Claude Code's Keychain item (tests inject a fake). */
  security?: CommandRunner;
  /** Only these clients' stores; default all. */
  clients?: ClientId[];
}

export function credentialStoresFor(e: Environment, codexSettings?: unknown, options: CredentialStoreOptions = {}): CredentialStore[] {
  const backups = options.backups ?? snapshotStoreFor(e);
  const wanted = (c: ClientId) => !options.clients || options.clients.includes(c);
  const stores: CredentialStore[] = [];
  if (wanted('claude-code')) stores.push(claudeCodeStore(e, { backups, ...(options.security ? { security: options.security } : {}) }));

  if (wanted('codex')) {
    // Settings from the Codex config reader; without them the store reads config.toml itself.
    const parsed = CodexCredentialSettingsSchema.safeParse(codexSettings);
    const settings = parsed.success && codexSettings !== undefined ? codexCredentialSettings(parsed.data, e.platform) : undefined;
    stores.push(codexStore(e, { backups, ...(settings ? { settings } : {}) }));
  }

  return stores;
}
