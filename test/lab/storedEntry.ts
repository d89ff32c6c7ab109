// The credential entry a client would store after logging in to the lab with `t`: what the demo
// and the host suites seed their sandbox stores with.
import type { CredentialPatch } from '../../src/core/credentials/store';
import type { Lab, MintedTokens } from './index';

/** `issuedAt` is when the token request was sent (ms), so the stored expiry is the response's. */
export function storedEntry(lab: Lab, serverName: string, t: MintedTokens, issuedAt: number): CredentialPatch {
  return {
    serverName,
    serverUrl: lab.mcpUrl,
    clientId: t.clientId,
    accessToken: t.accessToken,
    refreshToken: t.refreshToken ?? null,
    expiresAt: issuedAt + t.expiresIn * 1000,
    scopes: t.scope.split(' '),
    issuer: lab.issuer,
  };
}
