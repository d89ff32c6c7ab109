// mcp-auth-doctor: the command-line twin of the extension, over the same core.
import { EXIT_USAGE, UsageError, type CliCommand, type CliIo } from './io';
import { journalAtStart } from './journalAtStart';

// Each command is loaded when it runs: `status` never parses the repairs, the login flow or the
// journal's history code (esbuild puts each behind its own chunk).
const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  status: async () => (await import('./commands/status')).status,
  backup: async () => (await import('./commands/backup')).backup,
  backups: async () => (await import('./commands/backups')).backups,
  history: async () => (await import('./commands/history')).history,
  guard: async () => (await import('./commands/guard')).guard,
  restore: async () => (await import('./commands/restore')).restore,
  refresh: async () => (await import('./commands/refresh')).refresh,
  reset: async () => (await import('./commands/reset')).reset,
  login: async () => (await import('./commands/login')).login,
};

/** Commands that change no store (the journal may run beside them). */
const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set(['status']);

const USAGE = `Usage: mcp-auth-doctor <command> [options]

Commands:
  status [--json] [--cwd DIR] [--client ID] [--offline] [--no-live]
         [--revision 2025-03-26|2025-06-18|2025-11-25|2026-07-28] [--timeout S] [-v] [--read-keychain]
      List every MCP server the clients are configured with, probe each remote one
      (read-only: metadata discovery and one request with the stored token to its own server)
      and print its state and findings. --offline skips the network, --no-live never sends a
      stored token, -v adds details, evidence, references and the per-client verdict.
      --read-keychain (macOS) also reads Codex's Keychain items, which macOS asks you about.
  backup [--client ID]
      Snapshot the credential stores now (kept in ~/.mcp-auth-doctor/backups, 0700/0600).
  backups [--client ID]
      List snapshots: id, time, client and entries by token fingerprint.
  history [<server>] [--client ID] [--cwd DIR] [--json]
      The timeline of each server's stored credential across every snapshot (token
      fingerprints, expiry, client id, scope and what changed), with refresh-token rotations
      that were never persisted and client registrations piling up; exit 1 when one is found.
  guard [--client ID] [--interval MS] [--json]
      Run in the foreground: journal every change of the credential stores (watching their
      folders, polling every MS, default 2000) and print each loss with the command that puts
      it back. Stop with Ctrl-C or SIGTERM (exit 0).
  restore <id> [--entry <key>] [--yes] [--no-verify]
      Put a snapshot (or one entry of it) back, under the client's lock, after a snapshot of
      the current state. Without --yes it prints what would change and exits 1. Afterwards each
      restored access token is checked with its own server; exit 1 when one is dead.
  restore --lost [--client ID] [--yes] [--no-verify]
      Put back only what the journal's most recent loss took (the lost entries, and Claude
      Code's account login when it was lost) from the state just before it, merged into the
      store as it is now; an entry written since the loss stays. Without --yes it prints what
      comes back and what stays and exits 1; with it, it prints the undo command (restore <id>)
      and checks each restored access token with its own server: exit 0 when all are live.
      A store that is unparsable now is replaced whole with the state before the loss (--yes).
  refresh <server> [--client ID] [--cwd DIR] [--yes]
      Use the stored refresh token once (at the token endpoint discovery finds, with the stored
      client and the resource) and write the new tokens into that client's store after a
      snapshot, inside Codex's refresh lock; then probe the server again. Without --yes it prints
      the plan, running clients that hold the old token, and the client's own login command.
  reset <server> [--client ID] [--cwd DIR] [--yes]
      Remove that server's stored credential (only its entry, after a snapshot), as the
      client's own \`mcp logout\` does. Both print how to undo them (restore <snapshot> --entry
      <key>); exit 0 done, 1 failed or not confirmed, 2 a name that needs --client.
  login <server> [--client ID] [--cwd DIR] [--no-browser] [--yes]
      Log in to a server again (OAuth code flow with PKCE on a loopback redirect), reusing the
      client's stored registration while the authorization server accepts it, and write the
      tokens into that client's store after a snapshot. Without --yes it prints the plan and
      exits 1; with it, it prints the URL to open (and opens a browser unless --no-browser).

Client IDs: claude-code, codex, gemini-cli, opencode, mcp-remote (logins in ~/.mcp-auth; entries
in Claude Desktop, Cursor, Windsurf), vscode, cursor, claude-desktop, windsurf (configs only: their
tokens are in the editor's own storage, not read). backup, refresh and reset take the clients with
a store (claude-code, codex, gemini-cli, opencode, mcp-remote); login takes claude-code and codex;
the journal (history, guard, restore --lost) covers claude-code, codex, gemini-cli and opencode.

Honours HOME, CLAUDE_CONFIG_DIR, CODEX_HOME and MCP_REMOTE_CONFIG_DIR. Exit code: 0 healthy, 1 a finding is an
error or a server is not usable (not logged in, expired, rejected, unreachable), 2 the command
could not run.
`;

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(USAGE);
    return name ? 0 : EXIT_USAGE;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    io.stderr(`mcp-auth-doctor: unknown command "${name}"\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    const journal = rest.includes('--help') ? undefined : journalAtStart(name, io);
    // `status` writes nothing, so its reads need not wait for the journal's: both run at once and
    // the journal's store reads overlap the probe's network waits. Every other command waits, so
    // the state journaled is the one from before it touches anything.
    // --read-keychain asks macOS for Codex's items: one dialog at a time, so the journal goes first.
    if (READ_ONLY_COMMANDS.has(name) && !rest.includes('--read-keychain')) {
      const [code] = await Promise.all([load().then((command) => command(rest, io)), journal]);
      return code;
    }
    const [command] = await Promise.all([load(), journal]);
    return await command(rest, io);
  } catch (err) {
    // parseArgs throws TypeErrors with codes for bad flags; both are usage problems.
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    io.stderr(`mcp-auth-doctor ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    if (usage) io.stderr(`Run "mcp-auth-doctor --help" for usage.\n`);
    return EXIT_USAGE;
  }
}
