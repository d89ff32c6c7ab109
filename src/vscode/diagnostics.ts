// Problems: one diagnostic per finding at its place in the config files, so a user who never opens
// the view still sees it in the file and in the Problems panel. Config findings sit where the
// reader located them; probe findings (token expired, server misconfigured…) at the server's entry;
// credential-store findings in the store file (the probe's info notes stay in the view). The code links to the finding's section of the
// bundled docs/findings.md. While a config file has unsaved edits, its findings and entries come
// from the editor's text (a debounced re-read through withUnsavedText), so they follow the typing;
// the probe's findings move with their server's entry. On save the file watcher runs a full pass.
import * as vscode from 'vscode';
import { scanConfigs } from '../core/config/scan';
import { readConfigText, withUnsavedText } from '../core/config/sourceText';
import type { ConfigScan, Finding, McpServer, Severity } from '../core/model';
import type { ScanUpdate } from './activate';
import { editorEnvironment } from './environment';
import { probeSettings } from './probeSettings';
import { refOf, type ServerRef } from './serverRef';

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

/** Quiet time after the last keystroke before the buffer is read again. */
const EDIT_DEBOUNCE_MS = 300;

/** What stands behind one diagnostic: its finding and, for a server's finding, the server. */
export interface Placed {
  finding: Finding;
  server?: McpServer;
  /** Whether the finding came from the probe (it moves with its server's entry). */
  probe: boolean;
}

/** Where each finding code is explained: its heading's line in the bundled docs/findings.md. */
export class FindingDocs {
  private lines: Promise<Map<string, number>> | undefined;

  constructor(private readonly file: vscode.Uri) {}

  async target(code: string): Promise<vscode.Uri | undefined> {
    this.lines ??= readConfigText(this.file.fsPath).then((r) => {
      const map = new Map<string, number>();
      if (r.kind === 'ok') r.text.split('\n').forEach((l, i) => {
        const m = /^###\s+`([a-z0-9.-]+)`\s*$/.exec(l);
        if (m?.[1] && !map.has(m[1])) map.set(m[1], i + 1);
      });
      return map;
    });
    const line = (await this.lines).get(code);
    return line === undefined ? undefined : this.file.with({ fragment: `L${line}` });
  }
}

export class Problems implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('MCP Auth');
  private readonly behind = new Map<string, Placed>();
  private readonly disposables: vscode.Disposable[] = [this.collection];
  private last: ScanUpdate | undefined;
  /** Config files of the last pass, by path: the ones whose edits matter. */
  private files = new Set<string>();
  /** Bumped by every render request: an older, slower render never overwrites a newer one. */
  private generation = 0;
  private editTimer: NodeJS.Timeout | undefined;

  constructor(private readonly docs: FindingDocs) {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0 && this.files.has(e.document.uri.fsPath)) this.scheduleEditPass();
      }),
      // Closing a file with unsaved edits discards them: back to what is on disk.
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (this.files.has(d.uri.fsPath)) this.scheduleEditPass();
      }),
    );
  }

  /** A finished pass: the picture on disk, unless a config file has unsaved edits. */
  update(u: ScanUpdate): void {
    this.last = u;
    this.files = new Set(u.report.scan.files);
    if (this.unsavedTexts().size > 0) this.scheduleEditPass(0);
    else void this.render(u.report.scan, new Map(), ++this.generation);
  }

  /** The finding and server behind one of our diagnostics (quick fixes). */
  placedFor(uri: vscode.Uri, d: vscode.Diagnostic): Placed | undefined {
    return this.behind.get(placeKey(uri, d));
  }

  private scheduleEditPass(delay = EDIT_DEBOUNCE_MS): void {
    if (this.editTimer) clearTimeout(this.editTimer);
    this.editTimer = setTimeout(() => {
      this.editTimer = undefined;
      void this.editPass();
    }, delay);
  }

  /** Re-reads the configs with the unsaved buffers in place of their files (nothing else is read again). */
  private async editPass(): Promise<void> {
    if (!this.last) return;
    const generation = ++this.generation;
    const texts = this.unsavedTexts();
    if (texts.size === 0) return this.render(this.last.report.scan, texts, generation);
    let picture: ConfigScan;
    try {
      picture = await withUnsavedText(texts, () => scanConfigs(editorEnvironment(), probeSettings().clients));
    } catch {
      return; // The readers turn bad input into findings; anything else keeps the last picture.
    }
    if (generation === this.generation) await this.render(picture, texts, generation);
  }

  private unsavedTexts(): Map<string, string> {
    const texts = new Map<string, string>();
    for (const d of vscode.workspace.textDocuments) {
      if (d.uri.scheme === 'file' && d.isDirty && this.files.has(d.uri.fsPath)) texts.set(d.uri.fsPath, d.getText());
    }
    return texts;
  }

  private async render(picture: ConfigScan, texts: Map<string, string>, generation: number): Promise<void> {
    const u = this.last;
    if (!u) return;
    // The probe's findings, by server: they follow the server's entry wherever the text now puts it.
    const probed = new Map<string, Finding[]>();
    u.report.servers.forEach(({ server }, i) => {
      const findings = u.probes[i]?.findings ?? [];
      if (findings.length) probed.set(refKey(refOf(server)), [...(probed.get(refKey(refOf(server))) ?? []), ...findings]);
    });
    const entries: { at: { file: string; line: number; column: number }; placed: Placed }[] = [];
    for (const server of picture.servers) {
      for (const finding of server.findings) entries.push({ at: finding.location ?? server.source, placed: { finding, server, probe: false } });
      // The probe's notes (info: "logins happen at another origin") describe the server, not the
      // file: they stay in the view, so a healthy server's entry carries no squiggle.
      for (const finding of probed.get(refKey(refOf(server))) ?? []) if (finding.severity !== 'info') entries.push({ at: server.source, placed: { finding, server, probe: true } });
    }
    for (const finding of picture.findings) if (finding.location) entries.push({ at: finding.location, placed: { finding, probe: false } });
    for (const finding of u.report.readings.flatMap((r) => r.findings)) if (finding.location) entries.push({ at: finding.location, placed: { finding, probe: false } });

    const lineText = await linesOf(new Set(entries.map((e) => e.at.file)), texts);
    const targets = new Map<string, vscode.Uri | undefined>();
    for (const code of new Set(entries.map((e) => e.placed.finding.code))) targets.set(code, await this.docs.target(code));
    if (generation !== this.generation) return;

    const byFile = new Map<string, vscode.Diagnostic[]>();
    this.behind.clear();
    for (const { at, placed } of entries) {
      const uri = vscode.Uri.file(at.file);
      const line = Math.max(at.line - 1, 0);
      const start = Math.max(at.column - 1, 0);
      const range = new vscode.Range(line, start, line, tokenEnd(lineText.get(at.file)?.[line], start));
      const { finding } = placed;
      const d = new vscode.Diagnostic(range, placed.server && placed.probe ? `${placed.server.name}: ${finding.title}` : finding.title, SEVERITY[finding.severity]);
      d.source = 'MCP Auth';
      const target = targets.get(finding.code);
      d.code = target ? { value: finding.code, target } : finding.code;
      // What to do, beside the one-line title: shown under the diagnostic in Problems and in the hover.
      if (finding.detail) d.relatedInformation = [new vscode.DiagnosticRelatedInformation(new vscode.Location(uri, range), finding.detail)];
      this.behind.set(placeKey(uri, d), placed);
      byFile.set(at.file, [...(byFile.get(at.file) ?? []), d]);
    }
    this.collection.clear();
    for (const [file, list] of byFile) this.collection.set(vscode.Uri.file(file), list);
  }

  dispose(): void {
    if (this.editTimer) clearTimeout(this.editTimer);
    for (const d of this.disposables) d.dispose();
  }
}

function refKey(r: ServerRef): string {
  return JSON.stringify([r.client, r.scope, r.name, r.projectPath ?? '', r.profile ?? '']);
}

function placeKey(uri: vscode.Uri, d: vscode.Diagnostic): string {
  const code = typeof d.code === 'object' ? d.code.value : d.code;
  return JSON.stringify([uri.toString(), d.range.start.line, d.range.start.character, code, d.message]);
}

/** The lines of each file, from the unsaved text or the disk (an unreadable file gets 1-character ranges). */
async function linesOf(files: Set<string>, texts: Map<string, string>): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(
    [...files].map(async (file) => {
      const t = texts.get(file) ?? (await readConfigText(file).then((r) => (r.kind === 'ok' ? r.text : undefined)));
      if (t !== undefined) out.set(file, t.replace(/^\uFEFF/, '').split(/\r?\n/));
    }),
  );
  return out;
}

/**
 * Where the key at `start` ends: a JSON string key (`"name"`), a TOML table header
 * (`[mcp_servers.name]`) or bare key; else the rest of the line. At least one character.
 */
export function tokenEnd(line: string | undefined, start: number): number {
  if (line === undefined || start >= line.length) return start + 1;
  const rest = line.slice(start);
  const m = /^"(?:[^"\\]|\\.)*"/.exec(rest) ?? /^\[[^\]]*\]{1,2}/.exec(rest) ?? /^[A-Za-z0-9_.-]+/.exec(rest);
  const len = m ? m[0].length : rest.trimEnd().length;
  return start + Math.max(len, 1);
}
