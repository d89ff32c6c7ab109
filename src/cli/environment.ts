// The CLI honours HOME, CLAUDE_CONFIG_DIR and CODEX_HOME from its environment, and --cwd for
// the project whose local and project scopes to read.
import * as os from 'node:os';
import * as path from 'node:path';
import type { Environment } from '../core/environment';
import type { CliIo } from './io';

export function cliEnvironment(io: CliIo, cwd: string | undefined): Environment {
  return {
    home: io.env.HOME || io.env.USERPROFILE || os.homedir(),
    env: io.env,
    platform: process.platform,
    projectDirs: [path.resolve(io.cwd, cwd ?? '.')],
  };
}
