// The "surfaces" suite's sandbox: one live loopback lab and three logins, so that fixing one
// expired token leaves nothing to warn about (the status bar must then disappear):
//   Claude Code lab-expired  expired by the store's clock and revoked at the lab; good refresh token
//   Claude Code lab-valid    valid for an hour
//   Codex       lab-soon     valid for an hour; /expire-soon re-mints it to expire in a few seconds
// Tokens are minted by the lab's real code flow at start-up and exist only in the sandbox.
// A control endpoint on loopback lets the tests ask for request counts and a short-lived token;
// it never answers with a token.
//   node --import tsx test/vscode/surfacesLab.ts <root>
// Prints one JSON line when ready ({home, workspace, control}); runs until SIGTERM.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { startLab, type Lab } from '../lab/index';
import { storedEntry } from '../lab/storedEntry';
import { scanConfigs } from '../../src/core/config/scan';
import { claudeCodeStore } from '../../src/core/credentials/claudeCodeStore';
import { codexStore } from '../../src/core/credentials/codexStore';
import type { CredentialStore } from '../../src/core/credentials/store';
import { environmentFromProcess, type Environment } from '../../src/core/environment';

/** What the suite reads from the ready line (test/vscode/fixture.mjs passes it on in the workspace). */
export interface SurfacesReady {
  home: string;
  workspace: string;
  /** http://127.0.0.1:<port>: GET /stats, POST /expire-soon?seconds=N */
  control: string;
  mcpUrl: string;
}

/** What GET /stats answers: requests the lab received since the sandbox was ready, and refresh grants. */
export interface LabStats {
  mcpRequests: number;
  authorizationServerRequests: number;
  refreshes: number;
}

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o600 });
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

async function main(root: string): Promise<void> {
  const lab = await startLab({});
  const home = path.join(root, 'home');
  const workspace = path.join(root, 'workspace', 'surfaces-app');
  fs.mkdirSync(path.join(home, '.claude'), { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  write(
    path.join(home, '.claude.json'),
    JSON.stringify({ numStartups: 1, mcpServers: { 'lab-expired': { type: 'http', url: lab.mcpUrl }, 'lab-valid': { type: 'http', url: lab.mcpUrl } } }, null, 2) + '\n',
  );
  // The file store: test machines have no Secret Service.
  write(path.join(home, '.codex', 'config.toml'), ['mcp_oauth_credentials_store = "file"', '', '[mcp_servers.lab-soon]', `url = "${lab.mcpUrl}"`, ''].join('\n'));
  write(path.join(workspace, 'README.md'), '# surfaces-app\n');
  // A 3-second expiry margin, so the timer test sees "expiring" and then "expired" within seconds.
  write(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'mcpAuthDoctor.probe.timeoutSeconds': 2, 'mcpAuthDoctor.expiryWarningMinutes': 0.05 }, null, 2) + '\n');

  const e: Environment = { ...environmentFromProcess([workspace]), home, env: { HOME: home } };
  const scan = await scanConfigs(e);
  const keyOf = (client: string, name: string) => {
    const s = scan.servers.find((x) => x.client === client && x.name === name);
    if (!s?.storageKey) throw new Error(`surfaces lab: no ${client} server ${name}`);
    return s.storageKey;
  };
  const claude = claudeCodeStore(e);
  const codex = codexStore(e);
  const revokeTimers: NodeJS.Timeout[] = [];
  /** Mints with the given lifetime and stores as the client would; the stored expiry is the token response's. */
  const store = async (st: CredentialStore, client: string, name: string, ttlSeconds: number): Promise<{ accessToken: string; expiresAt: number }> => {
    lab.configure({ accessTokenTtl: Math.max(ttlSeconds, 1) });
    const issuedAt = Date.now();
    const t = await lab.mintTokens();
    const entry = storedEntry(lab, name, t, issuedAt);
    await st.write(keyOf(client, name), entry);
    lab.configure({ accessTokenTtl: 3600 });
    return { accessToken: t.accessToken, expiresAt: entry.expiresAt as number };
  };
  // Revoked as well as expired, so the server says no whatever the clocks say.
  await lab.revoke((await store(claude, 'claude-code', 'lab-expired', 1)).accessToken);
  await store(claude, 'claude-code', 'lab-valid', 3600);
  await store(codex, 'codex', 'lab-soon', 3600);

  const before = lab.requestsSeen();
  const refreshesBefore = lab.refreshes();
  const stats = (): LabStats => {
    const now = lab.requestsSeen();
    return {
      mcpRequests: total(now.mcpServer) - total(before.mcpServer),
      authorizationServerRequests: total(now.authorizationServer) - total(before.authorizationServer),
      refreshes: lab.refreshes() - refreshesBefore,
    };
  };
  let ownRequests = { mcp: 0, as: 0 };
  const control = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/stats') {
      const s = stats();
      // The lab's own minting (below) is not the extension's doing.
      return answer(200, { ...s, mcpRequests: s.mcpRequests - ownRequests.mcp, authorizationServerRequests: s.authorizationServerRequests - ownRequests.as });
    }
    if (req.method === 'POST' && url.pathname === '/expire-soon') {
      const seconds = Math.min(Math.max(Number(url.searchParams.get('seconds')) || 8, 2), 60);
      const seenBefore = lab.requestsSeen();
      void store(codex, 'codex', 'lab-soon', seconds)
        .then(({ accessToken, expiresAt }) => {
          const seenAfter = lab.requestsSeen();
          ownRequests = {
            mcp: ownRequests.mcp + total(seenAfter.mcpServer) - total(seenBefore.mcpServer),
            as: ownRequests.as + total(seenAfter.authorizationServer) - total(seenBefore.authorizationServer),
          };
          // The lab's own clock would let it live a little past the stored expiry (the mint's
          // round trip): end it exactly then, as a server whose clock agrees with the store would.
          revokeTimers.push(setTimeout(() => void lab.revoke(accessToken).catch(() => undefined), Math.max(expiresAt - Date.now(), 0)));
          answer(200, { expiresAt });
        })
        .catch((err: unknown) => answer(500, { error: err instanceof Error ? err.message : String(err) }));
      return;
    }
    answer(404, { error: 'unknown' });
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const ready: SurfacesReady = { home, workspace, control: `http://127.0.0.1:${(control.address() as AddressInfo).port}`, mcpUrl: lab.mcpUrl };
  console.log(JSON.stringify(ready));

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const t of revokeTimers) clearTimeout(t);
    control.closeAllConnections();
    control.close();
    void close(lab).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function close(lab: Lab): Promise<void> {
  return lab.close().catch(() => undefined);
}

main(path.resolve(process.argv[2] ?? '.surfaces')).catch((err: unknown) => {
  console.error(`surfaces lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
