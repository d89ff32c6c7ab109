// Bundles the extension and the CLI, and, with --tests, the extension-host test suite
// (out/test/vscode/*.js), which must be plain CommonJS for the host.
//
// The extension and the CLI are one ES-module build with code splitting (dist/*.mjs), so each
// loads only what its first job needs: a repair, the guided flow, undici (proxies), age (Codex's
// secrets store) and TOML come in on first use as chunks of their own, and both entries share one
// copy of the core. dist/extension.js and dist/cli.js are small CommonJS launchers (VS Code loads
// extensions with require(); `bin` stays a plain file) that import the ES entry.
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const production = process.argv.includes('--production');
const withTests = process.argv.includes('--tests');
const metafileOut = process.argv.includes('--metafile') ? 'dist/meta.json' : undefined;

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  // ESM entry first: jsonc-parser's `main` is a UMD build whose inner requires esbuild cannot
  // follow ("Cannot find module './impl/format'" at activation; microsoft/node-jsonc-parser#57).
  mainFields: ['module', 'main'],
};

// Every chunk gets CommonJS's names back: the bundled CommonJS dependencies call require() for
// Node's built-ins, and codexKeyring.ts finds dist/native/ next to the bundle by __dirname.
const ESM_BANNER = [
  "import { createRequire as __madCreateRequire } from 'node:module';",
  "import { fileURLToPath as __madFileURLToPath } from 'node:url';",
  "import { dirname as __madDirname } from 'node:path';",
  'const require = __madCreateRequire(import.meta.url);',
  'const __filename = __madFileURLToPath(import.meta.url);',
  'const __dirname = __madDirname(__filename);',
].join('\n');

// `import * as vscode from 'vscode'` becomes require('vscode'): the extension host hands the API
// out only through require() (it intercepts Node's module loader), never to an ES import.
const vscodeThroughRequire = {
  name: 'vscode-through-require',
  setup(build) {
    build.onResolve({ filter: /^vscode$/ }, (args) =>
      args.namespace === 'vscode-api' ? { path: 'vscode', external: true } : { path: 'vscode', namespace: 'vscode-api' },
    );
    build.onLoad({ filter: /.*/, namespace: 'vscode-api' }, () => ({ contents: "module.exports = require('vscode');", loader: 'js' }));
  },
};

const EXTENSION_LAUNCHER = `"use strict";
// Loads the extension's ES-module build (dist/extension-main.mjs); see esbuild.js.
let main;
exports.activate = async (context) => {
  main = await import('./extension-main.mjs');
  return main.activate(context);
};
exports.deactivate = () => main?.deactivate();
`;

const CLI_LAUNCHER = `#!/usr/bin/env node
"use strict";
// Starts the CLI's ES-module build (dist/cli-main.mjs); see esbuild.js. Node's compile cache
// (22.1+) keeps the parsed bundle between runs; older Node has no such function.
try { require('node:module').enableCompileCache?.(); } catch {}
import('./cli-main.mjs').catch((err) => {
  process.stderr.write('mcp-auth-doctor: ' + (err && err.message ? err.message : String(err)) + '\\n');
  process.exitCode = 2;
});
`;

/** The extension's and the CLI's ES-module build; bench/artifacts.ts rebuilds it with a metafile to say what each dependency costs. */
function esmBuildOptions(minify, outdir = 'dist') {
  return {
    ...common,
    minify,
    format: 'esm',
    splitting: true,
    entryPoints: { 'extension-main': 'src/extension.ts', 'cli-main': 'src/cli/bin.ts' },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    banner: { js: ESM_BANNER },
    plugins: [vscodeThroughRequire],
  };
}

function listTests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listTests(p) : p.endsWith('.ts') ? [p] : [];
  });
}

async function main() {
  // Chunks from an earlier build would otherwise pile up (and slip into the VSIX).
  if (fs.existsSync('dist')) {
    for (const f of fs.readdirSync('dist')) if (/\.mjs(\.map)?$/.test(f)) fs.rmSync(path.join('dist', f));
  }
  fs.mkdirSync('dist', { recursive: true });
  const builds = [esbuild.build({ ...esmBuildOptions(production), metafile: Boolean(metafileOut) })];
  if (withTests) {
    builds.push(
      esbuild.build({
        ...common,
        format: 'cjs',
        minify: false,
        entryPoints: listTests('test/vscode/suite'),
        outdir: 'out/test/vscode/suite',
        // mocha is loaded by the suite's index inside the extension host.
        external: ['vscode', 'mocha'],
      }),
    );
  }
  const [esm] = await Promise.all(builds);
  fs.writeFileSync('dist/extension.js', EXTENSION_LAUNCHER);
  fs.writeFileSync('dist/cli.js', CLI_LAUNCHER);
  fs.chmodSync('dist/cli.js', 0o755);
  for (const stale of ['dist/extension.js.map', 'dist/cli.js.map']) fs.rmSync(stale, { force: true });
  if (metafileOut) fs.writeFileSync(metafileOut, JSON.stringify(esm.metafile));
}

module.exports = { esmBuildOptions };

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
