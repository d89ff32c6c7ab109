// Shared by the surfaces suite's files: the sandbox's lab (test/vscode/surfacesLab.ts) through its
// control endpoint, the tokens the sandbox has stored so far, our diagnostics and status-bar entry.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LabStats } from '../../surfacesLab';
import { sandboxHome, waitFor, workspaceDir } from '../helpers';
import { askUi, type UiStatusItem } from '../uiBridge';

export const STATUS_ITEM_ID = 'mcp-auth-doctor.mcp-auth-doctor.mcpAuth.attention';

function control(): string {
  return (JSON.parse(fs.readFileSync(path.join(workspaceDir(), '.surfaces-lab.json'), 'utf8')) as { control: string }).control;
}

/** What the lab received from the extension since the sandbox was ready. */
export async function labStats(): Promise<LabStats> {
  return (await (await fetch(`${control()}/stats`)).json()) as LabStats;
}

/** Re-mints Codex's lab-soon to expire `seconds` from now (the lab ends it then too); its stored expiry. */
export async function expireSoon(seconds: number): Promise<number> {
  const r = (await (await fetch(`${control()}/expire-soon?seconds=${seconds}`, { method: 'POST' })).json()) as { expiresAt?: number; error?: string };
  if (!r.expiresAt) throw new Error(`expire-soon failed: ${r.error}`);
  return r.expiresAt;
}

export const CLAUDE_CONFIG = () => path.join(sandboxHome(), '.claude.json');
export const CLAUDE_STORE = () => path.join(sandboxHome(), '.claude', '.credentials.json');
export const CODEX_STORE = () => path.join(sandboxHome(), '.codex', '.credentials.json');

/**
 * Every token the sandbox has held in this run (refreshes rotate them, so each file collects as it
 * goes). On globalThis: each test file is its own bundle with its own copy of this module.
 */
const seen: Set<string> = ((globalThis as { mcpAuthSurfacesTokens?: Set<string> }).mcpAuthSurfacesTokens ??= new Set<string>());

/** Adds the stores' current token-valued fields (access, refresh, whatever the client calls them) to `seen`. */
export function rememberTokens(): Set<string> {
  const walk = (v: unknown, key: string): void => {
    if (typeof v === 'string' && /token/i.test(key) && v.length >= 16) seen.add(v);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  for (const f of [CLAUDE_STORE(), CODEX_STORE()]) if (fs.existsSync(f)) walk(JSON.parse(fs.readFileSync(f, 'utf8')), '');
  return seen;
}

/** The tokens of `tokens` of which `text` holds the whole or any 16-character piece. */
export function leakedIn(text: string, tokens: Iterable<string>): string[] {
  const leaks: string[] = [];
  for (const t of tokens) {
    for (let i = 0; i + 16 <= t.length; i++) {
      if (text.includes(t.slice(i, i + 16))) {
        leaks.push(t);
        break;
      }
    }
  }
  return leaks;
}

export function ours(file: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(file).filter((d) => d.source === 'MCP Auth');
}

export function codeOf(d: vscode.Diagnostic): string {
  return typeof d.code === 'object' ? String(d.code.value) : String(d.code ?? '');
}

/** Waits until our diagnostics on `file` satisfy `test`; returns them (or throws with what there was). */
export async function diagnosticsUntil(file: vscode.Uri, test: (ds: vscode.Diagnostic[]) => boolean, what: string, timeoutMs = 5000): Promise<vscode.Diagnostic[]> {
  const found = await waitFor(() => (test(ours(file)) ? ours(file) : undefined), timeoutMs);
  if (!found) throw new Error(`${what}: after ${timeoutMs} ms Problems has ${ours(file).map((d) => `${codeOf(d)}@${d.range.start.line + 1}`).join(', ') || 'nothing'} on ${path.basename(file.fsPath)}`);
  return found.value;
}

/** Our status-bar entry as the window renders it, or undefined when it is not shown. */
export async function renderedStatusItem(): Promise<UiStatusItem | undefined> {
  const items = await askUi<UiStatusItem[]>('readStatusBar');
  return items.find((i) => i.id === STATUS_ITEM_ID);
}

/** 0-based line of the first line of `file` (on disk) that contains `needle`. */
export function lineIndexOf(file: string, needle: string): number {
  const i = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`${needle} not in ${file}`);
  return i;
}

/** The "MCP Auth" output channel's file: VS Code writes a log channel below the extension host's log folder. */
export function logFile(extensionLogDir: string): string | undefined {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 4 || !fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (/MCP Auth\.log$/.test(e.name)) out.push(p);
    }
  };
  // <logs>/<window>/exthost/<extension id> is the extension's; the channel's file is under exthost.
  walk(path.dirname(extensionLogDir), 0);
  return out[0];
}
