// What a user installs: `npm run package` (production build, then vsce) gives mcp-auth-doctor.vsix;
// the bench unpacks that VSIX into a temporary directory and measures from there, so the sizes,
// the CLI and the extension it times are the shipped bytes, and another build of dist/ in the
// same tree meanwhile cannot change what is measured.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

const REPO = path.resolve(__dirname, '..');
export const VSIX = path.join(REPO, 'mcp-auth-doctor.vsix');

export interface Artifacts {
  /** The unpacked `extension/` folder of the VSIX: an extension development path. */
  extensionDir: string;
  cliJs: string;
  sizes: {
    vsixBytes: number;
    /** Bytes of each bundle as shipped, and compressed inside the VSIX. */
    extensionJs: { bytes: number; compressedBytes: number };
    cliJs: { bytes: number; compressedBytes: number };
  };
  /** Whether this run built the VSIX (`npm run package`) or took the one already there. */
  built: boolean;
  packageMs?: number;
  cleanup(): void;
}

export async function prepareArtifacts(options: { build: boolean; log: (line: string) => void }): Promise<Artifacts> {
  let packageMs: number | undefined;
  if (options.build) {
    options.log('building: npm run package (production bundles + VSIX)');
    const started = Date.now();
    await run('npm', ['run', 'package'], 5 * 60_000);
    packageMs = Date.now() - started;
  } else if (!fs.existsSync(VSIX)) {
    throw new Error(`${path.relative(REPO, VSIX)} is missing: run without --no-package, or \`npm run package\` first`);
  }
  const vsix = fs.readFileSync(VSIX);
  const entries = readZip(vsix);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-bench-vsix-'));
  for (const e of entries) {
    if (!e.name.startsWith('extension/') || e.name.endsWith('/')) continue;
    const target = path.join(dir, e.name);
    if (!target.startsWith(dir + path.sep)) throw new Error(`the VSIX holds a path outside its folder: ${e.name}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, e.data());
  }
  const entry = (name: string) => {
    const e = entries.find((x) => x.name === name);
    if (!e) throw new Error(`the VSIX has no ${name}`);
    return { bytes: e.size, compressedBytes: e.compressedSize };
  };
  const extensionDir = path.join(dir, 'extension');
  return {
    extensionDir,
    cliJs: path.join(extensionDir, 'dist', 'cli.js'),
    sizes: { vsixBytes: vsix.length, extensionJs: entry('extension/dist/extension.js'), cliJs: entry('extension/dist/cli.js') },
    built: options.build,
    ...(packageMs !== undefined ? { packageMs } : {}),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
  data(): Buffer;
}

/**
 * The entries of a zip file (APPNOTE.TXT 4.3: end of central directory, central directory
 * headers, local headers), stored or deflated; enough for a VSIX (vsce writes plain zip, no zip64).
 */
export function readZip(buf: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory header at ${at}`);
    const method = buf.readUInt16LE(at + 10);
    const compressedSize = buf.readUInt32LE(at + 20);
    const size = buf.readUInt32LE(at + 24);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    entries.push({
      name,
      size,
      compressedSize,
      data() {
        if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const raw = buf.subarray(start, start + compressedSize);
        const out = method === 0 ? Buffer.from(raw) : method === 8 ? zlib.inflateRawSync(raw) : undefined;
        if (!out) throw new Error(`${name}: compression method ${method} is not supported`);
        if (out.length !== size) throw new Error(`${name}: ${out.length} bytes unpacked, the directory says ${size}`);
        return out;
      },
    });
  }
  return entries;
}

function run(command: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output.slice(-2000)}`));
    });
  });
}
