// The per-target VSIXs of `npm run package` (scripts/package.mjs): each holds exactly its target's
// @napi-rs/keyring binary, in that target's format (Mach-O / ELF / PE and CPU, glibc or musl), and
// otherwise what the universal VSIX holds; the universal one holds none. Here (linux-x64) the
// unpacked linux-x64 bundle loads its binary, and its CLI reads a Codex keyring login through it
// with secret-tool replaced by a stand-in that records any call (the universal bundle, counter-check,
// falls back to it); installed into the VS Code server, the linux-x64 VSIX shows that login in the
// view, read the same way. The CLI's npm package holds no binary, names every platform's as an
// optional dependency, and laid out as npm installs it reads the same login. With --built the VSIXs of an earlier `npm run package` are checked.
// Prints `checkPlatformVsix: N passed, N failed` last.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI_PACKAGE, TARGETS, UNIVERSAL_VSIX, vsixFor } from '../../scripts/package.mjs';
import { chromium } from 'playwright-core';
import { freePort, LOOPBACK_ONLY_ENV, node24, root, serverMain, spawnVsCodeServer, waitForPort } from '../../scripts/vscodeServer.mjs';
import { STEPS } from './uiDriver.mjs';
// TypeScript through tsx (run with --import tsx).
import { secretServiceUnavailable, startPrivateSecretService } from '../support/secretService.ts';
// Imported dynamically: a static import from this .mjs gives realClients.ts a bogus __dirname under tsx.
const { codexLogin } = await import('../support/realClients.ts');
import { startLab } from '../lab/index.ts';

const NATIVE = 'extension/dist/native/';
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
const entries = (vsix) => spawnSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).stdout.split('\n').filter((n) => n && !n.endsWith('/'));

/** What a binary is built for, from its header: format, CPU and (ELF) the C library it links. */
export function binaryKind(b) {
  if (b.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = b.readUInt32LE(4);
    return { format: 'macho', arch: cpu === 0x0100000c ? 'arm64' : cpu === 0x01000007 ? 'x64' : `cpu 0x${cpu.toString(16)}` };
  }
  if (b.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
    if (b[5] !== 1) return { format: 'elf', arch: 'big-endian' };
    const machine = b.readUInt16LE(18);
    const arch = machine === 62 && b[4] === 2 ? 'x64' : machine === 183 && b[4] === 2 ? 'arm64' : machine === 40 && b[4] === 1 ? 'arm' : `machine ${machine}`;
    // glibc builds carry versioned symbol references (GLIBC_2.x); musl has no symbol versions.
    return { format: 'elf', arch, libc: b.includes('GLIBC_2.') ? 'glibc' : 'musl' };
  }
  if (b.subarray(0, 2).toString('latin1') === 'MZ') {
    const pe = b.readUInt32LE(0x3c);
    if (b.subarray(pe, pe + 4).toString('latin1') !== 'PE\0\0') return { format: 'MZ without PE' };
    const machine = b.readUInt16LE(pe + 4);
    return { format: 'pe', arch: machine === 0x8664 ? 'x64' : machine === 0xaa64 ? 'arm64' : `machine 0x${machine.toString(16)}` };
  }
  return { format: `unknown (${b.subarray(0, 4).toString('hex')})` };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-auth-platform-vsix-'));
let secrets;
let server;
let browser;
let lab;
try {
  if (!process.argv.includes('--built')) execFileSync('npm', ['run', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });

  const universal = entries(UNIVERSAL_VSIX);
  await check('the universal VSIX holds no native module and names no target', () => {
    const native = universal.filter((n) => n.startsWith(NATIVE) || n.endsWith('.node'));
    if (native.length) throw new Error(`holds ${native.join(', ')}`);
    const manifest = execFileSync('unzip', ['-p', UNIVERSAL_VSIX, 'extension.vsixmanifest'], { encoding: 'utf8' });
    if (/TargetPlatform=/.test(manifest)) throw new Error('its manifest names a target platform');
  });

  for (const [target, want] of Object.entries(TARGETS)) {
    const vsix = vsixFor(target);
    await check(`${target}: declares its target and holds the universal files plus dist/native/ with keyring.${want.triple}.node only`, () => {
      if (!fs.existsSync(vsix)) throw new Error(`no ${path.basename(vsix)}`);
      const manifest = execFileSync('unzip', ['-p', vsix, 'extension.vsixmanifest'], { encoding: 'utf8' });
      if (!manifest.includes(`TargetPlatform="${target}"`)) throw new Error('its manifest does not name the target');
      const names = entries(vsix);
      const native = names.filter((n) => n.startsWith(NATIVE)).map((n) => n.slice(NATIVE.length)).sort();
      const expected = ['LICENSE', 'LICENSE.third-party.md', 'index.js', `keyring.${want.triple}.node`].sort();
      if (JSON.stringify(native) !== JSON.stringify(expected)) throw new Error(`dist/native/ holds ${native.join(', ')}`);
      const rest = names.filter((n) => !n.startsWith(NATIVE) && n !== 'extension.vsixmanifest').sort();
      const base = universal.filter((n) => n !== 'extension.vsixmanifest').sort();
      if (JSON.stringify(rest) !== JSON.stringify(base)) throw new Error(`other files differ from the universal VSIX: ${rest.filter((n) => !base.includes(n)).concat(base.filter((n) => !rest.includes(n))).join(', ')}`);
      if (names.filter((n) => n.endsWith('.node')).length !== 1) throw new Error('more than one .node file');
    });
    await check(`${target}: the binary is ${want.format} ${want.arch}${want.libc ? ' ' + want.libc : ''}`, () => {
      const binary = execFileSync('unzip', ['-p', vsix, `${NATIVE}keyring.${want.triple}.node`], { maxBuffer: 64 * 1024 * 1024 });
      const got = binaryKind(binary);
      const wanted = { format: want.format, arch: want.arch, ...(want.libc ? { libc: want.libc } : {}) };
      if (JSON.stringify(got) !== JSON.stringify(wanted)) throw new Error(`it is ${JSON.stringify(got)}`);
    });
  }

  const unpack = (vsix, name) => {
    const dir = path.join(tmp, name);
    execFileSync('unzip', ['-q', vsix, '-d', dir]);
    return path.join(dir, 'extension');
  };
  const linux = unpack(vsixFor('linux-x64'), 'linux-x64');
  const keyringMissing = secretServiceUnavailable();
  if (!keyringMissing) secrets = await startPrivateSecretService();

  await check('linux-x64: the unpacked loader loads its own binary here and answers a keyring call', () => {
    // Unpacked under the temp folder: no node_modules above it, so only the local file can load.
    const probe = `
      const k = require(${JSON.stringify(path.join(linux, 'dist/native/index.js'))});
      const loaded = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
      let answer;
      try { answer = { found: k.findCredentials('mcp-auth-doctor check ' + process.pid).length }; } catch (e) { answer = { error: String(e.message) }; }
      process.stdout.write(JSON.stringify({ loaded, answer }));`;
    const r = spawnSync(process.execPath, ['-e', probe], { cwd: tmp, env: { ...process.env, ...(secrets?.env ?? {}) }, encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`the loader failed: ${r.stderr.trim().split('\n')[0]}`);
    const { loaded, answer } = JSON.parse(r.stdout);
    if (JSON.stringify(loaded) !== JSON.stringify([path.join(linux, 'dist/native/keyring.linux-x64-gnu.node')])) throw new Error(`loaded ${loaded.join(', ')}`);
    // A private Secret Service answers an empty list; without one, a clean D-Bus error.
    if (secrets ? answer.found !== 0 : !/dbus|secret service|platform secure storage/i.test(answer.error ?? '')) throw new Error(JSON.stringify(answer));
  });

  // A Codex login in the OS keyring made by the real `codex mcp login` (0.171, keyring store) at a
  // loopback lab, and a secret-tool stand-in first on PATH that records every call and fails.
  let keyringUrl = 'https://kr.example.com/mcp';
  const home = path.join(tmp, 'home');
  const standIn = path.join(tmp, 'bin');
  const calls = path.join(tmp, 'secret-tool-calls');
  const readStatus = (bundle) => {
    fs.rmSync(calls, { force: true });
    const r = spawnSync(process.execPath, [path.join(bundle, 'dist/cli.js'), 'status', '--json', '--offline', '--client', 'codex'], {
      cwd: home,
      env: { ...process.env, ...(secrets?.env ?? {}), HOME: home, PATH: `${standIn}${path.delimiter}${process.env.PATH}`, CODEX_HOME: '', MCP_AUTH_DOCTOR_JOURNAL: 'off' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const server = JSON.parse(r.stdout || '{}').servers?.find?.((s) => s.name === 'vsix-keyring');
    return { server, secretToolCalled: fs.existsSync(calls), stderr: r.stderr };
  };
  if (secrets) {
    fs.mkdirSync(path.join(home, '.codex'), { recursive: true });
    lab = await startLab();
    keyringUrl = lab.mcpUrl;
    fs.writeFileSync(path.join(home, '.codex', 'config.toml'), `mcp_oauth_credentials_store = "keyring"\n\n[mcp_servers.vsix-keyring]\nurl = "${keyringUrl}"\n`);
    await codexLogin(home, 'vsix-keyring', lab, { store: 'keyring', env: secrets.env, timeoutMs: 90_000 });
    fs.mkdirSync(standIn, { recursive: true });
    fs.writeFileSync(path.join(standIn, 'secret-tool'), `#!/bin/sh\necho "$@" >> '${calls}'\necho 'secret-tool stand-in' >&2\nexit 1\n`, { mode: 0o755 });
  }

  await check('linux-x64: its CLI reads the keyring login the real codex mcp login made, through the bundled binary (secret-tool never called)', () => {
    if (keyringMissing) throw new Error(`cannot check here: ${keyringMissing}`);
    const status = readStatus(linux);
    if (status.secretToolCalled) throw new Error(`secret-tool was called: ${fs.readFileSync(calls, 'utf8').trim()}`);
    if (!status.server) throw new Error(`no vsix-keyring in the status (${status.stderr.trim().split('\n')[0]})`);
    const { token } = status.server;
    if (token?.state !== 'stored' || !token.hasRefreshToken || !token.fingerprint || !/Secret Service/.test(token.store)) throw new Error(`vsix-keyring's token: ${JSON.stringify(token)}`);
  });

  await check('counter-check: the universal CLI, with the same login and stand-in, falls back to secret-tool and does not read it', () => {
    if (keyringMissing) throw new Error(`cannot check here: ${keyringMissing}`);
    const universalStatus = readStatus(unpack(UNIVERSAL_VSIX, 'universal'));
    if (!universalStatus.secretToolCalled) throw new Error('secret-tool was not called');
    if (!universalStatus.server) throw new Error('no vsix-keyring in the status');
    if (universalStatus.server.token?.state === 'stored') throw new Error('it reads the login all the same');
  });

  const keyring = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/@napi-rs/keyring/package.json'), 'utf8'));
  await check('the CLI npm package: the bundle and the loader, every platform binary as an optional dependency at the loader’s version, nothing else', () => {
    const names = execFileSync('tar', ['-tzf', CLI_PACKAGE], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    // The launcher's ES modules are the build's: exactly the .mjs files dist/ holds.
    const esm = fs.readdirSync(path.join(root, 'dist')).filter((f) => f.endsWith('.mjs')).map((f) => `package/dist/${f}`);
    const expected = ['package/LICENSE', 'package/README.md', 'package/dist/cli.js', ...esm, 'package/dist/native/LICENSE', 'package/dist/native/index.js', 'package/package.json'].sort();
    if (JSON.stringify(names) !== JSON.stringify(expected)) throw new Error(`it holds ${names.join(', ')}`);
    const manifest = JSON.parse(execFileSync('tar', ['-xOzf', CLI_PACKAGE, 'package/package.json'], { encoding: 'utf8' }));
    if (manifest.dependencies) throw new Error(`dependencies: ${JSON.stringify(manifest.dependencies)}`);
    const wanted = Object.fromEntries(Object.keys(keyring.optionalDependencies).map((n) => [n, keyring.version]));
    if (JSON.stringify(manifest.optionalDependencies) !== JSON.stringify(wanted)) throw new Error(`optionalDependencies: ${JSON.stringify(manifest.optionalDependencies)}`);
    if (manifest.bin?.['mcp-auth-doctor'] !== './dist/cli.js') throw new Error(`bin: ${JSON.stringify(manifest.bin)}`);
  });

  await check('the CLI npm package, laid out as npm installs it here (with its linux-x64-gnu binary package beside it), reads the keyring login through the binary', () => {
    if (keyringMissing) throw new Error(`cannot check here: ${keyringMissing}`);
    // npm's own choice of the optional dependency by os/cpu/libc is not run here (no install); the
    // binary package comes from the verified tarball scripts/package.mjs cached.
    const modules = path.join(tmp, 'npm', 'node_modules');
    const own = path.join(modules, 'mcp-auth-doctor');
    const binary = path.join(modules, '@napi-rs', 'keyring-linux-x64-gnu');
    for (const [tgz, dir] of [[CLI_PACKAGE, own], [path.join(root, '.vscode-test/keyring-cache', `napi-rs-keyring-linux-x64-gnu-${keyring.version}.tgz`), binary]]) {
      fs.mkdirSync(dir, { recursive: true });
      execFileSync('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1']);
    }
    const status = readStatus(own);
    if (status.secretToolCalled) throw new Error(`secret-tool was called: ${fs.readFileSync(calls, 'utf8').trim()}`);
    const token = status.server?.token;
    if (token?.state !== 'stored' || !token.hasRefreshToken || !token.fingerprint) throw new Error(`vsix-keyring's token: ${JSON.stringify(token)} (${status.stderr.trim().split('\n')[0]})`);
  });

  // As a user gets it: the linux-x64 VSIX installed into a real VS Code server, the same login and
  // stand-in, the view read from the workbench.
  const state = path.join(tmp, 'state');
  await check('linux-x64: installed into the VS Code server, the view shows the keyring login, read through the binary (secret-tool never called)', async () => {
    if (keyringMissing) throw new Error(`cannot check here: ${keyringMissing}`);
    const out = execFileSync(node24, [serverMain, '--install-extension', vsixFor('linux-x64'), '--extensions-dir', path.join(state, 'extensions'), '--server-data-dir', path.join(state, 'server-data'), '--accept-server-license-terms'], { encoding: 'utf8', timeout: 120_000 });
    if (!/successfully installed/i.test(out)) throw new Error(out.trim());
    const installed = fs.readdirSync(path.join(state, 'extensions')).find((d) => d.startsWith('mcp-auth-doctor.'));
    if (!installed || !fs.existsSync(path.join(state, 'extensions', installed, 'dist/native/keyring.linux-x64-gnu.node'))) throw new Error(`the installed extension has no dist/native/keyring.linux-x64-gnu.node (${installed})`);
    fs.rmSync(calls, { force: true });
    // The server gives the extension host its login shell's environment (PATH from /etc/profile),
    // so the stand-in goes first on PATH where a user's own PATH comes from: the shell profile.
    for (const profile of ['.profile', '.bash_profile']) fs.writeFileSync(path.join(home, profile), `PATH='${standIn}':"$PATH"\nexport PATH\n`);
    const workspace = path.join(tmp, 'workspace');
    fs.mkdirSync(workspace, { recursive: true });
    const port = await freePort();
    server = spawnVsCodeServer({ port, home, stateDir: state, detached: true, env: { ...LOOPBACK_ONLY_ENV, ...secrets.env, HOME: home, PATH: `${standIn}${path.delimiter}${process.env.PATH}`, MCP_AUTH_DOCTOR_JOURNAL: 'off' } });
    if (!(await waitForPort(port, Date.now() + 30_000))) throw new Error('the VS Code server did not listen');
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    let view = await STEPS.showView(page);
    const description = () => view.rows.find((r) => r.label === 'vsix-keyring')?.description ?? '';
    for (let i = 0; i < 80 && !/expires in/.test(description()); i++) {
      await page.waitForTimeout(250);
      view = await STEPS.readView(page);
    }
    if (fs.existsSync(calls)) throw new Error(`secret-tool was called: ${fs.readFileSync(calls, 'utf8').trim()}`);
    if (!/expires in \d+ min · refresh token present/.test(description())) throw new Error(`vsix-keyring reads "${description()}" (rows: ${JSON.stringify(view.rows.map((r) => r.label))})`);
  });
} finally {
  await browser?.close().catch(() => {});
  await lab?.close().catch(() => {});
  if (server?.pid) {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await secrets?.stop().catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
}
const failed = results.filter(([, err]) => err).length;
console.log(`checkPlatformVsix: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
