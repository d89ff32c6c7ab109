// The one place that decides which of a server's values Claude Code hashes into its credential key.
//
// Claude Code 2.1.197 (function `Lv` in the bundled cli) hashes JSON.stringify({type, url,
// headers: headers || {}}) of the server config it loaded, and it loads configs after two steps:
// - its zod schema: "streamable-http" becomes "http"; an entry without "type" is a stdio server
//   (so a remote server always has a literal type here);
// - `${VAR}` / `${VAR:-default}` expansion of url and header values, with an unset variable
//   left as the literal `${VAR}` text (function `Jre`).
// So the key uses the expanded url and headers, exactly as sent. Header values are part of it:
// changing one orphans the stored login (anthropics/claude-code#67528, #93446, where
// `mcp add-json --client-secret` stores under a headers-less key while login looks up this one).
import { storageKey } from '../storageKey';

export interface RemoteConfig {
  type: 'http' | 'sse';
  /** The url Claude Code connects to (placeholders expanded, unset ones kept literally). */
  url: string;
  /** Header values as Claude Code sends them, in the file's key order. */
  headers: Record<string, string>;
}

export function claudeCodeStorageKey(name: string, config: RemoteConfig): string {
  return storageKey(name, config.type, config.url, config.headers);
}
