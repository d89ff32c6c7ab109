// The version core/clientVersions detects for the real clients (pinned: Claude Code 2.1.332,
// Codex 0.171.0; `npm run test:compat` points MAD_CLAUDE_BIN / MAD_CODEX_BIN at others) is the one
// their own `--version` printed, found the way a user's machine has them: on PATH.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { detectClientVersions, nodeVersionIo } from '../../src/core/clientVersions';
import { CLAUDE_BIN, CODEX_BIN, makeSandboxHome, sandboxEnv } from '../support/realClients';

describe('client versions of the real binaries', function () {
  this.timeout(60_000);

  it('the version we detect on PATH equals what `claude --version` and `codex --version` printed', async () => {
    const home = await makeSandboxHome();
    try {
      const PATH = [path.dirname(CLAUDE_BIN), path.dirname(CODEX_BIN), path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter);
      const env = sandboxEnv(home, { PATH });
      const printed: Record<string, string> = {
        'claude-code': execFileSync(CLAUDE_BIN, ['--version'], { env, encoding: 'utf8', timeout: 30_000 }),
        codex: execFileSync(CODEX_BIN, ['--version'], { env, encoding: 'utf8', timeout: 30_000 }),
      };
      // A sandbox HOME: no extension folders, so the binaries on PATH are all there is.
      const infos = await detectClientVersions(nodeVersionIo({ home, env, platform: process.platform, projectDirs: [home] }), ['claude-code', 'codex']);
      for (const info of infos) {
        const said = printed[info.client] ?? '';
        const want = /(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)/.exec(said)?.[1];
        assert.ok(want, `${info.client} printed ${JSON.stringify(said)}`);
        assert.equal(info.version, want, `${info.client}: ${JSON.stringify(info.installations)}`);
        assert.equal(info.source, 'path');
        assert.equal(info.installations[0]!.line, said.trim().split('\n')[0]);
      }
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});
