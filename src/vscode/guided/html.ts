// The guided-flow panel's markup, rendered on the extension side from the flow's state (plain,
// already redacted data) and escaped here, so the webview only swaps it in: its script stays a
// few lines, and no text from a server reaches the page unescaped. The page loads nothing: one
// style and one script element, both carrying the CSP nonce; colours and fonts are VS Code's
// theme variables, so light, dark and high-contrast themes all apply. Imports nothing from
// 'vscode' (unit-tested as is).
import type { GuidedState } from '../../core/guided/flow';
import type { RecordedExchange, StepRecord, StepStatus, VerdictLevel } from '../../core/guided/steps';
import type { Finding } from '../../core/model';
import { icon, type IconName } from './icons';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const EFFECT: Record<StepRecord['effect'], { icon: IconName; words: string; title: string }> = {
  'read-only': { icon: 'globe', words: 'read-only', title: 'Sends requests that change nothing; runs without asking.' },
  server: { icon: 'lock', words: 'changes the authorization server', title: 'The authorization server creates something; asks first.' },
  browser: { icon: 'lock', words: 'opens your browser', title: 'Opens your browser and listens on a loopback port; asks first.' },
  store: { icon: 'lock', words: 'writes the credential store', title: "Writes the client's credential store after a snapshot; asks first." },
};

/** The status icon and the words a screen reader says for it. */
function statusIcon(status: StepStatus, level: VerdictLevel | undefined): { name: IconName; label: string; cls: string } {
  switch (status) {
    case 'pending':
      return { name: 'circle-large', label: 'not run yet', cls: 'muted' };
    case 'running':
      return { name: 'loading', label: 'running', cls: 'spin' };
    case 'waiting':
      return { name: 'debug-pause', label: 'waiting for the browser', cls: 'info' };
    case 'skipped':
      return { name: 'circle-slash', label: 'skipped', cls: 'muted' };
    case 'blocked':
      return { name: 'circle-slash', label: 'blocked', cls: 'muted' };
    case 'failed':
      return { name: 'error', label: 'could not run', cls: 'fail' };
    case 'done':
      if (level === 'fail') return { name: 'error', label: 'failed', cls: 'fail' };
      if (level === 'warn') return { name: 'warning', label: 'warning', cls: 'warn' };
      if (level === 'info') return { name: 'info', label: 'note', cls: 'info' };
      return { name: 'pass', label: 'passed', cls: 'pass' };
  }
}

/** The run button's words: a step that asks first ends in "…" (a dialog follows). */
function runLabel(step: StepRecord): string {
  if (step.confirmation) return `${step.confirmation.action}…`;
  return step.status === 'failed' ? 'Run Again' : 'Run';
}

export interface BodyOptions {
  /** A problem with the last action (e.g. a step that could not start), shown above the steps. */
  notice?: string;
}

export function renderBody(state: GuidedState, options: BodyOptions = {}): string {
  const s = state.server;
  const next = state.steps.find((x) => x.id === state.next);
  const waiting = state.steps.some((x) => x.status === 'waiting');
  const started = state.steps.some((x) => x.status !== 'pending');
  const readOnlyNext = Boolean(next && !next.confirmation && !state.busy);
  const parts: string[] = [];
  parts.push(`<header class="top">
<h1>Guided OAuth flow: ${escapeHtml(s.name)}</h1>
<p class="where">${escapeHtml(s.clientLabel)} · ${escapeHtml(s.scope)} scope · <code>${escapeHtml(s.url)}</code></p>
<p class="where">Tokens are saved (in the last step) to <code>${escapeHtml(s.store)}</code>, entry <code>${escapeHtml(s.storageKey)}</code>.</p>
<p class="hint">Read-only steps run freely. Steps marked ${icon('lock', undefined, 'inline')} change something and ask first, as the repairs do.</p>
<div class="toolbar" role="toolbar" aria-label="Guided flow actions">
<button data-action="runReadOnly" data-focus="runReadOnly" ${readOnlyNext ? '' : 'disabled'}>${icon('run-all')} Run Read-Only Steps</button>
${waiting ? `<button class="secondary" data-action="cancel" data-focus="cancel">${icon('debug-stop')} Stop Waiting</button>` : ''}
<button class="secondary" data-action="restart" data-focus="restart" ${started && !state.busy ? '' : 'disabled'}>${icon('refresh')} Start Over</button>
</div>
</header>`);
  if (options.notice) parts.push(`<p class="notice" role="alert">${icon('warning', undefined, 'warn')} ${escapeHtml(options.notice)}</p>`);
  if (state.finished) parts.push(`<p class="notice done" role="status">${icon('pass', undefined, 'pass')} The new tokens are saved. The tree re-checks ${escapeHtml(s.name)} now.</p>`);
  parts.push(renderOverview(state));
  parts.push('<ol class="steps">');
  for (const step of state.steps) parts.push(renderStep(step, step.id === state.next && !state.busy));
  parts.push('</ol>');
  return parts.join('\n');
}

/** All steps at a glance, one line each (status and verdict); a click scrolls to the step's card. */
function renderOverview(state: GuidedState): string {
  const rows = state.steps.map((step) => {
    const st = statusIcon(step.status, step.verdict?.level);
    const what = step.verdict?.summary ?? (step.id === state.next ? (step.confirmation ? `next: ${step.confirmation.question}` : 'next') : step.effect === 'read-only' ? '' : EFFECT[step.effect].words);
    return `<li class="${step.id === state.next ? 'next' : ''}"><span class="state ${st.cls}">${icon(st.name, st.label, st.cls === 'spin' ? 'spin' : '')}</span><button class="link" data-local="focus" data-step="${step.id}">${step.number}. ${escapeHtml(step.title)}</button>${
      step.effect === 'read-only' ? '' : ` ${icon('lock', 'asks first', 'warn')}`
    }<span class="what">${escapeHtml(what)}</span></li>`;
  });
  return `<nav class="overview" aria-label="Steps at a glance"><ol>${rows.join('')}</ol></nav>`;
}

function renderStep(step: StepRecord, isNext: boolean): string {
  const st = statusIcon(step.status, step.verdict?.level);
  const effect = EFFECT[step.effect];
  const heading = `h-${step.id}`;
  const out: string[] = [];
  out.push(
    `<li><section class="step status-${step.status}${isNext ? ' next' : ''}" data-step="${step.id}" data-status="${step.status}" data-verdict="${step.verdict?.level ?? ''}" aria-labelledby="${heading}" tabindex="-1">`,
  );
  out.push(`<div class="step-head">
<span class="state ${st.cls}">${icon(st.name, st.label, st.cls === 'spin' ? 'spin' : '')}</span>
<h2 id="${heading}">${step.number}. ${escapeHtml(step.title)}</h2>
<span class="effect effect-${step.effect}" title="${escapeHtml(effect.title)}">${icon(effect.icon)} ${escapeHtml(effect.words)}</span>
${
  isNext
    ? `<button data-action="run" data-step="${step.id}" data-focus="run:${step.id}" aria-label="${escapeHtml(`${runLabel(step)} step ${step.number}: ${step.title}`)}">${icon(step.confirmation ? 'lock' : 'play')} ${escapeHtml(runLabel(step))}</button>`
    : ''
}
${step.ms !== undefined && step.status !== 'pending' ? `<span class="ms">${step.ms} ms</span>` : ''}
</div>`);
  if (step.verdict) out.push(`<p class="verdict ${levelClass(step.verdict.level)}"><span class="verdict-text">${escapeHtml(step.verdict.summary)}</span></p>`);
  if (step.request || step.response) {
    out.push('<dl class="rr">');
    if (step.request) out.push(`<dt>Request</dt><dd><code>${escapeHtml(step.request)}</code></dd>`);
    if (step.response) out.push(`<dt>Response</dt><dd><code>${escapeHtml(step.response)}</code></dd>`);
    out.push('</dl>');
  }
  if (step.confirmation && (step.status === 'pending' || step.status === 'failed')) {
    const c = step.confirmation;
    out.push(`<div class="confirm"><p><strong>${escapeHtml(c.question)}</strong> You are asked before it runs.</p><ul>${c.changes.map((x) => `<li>${escapeHtml(x)}</li>`).join('')}</ul>${
      c.warnings.length ? `<ul class="warnings">${c.warnings.map((w) => `<li>${icon('warning', 'warning', 'warn')} ${escapeHtml(w)}</li>`).join('')}</ul>` : ''
    }</div>`);
  }
  if (step.facts.length) {
    out.push(
      `<details data-key="${step.id}:facts"><summary>Details (${step.facts.length})</summary><table class="facts"><tbody>${step.facts
        .map((f) => `<tr><th scope="row">${escapeHtml(f.label)}</th><td>${escapeHtml(f.value)}</td></tr>`)
        .join('')}</tbody></table></details>`,
    );
  }
  if (step.exchanges.length) {
    out.push(`<details data-key="${step.id}:exchanges"><summary>HTTP exchanges (${step.exchanges.length})</summary>${step.exchanges.map((e, i) => renderExchange(step, e, i)).join('')}</details>`);
  }
  if (step.findings.length) {
    // Open when something is wrong; notes alone stay folded.
    const serious = step.findings.some((f) => f.severity !== 'info');
    out.push(`<details data-key="${step.id}:findings"${serious ? ' open' : ''}><summary>Findings (${step.findings.length})</summary><ul class="findings">${step.findings.map(renderFinding).join('')}</ul></details>`);
  }
  out.push(`<p class="reference"><span class="label">Spec:</span> ${escapeHtml(step.reference)}</p>`);
  out.push('</section></li>');
  return out.join('\n');
}

const DIRECTION: Record<RecordedExchange['direction'], string> = {
  outgoing: 'sent',
  browser: 'opened in your browser',
  incoming: 'received from your browser',
};

function renderExchange(step: StepRecord, e: RecordedExchange, i: number): string {
  const answer = e.status !== undefined ? `${e.status}${e.contentType ? ` ${e.contentType.split(';')[0]}` : ''}` : (e.error ?? (e.outcome === 'sent' ? 'answer seen by your browser only' : e.outcome));
  const table = (title: string, h: Record<string, string>) =>
    Object.keys(h).length ? `<h4>${title}</h4><table class="headers"><tbody>${Object.entries(h).map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</tbody></table>` : '';
  return `<details class="exchange" data-key="${step.id}:ex:${i}"><summary><span class="dir">${escapeHtml(DIRECTION[e.direction])}</span> <code>${escapeHtml(`${e.method} ${e.url}`)}</code> → <span class="answer">${escapeHtml(answer)}</span>${e.ms ? ` <span class="ms">${e.ms} ms</span>` : ''}</summary>
${table('Request headers', e.requestHeaders)}${e.requestBody ? `<h4>Request body</h4><pre>${escapeHtml(e.requestBody)}</pre>` : ''}${table('Response headers', e.responseHeaders)}${e.responseBody ? `<h4>Response body</h4><pre>${escapeHtml(e.responseBody)}</pre>` : ''}</details>`;
}

function renderFinding(f: Finding): string {
  const name: IconName = f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'info';
  const cls = f.severity === 'error' ? 'fail' : f.severity === 'warning' ? 'warn' : 'info';
  return `<li>${icon(name, f.severity, cls)} <strong>${escapeHtml(f.title)}</strong><p>${escapeHtml(f.detail)}</p>${
    f.evidence?.length ? `<pre>${escapeHtml(f.evidence.join('\n'))}</pre>` : ''
  }${f.reference ? `<p class="reference"><span class="label">Rule:</span> ${escapeHtml(f.reference)} <code>${escapeHtml(f.code)}</code></p>` : ''}</li>`;
}

function levelClass(level: VerdictLevel): string {
  return level === 'pass' ? 'pass' : level === 'fail' ? 'fail' : level === 'warn' ? 'warn' : 'info';
}

/** One sentence for the live region: the step that changed last, as a screen reader should hear it. */
export function announcement(state: GuidedState): string {
  const running = state.steps.find((x) => x.status === 'running' || x.status === 'waiting');
  if (running) return `Step ${running.number}, ${running.title}: ${running.status === 'waiting' ? 'waiting for the browser' : 'running'}.`;
  const last = [...state.steps].reverse().find((x) => x.status !== 'pending' && x.status !== 'blocked');
  return last?.verdict ? `Step ${last.number}, ${last.title}: ${last.verdict.summary}.` : '';
}

/**
 * The whole page. CSP: nothing but the nonce'd style and script; images only inline (data:) or
 * from the webview's own source; no fetch, no frames, no forms.
 */
export function renderPage(opts: { nonce: string; cspSource: string; title: string; body: string }): string {
  const { nonce, cspSource } = opts;
  const csp = [`default-src 'none'`, `img-src ${cspSource} data:`, `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`, `font-src ${cspSource}`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main id="app" aria-label="${escapeHtml(opts.title)}">${opts.body}</main>
<p id="live" class="visually-hidden" aria-live="polite"></p>
<script nonce="${nonce}">${WEBVIEW_SCRIPT}</script>
</body>
</html>`;
}

const STYLE = `
:root { color-scheme: light dark; }
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); background: var(--vscode-editor-background); padding: 0 20px 24px; line-height: 1.45; }
h1 { font-size: 1.35em; margin: 16px 0 4px; font-weight: 600; }
h2 { font-size: 1.05em; margin: 0; font-weight: 600; flex: 1 1 auto; }
h4 { margin: 8px 0 2px; font-size: 0.9em; color: var(--vscode-descriptionForeground); }
code, pre { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
code { background: var(--vscode-textCodeBlock-background); padding: 0 3px; border-radius: 3px; word-break: break-all; }
pre { background: var(--vscode-textCodeBlock-background); padding: 6px 8px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; border-radius: 3px; max-height: 24em; }
.where, .hint { margin: 2px 0; color: var(--vscode-descriptionForeground); }
.toolbar { display: flex; gap: 8px; margin: 12px 0; flex-wrap: wrap; }
button { font-family: inherit; font-size: inherit; display: inline-flex; align-items: center; gap: 4px; padding: 4px 11px; border: 1px solid var(--vscode-button-border, transparent); border-radius: 2px; color: var(--vscode-button-foreground); background: var(--vscode-button-background); cursor: pointer; }
button:hover:not(:disabled) { background: var(--vscode-button-hoverBackground); }
button.secondary { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); }
button.secondary:hover:not(:disabled) { background: var(--vscode-button-secondaryHoverBackground); }
button:disabled { opacity: 0.5; cursor: default; }
button:focus-visible, summary:focus-visible, section:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
.codicon { vertical-align: text-bottom; flex: none; }
ol.steps { list-style: none; padding: 0; margin: 0; }
.step { border: 1px solid var(--vscode-widget-border, var(--vscode-panel-border, transparent)); border-left-width: 3px; border-radius: 3px; padding: 8px 12px; margin: 8px 0; background: var(--vscode-sideBar-background, transparent); }
.step.next { border-left-color: var(--vscode-focusBorder); }
.step.status-blocked, .step.status-pending:not(.next) { opacity: 0.8; }
.step-head { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.effect { font-size: 0.85em; color: var(--vscode-descriptionForeground); display: inline-flex; align-items: center; gap: 3px; }
.effect-server, .effect-browser, .effect-store { color: var(--vscode-editorWarning-foreground); }
.ms { font-size: 0.85em; color: var(--vscode-descriptionForeground); }
.pass { color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
.fail { color: var(--vscode-testing-iconFailed, var(--vscode-errorForeground)); }
.warn { color: var(--vscode-editorWarning-foreground); }
.info { color: var(--vscode-editorInfo-foreground); }
.muted { color: var(--vscode-disabledForeground, var(--vscode-descriptionForeground)); }
.verdict { margin: 6px 0; font-weight: 600; }
.verdict.pass .verdict-text, .verdict.info .verdict-text { color: var(--vscode-foreground); }
dl.rr { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 6px 0; }
dl.rr dt { color: var(--vscode-descriptionForeground); }
dl.rr dd { margin: 0; }
.confirm { border: 1px dashed var(--vscode-editorWarning-foreground); border-radius: 3px; padding: 4px 10px; margin: 6px 0; }
.confirm ul { margin: 4px 0; padding-left: 20px; }
ul.warnings { list-style: none; padding-left: 0; }
details { margin: 4px 0; }
summary { cursor: pointer; color: var(--vscode-textLink-foreground); }
details.exchange { margin-left: 12px; }
details.exchange summary { color: var(--vscode-foreground); }
.dir { color: var(--vscode-descriptionForeground); font-size: 0.85em; }
table { border-collapse: collapse; margin: 4px 0; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 2px 8px 2px 0; border-bottom: 1px solid var(--vscode-widget-border, transparent); }
th { font-weight: normal; color: var(--vscode-descriptionForeground); white-space: nowrap; width: 1%; }
td { word-break: break-all; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
ul.findings { list-style: none; padding-left: 0; }
ul.findings p { margin: 2px 0 2px 20px; }
.reference { font-size: 0.85em; color: var(--vscode-descriptionForeground); margin: 6px 0 0; }
.label { font-weight: 600; }
.notice { padding: 6px 10px; border-radius: 3px; border: 1px solid var(--vscode-inputValidation-warningBorder, var(--vscode-editorWarning-foreground)); background: var(--vscode-inputValidation-warningBackground, transparent); }
.notice.done { border-color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); background: transparent; }
.overview ol { list-style: none; padding: 0; margin: 0 0 12px; border: 1px solid var(--vscode-widget-border, var(--vscode-panel-border, transparent)); border-radius: 3px; }
.overview li { display: flex; align-items: center; gap: 6px; padding: 2px 8px; min-width: 0; }
.overview li.next { background: var(--vscode-list-inactiveSelectionBackground); }
.overview .what { color: var(--vscode-descriptionForeground); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; flex: 1 1 auto; }
button.link { background: none; border: none; padding: 0; color: var(--vscode-textLink-foreground); white-space: nowrap; flex: none; }
button.link:hover:not(:disabled) { background: none; text-decoration: underline; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.spin { animation: spin 1.2s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .spin { animation: none; } }
body.vscode-high-contrast .step, body.vscode-high-contrast-light .step { border-color: var(--vscode-contrastBorder); }
body.vscode-high-contrast .step.next, body.vscode-high-contrast-light .step.next { border-color: var(--vscode-contrastActiveBorder, var(--vscode-focusBorder)); border-left-width: 3px; }
body.vscode-high-contrast button, body.vscode-high-contrast-light button { border-color: var(--vscode-contrastBorder); }
`;

/**
 * The webview's whole script: swaps in the markup the extension sends (keeping open <details>
 * and focus), sends button clicks as messages (the extension validates them), and reports which
 * verdicts it shows (the extension-host tests read that back).
 */
const WEBVIEW_SCRIPT = `(function () {
  const vscode = acquireVsCodeApi();
  const app = document.getElementById('app');
  const live = document.getElementById('live');
  let version = 0;
  function report() {
    const steps = Array.from(app.querySelectorAll('section[data-step]')).map(function (s) {
      const v = s.querySelector('.verdict-text');
      return { id: s.dataset.step, status: s.dataset.status, verdict: s.dataset.verdict || '', summary: v ? v.textContent : '' };
    });
    vscode.postMessage({ type: 'rendered', version: version, steps: steps });
  }
  window.addEventListener('message', function (event) {
    const m = event.data;
    if (!m || m.type !== 'state' || typeof m.html !== 'string') return;
    const open = new Set(Array.from(app.querySelectorAll('details[data-key]')).filter(function (d) { return d.open; }).map(function (d) { return d.dataset.key; }));
    const closed = new Set(Array.from(app.querySelectorAll('details[data-key]')).filter(function (d) { return !d.open; }).map(function (d) { return d.dataset.key; }));
    const active = document.activeElement;
    const focus = active && active.dataset ? active.dataset.focus : undefined;
    app.innerHTML = m.html;
    app.querySelectorAll('details[data-key]').forEach(function (d) {
      if (open.has(d.dataset.key)) d.open = true;
      else if (closed.has(d.dataset.key)) d.open = false;
    });
    if (focus) {
      const again = app.querySelector('[data-focus="' + CSS.escape(focus) + '"]');
      const step = focus.indexOf('run:') === 0 ? app.querySelector('section[data-step="' + CSS.escape(focus.slice(4)) + '"]') : null;
      const target = again && !again.disabled ? again : step;
      if (target) target.focus();
    }
    if (typeof m.announce === 'string' && live.textContent !== m.announce) live.textContent = m.announce;
    version = m.version;
    report();
  });
  document.addEventListener('click', function (event) {
    const local = event.target instanceof Element ? event.target.closest('button[data-local="focus"]') : null;
    if (local) {
      const section = app.querySelector('section[data-step="' + CSS.escape(local.dataset.step || '') + '"]');
      if (section) {
        section.scrollIntoView({ block: 'start' });
        section.focus();
      }
      return;
    }
    const b = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
    if (!b || b.disabled) return;
    const message = { type: b.dataset.action };
    if (b.dataset.step) message.step = b.dataset.step;
    vscode.postMessage(message);
  });
  vscode.postMessage({ type: 'ready' });
})();`;
