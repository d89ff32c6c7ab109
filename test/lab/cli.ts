// Starts the lab on its own until Ctrl+C, for the demo and for poking at it by hand:
//   node --import tsx test/lab/cli.ts [--json] [--verbose] [--access-token-ttl SECONDS] [--no-rotation] [--opaque]
// --json prints one line `{"mcpUrl":...,"issuer":...,"protectedResourceMetadataUrl":...}` for a
// parent process to read; otherwise it prints the URLs and how to add the server to each client.
import { parseArgs } from 'node:util';
import { startLab } from './index';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'access-token-ttl': { type: 'string' },
      'no-rotation': { type: 'boolean', default: false },
      opaque: { type: 'boolean', default: false },
    },
  });
  const ttl = values['access-token-ttl'] === undefined ? undefined : Number(values['access-token-ttl']);
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) throw new Error('--access-token-ttl takes a positive number of seconds');
  const lab = await startLab({
    accessTokenTtl: ttl,
    rotateRefreshTokens: !values['no-rotation'],
    accessTokenFormat: values.opaque ? 'opaque' : 'jwt',
    log: values.verbose ? (line) => console.error(line) : undefined,
  });
  if (values.json) {
    console.log(JSON.stringify({ mcpUrl: lab.mcpUrl, issuer: lab.issuer, protectedResourceMetadataUrl: lab.protectedResourceMetadataUrl }));
  } else {
    console.log(`MCP server:            ${lab.mcpUrl}`);
    console.log(`Authorization server:  ${lab.issuer}`);
    console.log(`Resource metadata:     ${lab.protectedResourceMetadataUrl}`);
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
