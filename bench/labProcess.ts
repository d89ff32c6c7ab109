// The benchmark's lab in its own process, so the servers' CPU time (oidc-provider, the MCP SDK,
// JWT checks) does not count against the probe's or the peer's. Prints one JSON line with the
// lab's URL and a freshly minted token (lab-made, loopback only), then serves until killed.
// Over the IPC channel (when spawned with one) it answers `{ id, op: 'stats' }` with the lab's
// counters, so the bench can count the requests and registrations each run caused.
import { z } from 'zod';
import { startLab } from '../test/lab/index';

/** What the parent may ask over IPC. */
const Request = z.object({ id: z.number(), op: z.literal('stats') });

export interface LabStats {
  /** Requests per path since start-up, MCP server and AS together (see test/lab/README.md). */
  mcpServer: Record<string, number>;
  authorizationServer: Record<string, number>;
  /** DCR registrations so far (mintTokens' own one included). */
  registrations: number;
  tokensIssued: number;
  mcp: { authorized: number; rejected: number; forbidden: number };
}

async function main(): Promise<void> {
  const latencyMs = Number(process.argv[2] ?? '0');
  const lab = await startLab({});
  const tokens = await lab.mintTokens();
  lab.configure({ latencyMs });
  process.on('message', (raw) => {
    const req = Request.safeParse(raw);
    if (!req.success) return;
    const stats: LabStats = { ...lab.requestsSeen(), registrations: lab.registrations(), tokensIssued: lab.tokensIssued(), mcp: lab.mcpRequests() };
    process.send?.({ id: req.data.id, stats });
  });
  process.stdout.write(JSON.stringify({ mcpUrl: lab.mcpUrl, issuer: lab.issuer, clientId: tokens.clientId, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresIn: tokens.expiresIn, scope: tokens.scope }) + '\n');
  const stop = () => void lab.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The parent went away without a signal (crash, kill -9): do not serve forever.
  process.on('disconnect', stop);
}

main().catch((err: unknown) => {
  console.error(`bench lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
