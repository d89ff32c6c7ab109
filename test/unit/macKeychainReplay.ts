// A `security` stand-in for tests: answers each call with a recording from
// test/fixtures/macos-security/ (argv pattern → stdout, stderr, exit code, and the `source` it
// comes from) and records every call, so a test can assert which arguments reached `security`.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CommandResult, CommandRunner } from '../../src/core/credentials/runCommand';

export const RECORDINGS_DIR = path.resolve(__dirname, '../fixtures/macos-security');

export interface SecurityRecording {
  name: string;
  what: string;
  /** verbatim: output as seen in the cited report; composed: built to Apple's print format from cited shapes; synthetic: no recording exists. */
  recorded: 'verbatim' | 'composed' | 'synthetic';
  source: string[];
  /** Each element matches one argument exactly; `*` matches one argument, `*...` any number (also none). */
  argv: string[];
  stdout: string;
  stderr: string;
  code: number | null;
  /** The cited report shows this exit status itself; false: inferred (from SecBase.h, Apple's source, or that output was printed). */
  codeSeen: boolean;
  /** How far the recording goes beyond what its sources show. */
  note?: string;
  /** The program never answers: the runner's timeout ends it. */
  hang: boolean;
}

export function loadRecording(name: string): SecurityRecording {
  return JSON.parse(readFileSync(path.join(RECORDINGS_DIR, `${name}.json`), 'utf8')) as SecurityRecording;
}

export function allRecordings(): SecurityRecording[] {
  return readdirSync(RECORDINGS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadRecording(f.slice(0, -'.json'.length)));
}

export function argvMatches(pattern: readonly string[], args: readonly string[]): boolean {
  if (pattern.length === 0) return args.length === 0;
  const [head, ...rest] = pattern;
  if (head === '*...') {
    for (let skip = 0; skip <= args.length; skip++) if (argvMatches(rest, args.slice(skip))) return true;
    return false;
  }
  if (args.length === 0) return false;
  return (head === '*' || head === args[0]) && argvMatches(rest, args.slice(1));
}

export interface SecurityCall {
  file: string;
  args: string[];
  input?: string;
  timeoutMs: number;
  /** The recording that answered, or undefined when none matched. */
  answeredBy?: string;
}

export interface SecurityReplay {
  run: CommandRunner;
  calls: SecurityCall[];
  /** Calls no recording matched (each answered with exit 1): a test expecting none asserts this is empty. */
  unmatched: SecurityCall[];
}

/** Replays `recordings` in order: the first whose argv pattern matches answers. */
export function securityReplay(...recordings: (string | SecurityRecording)[]): SecurityReplay {
  const list = recordings.map((r) => (typeof r === 'string' ? loadRecording(r) : r));
  const calls: SecurityCall[] = [];
  const unmatched: SecurityCall[] = [];
  const run: CommandRunner = async (file, args, options) => {
    const rec = list.find((r) => argvMatches(r.argv, args));
    const call: SecurityCall = { file, args: [...args], timeoutMs: options.timeoutMs, ...(options.input !== undefined ? { input: options.input } : {}), ...(rec ? { answeredBy: rec.name } : {}) };
    calls.push(call);
    if (!rec) {
      unmatched.push(call);
      return { code: 1, stdout: '', stderr: `replay: no recording for ${args.join(' ')}`, timedOut: false };
    }
    // What runCommand answers when it killed the program at its timeout.
    if (rec.hang) return { code: null, stdout: '', stderr: '', timedOut: true } satisfies CommandResult;
    return { code: rec.code, stdout: rec.stdout, stderr: rec.stderr, timedOut: false };
  };
  return { run, calls, unmatched };
}
