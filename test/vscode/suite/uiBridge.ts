// Asks the Playwright side of runServer.mjs to look at the workbench while the tests run.
// The host cannot reach the page, and the page closes when run() settles, so UI checks happen
// mid-suite: a test writes `<id>.request.json` into MCP_AUTH_UI_BRIDGE and waits for
// `<id>.response.json`. Under @vscode/test-electron there is no driver and these tests skip.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One row of a tree as rendered in the DOM. */
export interface UiRow {
  label: string;
  description: string;
  level: number;
  ariaLabel: string;
}

export interface UiView {
  /** The view's rows, top to bottom, as the user sees them. */
  rows: UiRow[];
  /** The welcome content's text when the view shows it instead of a tree. */
  welcome: string | null;
}

/** One status-bar entry as rendered (the driver's readStatusBar step). */
export interface UiStatusItem {
  id: string;
  text: string;
  ariaLabel: string;
  role: string;
  /** Computed CSS background colour. */
  background: string;
  warning: boolean;
  error: boolean;
}

export function uiDriverAvailable(): boolean {
  return Boolean(process.env.MCP_AUTH_UI_BRIDGE);
}

export async function askUi<T>(step: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
  const dir = process.env.MCP_AUTH_UI_BRIDGE;
  if (!dir) throw new Error('no UI driver (MCP_AUTH_UI_BRIDGE unset)');
  const id = `${Date.now()}-${crypto.randomBytes(4).toString('hex')}`;
  const tmp = path.join(dir, `${id}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify({ step, args }));
  // Rename so the driver never reads a half-written request.
  fs.renameSync(tmp, path.join(dir, `${id}.request.json`));
  const responseFile = path.join(dir, `${id}.response.json`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(responseFile)) {
      const response = JSON.parse(fs.readFileSync(responseFile, 'utf8')) as { ok: boolean; result?: T; error?: string };
      if (!response.ok) throw new Error(`UI step ${step} failed: ${response.error}`);
      return response.result as T;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`UI step ${step} got no answer within ${timeoutMs} ms`);
}

/**
 * Screenshots (window and sidebar) in each of the given colour themes, the user's theme put back
 * afterwards; the files land in .test-output/screenshots/ as `<suite>-<name>.png`.
 */
export async function screenshotsInThemes(shots: readonly (readonly [theme: string | undefined, name: string])[], repaintMs = 1500): Promise<string[]> {
  const vscode = await import('vscode');
  const workbench = vscode.workspace.getConfiguration('workbench');
  const files: string[] = [];
  try {
    for (const [theme, name] of shots) {
      if (theme) {
        await workbench.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
        await new Promise((r) => setTimeout(r, repaintMs));
      }
      files.push(...(await askUi<{ files: string[] }>('screenshot', { name })).files);
    }
  } finally {
    await workbench.update('colorTheme', undefined, vscode.ConfigurationTarget.Global);
  }
  return files;
}

