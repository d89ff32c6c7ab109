// Every client we read, in the order surfaces list them. The scan, the credential stores, version
// detection, the running-process check and the hand-off commands all take their clients from here.
import { claudeCode } from './claude-code';
import { codex } from './codex';
import { geminiCli } from './gemini-cli';
import { mcpRemote } from './mcp-remote';
import { opencode } from './opencode';
import { vscode } from './vscode';
import { cursor } from './cursor';
import { claudeDesktop } from './claude-desktop';
import { windsurf } from './windsurf';
import { CLIENT_IDS, type ClientId } from './ids';
import type { ClientDefinition } from './types';

const DEFINITIONS: Readonly<Record<ClientId, ClientDefinition>> = Object.freeze({
  'claude-code': claudeCode,
  codex,
  'gemini-cli': geminiCli,
  opencode,
  'mcp-remote': mcpRemote,
  vscode,
  cursor,
  'claude-desktop': claudeDesktop,
  windsurf,
});

/** Every client, in CLIENT_IDS order. */
export const CLIENTS: readonly ClientDefinition[] = Object.freeze(CLIENT_IDS.map((id) => DEFINITIONS[id]));

export function clientDefinition(id: ClientId): ClientDefinition {
  return DEFINITIONS[id];
}

/** The clients that keep a credential store we read. */
export function clientsWithStores(ids: readonly ClientId[] = CLIENT_IDS): ClientDefinition[] {
  return ids.map(clientDefinition).filter((c) => c.credentialStore !== undefined);
}
