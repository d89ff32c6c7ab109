// MCP servers that installed Claude Code plugins bring, as 2.1.197 loads them: installs are listed
// in `<plugins dir>/installed_plugins.json` (`{version: 2, plugins: {"<plugin>@<marketplace>":
// [{scope, projectPath?, installPath, ...}]}}`; version 1 maps an id to one install); a plugin
// loads only when settings `enabledPlugins["<plugin>@<marketplace>"]` is true. Its servers come
// from `<installPath>/.mcp.json` (`{"mcpServers": {...}}` or the bare map) and from
// `.claude-plugin/plugin.json` "mcpServers" (a file path, an inline map, or a list of either), the
// manifest winning a clash, and are named `plugin:<plugin>:<server>` (`loe`, `Rxp`, `Pxp`).
// Claude Code drops a broken plugin server with a debug log only; we say why.
import { findNodeAtLocation, type Node } from 'jsonc-parser';
import * as path from 'node:path';
import * as z from 'zod';
import type { Environment } from '../environment';
import type { Finding, McpServer } from '../model';
import type { Expansion } from '../placeholders';
import { CONFIG_FINDING } from './claudeCodeFindings';
import { readServerMap } from './claudeCodeEntries';
import { isPlainObject, locate, readJsonFile, type JsonDoc } from './claudeCodeJson';
import { pluginsDir } from './claudeCodePaths';
import type { ProjectSettings } from './claudeCodeSettings';

const InstallSchema = z
  .object({
    scope: z.enum(['managed', 'user', 'project', 'local']).optional(),
    projectPath: z.string().optional(),
    installPath: z.string(),
  })
  .loose();

const InstalledSchema = z.object({ plugins: z.record(z.string(), z.unknown()) }).loose();

const PLUGIN_ID = /^[A-Za-z0-9][-A-Za-z0-9._]*@[A-Za-z0-9][-A-Za-z0-9._]*$/;

export interface PluginScan {
  servers: McpServer[];
  findings: Finding[];
  files: string[];
}

export interface PluginContext {
  e: Environment;
  settings: ProjectSettings;
  /** Open projects, as directories and as Claude Code's project keys: project/local installs match either. */
  projectDirs: string[];
  projectKeys: string[];
}

export async function scanPlugins(ctx: PluginContext): Promise<PluginScan> {
  const out: PluginScan = { servers: [], findings: [], files: [] };
  if (ctx.e.env.CLAUDE_CODE_SKIP_PLUGIN_MCP_SERVERS) return out;
  const dir = pluginsDir(ctx.e);
  const file = path.join(dir, 'installed_plugins.json');
  out.files.push(file);
  const read = await readJsonFile(file, {
    label: 'Claude Code plugin list',
    consequence: 'Claude Code then starts with no installed plugins, so their MCP servers do not load.',
    severity: 'warning',
  });
  if (read.kind === 'bad') out.findings.push(read.finding);
  if (read.kind !== 'ok') return out;
  const installed = InstalledSchema.safeParse(read.doc.value);
  if (!installed.success) {
    out.findings.push({
      code: CONFIG_FINDING.invalidEntry,
      severity: 'warning',
      title: 'Claude Code plugin list has no "plugins" map',
      detail: `${file} is not in the form Claude Code writes; its plugins' MCP servers do not load.`,
      location: locate(read.doc, undefined),
    });
    return out;
  }
  for (const [id, value] of Object.entries(installed.data.plugins)) {
    if (!PLUGIN_ID.test(id)) continue;
    const install = pickInstall(ctx, Array.isArray(value) ? value : [value]);
    if (!install) continue;
    const servers = await pluginServers(ctx, dir, id, install, out);
    out.servers.push(...servers);
  }
  return out;
}

function pickInstall(ctx: PluginContext, installs: unknown[]): z.infer<typeof InstallSchema> | undefined {
  const open = new Set([...ctx.projectDirs.map((d) => path.resolve(d)), ...ctx.projectKeys]);
  for (const raw of installs) {
    const i = InstallSchema.safeParse(raw);
    if (!i.success) continue;
    const scope = i.data.scope ?? 'user';
    if (scope === 'user' || scope === 'managed') return i.data;
    if (i.data.projectPath && (open.has(path.resolve(i.data.projectPath)) || open.has(i.data.projectPath))) return i.data;
  }
  return undefined;
}

async function pluginServers(ctx: PluginContext, dir: string, id: string, install: z.infer<typeof InstallSchema>, out: PluginScan): Promise<McpServer[]> {
  const plugin = id.slice(0, id.indexOf('@'));
  const root = path.resolve(install.installPath);
  const projectDir = ctx.projectDirs[0];
  const options = ctx.settings.pluginOptions(id);
  const preExpand = (text: string): Expansion => {
    const missing: string[] = [];
    let value = text.replace(/\$\{CLAUDE_PLUGIN_ROOT\}/g, () => root);
    if (projectDir) value = value.replace(/\$\{CLAUDE_PROJECT_DIR\}/g, () => projectDir);
    value = value.replace(/\$\{CLAUDE_PLUGIN_DATA\}/g, () => path.join(dir, 'data', id.replace(/[^a-zA-Z0-9\-_]/g, '-')));
    value = value.replace(/\$\{user_config\.([^}]+)\}/g, (all, key: string) => {
      const v = options[key];
      if (v !== undefined) return String(v);
      // Unset or secret (kept in the credential store): Claude Code refuses to start the server.
      missing.push(`user_config.${key}`);
      return all;
    });
    return { value, missing };
  };
  const found: McpServer[] = [];
  const fromMap = (doc: JsonDoc, map: Node | undefined) => {
    if (!map || map.type !== 'object') {
      out.findings.push({
        code: CONFIG_FINDING.invalidEntry,
        severity: 'warning',
        title: `Plugin ${plugin}: MCP servers are not an object`,
        detail: `${doc.file} should hold {"mcpServers": {...}}; Claude Code loads no servers from it.`,
        location: locate(doc, map),
      });
      return;
    }
    const r = readServerMap(
      {
        doc,
        scope: 'plugin',
        ...(install.projectPath ? { projectPath: install.projectPath } : {}),
        env: ctx.e.env,
        displayName: (n) => `plugin:${plugin}:${n}`,
        preExpand,
        expandHeadersHelper: true,
      },
      map,
    );
    found.push(...r.servers);
    out.findings.push(...r.findings);
  };
  const readServersFile = async (file: string) => {
    out.files.push(file);
    const read = await readJsonFile(file, { label: `Plugin ${plugin} MCP config`, consequence: 'Claude Code loads no servers from it.', severity: 'warning' });
    if (read.kind === 'bad') out.findings.push(read.finding);
    if (read.kind !== 'ok') return;
    const v = read.doc.value;
    fromMap(read.doc, isPlainObject(v) && v.mcpServers ? findNodeAtLocation(read.doc.root, ['mcpServers']) : read.doc.root);
  };

  await readServersFile(path.join(root, '.mcp.json'));
  const manifestFile = path.join(root, '.claude-plugin', 'plugin.json');
  out.files.push(manifestFile);
  const manifest = await readJsonFile(manifestFile, { label: `Plugin ${plugin} manifest`, consequence: 'Claude Code does not load this plugin.', severity: 'warning' });
  if (manifest.kind === 'bad') out.findings.push(manifest.finding);
  if (manifest.kind === 'ok' && isPlainObject(manifest.doc.value) && manifest.doc.value.mcpServers !== undefined) {
    const spec = findNodeAtLocation(manifest.doc.root, ['mcpServers']);
    const specs = spec?.type === 'array' ? (spec.children ?? []) : spec ? [spec] : [];
    for (const s of specs) {
      // `.mcpb` bundles and URLs are downloaded and unpacked by Claude Code: out of our reach.
      if (s.type === 'string' && typeof s.value === 'string' && !/\.mcpb$|^https?:/i.test(s.value)) await readServersFile(path.resolve(root, s.value));
      else if (s.type === 'object') fromMap(manifest.doc, s);
    }
  }

  const enabled = ctx.settings.pluginEnabled(id);
  // A later source overrides an earlier server of the same name, as the manifest does in Claude Code.
  const byName = new Map<string, McpServer>();
  for (const s of found) {
    byName.delete(s.name);
    byName.set(s.name, { ...s, enabled });
  }
  return [...byName.values()];
}
