// The demo's live half: starts the project's loopback lab (a real oidc-provider authorization
// server and an MCP SDK server), writes the demo HOME around it, and stores tokens in several
// states through our own store writers, so the view shows valid, expired, expiring and missing
// tokens against a server that really answers. Prints one JSON line, then runs until killed.
//   node --import tsx scripts/demo/demo.ts <demo root>
import * as path from 'node:path';
import { startLab } from '../../test/lab/index';
import { scanConfigs } from '../../src/core/config/scan';
import { claudeCodeStore } from '../../src/core/credentials/claudeCodeStore';
import { codexStore } from '../../src/core/credentials/codexStore';
import { environmentFromProcess } from '../../src/core/environment';
import type { CredentialStore } from '../../src/core/credentials/store';

async function main(root: string): Promise<void> {
  // home.mjs is shared with plain-JS callers; a dynamic import loads it from this CommonJS file.
  const { writeDemoHome } = await import('./home.mjs');
  const lab = await startLab({ accessTokenTtl: 3600 });
  const { home, project } = writeDemoHome(root, { mcpUrl: lab.mcpUrl });
  const e = { ...environmentFromProcess([project]), home, env: { HOME: home } };
  const scan = await scanConfigs(e);
  const keyOf = (client: string, name: string) => {
    const s = scan.servers.find((x) => x.client === client && x.name === name);
    if (!s?.storageKey) throw new Error(`demo: no ${client} server ${name}`);
    return s.storageKey;
  };
  const now = Date.now();
  const store = async (st: CredentialStore, key: string, name: string, expiresAt: number) => {
    const t = await lab.mintTokens();
    await st.write(key, {
      serverName: name,
      serverUrl: lab.mcpUrl,
      clientId: t.clientId,
      accessToken: t.accessToken,
      refreshToken: t.refreshToken ?? null,
      expiresAt,
      scopes: t.scope.split(' '),
      issuer: lab.issuer,
    });
  };
  const claude = claudeCodeStore(e);
  const codex = codexStore(e); // the demo's config.toml says mcp_oauth_credentials_store = "file"
  await store(claude, keyOf('claude-code', 'lab-notes'), 'lab-notes', now + 3600_000); // valid
  await store(claude, keyOf('claude-code', 'lab-expired'), 'lab-expired', now - 3 * 3600_000); // expired, refresh token kept
  await store(claude, keyOf('claude-code', 'lab-expiring'), 'lab-expiring', now + 2 * 60_000); // inside the margin
  await store(codex, keyOf('codex', 'lab-notes'), 'lab-notes', now + 3600_000);
  // codex "lab-fresh" stays without a token: "not logged in".
  console.log(JSON.stringify({ home, project, mcpUrl: lab.mcpUrl, issuer: lab.issuer }));
  const stop = () => void lab.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main(path.resolve(process.argv[2] ?? '.demo')).catch((err: unknown) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
