// VS Code (and VS Code Insiders): the profile's mcp.json, workspace folders' .vscode/mcp.json
// (scan.ts says what VS Code reads and where). Its MCP OAuth tokens are not ours to read: VS Code
// keeps them in its secret storage (the OS keychain through Electron safeStorage), as "dynamic
// authentication providers": the token responses under the key
// `{"isDynamicAuthProvider":true,"authProviderId":…,"clientId":…}` and the client registration
// under `dynamicAuthProvider:clientRegistration:<providerId>`
// (src/vs/workbench/services/authentication/browser/dynamicAuthenticationProviderStorageService.ts).
import type { ClientDefinition } from '../types';
import { scanVsCode } from './scan';

export { scanVsCode, vscodeConfigFiles, VSCODE_RULES } from './scan';

/**
 * VS Code's own way to forget a server's login: the in-editor command "Authentication: Remove
 * Dynamic Authentication Providers" (it deletes the stored tokens and client registration of the
 * providers picked; the next start of the server logs in again). It is a command id to run with
 * `vscode.commands.executeCommand` inside VS Code, not a shell command, so `handOff` has none.
 * Signing out of one account is also in the Accounts menu (the server's account → Sign Out).
 * Source: src/vs/workbench/contrib/authentication/browser/actions/manageDynamicAuthenticationProvidersAction.ts,
 * called as 'workbench.action.removeDynamicAuthenticationProviders' from the Accounts menu.
 */
export const VSCODE_REMOVE_DYNAMIC_AUTH_COMMAND = 'workbench.action.removeDynamicAuthenticationProviders';

export const vscode: ClientDefinition = {
  id: 'vscode',
  label: 'VS Code',
  scanConfigs: scanVsCode,
  tokensNotRead:
    "VS Code keeps MCP OAuth tokens in its own secret storage (the OS keychain, through the editor), which MCP Auth Doctor does not read. To log in again, run \"Authentication: Remove Dynamic Authentication Providers\" in VS Code (or sign out of the server's account in the Accounts menu) and restart the server.",
  // VS Code files tokens by its authentication provider (the authorization server), not by a key
  // derived from the entry; no key we compute would name anything we can read.
  handOff: () => undefined,
  compatibility: 'vscode',
};
