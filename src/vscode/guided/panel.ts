// The guided-flow panel: one webview per server, over one GuidedFlow (src/core/guided/flow.ts).
// The extension renders the flow's state to markup (html.ts) and posts it; the webview sends
// back button clicks, each checked with zod (messages.ts) before the flow acts on it. A step
// that changes something asks with the same modal the repairs use (confirm.ts); the browser is
// opened with openExternal; after the tokens are saved the tree re-checks the server.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { GuidedFlow, GuidedFlowBusy, type Confirm, type GuidedState } from '../../core/guided/flow';
import type { GuidedStepId } from '../../core/guided/steps';
import { DEFAULT_MAX_BODY_BYTES } from '../../core/probe/http';
import { proxyFetchFor } from '../../core/probe/proxy';
import { clientCallbackSettings } from '../../core/repair/loopbackRedirect';
import type { RepairTarget } from '../../core/repair/types';
import { confirm, planDetail } from '../confirm';
import { editorEnvironment } from '../environment';
import { probeSettings } from '../probeSettings';
import { describeRef, type ServerRef } from '../serverRef';
import { announcement, renderBody, renderPage } from './html';
import { parseWebviewMessage, type RenderedStep } from './messages';

/** Requests to the authorization server may be slower than the probe's (registration, token endpoint): at least this long. */
const MIN_TIMEOUT_MS = 10_000;

/** What the command returns: the panel, as the extension-host tests drive and read it. */
export interface GuidedPanelHandle {
  readonly ref: ServerRef;
  /** The flow's state as the extension holds it. */
  state(): GuidedState;
  /** Runs the read-only steps, as the toolbar button does. */
  runReadOnly(): Promise<void>;
  /** The steps as the webview shows them, once it has rendered the latest state. */
  rendered(timeoutMs?: number): Promise<RenderedStep[]>;
  dispose(): void;
}

export class GuidedFlowPanel implements GuidedPanelHandle {
  static readonly viewType = 'mcpAuth.guidedFlow';
  private static readonly panels = new Map<string, GuidedFlowPanel>();

  private readonly disposables: vscode.Disposable[] = [];
  private version = 0;
  private notice: string | undefined;
  private shown: { version: number; steps: RenderedStep[] } = { version: -1, steps: [] };
  private readonly renderWaiters = new Set<() => void>();
  private disposed = false;

  /** The panel for `ref`, revealed if it is open already. */
  static async show(extensionUri: vscode.Uri, ref: ServerRef, target: RepairTarget, onSaved: () => void): Promise<GuidedFlowPanel> {
    const key = JSON.stringify([ref.client, ref.scope, ref.name, ref.projectPath ?? '', ref.profile ?? '']);
    const existing = GuidedFlowPanel.panels.get(key);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const settings = probeSettings();
    const proxied = proxyFetchFor(settings.probe.proxy ?? { env: process.env });
    const callback = await clientCallbackSettings(editorEnvironment(), target.server.client);
    const flow = new GuidedFlow(
      target,
      {
        http: {
          fetch: proxied.fetch,
          timeoutMs: Math.max(settings.probe.timeoutMs ?? MIN_TIMEOUT_MS, MIN_TIMEOUT_MS),
          maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
          routeFor: (url) => proxied.routeFor(url).description,
        },
        callback,
        ...(settings.probe.revision ? { revision: settings.probe.revision } : {}),
      },
      {
        openBrowser: async (url) => {
          // Built by the flow from validated http(s) metadata; parsed strictly so nothing is re-encoded.
          const opened = await vscode.env.openExternal(vscode.Uri.parse(url, true));
          if (!opened) throw new Error('the editor did not open it; copy the URL from step 6');
        },
      },
    );
    const panel = vscode.window.createWebviewPanel(GuidedFlowPanel.viewType, `OAuth Flow: ${ref.name}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      enableFindWidget: true,
      // The page loads no file at all: markup, style and script are inline under the CSP nonce.
      localResourceRoots: [],
    });
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'mcp-auth.svg');
    const p = new GuidedFlowPanel(key, ref, panel, flow, target, onSaved, () => proxied.close());
    GuidedFlowPanel.panels.set(key, p);
    return p;
  }

  private constructor(
    private readonly key: string,
    readonly ref: ServerRef,
    private readonly panel: vscode.WebviewPanel,
    private readonly flow: GuidedFlow,
    private readonly target: RepairTarget,
    private readonly onSaved: () => void,
    private readonly closeNetwork: () => Promise<void>,
  ) {
    const nonce = randomBytes(18).toString('base64');
    panel.webview.html = renderPage({
      nonce,
      cspSource: panel.webview.cspSource,
      title: `Guided OAuth flow: ${ref.name}`,
      body: '<p>Loading…</p>',
    });
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      { dispose: flow.onDidChange(() => this.post()) },
    );
  }

  state(): GuidedState {
    return this.flow.snapshot();
  }

  async runReadOnly(): Promise<void> {
    await this.act(() => this.flow.runReadOnly());
  }

  async rendered(timeoutMs = 10_000): Promise<RenderedStep[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.shown.version < this.version) {
      if (Date.now() > deadline) throw new Error(`the webview has not rendered state ${this.version} (last rendered: ${this.shown.version})`);
      await new Promise<void>((resolve) => {
        const done = () => {
          this.renderWaiters.delete(done);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, 200);
        this.renderWaiters.add(done);
      });
    }
    return structuredClone(this.shown.steps);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    GuidedFlowPanel.panels.delete(this.key);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
    void this.flow.dispose().finally(() => this.closeNetwork());
  }

  private async onMessage(raw: unknown): Promise<void> {
    const m = parseWebviewMessage(raw);
    if (!m) return;
    switch (m.type) {
      case 'ready':
        return this.post();
      case 'rendered':
        this.shown = { version: m.version, steps: m.steps };
        for (const w of [...this.renderWaiters]) w();
        return;
      case 'run':
        return this.act(() => this.runStep(m.step));
      case 'runReadOnly':
        return this.runReadOnly();
      case 'cancel':
        this.flow.cancel();
        return;
      case 'restart':
        return this.act(() => this.flow.restart());
    }
  }

  private async runStep(step: GuidedStepId): Promise<void> {
    const record = await this.flow.run(step, this.confirmStep);
    if (record.id === 'save' && record.status === 'done' && record.verdict?.level === 'pass') {
      this.onSaved();
      void vscode.window.showInformationMessage(record.verdict.summary);
    }
  }

  /** The repairs' modal: what changes, one line each, and the warnings; for the store write, the same detail as the re-login's plan. */
  private readonly confirmStep: Confirm = async (c, step) => {
    const { server, store, key } = this.target;
    const detail =
      step.id === 'save'
        ? planDetail({ action: 'login', target: { client: server.client, server: server.name, key, store: store.location }, changes: c.changes, warnings: c.warnings }, store.kind)
        : [`${describeRef(this.ref)}, step ${step.number}: ${step.title}`, '', 'What happens:', ...c.changes.map((x) => `• ${x}`), ...(c.warnings.length ? ['', ...c.warnings.map((w) => `⚠ ${w}`)] : [])].join('\n');
    return (await confirm(c.question, detail, c.action)) === c.action;
  };

  /** Runs an action; what stops it (another step running, a step not ready) is shown above the steps. */
  private async act(fn: () => Promise<void>): Promise<void> {
    this.notice = undefined;
    try {
      await fn();
    } catch (err) {
      this.notice = err instanceof GuidedFlowBusy ? `${err.message}.` : err instanceof Error ? err.message : String(err);
    }
    this.post();
  }

  private post(): void {
    if (this.disposed) return;
    const state = this.flow.snapshot();
    this.version++;
    void this.panel.webview.postMessage({
      type: 'state',
      version: this.version,
      html: renderBody(state, this.notice ? { notice: this.notice } : {}),
      announce: announcement(state),
    });
  }
}
