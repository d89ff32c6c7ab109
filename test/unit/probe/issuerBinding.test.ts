// How each client compares the issuer a grant is bound to with the one the server names now:
// Codex 0.171 exactly (issuer_binding.rs), Claude Code 2.1.332 up to one trailing slash (its
// bundled MCP SDK's SEP-2352 check). A wrong rule either hides a grant the client will not refresh
// or flags one it will.
import { strict as assert } from 'node:assert';
import { boundIssuerMatches } from '../../../src/core/probe/tokenJudgement';

describe('the issuer a grant is bound to, compared as each client compares it', () => {
  it('Codex: only the identical string matches (a trailing slash is another issuer)', () => {
    assert.equal(boundIssuerMatches('codex', 'https://as.example', 'https://as.example'), true);
    assert.equal(boundIssuerMatches('codex', 'https://as.example', 'https://as.example/'), false);
    assert.equal(boundIssuerMatches('codex', 'https://as.example/', 'https://as.example'), false);
    assert.equal(boundIssuerMatches('codex', 'https://as.example', 'https://AS.example'), false);
  });

  it('Claude Code: identical, or equal but for one trailing slash on either side; nothing looser', () => {
    assert.equal(boundIssuerMatches('claude-code', 'https://as.example', 'https://as.example/'), true);
    assert.equal(boundIssuerMatches('claude-code', 'https://as.example/', 'https://as.example'), true);
    assert.equal(boundIssuerMatches('claude-code', 'https://as.example//', 'https://as.example'), false);
    assert.equal(boundIssuerMatches('claude-code', 'https://as.example/t1', 'https://as.example/t2'), false);
    assert.equal(boundIssuerMatches('claude-code', 'https://as.example', 'https://AS.example'), false);
  });
});
