// `npm run package`: the universal VSIX (mcp-auth-doctor.vsix, no native module: on Linux Codex's
// keyring is read through secret-tool, elsewhere not at all) and one VSIX per VS Code target
// (mcp-auth-doctor-<target>.vsix) carrying @napi-rs/keyring's loader and its prebuilt binary for
// that target in dist/native/, which src/core/credentials/codexKeyring.ts prefers when present.
//
// Each binary comes from the npm registry's tarball of @napi-rs/keyring-<triple> at the installed
// @napi-rs/keyring's version (`npm pack`, kept in .vscode-test/keyring-cache/), checked against the
// registry's dist.integrity and package-lock.json's pin. With the registry out of reach, a cached
// tarball still matching the lockfile's pin is used, so a rerun needs no network. The CLI's npm
// package goes to dist/npm/mcp-auth-doctor-cli.tgz (packCli).
import { execFile as execFileCb, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

const execFile = promisify(execFileCb);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** VS Code target → @napi-rs/keyring's triple (its loader's `keyring.<triple>.node`) and the binary's format. */
export const TARGETS = {
  'darwin-arm64': { triple: 'darwin-arm64', format: 'macho', arch: 'arm64' },
  'darwin-x64': { triple: 'darwin-x64', format: 'macho', arch: 'x64' },
  'linux-x64': { triple: 'linux-x64-gnu', format: 'elf', arch: 'x64', libc: 'glibc' },
  'linux-arm64': { triple: 'linux-arm64-gnu', format: 'elf', arch: 'arm64', libc: 'glibc' },
  'linux-armhf': { triple: 'linux-arm-gnueabihf', format: 'elf', arch: 'arm', libc: 'glibc' },
  'alpine-x64': { triple: 'linux-x64-musl', format: 'elf', arch: 'x64', libc: 'musl' },
  'alpine-arm64': { triple: 'linux-arm64-musl', format: 'elf', arch: 'arm64', libc: 'musl' },
  'win32-x64': { triple: 'win32-x64-msvc', format: 'pe', arch: 'x64' },
  'win32-arm64': { triple: 'win32-arm64-msvc', format: 'pe', arch: 'arm64' },
};
export const UNIVERSAL_VSIX = path.join(root, 'mcp-auth-doctor.vsix');
export const vsixFor = (target) => path.join(root, `mcp-auth-doctor-${target}.vsix`);
export const CLI_PACKAGE = path.join(root, 'dist', 'npm', 'mcp-auth-doctor-cli.tgz');
const CACHE = path.join(root, '.vscode-test', 'keyring-cache');
const STAGE = path.join(root, '.vscode-test', 'vsix-stage');

const sri = (bytes) => 'sha512-' + createHash('sha512').update(bytes).digest('base64');

/** The integrity the lockfile pins for a package at this version, if it lists it. */
function lockedIntegrity(name, version) {
  try {
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
    const entry = lock.packages?.[`node_modules/${name}`];
    return entry?.version === version ? entry.integrity : undefined;
  } catch {
    return undefined;
  }
}

async function registryIntegrity(spec) {
  try {
    const { stdout } = await execFile('npm', ['view', spec, 'dist.integrity', '--json'], { cwd: root, timeout: 60_000 });
    return JSON.parse(stdout);
  } catch (err) {
    return { unreachable: String(err.stderr || err.message).trim().split('\n')[0] };
  }
}

/**
 * The verified tarball of @napi-rs/keyring-<triple>@<version>. Fetched (`npm pack`) only when the
 * cache has none; a fetched one must match both the registry's dist.integrity and the lockfile's
 * pin, a cached one (checked so when it was fetched) the lockfile's pin, or the registry's without one.
 */
async function keyringTarball(triple, version) {
  const name = `@napi-rs/keyring-${triple}`;
  const spec = `${name}@${version}`;
  const locked = lockedIntegrity(name, version);
  const file = path.join(CACHE, `napi-rs-keyring-${triple}-${version}.tgz`);
  const cached = fs.existsSync(file) ? fs.readFileSync(file) : undefined;
  if (cached && locked && sri(cached) === locked) return cached;
  const registry = await registryIntegrity(spec);
  if (typeof registry !== 'string') throw new Error(`${spec}: the registry's integrity is out of reach (${registry.unreachable})`);
  if (locked && registry !== locked) throw new Error(`${spec}: the registry's integrity ${registry} is not the one package-lock.json pins (${locked})`);
  if (cached && sri(cached) === registry) return cached;
  fs.mkdirSync(CACHE, { recursive: true });
  const { stdout } = await execFile('npm', ['pack', spec, '--pack-destination', CACHE, '--json'], { cwd: root, timeout: 120_000 });
  const packed = path.join(CACHE, JSON.parse(stdout)[0].filename);
  if (packed !== file) fs.renameSync(packed, file);
  const bytes = fs.readFileSync(file);
  if (sri(bytes) !== registry) {
    fs.rmSync(file, { force: true });
    throw new Error(`${spec}: the tarball's integrity ${sri(bytes)} is not the registry's ${registry}`);
  }
  return bytes;
}

/** Files of a .tgz (ustar; npm's tarballs put everything under package/). */
export function untar(tgz) {
  const tar = gunzipSync(tgz);
  const files = new Map();
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from, len) => header.subarray(from, from + len).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const prefix = field(345, 155);
    const name = (prefix ? prefix + '/' : '') + field(0, 100);
    if (field(156, 1) === '0' || field(156, 1) === '') files.set(name, tar.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/**
 * A folder holding only what the VSIX holds (vsce walks all of node_modules from the repository
 * root: 9 s a package, 3 s from here), plus dist/native/ for a target.
 */
function stage(name, files, target, tgz) {
  const dir = path.join(STAGE, name);
  fs.rmSync(dir, { recursive: true, force: true });
  for (const f of [...files, '.vscodeignore', 'dist/vsix-README.md']) {
    fs.mkdirSync(path.join(dir, path.dirname(f)), { recursive: true });
    fs.copyFileSync(path.join(root, f), path.join(dir, f));
  }
  if (!target) return dir;
  const { triple } = TARGETS[target];
  const native = path.join(dir, 'dist', 'native');
  fs.mkdirSync(native, { recursive: true });
  const loader = path.join(root, 'node_modules', '@napi-rs', 'keyring');
  fs.copyFileSync(path.join(loader, 'index.js'), path.join(native, 'index.js'));
  fs.copyFileSync(path.join(loader, 'LICENSE'), path.join(native, 'LICENSE'));
  const content = untar(tgz);
  const binary = content.get(`package/keyring.${triple}.node`);
  if (!binary) throw new Error(`@napi-rs/keyring-${triple}: no keyring.${triple}.node in its tarball`);
  fs.writeFileSync(path.join(native, `keyring.${triple}.node`), binary);
  const notices = content.get('package/LICENSE.third-party.md');
  if (notices) fs.writeFileSync(path.join(native, 'LICENSE.third-party.md'), notices);
  return dir;
}

/**
 * The CLI as an npm package (`npx mcp-auth-doctor`), built as @napi-rs/keyring itself is: the bundle
 * with the binding's loader in dist/native/ (where codexKeyring.ts looks first) and every platform's
 * binary package as an optional dependency at the loader's version, so npm installs only the one
 * matching the user's os, cpu and libc. Nothing else: dist/cli.js and its ES modules bundle every other dependency.
 */
async function packCli(version) {
  const dir = path.join(STAGE, 'cli');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'dist', 'native'), { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const loader = path.join(root, 'node_modules', '@napi-rs', 'keyring');
  const binaries = JSON.parse(fs.readFileSync(path.join(loader, 'package.json'), 'utf8')).optionalDependencies;
  const cli = {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    license: manifest.license,
    repository: manifest.repository,
    keywords: manifest.keywords,
    engines: { node: manifest.engines.node },
    bin: manifest.bin,
    files: ['dist/cli.js', 'dist/*.mjs', 'dist/native/'],
    optionalDependencies: Object.fromEntries(Object.keys(binaries).map((name) => [name, version])),
  };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(cli, null, 2) + '\n');
  const esm = fs.readdirSync(path.join(root, 'dist')).filter((f) => f.endsWith('.mjs')).map((f) => `dist/${f}`);
  for (const f of ['README.md', 'LICENSE', 'dist/cli.js', ...esm]) fs.copyFileSync(path.join(root, f), path.join(dir, f));
  for (const f of ['index.js', 'LICENSE']) fs.copyFileSync(path.join(loader, f), path.join(dir, 'dist', 'native', f));
  fs.mkdirSync(path.dirname(CLI_PACKAGE), { recursive: true });
  const { stdout } = await execFile('npm', ['pack', '--json', '--pack-destination', path.dirname(CLI_PACKAGE)], { cwd: dir, timeout: 120_000 });
  fs.renameSync(path.join(path.dirname(CLI_PACKAGE), JSON.parse(stdout)[0].filename), CLI_PACKAGE);
}

async function main() {
  const started = Date.now();
  execFileSync(process.execPath, ['esbuild.js', '--production'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/vsixReadme.mjs'], { cwd: root, stdio: 'inherit' });
  // A target that fails leaves no VSIX of an earlier run behind for the content test to pass on.
  for (const out of [UNIVERSAL_VSIX, ...Object.keys(TARGETS).map(vsixFor), CLI_PACKAGE]) fs.rmSync(out, { force: true });
  // dist/native/ exists only in the staged copies; one left in dist/ would slip into the universal VSIX.
  fs.rmSync(path.join(root, 'dist', 'native'), { recursive: true, force: true });
  const version = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', '@napi-rs', 'keyring', 'package.json'), 'utf8')).version;
  const { createVSIX, listFiles, PackageManager } = await import('@vscode/vsce');
  const files = await listFiles({ cwd: root, packageManager: PackageManager.None });
  // In-process: ten vsce CLIs cost a second of start-up each.
  const vsce = (cwd, options) => createVSIX({ cwd, dependencies: false, rewriteRelativeLinks: false, readmePath: 'dist/vsix-README.md', ...options });
  const jobs = [vsce(stage('universal', files), { packagePath: UNIVERSAL_VSIX })];
  for (const target of Object.keys(TARGETS)) {
    jobs.push(
      keyringTarball(TARGETS[target].triple, version)
        .then((tgz) => vsce(stage(target, files, target, tgz), { target, packagePath: vsixFor(target) })),
    );
  }
  jobs.push(packCli(version));
  const outs = [UNIVERSAL_VSIX, ...Object.keys(TARGETS).map(vsixFor), CLI_PACKAGE];
  const outcomes = await Promise.allSettled(jobs);
  const failed = outcomes.filter((o) => o.status === 'rejected');
  for (const [i, o] of outcomes.entries()) {
    const out = outs[i];
    if (o.status === 'fulfilled') console.log(`package: ${path.basename(out)} ${(fs.statSync(out).size / 1024).toFixed(0)} KiB`);
    else console.error(`package: ${path.basename(out)} failed: ${String(o.reason?.stderr || o.reason?.message || o.reason).trim()}`);
  }
  console.log(`package: ${outcomes.length - failed.length} of ${outcomes.length} packages in ${((Date.now() - started) / 1000).toFixed(1)} s (keyring ${version})`);
  if (failed.length) process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
