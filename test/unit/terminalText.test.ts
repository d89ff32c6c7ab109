import { strict as assert } from 'node:assert';
import { plainTerminalText } from '../../src/core/terminalText';

describe('plain text from a client terminal', () => {
  const url = 'http://127.0.0.1:33115/auth?response_type=code&code_challenge=abc&resource=http%3A%2F%2F127.0.0.1%3A41859%2Fmcp';

  it('reduces an OSC 8 hyperlink (as claude 2.1.332 prints the login URL) to its label', () => {
    for (const st of ['\u0007', '\u001b\\']) {
      const printed = `Visit this URL to authorize:\n  \u001b]8;;${url}${st}${url}\u001b]8;;${st}\n\nWaiting…`;
      const plain = plainTerminalText(printed);
      assert.equal(plain, `Visit this URL to authorize:\n  ${url}\n\nWaiting…`);
      assert.deepEqual(/https?:\/\/\S+[?&]code_challenge=\S+/.exec(plain)?.[0], url);
    }
  });

  it('keeps hyperlink parameters out of the text and drops colour codes', () => {
    assert.equal(plainTerminalText(`\u001b[32m✔ Connected\u001b[39m \u001b]8;id=7;${url}\u0007here\u001b]8;;\u0007`), '✔ Connected here');
  });

  it('leaves text without escapes alone', () => {
    assert.equal(plainTerminalText('lab: http://127.0.0.1:1/mcp (HTTP) - ✔ Connected'), 'lab: http://127.0.0.1:1/mcp (HTTP) - ✔ Connected');
  });
});
