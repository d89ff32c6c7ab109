// The clients' own login and logout commands we hand off to (a terminal, the CLI's advice, a
// plan's "do this instead"): the exact words, and none where the client has no command for the
// entry. Claude Code's `mcp login` knows only the servers of its own config files; a server from
// a `claude --mcp-config` file (our "dynamic" scope) is unknown to it, which the real client shows.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { scanConfigs } from '../../src/core/config/scan';
import { environmentFromProcess } from '../../src/core/environment';
import { clientLoginCommand, clientLogoutCommand, commandText } from '../../src/core/repair/processes';
import { CLAUDE_BIN, makeSandboxHome, sandboxEnv } from '../support/realClients';

describe("the clients' own login and logout commands", function () {
  this.timeout(60_000);
  let home: string;

  before(async () => {
    home = await makeSandboxHome('mad-cmds-');
  });
  after(async () => {
    await fs.rm(home, { recursive: true, force: true });
  });

  it('names the server for each client, with the Codex profile an entry comes from', () => {
    assert.equal(commandText(clientLoginCommand({ client: 'claude-code', name: 'linear', scope: 'user' })!), 'claude mcp login linear');
    assert.equal(commandText(clientLogoutCommand({ client: 'claude-code', name: 'linear', scope: 'project' })!), 'claude mcp logout linear');
    assert.equal(commandText(clientLoginCommand({ client: 'codex', name: 'docs', scope: 'user' })!), 'codex mcp login docs');
    assert.equal(commandText(clientLogoutCommand({ client: 'codex', name: 'docs', scope: 'user', profile: 'work' })!), 'codex --profile work mcp logout docs');
  });

  (existsSync(CLAUDE_BIN) ? it : it.skip)('the hand-off words are what the real claude takes: `mcp login [--no-browser] <name>`, `mcp logout <name>`', async () => {
    const help = (args: string[]) =>
      new Promise<string>((resolve) => {
        execFile(CLAUDE_BIN, [...args, '--help'], { cwd: home, env: sandboxEnv(home), timeout: 30_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
      });
    const login = await help(['mcp', 'login']);
    assert.match(login, /Usage: claude mcp login \[options\] <name>/);
    assert.match(login, /--no-browser\s/, 'the flag the remote-window hand-off adds');
    const logout = await help(['mcp', 'logout']);
    assert.match(logout, /Usage: claude mcp logout \[options\] <name>/);
    assert.doesNotMatch(logout, /--no-browser/);
    assert.deepEqual(clientLoginCommand({ client: 'claude-code', name: 'lab', scope: 'user' })?.args, ['mcp', 'login', 'lab']);
  });

  (existsSync(CLAUDE_BIN) ? it : it.skip)('has none for a Claude Code server from a --mcp-config file, which the real claude does not know', async () => {
    const project = path.join(home, 'project');
    await fs.mkdir(project, { recursive: true });
    const extra = path.join(project, 'team-mcp.json');
    await fs.writeFile(extra, JSON.stringify({ mcpServers: { 'team-docs': { type: 'http', url: 'http://127.0.0.1:9/mcp' } } }));
    const e = { ...environmentFromProcess([project]), home, env: sandboxEnv(home), extraConfigPaths: [extra] };
    const server = (await scanConfigs(e, ['claude-code'])).servers.find((s) => s.name === 'team-docs');
    assert.equal(server?.scope, 'dynamic');
    assert.equal(clientLoginCommand(server), undefined);
    assert.equal(clientLogoutCommand(server), undefined);
    // What `claude mcp login team-docs` would have told the user, run where the file is.
    const said = await new Promise<string>((resolve) => {
      execFile(CLAUDE_BIN, ['mcp', 'login', 'team-docs', '--no-browser'], { cwd: project, env: sandboxEnv(home), timeout: 30_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
    });
    assert.match(said, /No MCP server named "team-docs"/);
  });
});
