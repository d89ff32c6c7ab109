// The name mcp-remote files a server's state under, and the callback port it derives from it.
// 0.15.1 getServerUrlHash (node_modules/mcp-remote/dist/chunk-KJCT2FXL.js:34005-34019): MD5 hex of
// the server URL as written, then, each only when set, the --resource value, the
// --authorize-param pairs and the headers (both as JSON with sorted keys: JSON.stringify's
// replacer array), the --client-metadata-url and the --token-endpoint, joined with "|". Header
// values are hashed as written, before mcp-remote expands `${VAR}` in them (hash at 33944, expansion at 33963), so a
// rotated secret in the environment keeps the same key. calculateDefaultPort (33592-33595):
// 3335 + first four hex digits mod 45816. Neither is exported by the package; the unit test
// compares this copy with the file names the real mcp-remote writes.
import { createHash } from 'node:crypto';

export interface HashInputs {
  serverUrl: string;
  authorizeResource?: string;
  headers?: Record<string, string>;
  authorizeParams?: Record<string, string>;
  clientMetadataUrl?: string;
  tokenEndpoint?: string;
}

export function serverUrlHash(i: HashInputs): string {
  const parts = [i.serverUrl];
  if (i.authorizeResource) parts.push(i.authorizeResource);
  if (i.authorizeParams && Object.keys(i.authorizeParams).length > 0) parts.push(JSON.stringify(i.authorizeParams, Object.keys(i.authorizeParams).sort()));
  if (i.headers && Object.keys(i.headers).length > 0) parts.push(JSON.stringify(i.headers, Object.keys(i.headers).sort()));
  if (i.clientMetadataUrl) parts.push(i.clientMetadataUrl);
  if (i.tokenEndpoint) parts.push(i.tokenEndpoint);
  return createHash('md5').update(parts.join('|')).digest('hex');
}

/** The callback port mcp-remote uses when the entry gives none. */
export function defaultCallbackPort(hash: string): number {
  return 3335 + (parseInt(hash.substring(0, 4), 16) % 45816);
}

/** Ports a sign-in may hold: without a pinned port (or static client), mcp-remote tries 8 from the first (coordination.ts PORT_CANDIDATES, chunk-KJCT2FXL.js:35508,35553; strict when a port, static client info or a metadata URL is given: proxy.js:12551). */
export function callbackPortCandidates(port: number, strict: boolean): number[] {
  return strict ? [port] : Array.from({ length: 8 }, (_, k) => port + k);
}

export const HASH_PATTERN = /^[0-9a-f]{32}$/;
