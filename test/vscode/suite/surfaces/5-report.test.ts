// After passes with real lab tokens (stored, sent in live checks, refreshed and rotated), the
// diagnostic report on the clipboard and the "MCP Auth" log hold what a bug report needs and none
// of those tokens, whole or as any 16-character piece.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { fingerprint } from '../../../../src/core/storageKey';
import { EXTENSION_ID, extensionApi, note, waitFor } from '../helpers';
import { leakedIn, logFile, rememberTokens } from './lab';

/** Kept in .test-output/ for a person to read (checked above to hold no token). */
function keep(name: string, text: string): void {
  const root = vscode.extensions.getExtension(EXTENSION_ID)?.extensionPath;
  if (!root) return;
  fs.mkdirSync(path.join(root, '.test-output'), { recursive: true });
  fs.writeFileSync(path.join(root, '.test-output', name), text);
}

describe('the diagnostic report and the log', function () {
  this.timeout(30_000);
  let tokens: Set<string>;

  before(async () => {
    await (await extensionApi()).rescan();
    tokens = rememberTokens();
  });

  it('has seen the tokens of every login so far (the refresh rotated lab-expired\'s)', () => {
    // Three logins at the start, lab-expired refreshed once, lab-soon re-minted once: 2 tokens each.
    assert.ok(tokens.size >= 10, `only ${tokens.size} tokens collected`);
  });

  it('Copy Diagnostic Report puts the report on the clipboard: versions, servers, states, findings, the trace', async () => {
    await vscode.env.clipboard.writeText('');
    await vscode.commands.executeCommand('mcpAuth.copyReport');
    const report = await vscode.env.clipboard.readText();
    assert.match(report, /^# MCP Auth Doctor diagnostic report/);
    assert.match(report, new RegExp(`MCP Auth Doctor \\d+\\.\\d+\\.\\d+, .*${vscode.version.replace(/\./g, '\\.')}`));
    assert.match(report, /^- Client versions: Claude Code .+; Codex .+$/m);
    for (const name of ['lab-expired', 'lab-valid', 'lab-soon']) assert.ok(report.includes(name), `the report does not mention ${name}`);
    assert.match(report, /\| lab-soon \| http \| 127\.0\.0\.1:\d+ · user \| expired \d+ s ago · refresh token present \|/);
    assert.match(report, /`token\.expired-refreshable`/);
    assert.match(report, /POST http:\/\/127\.0\.0\.1:\d+\/mcp → 401/, 'the discovery trace');
    assert.match(report, /GET http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource/);
    const leaks = leakedIn(report, tokens);
    assert.deepEqual(leaks.map(fingerprint), [], 'tokens in the report');
    assert.doesNotMatch(report, /[Bb]earer [A-Za-z0-9]/, 'an Authorization header value');
    keep('surfaces-report.md', report);
  });

  it('the log holds each pass, each probe and exchange, the timer and no token', async () => {
    const api = await extensionApi();
    const file = await waitFor(() => logFile(api.logDir), 5000);
    assert.ok(file, `no "MCP Auth" log file near ${api.logDir}`);
    const log = fs.readFileSync(file.value, 'utf8');
    assert.match(log, /\[info\] pass \(activation\): stored state only, nothing sent/);
    assert.match(log, /\[info\] pass \([^)]*view opened[^)]*\): probed in \d+ ms/);
    assert.match(log, /\[info\] probe lab-expired \(Claude Code, user\): expired in \d+ ms/);
    assert.match(log, /\[info\] {3}mcp: POST http:\/\/127\.0\.0\.1:\d+\/mcp → 401 .*\(\d+ ms\)/);
    assert.match(log, /\[info\] pass \(expiry timer\)/);
    assert.match(log, /next expiry check at \d{4}-/);
    const leaks = leakedIn(log, tokens);
    assert.deepEqual(leaks.map(fingerprint), [], 'tokens in the log');
    assert.doesNotMatch(log, /authorization: |[Bb]earer [A-Za-z0-9]/i, 'a header value in the log');
    keep('surfaces-log.txt', log);
    note('      log: %d lines in %s', log.split('\n').length, path.basename(file.value));
  });
});
