// Given the demo sandbox with its labs running (one lab server per probe state, tokens minted at
// start-up), the tree shows each server's probed state the way a user reads it: the state in the
// row's description, the reason among its finding children.
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { TreeSnapshotNode } from '../../../../src/vscode/serverTree';
import { clientNode, note } from '../helpers';
import { findingWithCode, plain, probedTree, serverNode } from './probeTree';

/**
 * server.remote.<state> once probed, `.refreshable` when a refresh token is stored (the Refresh
 * action's menus key on it); server.stdio for stdio; server.remote for a server never probed.
 */
const EXPECTED_CONTEXT: Record<'Claude Code' | 'Codex', Record<string, string>> = {
  'Claude Code': {
    'lab-notes': 'server.remote.valid.refreshable',
    'lab-expired': 'server.remote.expired.refreshable',
    'lab-expiring': 'server.remote.expiring.refreshable',
    'lab-rejected': 'server.remote.rejected.refreshable',
    'lab-step-up': 'server.remote.insufficient-scope.refreshable',
    'lab-no-metadata': 'server.remote.misconfigured',
    'lab-public': 'server.remote.no-auth-needed',
    'lab-hanging': 'server.remote.unreachable',
    'lab-cimd': 'server.remote.not-logged-in',
    // Dead loopback ports: refused at once.
    'ci-status': 'server.remote.unreachable',
    'docs-search': 'server.remote.unreachable',
    filesystem: 'server.stdio',
  },
  Codex: {
    'lab-notes': 'server.remote.valid.refreshable',
    'lab-fresh': 'server.remote.not-logged-in',
    'lab-misconfigured': 'server.remote.misconfigured',
    'lab-cimd': 'server.remote.not-logged-in',
    context7: 'server.stdio',
    // Disabled: listed, never probed.
    'old-tracker': 'server.remote',
  },
};

/** "<state words> — 127.0.0.1:<port> · user": the user's scope on a lab port. */
const onLab = (state: RegExp) => new RegExp(`^${state.source} — 127\\.0\\.0\\.1:\\d+ · user$`);

describe('the probed tree on the demo sandbox', () => {
  let tree: TreeSnapshotNode[];
  let probeMs: number;
  const timeoutSeconds = vscode.workspace.getConfiguration('mcpAuthDoctor').get<number>('probe.timeoutSeconds', 5);

  before(async function () {
    // The hanging lab holds the probe for one timeout; the rest answers on loopback in ms.
    this.timeout(timeoutSeconds * 1000 + 20_000);
    const started = Date.now();
    tree = await probedTree();
    probeMs = Date.now() - started;
    note('      scan and probe: %d ms (probe timeout %d s)', probeMs, timeoutSeconds);
  });

  it('runs with the 2 s probe timeout from the workspace settings', () => {
    assert.equal(timeoutSeconds, 2, 'test/vscode/fixture.mjs writes mcpAuthDoctor.probe.timeoutSeconds = 2 into .vscode/settings.json');
  });

  it('shows every server with the state its lab was set up for', () => {
    const seen: Record<string, Record<string, string | undefined>> = {};
    for (const client of ['Claude Code', 'Codex'] as const) {
      const node = clientNode(tree, client);
      assert.ok(node, `no ${client} node`);
      seen[client] = Object.fromEntries(node.children.map((s) => [s.label, s.contextValue]));
    }
    assert.deepEqual(seen, EXPECTED_CONTEXT);
  });

  it('describes valid logins with their expiry, for Claude Code and Codex', () => {
    for (const client of ['Claude Code', 'Codex'] as const) {
      const s = serverNode(tree, client, 'lab-notes');
      assert.match(s.description ?? '', onLab(/valid, expires in \d+ min · refresh token present/), `${client} lab-notes`);
    }
  });

  it('folds the probe\'s notes (nothing to fix) under one collapsed row, so a healthy server shows no finding rows', () => {
    const s = serverNode(tree, 'Claude Code', 'lab-notes');
    assert.deepEqual(s.children.map((c) => c.contextValue), ['notes'], `children: ${s.children.map((c) => c.label).join(' | ')}`);
    const notes = s.children[0]!;
    assert.match(notes.label, /^\d+ notes$/);
    // The lab's AS is on another origin and offers only DCR: both are notes, both are in there.
    assert.ok(findingWithCode(s, 'probe.authorization-server-other-origin'), 'no other-origin note');
    assert.ok(findingWithCode(s, 'probe.dcr-only'), 'no dcr-only note');
    assert.ok(notes.children.every((c) => /\bprobe\.[a-z-]+$/.test(plain(c.tooltip).trimEnd())), 'a non-probe finding was folded');
    // A server with a real problem keeps it in sight, above the notes.
    const rejected = serverNode(tree, 'Claude Code', 'lab-rejected');
    assert.equal(rejected.children[0] && plain(rejected.children[0].tooltip).trimEnd().endsWith('token.rejected'), true, `lab-rejected children: ${rejected.children.map((c) => c.label).join(' | ')}`);
  });

  it('says an expired token expired how long ago and that a refresh token is present', () => {
    const s = serverNode(tree, 'Claude Code', 'lab-expired');
    assert.match(s.description ?? '', onLab(/expired \d+ (s|min) ago · refresh token present/));
    const f = findingWithCode(s, 'token.expired-refreshable');
    assert.ok(f, `no token.expired-refreshable child; children: ${s.children.map((c) => c.label).join(' | ')}`);
    assert.match(f.label, /^Expired \d+ (s|min) ago; a refresh token is stored$/);
  });

  it('warns about a token that expires within the margin, though the server takes it', () => {
    const s = serverNode(tree, 'Claude Code', 'lab-expiring');
    assert.match(s.description ?? '', onLab(/expires in \d+ (s|min) · refresh token present/));
    assert.ok(findingWithCode(s, 'token.expiring'), 'no token.expiring child');
  });

  it('says the server rejects a token revoked before its stored expiry', () => {
    const s = serverNode(tree, 'Claude Code', 'lab-rejected');
    assert.match(s.description ?? '', onLab(/rejected by the server · refresh token present/));
    const f = findingWithCode(s, 'token.rejected');
    assert.equal(f?.label, 'The server rejects the stored token');
    assert.match(plain(f?.tooltip), /→ 401/, 'the tooltip shows the 401 the server answered');
  });

  it('names the missing scope of a step-up server among the finding children', () => {
    const s = serverNode(tree, 'Claude Code', 'lab-step-up');
    assert.match(s.description ?? '', onLab(/token lacks a scope the server wants/));
    const f = findingWithCode(s, 'token.insufficient-scope');
    assert.ok(f, `no token.insufficient-scope child; children: ${s.children.map((c) => c.label).join(' | ')}`);
    assert.equal(f.label, 'The token lacks scope the server wants: mcp:admin');
    assert.match(plain(f.tooltip), /token scopes: mcp:tools/);
  });

  it('says "not logged in" for a Codex server with nothing stored', () => {
    const s = serverNode(tree, 'Codex', 'lab-fresh');
    assert.match(s.description ?? '', onLab(/not logged in/));
    assert.ok(findingWithCode(s, 'token.not-logged-in'), 'no token.not-logged-in child');
  });

  it('shows why a server is misconfigured: its issuer mismatch and missing PKCE field', () => {
    const s = serverNode(tree, 'Codex', 'lab-misconfigured');
    assert.match(s.description ?? '', onLab(/misconfigured · The metadata's issuer is http:\/\/localhost:\d+, not http:\/\/127\.0\.0\.1:\d+/));
    const issuer = findingWithCode(s, 'probe.issuer-mismatch');
    assert.ok(issuer, `no probe.issuer-mismatch child; children: ${s.children.map((c) => c.label).join(' | ')}`);
    assert.match(issuer.label, /^The metadata's issuer is http:\/\/localhost:\d+, not http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(plain(issuer.tooltip), /RFC 8414 §3\.3/, 'the tooltip cites the rule');
    assert.equal(findingWithCode(s, 'probe.pkce-not-advertised')?.label, 'The authorization server does not say it supports PKCE');
    // Codex checks the issuer strictly (src/core/probe/verdict.ts): the server tooltip says so.
    assert.match(plain(s.tooltip), /Client verdicts: .*Codex: fails/);
  });

  it('shows a server without protected-resource metadata as misconfigured, with the URLs it tried', () => {
    const s = serverNode(tree, 'Claude Code', 'lab-no-metadata');
    assert.match(s.description ?? '', onLab(/misconfigured · No protected-resource metadata \(RFC 9728\) was found/));
    const f = findingWithCode(s, 'probe.resource-metadata-missing');
    assert.ok(f, 'no probe.resource-metadata-missing child');
    assert.match(plain(f.tooltip), /\/\.well-known\/oauth-protected-resource\/mcp → 404/);
  });

  it('says a public server needs no login', () => {
    const s = serverNode(tree, 'Claude Code', 'lab-public');
    assert.match(s.description ?? '', onLab(/no login needed/));
  });

  it('marks the hanging server unreachable after one probe timeout, not later', () => {
    const s = serverNode(tree, 'Claude Code', 'lab-hanging');
    assert.match(s.description ?? '', onLab(/unreachable · not logged in/));
    const f = findingWithCode(s, 'probe.timeout');
    assert.ok(f, `no probe.timeout child; children: ${s.children.map((c) => c.label).join(' | ')}`);
    assert.equal(f.label, 'The MCP endpoint of "lab-hanging" did not answer in time');
    assert.match(plain(f.tooltip), new RegExp(`within ${timeoutSeconds} s`));
    const ms = Number(/probed in (\d+) ms/.exec(plain(s.tooltip))?.[1]);
    note('      lab-hanging probed in %d ms', ms);
    assert.ok(ms >= timeoutSeconds * 1000 - 100 && ms < timeoutSeconds * 1000 + 1500, `probed in ${ms} ms; the timeout is ${timeoutSeconds} s`);
    // The whole rescan waited for that one timeout, not one per request.
    assert.ok(probeMs < timeoutSeconds * 1000 + 8_000, `scan and probe took ${probeMs} ms`);
  });

  it('keeps the broken ancestor .mcp.json as a located config problem', () => {
    const problems = tree.find((n) => n.label === 'Config problems');
    assert.ok(problems, `no Config problems node; top level: ${tree.map((n) => n.label).join(', ')}`);
    assert.ok(
      problems.children.some((f) => f.description === '.mcp.json:3'),
      `children: ${problems.children.map((f) => `${f.label} (${f.description})`).join(' | ')}`,
    );
  });
});
