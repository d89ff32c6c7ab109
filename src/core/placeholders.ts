// Claude Code expands `${VAR}` and `${VAR:-default}` in a server's url, headers, command, args
// and env (docs: "Environment variable expansion in .mcp.json"). We expand the same way for
// probing, keep the raw text for display, and report the variables that are unset.

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface Expansion {
  value: string;
  /** Variables referenced without a default that are not set. */
  missing: string[];
}

export function expandPlaceholders(text: string, env: Record<string, string | undefined>): Expansion {
  const missing: string[] = [];
  const value = text.replace(PLACEHOLDER, (_all, name: string, fallback: string | undefined) => {
    const set = env[name];
    if (set !== undefined) return set;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return '';
  });
  return { value, missing };
}
