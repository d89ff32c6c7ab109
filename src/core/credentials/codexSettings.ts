// What the Codex credential store needs from Codex's config: where Codex keeps MCP OAuth tokens
// (`mcp_oauth_credentials_store`), whether its keyring mode goes through the encrypted secrets
// file (`[features] secret_auth_storage`), and which streamable-HTTP servers are configured.
// Surfaces pass these from the Codex config reader; without them we read the user's
// `$CODEX_HOME/config.toml` ourselves (top level only: profiles and `-c` overrides are not seen).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { codexHome, type Environment } from '../environment';

/** codex-rs config types.rs `OAuthCredentialsStoreMode`, serde lowercase; default `auto`. */
export type CodexOAuthStoreMode = 'auto' | 'file' | 'keyring';

export interface CodexCredentialSettings {
  mode: CodexOAuthStoreMode;
  /**
   * `[features] secret_auth_storage`: keyring mode keeps tokens in `$CODEX_HOME/secrets/mcp_oauth.age`
   * with only its key in the OS keyring (`AuthKeyringBackendKind::Secrets`). Default: on for
   * Windows builds, off elsewhere (features registry `default_enabled: cfg!(windows)`).
   */
  secretAuthStorage: boolean;
  /** Configured streamable-HTTP servers; undefined when unknown (then no "not configured" findings). */
  servers?: { name: string; url: string }[];
}

const ModeSchema = z.enum(['auto', 'file', 'keyring']);

export const CodexCredentialSettingsSchema = z.object({
  mode: ModeSchema.optional(),
  secretAuthStorage: z.boolean().optional(),
  servers: z.array(z.object({ name: z.string(), url: z.string() })).optional(),
});

/** Fills defaults the way Codex does for the platform. */
export function codexCredentialSettings(input: z.input<typeof CodexCredentialSettingsSchema> | undefined, platform: NodeJS.Platform): CodexCredentialSettings {
  return {
    mode: input?.mode ?? 'auto',
    secretAuthStorage: input?.secretAuthStorage ?? platform === 'win32',
    ...(input?.servers ? { servers: input.servers } : {}),
  };
}

/**
 * Reads the settings from `$CODEX_HOME/config.toml`. A missing file means Codex's defaults; a
 * broken one too (Codex itself refuses to start then, and the config reader reports it).
 */
export async function readCodexCredentialSettings(e: Environment): Promise<CodexCredentialSettings> {
  let text: string;
  try {
    text = await fs.readFile(path.join(codexHome(e), 'config.toml'), 'utf8');
  } catch {
    return codexCredentialSettings(undefined, e.platform);
  }
  let doc: Record<string, unknown>;
  try {
    // smol-toml ships types for its ESM entry only; a dynamic import satisfies Node16 resolution.
    const { parse } = await import('smol-toml');
    doc = parse(text) as Record<string, unknown>;
  } catch {
    return codexCredentialSettings(undefined, e.platform);
  }
  const mode = ModeSchema.safeParse(doc.mcp_oauth_credentials_store);
  const features = z.object({ secret_auth_storage: z.boolean().optional() }).loose().safeParse(doc.features);
  const servers: { name: string; url: string }[] = [];
  const table = z.record(z.string(), z.unknown()).safeParse(doc.mcp_servers);
  if (table.success) {
    for (const [name, value] of Object.entries(table.data)) {
      const url = z.object({ url: z.string() }).loose().safeParse(value);
      if (url.success) servers.push({ name, url: url.data.url });
    }
  }
  return codexCredentialSettings(
    {
      ...(mode.success ? { mode: mode.data } : {}),
      ...(features.success && features.data.secret_auth_storage !== undefined ? { secretAuthStorage: features.data.secret_auth_storage } : {}),
      servers,
    },
    e.platform,
  );
}
