// Re-login from the editor: lab-rejected's token was revoked at the lab before its stored expiry.
// The modal says what the login replaces and that the browser opens the lab's authorization
// server; the login opens it with vscode.env.openExternal, which in this runner is the headless
// Chromium window itself (a new tab the lab approves without a page), waits on its loopback
// redirect, and stores the new tokens: the server is valid, every other entry unchanged.
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { RepairRun } from '../../../../src/vscode/repairs';
import { extensionApi, note } from '../helpers';
import { askUi, uiDriverAvailable } from '../uiBridge';
import { answerDialog, claudeKeyOf, clearNotifications, command, rawText, readClaudeStore, treeState, userRef } from './repairUi';

const ref = userRef('claude-code', 'lab-rejected');

/** What the UI driver's completeLogin saw (test/vscode/uiDriver.mjs). */
interface BrowserVisit {
  rewrittenByPortForwarding: boolean;
  origin: string;
  path: string;
  query: Record<string, string>;
  landed: string;
  page: string;
}

describe('re-login from the editor', function () {
  this.timeout(90_000);

  before(async function () {
    if (!uiDriverAvailable()) this.skip();
    await (await extensionApi()).rescan();
    assert.equal(await treeState('Claude Code', 'lab-rejected'), 'rejected', 'the demo stores a token the lab has revoked');
  });

  it('logs in through the browser: the rejected server is valid with a new token, nothing else changes', async () => {
    await clearNotifications();
    const before = readClaudeStore();
    const key = claudeKeyOf(before, 'lab-rejected');
    const old = before.data.mcpOAuth[key]!;
    const started = Date.now();
    // The command waits for the browser; the UI driver is the browser meanwhile.
    const [{ result, dialog }, browser] = await Promise.all([
      answerDialog(command<RepairRun>('mcpAuth.login', ref), 'Log In'),
      askUi<BrowserVisit>('completeLogin', { timeoutMs: 45_000 }, 60_000),
    ]);
    note('      login took %d ms (browser round trip included)', Date.now() - started);

    assert.equal(dialog.message, 'Log in to "lab-rejected" again for Claude Code?');
    assert.ok(dialog.detail.includes(`Entry: ${key}`), dialog.detail);
    assert.match(dialog.detail, /accessToken: sha256:[0-9a-f]{12} → new/);
    // Reuse when the AS still accepts the stored client at a redirect URI we can listen on, else one new registration.
    assert.match(dialog.detail, /clientId: (\S+ kept \(the stored client|\S+ → a new client registered at http:\/\/127\.0\.0\.1:\d+)/);
    assert.match(dialog.detail, /Your browser opens http:\/\/127\.0\.0\.1:\d+ to log in; MCP Auth Doctor waits on http:\/\/(127\.0\.0\.1|localhost):\d+ for the answer/);
    assert.ok(dialog.buttons.includes('Re-login with Claude Code instead'), dialog.buttons.join(', '));

    // What the browser was given, exactly as the core built it (the scope's space survived openExternal).
    const mcpUrl = String(old.serverUrl);
    note('      browser: %s%s (port-forwarding rewrite: %s) → %s', browser.origin, browser.path, browser.rewrittenByPortForwarding, browser.landed);
    assert.equal(browser.path, '/auth');
    assert.equal(browser.query.response_type, 'code');
    assert.equal(browser.query.code_challenge_method, 'S256');
    assert.equal(browser.query.resource, mcpUrl);
    assert.match(browser.query.scope ?? '', /^mcp:tools( offline_access)?$/);
    // Claude Code's own convention: http://localhost:<port>/callback.
    assert.match(browser.query.redirect_uri ?? '', /^http:\/\/(127\.0\.0\.1|localhost):\d+\/callback$/);
    assert.equal(browser.landed, new URL(browser.query.redirect_uri!).origin + new URL(browser.query.redirect_uri!).pathname);

    assert.ok(result.outcome?.ok, `login failed: ${JSON.stringify(result.outcome)}`);
    assert.equal(result.state, 'valid', 'the server takes the new token');
    assert.equal(await treeState('Claude Code', 'lab-rejected'), 'valid');
    const after = readClaudeStore();
    assert.notEqual(after.data.mcpOAuth[key]!.accessToken, old.accessToken, 'a new access token is stored');
    for (const k of Object.keys(before.data.mcpOAuth).filter((k) => k !== key)) {
      assert.equal(rawText(after.raw, ['mcpOAuth', k]), rawText(before.raw, ['mcpOAuth', k]), `entry ${k} changed`);
    }
    assert.equal(rawText(after.raw, ['claudeAiOauth']), rawText(before.raw, ['claudeAiOauth']), 'the Claude login changed');
  });

  it('in this remote window, a browser that cannot reach the callback: the address pasted into the box completes the login (F3)', async function () {
    // code-server is a remote window whose port forward is a /proxy/ path, not the loopback URL
    // the authorization server sends the browser to; a local window never shows the box.
    if (vscode.env.remoteName === undefined) this.skip();
    await clearNotifications();
    const before = readClaudeStore();
    const key = claudeKeyOf(before, 'lab-rejected');
    const old = before.data.mcpOAuth[key]!;
    const [{ result }, seen] = await Promise.all([
      answerDialog(command<RepairRun>('mcpAuth.login', ref), 'Log In'),
      askUi<{ title: string; prompt: string; pasted: string; answered: boolean }>('completeLoginByPaste', { timeoutMs: 45_000 }, 60_000),
    ]);
    note('      pasted %s into "%s"', seen.pasted, seen.title);
    assert.equal(seen.title, 'MCP Auth: log in to lab-rejected');
    assert.match(seen.prompt, /paste the address it ends on/);
    assert.match(seen.pasted, /^http:\/\/(127\.0\.0\.1|localhost):\d+\/callback$/);
    assert.ok(seen.answered, 'the pasted address carries the code');
    assert.ok(result.outcome?.ok, `login failed: ${JSON.stringify(result.outcome)}`);
    assert.equal(result.state, 'valid');
    assert.notEqual(readClaudeStore().data.mcpOAuth[key]!.accessToken, old.accessToken, 'a new access token is stored');
  });

  it('at a server that takes Client ID Metadata Documents only: logs in as Claude Code itself, registering nothing', async () => {
    await clearNotifications();
    const cimd = userRef('claude-code', 'lab-cimd');
    assert.equal(await treeState('Claude Code', 'lab-cimd'), 'not-logged-in', 'the demo leaves lab-cimd without a login');
    const before = readClaudeStore();
    const [{ result, dialog }, browser] = await Promise.all([
      answerDialog(command<RepairRun>('mcpAuth.login', cimd), 'Log In'),
      askUi<BrowserVisit>('completeLogin', { timeoutMs: 45_000 }, 60_000),
    ]);
    assert.match(dialog.detail, /clientId: none → https:\/\/claude\.ai\/oauth\/claude-code-client-metadata \(Claude Code's Client ID Metadata Document, as Claude Code itself logs in here; nothing is registered\)/);
    assert.equal(browser.query.client_id, 'https://claude.ai/oauth/claude-code-client-metadata', 'the browser carries the document URL as client_id');
    assert.ok(result.outcome?.ok, `login failed: ${JSON.stringify(result.outcome)}`);
    assert.equal(result.state, 'valid');
    assert.equal(await treeState('Claude Code', 'lab-cimd'), 'valid');
    const after = readClaudeStore();
    const entry = after.data.mcpOAuth[claudeKeyOf(after, 'lab-cimd')]!;
    assert.equal(entry.clientId, 'https://claude.ai/oauth/claude-code-client-metadata');
    for (const k of Object.keys(before.data.mcpOAuth)) assert.equal(rawText(after.raw, ['mcpOAuth', k]), rawText(before.raw, ['mcpOAuth', k]), `entry ${k} changed`);
  });
});
