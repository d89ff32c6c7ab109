// The Claude Code settings that decide whether a configured server runs: approvals of .mcp.json
// servers and enabled plugins. 2.1.197 keeps them in settings files (user, project, local,
// managed); approvals that older builds wrote into ~/.claude.json `projects[...]` are moved into
// .claude/settings.local.json at startup, so they count as local settings here.
import * as z from 'zod';
import type { Environment } from '../environment';
import type { Finding } from '../model';
import { readJsonFile } from './claudeCodeJson';
import { settingsFiles } from './claudeCodePaths';

// Each field on its own: one malformed setting must not hide the others (Claude Code reports it).
const SettingsSchema = z
  .object({
    enableAllProjectMcpServers: z.boolean().optional().catch(undefined),
    enabledMcpjsonServers: z.array(z.string()).optional().catch(undefined),
    disabledMcpjsonServers: z.array(z.string()).optional().catch(undefined),
    enabledPlugins: z.record(z.string(), z.unknown()).optional().catch(undefined),
    pluginConfigs: z.record(z.string(), z.object({ options: z.record(z.string(), z.unknown()).optional() }).loose()).optional().catch(undefined),
  })
  .loose();

export type ClaudeSettings = z.infer<typeof SettingsSchema>;

export type Approval = 'approved' | 'pending' | 'rejected';

/** Which approvals Claude Code believes for a project it has not been told to trust. */
export interface Trust {
  /** ~/.claude.json `projects[key].hasTrustDialogAccepted`. */
  trusted: boolean;
  /**
   * Untrusted, Claude Code counts .claude/settings.local.json only when git says the file is not
   * committed (`Hdm`: no symlink, no .claude/.git, `git ls-files` exits 1); outside a git
   * repository that check fails and the file is ignored. We approximate "not committed" by "inside
   * a git repository", since the file is normally git-ignored.
   */
  localCounts: boolean;
}

type Layer = { source: 'user' | 'project' | 'local' | 'legacy' | 'managed'; settings: ClaudeSettings };

export interface ProjectSettings {
  files: string[];
  findings: Finding[];
  /** The state Claude Code gives a .mcp.json server of this name (`BGt`). */
  approval(name: string, trust: Trust): Approval;
  /** enabledPlugins after precedence user < project < local < managed; true means it loads. */
  pluginEnabled(id: string): boolean;
  /** Non-secret plugin options (`pluginConfigs[id].options`); secret ones sit in the credential store. */
  pluginOptions(id: string): Record<string, unknown>;
}

/** Settings as seen from a session in `projectDir`; `legacy` holds ~/.claude.json approvals for it. */
export async function readProjectSettings(e: Environment, projectDir: string | undefined, legacy: ClaudeSettings = {}): Promise<ProjectSettings> {
  const paths = settingsFiles(e, projectDir);
  const ordered: [Layer['source'], string | undefined][] = [
    ['user', paths.user],
    ['project', paths.project],
    ['local', paths.local],
    ['managed', paths.managed],
  ];
  const findings: Finding[] = [];
  const layers: Layer[] = [];
  for (const [source, file] of ordered) {
    if (file === undefined) continue;
    const read = await readJsonFile(file, {
      label: 'Claude Code settings',
      consequence: 'Claude Code ignores this file, including its MCP approvals and enabled plugins.',
      severity: 'warning',
    });
    if (read.kind === 'bad') findings.push(read.finding);
    if (read.kind === 'ok') {
      const parsed = SettingsSchema.safeParse(read.doc.value);
      if (parsed.success) layers.push({ source, settings: parsed.data });
    }
    // Claude Code moves these into settings.local.json at startup (`EFc`), so they rank as local.
    if (source === 'local') layers.push({ source: 'legacy', settings: legacy });
  }
  // Project settings that are the user's own file (a session in the home folder) count untrusted.
  const projectIsUser = paths.project !== undefined && paths.project === paths.user;

  // Claude Code compares names as it spells tool prefixes (`pDt`/`Gl`); plugin names exactly.
  const normal = (n: string) => (n.startsWith('plugin:') ? n : n.replace(/[^a-zA-Z0-9_-]/g, '_'));
  const listed = (list: string[] | undefined, name: string) => (list ?? []).some((n) => normal(n) === normal(name));
  const approves = (l: Layer, name: string) => l.settings.enableAllProjectMcpServers === true || listed(l.settings.enabledMcpjsonServers, name);
  return {
    files: ordered.map(([, f]) => f).filter((f): f is string => f !== undefined),
    findings,
    approval(name, trust) {
      // A rejection counts from every file, trusted or not.
      if (layers.some((l) => listed(l.settings.disabledMcpjsonServers, name))) return 'rejected';
      const counted = trust.trusted
        ? layers
        : layers.filter(
            (l) =>
              l.source === 'user' ||
              l.source === 'managed' ||
              (l.source === 'project' && projectIsUser) ||
              ((l.source === 'local' || l.source === 'legacy') && trust.localCounts),
          );
      return counted.some((l) => approves(l, name)) ? 'approved' : 'pending';
    },
    pluginEnabled(id) {
      let value: unknown;
      for (const { settings } of layers) if (settings.enabledPlugins && id in settings.enabledPlugins) value = settings.enabledPlugins[id] ?? value;
      // `true`, or the extended form (a list of version constraints); `false` or absent: not loaded.
      return value === true || Array.isArray(value);
    },
    pluginOptions(id) {
      return Object.assign({}, ...layers.map((l) => l.settings.pluginConfigs?.[id]?.options ?? {}));
    },
  };
}
