// Codex: $CODEX_HOME/config.toml (default ~/.codex), profiles and trusted projects'
// .codex/config.toml; credentials in the OS keyring, `.credentials.json`, or the encrypted secrets
// store, as `mcp_oauth_credentials_store` says. The readers and the store live in config/codex*.ts
// and credentials/codex*.ts; this object is what the rest sees of them.
import { scanCodex } from '../../config/codex';
import { codexCredentialSettings, CodexCredentialSettingsSchema } from '../../credentials/codexSettings';
import { codexStore } from '../../credentials/codexStore';
import type { ClientDefinition } from '../types';

export const codex: ClientDefinition = {
  id: 'codex',
  label: 'Codex',
  scanConfigs: scanCodex,
  credentialStore(e, o) {
    // Settings from the Codex config reader; without them the store reads config.toml itself.
    const parsed = CodexCredentialSettingsSchema.safeParse(o.settings);
    const settings = parsed.success && o.settings !== undefined ? codexCredentialSettings(parsed.data, e.platform) : undefined;
    return codexStore(e, {
      backups: o.backups,
      ...(settings ? { settings } : {}),
      ...(o.allowKeychainPrompt ? { allowKeychainPrompt: true } : {}),
      ...(o.keychainReadAccounts ? { keychainReadAccounts: o.keychainReadAccounts } : {}),
      ...(o.keychainReadOnce ? { keychainReadOnce: true } : {}),
      ...(o.codexSecurity ? { security: o.codexSecurity } : {}),
      ...(o.codexKeychainReader ? { keychainReader: o.codexKeychainReader } : {}),
    });
  },
  // Storage key: set by the reader (config/codex.ts); Codex always hashes type "http" and empty headers (codex-rs/rmcp-client/src/oauth.rs compute_store_key).
  // A profile's entry needs `--profile` (`codex --profile work mcp list`, checked with 0.169).
  handOff: (s, verb) => ({ command: 'codex', args: [...(s.profile ? ['--profile', s.profile] : []), 'mcp', verb, s.name] }),
  version: {
    binary: 'codex',
    newestVerified: '0.171.0',
    parse: (line) => /^codex-cli\s+v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)\b/.exec(line)?.[1],
    // openai.chatgpt has its own scheme (e.g. 26.901.22334) and carries a Codex binary under bin/
    // whose `--version` is the Codex version (openai/codex#5174, #43701).
    vscodeExtension: { id: 'openai.chatgpt', version: 'bundled-binary' },
  },
  process: {
    executables: ['codex', 'codex.exe'],
    scripts: [/\/@openai\/codex\/bin\/codex\.js$/],
    npmPackage: /^@openai\/codex(-[a-z0-9-]+)?$/,
  },
  configureClientId: '`[mcp_servers.<name>.oauth] client_id = "…"`',
  ourLogin: true,
  compatibility: 'codex',
};
