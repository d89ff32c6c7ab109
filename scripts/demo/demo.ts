// The demo's live half: starts several loopback labs (each a real oidc-provider authorization
// server, an MCP SDK server and a canary, test/lab/), one per server behaviour worth seeing,
// writes the demo HOME around them and stores tokens through our own store writers, so the view
// shows every probe state against servers that really answer: valid, expired, expiring,
// rejected, insufficient scope, not logged in, misconfigured, no protected-resource metadata,
// no login needed, unreachable, and a server that takes Client ID Metadata Documents only. Prints one JSON line when ready, then runs until killed.
//   node --import tsx scripts/demo/demo.ts <demo root> [--offline]
// --offline leaves out the public example servers (linear, github, ...): every URL is loopback.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { startLab, type Lab, type LabOptions } from '../../test/lab/index';
import { storedEntry } from '../../test/lab/storedEntry';
import { scanConfigs } from '../../src/core/config/scan';
import { claudeCodeStore } from '../../src/core/credentials/claudeCodeStore';
import { codexStore } from '../../src/core/credentials/codexStore';
import { snapshotStoreFor } from '../../src/core/credentials/backups';
import { mcpRemoteStore } from '../../src/core/clients/mcp-remote/store';
import { geminiCliStore } from '../../src/core/clients/gemini-cli/store';
import { opencodeStore } from '../../src/core/clients/opencode/store';
import { environmentFromProcess } from '../../src/core/environment';
import type { CredentialStore } from '../../src/core/credentials/store';

/** What demo.ts prints once everything is up (one JSON line on stdout). */
export interface DemoReady {
  home: string;
  project: string;
  /** The main lab (expired, expiring, rejected, not logged in; lab-notes has its own). */
  mcpUrl: string;
  issuer: string;
  /** Every lab server name → its MCP URL. */
  servers: Record<string, string>;
}

/** The labs, by role; each misbehaviour needs its own because a lab's behaviour is global to it. */
const LABS = {
  main: {},
  // The server every client configures (home.mjs SHARED_SERVER), on its own URL so that "by
  // server" groups its entries, and Codex's lab-fresh, a second name for the same server there.
  notes: {},
  // The AS's scope list is fixed at start, so mcp:admin must be listed to exist at all.
  stepUp: { scopes: ['mcp:tools', 'mcp:admin'], requiredScope: 'mcp:admin' },
  misconfigured: { advertisedIssuer: 'other', codeChallengeMethods: 'absent' },
  noMetadata: { resourceMetadataLocation: 'none', challenge: 'bearer-without-metadata' },
  public: { mcpEndpoint: 'public' },
  // Never answers: the probe's timeout (mcpAuthDoctor.probe.timeoutSeconds) marks it unreachable.
  hanging: { mcpEndpoint: 'hang' },
  // Client ID Metadata Documents only, no dynamic registration: a login works only as the client itself.
  cimd: { clientIdMetadataDocuments: true, dynamicRegistration: false },
} satisfies Record<string, LabOptions>;
type Role = keyof typeof LABS;

/** Which lab each server name of home.mjs's LAB_SERVERS talks to. */
const SERVER_LAB: Record<string, Role> = {
  'lab-notes': 'notes',
  'lab-expired': 'main',
  'lab-expiring': 'main',
  'lab-rejected': 'main',
  'lab-fresh': 'notes',
  'lab-step-up': 'stepUp',
  'lab-misconfigured': 'misconfigured',
  'lab-no-metadata': 'noMetadata',
  'lab-public': 'public',
  'lab-hanging': 'hanging',
  'lab-cimd': 'cimd',
};

async function startLabs(): Promise<Record<Role, Lab>> {
  const roles = Object.keys(LABS) as Role[];
  const started = await Promise.allSettled(roles.map((r) => startLab(LABS[r])));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    throw failed.reason;
  }
  return Object.fromEntries(roles.map((r, i) => [r, (started[i] as PromiseFulfilledResult<Lab>).value])) as Record<Role, Lab>;
}

async function main(root: string, offline: boolean): Promise<void> {
  // home.mjs is shared with plain-JS callers; a dynamic import loads it from this CommonJS file.
  const { writeDemoHome, LAB_SERVERS } = await import('./home.mjs');
  const labs = await startLabs();
  const close = () => Promise.all(Object.values(labs).map((l) => l.close()));
  try {
    const names = [...new Set([...LAB_SERVERS['claude-code'], ...LAB_SERVERS.codex])];
    const servers = Object.fromEntries(names.map((name) => [name, labs[SERVER_LAB[name] ?? 'main'].mcpUrl]));
    const { home, project } = writeDemoHome(root, { servers, offline });
    await storeTokens(labs, home, project);
    const ready: DemoReady = { home, project, mcpUrl: labs.main.mcpUrl, issuer: labs.main.issuer, servers };
    console.log(JSON.stringify(ready));
  } catch (err) {
    await close();
    throw err;
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * Mints each token by the lab's real code flow and stores it as the client would. The stored
 * expiry is the one the token response gave, so it agrees with the token's own exp claim (the
 * probe reports a disagreement as a finding of its own); the lifetime is set per mint instead.
 */
async function storeTokens(labs: Record<Role, Lab>, home: string, project: string): Promise<void> {
  const e = { ...environmentFromProcess([project]), home, env: { HOME: home } };
  const scan = await scanConfigs(e);
  const keyOf = (client: string, name: string) => {
    const s = scan.servers.find((x) => x.client === client && x.name === name);
    if (!s?.storageKey) throw new Error(`demo: no ${client} server ${name}`);
    return s.storageKey;
  };
  const claude = claudeCodeStore(e);
  const codex = codexStore(e); // the demo's config.toml says mcp_oauth_credentials_store = "file"
  /** Mints on the server's lab with the given access-token lifetime, stores, returns the access token. */
  const store = async (st: CredentialStore, client: string, name: string, ttlSeconds: number, scope?: string): Promise<string> => {
    const lab = labs[SERVER_LAB[name] ?? 'main'];
    const ttlBefore = lab.behaviour.accessTokenTtl;
    lab.configure({ accessTokenTtl: ttlSeconds });
    const issuedAt = Date.now();
    try {
      const t = await lab.mintTokens(scope ? { scope } : {});
      await st.write(keyOf(client, name), storedEntry(lab, name, t, issuedAt));
      return t.accessToken;
    } finally {
      lab.configure({ accessTokenTtl: ttlBefore });
    }
  };
  // Sequential: both stores are one file each, written under a lock.
  await store(claude, 'claude-code', 'lab-notes', 3600); // valid
  await store(codex, 'codex', 'lab-notes', 3600); // valid
  // Expired by the store's clock, and the server agrees: revoked as well, so the live check
  // gets 401 whatever the clocks say. The refresh token stays good.
  await labs.main.revoke(await store(claude, 'claude-code', 'lab-expired', 1));
  // Inside the 5-minute expiry margin for three minutes; after that the demo shows it expired.
  await store(claude, 'claude-code', 'lab-expiring', 180);
  // Revoked long before its stored expiry: the server says no although the store says yes.
  await labs.main.revoke(await store(claude, 'claude-code', 'lab-rejected', 3600));
  // A good token without the mcp:admin scope the step-up lab requires: 403 insufficient_scope.
  await store(claude, 'claude-code', 'lab-step-up', 3600, 'mcp:tools offline_access');
  // mcp-remote's login to the server every client has (home.mjs SHARED_SERVER): expired and
  // revoked, so "by server" reads valid in Claude Code, Codex and Gemini CLI, expired in opencode and through Claude Desktop.
  await store(geminiCliStore(e, { backups: snapshotStoreFor(e) }), 'gemini-cli', 'lab-notes', 3600); // valid
  // opencode's: expired by its stored time, not revoked, with a good refresh token: Refresh fixes it.
  await store(opencodeStore(e, { backups: snapshotStoreFor(e) }), 'opencode', 'lab-notes', 1);
  await labs.notes.revoke(await store(mcpRemoteStore(e, { backups: snapshotStoreFor(e) }), 'mcp-remote', 'lab-notes', 1));
  // codex lab-fresh, lab-misconfigured, both lab-cimd, and the no-metadata, public and hanging servers stay
  // without a token: not logged in, or whatever the server's setup makes of that.
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { offline: { type: 'boolean', default: false } } });
main(path.resolve(positionals[0] ?? '.demo'), values.offline).catch((err: unknown) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
