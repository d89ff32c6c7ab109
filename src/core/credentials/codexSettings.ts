// What the Codex credential store needs from Codex's config: where Codex keeps MCP OAuth tokens
// (`mcp_oauth_credentials_store`), whether its keyring mode goes through the encrypted secrets
// file (`[features] secret_auth_storage`), and which streamable-HTTP servers are configured.
// Surfaces pass these from the Codex config reader; without them we read the user's
// `$CODEX_HOME/config.toml` ourselves (top level only: profiles and `-c` overrides are not seen).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
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
 * broken one too (Codex itself refuses to start then, and the config reader reports it). Servers
 * also come from the open projects' `.codex/config.toml`, trusted or not: a superset keeps a
 * project's grants from being called "no longer configured".
 */
export async function readCodexCredentialSettings(e: Environment): Promise<CodexCredentialSettings> {
  const doc = await readToml(path.join(codexHome(e), 'config.toml'));
  if (!doc) return codexCredentialSettings(undefined, e.platform);
  const mode = ModeSchema.safeParse(doc.mcp_oauth_credentials_store);
  const features = z.object({ secret_auth_storage: z.boolean().optional() }).loose().safeParse(doc.features);
  const servers = serversIn(doc);
  for (const dir of e.projectDirs) {
    // A project at $HOME has the user's own config as its `.codex/config.toml`.
    if (path.resolve(dir, '.codex') === path.resolve(codexHome(e))) continue;
    const project = await readToml(path.join(dir, '.codex', 'config.toml'));
    for (const s of project ? serversIn(project) : []) if (!servers.some((x) => x.name === s.name && x.url === s.url)) servers.push(s);
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

async function readToml(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    // smol-toml ships types for its ESM entry only; a dynamic import satisfies Node16 resolution.
    const { parse } = await import('smol-toml');
    return parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function serversIn(doc: Record<string, unknown>): { name: string; url: string }[] {
  const servers: { name: string; url: string }[] = [];
  const table = z.record(z.string(), z.unknown()).safeParse(doc.mcp_servers);
  if (!table.success) return servers;
  for (const [name, value] of Object.entries(table.data)) {
    const url = z.object({ url: z.string() }).loose().safeParse(value);
    if (url.success) servers.push({ name, url: url.data.url });
  }
  return servers;
}

/** Keyring mode goes through the encrypted secrets file, which we cannot read. */
export function usesSecretsBackend(s: CodexCredentialSettings): boolean {
  return s.secretAuthStorage && s.mode !== 'file';
}
