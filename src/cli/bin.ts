// The CLI's process entry (dist/cli-main.mjs, started by dist/cli.js): real stdin, stdout and
// environment around runCli, which the tests call in process.
import * as readline from 'node:readline';
import { EXIT_USAGE } from './io';
import { runCli } from './main';

runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  ...(process.stdin.isTTY ? { readLine: terminalLine } : {}),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`mcp-auth-doctor: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT_USAGE;
  },
);

/** The first non-empty line from the terminal (a stray Enter is not an answer); closing the reader lets the process exit without it. */
function terminalLine(): { line: Promise<string>; close(): void } {
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  const line = new Promise<string>((resolve) => rl.on('line', (l) => l.trim() && resolve(l)));
  return { line, close: () => rl.close() };
}
