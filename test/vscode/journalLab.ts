// The "journal" suite's sandbox: one live loopback lab and three MCP servers that the real Claude
// Code (node_modules/.bin/claude) logs in to with its own `claude mcp login` (its own DCR, its own
// store format), plus the user's Claude login (`claudeAiOauth`, random, made here) beside them, so
// the suite can destroy the store the ways users lose it and check that the restored grants are
// the ones the real client connects with. Tokens exist only in the sandbox.
//   node --import tsx test/vscode/journalLab.ts <root>
// Prints one JSON line when ready ({home, workspace}); runs until SIGTERM.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startLab } from '../lab/index';
import { claudeLogin, claudeMcpAdd, claudeMcpList } from '../support/realClients';

/** What test/vscode/fixture.mjs reads from the ready line. */
export interface JournalReady {
  home: string;
  workspace: string;
}

export const JOURNAL_LAB_SERVERS = ['lab-alpha', 'lab-beta', 'lab-gamma'] as const;

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o600 });
}

async function main(root: string): Promise<void> {
  const lab = await startLab({});
  const home = path.join(root, 'home');
  const workspace = path.join(root, 'workspace', 'journal-app');
  for (const d of ['.config', '.cache', '.local/share', '.local/state']) fs.mkdirSync(path.join(home, d), { recursive: true });
  fs.mkdirSync(path.join(home, '.run'), { recursive: true, mode: 0o700 });
  fs.mkdirSync(workspace, { recursive: true });
  write(path.join(workspace, 'README.md'), '# journal-app\n');
  // Codex reads no keyring here (test machines have no Secret Service): its file store.
  write(path.join(home, '.codex', 'config.toml'), 'mcp_oauth_credentials_store = "file"\n');
  for (const name of JOURNAL_LAB_SERVERS) {
    await claudeMcpAdd(home, workspace, ['-s', 'user', '--transport', 'http', name, lab.mcpUrl], { timeoutMs: 30_000 });
    await claudeLogin(home, workspace, name, lab, { timeoutMs: 60_000 });
  }
  const store = path.join(home, '.claude', '.credentials.json');
  const blob = JSON.parse(fs.readFileSync(store, 'utf8')) as Record<string, unknown>;
  blob.claudeAiOauth = {
    accessToken: randomBytes(32).toString('base64url'),
    refreshToken: randomBytes(32).toString('base64url'),
    expiresAt: Date.now() + 8 * 3600_000,
    scopes: ['user:inference'],
  };
  write(store, JSON.stringify(blob, null, 2));
  // The logins work before the suite starts: a test that later sees "Connected" sees the restore's doing.
  const listed = await claudeMcpList(home, workspace, { timeoutMs: 60_000 });
  const notConnected = JOURNAL_LAB_SERVERS.filter((n) => listed.servers.find((s) => s.name === n)?.status !== 'connected');
  if (notConnected.length) throw new Error(`journal lab: claude mcp list does not say Connected for ${notConnected.join(', ')}`);
  write(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'mcpAuthDoctor.probe.timeoutSeconds': 5 }, null, 2) + '\n');

  const ready: JournalReady = { home, workspace };
  process.stdout.write(JSON.stringify(ready) + '\n');
  const stop = () => {
    void lab.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

const root = process.argv[2];
if (!root) {
  console.error('usage: node --import tsx test/vscode/journalLab.ts <root>');
  process.exit(2);
}
main(root).catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exit(1);
});
