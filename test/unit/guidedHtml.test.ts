// The guided-flow panel's page (src/vscode/guided/html.ts) and the messages its webview may send
// (messages.ts): the page loads nothing and runs only its nonce'd script, text from servers is
// escaped wherever it lands, every control has a name a screen reader can say, and every button
// sends a message the extension accepts, while anything else the page might send is dropped.
import { strict as assert } from 'node:assert';
import type { GuidedState } from '../../src/core/guided/flow';
import { GUIDED_STEPS, type StepRecord } from '../../src/core/guided/steps';
import { announcement, renderBody, renderPage } from '../../src/vscode/guided/html';
import { parseWebviewMessage } from '../../src/vscode/guided/messages';

const HOSTILE = `<img src=x onerror="alert(1)"><script>alert(2)</script>"'&`;

function state(patch: (steps: StepRecord[]) => void = () => undefined): GuidedState {
  const steps: StepRecord[] = GUIDED_STEPS.map((s, i) => ({ id: s.id, number: i + 1, title: s.title, effect: s.effect, status: 'pending', reference: s.reference, facts: [], exchanges: [], findings: [] }));
  patch(steps);
  return {
    server: { name: `lab ${HOSTILE}`, client: 'codex', clientLabel: 'Codex', scope: 'user', url: 'http://127.0.0.1:4000/mcp', storageKey: 'lab|0123456789abcdef', store: '/home/u/.codex/.credentials.json' },
    steps,
    next: steps.find((s) => s.status === 'pending')?.id ?? 'save',
    finished: false,
  };
}

/** A state where a server's answers carry markup everywhere a record has text. */
function hostileState(): GuidedState {
  return state((steps) => {
    const [s1, s2] = steps;
    Object.assign(s1!, {
      status: 'done',
      verdict: { level: 'fail', summary: HOSTILE },
      request: `POST ${HOSTILE}`,
      response: `401 ${HOSTILE}`,
      facts: [{ label: HOSTILE, value: HOSTILE }],
      exchanges: [{ direction: 'outgoing', method: 'POST', url: `http://127.0.0.1/${HOSTILE}`, requestHeaders: { [HOSTILE]: HOSTILE }, requestBody: HOSTILE, status: 401, responseHeaders: { 'www-authenticate': HOSTILE }, responseBody: HOSTILE, outcome: 'http-error', ms: 3 }],
      findings: [{ code: 'probe.challenge-malformed', severity: 'warning', title: HOSTILE, detail: HOSTILE, evidence: [HOSTILE], reference: HOSTILE }],
    } satisfies Partial<StepRecord>);
    Object.assign(s2!, { confirmation: { question: HOSTILE, changes: [HOSTILE], warnings: [HOSTILE], action: 'Register' } } satisfies Partial<StepRecord>);
  });
}

describe('the guided-flow page', () => {
  it('loads nothing and runs only its own script: a nonce CSP, no remote URL, no inline handler', () => {
    const nonce = 'bm9uY2Utb2YtdGhpcy10ZXN0';
    const page = renderPage({ nonce, cspSource: 'https://file+.vscode-resource.vscode-cdn.net', title: 'Guided OAuth flow: lab', body: renderBody(hostileState()) });
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page)?.[1];
    assert.ok(csp, 'no CSP meta');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'(;|$)`));
    assert.match(csp, new RegExp(`style-src 'nonce-${nonce}'(;|$)`));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.deepEqual(page.match(/<script[^>]*>/g), [`<script nonce="${nonce}">`], 'one script element, with the nonce');
    assert.deepEqual(page.match(/<style[^>]*>/g), [`<style nonce="${nonce}">`]);
    // Real tags only: escaped text holds no `<`.
    const tags = page.match(/<[a-z][^>]*>/gi) ?? [];
    assert.ok(tags.length > 50);
    assert.deepEqual(tags.filter((t) => /^<(link|iframe|img|object|embed|form|base|meta http-equiv="refresh")\b/i.test(t)), [], 'no element that loads or submits anything');
    assert.deepEqual(tags.filter((t) => /\s(src|href|action|formaction)=/i.test(t)), [], 'no attribute that loads anything');
    assert.deepEqual(tags.filter((t) => /\son[a-z]+=/i.test(t)), [], 'no inline event handler');
  });

  it('escapes a server’s text wherever it lands (verdict, request, facts, headers, bodies, findings, confirmation, server name)', () => {
    const body = renderBody(hostileState());
    assert.doesNotMatch(body, /<img|<script|onerror="/i);
    const escaped = '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;&quot;&#39;&amp;';
    // Verdict, request, response, fact label and value, URL, header name and value (2), bodies (2), finding title, detail, evidence, reference, question, change, warning, server name.
    assert.ok(body.split(escaped).length - 1 >= 18, `escaped ${body.split(escaped).length - 1} times`);
  });

  it('names every control and status for screen readers, and every button sends a message the extension accepts', () => {
    const s = hostileState();
    s.steps[2]!.status = 'running';
    const body = renderBody(s);
    const buttons = [...body.matchAll(/<button([^>]*)>([\s\S]*?)<\/button>/g)];
    assert.ok(buttons.length >= 4, `${buttons.length} buttons`);
    for (const [, attrs, inner] of buttons) {
      const text = (inner ?? '').replace(/<svg[\s\S]*?<\/svg>/g, '').trim();
      assert.ok(text || /aria-label="[^"]+"/.test(attrs ?? ''), `a button without a name: ${attrs}`);
      const action = /data-action="([^"]+)"/.exec(attrs ?? '')?.[1];
      const local = /data-local="([^"]+)"/.exec(attrs ?? '')?.[1];
      assert.ok(action || local === 'focus', `a button that does nothing: ${attrs}`);
      if (action) {
        const step = /data-step="([^"]+)"/.exec(attrs ?? '')?.[1];
        assert.ok(parseWebviewMessage({ type: action, ...(step ? { step } : {}) }), `the extension drops ${action} ${step ?? ''}`);
      }
    }
    for (const svg of body.match(/<svg[^>]*>/g) ?? []) assert.match(svg, /aria-hidden="true"|role="img" aria-label="[^"]+"/, svg);
    assert.match(body, /role="img" aria-label="running"/);
    assert.match(body, /role="img" aria-label="failed"/);
    assert.match(announcement(s), /^Step 3, Authorization-server metadata: running\.$/);
  });

  it('offers the run button on the next step only, naming what it asks (Register…)', () => {
    const s = state((steps) => {
      for (const x of steps.slice(0, 4)) Object.assign(x, { status: 'done', verdict: { level: 'pass', summary: 'ok' } });
      steps[4]!.confirmation = { question: 'Register a new OAuth client at http://127.0.0.1:4000/reg?', changes: ['x'], warnings: [], action: 'Register' };
    });
    const body = renderBody(s);
    const runs = [...body.matchAll(/data-action="run" data-step="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(runs, ['registration']);
    assert.match(body, /aria-label="Register… step 5: Dynamic client registration"/);
    assert.match(body, /data-action="runReadOnly" data-focus="runReadOnly" disabled/, 'nothing read-only is left to run');
  });
});

describe('messages from the guided-flow webview', () => {
  it('accepts the few it knows and drops everything else', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'run', step: 'token' }), { type: 'run', step: 'token' });
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    for (const bad of [
      undefined,
      'run',
      { type: 'run' },
      { type: 'run', step: 'steal-tokens' },
      { type: 'run', step: 'token', extra: 1 },
      { type: 'openExternal', url: 'https://example.invalid' },
      { type: 'rendered', version: -1, steps: [] },
      { type: 'rendered', version: 1, steps: Array(11).fill({ id: 'token', status: 'done', verdict: 'pass', summary: '' }) },
      { type: 'rendered', version: 1, steps: [{ id: 'token', status: 'exploded', verdict: 'pass', summary: '' }] },
    ]) {
      assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
    }
  });
});
