// What the real clients write, our scanConfigs reads back: servers added with `claude mcp add`
// (Claude Code 2.1.197) and `codex mcp add` (Codex 0.169.0) in a sandbox HOME, compared field by
// field with what was added and with what the clients themselves list. The storage keys are
// checked against the keys the clients write into their credential stores during a real OAuth
// flow against the loopback lab: a wrong key means we would show a logged-in server as logged out.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { scanConfigs } from '../../src/core/config/scan';
import type { Environment } from '../../src/core/environment';
import type { ClientId, ConfigScan, McpServer } from '../../src/core/model';
import { fingerprint } from '../../src/core/storageKey';
import { startLab, type Lab } from '../lab';
import {
  CLAUDE_BIN,
  CODEX_BIN,
  claudeLogin,
  claudeRegistersWhileListing,
  claudeVersion,
  claudeMcpAdd,
  claudeMcpList,
  codexAppServerStatus,
  codexLogin,
  codexMcpAdd,
  codexMcpListJson,
  makeSandboxHome,
  sandboxEnv,
} from '../support/realClients';
import { secretServiceUnavailable, startPrivateSecretService } from '../support/secretService';

const clientsInstalled = existsSync(CLAUDE_BIN) && existsSync(CODEX_BIN);

/** A header or env value minted per run: never a committed token-like string. */
function minted(label: string): string {
  return `${label}-${randomBytes(10).toString('hex')}`;
}

function environment(home: string, project: string, extra: Record<string, string> = {}): Environment {
  return { home, env: sandboxEnv(home, extra), platform: 'linux', projectDirs: [project], managedMcpPath: path.join(home, 'no-managed-mcp.json') };
}

function one(scan: ConfigScan, client: ClientId, name: string): McpServer {
  const found = scan.servers.filter((s) => s.client === client && s.name === name);
  assert.equal(found.length, 1, `${client} server "${name}": found ${found.length} (have: ${scan.servers.map((s) => `${s.client}/${s.name}`).join(', ')})`);
  return found[0]!;
}

/** Compares secret-bearing maps without printing them: a mismatch shows names and fingerprints. */
function assertSameSecrets(actual: Record<string, string> | undefined, expected: Record<string, string>, what: string): void {
  const a = JSON.stringify(actual ?? {});
  const e = JSON.stringify(expected);
  assert.ok(a === e, `${what}: got names [${Object.keys(actual ?? {})}] ${fingerprint(a)}, expected [${Object.keys(expected)}] ${fingerprint(e)}`);
}

/** The server's source position must be its own entry: the JSON key `"name"`, or the TOML table naming it. */
async function assertSourceIsEntry(s: McpServer, file: string): Promise<void> {
  assert.equal(s.source.file, file, `${s.name}: source file`);
  const lines = (await fs.readFile(file, 'utf8')).split('\n');
  const line = lines[s.source.line - 1] ?? '';
  if (file.endsWith('.toml')) {
    assert.ok(line.includes(s.name), `${s.name}: line ${s.source.line} of ${path.basename(file)} is "${line}"`);
  } else {
    assert.ok(line.slice(s.source.column - 1).startsWith(`"${s.name}"`), `${s.name}: ${s.source.line}:${s.source.column} of ${path.basename(file)} is "${line}"`);
  }
}

(clientsInstalled ? describe : describe.skip)('config interop: what the real clients write, scanConfigs reads', function () {
  this.timeout(180_000);

  describe('claude mcp add at user, local and project scope', () => {
    let home: string;
    let project: string;
    const apiKey = minted('hdr');
    const bearer = minted('bearer');
    const stdioSecret = minted('env');

    before(async () => {
      home = await makeSandboxHome();
      project = path.join(home, 'work', 'proj');
      await fs.mkdir(project, { recursive: true });
      // Nothing is contacted by `mcp add`; `mcp list` fails fast on these names (proxy refused).
      await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'http', 'cc-user-http', 'https://mcp.example.test/u', '--header', `X-Api-Key: ${apiKey}`, '--header', 'X-Team: lab']);
      await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'http', 'cc-user-placeholders', 'https://${LAB_HOST}/mcp', '--header', 'Authorization: Bearer ${LAB_BEARER}']);
      await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'sse', 'cc-user-sse', 'https://mcp.example.test/sse']);
      await claudeMcpAdd(home, project, ['--transport', 'http', 'cc-local-http', 'https://mcp.example.test/l']);
      await claudeMcpAdd(home, project, ['-s', 'project', '--transport', 'http', 'cc-project-http', 'https://mcp.example.test/p']);
      await claudeMcpAdd(home, project, ['cc-local-stdio', '-e', `API_KEY=${stdioSecret}`, '--', 'node', 'server.js', '--port', '1']);
    });
    after(async () => {
      await fs.rm(home, { recursive: true, force: true });
    });

    it('reads every server with its scope, transport, url, headers and source entry', async () => {
      const scan = await scanConfigs(environment(home, project, { LAB_HOST: 'mcp.example.test', LAB_BEARER: bearer }), ['claude-code']);
      const global = path.join(home, '.claude.json');
      const mcpJson = path.join(project, '.mcp.json');

      const userHttp = one(scan, 'claude-code', 'cc-user-http');
      assert.equal(userHttp.scope, 'user');
      assert.equal(userHttp.transport, 'http');
      assert.equal(userHttp.url, 'https://mcp.example.test/u');
      assert.deepEqual(userHttp.headerNames, ['X-Api-Key', 'X-Team']);
      assertSameSecrets(userHttp.headers, { 'X-Api-Key': apiKey, 'X-Team': 'lab' }, 'cc-user-http headers');
      await assertSourceIsEntry(userHttp, global);

      const placeholders = one(scan, 'claude-code', 'cc-user-placeholders');
      assert.equal(placeholders.rawUrl, 'https://${LAB_HOST}/mcp');
      assert.equal(placeholders.url, 'https://mcp.example.test/mcp');
      assertSameSecrets(placeholders.headers, { Authorization: `Bearer ${bearer}` }, 'cc-user-placeholders headers (expanded)');

      const sse = one(scan, 'claude-code', 'cc-user-sse');
      assert.equal(sse.scope, 'user');
      assert.equal(sse.transport, 'sse');
      assert.equal(sse.url, 'https://mcp.example.test/sse');
      assert.deepEqual(sse.headerNames, []);

      const local = one(scan, 'claude-code', 'cc-local-http');
      assert.equal(local.scope, 'local');
      assert.equal(local.projectPath, project);
      assert.equal(local.url, 'https://mcp.example.test/l');
      await assertSourceIsEntry(local, global);

      const projectHttp = one(scan, 'claude-code', 'cc-project-http');
      assert.equal(projectHttp.scope, 'project');
      assert.equal(projectHttp.projectPath, project);
      assert.equal(projectHttp.url, 'https://mcp.example.test/p');
      await assertSourceIsEntry(projectHttp, mcpJson);

      const stdio = one(scan, 'claude-code', 'cc-local-stdio');
      assert.equal(stdio.scope, 'local');
      assert.equal(stdio.transport, 'stdio');
      assert.equal(stdio.command, 'node');
      assert.equal(stdio.url, undefined);
      assert.equal(stdio.storageKey, undefined, 'stdio servers have no OAuth storage key');
      await assertSourceIsEntry(stdio, global);

      assert.deepEqual(scan.servers.map((s) => s.name).sort(), ['cc-local-http', 'cc-local-stdio', 'cc-project-http', 'cc-user-http', 'cc-user-placeholders', 'cc-user-sse']);
      assert.ok(scan.files.includes(global) && scan.files.includes(mcpJson), 'both files are watched');
    });

    it('lists the same servers as `claude mcp list`, and flags the one claude waits to have approved', async () => {
      const scan = await scanConfigs(environment(home, project), ['claude-code']);
      const { servers: listed, run } = await claudeMcpList(home, project);
      assert.deepEqual(listed.map((s) => s.name).sort(), scan.servers.map((s) => s.name).sort(), run.stdout);
      for (const l of listed) {
        const ours = one(scan, 'claude-code', l.name);
        const pendingFinding = ours.findings.some((f) => f.code === 'config.project-server-pending');
        assert.equal(pendingFinding, l.status === 'pending-approval', `${l.name}: claude says "${l.statusText}"; our findings: ${ours.findings.map((f) => f.code).join(', ') || 'none'}`);
        assert.ok(ours.enabled, `${l.name}: nobody turned it off, yet we say disabled`);
        if (ours.transport !== 'stdio') assert.ok(l.target.startsWith(ours.rawUrl ?? '?'), `${l.name}: claude shows ${l.target}, we have ${ours.rawUrl}`);
      }
      assert.equal(listed.find((l) => l.name === 'cc-project-http')?.status, 'pending-approval');
    });
  });

  describe('codex mcp add', () => {
    let home: string;
    const stdioSecret = minted('env');

    before(async () => {
      home = await makeSandboxHome();
      await codexMcpAdd(home, ['cx-http', '--url', 'https://mcp.example.test/c']);
      await codexMcpAdd(home, ['cx-bearer', '--url', 'https://mcp.example.test/b', '--bearer-token-env-var', 'LAB_CODEX_TOKEN']);
      await codexMcpAdd(home, ['cx-stdio', '--env', `API_KEY=${stdioSecret}`, '--', 'node', 'server.js']);
    });
    after(async () => {
      await fs.rm(home, { recursive: true, force: true });
    });

    it('reads every server from config.toml as `codex mcp list --json` shows it', async () => {
      const scan = await scanConfigs(environment(home, home), ['codex']);
      const file = path.join(home, '.codex', 'config.toml');
      const listed = await codexMcpListJson(home);
      assert.deepEqual(scan.servers.map((s) => s.name).sort(), listed.map((l) => l.name).sort());
      for (const l of listed) {
        const ours = one(scan, 'codex', l.name);
        assert.equal(ours.scope, 'user');
        assert.equal(ours.enabled, l.enabled, `${l.name}: enabled`);
        assert.equal(ours.transport, l.transport.type === 'stdio' ? 'stdio' : 'http', `${l.name}: transport ${l.transport.type}`);
        assert.equal(ours.url, l.transport.url ?? undefined, `${l.name}: url`);
        if (l.transport.type === 'stdio') assert.equal(ours.command, l.transport.command);
        await assertSourceIsEntry(ours, file);
      }
      assert.equal(one(scan, 'codex', 'cx-bearer').bearerTokenEnvVar, 'LAB_CODEX_TOKEN');
      assert.equal(one(scan, 'codex', 'cx-http').bearerTokenEnvVar, undefined);
      assert.equal(one(scan, 'codex', 'cx-stdio').storageKey, undefined);
      assert.ok(scan.files.includes(file));
    });
  });

  describe('storage keys against the keys the clients write after OAuth with the lab', () => {
    let lab: Lab;
    let home: string;
    let project: string;
    const headerValue = minted('hdr');
    const placeholderValue = minted('ph');

    before(async () => {
      lab = await startLab();
      home = await makeSandboxHome();
      project = path.join(home, 'work', 'proj');
      await fs.mkdir(project, { recursive: true });
    });
    after(async () => {
      await lab.close();
      await fs.rm(home, { recursive: true, force: true });
    });

    const claudeEntries = async (): Promise<Record<string, { serverName?: string; accessToken?: string; clientId?: string }>> => {
      const blob = JSON.parse(await fs.readFile(path.join(home, '.claude', '.credentials.json'), 'utf8'));
      return blob.mcpOAuth ?? {};
    };

    it('Claude Code: servers with headers, placeholders, sse and none get our key when claude records them while listing', async () => {
      await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'http', 'with-headers', lab.mcpUrl, '--header', `X-Lab-Key: ${headerValue}`, '--header', 'X-Lab-Team: interop']);
      await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'http', 'with-placeholder', lab.mcpUrl, '--header', 'X-Lab-Key: ${LAB_HEADER}']);
      await claudeMcpAdd(home, project, ['-s', 'user', '--transport', 'sse', 'over-sse', lab.mcpUrl]);
      await claudeMcpAdd(home, project, ['--transport', 'http', 'plain-local', lab.mcpUrl]);
      const extra = { LAB_HEADER: placeholderValue };
      const registrationsBefore = lab.registrations();
      const { servers: listed } = await claudeMcpList(home, project, { env: extra });
      for (const l of listed) assert.equal(l.status, 'needs-auth', `${l.name}: ${l.statusText}`);
      // 2.1.332 registers no client while listing (2.1.197 registered one per server): it defers
      // registration to login time and stores, per server, only what discovery found.
      const registersWhileListing = await claudeRegistersWhileListing();
      assert.equal(lab.registrations() - registrationsBefore, registersWhileListing ? 4 : 0, `claude ${await claudeVersion()} registered while listing`);

      const entries = await claudeEntries();
      const scan = await scanConfigs(environment(home, project, extra), ['claude-code']);
      for (const name of ['with-headers', 'with-placeholder', 'over-sse', 'plain-local']) {
        const ours = one(scan, 'claude-code', name);
        assert.ok(ours.storageKey, `${name}: we computed no storage key`);
        assert.ok(entries[ours.storageKey], `${name}: our key ${ours.storageKey} is not among claude's keys ${Object.keys(entries).join(', ')}`);
        assert.equal(entries[ours.storageKey]?.serverName, name);
        if (registersWhileListing) assert.ok(entries[ours.storageKey]?.clientId, `${name}: no client stored while listing`);
        else assert.equal(entries[ours.storageKey]?.clientId, undefined, `${name}: a client was stored while listing`);
      }
      // Four servers at one URL, four different keys: type and headers are part of the hash.
      assert.equal(new Set(scan.servers.map((s) => s.storageKey)).size, 4);
      assert.equal(Object.keys(entries).length, 4);
    });

    it('Claude Code: after claude mcp login (under a pty) the grant is under our key and claude reports Connected', async () => {
      const extra = { LAB_HEADER: placeholderValue };
      const started = Date.now();
      await claudeLogin(home, project, 'with-headers', lab, { env: extra });
      const loginMs = Date.now() - started;
      const scan = await scanConfigs(environment(home, project, extra), ['claude-code']);
      const key = one(scan, 'claude-code', 'with-headers').storageKey!;
      const entry = (await claudeEntries())[key];
      assert.ok(entry?.accessToken, `no access token under ${key} after login`);
      assert.ok(lab.clients().some((c) => c.clientId === entry.clientId), 'the grant belongs to a client the lab registered');
      const { servers } = await claudeMcpList(home, project, { env: extra });
      assert.equal(servers.find((s) => s.name === 'with-headers')?.status, 'connected');
      assert.equal(servers.find((s) => s.name === 'over-sse')?.status, 'needs-auth', 'the other servers stay logged out');
      assert.ok(loginMs < 30_000, `claude mcp login took ${loginMs} ms`);
    });

    it('Codex (file store): codex mcp add logs in at once, under our key', async () => {
      const added = await codexMcpAdd(home, ['cx-lab', '--url', lab.mcpUrl], { lab, store: 'file' });
      assert.equal(added.oauth, 'completed', added.run.stdout);
      const creds = JSON.parse(await fs.readFile(path.join(home, '.codex', '.credentials.json'), 'utf8')) as Record<string, { server_name?: string; access_token?: string }>;
      const scan = await scanConfigs(environment(home, project), ['codex']);
      const key = one(scan, 'codex', 'cx-lab').storageKey!;
      assert.ok(creds[key]?.access_token, `our key ${key} is not among codex's keys ${Object.keys(creds).join(', ')}`);
      assert.equal(creds[key]?.server_name, 'cx-lab');
      const listed = await codexMcpListJson(home, { store: 'file' });
      assert.equal(listed.find((l) => l.name === 'cx-lab')?.auth_status, 'o_auth');
      // Codex itself can use the grant: its app-server connects and lists the lab's tools.
      const status = (await codexAppServerStatus(home, { store: 'file' })).find((s) => s.name === 'cx-lab');
      assert.deepEqual(status?.tools, ['echo', 'whoami'], `app-server: ${status?.toolsError ?? 'no entry'}`);
    });

    it('Codex (keyring store): the Secret Service item is named by our key', async function () {
      const why = secretServiceUnavailable();
      if (why) this.skip();
      const secrets = await startPrivateSecretService();
      try {
        await fs.appendFile(path.join(home, '.codex', 'config.toml'), `\n[mcp_servers.cx-keyring]\nurl = "${lab.mcpUrl}"\n`);
        await codexLogin(home, 'cx-keyring', lab, { store: 'keyring', env: secrets.env });
        const scan = await scanConfigs(environment(home, project), ['codex']);
        const key = one(scan, 'codex', 'cx-keyring').storageKey!;
        const found = secrets.secretTool(['search', '--all', 'service', 'Codex MCP Credentials', 'username', key]);
        assert.match(found.stdout + found.stderr, new RegExp(`username = ${key.replace(/[|]/g, '\\|')}`), `no keyring item for ${key}`);
        const status = (await codexAppServerStatus(home, { store: 'keyring', env: secrets.env })).find((s) => s.name === 'cx-keyring');
        assert.deepEqual(status?.tools, ['echo', 'whoami'], `app-server: ${status?.toolsError ?? 'no entry'}`);
      } finally {
        await secrets.stop();
      }
    });
  });
});
