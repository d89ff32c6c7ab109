// The guided OAuth flow panel in a real VS Code, on the demo sandbox's live labs
// (test/vscode/fixture.mjs startProbeSandbox). Opened from the tree row's inline action as a user
// would, and from a ServerRef; only the read-only steps run here (nothing is registered at a lab,
// nothing written): the verdicts are read both from the flow's state and from what the webview
// rendered, no stored token shows in either, and a screenshot of the panel is saved.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GuidedState } from '../../../../src/core/guided/flow';
import { fingerprint } from '../../../../src/core/storageKey';
import type { GuidedPanelHandle } from '../../../../src/vscode/guided/panel';
import { extensionApi, note, sandboxHome, waitFor } from '../helpers';
import { askUi, screenshotsInThemes, uiDriverAvailable, type UiView } from '../uiBridge';

const COMMAND = 'mcpAuth.guidedFlow';

async function open(ref: unknown): Promise<GuidedPanelHandle> {
  const handle = await vscode.commands.executeCommand<GuidedPanelHandle | undefined>(COMMAND, ref);
  assert.ok(handle, `the command opened no panel for ${JSON.stringify(ref)}`);
  return handle;
}

function step(state: GuidedState, id: string) {
  const s = state.steps.find((x) => x.id === id);
  assert.ok(s, `no step ${id}`);
  return s;
}

/** Every token-valued field of the sandbox's credential files (the demo minted them at start-up). */
function storedTokens(): string[] {
  const found: string[] = [];
  const walk = (v: unknown, key: string): void => {
    if (typeof v === 'string' && /token|secret/i.test(key)) found.push(v);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  for (const f of [path.join(sandboxHome(), '.claude', '.credentials.json'), path.join(sandboxHome(), '.codex', '.credentials.json')]) {
    walk(JSON.parse(fs.readFileSync(f, 'utf8')), '');
  }
  return found.filter((t) => t.length >= 16);
}

function leaks(text: string, secrets: string[]): string[] {
  return secrets.filter((s) => {
    for (let i = 0; i + 16 <= s.length; i++) if (text.includes(s.slice(i, i + 16))) return true;
    return false;
  }).map(fingerprint);
}

function guidedTabs(): string[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('mcpAuth.guidedFlow')).map((t) => t.label);
}

describe('the guided OAuth flow panel', function () {
  this.timeout(60_000);
  const credentialFiles = [path.join(sandboxHome(), '.claude', '.credentials.json'), path.join(sandboxHome(), '.codex', '.credentials.json')];
  let storesBefore: string[];
  let tokens: string[];

  before(async function () {
    this.timeout(60_000);
    // The tree's first probe has finished: the labs have answered once and the rows carry their states.
    await (await extensionApi()).rescan();
    storesBefore = credentialFiles.map((f) => fs.readFileSync(f, 'utf8'));
    tokens = storedTokens();
    assert.ok(tokens.length >= 12, `read only ${tokens.length} tokens from the sandbox`);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('opens from the inline action of a remote server row', async function () {
    if (!uiDriverAvailable()) this.skip();
    await askUi<UiView>('showView');
    // The first row named lab-notes is Claude Code's (the tree lists Claude Code first), near the top.
    const seen = await waitFor(async () => {
      const view = await askUi<UiView>('readView');
      return view.rows.some((r) => r.label === 'lab-notes') ? view : undefined;
    }, 15_000, 250);
    assert.ok(seen, 'no lab-notes row in the view');
    await askUi('clickRowAction', { label: 'lab-notes', action: 'Walk Through the OAuth Flow' });
    const tab = await waitFor(() => (guidedTabs().includes('OAuth Flow: lab-notes') ? true : undefined), 10_000, 100);
    assert.ok(tab, `no guided-flow tab after the click; tabs: ${guidedTabs().join(', ') || 'none'}`);
  });

  it('runs the read-only steps for Codex lab-fresh (nothing stored): discovery passes and the flow stops before the registration', async () => {
    const handle = await open({ client: 'codex', scope: 'user', name: 'lab-fresh' });
    const tab = await waitFor(() => (guidedTabs().includes('OAuth Flow: lab-fresh') ? true : undefined), 10_000, 100);
    assert.ok(tab, `no tab for lab-fresh; tabs: ${guidedTabs().join(', ')}`);
    assert.equal(await open({ client: 'codex', scope: 'user', name: 'lab-fresh' }), handle, 'a second open reveals the same panel');
    const started = Date.now();
    await handle.runReadOnly();
    const state = handle.state();
    note(`guided flow, read-only steps of lab-fresh: ${Date.now() - started} ms; ${state.steps.map((s) => `${s.number}:${s.status}/${s.verdict?.level ?? '-'}`).join(' ')}`);

    for (const id of ['unauthenticated-request', 'resource-metadata', 'authorization-server-metadata', 'client']) {
      const s = step(state, id);
      assert.equal(s.status, 'done', `${id}: ${s.status}`);
      assert.equal(s.verdict?.level, 'pass', `${id}: ${s.verdict?.summary}`);
      assert.ok(s.request && s.response && s.reference, `${id} lacks its request, response or reference`);
    }
    assert.match(step(state, 'unauthenticated-request').response ?? '', /^401 /);
    assert.match(step(state, 'client').verdict?.summary ?? '', /no client is stored or configured/);
    const registration = step(state, 'registration');
    assert.equal(registration.status, 'pending');
    assert.equal(state.next, 'registration');
    assert.match(registration.confirmation?.question ?? '', /^Register a new OAuth client at http:\/\/127\.0\.0\.1:\d+\/reg\?$/);

    // What the webview shows: the same statuses and verdicts, step by step. The first webview of a
    // fresh window loads its frame cold (one CI run on the loaded 2-core machine took over 10 s; the
    // ready handshake re-sends the state, so a late frame still gets it).
    const shown = await handle.rendered(30_000);
    assert.deepEqual(
      shown.map((s) => [s.id, s.status, s.verdict]),
      state.steps.map((s) => [s.id, s.status, s.verdict?.level ?? '']),
    );
    assert.equal(shown.find((s) => s.id === 'client')?.summary, step(state, 'client').verdict?.summary);

    assert.deepEqual(leaks(JSON.stringify(state) + JSON.stringify(shown), tokens), []);
    assert.deepEqual(credentialFiles.map((f) => fs.readFileSync(f, 'utf8')), storesBefore, 'no store was written');
  });

  it('saves screenshots of the panel in the dark, light and high-contrast themes', async function () {
    if (!uiDriverAvailable()) this.skip();
    await open({ client: 'codex', scope: 'user', name: 'lab-fresh' });
    await new Promise((r) => setTimeout(r, 500));
    const files = await screenshotsInThemes([
      [undefined, 'guided-flow'],
      ['Default Light Modern', 'guided-flow-light'],
      ['Default High Contrast', 'guided-flow-hc'],
    ]);
    assert.ok(files.every((f) => fs.statSync(f).size > 10_000), `screenshots: ${files.join(', ')}`);
    note(`guided flow screenshots: ${files.filter((f) => !f.endsWith('-sidebar.png')).join(', ')}`);
  });

  it('from a tree node, Claude Code lab-notes: the stored client is pre-checked and the registration is not asked for', async () => {
    // The tree passes its node ({kind: 'server', server}); the command takes the server's ref from it.
    // Under the UI driver the panel is the one the inline action opened (one panel per server).
    const handle = await open({ kind: 'server', server: { client: 'claude-code', scope: 'user', name: 'lab-notes' } });
    assert.equal(guidedTabs().filter((l) => l === 'OAuth Flow: lab-notes').length, 1);
    await handle.runReadOnly();
    const state = handle.state();
    const client = step(state, 'client');
    assert.equal(client.verdict?.level, 'pass', client.verdict?.summary);
    assert.ok(client.facts.some((f) => f.label === 'Stored client' && f.value !== 'none stored'), JSON.stringify(client.facts));
    assert.ok(client.exchanges.some((e) => e.method === 'GET'), 'the pre-check asked the authorization endpoint');
    const registration = step(state, 'registration');
    if (/is reused/.test(client.verdict?.summary ?? '')) {
      assert.equal(registration.status, 'skipped');
      assert.equal(state.next, 'authorization');
    } else {
      assert.equal(registration.status, 'pending');
      assert.equal(state.next, 'registration');
    }
    assert.ok(step(state, 'authorization').confirmation?.question.startsWith('Open your browser') || state.next === 'registration');
    assert.deepEqual(leaks(JSON.stringify(state), tokens), []);
    assert.deepEqual(credentialFiles.map((f) => fs.readFileSync(f, 'utf8')), storesBefore, 'no store was written');
  });

  it('Codex lab-misconfigured: the authorization-server step fails on the issuer mismatch and the login cannot start', async () => {
    const handle = await open({ client: 'codex', scope: 'user', name: 'lab-misconfigured' });
    await handle.runReadOnly();
    const state = handle.state();
    const as = step(state, 'authorization-server-metadata');
    assert.equal(as.verdict?.level, 'fail', as.verdict?.summary);
    assert.ok(as.findings.some((f) => f.code === 'probe.issuer-mismatch'), as.findings.map((f) => f.code).join(', '));
    assert.ok(as.findings.some((f) => f.code === 'probe.pkce-not-advertised'));
    const client = step(state, 'client');
    assert.equal(client.status, 'failed');
    assert.match(client.verdict?.summary ?? '', /issuer/i);
    assert.equal(state.next, 'client', 'only a retry of the failed step is offered');
    const shown = await handle.rendered();
    assert.equal(shown.find((s) => s.id === 'authorization-server-metadata')?.verdict, 'fail');
    assert.equal(shown.find((s) => s.id === 'client')?.status, 'failed');
  });

  it('refuses an argument that is not a server', async () => {
    assert.equal(await vscode.commands.executeCommand(COMMAND, { client: 'codex', name: 42 }), undefined);
    assert.equal(await vscode.commands.executeCommand(COMMAND, { client: 'codex', scope: 'user', name: 'no-such-server' }), undefined);
  });
});
