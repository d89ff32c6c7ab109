// What each shipped entry loads, and what each dependency contributes to it. The bytes are the
// VSIX's own (dist/*.mjs as unpacked); which source files and packages fill them comes from an
// esbuild metafile of the same build (esbuild.js esmBuildOptions), rebuilt into a temporary folder.
// The rebuild must yield the very chunk files the VSIX holds (same names, same sizes), or the
// attribution is left out with the reason: it would describe another build.
//
// "Loaded" is the static import closure: what Node reads and compiles before the entry's code
// runs. Chunks behind `import()` load on first use (a repair, the probe, undici, age).
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..');

export interface Attribution {
  /** `node_modules` package name, or a folder of ours (`src/core/probe`). */
  name: string;
  bytes: number;
}

export interface EntryCost {
  /** In words: what this entry is, as a user meets it. */
  what: string;
  files: string[];
  bytes: number;
  /** Per package or source folder, largest first; absent when the rebuild did not match. */
  byInput?: Attribution[];
}

export interface BundleCosts {
  /** dist/extension.js + the static closure of dist/extension-main.mjs: what activation loads. */
  activation: EntryCost;
  /** dist/cli.js + cli-main.mjs's closure + the `status` command's: what `status --json` loads before it probes. */
  cliStatus: EntryCost;
  /** Everything the extension can ever load (static and dynamic imports). */
  extensionAll: EntryCost;
  cliAll: EntryCost;
  /** Why byInput is missing, when it is. */
  attributionProblem?: string;
}

const STATIC_IMPORT = /(?:from\s*|import\s*)"\.\/([\w-]+\.mjs)"/g;
const DYNAMIC_IMPORT = /import\(\s*"\.\/([\w-]+\.mjs)"\s*\)/g;

function closure(dist: string, roots: string[], withDynamic: boolean): string[] {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    if (!f.endsWith('.mjs')) continue;
    const text = fs.readFileSync(path.join(dist, f), 'utf8');
    // A static import never looks like `import("…")`: drop those before matching static ones.
    const dynamic = [...text.matchAll(DYNAMIC_IMPORT)].map((m) => m[1]!);
    for (const m of text.replace(DYNAMIC_IMPORT, '').matchAll(STATIC_IMPORT)) stack.push(m[1]!);
    if (withDynamic) stack.push(...dynamic);
  }
  return [...seen].sort();
}

interface Metafile {
  outputs: Record<string, { bytes: number; entryPoint?: string; inputs: Record<string, { bytesInOutput: number }>; imports: { path: string; kind: string }[] }>;
}

export async function bundleCosts(extensionDir: string): Promise<BundleCosts> {
  const dist = path.join(extensionDir, 'dist');
  const size = (files: string[]) => files.reduce((n, f) => n + fs.statSync(path.join(dist, f)).size, 0);
  const meta = await rebuildMetafile(dist);
  const outputOf = (file: string) => (meta.ok ? Object.entries(meta.metafile.outputs).find(([o]) => path.basename(o) === file)?.[1] : undefined);
  const attribute = (files: string[]): Attribution[] | undefined => {
    if (!meta.ok) return undefined;
    const by = new Map<string, number>();
    for (const f of files) {
      for (const [input, { bytesInOutput }] of Object.entries(outputOf(f)?.inputs ?? {})) {
        const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
        const name = pkg ?? input.split('/').slice(0, input.startsWith('src/') ? 3 : 2).join('/').replace(/\.ts$/, '');
        by.set(name, (by.get(name) ?? 0) + bytesInOutput);
      }
    }
    return [...by].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
  };
  const cost = (what: string, launcher: string, roots: string[], withDynamic: boolean): EntryCost => {
    const files = [launcher, ...closure(dist, roots, withDynamic)];
    const byInput = attribute(files.filter((f) => f.endsWith('.mjs')));
    return { what, files, bytes: size(files), ...(byInput ? { byInput } : {}) };
  };
  // The status command's chunk: the one the metafile says holds src/cli/commands/status.ts.
  const statusChunk = meta.ok ? Object.entries(meta.metafile.outputs).find(([o, info]) => o.endsWith('.mjs') && 'src/cli/commands/status.ts' in info.inputs)?.[0] : undefined;
  const cliStatusRoots = ['cli-main.mjs', ...(statusChunk ? [path.basename(statusChunk)] : [])];
  return {
    activation: cost('extension activation (dist/extension.js and what extension-main.mjs imports statically)', 'extension.js', ['extension-main.mjs'], false),
    cliStatus: cost(`\`status --json\` before it probes (dist/cli.js, cli-main.mjs${statusChunk ? ' and the status command' : ''}, static imports)`, 'cli.js', cliStatusRoots, false),
    extensionAll: cost('everything the extension can load (static and on first use)', 'extension.js', ['extension-main.mjs'], true),
    cliAll: cost('everything the CLI can load', 'cli.js', ['cli-main.mjs'], true),
    ...(meta.ok ? {} : { attributionProblem: meta.problem }),
  };
}

async function rebuildMetafile(shippedDist: string): Promise<{ ok: true; metafile: Metafile } | { ok: false; problem: string }> {
  // A folder beside dist/, at its depth: esbuild's chunk hashes cover the source map's paths, which
  // are relative to the output folder, so a rebuild elsewhere would name every chunk differently.
  const out = fs.mkdtempSync(path.join(REPO, '.bench-meta-'));
  try {
    // esbuild.js is the repository's CommonJS build script; its options are the shipped build's.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { esmBuildOptions } = require(path.join(REPO, 'esbuild.js')) as { esmBuildOptions(minify: boolean, outdir: string): object };
    const esbuild = await import('esbuild');
    const result = await esbuild.build({ ...esmBuildOptions(true, out), absWorkingDir: REPO, metafile: true, logLevel: 'silent' });
    const metafile = result.metafile as Metafile;
    const shipped = fs.readdirSync(shippedDist).filter((f) => f.endsWith('.mjs')).sort();
    const rebuilt = Object.keys(metafile.outputs).map((o) => path.basename(o)).filter((f) => f.endsWith('.mjs')).sort();
    if (JSON.stringify(shipped) !== JSON.stringify(rebuilt)) return { ok: false, problem: `the rebuild's chunks are not the VSIX's (${rebuilt.length} vs ${shipped.length} files; was the VSIX built from another tree?)` };
    for (const f of shipped) {
      const a = fs.statSync(path.join(shippedDist, f)).size;
      const b = fs.statSync(path.join(out, f)).size;
      if (a !== b) return { ok: false, problem: `${f}: ${a} bytes shipped, ${b} rebuilt` };
    }
    return { ok: true, metafile };
  } catch (err) {
    return { ok: false, problem: `the rebuild failed: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}
