// Where mcp-remote keeps its state. `MCP_REMOTE_CONFIG_DIR`, else `~/.mcp-auth` (os.homedir()),
// then one folder per store format:
// - 0.15.1: `mcp-remote-v1` (CONFIG_STORE_VERSION = 1, chunk-KJCT2FXL.js:31762-31766), shared by
//   every release with that store version;
// - 0.1.x (geelen/mcp-remote src/lib/mcp-auth-config.ts getConfigDir): `mcp-remote-<version>`,
//   a new empty folder for every release, so `npx mcp-remote@latest` "logs out" on each update
//   (punkpeye/mcp-remote#200, #318). Some builds stamp the previous release's number (the 0.1.38
//   tarball writes `mcp-remote-0.1.37`: punkpeye/mcp-remote#306), so a folder name is not proof
//   of which release wrote it.
// Files in a folder are `<hash>_<name>` (getConfigFilePath, 31771-31774).
import type { Environment } from '../../environment';
import { pathFor } from '../../environment';
import type { VersionPin } from './argv';

/** The folder 0.15.1 reads and writes. */
export const CURRENT_STORE_FOLDER = 'mcp-remote-v1';
/** The newest release whose layout we verified against the real package (the package.json pin). */
export const NEWEST_VERIFIED = '0.15.1';

export function mcpRemoteBaseDir(e: Pick<Environment, 'env' | 'home' | 'platform'>): string {
  const p = pathFor(e);
  return e.env.MCP_REMOTE_CONFIG_DIR ? p.resolve(e.env.MCP_REMOTE_CONFIG_DIR) : p.join(e.home, '.mcp-auth');
}

/** A store folder name: a store version (`mcp-remote-v1`) or a release (`mcp-remote-0.1.37`). */
export type StoreFolder = { name: string; kind: 'store-version'; storeVersion: number } | { name: string; kind: 'release'; release: string };

export function parseStoreFolder(name: string): StoreFolder | undefined {
  const v = /^mcp-remote-v(\d+)$/.exec(name);
  if (v) return { name, kind: 'store-version', storeVersion: Number(v[1]) };
  const r = /^mcp-remote-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(name);
  if (r) return { name, kind: 'release', release: r[1]! };
  return undefined;
}

/**
 * The folder the pinned release reads, when we know it: 0.15.1 (and, we assume, every later
 * release until the store version changes) `mcp-remote-v1`; a 0.1.x release its own number.
 * Unpinned, `latest` and ranges run whatever npx resolves, which for an up-to-date cache is
 * the newest release: taken as the current layout. Releases between 0.2 and 0.15 are not known.
 */
export function folderForPin(pin: VersionPin): { folder?: string; why: string } {
  if (pin.kind !== 'exact') {
    return { folder: CURRENT_STORE_FOLDER, why: `mcp-remote${pin.kind === 'tag' ? `@${pin.tag}` : pin.kind === 'range' ? `@${pin.range}` : ''} runs the newest release npx resolves, which reads ${CURRENT_STORE_FOLDER} (as ${NEWEST_VERIFIED} does)` };
  }
  const [major, minor] = pin.version.split('.').map(Number) as [number, number];
  if (major === 0 && minor === 1) return { folder: `mcp-remote-${pin.version}`, why: `mcp-remote ${pin.version} keeps its logins in a folder named after its own release` };
  if (major > 0 || minor >= 15) return { folder: CURRENT_STORE_FOLDER, why: `mcp-remote ${pin.version} reads ${CURRENT_STORE_FOLDER}` };
  return { why: `which folder mcp-remote ${pin.version} reads is not known (only 0.1.x and ${NEWEST_VERIFIED} were checked)` };
}

/** The per-server files, by what they are. */
export const FILE = {
  tokens: 'tokens.json',
  clientInfo: 'client_info.json',
  /** 0.1.x before per-process verifiers. */
  codeVerifier: 'code_verifier.txt',
  /** 0.1.3x `code_verifier_<pid>.txt`, 0.15.1 `code_verifier_<state>.txt` (flow-scoped: 35396-35398). */
  codeVerifierPrefix: 'code_verifier_',
  /** 0.15.1 `discovery_state_<state>.json`, written with the verifier (saveCodeVerifier 35351, discoveryStateFile 35399). */
  discoveryStatePrefix: 'discovery_state_',
  /** 0.1.x lockfile `{pid, port, timestamp}` (geelen/mcp-remote mcp-auth-config.ts createLockfile). */
  lock: 'lock.json',
  /** 0.15.1 refresh lease `{pid, nonce, at}` (REFRESH_LEASE_FILE, 34295; ConfigLeaseSchema, 31869). */
  refreshLease: 'refresh_in_progress.json',
} as const;

/** `<hash>_<rest>` → hash and rest, for a name in a store folder. */
export function splitStateFile(name: string): { hash: string; rest: string } | undefined {
  const m = /^([0-9a-f]{32})_(.+)$/.exec(name);
  return m ? { hash: m[1]!, rest: m[2]! } : undefined;
}

/** Whether a file (after `<hash>_`) is one a reset removes: everything the server's sign-in left. */
export function isServerStateFile(rest: string): boolean {
  return (
    rest === FILE.tokens ||
    rest === FILE.clientInfo ||
    rest === FILE.codeVerifier ||
    rest === FILE.lock ||
    rest === FILE.refreshLease ||
    (rest.startsWith(FILE.codeVerifierPrefix) && rest.endsWith('.txt')) ||
    (rest.startsWith(FILE.discoveryStatePrefix) && rest.endsWith('.json'))
  );
}
