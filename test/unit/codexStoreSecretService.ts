// A private, unlocked Secret Service for keyring tests: its own D-Bus session bus (dbus-launch)
// and gnome-keyring-daemon's secrets component, with a throwaway HOME so the user's keyrings are
// never touched. Debian packages: dbus-x11, gnome-keyring, libsecret-tools (secret-tool).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { tempDir } from './credentialsHelpers';

export interface PrivateSecretService {
  home: string;
  /** Environment for anything that should talk to this Secret Service. */
  env: Record<string, string>;
  secretTool(args: string[], input?: string): { status: number | null; stdout: string; stderr: string };
  stop(): Promise<void>;
}

export function secretServiceToolsMissing(): string | undefined {
  for (const tool of ['dbus-launch', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install dbus-x11 gnome-keyring libsecret-tools)`;
  }
  return undefined;
}

export async function startSecretService(): Promise<PrivateSecretService> {
  const home = await tempDir('mad-ss-');
  const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_DATA_HOME: path.join(home, '.local/share') };
  const launched = spawnSync('dbus-launch', ['--sh-syntax'], { env: baseEnv, encoding: 'utf8' });
  const address = /DBUS_SESSION_BUS_ADDRESS='([^']+)'/.exec(launched.stdout)?.[1];
  const busPid = Number(/DBUS_SESSION_BUS_PID=(\d+)/.exec(launched.stdout)?.[1]);
  if (!address || !busPid) throw new Error(`dbus-launch failed: ${launched.stderr}`);
  const env = { ...baseEnv, DBUS_SESSION_BUS_ADDRESS: address };
  // --unlock reads the login keyring's password from stdin and creates it (unlocked) if missing.
  const daemon: ChildProcess = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
  daemon.stdin!.end('test-keyring-password');
  const stop = async () => {
    daemon.kill('SIGTERM');
    try {
      process.kill(busPid, 'SIGTERM');
    } catch {
      // already gone
    }
    await fs.rm(home, { recursive: true, force: true });
  };
  const secretTool = (args: string[], input?: string) => {
    const r = spawnSync('secret-tool', args, { env, input: input ?? '', encoding: 'utf8', timeout: 10_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  try {
    // The daemon prints its control socket once it runs; the bus name must be owned before the
    // first client call, or D-Bus would activate a second, locked daemon.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('gnome-keyring-daemon did not start')), 10_000);
      daemon.stdout!.setEncoding('utf8').on('data', (d: string) => {
        if (d.includes('GNOME_KEYRING_CONTROL=')) {
          clearTimeout(timer);
          resolve();
        }
      });
      daemon.on('exit', (code) => reject(new Error(`gnome-keyring-daemon exited (${code})`)));
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const owner = spawnSync(
        'dbus-send',
        ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'],
        { env, encoding: 'utf8', timeout: 5_000 },
      );
      if (/boolean true/.test(owner.stdout) && secretTool(['store', '--label=probe', 'mad-probe', 'ready'], 'x').status === 0) break;
      if (Date.now() > deadline) throw new Error('gnome-keyring-daemon did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    secretTool(['clear', 'mad-probe', 'ready']);
    // Nothing more to read from the daemon; it must never keep a test run alive.
    daemon.stdout!.destroy();
    daemon.unref();
  } catch (err) {
    await stop();
    throw err;
  }
  return { home, env, secretTool, stop };
}

/** A D-Bus "session bus" that accepts connections and never answers: what a wedged bus looks like. */
export async function silentBus(dir: string): Promise<{ address: string; close(): Promise<void> }> {
  const socket = path.join(dir, 'silent-bus');
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    address: `unix:path=${socket}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
