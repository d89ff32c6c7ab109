// The extension-host test entry (`extensionTestsPath`): runs the mocha files of one suite folder
// and settles when they are done. The same module serves the code-server runner (runServer.mjs)
// and @vscode/test-electron (runElectron.mjs); both load it inside the real extension host.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import * as vscode from 'vscode';
import { HOST_MARK } from './helpers';

/** What the runners read back after the host exits (the host's console may be cut short). */
export interface SuiteResult {
  suite: string;
  vscodeVersion: string;
  passed: number;
  failed: number;
  pending: number;
  failures: { title: string; error: string }[];
  durationMs: number;
}

export async function run(): Promise<void> {
  // mocha 12 ships as ESM; import() works from this CommonJS bundle on every supported Node.
  const { default: Mocha } = await import('mocha');
  const suite = process.env.MCP_AUTH_SUITE || 'fixture';
  const dir = path.join(__dirname, suite);
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort() : [];
  if (files.length === 0) throw new Error(`no compiled tests in ${dir}: run \`node esbuild.js --tests\` first`);

  // The host's console cannot be wrapped (VS Code pins it), so the reporter's output is marked here.
  const reporterLog = Mocha.reporters.Base.consoleLog;
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => console.log(HOST_MARK + format(...args));
  try {
    return await runMocha(Mocha, suite, dir, files);
  } finally {
    Mocha.reporters.Base.consoleLog = reporterLog;
  }
}

async function runMocha(Mocha: typeof import('mocha'), suite: string, dir: string, files: string[]): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 30_000, reporter: 'spec' });
  for (const f of files) mocha.addFile(path.join(dir, f));
  const started = Date.now();
  const failures: SuiteResult['failures'] = [];
  const stats = await new Promise<Mocha.Stats>((resolve) => {
    const runner = mocha.run(() => resolve(runner.stats ?? { passes: 0, failures: 1, pending: 0 } as Mocha.Stats));
    runner.on('fail', (test, err: unknown) =>
      failures.push({ title: test.fullTitle(), error: err instanceof Error ? err.message : String(err) }),
    );
  });
  const result: SuiteResult = {
    suite,
    vscodeVersion: vscode.version,
    passed: stats.passes,
    failed: stats.failures,
    pending: stats.pending,
    failures,
    durationMs: Date.now() - started,
  };
  if (process.env.MCP_AUTH_RESULTS_FILE) fs.writeFileSync(process.env.MCP_AUTH_RESULTS_FILE, JSON.stringify(result, null, 2));
  console.log(`${HOST_MARK}[suite ${suite}] VS Code ${vscode.version}: ${result.passed} passed, ${result.failed} failed, ${result.pending} pending`);
  if (result.failed > 0) throw new Error(`${result.failed} extension-host test(s) failed`);
}

