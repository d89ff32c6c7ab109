// The client under test for the official MCP conformance suite (@modelcontextprotocol/conformance):
// our re-login (src/core/repair/login.ts) writing into a sandbox Claude Code store, then the MCP
// requests a client makes with the stored token. The suite runs `<command> <server URL>` with
// MCP_CONFORMANCE_SCENARIO, MCP_CONFORMANCE_PROTOCOL_VERSION (the wire: initialize up to 2025-11-25,
// stateless per-request _meta on 2026-07-28) and, for pre-registration, MCP_CONFORMANCE_CONTEXT
// with client_id / client_secret (conformance src/runner/client.ts). Its authorization server
// redirects straight back with a code, so "the browser" is one GET of the authorization URL,
// redirects not followed, and a GET of the Location it names, which is our loopback listener.
//
// On 401: log in (at most twice). On 403 insufficient_scope: one step-up login asking for the
// union of the scopes held and challenged (MCP 2025-11-25 §Scope Challenge Handling); the same
// challenge again means give up, so a server that never grants stops after one retry.
// Exit 0 when tools/list and tools/call succeed with our token; 1 otherwise (the reason on stderr).
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { claudeCodeStore } from '../../src/core/credentials/claudeCodeStore';
import type { Environment } from '../../src/core/environment';
import type { McpServer } from '../../src/core/model';
import { DEFAULT_MAX_BODY_BYTES, type HttpSettings } from '../../src/core/probe/http';
import { bearerChallenge, parseWwwAuthenticate } from '../../src/core/probe/wwwAuthenticate';
import { login, type LoginContext, type LoginUi } from '../../src/core/repair/login';
import { clientCallbackSettings } from '../../src/core/repair/loopbackRedirect';
import type { RepairTarget } from '../../src/core/repair/types';
import { fingerprint, storageKey } from '../../src/core/storageKey';

const STATEFUL = new Set(['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25']);
const CLIENT_INFO = { name: 'mcp-auth-doctor-conformance', version: '0.1.0' };
// The suite's CIMD client id (auth/basic-cimd); Claude Code is pointed at it the way a user would,
// with MCP_OAUTH_CLIENT_METADATA_URL. Servers that advertise no CIMD never see it.
const CONFORMANCE_CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';
const Context = z.looseObject({ client_id: z.string().optional(), client_secret: z.string().optional() });

const log = (line: string) => process.stderr.write(`adapter: ${line}\n`);

async function main(): Promise<number> {
  const serverUrl = process.argv.at(-1);
  if (!serverUrl || !/^https?:\/\//.test(serverUrl)) {
    log('usage: adapter.ts <server URL>');
    return 2;
  }
  const version = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION || '2025-11-25';
  const context = Context.parse(process.env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT) : {});
  log(`scenario ${process.env.MCP_CONFORMANCE_SCENARIO ?? '?'} at ${serverUrl}, wire ${version}`);

  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'mad-conformance-'));
  try {
    const e: Environment = { home, env: { HOME: home, MCP_OAUTH_CLIENT_METADATA_URL: CONFORMANCE_CLIENT_METADATA_URL }, platform: process.platform, projectDirs: [] };
    const key = storageKey('conformance', 'http', serverUrl, {});
    const server: McpServer = {
      client: 'claude-code',
      scope: 'user',
      name: 'conformance',
      transport: 'http',
      url: serverUrl,
      rawUrl: serverUrl,
      headerNames: [],
      headers: {},
      enabled: true,
      source: { file: '(conformance suite)', line: 1, column: 1 },
      storageKey: key,
      findings: [],
      ...(context.client_id ? { oauth: { clientId: context.client_id } } : {}),
    };
    const store = claudeCodeStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) });
    if (context.client_id) {
      // A pre-registered client, stored as Claude Code stores one configured with --client-secret.
      await store.write(key, { serverName: server.name, serverUrl, clientId: context.client_id, ...(context.client_secret ? { clientSecret: context.client_secret } : {}) });
    }
    const target: RepairTarget = { server, store, key };
    const http: HttpSettings = { fetch: (input, init) => fetch(input, init), timeoutMs: 10_000, maxBodyBytes: DEFAULT_MAX_BODY_BYTES };
    const ui: LoginUi = {
      openBrowser: async (url) => {
        const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
        await res.body?.cancel();
        const location = res.headers.get('location');
        if (!location) throw new Error(`the authorization endpoint answered ${res.status} without a redirect`);
        const callback = await fetch(new URL(location, url), { signal: AbortSignal.timeout(20_000) });
        await callback.text();
      },
    };

    let logins = 0;
    let stepUps = 0;
    let lastChallenged = '';
    for (let round = 0; round < 5; round++) {
      const token = (await store.readSecret(key))?.accessToken;
      const r = await mcpSession(serverUrl, version, token || undefined);
      if (r.ok) {
        log(`tools/list and tools/call succeeded with token ${token ? fingerprint(token) : '(none)'}`);
        return 0;
      }
      const challenge = bearerChallenge(parseWwwAuthenticate(r.wwwAuthenticate));
      let scopes: string[] | undefined;
      if (r.status === 401) {
        if (logins >= 2) return fail(`still 401 after ${logins} logins`);
      } else if (r.status === 403 && challenge?.error === 'insufficient_scope' && challenge.scope) {
        const held = (await store.read(key))?.scopes ?? [];
        scopes = [...new Set([...held, ...challenge.scope.split(' ').filter(Boolean)])];
        if (stepUps >= 1 || challenge.scope === lastChallenged) return fail(`insufficient_scope again for "${challenge.scope}" after a step-up; giving up`);
        lastChallenged = challenge.scope;
        stepUps++;
      } else {
        return fail(`${r.method} answered HTTP ${r.status}${r.detail ? `: ${r.detail}` : ''}`);
      }
      logins++;
      const ctx: LoginContext = { http, callback: await clientCallbackSettings(e, 'claude-code'), callbackTimeoutMs: 20_000, ...(scopes ? { scopes } : {}) };
      const outcome = await login(target, ctx, ui);
      if (!outcome.ok) return fail(`login refused (${outcome.error}): ${outcome.message}`);
      log(outcome.summary);
    }
    return fail('no success within 5 rounds');
  } finally {
    await fs.rm(home, { recursive: true, force: true });
  }
}

function fail(why: string): number {
  log(why);
  return 1;
}

type SessionResult = { ok: true } | { ok: false; method: string; status: number; wwwAuthenticate?: string; detail?: string };

/** initialize + initialized (stateful) or server/discover (stateless), then tools/list and tools/call. */
async function mcpSession(url: string, version: string, token: string | undefined): Promise<SessionResult> {
  const stateless = !STATEFUL.has(version);
  let sessionId: string | undefined;
  let id = 0;
  const send = async (method: string, params: Record<string, unknown> | undefined, notification = false) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (method !== 'initialize') headers['mcp-protocol-version'] = version;
    if (stateless) headers['mcp-method'] = method;
    if (sessionId) headers['mcp-session-id'] = sessionId;
    if (token) headers.authorization = `Bearer ${token}`;
    const p = stateless
      ? { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': version, 'io.modelcontextprotocol/clientInfo': CLIENT_INFO, 'io.modelcontextprotocol/clientCapabilities': {} } }
      : params;
    const body = notification ? { jsonrpc: '2.0', method, ...(p ? { params: p } : {}) } : { jsonrpc: '2.0', id: ++id, method, ...(p ? { params: p } : {}) };
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    sessionId = res.headers.get('mcp-session-id') ?? sessionId;
    const text = await res.text();
    return { res, message: notification ? undefined : jsonRpcMessage(text) };
  };
  const step = async (method: string, params?: Record<string, unknown>): Promise<SessionResult | undefined> => {
    const { res, message } = await send(method, params);
    if (res.status !== 200) return { ok: false, method, status: res.status, ...(res.headers.get('www-authenticate') ? { wwwAuthenticate: res.headers.get('www-authenticate')! } : {}) };
    if (!message || message.error) return { ok: false, method, status: res.status, detail: message?.error ? JSON.stringify(message.error) : 'no JSON-RPC answer' };
    return undefined;
  };

  if (stateless) {
    const failed = await step('server/discover', {});
    if (failed) return failed;
  } else {
    const failed = await step('initialize', { protocolVersion: version, capabilities: {}, clientInfo: CLIENT_INFO });
    if (failed) return failed;
    await send('notifications/initialized', undefined, true);
  }
  return (await step('tools/list', {})) ?? (await step('tools/call', { name: 'test-tool', arguments: {} })) ?? { ok: true };
}

/** The JSON-RPC response in a body: plain JSON, or the `data:` lines of an SSE stream. */
function jsonRpcMessage(text: string): { result?: unknown; error?: unknown } | undefined {
  const candidates = text.trimStart().startsWith('{') ? [text] : [...text.matchAll(/^data:\s?(.*)$/gm)].map((m) => m[1] ?? '');
  for (const c of candidates) {
    try {
      const v = JSON.parse(c) as { result?: unknown; error?: unknown; id?: unknown };
      if (v && (v.result !== undefined || v.error !== undefined)) return v;
    } catch {
      // not JSON: keep looking
    }
  }
  return undefined;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
