// `npm start`: builds the extension, writes a demo HOME, starts a real VS Code (the VS Code server
// from code-server, on loopback) with the extension loaded, and prints the URL to open.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, node24, root, serverMain, spawnVsCodeServer, waitForPort, workbenchUrl } from './vscodeServer.mjs';

if (!fs.existsSync(node24) || !fs.existsSync(serverMain)) {
  execFileSync('bash', [path.join(root, 'scripts/setup-vscode-server.sh')], { stdio: 'inherit' });
}
execFileSync(process.execPath, [path.join(root, 'esbuild.js')], { cwd: root, stdio: 'inherit' });

const demoRoot = path.join(root, '.demo');
// The labs and the demo HOME around them (scripts/demo/demo.ts); it prints one JSON line when ready.
const demo = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/demo/demo.ts'), demoRoot], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const { home, project, mcpUrl, issuer, servers } = await firstJsonLine(demo);
const state = path.join(demoRoot, 'vscode');
const port = Number(process.env.PORT) || (await freePort());

// Own process group, so stopping it also stops its file watcher and extension host.
const server = spawnVsCodeServer({ port, home, stateDir: state, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
const stopServer = () => {
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    // already gone
  }
};
server.stdout.on('data', (d) => {
  if (process.env.DEBUG) process.stdout.write(d);
});
const url = workbenchUrl(port, project, [['skipWelcome', 'true']]);
if (!(await waitForPort(port, Date.now() + 20_000))) throw new Error(`VS Code server did not listen on 127.0.0.1:${port}`);
console.log(`\nMCP Auth Doctor demo: VS Code is running on loopback with the extension loaded.\n`);
console.log(`  Open: ${url}\n`);
const labs = new Set(Object.values(servers)).size;
console.log(`  Live labs (loopback only): ${labs} MCP servers, each with its own authorization server; the main one is ${mcpUrl} (issuer ${issuer}).`);
console.log(`  One lab server per probe state: ${Object.keys(servers).join(', ')}; lab-hanging never answers, so the probe's timeout marks it.`);
console.log(`  Sandbox HOME: ${home}  (edit its ~/.claude.json or ~/.codex/config.toml and watch the view)`);
console.log(`  CLI on the same HOME: HOME=${home} node dist/cli.js status -v --cwd ${project}\n`);
console.log('Press Ctrl+C to stop.');
const stop = () => {
  stopServer();
  demo.kill();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.on('exit', (code) => {
  stopServer();
  demo.kill();
  process.exit(code ?? 1);
});
demo.on('exit', (code) => {
  console.error(`demo labs stopped (exit ${code})`);
  stopServer();
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
        } catch {
          reject(new Error(`demo printed something unexpected: ${buf.slice(0, 200)}`));
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`demo exited (${code}) before it was ready`)));
  });
}
