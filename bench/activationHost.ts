// Runs inside the real VS Code extension host as the `extensionTestsPath` module of a bench run
// (bench/activation.ts builds it to out/bench/activationHost.js). It waits until the extension
// has activated by itself (onStartupFinished, as for a user), then reads the activation times VS
// Code measured: the host reports codeLoadingTime / activateCallTime / activateResolvedTime of each
// activation to the workbench ($onDidActivateExtension in extensionHostProcess.js), and the
// workbench prints them in the "Extension Activation Stats" table of its `perf:Startup Performance`
// document (the "Developer: Startup Performance" view, VS Code 1.139). Its content provider is a
// lazy workbench contribution, registered when the view is first shown, so the module runs that
// command (`perfview.show`) before opening the document. The numbers are the ones a user sees
// there, measured by VS Code rather than by us.
import * as fs from 'node:fs';
// The bench's host module is editor code like test/vscode/suite; the core's restriction is not meant for it.
// eslint-disable-next-line no-restricted-imports
import * as vscode from 'vscode';

const EXTENSION_ID = 'mcp-auth-doctor.mcp-auth-doctor';
const PERF_DOCUMENT = vscode.Uri.from({ scheme: 'perf', path: 'Startup Performance' });

export interface ActivationSample {
  vscodeVersion: string;
  /** One row of the workbench's table, milliseconds as VS Code printed them. */
  loadCodeMs: number;
  callActivateMs: number;
  finishActivateMs: number;
  eager: boolean;
  event: string;
  /** The table's header and our row, verbatim, for the record. */
  row: string;
}

export async function run(): Promise<void> {
  const out = process.env.MCP_AUTH_BENCH_RESULT;
  try {
    const sample = await measure();
    if (out) fs.writeFileSync(out, JSON.stringify({ ok: true, sample }));
  } catch (err) {
    if (out) fs.writeFileSync(out, JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) }));
    throw err;
  }
}

async function measure(): Promise<ActivationSample> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  // Never activate() it ourselves: that would make the activation event ours, not the user's.
  const activeBy = Date.now() + 60_000;
  while (!ext.isActive) {
    if (Date.now() > activeBy) throw new Error(`${EXTENSION_ID} did not activate within 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // The workbench learns of the activation over RPC; give the table a few tries to show our row.
  await vscode.commands.executeCommand('perfview.show');
  const rowBy = Date.now() + 30_000;
  for (;;) {
    const text = (await vscode.workspace.openTextDocument(PERF_DOCUMENT)).getText();
    const sample = parseActivationRow(text, EXTENSION_ID);
    if (sample) return { vscodeVersion: vscode.version, ...sample };
    if (Date.now() > rowBy) throw new Error(`no row for ${EXTENSION_ID} in the Extension Activation Stats of ${PERF_DOCUMENT.toString()}:\n${text.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Our row of the markdown table `| Extension | Eager | Load Code | Call Activate | Finish Activate | Event | By |`.
 * Columns are looked up by header name, so a reordered table still parses or fails loudly.
 */
export function parseActivationRow(text: string, extensionId: string): Omit<ActivationSample, 'vscodeVersion'> | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /Extension Activation Stats/.test(l));
  if (start < 0) return undefined;
  const cells = (line: string) => line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
  const headerIndex = lines.findIndex((l, i) => i > start && l.trim().startsWith('|'));
  if (headerIndex < 0) return undefined;
  const header = cells(lines[headerIndex] ?? '');
  const column = (name: string) => {
    const i = header.findIndex((h) => h.toLowerCase() === name.toLowerCase());
    if (i < 0) throw new Error(`the activation table has no "${name}" column: ${header.join(' | ')}`);
    return i;
  };
  const rowLine = lines.slice(headerIndex + 2).find((l) => cells(l)[column('Extension')]?.toLowerCase() === extensionId.toLowerCase());
  if (!rowLine) return undefined;
  const row = cells(rowLine);
  const ms = (name: string) => {
    const v = Number(row[column(name)]);
    if (!Number.isFinite(v)) throw new Error(`"${name}" is not a number in ${rowLine}`);
    return v;
  };
  return {
    loadCodeMs: ms('Load Code'),
    callActivateMs: ms('Call Activate'),
    finishActivateMs: ms('Finish Activate'),
    eager: row[column('Eager')] === 'true',
    event: row[column('Event')] ?? '',
    row: `${lines[headerIndex]?.trim()}\n${rowLine.trim()}`,
  };
}
