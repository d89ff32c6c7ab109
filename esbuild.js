// Bundles the extension (dist/extension.js), the CLI (dist/cli.js) and, with --tests, the
// extension-host test suite (out/test/vscode/*.js), which must be plain CommonJS for the host.
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const production = process.argv.includes('--production');
const withTests = process.argv.includes('--tests');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  external: ['vscode'],
  // ESM entry first: jsonc-parser's `main` is a UMD build whose inner requires esbuild cannot
  // follow ("Cannot find module './impl/format'" at activation; microsoft/node-jsonc-parser#57).
  mainFields: ['module', 'main'],
};

function listTests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listTests(p) : p.endsWith('.ts') ? [p] : [];
  });
}

async function main() {
  const builds = [
    esbuild.build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' }),
    esbuild.build({
      ...common,
      entryPoints: ['src/cli/main.ts'],
      outfile: 'dist/cli.js',
      banner: { js: '#!/usr/bin/env node' },
    }),
  ];
  if (withTests) {
    builds.push(
      esbuild.build({
        ...common,
        minify: false,
        entryPoints: listTests('test/vscode/suite'),
        outdir: 'out/test/vscode/suite',
        // mocha is loaded by the suite's index inside the extension host.
        external: ['vscode', 'mocha'],
      }),
    );
  }
  await Promise.all(builds);
  fs.chmodSync('dist/cli.js', 0o755);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
