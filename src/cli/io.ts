// What a CLI command may touch, passed in so tests can run commands in-process.
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** One line the user types (a terminal only); `close()` stops waiting for it. */
  readLine?: () => { line: Promise<string>; close(): void };
}

export type CliCommand = (args: string[], io: CliIo) => Promise<number>;

/** Exit codes (README): 0 healthy, 1 a finding is an error, 2 the command could not run. */
export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}
