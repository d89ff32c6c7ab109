// Whether Gemini CLI 0.61.0 reads a project's `.gemini/settings.json`: only in a trusted folder
// (mergeSettings drops the workspace file otherwise, chunk-2YTYPKEZ.js:16210). checkPathTrust
// (chunk-JDPZ4CE3.js:358763): GEMINI_RESTRICTED_MODE=true or GEMINI_CLI_TRUST_WORKSPACE=false →
// untrusted; GEMINI_CLI_TRUST_WORKSPACE=true → trusted; `security.folderTrust.enabled` false
// (default true; from system defaults, user and system settings, never the workspace: chunk-2YTYPKEZ.js:16650) →
// trusted; else the longest rule of trustedFolders.json containing the folder (TRUST_FOLDER,
// TRUST_PARENT = the rule's parent, DO_NOT_TRUST; real paths; case-insensitive on macOS and
// Windows, :358842). No rule: the interactive CLI asks, headless commands (`gemini mcp list`,
// `-p`) treat it as untrusted (loadSettings `?? false`, :16657).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stripComments } from 'jsonc-parser';
import type { Environment } from '../../environment';
import { isPlainObject } from '../../jsonShape';
import { geminiTrustedFoldersPath } from './paths';

export type TrustState = 'trusted' | 'untrusted' | 'undecided';

export interface TrustAnswer {
  state: TrustState;
  /** Why, in words: "GEMINI_CLI_TRUST_WORKSPACE=true", "rule TRUST_FOLDER for /x in <file>". */
  because: string;
}

const LEVELS = new Set(['TRUST_FOLDER', 'TRUST_PARENT', 'DO_NOT_TRUST']);

export type TrustRules = { kind: 'ok'; rules: [string, string][] } | { kind: 'missing' } | { kind: 'bad'; reason: string };

export async function readTrustRules(file: string): Promise<TrustRules> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'missing' } : { kind: 'bad', reason: code ?? String(err) };
  }
  let value: unknown;
  try {
    value = JSON.parse(stripComments(text, ' '));
  } catch {
    return { kind: 'bad', reason: 'not valid JSON' };
  }
  if (!isPlainObject(value)) return { kind: 'bad', reason: 'not a JSON object' };
  const rules: [string, string][] = [];
  for (const [p, level] of Object.entries(value)) {
    if (typeof level !== 'string' || !LEVELS.has(level)) return { kind: 'bad', reason: `invalid trust level for "${p}"` };
    rules.push([p, level]);
  }
  return { kind: 'ok', rules };
}

export async function projectTrust(e: Environment, dir: string, folderTrustEnabled: boolean, rules: TrustRules): Promise<TrustAnswer> {
  if (e.env.GEMINI_RESTRICTED_MODE === 'true') return { state: 'untrusted', because: 'GEMINI_RESTRICTED_MODE=true' };
  if (e.env.GEMINI_CLI_TRUST_WORKSPACE === 'false') return { state: 'untrusted', because: 'GEMINI_CLI_TRUST_WORKSPACE=false' };
  if (e.env.GEMINI_CLI_TRUST_WORKSPACE === 'true') return { state: 'trusted', because: 'GEMINI_CLI_TRUST_WORKSPACE=true' };
  if (!folderTrustEnabled) return { state: 'trusted', because: 'security.folderTrust.enabled is false' };
  const file = geminiTrustedFoldersPath(e);
  if (rules.kind === 'bad') return { state: 'untrusted', because: `${file} is unusable (${rules.reason}), so Gemini CLI stops` };
  if (rules.kind === 'missing') return { state: 'undecided', because: `no rule in ${file}` };
  const fold = e.platform === 'win32' || e.platform === 'darwin' ? (s: string) => s.toLowerCase() : (s: string) => s;
  const where = fold(await real(path.resolve(dir)));
  let best: { len: number; level: string; rule: string } | undefined;
  for (const [rule, level] of rules.rules) {
    const effective = level === 'TRUST_PARENT' ? path.dirname(rule) : rule;
    const base = fold(await real(path.resolve(effective)));
    const rel = path.relative(base, where);
    const inside = rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
    if (inside && rule.length > (best?.len ?? -1)) best = { len: rule.length, level, rule };
  }
  if (!best) return { state: 'undecided', because: `no rule in ${file} covers ${dir}` };
  return { state: best.level === 'DO_NOT_TRUST' ? 'untrusted' : 'trusted', because: `${best.level} for ${best.rule} in ${file}` };
}

async function real(p: string): Promise<string> {
  try {
    return await fs.realpath(p);
  } catch {
    return p;
  }
}
