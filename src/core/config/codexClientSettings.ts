// Codex's client-wide MCP OAuth settings, top level of `$CODEX_HOME/config.toml`
// (codex-rs/config/src/config_toml.rs `ConfigToml`; types.rs `OAuthCredentialsStoreMode`):
// - mcp_oauth_credentials_store = "auto" | "file" | "keyring" (serde lowercase; default auto:
//   keyring when available, else `$CODEX_HOME/.credentials.json`);
// - mcp_oauth_callback_port: u16, the fixed loopback port for login callbacks (a server's
//   `oauth.callback_port` wins over it);
// - mcp_oauth_callback_url: the redirect URI sent instead of the loopback listener's address.
// Codex 0.169 refuses the whole file when one of them has the wrong type or value ("unknown variant
// `vault`, expected one of `auto`, `file`, `keyring`"). Only the user file is read here: a trusted
// project or a --profile file may set them too, for runs started there.
import * as path from 'node:path';
import * as z from 'zod';
import { codexHome, type Environment } from '../environment';
import type { Finding } from '../model';
import { describeToml, locate, readCodexToml, type CodexTomlFile } from './codexToml';

export const CODEX_CREDENTIAL_STORE_MODES = ['auto', 'file', 'keyring'] as const;
export type CodexCredentialsStoreMode = (typeof CODEX_CREDENTIAL_STORE_MODES)[number];

export interface CodexClientSettings {
  /** The config.toml they come from. */
  file: string;
  /** Where Codex keeps MCP OAuth tokens: the configured mode, else its default `auto`. */
  credentialsStore: CodexCredentialsStoreMode;
  /** True when the file sets a valid mcp_oauth_credentials_store (false: Codex's default applies). */
  credentialsStoreConfigured: boolean;
  callbackPort?: number;
  callbackUrl?: string;
  /** config.invalid-setting for values Codex refuses; the file's own read/parse problem, if any. */
  findings: Finding[];
}

const SETTINGS: { key: string; schema: z.ZodType; expected: string }[] = [
  { key: 'mcp_oauth_credentials_store', schema: z.enum(CODEX_CREDENTIAL_STORE_MODES), expected: 'one of "auto", "file", "keyring"' },
  { key: 'mcp_oauth_callback_port', schema: z.bigint().min(0n).max(65535n), expected: 'an integer port from 0 to 65535' },
  { key: 'mcp_oauth_callback_url', schema: z.string(), expected: 'a string' },
];

/** Reads the settings from `$CODEX_HOME/config.toml`; a missing file means Codex's defaults. */
export async function readCodexSettings(e: Environment): Promise<CodexClientSettings> {
  const file = path.join(codexHome(e), 'config.toml');
  const read = await readCodexToml(file, { severity: 'error', consequence: 'Codex refuses to start until this is fixed.' });
  const settings = codexSettingsFrom(read);
  if (read.kind === 'broken') settings.findings.unshift(read.finding);
  return settings;
}

/** The settings of an already read user config (scanCodex reads the file once for everything). */
export function codexSettingsFrom(read: CodexTomlFile): CodexClientSettings {
  const settings: CodexClientSettings = { file: read.file, credentialsStore: 'auto', credentialsStoreConfigured: false, findings: [] };
  if (read.kind !== 'ok') return settings;
  for (const { key, schema, expected } of SETTINGS) {
    const value = read.doc[key];
    if (value === undefined) continue;
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const location = locate(read, [key]);
      // Other types only by kind.
      // Strings are named (a mode is no secret), shortened so a pasted blob cannot flood the title.
      const found =
        typeof value === 'string' && key === 'mcp_oauth_credentials_store' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : describeToml(value);
      settings.findings.push({
        code: 'config.invalid-setting',
        severity: 'error',
        title: `Codex refuses ${key} = ${found}`,
        detail: `${read.file}:${location.line}: ${key} must be ${expected}, not ${found}. Codex refuses to start until this is fixed.`,
        location,
      });
      continue;
    }
    if (key === 'mcp_oauth_credentials_store') {
      settings.credentialsStore = parsed.data as CodexCredentialsStoreMode;
      settings.credentialsStoreConfigured = true;
    } else if (key === 'mcp_oauth_callback_port') settings.callbackPort = Number(parsed.data);
    else settings.callbackUrl = parsed.data as string;
  }
  return settings;
}
