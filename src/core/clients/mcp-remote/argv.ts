// mcp-remote's command line, as a host app's entry starts it: the launcher (`npx -y mcp-remote@x`,
// `bunx`, `pnpm dlx`, `cmd /c npx …`, a global `mcp-remote`, `node …/mcp-remote/dist/proxy.js`)
// and then mcp-remote's own arguments, read the way 0.15.1 reads them (parseCommandLineArgs,
// node_modules/mcp-remote/dist/chunk-KJCT2FXL.js:33663-33990): `--header` / `--header-file` pairs
// are taken out first, then the server URL is args[0] and a callback port args[1]; every other
// flag is found with indexOf, so only its first occurrence counts.

/** How the entry pins mcp-remote: an exact version, a dist-tag (`latest`), a range, or nothing. */
export type VersionPin =
  | { kind: 'exact'; version: string }
  | { kind: 'tag'; tag: string }
  | { kind: 'range'; range: string }
  /** `npx mcp-remote` with no version, a global `mcp-remote`, or a script path: whatever is installed. */
  | { kind: 'unpinned' };

export interface Launch {
  /** How the bridge is started, for people: `npx`, `bunx`, `pnpm dlx`, `mcp-remote`, `node`. */
  launcher: string;
  pin: VersionPin;
  /** mcp-remote's own argv (what `process.argv.slice(2)` is inside it). */
  argv: string[];
  /** Index in the entry's `args` array where `argv` starts (for positions of single arguments). */
  argvOffset: number;
}

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** `mcp-remote`, `mcp-remote@latest`, `mcp-remote@0.1.37`, `mcp-remote@^0.1`; undefined for any other package. */
export function parsePackageSpec(spec: string): VersionPin | undefined {
  if (spec === 'mcp-remote') return { kind: 'unpinned' };
  if (!spec.startsWith('mcp-remote@')) return undefined;
  const v = spec.slice('mcp-remote@'.length);
  if (v === '') return { kind: 'unpinned' };
  if (SEMVER.test(v.replace(/^v/, ''))) return { kind: 'exact', version: v.replace(/^v/, '') };
  if (/^[A-Za-z][\w.-]*$/.test(v)) return { kind: 'tag', tag: v };
  return { kind: 'range', range: v };
}

function baseCommand(command: string): string {
  const base = command.split(/[\\/]/).pop() ?? command;
  return base.toLowerCase().replace(/\.(cmd|exe|bat|ps1)$/, '');
}

/** npm exec / npx options that take no value (npm 7+); anything else starting with `-` is assumed to take none either. */
const NPX_VALUE_OPTIONS = new Set(['-p', '--package', '-c', '--call', '--cache', '--registry', '--userconfig', '-w', '--workspace']);

/**
 * The mcp-remote invocation in an entry's command and args, or undefined when the entry runs
 * something else (it then belongs to another client, or to no one we read).
 */
export function parseLaunch(command: string, args: readonly string[]): Launch | undefined {
  return launchAt(command, args, 0);
}

function launchAt(command: string, args: readonly string[], offset: number): Launch | undefined {
  const base = baseCommand(command);
  // Windows hosts are told to use `cmd /c npx …` (npx is a .cmd script there).
  if (base === 'cmd' || base === 'powershell' || base === 'pwsh') {
    const i = args.findIndex((a) => /^[/-]c$/i.test(a) || /^-command$/i.test(a));
    if (i < 0 || i + 1 >= args.length) return undefined;
    return launchAt(args[i + 1]!, args.slice(i + 2), offset + i + 2);
  }
  if (base === 'mcp-remote') return { launcher: 'mcp-remote', pin: { kind: 'unpinned' }, argv: [...args], argvOffset: offset };
  if (base === 'node' || base === 'nodejs') {
    const script = args.findIndex((a) => !a.startsWith('-'));
    if (script < 0) return undefined;
    const p = args[script]!.replace(/\\/g, '/');
    if (!/(^|\/)mcp-remote\/dist\/proxy\.js$/.test(p) && !/(^|\/)node_modules\/\.bin\/mcp-remote$/.test(p)) return undefined;
    return { launcher: 'node', pin: { kind: 'unpinned' }, argv: args.slice(script + 1), argvOffset: offset + script + 1 };
  }
  let rest = args;
  let launcher = base;
  let restOffset = offset;
  if (base === 'pnpm' || base === 'yarn') {
    if (args[0] !== 'dlx') return undefined;
    launcher = `${base} dlx`;
    rest = args.slice(1);
    restOffset += 1;
  } else if (base !== 'npx' && base !== 'bunx' && base !== 'pnpx') {
    return undefined;
  }
  // Options before the package; `--package X` names the package and the next positional is its bin.
  let packagePin: VersionPin | undefined;
  let i = 0;
  for (; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-')) break;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = eq > 0 ? a.slice(eq + 1) : NPX_VALUE_OPTIONS.has(name) ? rest[++i] : undefined;
    if ((name === '-p' || name === '--package') && value !== undefined) packagePin = parsePackageSpec(value) ?? packagePin;
  }
  const spec = rest[i];
  if (spec === undefined) return undefined;
  const pin = packagePin && spec === 'mcp-remote' ? packagePin : parsePackageSpec(spec);
  if (!pin) return undefined;
  return { launcher, pin, argv: rest.slice(i + 1), argvOffset: restOffset + i + 1 };
}

export type TransportStrategy = 'http-first' | 'sse-first' | 'http-only' | 'sse-only';

/** What mcp-remote 0.15.1 makes of its argv; `problems` are what makes it exit before connecting. */
export interface McpRemoteArgs {
  serverUrl?: string;
  /** The callback port given as args[1] (after the header pairs are taken out); undefined when none parses. */
  specifiedPort?: number;
  /** From `--header Name:Value`, values exactly as written (mcp-remote hashes them before expanding `${VAR}`). */
  headers: Record<string, string>;
  /** `--header-file` paths, in order; their lines are headers too (and in the hash). */
  headerFiles: string[];
  allowHttp: boolean;
  transportStrategy: TransportStrategy;
  /** The redirect URI's host: `localhost` (`127.0.0.1` on Windows) unless `--host`. */
  host?: string;
  callbackPath: string;
  authorizeResource?: string;
  skipResourceParameter: boolean;
  authorizeParams: Record<string, string>;
  clientMetadataUrl?: string;
  useClientCredentials: boolean;
  useDeviceCode: boolean;
  tokenEndpoint?: string;
  /** `--static-oauth-client-info`: inline JSON, `@file`, or absent. */
  staticClientInfo: 'inline' | 'file' | 'none';
  /** The client_id of inline static client info, when it parses. */
  staticClientId?: string;
  /** Messages for arguments that stop mcp-remote at start-up (it exits 1). */
  problems: string[];
  /** Messages for arguments it ignores with a warning. */
  warnings: string[];
}

const HEADER_LINE = /^([A-Za-z0-9_-]+):\s*(.*)$/;
const RESERVED_AUTHORIZE_PARAMS = new Set(['client_id', 'redirect_uri', 'response_type', 'state', 'code_challenge', 'code_challenge_method']);
const LONG_POLL_PATH = '/wait-for-auth';
const MCP_REMOTE_ID_PATH = '/.mcp-remote/id';

export function parseMcpRemoteArgs(argvIn: readonly string[]): McpRemoteArgs {
  const args = [...argvIn];
  const out: McpRemoteArgs = {
    headers: {},
    headerFiles: [],
    allowHttp: false,
    transportStrategy: 'http-first',
    callbackPath: '/oauth/callback',
    skipResourceParameter: false,
    authorizeParams: {},
    useClientCredentials: false,
    useDeviceCode: false,
    staticClientInfo: 'none',
    problems: [],
    warnings: [],
  };
  // Header pairs come out first, so they never count as the URL or the port.
  let i = 0;
  while (i < args.length) {
    if (args[i] === '--header' && i < args.length - 1) {
      const m = HEADER_LINE.exec(args[i + 1]!);
      if (m) out.headers[m[1]!] = m[2]!;
      else out.warnings.push('a --header argument is not in Name:Value form; mcp-remote ignores it');
      args.splice(i, 2);
      continue;
    }
    if (args[i] === '--header-file' && i < args.length - 1) {
      out.headerFiles.push(args[i + 1]!);
      args.splice(i, 2);
      continue;
    }
    i++;
  }
  const valueOf = (flag: string): string | undefined => {
    const at = args.indexOf(flag);
    return at !== -1 && at < args.length - 1 ? args[at + 1] : undefined;
  };
  out.serverUrl = args[0];
  if (args[1]) {
    const port = parseInt(args[1], 10);
    if (port) out.specifiedPort = port;
  }
  out.allowHttp = args.includes('--allow-http');
  const strategy = valueOf('--transport');
  if (strategy !== undefined) {
    if (strategy === 'sse-only' || strategy === 'http-only' || strategy === 'sse-first' || strategy === 'http-first') out.transportStrategy = strategy;
    else out.warnings.push(`--transport ${strategy} is not a strategy mcp-remote knows; it uses http-first`);
  }
  const host = valueOf('--host');
  if (host !== undefined) out.host = host;
  const callbackPath = valueOf('--callback-path');
  if (callbackPath !== undefined && callbackPath.startsWith('/') && callbackPath !== LONG_POLL_PATH && callbackPath !== MCP_REMOTE_ID_PATH) out.callbackPath = callbackPath;
  const info = valueOf('--static-oauth-client-info');
  if (info !== undefined) {
    out.staticClientInfo = info.startsWith('@') ? 'file' : 'inline';
    if (out.staticClientInfo === 'inline') {
      try {
        const parsed: unknown = JSON.parse(info);
        const id = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>).client_id : undefined;
        if (typeof id === 'string') out.staticClientId = id;
      } catch {
        // mcp-remote expands ${VAR} first; a value that parses only then is left to it.
        if (!info.includes('${')) out.problems.push('--static-oauth-client-info is not valid JSON');
      }
    }
  }
  const cimd = valueOf('--client-metadata-url')?.trim();
  if (cimd !== undefined) {
    if (isClientMetadataUrl(cimd)) out.clientMetadataUrl = cimd;
    else out.warnings.push(`--client-metadata-url ${cimd} is not an HTTPS URL with a path; mcp-remote ignores it`);
  }
  out.useDeviceCode = args.includes('--device-code');
  out.useClientCredentials = args.includes('--client-credentials');
  const tokenAt = args.indexOf('--token-endpoint');
  if (tokenAt !== -1) {
    const raw = args[tokenAt + 1];
    if (tokenAt >= args.length - 1 || raw!.startsWith('--')) out.problems.push('--token-endpoint needs an HTTPS URL');
    else if (!out.useClientCredentials) out.problems.push('--token-endpoint is allowed only with --client-credentials');
    else {
      try {
        const u = new URL(raw!.trim());
        const loopback = u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
        if (u.protocol !== 'https:' && !loopback) out.problems.push('--token-endpoint must be HTTPS (or HTTP on loopback)');
        else if (u.username || u.password || u.hash) out.problems.push('--token-endpoint must not carry credentials or a fragment');
        else out.tokenEndpoint = u.toString();
      } catch {
        out.problems.push('--token-endpoint is not a URL');
      }
    }
  }
  out.skipResourceParameter = args.includes('--disable-resource-parameter');
  const resource = valueOf('--resource');
  if (resource !== undefined) {
    const value = resource.trim();
    if (value.length === 0) out.skipResourceParameter = true;
    else out.authorizeResource = value;
  }
  if (out.skipResourceParameter) {
    delete out.authorizeResource;
  } else if (out.authorizeResource !== undefined) {
    try {
      new URL(out.authorizeResource);
    } catch {
      out.problems.push(`--resource ${out.authorizeResource} is not an absolute URI`);
    }
  }
  for (let k = 0; k < args.length - 1; k++) {
    if (args[k] !== '--authorize-param') continue;
    const raw = args[k + 1]!;
    const sep = raw.indexOf('=');
    if (sep < 1) {
      out.problems.push(`--authorize-param ${raw} is not key=value`);
      continue;
    }
    const key = raw.slice(0, sep).trim();
    if (RESERVED_AUTHORIZE_PARAMS.has(key)) {
      out.problems.push(`--authorize-param cannot set ${key}`);
      continue;
    }
    out.authorizeParams[key] = raw.slice(sep + 1);
  }
  if (out.serverUrl === undefined) {
    out.problems.push('no server URL (mcp-remote prints its usage and exits)');
  } else {
    let url: URL | undefined;
    try {
      url = new URL(out.serverUrl);
    } catch {
      out.problems.push(`${out.serverUrl} is not a URL`);
    }
    if (url) {
      const localhost = (url.hostname === 'localhost' || url.hostname === '127.0.0.1') && url.protocol === 'http:';
      if (!(url.protocol === 'https:' || localhost || out.allowHttp)) out.problems.push(`${url.protocol} URLs other than http://localhost are refused without --allow-http`);
    }
  }
  return out;
}

function isClientMetadataUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' && u.pathname !== '/';
  } catch {
    return false;
  }
}

/** `${VAR}` in a header value, as mcp-remote expands it (an unset variable is left as written). */
export function expandHeaderValue(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\{([^}]+)}/g, (match, name: string) => (Object.hasOwn(env, name) && env[name] !== undefined ? env[name]! : match));
}

/** Header-file lines (`Name: value`, `#` comments, blank lines skipped), as readHeaderFile does. */
export function parseHeaderFile(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const m = HEADER_LINE.exec(trimmed);
    if (m) headers[m[1]!] = m[2]!;
  }
  return headers;
}
