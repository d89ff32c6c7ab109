// Claude Code: ~/.claude.json (user and per-project scopes), .mcp.json, managed-mcp.json, plugins
// and --mcp-config files; credentials in ~/.claude/.credentials.json or the macOS Keychain item
// "Claude Code-credentials" (shared/docs/client-formats.md). The readers and the store live in
// config/claudeCode*.ts and credentials/claudeCode*.ts; this object is what the rest sees of them.
import { scanClaudeCode } from '../../config/claudeCode';
import { scanExtraConfigs } from '../../config/extraConfigs';
import { claudeCodeStore } from '../../credentials/claudeCodeStore';
import { mergeScans } from '../../model';
import type { ClientDefinition } from '../types';

export const claudeCode: ClientDefinition = {
  id: 'claude-code',
  label: 'Claude Code',
  async scanConfigs(e) {
    const scan = await scanClaudeCode(e);
    // Extra files are Claude Code's `--mcp-config` form, so they are read with Claude Code.
    if (!e.extraConfigPaths?.length) return scan;
    return mergeScans([scan, await scanExtraConfigs(e, new Set(scan.files))]);
  },
  credentialStore: (e, o) => claudeCodeStore(e, { backups: o.backups, ...(o.security ? { security: o.security } : {}) }),
  // Storage key: set by the reader, `<name>|<sha256-16>` over the server's own type, url and headers (config/claudeCodeStorageKey.ts says why).
  // `claude mcp login` reads only Claude Code's own config files, not a --mcp-config file
  // (2.1.197: `claude mcp list --mcp-config f` is "unknown option").
  handOff: (s, verb) => (s.scope === 'dynamic' ? undefined : { command: 'claude', args: ['mcp', verb, s.name] }),
  version: {
    binary: 'claude',
    newestVerified: '2.1.332',
    parse: (line) => /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)\s+\(Claude Code\)/.exec(line)?.[1],
    // Versioned with Claude Code itself (extension 2.1.120 ships with CLI 2.1.120, anthropics/claude-code#53493).
    vscodeExtension: { id: 'anthropic.claude-code', version: 'manifest' },
  },
  process: {
    executables: ['claude', 'claude.exe'],
    // The native installer names each binary after its version: ~/.local/share/claude/versions/2.1.332.
    executablePaths: [/[/\\]claude[/\\]versions[/\\][^/\\]+$/],
    scripts: [/\/@anthropic-ai\/claude-code\/(cli\.js|cli\.mjs|cli-wrapper\.cjs)$/],
    npmPackage: /^@anthropic-ai\/claude-code(-[a-z0-9-]+)?$/,
  },
  configureClientId: '`claude mcp add --client-id <id> …` (or "oauth": {"clientId": "…"})',
  ourLogin: true,
  compatibility: 'claude-code',
};
