// A private, unlocked Secret Service (what Codex's keyring store talks to on Linux): its own
// D-Bus session bus from dbus-launch and gnome-keyring-daemon's secrets component, keyrings in a
// throwaway directory, so the user's keyrings are never touched. Debian packages: dbus-x11,
// gnome-keyring, libsecret-tools (secret-tool).
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CODEX_KEYRING_SERVICE } from '../../src/core/credentials/codexKeyring';
import { codexKey } from '../../src/core/credentials/codexStore';

export interface PrivateSecretService {
  /** Pass these to every process that should use this Secret Service (DBUS_SESSION_BUS_ADDRESS). */
  env: Record<string, string>;
  /** Runs secret-tool against this service (lookup/search/store/clear). */
  secretTool(args: string[], input?: string): { status: number | null; stdout: string; stderr: string };
  stop(): Promise<void>;
}

/** Why a private Secret Service cannot start here, or undefined when the tools are installed. */
export function secretServiceUnavailable(): string | undefined {
  for (const tool of ['dbus-launch', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install dbus-x11 gnome-keyring libsecret-tools)`;
  }
  return undefined;
}

export async function startPrivateSecretService(): Promise<PrivateSecretService> {
  const missing = secretServiceUnavailable();
  if (missing) throw new Error(missing);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-secrets-'));
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, XDG_RUNTIME_DIR: dir, XDG_DATA_HOME: path.join(dir, 'data') };
  const launched = spawnSync('dbus-launch', ['--sh-syntax'], { env: base, encoding: 'utf8', timeout: 10_000 });
  const address = /DBUS_SESSION_BUS_ADDRESS='([^']+)'/.exec(launched.stdout ?? '')?.[1];
  const busPid = Number(/DBUS_SESSION_BUS_PID=(\d+)/.exec(launched.stdout ?? '')?.[1]);
  if (!address || !busPid) {
    await fs.rm(dir, { recursive: true, force: true });
    throw new Error(`dbus-launch failed: ${launched.stderr ?? launched.error}`);
  }
  const env = { ...base, DBUS_SESSION_BUS_ADDRESS: address };
  // --unlock reads the login keyring's password from stdin and creates that keyring unlocked.
  const daemon = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env, stdio: ['pipe', 'ignore', 'ignore'] });
  daemon.stdin.end('lab-keyring-password');
  const killBoth = () => {
    daemon.kill('SIGTERM');
    try {
      process.kill(busPid, 'SIGTERM');
    } catch {
      // the bus is gone already
    }
  };
  // A test run that ends without calling stop() (an uncaught error) still takes both down.
  process.once('exit', killBoth);
  const stop = async () => {
    process.removeListener('exit', killBoth);
    killBoth();
    await fs.rm(dir, { recursive: true, force: true });
  };
  const secretTool = (args: string[], input?: string) => {
    const r = spawnSync('secret-tool', args, { env, input: input ?? '', encoding: 'utf8', timeout: 10_000 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  // Wait until our daemon owns the Secret Service name before any client call: a call made
  // earlier makes the bus auto-start a second, locked daemon that wins the name.
  const deadline = Date.now() + 10_000;
  const owned = () =>
    spawnSync('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'], {
      env,
      encoding: 'utf8',
      timeout: 5000,
    }).stdout?.includes('boolean true');
  // Then ready once an item can be stored in (and removed from) the default collection.
  while (!owned() || secretTool(['store', '--label=probe', 'mad-probe', 'ready'], 'x').status !== 0) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error('gnome-keyring-daemon did not become ready within 10 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  secretTool(['clear', 'mad-probe', 'ready']);
  return { env: { DBUS_SESSION_BUS_ADDRESS: address }, secretTool, stop };
}

/**
 * A Codex keyring login for server `name` at `url`, stored as Codex 0.171's keyring-rs stores it
 * (attributes service, username, target "default", application "rust-keyring"; its label), with
 * throwaway token values: what the VSIX checks read back through the keyring.
 */
export function storeCodexKeyringLogin(secrets: PrivateSecretService, name: string, url: string): void {
  const account = codexKey(name, url);
  const value = JSON.stringify({
    server_name: name,
    url,
    client_id: 'vsix-client',
    token_response: { access_token: 'vsix-at-' + 'x'.repeat(24), token_type: 'bearer', expires_in: 3600, refresh_token: 'vsix-rt-' + 'y'.repeat(24), scope: 'mcp' },
    expires_at: Date.now() + 3600_000,
  });
  const stored = secrets.secretTool(['store', `--label=${account}@${CODEX_KEYRING_SERVICE}:default (keyring v3.6.3)`, 'service', CODEX_KEYRING_SERVICE, 'username', account, 'target', 'default', 'application', 'rust-keyring'], value);
  if (stored.status !== 0) throw new Error(`secret-tool store: ${stored.stderr}`);
}
