// Codex's keyring items through libsecret's `secret-tool`, for Linux installs that carry no
// @napi-rs/keyring binary (the VSIX bundles JavaScript only). The same rules as keyring-rs 3.6.3
// on Linux (secret_service.rs, what Codex 0.169 uses):
// - an entry is the items with {service, username} whose `target` is absent or "default"; more
//   than one is ambiguous (keyring-rs refuses it, so do we);
// - an update keeps the item's attributes and label. `secret-tool store` replaces the first item
//   whose attributes include the given ones and sets exactly the given attributes and label
//   (seen with gnome-keyring 42 here), so we store with the item's own full attribute set and
//   label; a new item gets {service, username}, which keyring-rs finds as well.
// `secret-tool search` prints each item's label and secret on stdout and its attributes on
// stderr, so the two cannot be paired item by item: we count items from stdout and read
// attributes from stderr only when a single item matched, else only to count other targets.
// Secrets travel on stdin and stdout only, never in argv.
import type { KeyringBatch, KeyringOp, KeyringOpResult, KeyringRunner } from './codexKeyring';
import { CODEX_KEYRING_SERVICE, CODEX_KEYRING_TIMEOUT_MS, firstLine, unreachableIfAllFailed } from './codexKeyring';
import { runCommand, type CommandRunner } from './runCommand';

export interface SecretToolKeyringOptions {
  service?: string;
  /** For each secret-tool call (a batch makes one to three per entry; the first that hangs ends it). */
  timeoutMs?: number;
  /** Environment of secret-tool (D-Bus session address, PATH). */
  env?: Record<string, string | undefined>;
  /** Tests point this at a missing program. */
  secretTool?: string;
  run?: CommandRunner;
}

/** The store cannot be used at all (secret-tool missing, no D-Bus, no answer): the batch ends. */
class Unreachable extends Error {}

interface Match {
  /** Items with {service, username}, whatever their target. */
  count: number;
  /** Of those, items keyring-rs would use (target absent or "default"). */
  eligible: number;
  /** The single item's attributes and label, when exactly one item matched. */
  only?: { attributes: [string, string][]; label: string | undefined };
  /** How many of the eligible items say target=default (one alone can be looked up by that). */
  defaultTargets: number;
}

export function secretToolKeyringRunner(options: SecretToolKeyringOptions = {}): KeyringRunner {
  const service = options.service ?? CODEX_KEYRING_SERVICE;
  const timeoutMs = options.timeoutMs ?? CODEX_KEYRING_TIMEOUT_MS;
  const file = options.secretTool ?? 'secret-tool';
  const run = options.run ?? runCommand;

  return async (ops: KeyringOp[]): Promise<KeyringBatch> => {
    const tool = async (args: string[], input?: string) => {
      const r = await run(file, args, { ...(input !== undefined ? { input } : {}), timeoutMs, env: { PATH: process.env.PATH, ...(options.env ?? process.env) } });
      if (r.timedOut) throw new Unreachable(`the OS keyring did not answer within ${(timeoutMs / 1000).toFixed(1)} s (a locked keyring waiting for an unlock prompt, or a D-Bus session that does not respond, looks like this)`);
      if (r.code === null) throw new Unreachable(/ENOENT/.test(r.stderr) ? 'neither the keyring module (@napi-rs/keyring) nor secret-tool (Debian/Ubuntu: libsecret-tools) is installed' : `secret-tool could not run: ${firstLine(r.stderr)}`);
      return r;
    };

    const match = async (account: string): Promise<Match> => {
      const r = await tool(['search', '--all', 'service', service, 'username', account]);
      // No item: exit 0 (gnome-keyring) or 1 with nothing printed; anything else on stderr is the service failing.
      if (r.code !== 0 && (r.stdout.trim() || r.stderr.trim())) throw new Unreachable(`secret-tool search failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
      const count = r.stdout.split('\n').filter((l) => /^\[.+\]$/.test(l)).length;
      const attributes = [...r.stderr.matchAll(/^attribute\.(\S+) = (.*)$/gm)].map((m) => [m[1]!, m[2]!] as [string, string]);
      const targets = attributes.filter(([k]) => k === 'target').map(([, v]) => v);
      const otherTargets = targets.filter((t) => t !== 'default').length;
      const label = /^label = (.*)$/m.exec(r.stdout)?.[1];
      return {
        count,
        eligible: count - otherTargets,
        defaultTargets: targets.length - otherTargets,
        ...(count === 1 ? { only: { attributes, label } } : {}),
      };
    };

    const ambiguous = (account: string, m: Match): KeyringOpResult => ({
      ok: false,
      ambiguous: true,
      error: `Entry is matched by ${m.eligible} credentials in the Secret Service (service "${service}", account "${account}")`,
    });
    const mixed = (account: string): KeyringOpResult => ({
      ok: false,
      error: `The Secret Service holds items for account "${account}" under other targets too; secret-tool cannot tell them apart. Use the client's own login, or remove the extra items with Seahorse.`,
    });

    const get = async (account: string): Promise<KeyringOpResult> => {
      const m = await match(account);
      if (m.eligible <= 0) return { ok: true, value: null };
      if (m.eligible > 1) return ambiguous(account, m);
      // One usable item: look it up by attributes that pick it alone.
      const pick = m.count === 1 ? ['service', service, 'username', account] : m.defaultTargets === 1 ? ['service', service, 'username', account, 'target', 'default'] : undefined;
      if (!pick) return mixed(account);
      const r = await tool(['lookup', ...pick]);
      if (r.code !== 0) return r.stdout || r.stderr.trim() ? { ok: false, error: `secret-tool lookup failed: ${firstLine(r.stderr) || `exit ${r.code}`}` } : { ok: true, value: null };
      return { ok: true, value: r.stdout };
    };

    const set = async (account: string, value: string): Promise<KeyringOpResult> => {
      const m = await match(account);
      if (m.eligible > 1) return ambiguous(account, m);
      let attributes: [string, string][];
      let label: string;
      if (m.count === 0) {
        attributes = [['service', service], ['username', account]];
        label = `${account}@${service}`;
      } else if (m.only && m.eligible === 1) {
        attributes = m.only.attributes;
        label = m.only.label ?? `${account}@${service}`;
      } else {
        // Only items under other targets (keyring-rs would add a new one; secret-tool would replace theirs), or a mix.
        return mixed(account);
      }
      const r = await tool(['store', `--label=${label}`, ...attributes.flat()], value);
      return r.code === 0 ? { ok: true } : { ok: false, error: `secret-tool store failed: ${firstLine(r.stderr) || `exit ${r.code}`}` };
    };

    const remove = async (account: string): Promise<KeyringOpResult> => {
      const m = await match(account);
      if (m.eligible <= 0) return { ok: true, deleted: false };
      if (m.eligible > 1) return ambiguous(account, m);
      if (!m.only) return mixed(account);
      // The item's full attribute set: `clear` removes every item carrying them, here that one.
      const r = await tool(['clear', ...m.only.attributes.flat()]);
      return r.code === 0 ? { ok: true, deleted: true } : { ok: false, error: `secret-tool clear failed: ${firstLine(r.stderr) || `exit ${r.code}`}` };
    };

    // A read batch is `find` plus a `get` per known key, and `find` reads every account itself:
    // each account is read once per batch (a write or removal of it forgets the answer).
    const read = new Map<string, Promise<KeyringOpResult>>();
    const readOnce = (account: string): Promise<KeyringOpResult> => {
      let r = read.get(account);
      if (!r) read.set(account, (r = get(account)));
      return r;
    };

    const find = async (): Promise<KeyringOpResult> => {
      const r = await tool(['search', '--all', 'service', service]);
      if (r.code !== 0 && (r.stdout.trim() || r.stderr.trim())) throw new Unreachable(`secret-tool search failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
      const accounts = [...new Set([...r.stderr.matchAll(/^attribute\.username = (.*)$/gm)].map((m) => m[1]!))];
      const found: { account: string; password: string }[] = [];
      for (const account of accounts) {
        const one = await readOnce(account);
        if (one.ok && typeof one.value === 'string') found.push({ account, password: one.value });
      }
      return { ok: true, found };
    };

    const results: KeyringOpResult[] = [];
    try {
      for (const op of ops) {
        if (op.op === 'get') results.push(await readOnce(op.account));
        else if (op.op === 'find') results.push(await find());
        else {
          read.delete(op.account);
          results.push(op.op === 'set' ? await set(op.account, op.value) : await remove(op.account));
        }
      }
    } catch (err) {
      if (err instanceof Unreachable) return { reachable: false, reason: err.message };
      throw err;
    }
    return unreachableIfAllFailed(results);
  };
}
