// A sandbox HOME with one server "lab" configured for one client, the store our repairs write
// into, and a "browser" that approves at the lab and delivers the redirect: the setup every
// interop test of our login and refresh shares (repairLogin, issuerChanged, cimdLogin).
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { scanConfigs } from '../../src/core/config/scan';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { claudeCodeStore, claudeCredentialsFile } from '../../src/core/credentials/claudeCodeStore';
import { codexCredentialsFile, codexStore } from '../../src/core/credentials/codexStore';
import type { CredentialStore } from '../../src/core/credentials/store';
import type { Environment } from '../../src/core/environment';
import type { ClientId, McpServer } from '../../src/core/model';
import type { HttpSettings } from '../../src/core/probe/http';
import type { LoginContext, LoginUi } from '../../src/core/repair/login';
import type { RepairOutcome, RepairTarget } from '../../src/core/repair/types';
import type { Lab } from '../lab';
import { makeSandboxHome, sandboxEnv } from './realClients';

export const LOOPBACK_HTTP: HttpSettings = { fetch: (input, init) => fetch(input, init), timeoutMs: 5000, maxBodyBytes: 1 << 20 };

export interface Sandbox {
  home: string;
  e: Environment;
  server: McpServer;
  store: CredentialStore;
  target: RepairTarget;
  file: string;
  backups: SnapshotStore;
}

export interface SandboxOptions {
  /** Claude Code `oauth.callbackPort`. */
  callbackPort?: number;
  /** Codex `oauth_resource`. */
  resource?: string;
  /** Extra environment for the sandbox (e.g. MCP_OAUTH_CLIENT_METADATA_URL). */
  env?: Record<string, string>;
  prefix?: string;
}

/** Homes made so far; remove them with removeSandboxes() in an after hook. */
const homes: string[] = [];

/** A sandbox HOME where `client` has one server "lab" at `mcpUrl` (Codex: file store). */
export async function labSandbox(client: ClientId, mcpUrl: string, options: SandboxOptions = {}): Promise<Sandbox> {
  const home = await makeSandboxHome(options.prefix ?? 'mad-login-');
  homes.push(home);
  const e: Environment = { home, env: sandboxEnv(home, options.env), platform: process.platform, projectDirs: [home], managedMcpPath: path.join(home, 'no-managed-mcp.json') };
  if (client === 'claude-code') {
    const entry = { type: 'http', url: mcpUrl, ...(options.callbackPort ? { oauth: { callbackPort: options.callbackPort } } : {}) };
    await fs.writeFile(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: { lab: entry } }), { mode: 0o600 });
  } else {
    await fs.mkdir(path.join(home, '.codex'), { recursive: true });
    const resource = options.resource ? `oauth_resource = "${options.resource}"\n` : '';
    await fs.writeFile(path.join(home, '.codex', 'config.toml'), `mcp_oauth_credentials_store = "file"\n\n[mcp_servers.lab]\nurl = "${mcpUrl}"\n${resource}`);
  }
  const servers = (await scanConfigs(e, [client])).servers;
  assert.equal(servers.length, 1, `the sandbox config has one server, found ${servers.length}`);
  const server = servers[0]!;
  const backups = new SnapshotStore(path.join(home, 'backups'));
  const store = client === 'claude-code' ? claudeCodeStore(e, { backups }) : codexStore(e, { backups });
  const file = client === 'claude-code' ? claudeCredentialsFile(e) : codexCredentialsFile(e);
  return { home, e, server, store, target: { server, store, key: server.storageKey! }, file, backups };
}

export async function removeSandboxes(): Promise<void> {
  for (const h of homes.splice(0)) await fs.rm(h, { recursive: true, force: true });
}

/** The browser: the lab approves the authorization URL, and its redirect is delivered to our listener. */
export function labBrowser(lab: Lab, seen: { urls: string[]; pages: string[] } = { urls: [], pages: [] }, tamper?: (redirect: URL) => URL | Promise<URL>): LoginUi & { seen: typeof seen } {
  return {
    seen,
    openBrowser: async (url) => {
      seen.urls.push(url);
      let redirect = new URL(await lab.approve(url));
      if (tamper) redirect = await tamper(redirect);
      const res = await fetch(redirect, { signal: AbortSignal.timeout(15_000) });
      seen.pages.push(await res.text());
    },
  };
}

export function loginContext(extra: Partial<LoginContext> = {}): LoginContext {
  return { http: LOOPBACK_HTTP, callbackTimeoutMs: 20_000, ...extra };
}

export type RawClaudeEntry = Record<string, unknown> & { accessToken: string; refreshToken?: string; clientId?: string; expiresAt?: number; scope?: string; redirectUri?: string; clientSecret?: string };
export type RawCodexEntry = { server_name: string; server_url: string; issuer?: string; client_id: string; access_token: string; refresh_token?: string; expires_at?: number; scopes: string[] };

export async function rawClaude(sb: Sandbox): Promise<RawClaudeEntry> {
  return JSON.parse(await fs.readFile(sb.file, 'utf8')).mcpOAuth[sb.target.key];
}

export async function rawCodex(sb: Sandbox): Promise<RawCodexEntry> {
  return JSON.parse(await fs.readFile(sb.file, 'utf8'))[sb.target.key];
}

export function assertOk(outcome: RepairOutcome): asserts outcome is Extract<RepairOutcome, { ok: true }> {
  assert.ok(outcome.ok, `login failed: ${outcome.ok ? '' : `${outcome.error}: ${outcome.message}`}`);
}
