import * as vscode from 'vscode';
import type { ConfigScan } from '../core/model';

/** What the extension returns from activate(): used by the extension-host tests. */
export interface ExtensionApi {
  rescan(): Promise<ConfigScan>;
}

export async function activateExtension(_context: vscode.ExtensionContext): Promise<ExtensionApi> {
  return { rescan: async () => ({ servers: [], findings: [], files: [] }) };
}
