// Real `codex mcp login` (Codex 0.169.0) against the loopback OAuth lab, in file and keyring
// (private Secret Service) mode: our reader reports exactly what Codex stored, and a fresh token
// we write over a dead grant is what Codex's app-server then connects with (it lists the tools).
// Run: npx mocha --no-config --node-option import=tsx --timeout 180000 test/interop/codexStoreLogin.test.ts
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SnapshotStore } from '../../src/core/credentials/backups';
import { CODEX_KEYRING_SERVICE } from '../../src/core/credentials/codexKeyring';
import type { CodexOAuthStoreMode } from '../../src/core/credentials/codexSettings';
import { CodexStore, codexCredentialsFile, codexKey } from '../../src/core/credentials/codexStore';
import type { Environment } from '../../src/core/environment';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import { codexAppServerStatus, codexLogin, makeSandboxHome, sandboxEnv } from '../support/realClients';
import { secretServiceUnavailable, startPrivateSecretService, type PrivateSecretService } from '../support/secretService';

/** What Codex keeps for one grant, read straight from its store (the reference for "exactly"). */
interface Raw {
  server_name: string;
  server_url: string;
  issuer?: string;
  client_id: string;
  access_token: string;
  refresh_token?: string | null;
  expires_at?: number | null;
  scopes: string[];
}

describe('Codex credential store after a real codex mcp login', function () {
  this.timeout(180_000);
  let lab: Lab;
  let ss: PrivateSecretService | undefined;
  const homes: string[] = [];

  before(async () => {
    lab = await startLab();
    if (!secretServiceUnavailable()) ss = await startPrivateSecretService();
  });
  after(async () => {
    await lab?.close();
    await ss?.stop();
    for (const h of homes) await fs.rm(h, { recursive: true, force: true });
  });

  for (const mode of ['file', 'keyring'] as const) {
    describe(`${mode} mode`, () => {
      let home: string;
      let extraEnv: Record<string, string>;
      let e: Environment;
      let store: CodexStore;
      const key = () => codexKey('lab', lab.mcpUrl);

      before(async function () {
        if (mode === 'keyring' && !ss) this.skip();
        home = await makeSandboxHome('mad-codex-login-');
        homes.push(home);
        extraEnv = ss ? { ...ss.env } : {};
        await configure(home, mode, lab.mcpUrl);
        e = { home, env: sandboxEnv(home, extraEnv), platform: process.platform, projectDirs: [] };
        store = new CodexStore(e, { backups: new SnapshotStore(path.join(home, 'backups')) });
        ss?.secretTool(['clear', 'service', CODEX_KEYRING_SERVICE]);
        await codexLogin(home, 'lab', lab, { env: extraEnv });
      });

      async function raw(): Promise<Raw> {
        if (mode === 'file') return JSON.parse(await fs.readFile(codexCredentialsFile(e), 'utf8'))[key()];
        const r = ss!.secretTool(['lookup', 'service', CODEX_KEYRING_SERVICE, 'username', key()]);
        assert.equal(r.status, 0, `no keyring item for ${key()}`);
        const t = JSON.parse(r.stdout);
        return {
          server_name: t.server_name,
          server_url: t.url,
          issuer: t.issuer,
          client_id: t.client_id,
          access_token: t.token_response.access_token,
          refresh_token: t.token_response.refresh_token,
          expires_at: t.expires_at,
          scopes: (t.token_response.scope ?? '').split(' ').filter(Boolean),
        };
      }

      it('our reader reports exactly what Codex stored, and where', async () => {
        const stored = await raw();
        if (mode === 'keyring') await assert.rejects(fs.stat(codexCredentialsFile(e)), { code: 'ENOENT' }, 'keyring mode leaves no file copy');
        const listing = await store.list();
        assert.equal(listing.entries.length, 1);
        const s = listing.entries[0]!;
        assert.deepEqual(
          {
            key: s.key,
            store: s.store,
            serverName: s.serverName,
            serverUrl: s.serverUrl,
            issuer: s.issuer,
            clientId: s.clientId,
            accessTokenFingerprint: s.accessTokenFingerprint,
            refreshTokenFingerprint: s.refreshTokenFingerprint,
            expiresAt: s.expiresAt,
            scopes: s.scopes,
            usable: s.usable,
          },
          {
            key: key(),
            store: mode,
            serverName: stored.server_name,
            serverUrl: stored.server_url,
            issuer: stored.issuer,
            clientId: stored.client_id,
            accessTokenFingerprint: fingerprint(stored.access_token),
            refreshTokenFingerprint: stored.refresh_token ? fingerprint(stored.refresh_token) : undefined,
            expiresAt: stored.expires_at ?? undefined,
            scopes: stored.scopes,
            usable: true,
          },
        );
        // And what Codex stored is what the lab issued.
        assert.equal(stored.server_url, lab.mcpUrl);
        assert.ok(lab.clients().some((c) => c.clientId === stored.client_id));
        assert.deepEqual(listing.findings, []);
      });

      it("after our write of a fresh token over a dead grant, Codex's app-server lists the tools", async () => {
        const { clientId } = { clientId: (await raw()).client_id };
        // A dead grant: a token the server refuses and nothing to refresh with.
        await store.write(key(), { accessToken: 'not-a-token', refreshToken: null, expiresAt: Date.now() + 3600_000 });
        const dead = (await codexAppServerStatus(home, { env: extraEnv })).find((x) => x.name === 'lab');
        assert.ok(dead && dead.tools.length === 0, `with a dead grant Codex listed ${JSON.stringify(dead?.tools)}`);

        const fresh = await lab.mintTokens({ clientId });
        await store.write(key(), { accessToken: fresh.accessToken, refreshToken: fresh.refreshToken ?? null, expiresAt: Date.now() + fresh.expiresIn * 1000 });
        const refreshesBefore = lab.refreshes();
        const authorizedBefore = lab.mcpRequests().authorized;
        const live = (await codexAppServerStatus(home, { env: extraEnv })).find((x) => x.name === 'lab');
        assert.ok(live, 'lab missing from mcpServerStatus/list');
        assert.equal(live.toolsError, undefined);
        assert.ok(live.tools.length > 0, 'no tools listed');
        assert.equal(lab.refreshes(), refreshesBefore, 'Codex used the access token we wrote, without refreshing');
        assert.ok(lab.mcpRequests().authorized > authorizedBefore);
        assert.equal((await store.read(key()))?.accessTokenFingerprint, fingerprint(fresh.accessToken));
      });
    });
  }
});

async function configure(home: string, mode: CodexOAuthStoreMode, url: string): Promise<void> {
  const dir = path.join(home, '.codex');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'config.toml'), `mcp_oauth_credentials_store = "${mode}"\n\n[mcp_servers.lab]\nurl = "${url}"\n`);
}
