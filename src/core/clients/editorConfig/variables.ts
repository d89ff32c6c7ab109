// `${…}` variables in editor MCP configs, expanded as far as can be known here. What each app
// expands, and what an unset `${env:X}` becomes, differs: the caller passes its app's rules.
//
// VS Code resolves mcp.json through its configuration resolver (`${env:X}`, `${userHome}`,
// `${workspaceFolder}`, `${workspaceFolderBasename}`, `${pathSeparator}`, `${/}`, and `${input:id}`
// from the file's "inputs", asked of the user when the server starts and then kept in its secret
// storage); an unset `${env:X}` becomes '' (AbstractVariableResolverService, microsoft/vscode
// src/vs/workbench/services/configurationResolver/common/variableResolver.ts; docs:
// code.visualstudio.com/docs/copilot/reference/mcp-configuration "input variables" and
// code.visualstudio.com/docs/reference/variables-reference).
// Cursor documents `${env:NAME}`, `${userHome}`, `${workspaceFolder}`, `${workspaceFolderBasename}`,
// `${pathSeparator}` / `${/}` in command, args, env, url and headers (cursor.com/docs/mcp,
// "Config interpolation"); what it does with an unset variable is not documented.
// Windsurf documents `${env:VAR}` and `${file:/path}` (docs.windsurf.com/windsurf/cascade/mcp,
// "Config interpolation"); unset variables are not documented either.
import type { PlatformPath } from 'node:path';

export interface VariableRules {
  /** Variable names the app expands itself (`env` stands for every `${env:X}`). */
  supported: ReadonlySet<string>;
  /** What the app puts for an unset `${env:X}`: '' (VS Code), or unknown (left as written). */
  unsetEnv: 'empty' | 'unknown';
}

export interface VariableContext {
  env: Record<string, string | undefined>;
  /** Windows looks environment names up without regard to case. */
  caseInsensitiveEnv: boolean;
  home: string;
  /** The folder `${workspaceFolder}` stands for, when one is known. */
  workspaceFolder?: string;
  path: PlatformPath;
}

export interface Unresolved {
  /** As written, e.g. `${input:api-key}`. */
  text: string;
  kind: 'unset-env' | 'input' | 'no-folder' | 'unsupported' | 'file' | 'other';
  /** The variable's name or argument (`API_KEY`, `api-key`). */
  name: string;
}

export interface VariableExpansion {
  /** The text with everything known expanded; unknown variables left as written. */
  value: string;
  unresolved: Unresolved[];
}

const VARIABLE = /\$\{([A-Za-z_/][A-Za-z0-9_]*)?(?::([^}]*))?\}/g;

export function expandEditorVariables(text: string, rules: VariableRules, ctx: VariableContext): VariableExpansion {
  const unresolved: Unresolved[] = [];
  const value = text.replace(VARIABLE, (all: string, rawName: string | undefined, arg: string | undefined) => {
    const name = rawName ?? '';
    if (!rules.supported.has(name === '/' ? 'pathSeparator' : name)) {
      const kind = name === 'input' ? 'input' : name === 'file' ? 'file' : 'unsupported';
      unresolved.push({ text: all, kind, name: arg ?? name });
      return all;
    }
    switch (name) {
      case 'env': {
        const key = arg ?? '';
        const found = lookupEnv(ctx, key);
        if (found !== undefined) return found;
        unresolved.push({ text: all, kind: 'unset-env', name: key });
        return rules.unsetEnv === 'empty' ? '' : all;
      }
      case 'userHome':
        return ctx.home;
      case 'workspaceFolder':
      case 'workspaceFolderBasename':
        if (ctx.workspaceFolder === undefined) {
          unresolved.push({ text: all, kind: 'no-folder', name });
          return all;
        }
        return name === 'workspaceFolder' ? ctx.workspaceFolder : ctx.path.basename(ctx.workspaceFolder);
      case 'pathSeparator':
      case '/':
        return ctx.path.sep;
      default:
        unresolved.push({ text: all, kind: 'other', name });
        return all;
    }
  });
  return { value, unresolved };
}

function lookupEnv(ctx: VariableContext, key: string): string | undefined {
  const direct = ctx.env[key];
  if (direct !== undefined || !ctx.caseInsensitiveEnv) return direct;
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(ctx.env)) if (k.toLowerCase() === lower && v !== undefined) return v;
  return undefined;
}
