// The Environment the config-reader tests scan: a home, one project and a managed file, all under
// a temporary root, with no real environment variables leaking in.
import * as path from 'node:path';
import type { Environment } from '../../src/core/environment';

export function sandboxEnvironment(root: string, over: Partial<Environment> = {}): Environment {
  return {
    home: path.join(root, 'home'),
    env: {},
    platform: 'linux',
    projectDirs: [path.join(root, 'work', 'app')],
    managedMcpPath: path.join(root, 'etc', 'managed-mcp.json'),
    ...over,
  };
}
