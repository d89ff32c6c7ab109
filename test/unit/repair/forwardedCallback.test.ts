// Our login in a remote window (failure mode F3): the browser is on the user's machine, the
// loopback callback on the remote host. VS Code forwards the port when asked (asExternalUri);
// the user is told only when the forward is not where the authorization server sends the browser.
import { strict as assert } from 'node:assert';
import { forwardedCallbackNote } from '../../../src/core/repair/loopbackRedirect';

describe('the loopback callback in a remote window', () => {
  const redirect = 'http://127.0.0.1:45123/callback';

  it('says nothing in a local window, or when the forward keeps the loopback port (Remote-SSH, WSL)', () => {
    assert.equal(forwardedCallbackNote(redirect, 'http://127.0.0.1:45123/', undefined, 'Re-login with Codex'), undefined);
    assert.equal(forwardedCallbackNote(redirect, 'http://localhost:45123/', 'ssh-remote', 'Re-login with Codex'), undefined);
    assert.equal(forwardedCallbackNote(redirect, 'http://[::1]:45123/', 'wsl', undefined), undefined);
  });

  it('names the forward and the hand-off when the browser would land elsewhere (code-server proxy, another port)', () => {
    // What code-server 4.139.1 answers for http://127.0.0.1:45123 (seen in the host suite).
    const proxied = forwardedCallbackNote(redirect, 'http://127.0.0.1:36013/proxy/45123/', '127.0.0.1:36013', 'Re-login with Codex');
    assert.equal(
      proxied,
      'this window runs on a remote host (127.0.0.1:36013): the browser returns to http://127.0.0.1:45123, which VS Code reaches only as http://127.0.0.1:36013/proxy/45123; if the browser cannot open http://127.0.0.1:45123, cancel and use "Re-login with Codex" (its --no-browser login takes the pasted address)',
    );
    assert.match(forwardedCallbackNote(redirect, 'http://localhost:50001/', 'dev-container', undefined) ?? '', /reaches only as http:\/\/localhost:50001; .* log in with the client itself/);
  });
});
