// The benchmark's lab in its own process, so the servers' CPU time (oidc-provider, the MCP SDK,
// JWT checks) does not count against the probe's. Prints one JSON line with the lab's URL and a
// freshly minted token (lab-made, loopback only), then serves until killed.
import { startLab } from '../test/lab/index';

async function main(): Promise<void> {
  const latencyMs = Number(process.argv[2] ?? '0');
  const lab = await startLab({});
  const tokens = await lab.mintTokens();
  lab.configure({ latencyMs });
  process.stdout.write(JSON.stringify({ mcpUrl: lab.mcpUrl, clientId: tokens.clientId, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, scope: tokens.scope }) + '\n');
  const stop = () => void lab.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(`bench lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
