// The probe reads every stored access token to check it live; none of them, nor any refresh
// token, may show anywhere in the tree (label, description, tooltip), only their fingerprints.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fingerprint } from '../../../../src/core/storageKey';
import type { TreeSnapshotNode } from '../../../../src/vscode/serverTree';
import { extensionApi, sandboxHome } from '../helpers';
import { allNodes, plain, probedTree, serverNode } from './probeTree';

/** Every token-valued field of the sandbox's credential files, whatever the client calls it. */
function storedTokens(): string[] {
  const files = [path.join(sandboxHome(), '.claude', '.credentials.json'), path.join(sandboxHome(), '.codex', '.credentials.json')];
  const found: string[] = [];
  const walk = (v: unknown, key: string): void => {
    if (typeof v === 'string' && /token/i.test(key)) found.push(v);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  for (const f of files) walk(JSON.parse(fs.readFileSync(f, 'utf8')), '');
  return [...new Set(found)];
}

/** The token and the pieces of it a careless display would show: JWT payload and signature, or head and tail. */
function secretPieces(token: string): string[] {
  const parts = token.split('.');
  if (parts.length === 3) return [token, parts[1] ?? '', parts[2] ?? '', (parts[2] ?? '').slice(0, 12)];
  return [token, token.slice(0, 12), token.slice(-12)];
}

describe('tokens in the probed tree', () => {
  let tree: TreeSnapshotNode[];
  let tokens: string[];

  before(async function () {
    this.timeout(30_000);
    tree = await probedTree();
    tokens = storedTokens();
  });

  it('finds the tokens the demo stored: access and refresh token of each of the six logins', () => {
    // Claude Code: lab-notes, lab-expired, lab-expiring, lab-rejected, lab-step-up; Codex: lab-notes.
    assert.equal(tokens.length, 12, `read ${tokens.length} tokens from the sandbox's credential files`);
    assert.ok(tokens.every((t) => t.length >= 20), 'a token-named field holds something short');
  });

  it('shows no token, nor a piece of one, in any label, description or tooltip', () => {
    const nodes = allNodes(tree);
    assert.ok(nodes.length > 30, `the tree has only ${nodes.length} nodes`);
    const leaks: string[] = [];
    for (const node of nodes) {
      for (const [field, text] of [['label', node.label], ['description', node.description], ['tooltip', node.tooltip], ['tooltip as read', plain(node.tooltip)]] as const) {
        if (!text) continue;
        for (const t of tokens) {
          if (secretPieces(t).some((piece) => piece.length >= 12 && text.includes(piece))) leaks.push(`${node.label} ${field} shows ${fingerprint(t)}`);
        }
      }
    }
    assert.deepEqual(leaks, []);
  });

  it('names each checked token by its fingerprint instead', () => {
    const credentials = JSON.parse(fs.readFileSync(path.join(sandboxHome(), '.claude', '.credentials.json'), 'utf8')) as { mcpOAuth: Record<string, { serverName: string; accessToken: string }> };
    const entry = Object.values(credentials.mcpOAuth).find((e) => e.serverName === 'lab-rejected');
    assert.ok(entry, 'no stored login for lab-rejected');
    const server = serverNode(tree, 'Claude Code', 'lab-rejected');
    const shown = [server, ...server.children].map((n) => plain(n.tooltip)).join('\n');
    assert.ok(shown.includes(fingerprint(entry.accessToken)), `the tooltips of lab-rejected do not name ${fingerprint(entry.accessToken)}`);
  });

  it('the diagnostic report (Copy Diagnostic Report) names every lab server and holds no token or 16-character piece of one', async () => {
    const report = await (await extensionApi()).diagnosticReport();
    for (const name of ['lab-notes', 'lab-expired', 'lab-rejected', 'lab-misconfigured']) assert.ok(report.includes(name), `the report does not mention ${name}`);
    assert.match(report, /`token\.expired-refreshable`/);
    assert.match(report, /POST http:\/\/127\.0\.0\.1:\d+\/mcp → 401/, 'the discovery trace is in the report');
    const leaks = tokens.filter((t) => {
      for (let i = 0; i + 16 <= t.length; i++) if (report.includes(t.slice(i, i + 16))) return true;
      return false;
    });
    assert.deepEqual(leaks.map(fingerprint), []);
  });
});
