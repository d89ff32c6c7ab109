import { strict as assert } from 'node:assert';
import { describeToken, judgeToken } from '../../src/core/tokenStatus';
import type { CredentialSummary } from '../../src/core/credentials/store';

const store = { location: '/home/u/.claude/.credentials.json', kind: 'file' as const };
const now = Date.UTC(2026, 10, 22, 12, 0, 0);
const entry = (over: Partial<CredentialSummary>): CredentialSummary => ({
  key: 'lab|0273820822139ec6',
  hasAccessToken: true,
  accessTokenFingerprint: 'sha256:abcdefabcdef',
  hasRefreshToken: true,
  scopes: ['mcp:tools'],
  hasClientSecret: false,
  ...over,
});

describe('token judgement by stored expiry', () => {
  it('says missing when nothing is stored under the key', () => {
    const t = judgeToken(undefined, store, now);
    assert.equal(t.state, 'missing');
    assert.equal(describeToken(t, now), 'not logged in');
  });
  it('treats Claude Code’s stub (empty token, expiresAt 0) as registered but not logged in', () => {
    const t = judgeToken(entry({ hasAccessToken: false, accessTokenFingerprint: undefined, expiresAt: 0, clientId: 'c1' }), store, now);
    assert.equal(t.state, 'not-logged-in');
    assert.equal(t.expiresAt, null);
    assert.equal(describeToken(t, now), 'registered, not logged in');
  });
  it('says expired, with how long ago and whether a refresh token can save it', () => {
    const t = judgeToken(entry({ expiresAt: now - 3 * 3600_000 }), store, now);
    assert.equal(t.state, 'expired');
    assert.equal(describeToken(t, now), 'expired 3 h ago · refresh token present');
  });
  it('says expiring inside the margin and stored beyond it', () => {
    assert.equal(judgeToken(entry({ expiresAt: now + 60_000 }), store, now, 5 * 60_000).state, 'expiring');
    const later = judgeToken(entry({ expiresAt: now + 10 * 60_000 }), store, now, 5 * 60_000);
    assert.equal(later.state, 'stored');
    assert.equal(describeToken(later, now), 'token stored, expires in 10 min · refresh token present');
    const noExpiry = judgeToken(entry({ expiresAt: undefined, hasRefreshToken: false }), store, now);
    assert.equal(describeToken(noExpiry, now), 'token stored (no expiry) · no refresh token');
  });
});
