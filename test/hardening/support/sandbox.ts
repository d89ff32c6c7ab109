// Sandbox homes for the hardening suite, and checks every generated input shares: a finding is
// well-formed, and a location names a real file and a line that exists.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Environment } from '../../../src/core/environment';
import type { Finding } from '../../../src/core/model';
import { lineCount } from './mutate';

export interface Sandbox {
  root: string;
  home: string;
  project: string;
  e: Environment;
  remove(): Promise<void>;
}

export async function sandbox(prefix: string, env: Record<string, string> = {}): Promise<Sandbox> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), `mad-hard-${prefix}-`)));
  const home = path.join(root, 'home');
  const project = path.join(root, 'work', 'app');
  await fs.mkdir(project, { recursive: true });
  await fs.mkdir(home, { recursive: true });
  return {
    root,
    home,
    project,
    e: { home, env: { HOME: home, ...env }, platform: 'linux', projectDirs: [project], managedMcpPath: path.join(root, 'etc', 'managed-mcp.json') },
    remove: () => fs.rm(root, { recursive: true, force: true }),
  };
}

const SEVERITIES = new Set(['error', 'warning', 'info']);

/**
 * Every finding is one a user can read: a code, a severity, a title and detail of bounded length,
 * and a location with 1-based line and column; in `file` (whose text is `text`) the line exists.
 */
export function assertWellFormed(findings: Finding[], file: string, text: string, context: string): void {
  const lines = lineCount(text);
  for (const f of findings) {
    assert.ok(typeof f.code === 'string' && /^[a-z]+\.[a-z-]+$/.test(f.code), `${context}: odd code ${f.code}`);
    assert.ok(SEVERITIES.has(f.severity), `${context}: odd severity ${f.severity}`);
    assert.ok(typeof f.title === 'string' && f.title.length > 0, `${context}: ${f.code} has no title`);
    assert.ok(typeof f.detail === 'string', `${context}: ${f.code} has no detail`);
    // A finding quotes names, not values: even a 300 kB string in the file never floods the user.
    assert.ok(f.title.length + f.detail.length < 20_000, `${context}: ${f.code} is ${f.title.length + f.detail.length} characters long`);
    if (!f.location) continue;
    const { line, column } = f.location;
    assert.ok(Number.isInteger(line) && line >= 1 && Number.isInteger(column) && column >= 1, `${context}: ${f.code} at ${line}:${column}`);
    if (f.location.file === file) assert.ok(line <= lines, `${context}: ${f.code} points at line ${line} of a ${lines}-line file`);
  }
}

/** Findings located in `file`. */
export function inFile(findings: Finding[], file: string): Finding[] {
  return findings.filter((f) => f.location?.file === file);
}

export function describeFindings(findings: Finding[]): string {
  return JSON.stringify(findings.map((f) => [f.code, f.location ? `${path.basename(f.location.file)}:${f.location.line}:${f.location.column}` : '-', f.title.slice(0, 80)]));
}
