// Claude Code's own reading of a Keychain overflow, taken at test time from the installed
// linux-x64 2.1.332 binary (node_modules/@anthropic-ai/claude-code-linux-x64/claude, a Bun
// executable that carries its modules as source). The module that names `<service>-overflow-<slot>`
// also holds the pointer check, the AES-256-GCM open and the merge, and exports the read step
// (`fga` in 2.1.332: item + `{exitCode, stdout}` of the overflow item → what Claude Code reads).
// Nothing of it is copied into this repository: it is read from the pinned dependency each run.
// Only the read half is in the Linux build (the macOS store and the split are compiled out).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

export const CLAUDE_LINUX_BINARY = path.resolve(__dirname, '../../node_modules/@anthropic-ai/claude-code-linux-x64/claude');

export interface ClaudeOverflowReader {
  version: string;
  /** What Claude Code reads from this main item and overflow-slot answer (`undefined` when it reads nothing). */
  read(item: Record<string, unknown>, overflow: { exitCode: number; stdout: string | null }): { data: Record<string, unknown>; isPartial: boolean } | undefined;
  overflowService(service: string, slot: string): string;
}

let cached: ClaudeOverflowReader | undefined;

export function claudeOverflowReader(): ClaudeOverflowReader | undefined {
  if (cached) return cached;
  if (!existsSync(CLAUDE_LINUX_BINARY)) return undefined;
  const bin = readFileSync(CLAUDE_LINUX_BINARY);
  const anchor = bin.indexOf('-overflow-${');
  if (anchor < 0) throw new Error('The installed Claude Code binary has no Keychain overflow module any more: re-read it.');
  const start = bin.lastIndexOf('// @bun @bytecode', anchor);
  const exportAt = bin.indexOf('\nexport{', anchor);
  const end = bin.indexOf('};', exportAt) + 2;
  const source = bin.subarray(start, end).toString('utf8');
  const version = /\/\/ Version: (\S+)/.exec(source)?.[1] ?? 'unknown';
  const req = createRequire(__filename);
  // Imports of other bundle chunks (host, config dir, a per-host map) are not used by the read step: stub them.
  const body = source
    .replace(/import\{([^}]*)\}from"([^"]+)";?/g, (_m, names: string, from: string) => {
      const spec = names
        .split(',')
        .map((n) => n.trim().replace(/^(\S+) as (\S+)$/, '$1: $2'))
        .join(', ');
      return from.startsWith('/$bunfs/') ? `const {${spec}} = __stub;` : `const {${spec}} = require(${JSON.stringify(from)});`;
    })
    .replace(/\nexport\{([^}]*)\};$/, '\nreturn {$1};');
  const stub: unknown = new Proxy(
    {},
    {
      get: () => {
        const f = function stub(): unknown {
          return f;
        };
        return f;
      },
    },
  );
  const exports = new Function('require', '__stub', body)(req, stub) as Record<string, unknown>;
  const fns = Object.values(exports).filter((v): v is (...args: unknown[]) => unknown => typeof v === 'function');
  const readStep = fns.find((f) => /isPartial/.test(f.toString()));
  const State = fns.find((f) => /slotInUse/.test(f.toString()) && /^class /.test(f.toString()));
  const nameFn = fns.find((f) => /-overflow-/.test(f.toString()));
  if (!readStep || !State || !nameFn) throw new Error(`Claude Code ${version}: the overflow read step was not found where 2.1.332 has it: re-read the binary.`);
  cached = {
    version,
    read(item, overflow) {
      const state = new (State as unknown as new () => object)();
      const r = readStep(state, item, overflow, true) as { said: string; data?: Record<string, unknown>; isPartial?: boolean };
      return r.said === 'item' && r.data ? { data: r.data, isPartial: r.isPartial === true } : undefined;
    },
    overflowService: (service, slot) => nameFn(service, slot) as string,
  };
  return cached;
}
