// Finding codes of the Claude Code config reader; each is explained at the top of claudeCode.ts.
export const CONFIG_FINDING = {
  unreadable: 'config.unreadable',
  invalidJson: 'config.invalid-json',
  tooLarge: 'config.too-large',
  missingServers: 'config.missing-servers',
  invalidEntry: 'config.invalid-entry',
  unknownType: 'config.unknown-type',
  unsupportedType: 'config.unsupported-type',
  missingType: 'config.missing-type',
  missingUrl: 'config.missing-url',
  missingCommand: 'config.missing-command',
  invalidUrl: 'config.invalid-url',
  unsetVariable: 'config.unset-variable',
  projectServerPending: 'config.project-server-pending',
  projectServerRejected: 'config.project-server-rejected',
  managedExclusive: 'config.managed-exclusive',
  headersHelperUntrusted: 'config.headers-helper-untrusted',
} as const;
