// Re-scans when any config file a reader looked at changes, appears or disappears.
// Node's directory watchers are used rather than workspace watchers because most of these files
// (~/.claude.json, ~/.codex/config.toml, managed-mcp.json) live outside any workspace, and
// clients replace them by rename, which a watch on the file itself would lose.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';

export class ConfigWatcher implements vscode.Disposable {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  // Each watch() call bumps this; a slower earlier call that finishes later must not win.
  private generation = 0;

  constructor(
    private readonly onChange: () => void,
    private readonly debounceMs = 150,
  ) {}

  /**
   * Watches the directories holding `files` (or their nearest existing ancestor); drops the rest.
   * Asynchronous so a scan on activation adds no synchronous file-system calls to the extension host.
   */
  async watch(files: string[]): Promise<void> {
    const generation = ++this.generation;
    // directory → names in it whose change matters (a file, or the next missing directory on its path)
    const wanted = new Map<string, Set<string>>();
    for (const file of files) {
      let dir = path.dirname(file);
      let name = path.basename(file);
      while (!(await isDirectory(dir))) {
        const parent = path.dirname(dir);
        if (parent === dir) break;
        name = path.basename(dir);
        dir = parent;
      }
      if (!wanted.has(dir)) wanted.set(dir, new Set());
      wanted.get(dir)!.add(name);
    }
    if (generation !== this.generation) return;
    for (const [dir, w] of this.watchers) {
      if (!wanted.has(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    }
    for (const [dir, names] of wanted) {
      this.watchers.get(dir)?.close();
      try {
        const w = fs.watch(dir, { persistent: false }, (_event, changed) => {
          // Some platforms omit the name: then any change in the directory counts.
          if (!changed || names.has(changed.toString())) this.schedule();
        });
        w.on('error', () => this.watchers.delete(dir));
        this.watchers.set(dir, w);
      } catch {
        // Unwatchable (permissions, too many watches): the re-scan command still works.
      }
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onChange();
    }, this.debounceMs);
  }

  dispose(): void {
    this.generation++; // a watch() still looking up directories then sets up nothing
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(dir)).isDirectory();
  } catch {
    return false;
  }
}
