// The repairs from the editor: refresh, re-login, reset, the hand-off to the client's own login,
// restore and Undo. Each repair plans first (the core names every change), asks in a modal that
// shows that plan, runs under a progress notification, re-scans, and says what happened with
// Undo on success or the next steps on failure. Commands take a tree node, a ServerRef (quick
// fixes, buttons) or nothing (a QuickPick of servers).
import * as vscode from 'vscode';
import { snapshotStoreFor } from '../core/credentials/backups';
import { credentialStoresFor } from '../core/credentials/index';
import { CLIENT_LABELS, type McpServer, type RepairId } from '../core/model';
import { HEALTHY_STATES } from '../core/probe/serverState';
// The repairs themselves (and oauth4webapi under them) load on first use, not at activation.
import type { LoginContext } from '../core/repair/login';
import type { RepairAction, RepairOutcome, RepairPlan, RepairTarget } from '../core/repair/types';
import type { StatusReport } from '../core/status';
import { confirm, planDetail } from './confirm';
import { storeWriteGuard } from '../core/storeFields';
import { editorEnvironment } from './environment';
import { journalSettings } from './journalWatcher';
import { clientCommandFor, handOffLabel, HandOffTerminals, type HandOffKind } from './handOff';
import { probeNow, repairHttp } from './reprobe';
import { LossGuard, restoreCommand, UndoArgsSchema, type UndoArgs } from './restorePicker';
import { describeRef, pickServer, refOf, repairTargetOf, resolveServerRef, serverRefOf, type ServerRef } from './serverRef';

/** What the repairs need from the extension's context. */
export interface RepairHost {
  /** Re-reads configs and stores and probes (the tree follows). */
  rescan(): Promise<StatusReport>;
  /** Fires after every local scan, with its report (the loss guard reads the store findings). */
  onDidScan: vscode.Event<StatusReport>;
}

/** What a repair command resolves to (the extension-host tests read it). */
export interface RepairRun {
  action: RepairAction | 'hand-off';
  ref?: ServerRef;
  plan?: RepairPlan;
  /** Set when the repair ran. */
  outcome?: RepairOutcome;
  /** The user chose the client's own command instead; a terminal runs it. */
  handedOff?: boolean;
  cancelled?: boolean;
  /** Why nothing was attempted (no such server, a stdio server, the plan was blocked). */
  problem?: string;
  /** The server's probed state after the repair, when probing is on. */
  state?: string;
}

interface RepairSpec {
  action: Exclude<RepairAction, 'restore'>;
  /** The question the modal asks, e.g. `Refresh the stored token of "x" for Claude Code?` */
  question(server: McpServer): string;
  /** The modal's confirm button and the progress title. */
  verb: string;
  progress(server: McpServer): string;
  /** What the alternative button runs: the client's own login, or its logout for a reset. */
  handOff: HandOffKind;
  plan(target: RepairTarget): Promise<RepairPlan>;
  run(target: RepairTarget, token: vscode.CancellationToken, progress: vscode.Progress<{ message?: string }>): Promise<RepairOutcome>;
  cancellable: boolean;
}

export function registerRepairs(context: vscode.ExtensionContext, host: RepairHost): void {
  const terminals = new HandOffTerminals(() => void host.rescan());
  const guard = new LossGuard(context.globalState, host);
  const repair = (spec: RepairSpec) => (arg?: unknown) => runRepair(spec, arg, host, terminals);
  context.subscriptions.push(
    terminals,
    guard,
    // While the credential journal runs it catches the same losses, from a newer state, and tells
    // a deliberate logout apart (journalWatcher.ts): one warning per loss, not two.
    host.onDidScan((report) => {
      if (!journalSettings().enabled) guard.check(report);
    }),
    vscode.commands.registerCommand('mcpAuth.refresh', repair(REFRESH)),
    vscode.commands.registerCommand('mcpAuth.login', repair(LOGIN)),
    vscode.commands.registerCommand('mcpAuth.reset', repair(RESET)),
    vscode.commands.registerCommand('mcpAuth.handOffLogin', (arg?: unknown) => handOffCommand(arg, terminals)),
    vscode.commands.registerCommand('mcpAuth.restore', (arg?: unknown) => restoreCommand(arg, host)),
    vscode.commands.registerCommand('mcpAuth.undo', (arg?: unknown) => undoCommand(arg, host)),
  );
}

const REFRESH: RepairSpec = {
  action: 'refresh',
  question: (s) => `Refresh the stored token of "${s.name}" for ${CLIENT_LABELS[s.client]}?`,
  verb: 'Refresh',
  progress: (s) => `Refreshing the token of ${s.name}…`,
  handOff: 'login',
  cancellable: false,
  plan: (target) => withRepairHttp(async (http) => (await import('../core/repair/refresh')).planRefresh(target, { http })),
  run: (target) => withRepairHttp(async (http) => (await import('../core/repair/refresh')).refresh(target, { http })),
};

const RESET: RepairSpec = {
  action: 'reset',
  question: (s) => `Remove the stored credential of "${s.name}" from ${CLIENT_LABELS[s.client]}'s store?`,
  verb: 'Reset',
  progress: (s) => `Removing the stored credential of ${s.name}…`,
  handOff: 'logout',
  cancellable: false,
  // A reset talks to no server: the context's network is never used.
  plan: async (target) => (await import('../core/repair/reset')).planReset(target, { http: NO_NETWORK }),
  run: async (target) => (await import('../core/repair/reset')).reset(target, { http: NO_NETWORK }),
};

const LOGIN: RepairSpec = {
  action: 'login',
  question: (s) => `Log in to "${s.name}" again for ${CLIENT_LABELS[s.client]}?`,
  verb: 'Log In',
  progress: (s) => `Logging in to ${s.name}`,
  handOff: 'login',
  cancellable: true,
  plan: async (target) => withRepairHttp(async (http) => (await import('../core/repair/login')).planLogin(target, await loginContext(target, http))),
  run: (target, token, progress) =>
    withRepairHttp(async (http) => {
      const abort = new AbortController();
      const cancelled = token.onCancellationRequested(() => abort.abort());
      // In a remote window whose forward the browser will not use, the user may paste where it ended.
      const asking = new vscode.CancellationTokenSource();
      let paste: (text: string) => void = () => undefined;
      const pasted = new Promise<string>((resolve) => (paste = resolve));
      try {
        progress.report({ message: 'opening your browser…' });
        const { login } = await import('../core/repair/login');
        return await login(target, await loginContext(target, http), {
          signal: abort.signal,
          pastedCallback: pasted,
          openBrowser: async (url) => {
            const caution = await forwardCallback(url, target.server);
            await openAuthorizationUrl(url);
            progress.report({ message: `waiting for the browser to come back (Cancel stops waiting)…${caution ? ` Note: ${caution}.` : ''}` });
            if (caution) void askForPastedCallback(target.server, asking.token).then((text) => text && paste(text));
          },
        });
      } finally {
        asking.cancel();
        asking.dispose();
        cancelled.dispose();
      }
    }),
};

const NO_NETWORK = { fetch: () => Promise.reject(new Error('a reset sends no requests')), timeoutMs: 1, maxBodyBytes: 0 };

async function loginContext(target: RepairTarget, http: LoginContext['http']): Promise<LoginContext> {
  const { clientCallbackSettings } = await import('../core/repair/loopbackRedirect');
  return { http, callback: await clientCallbackSettings(editorEnvironment(), target.server.client) };
}

async function withRepairHttp<T>(fn: (http: LoginContext['http']) => Promise<T>): Promise<T> {
  const { http, close } = repairHttp();
  try {
    return await fn(http);
  } finally {
    await close();
  }
}

/**
 * In a remote window our callback listens on the remote host's loopback: asking VS Code for the
 * external form of its address makes Remote-SSH, WSL and container windows forward the port
 * (failure mode F3). Returns what the user should know when that forward is not where the
 * browser will be sent.
 */
async function forwardCallback(authorizationUrl: string, server: McpServer): Promise<string | undefined> {
  if (vscode.env.remoteName === undefined) return undefined;
  const redirect = new URL(authorizationUrl).searchParams.get('redirect_uri');
  if (!redirect) return undefined;
  const external = await vscode.env.asExternalUri(vscode.Uri.parse(new URL(redirect).origin));
  const { forwardedCallbackNote } = await import('../core/repair/loopbackRedirect');
  return forwardedCallbackNote(redirect, external.toString(true), vscode.env.remoteName, clientCommandFor(server, 'login') ? handOffLabel(server, 'login') : undefined);
}

/** The address the browser ended on, as the user pastes it; undefined when dismissed or no longer needed. */
async function askForPastedCallback(server: McpServer, token: vscode.CancellationToken): Promise<string | undefined> {
  return vscode.window.showInputBox(
    {
      title: `MCP Auth: log in to ${server.name}`,
      prompt: 'If your browser cannot come back to this window after you log in, paste the address it ends on (it contains code=) and press Enter.',
      placeHolder: 'http://localhost:…/callback?code=…&state=…',
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() && !/[?&](code|error)=/.test(v) ? 'The address the browser ends on has code= (or error=) in it.' : undefined),
    },
    token,
  );
}

/**
 * Opens the authorization URL in the user's browser. Only http(s): the URL comes from the
 * server's metadata (validated by the core, but checked again at the edge that opens it).
 */
export async function openAuthorizationUrl(url: string): Promise<void> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`refused to open a ${parsed.protocol} URL`);
  const opened = await vscode.env.openExternal(vscode.Uri.parse(url, true));
  if (!opened) throw new Error('the browser was not opened');
}

async function refArgument(arg: unknown, placeHolder: string): Promise<ServerRef | undefined> {
  return serverRefOf(arg) ?? (arg === undefined ? pickServer(placeHolder) : undefined);
}

async function runRepair(spec: RepairSpec, arg: unknown, host: RepairHost, terminals: HandOffTerminals): Promise<RepairRun> {
  const ref = await refArgument(arg, `Which server's credential to ${spec.verb.toLowerCase()}?`);
  if (!ref) return { action: spec.action, cancelled: true };
  const resolved = await resolveServerRef(ref);
  const target = 'problem' in resolved ? resolved : repairTargetOf(resolved);
  if ('problem' in target) {
    void vscode.window.showErrorMessage(target.problem);
    return { action: spec.action, ref, problem: target.problem };
  }
  const { server } = target;
  let plan: RepairPlan;
  try {
    plan = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `MCP Auth: planning ${spec.action} of ${server.name}` }, () => spec.plan(target));
  } catch (err) {
    // A store that cannot be read (malformed, locked, Keychain refused) stops the plan; nothing was written.
    const problem = `${spec.verb} ${server.name}: ${errorText(err)}. Nothing was written.`;
    void vscode.window.showErrorMessage(problem);
    return { action: spec.action, ref, problem };
  }
  if (plan.blocked) {
    void showNext(`${spec.verb} ${server.name}: ${plan.blocked.message}`, plan.blocked.next, server, 'warning');
    return { action: spec.action, ref, plan, problem: plan.blocked.message };
  }
  const alternative = plan.handOff ? `${handOffLabel(server, spec.handOff)} instead` : undefined;
  // A client newer than the newest verified whose store holds fields we do not know: the modal names them, and its button says so.
  const guard = await storeWriteGuard(editorEnvironment(), server.client, target.key).catch(() => undefined);
  const primary = guard ? `${spec.verb}, keeping ${guard.fields.length} unknown field${guard.fields.length === 1 ? '' : 's'}` : spec.verb;
  const choice = await confirm(
    spec.question(server),
    planDetail(plan, target.store.kind, `${guard ? `⚠ ${guard.message}\n\n` : ''}The store is snapshotted first, so this can be undone.`),
    primary,
    alternative ? [alternative] : [],
  );
  if (!choice) return { action: spec.action, ref, plan, cancelled: true };
  if (choice === alternative) {
    terminals.start(server, spec.handOff);
    return { action: spec.action, ref, plan, handedOff: true };
  }

  let outcome: RepairOutcome;
  try {
    outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: spec.progress(server), cancellable: spec.cancellable },
      (progress, token) => spec.run(target, token, progress),
    );
  } catch (err) {
    // The repairs report their failures as outcomes; an exception is unexpected, so say what is known.
    const problem = `${spec.verb} ${server.name} stopped: ${errorText(err)}.`;
    void vscode.window.showErrorMessage(problem);
    void host.rescan();
    return { action: spec.action, ref, plan, problem };
  }
  const [probed] = await Promise.all([
    outcome.ok ? probeNow((s) => s.client === server.client && s.storageKey === target.key && s.name === server.name) : Promise.resolve([]),
    host.rescan(),
  ]);
  const state = probed[0]?.probe;
  const run: RepairRun = { action: spec.action, ref, plan, outcome, ...(state ? { state: state.state } : {}) };
  if (!outcome.ok) {
    void showNext(`${spec.verb} failed for ${server.name}: ${outcome.message}`, outcome.next, server, 'error');
    return run;
  }
  const now = state ? ` Now: ${state.summary}.` : '';
  const message = `${sentence(outcome.summary)}${now}`;
  const undo: UndoArgs | undefined = outcome.undoSnapshotId ? { snapshotId: outcome.undoSnapshotId, entryKey: target.key, ref: refOf(server) } : undefined;
  // After a reset "not logged in" is the point; after a refresh or login anything but healthy needs a look.
  const asExpected = !state || spec.action === 'reset' || HEALTHY_STATES.has(state.state);
  const show = asExpected ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
  void show(message, ...(undo ? ['Undo'] : [])).then((b) => (b === 'Undo' && undo ? vscode.commands.executeCommand('mcpAuth.undo', undo) : undefined));
  return run;
}

/** The repairs' `next` as buttons that run them on the same server. */
export async function showNext(message: string, next: RepairId[], server: McpServer, severity: 'error' | 'warning'): Promise<void> {
  const ref = refOf(server);
  const buttons: { title: string; run: () => Thenable<unknown> }[] = [];
  for (const n of next) {
    if (n === 'refresh') buttons.push({ title: 'Refresh', run: () => vscode.commands.executeCommand('mcpAuth.refresh', ref) });
    if (n === 'relogin') {
      buttons.push({ title: 'Log In Again', run: () => vscode.commands.executeCommand('mcpAuth.login', ref) });
      if (clientCommandFor(server, 'login')) buttons.push({ title: handOffLabel(server, 'login'), run: () => vscode.commands.executeCommand('mcpAuth.handOffLogin', ref) });
    }
    if (n === 'reset') buttons.push({ title: 'Reset', run: () => vscode.commands.executeCommand('mcpAuth.reset', ref) });
    if (n === 'edit-config') buttons.push({ title: 'Open Config', run: () => vscode.commands.executeCommand('mcpAuth.openLocation', server.source) });
  }
  const show = severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
  const picked = await show(message, ...buttons.map((b) => b.title));
  await buttons.find((b) => b.title === picked)?.run();
}

async function handOffCommand(arg: unknown, terminals: HandOffTerminals): Promise<RepairRun> {
  const ref = await refArgument(arg, "Which server to log in to with the client's own command?");
  if (!ref) return { action: 'hand-off', cancelled: true };
  const resolved = await resolveServerRef(ref);
  if ('problem' in resolved) {
    void vscode.window.showErrorMessage(resolved.problem);
    return { action: 'hand-off', ref, problem: resolved.problem };
  }
  if (resolved.server.transport === 'stdio') {
    const problem = `${describeRef(ref)} is a stdio server: it has no OAuth login.`;
    void vscode.window.showErrorMessage(problem);
    return { action: 'hand-off', ref, problem };
  }
  if (!terminals.start(resolved.server, 'login')) {
    const problem = `${CLIENT_LABELS[resolved.server.client]} has no login command for ${describeRef(ref)}: its \`mcp login\` reads only its own config files, not the --mcp-config file this entry comes from. Use "Log In Again" (MCP Auth Doctor's own login) instead.`;
    void vscode.window.showErrorMessage(problem);
    return { action: 'hand-off', ref, problem };
  }
  return { action: 'hand-off', ref, handedOff: true };
}

/** Undo: puts one entry (or the whole store) back from the snapshot taken before the repair. */
async function undoCommand(arg: unknown, host: RepairHost): Promise<{ restored: boolean; problem?: string }> {
  const parsed = UndoArgsSchema.safeParse(arg);
  if (!parsed.success) return { restored: false, problem: 'mcpAuth.undo needs {snapshotId, entryKey?}' };
  const args = parsed.data;
  const e = editorEnvironment();
  const snapshots = snapshotStoreFor(e);
  try {
    const snapshot = await snapshots.read(args.snapshotId);
    if (!snapshot) throw new Error(`snapshot ${args.snapshotId} is no longer in ${snapshots.dir}`);
    const store = credentialStoresFor(e, undefined, { backups: snapshots, clients: [snapshot.client] })[0];
    if (!store?.restore) throw new Error(`restoring ${CLIENT_LABELS[snapshot.client]}'s store is not supported`);
    const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Undoing…' }, () => store.restore!(snapshot, args.entryKey));
    const ref = args.ref ? serverRefOf(args.ref) : undefined;
    const [probed] = await Promise.all([
      ref ? probeNow((s) => refOf(s).name === ref.name && s.client === ref.client && (!args.entryKey || s.storageKey === args.entryKey)) : Promise.resolve([]),
      host.rescan(),
    ]);
    const what = args.entryKey ? `entry ${args.entryKey}` : 'the whole store';
    const now = probed[0] ? ` ${probed[0].server.name} now: ${probed[0].probe.summary}.` : '';
    void vscode.window.showInformationMessage(`Undone: ${what} restored in ${outcome.plan.location} from snapshot ${snapshot.id}.${now}`);
    return { restored: true };
  } catch (err) {
    const problem = err instanceof Error ? err.message : String(err);
    void vscode.window.showErrorMessage(`Undo failed: ${problem}. Nothing was written.`);
    return { restored: false, problem };
  }
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\.$/, '');
}

function sentence(s: string): string {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}
