// Gemini CLI's `$VAR` / `${VAR}` / `${VAR:-default}` expansion, applied to every string of a
// settings file right after parsing, before anything reads it (packages/cli/src/utils/
// envVarResolver.ts, bundled at chunk-2YTYPKEZ.js:15646; called from `load`, :16560). A variable
// that is set (even to "") wins; else the default when there is one; else the text is left as it
// is (`$VAR` stays in the URL or header Gemini sends).
export interface Expansion {
  value: string;
  /** Variables referenced without a default and not set. */
  missing: string[];
}

const ENV_VAR = /\$(?:(\w+)|{([^}]+?)(?::-([^}]*))?})/g;

export function expandLikeGemini(text: string, env: Record<string, string | undefined>): Expansion {
  const missing: string[] = [];
  const value = text.replace(ENV_VAR, (match: string, name1: string | undefined, name2: string | undefined, fallback: string | undefined) => {
    const name = name1 || name2 || '';
    if (!name) return match;
    const set = env[name];
    if (typeof set === 'string') return set;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return match;
  });
  return { value, missing };
}
