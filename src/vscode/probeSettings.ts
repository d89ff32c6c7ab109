// The probe's settings as the user set them (mcpAuthDoctor.*), read fresh for every run.
import * as vscode from 'vscode';
import type { ProbeSettings } from '../core/probe/run';
import { isSpecRevision } from '../core/probe/revisions';
import type { ClientId } from '../core/model';
import { CLIENT_IDS, isClientId } from '../core/clients/ids';

export interface EditorProbeSettings {
  enabled: boolean;
  /** Which clients to read (mcpAuthDoctor.clients). */
  clients: ClientId[];
  /** Re-probe interval in ms; 0 is off. */
  intervalMs: number;
  probe: ProbeSettings;
  expiryMarginMs: number;
}

export function probeSettings(): EditorProbeSettings {
  const c = vscode.workspace.getConfiguration('mcpAuthDoctor');
  const revision = c.get<string>('probe.revision', '2025-11-25');
  // VS Code's own proxy settings win over the environment, as for the editor's other requests.
  const h = vscode.workspace.getConfiguration('http');
  const httpProxy = h.get<string>('proxy', '');
  const noProxy = h.get<string[]>('noProxy', []);
  const proxyAuthorization = h.get<string | null>('proxyAuthorization', null);
  const timeout = c.get<number>('probe.timeoutSeconds', 5);
  const clients = c.get<string[]>('clients', [...CLIENT_IDS]).filter(isClientId);
  return {
    enabled: c.get<boolean>('probe.enabled', true),
    clients: clients.length ? clients : [...CLIENT_IDS],
    intervalMs: Math.max(0, Math.min(c.get<number>('probe.intervalMinutes', 0), 1440)) * 60_000,
    probe: {
      proxy: {
        env: process.env,
        ...(httpProxy ? { httpProxy } : {}),
        ...(noProxy.length ? { noProxy } : {}),
        strictSSL: h.get<boolean>('proxyStrictSSL', true),
        ...(proxyAuthorization ? { proxyAuthorization } : {}),
      },
      liveCheck: c.get<boolean>('probe.liveCheck', true),
      timeoutMs: Math.min(Math.max(timeout, 1), 60) * 1000,
      ...(isSpecRevision(revision) ? { revision } : {}),
    },
    expiryMarginMs: Math.max(c.get<number>('expiryWarningMinutes', 5), 0) * 60_000,
  };
}
