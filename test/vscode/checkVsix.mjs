// The packaged extension, as a user installs it: `npm run package` yields a VSIX under 1.5 MiB that
// holds only what .vscodeignore allows; `--install-extension` puts it into a real VS Code server;
// opened with no development path, the MCP Auth view lists a sandbox HOME's server.
// Prints `checkVsix: N passed, N failed` last (scripts/test.mjs reads it).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { freePort, LOOPBACK_ONLY_ENV, node24, root, serverMain, spawnVsCodeServer, waitForPort } from '../../scripts/vscodeServer.mjs';
import { STEPS } from './uiDriver.mjs';
// TypeScript through tsx (scripts/test.mjs runs this file with --import tsx).
import { secretServiceUnavailable, startPrivateSecretService, storeCodexKeyringLogin } from '../support/secretService.ts';

// A ceiling, not the target: issue 16's target (600 KB for the universal VSIX) is measured by
// `npm run bench`, never asserted here. Sizes per release are in docs/performance.md.
const MAX_BYTES = 1.5 * 1024 * 1024;
const ALLOWED = /^(extension\.vsixmanifest|\[Content_Types\]\.xml|extension\/(package\.json|readme\.md|changelog\.md|LICENSE\.txt|dist\/((extension|cli)\.js|[\w-]+\.mjs)|media\/.+|docs\/screenshots\/.+|docs\/findings\.md))$/;
const results = [];
const check = async (name, fn) => {
  try {
    await fn();
    results.push([name, null]);
    console.log(`  ✔ ${name}`);
  } catch (err) {
    results.push([name, err]);
    console.log(`  ✘ ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
};

const vsix = path.join(root, 'mcp-auth-doctor.vsix');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-auth-vsix-'));
let server;
let browser;
let secrets;
try {
  execFileSync('npm', ['run', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 });

  await check('the VSIX is under 1.5 MiB', () => {
    const size = fs.statSync(vsix).size;
    if (size >= MAX_BYTES) throw new Error(`${size} bytes`);
    console.log(`    ${(size / 1024).toFixed(0)} KiB`);
  });

  await check('the VSIX holds the bundles, media, README, CHANGELOG and LICENSE only', () => {
    const names = spawnSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).stdout.split('\n').filter((n) => n && !n.endsWith('/'));
    const stray = names.filter((n) => !ALLOWED.test(n));
    if (stray.length) throw new Error(`unexpected files: ${stray.join(', ')}`);
    for (const must of ['extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/extension-main.mjs', 'extension/dist/cli-main.mjs', 'extension/package.json']) {
      if (!names.includes(must)) throw new Error(`missing ${must}`);
    }
  });

  await check('every chunk the ES modules import, at once or on first use, is in the VSIX', () => {
    const names = new Set(spawnSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).stdout.split('\n'));
    const missing = new Set();
    for (const n of [...names].filter((x) => /^extension\/dist\/[\w-]+\.mjs$/.test(x))) {
      const text = execFileSync('unzip', ['-p', vsix, n], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
      for (const m of text.matchAll(/(?:from|import\()\s*"\.\/([\w-]+\.mjs)"/g)) if (!names.has(`extension/dist/${m[1]}`)) missing.add(m[1]);
    }
    if (missing.size) throw new Error(`imported but not packaged: ${[...missing].join(', ')}`);
  });

  await check('every image the packaged README and walkthrough show is in the VSIX (no broken image on the details page)', () => {
    const names = new Set(spawnSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).stdout.split('\n'));
    const docs = names.has('extension/readme.md') ? ['extension/readme.md'] : [];
    if (!docs.length) throw new Error('no readme.md in the VSIX');
    docs.push(...[...names].filter((n) => /^extension\/media\/.+\.md$/.test(n)));
    const missing = [];
    for (const doc of docs) {
      const text = execFileSync('unzip', ['-p', vsix, doc], { encoding: 'utf8' });
      for (const [, target] of text.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        const inside = path.posix.normalize(path.posix.join(path.posix.dirname(doc), target));
        if (!names.has(inside)) missing.push(`${doc} → ${target}`);
      }
    }
    if (missing.length) throw new Error(`missing: ${missing.join(', ')}`);
  });

  const state = path.join(tmp, 'state');
  await check('--install-extension installs it into the VS Code server', () => {
    const out = execFileSync(node24, [serverMain, '--install-extension', vsix, '--extensions-dir', path.join(state, 'extensions'), '--server-data-dir', path.join(state, 'server-data'), '--accept-server-license-terms'], { encoding: 'utf8', timeout: 120_000 });
    if (!/successfully installed/i.test(out)) throw new Error(out.trim());
  });

  // A Codex login kept in the OS keyring, as `codex mcp login` leaves it (keyring-rs attributes):
  // the VSIX has no native keyring module, so the extension must reach it through secret-tool.
  const keyringUrl = 'https://kr.example.com/mcp';
  const keyringMissing = secretServiceUnavailable();
  let view;
  await check('the installed extension shows the view with a HOME’s server', async () => {
    const home = path.join(tmp, 'home');
    const workspace = path.join(tmp, 'workspace');
    fs.mkdirSync(workspace, { recursive: true });
    fs.mkdirSync(path.join(home, '.codex'), { recursive: true });
    fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: { 'vsix-check': { type: 'http', url: 'https://mcp.example.com/mcp' } } }));
    fs.writeFileSync(path.join(home, '.codex', 'config.toml'), `mcp_oauth_credentials_store = "keyring"\n\n[mcp_servers.vsix-keyring]\nurl = "${keyringUrl}"\n`);
    if (!keyringMissing) {
      secrets = await startPrivateSecretService();
      storeCodexKeyringLogin(secrets, 'vsix-keyring', keyringUrl);
    }
    const port = await freePort();
    server = spawnVsCodeServer({ port, home, stateDir: state, detached: true, env: { ...LOOPBACK_ONLY_ENV, ...(secrets?.env ?? {}) } });
    if (!(await waitForPort(port, Date.now() + 30_000))) throw new Error('the VS Code server did not listen');
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // No payload: the extension comes from the extensions folder, as for a user.
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    view = await STEPS.showView(page);
    for (let i = 0; i < 40 && !view.rows.some((r) => r.label === 'vsix-check'); i++) {
      await page.waitForTimeout(250);
      view = await STEPS.readView(page);
    }
    const row = view.rows.find((r) => r.label === 'vsix-check');
    if (!row) throw new Error(`rows: ${JSON.stringify(view.rows.map((r) => r.label))}`);
    if (!row.description.includes('mcp.example.com · user')) throw new Error(`description: ${row.description}`);
    // Keep reading until the keyring's answer is in (it is read in a child process).
    for (let i = 0; i < 40 && !/expires in/.test(view.rows.find((r) => r.label === 'vsix-keyring')?.description ?? ''); i++) {
      await page.waitForTimeout(250);
      view = await STEPS.readView(page);
    }
  });

  await check('…and reads Codex’s login from the OS keyring without a native module (secret-tool)', () => {
    if (keyringMissing) throw new Error(`cannot check here: ${keyringMissing}`);
    const row = view?.rows.find((r) => r.label === 'vsix-keyring');
    if (!row) throw new Error(`rows: ${JSON.stringify(view?.rows.map((r) => r.label))}`);
    // Read from the keyring: the stored expiry and refresh token show (not "not logged in").
    if (!/expires in \d+ min · refresh token present/.test(row.description)) throw new Error(`vsix-keyring reads "${row.description}"`);
  });
} finally {
  await browser?.close().catch(() => {});
  await secrets?.stop().catch(() => {});
  if (server?.pid) {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}
const failed = results.filter(([, err]) => err).length;
console.log(`checkVsix: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
