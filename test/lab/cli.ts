// Starts the lab on its own until Ctrl+C, for the demo and for poking at it by hand:
//   node --import tsx test/lab/cli.ts [--json] [--verbose] [--access-token-ttl SECONDS] [--no-rotation] [--opaque]
//                                     [--behaviour key=value]...
// --behaviour sets one LabBehaviour field (behaviour.ts); the value is JSON when it parses as JSON
// (`requiredScope=mcp:admin`, `issueRefreshTokens=false`, `scopes=["a","b"]`), else a string.
// --json prints one line `{"mcpUrl":...,"issuer":...,"protectedResourceMetadataUrl":...,"canary":...}`
// for a parent process to read; otherwise it prints the URLs and how to add the server to each client.
import { parseArgs } from 'node:util';
import { LabBehaviourPatch } from './behaviour';
import { startLab } from './index';

/** `key=value` flags into one checked behaviour patch; a bad key or value names the flag. */
function parseBehaviourFlags(flags: string[]): LabBehaviourPatch {
  const patch: Record<string, unknown> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new Error(`--behaviour ${flag}: expected key=value`);
    const raw = flag.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // not JSON: the string itself
    }
    patch[flag.slice(0, eq)] = value;
  }
  const parsed = LabBehaviourPatch.safeParse(patch);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path[0] ?? (issue && 'keys' in issue ? String(issue.keys) : '');
    throw new Error(`--behaviour ${String(key)}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'access-token-ttl': { type: 'string' },
      'no-rotation': { type: 'boolean', default: false },
      opaque: { type: 'boolean', default: false },
      behaviour: { type: 'string', multiple: true, default: [] },
    },
  });
  const patch = parseBehaviourFlags(values.behaviour);
  const ttl = values['access-token-ttl'] === undefined ? undefined : Number(values['access-token-ttl']);
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) throw new Error('--access-token-ttl takes a positive number of seconds');
  const lab = await startLab({
    accessTokenTtl: ttl,
    rotateRefreshTokens: values['no-rotation'] ? false : undefined,
    accessTokenFormat: values.opaque ? 'opaque' : undefined,
    ...patch,
    log: values.verbose ? (line) => console.error(line) : undefined,
  });
  if (values.json) {
    console.log(JSON.stringify({ mcpUrl: lab.mcpUrl, issuer: lab.issuer, protectedResourceMetadataUrl: lab.protectedResourceMetadataUrl, canary: lab.canary.origin }));
  } else {
    console.log(`MCP server:            ${lab.mcpUrl}`);
    console.log(`Authorization server:  ${lab.issuer}`);
    console.log(`Resource metadata:     ${lab.protectedResourceMetadataUrl}`);
    console.log(`Canary (no tokens!):   ${lab.canary.origin}`);
    if (Object.keys(patch).length) console.log(`Behaviour:             ${JSON.stringify(patch)}`);
    console.log('Every authorization request is approved without a page (account "lab-user").');
    console.log(`  claude mcp add --transport http lab ${lab.mcpUrl}`);
    console.log(`  codex mcp add lab --url ${lab.mcpUrl}`);
    console.log('Ctrl+C stops the lab.');
  }
  const stop = () => {
    void lab.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
