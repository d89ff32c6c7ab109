// What one client is, declared in one object: where its MCP config lives, where it keeps its
// tokens, how it names a server's credentials, what the user runs in it to log in, how it says its
// version and which column of the probe's compatibility table speaks for it. The scan, the stores'
// factory, the version detection, the process check and the hand-off commands read these objects
// from registry.ts and nothing else, so a new client is its folder plus one line there.
import type { SnapshotStore } from '../credentials/backups';
import type { CredentialStoreOptions } from '../credentials/index';
import type { CredentialStore, CredentialSummary } from '../credentials/store';
import type { Environment } from '../environment';
import type { StoreContent } from '../journal/losses';
import type { ConfigScan, McpServer } from '../model';
import type { CompatClient } from '../probe/verdict';
import type { ClientId } from './ids';

/** A command line the user runs in the client itself (no shell). */
export interface ClientCommand {
  command: string;
  args: string[];
}

/**
 * What every store factory is given: the shared snapshot store, and the surface's options
 * (credentials/index.ts), of which each client takes the ones that concern it (Codex: its
 * Keychain reads; Claude Code: the `security` runner).
 */
export interface StoreFactoryOptions extends Omit<CredentialStoreOptions, 'backups' | 'clients'> {
  backups: SnapshotStore;
  /** Store settings a config reader handed over; only Codex's has any (`mcp_oauth_credentials_store`), other stores ignore it. */
  settings?: unknown;
}

/** How the client reports its version on PATH and, where it has one, as a VS Code extension. */
export interface VersionRule {
  /** The binary the client installs on PATH. */
  binary: string;
  /** The newest version the interop suite verified our rules against (the package.json pin). */
  newestVerified: string;
  /** The version in the first line of `<binary> --version`, or undefined for anything else. */
  parse(firstLine: string): string | undefined;
  /**
   * The client's VS Code extension, when it ships one, and where its version is: the manifest's
   * own (versioned with the client), or a binary of the client it carries under `bin/`.
   */
  vscodeExtension?: { id: string; version: 'manifest' | 'bundled-binary' };
}

/** How a running process of the client is recognised (a write while it runs can race its own). */
export interface ProcessRule {
  /** Base names of its executables (`claude`, `codex.exe`). */
  executables: readonly string[];
  /** Full paths that are the client although their base name is not (Claude Code's versioned binaries). */
  executablePaths?: readonly RegExp[];
  /** Scripts node runs for it, as `/`-separated paths (`…/@openai/codex/bin/codex.js`). */
  scripts?: readonly RegExp[];
  /** The npm packages it runs from (launcher and platform packages), whose package.json says a running copy's version. */
  npmPackage?: RegExp;
}

export interface ClientDefinition {
  readonly id: ClientId;
  readonly label: string;
  /** Every config file and scope the client reads, with positions for Problems. */
  scanConfigs(e: Environment): Promise<ConfigScan>;
  /** Its credential store; absent when its tokens live where we do not read (an editor's secret storage). */
  credentialStore?(e: Environment, options: StoreFactoryOptions): CredentialStore;
  /** For a client without `credentialStore`: where its tokens are, and why we leave them alone. */
  tokensNotRead?: string;
  /** The user's own login / logout command in the client, when it has one for this entry. */
  handOff(server: Pick<McpServer, 'name' | 'scope' | 'profile'>, verb: 'login' | 'logout'): ClientCommand | undefined;
  version?: VersionRule;
  process?: ProcessRule;
  /**
   * Our Re-login (PKCE, reusing the stored client) writes a login this client was seen to accept
   * (interop tests). Without it Re-login is refused with `noLoginBecause` and refresh and reset remain.
   */
  ourLogin?: boolean;
  noLoginBecause?: string;
  /** How the user gives the client a pre-registered client id, in the client's own words (for "no way to register"). */
  configureClientId?: string;
  /** The column of the probe's per-client verdicts (probe/verdict.ts) that speaks for this client. */
  compatibility: CompatClient;
  /**
   * The credential journal's view of this client's file store (journal/): its grants in the
   * store's raw content, as the client itself would read them, and the files to watch. Claude
   * Code's and Codex's are in journal/losses.ts and journal/sources.ts, with their Keychain and
   * keyring sides; a client with `journal` and a store with `backup()` is journaled the same way.
   */
  journal?: JournalRule;
}

export interface JournalRule {
  /** The grants `raw` holds; 'unparsable' when the client reads no login from it at all. */
  content(raw: string): StoreContent;
  /** The store's files, for the editor's watcher. */
  files(e: Environment): string[];
  /** Every entry of `raw` as the store lists it (fingerprints only), for `history`; undefined when the client reads none. */
  summaries(raw: string): CredentialSummary[] | undefined;
}
