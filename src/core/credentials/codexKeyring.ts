// Codex's OS-keyring items (service "Codex MCP Credentials", account = the storage key), reached
// through @napi-rs/keyring (keyring-rs's own Node binding) in a child process. A locked Secret
// Service can wait forever on an unlock prompt, and a stuck native call cannot be interrupted
// inside our process (it would block the editor's extension host: failure-modes E7), so every
// batch of calls runs in a child we kill when it does not answer in time.
//
// Compatibility with Codex 0.169 (keyring-rs 3.6.3, codex-rs/keyring-store/src/lib.rs):
// - Linux: Secret Service. keyring-rs searches items by {service, username} only and accepts an
//   item whose `target` is absent or "default" (secret_service.rs `matching_target_items`); it
//   creates items with {service, username, target: "default", application: "rust-keyring"}.
//   @napi-rs/keyring 2.x updates a matching item in place (its attributes stay as Codex wrote
//   them) and creates new items with {service, username} only, which Codex finds as well. We pin
//   the binding to the Secret Service: its default would silently fall back to the kernel keyring,
//   where Codex never looks.
// - macOS: a generic password, service + account.
// - Windows: a Generic credential in the Credential Manager (windowsCredentialName; read from the
//   source, untested on Windows). Codex 0.169 and 0.171 on Windows default to the encrypted secrets
//   file instead (feature `secret_auth_storage`, codexSettings.ts): codexSecrets.ts, whose age key
//   is itself a keyring item (service "codex", the same naming; verified on Linux with 0.171).
// - The keyring API cannot list items by service everywhere; we look up the storage keys we know
//   (configured servers, file entries) and add what `findCredentials` returns where it works.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import type { KeychainItem } from './macKeychain';

export const CODEX_KEYRING_SERVICE = 'Codex MCP Credentials';

/**
 * The Credential Manager item keyring-rs 3.x reads and writes for `Entry::new(service, account)`
 * (hwchen/keyring-rs src/windows.rs `WinCredential::new_with_target` with no target): a
 * CRED_TYPE_GENERIC credential whose target name, its only identifier, is `<account>.<service>`,
 * with UserName = account and the comment `keyring-rs v<version> for service '<service>', user
 * '<account>'`. Codex 0.171 links keyring 3.6.3 and calls `Entry::new(service, account)`
 * (codex-rs/keyring-store `DefaultKeyringStore`); @napi-rs/keyring 2.x's `new Entry(service,
 * username)` is `keyring::Entry::new` of keyring 3 with windows-native (Brooooooklyn/keyring-node
 * src/entry.rs), and its `findCredentials(service)` enumerates the targets `*.<service>` and
 * answers each item's UserName as the account. So both name an item the same way; a lookup of
 * `account` under `service` is the target this returns.
 */
export function windowsCredentialName(service: string, account: string): { target: string; userName: string } {
  return { target: `${account}.${service}`, userName: account };
}
export const CODEX_KEYRING_TIMEOUT_MS = 5_000;

export type KeyringOp = { op: 'get'; account: string } | { op: 'set'; account: string; value: string } | { op: 'delete'; account: string } | { op: 'find' };

export type KeyringOpResult =
  // `notRead`: items seen by their attributes only, their secret not read (macOS: macKeychainCodex.ts).
  | { ok: true; value?: string | null; deleted?: boolean; found?: { account: string; password: string }[]; notRead?: KeychainItem[] }
  | { ok: false; error: string; ambiguous?: boolean; notRead?: KeychainItem };

export type KeyringBatch = { reachable: true; results: KeyringOpResult[] } | { reachable: false; reason: string };

/** Runs one batch of keyring calls; tests inject fakes, production uses the child process. */
export type KeyringRunner = (ops: KeyringOp[]) => Promise<KeyringBatch>;

export interface ChildKeyringOptions {
  service?: string;
  timeoutMs?: number;
  /** Environment of the child (D-Bus session address, HOME...). */
  env?: Record<string, string | undefined>;
  platform?: NodeJS.Platform;
  /** Absolute path of the @napi-rs/keyring entry point; default resolved from this module. */
  modulePath?: string;
  /** Node (or Electron with ELECTRON_RUN_AS_NODE) binary; default process.execPath. */
  nodePath?: string;
}

const ResultsSchema = z.array(
  z.union([
    z.object({
      ok: z.literal(true),
      value: z.string().nullable().optional(),
      deleted: z.boolean().optional(),
      found: z.array(z.object({ account: z.string(), password: z.string() })).optional(),
    }),
    z.object({ ok: z.literal(false), error: z.string(), ambiguous: z.boolean().optional() }),
  ]),
);

// Runs in the child: reads {modulePath, service, pin, ops} from stdin, answers one JSON array.
// Error texts come from keyring-rs and name the store, never the secret.
const CHILD = `
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const { modulePath, service, pin, ops } = JSON.parse(input);
  let k;
  try { k = require(modulePath); } catch (e) { process.stderr.write('load: ' + e.message); process.exit(3); }
  const options = pin ? { linux: { store: 'secret-service' } } : undefined;
  const results = ops.map((o) => {
    try {
      if (o.op === 'find') return { ok: true, found: k.findCredentials(service) };
      const entry = new k.Entry(service, o.account, options);
      if (o.op === 'get') return { ok: true, value: entry.getPassword() };
      if (o.op === 'set') { entry.setPassword(o.value); return { ok: true }; }
      return { ok: true, deleted: entry.deleteCredential() };
    } catch (e) {
      const message = String((e && e.message) || e);
      return { ok: false, error: message, ambiguous: /ambiguous|matched by \\d+ credentials/i.test(message) };
    }
  });
  process.stdout.write(JSON.stringify(results));
});
`;

let modulePath: { path: string | undefined } | undefined;

/**
 * Where the binding is, looked up once (a failed require.resolve walks node_modules folders
 * synchronously): a per-target VSIX's own copy next to the bundle (dist/native/, scripts/package.mjs),
 * else where npm installed it.
 */
export function defaultKeyringModulePath(): string | undefined {
  if (!modulePath) {
    const bundled = path.join(__dirname, 'native', 'index.js');
    try {
      modulePath = { path: existsSync(bundled) ? bundled : require.resolve('@napi-rs/keyring') };
    } catch {
      modulePath = { path: undefined };
    }
  }
  return modulePath.path;
}

export function childKeyringRunner(options: ChildKeyringOptions = {}): KeyringRunner {
  const service = options.service ?? CODEX_KEYRING_SERVICE;
  const timeoutMs = options.timeoutMs ?? CODEX_KEYRING_TIMEOUT_MS;
  const platform = options.platform ?? process.platform;
  return (ops) =>
    new Promise<KeyringBatch>((resolve) => {
      const modulePath = options.modulePath ?? defaultKeyringModulePath();
      if (!modulePath) return resolve({ reachable: false, reason: 'the keyring module (@napi-rs/keyring) is not installed with this tool' });
      const env = { ...(options.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' };
      const child = spawn(options.nodePath ?? process.execPath, ['-e', CHILD], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let done = false;
      const finish = (batch: KeyringBatch) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        resolve(batch);
      };
      const timer = setTimeout(
        () =>
          finish({
            reachable: false,
            reason: `the OS keyring did not answer within ${(timeoutMs / 1000).toFixed(1)} s (a locked keyring waiting for an unlock prompt, or a D-Bus session that does not respond, looks like this)`,
          }),
        timeoutMs,
      );
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d.slice(0, 2000)));
      child.on('error', (err) => finish({ reachable: false, reason: `could not start the keyring helper (${err.message})` }));
      child.on('close', (code) => {
        if (code !== 0) return finish({ reachable: false, reason: `the keyring helper failed (${code}): ${firstLine(stderr) || 'no output'}` });
        let parsed;
        try {
          parsed = ResultsSchema.safeParse(JSON.parse(stdout));
        } catch {
          parsed = undefined;
        }
        if (!parsed?.success) return finish({ reachable: false, reason: 'the keyring helper answered something unreadable' });
        finish(unreachableIfAllFailed(parsed.data as KeyringOpResult[]));
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(JSON.stringify({ modulePath, service, pin: platform === 'linux', ops }));
    });
}

/** Every call failing the same non-entry way means the store itself is out of reach. */
export function unreachableIfAllFailed(results: KeyringOpResult[]): KeyringBatch {
  const failures = results.filter((r): r is Extract<KeyringOpResult, { ok: false }> => !r.ok && !r.ambiguous);
  if (results.length > 0 && failures.length === results.length) return { reachable: false, reason: failures[0]!.error };
  return { reachable: true, results };
}

export function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}
