// How the probe's requests go out: through the proxy the user configured (VS Code `http.proxy`, or
// the HTTPS_PROXY / HTTP_PROXY environment the CLI clients also read) or direct. Decides per URL,
// honours NO_PROXY, and never lets proxy credentials reach a description or an error.
//
// Conventions, chosen to match what Claude Code and curl do with the same environment:
// - https:// URLs use https_proxy, HTTPS_PROXY, http_proxy, HTTP_PROXY (first non-empty);
//   http:// URLs use http_proxy, HTTP_PROXY. Lowercase first, as curl and undici's
//   EnvHttpProxyAgent do. An explicit proxy (VS Code `http.proxy`) wins for both schemes.
// - NO_PROXY (no_proxy first) is curl's list: comma (or space) separated; `*` bypasses every
//   host; `example.com`, `.example.com` and `*.example.com` all match example.com and its
//   subdomains; `host:port` limits an entry to one port; IP literals ([::1] or ::1) match exactly
//   and `10.0.0.0/8` by CIDR (curl >= 7.86), and name entries never match an IP host. VS Code's
//   `http.noProxy`, when it has entries, replaces NO_PROXY (as @vscode/proxy-agent does).
// - No implicit bypass for loopback: undici's EnvHttpProxyAgent (what Claude Code uses) proxies
//   127.0.0.1 unless NO_PROXY names it, so the probe does the same and shows what the client sees.
// - http:// targets go to the proxy as absolute-form requests (`GET http://host/path`), https://
//   targets through a CONNECT tunnel; TLS to the target is verified end to end as always.
//
// NODE_EXTRA_CA_CERTS needs nothing here: no `ca` option is ever set, so the TLS of the tunnel
// (nodeTransport.ts) uses Node's default store, which already holds those certificates.
//
// Requests through a proxy go over node:http (nodeTransport.ts), not undici: undici was 525 KB
// of the bundle (a third of the VSIX) for this alone.
import { BlockList, isIP } from 'node:net';
import type { FetchLike } from './http';
import { nodeProbeFetch, proxiedProbeFetch, toWebResponse, type ProbeFetch } from './nodeTransport';

export interface ProxyOptions {
  /** The environment to read HTTPS_PROXY, HTTP_PROXY, NO_PROXY (and lowercase forms) from; process.env is never read. */
  env: Record<string, string | undefined>;
  /** An explicit proxy (VS Code `http.proxy`); wins over the environment. Empty means unset. */
  httpProxy?: string;
  /** Hosts that bypass the proxy (VS Code `http.noProxy`); when non-empty, replaces NO_PROXY. */
  noProxy?: string[];
  /** VS Code `http.proxyStrictSSL`: false accepts any certificate from an https:// proxy itself; targets are always verified. */
  strictSSL?: boolean;
  /** VS Code `http.proxyAuthorization`: the Proxy-Authorization value for whichever proxy is used (wins over user:pass in its URL); never shown. */
  proxyAuthorization?: string;
}

/** How one URL goes out. */
export interface ProxyRoute {
  /** The proxy with credentials masked (`http://***:***@proxy.corp:3128`), or undefined for a direct connection. */
  proxy?: string;
  /** In words, for evidence: `via proxy http://proxy.corp:3128 (HTTPS_PROXY)`, `direct (NO_PROXY entry .corp)`, `direct`. */
  description: string;
}

export interface ProxiedFetch {
  /** Sends through the proxy chosen for each URL and answers with a fetch Response (for oauth4webapi); direct URLs use the global fetch. */
  fetch: FetchLike;
  /** The same routes for the probe's exchange: node:http both direct and through the proxy, no Response built. */
  send: ProbeFetch;
  /** The whole setup in words, credentials masked: `direct (no proxy configured)`, `proxy http://proxy.corp:3128 (HTTPS_PROXY); not for: localhost (NO_PROXY)`. */
  description: string;
  /** The route a given URL takes. */
  routeFor(url: string | URL): ProxyRoute;
  /** Set when a configured proxy cannot be used (not a URL, unsupported scheme); requests that would use it fail with code PROXY_UNUSABLE. */
  problem?: string;
  /** Closes the connections kept to proxies (later requests open new ones). */
  close(): Promise<void>;
}

/** `code` on the `cause` of a rejected fetch, next to Node's own codes (ECONNREFUSED, CERT_HAS_EXPIRED, …). */
export type ProxyErrorCode = 'PROXY_UNUSABLE' | 'PROXY_AUTH_REQUIRED' | 'PROXY_REFUSED';

type ProxySource = 'http.proxy' | 'https_proxy' | 'HTTPS_PROXY' | 'http_proxy' | 'HTTP_PROXY';

interface ProxyChoice {
  source: ProxySource;
  /** Credentials stripped; what nodeTransport.ts connects to. */
  url?: URL;
  /** `Basic …` from the URL's user and password. */
  authorization?: string;
  masked: string;
  /** Why it cannot be used (never echoes the configured text). */
  problem?: string;
}

type NoProxyRule =
  | { kind: 'all'; text: string }
  | { kind: 'name'; text: string; name: string; port?: number }
  | { kind: 'ip'; text: string; list: BlockList; port?: number };

interface NoProxy {
  rules: NoProxyRule[];
  source?: 'http.noProxy' | 'no_proxy' | 'NO_PROXY';
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

export function proxyFetchFor(options: ProxyOptions): ProxiedFetch {
  const env = options.env;
  const explicit = nonEmpty(options.httpProxy);
  const https = explicit
    ? parseProxy(explicit, 'http.proxy')
    : firstProxy(env, ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY']);
  const http = explicit ? https : firstProxy(env, ['http_proxy', 'HTTP_PROXY']);
  const noProxy = noProxyFrom(options.noProxy, env);
  const relaxProxyTls = options.strictSSL === false;
  const proxyAuthorization = nonEmpty(options.proxyAuthorization);

  const choiceFor = (url: URL): { choice?: ProxyChoice; bypass?: NoProxyRule } => {
    const choice = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!choice) return {};
    const bypass = noProxyMatch(noProxy.rules, url);
    return bypass ? { bypass } : { choice };
  };

  const routeFor = (input: string | URL): ProxyRoute => {
    const url = new URL(String(input));
    const { choice, bypass } = choiceFor(url);
    if (bypass) return { description: `direct (${noProxyLabel(noProxy)} entry ${bypass.text})` };
    if (!choice) return { description: 'direct' };
    if (choice.problem) return { proxy: choice.masked, description: `not sent: the proxy from ${choice.source} is unusable (${choice.problem})` };
    return { proxy: choice.masked, description: `via proxy ${choice.masked} (${choice.source})` };
  };

  const description = describe(http, https, noProxy, relaxProxyTls);
  const problem = [https, http].find((c) => c?.problem);
  if (!https && !http) {
    return { fetch: (input, init) => globalThis.fetch(input, init), send: nodeProbeFetch, description, routeFor, close: async () => undefined };
  }

  // Credentials travel as a header we build (never inside a URL); plain http targets behind an
  // http:// proxy go as absolute-form requests, as curl sends them (many proxies refuse CONNECT
  // to anything but 443); http.proxyStrictSSL=false relaxes the proxy's own TLS, never the target's.
  const send: ProbeFetch = async (input, init = {}) => {
    const url = new URL(String(input));
    const { choice } = choiceFor(url);
    if (!choice) return nodeProbeFetch(input, init);
    if (choice.problem || !choice.url) {
      throw fetchFailed('PROXY_UNUSABLE', `the proxy from ${choice.source} is unusable (${choice.problem ?? 'no URL'})`);
    }
    return proxiedProbeFetch(url, init, { url: choice.url, ...((proxyAuthorization ?? choice.authorization) ? { authorization: proxyAuthorization ?? choice.authorization } : {}), relaxTls: relaxProxyTls, masked: choice.masked });
  };

  const fetch: FetchLike = async (input, init) => {
    // Direct URLs keep the global fetch: in the extension host it is VS Code's, with its proxy rules.
    if (!choiceFor(new URL(String(input))).choice) return globalThis.fetch(input, init);
    return toWebResponse(await send(input, init));
  };

  return {
    fetch,
    send,
    description,
    routeFor,
    ...(problem?.problem ? { problem: `the proxy from ${problem.source} is unusable (${problem.problem})` } : {}),
    // No connection is kept to a proxy: each request has its own (agent: false).
    close: async () => undefined,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

function firstProxy(env: Record<string, string | undefined>, names: ProxySource[]): ProxyChoice | undefined {
  for (const name of names) {
    const value = nonEmpty(env[name]);
    if (value) return parseProxy(value, name);
  }
  return undefined;
}

/** Parses a proxy setting; the result never holds the configured text, only its masked form. */
function parseProxy(text: string, source: ProxySource): ProxyChoice {
  // curl and VS Code take `proxy.corp:3128` as an http proxy.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { source, masked: '(unusable)', problem: 'it is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { source, masked: `${url.protocol}//…`, problem: `${url.protocol.slice(0, -1)} proxies are not supported, only http:// and https://` };
  }
  if (!url.hostname) return { source, masked: '(unusable)', problem: 'it has no host' };
  const user = safeDecode(url.username);
  const password = safeDecode(url.password);
  const authorization = url.username || url.password ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : undefined;
  const masked = `${url.protocol}//${url.username || url.password ? (url.password ? '***:***@' : '***@') : ''}${url.host}`;
  const bare = new URL(`${url.protocol}//${url.host}`);
  return { source, url: bare, masked, ...(authorization ? { authorization } : {}) };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function noProxyFrom(configured: string[] | undefined, env: Record<string, string | undefined>): NoProxy {
  const fromConfig = (configured ?? []).flatMap(splitNoProxy);
  if (fromConfig.length) return { rules: fromConfig.flatMap(parseNoProxyEntry), source: 'http.noProxy' };
  for (const name of ['no_proxy', 'NO_PROXY'] as const) {
    const value = nonEmpty(env[name]);
    if (value) return { rules: splitNoProxy(value).flatMap(parseNoProxyEntry), source: name };
  }
  return { rules: [] };
}

function splitNoProxy(value: string): string[] {
  return value.split(/[,\s]+/).filter(Boolean);
}

function parseNoProxyEntry(raw: string): NoProxyRule[] {
  const text = raw.trim().toLowerCase();
  if (!text) return [];
  if (text === '*') return [{ kind: 'all', text }];
  let host = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    port = bracketed[2] ? Number(bracketed[2]) : undefined;
  } else if (!isIP(text) && !text.includes('/')) {
    const withPort = /^(.+):(\d+)$/.exec(text);
    if (withPort) {
      host = withPort[1] ?? '';
      port = Number(withPort[2]);
    }
  }
  const cidr = /^(.+)\/(\d{1,3})$/.exec(host);
  const address = cidr ? (cidr[1] ?? '') : host;
  const family = isIP(address);
  if (family) {
    const list = new BlockList();
    const type = family === 6 ? 'ipv6' : 'ipv4';
    try {
      if (cidr) list.addSubnet(address, Number(cidr[2]), type);
      else list.addAddress(address, type);
    } catch {
      return []; // A prefix longer than the address: no host can match it.
    }
    return [{ kind: 'ip', text, list, ...(port ? { port } : {}) }];
  }
  if (cidr) return [];
  const name = host.replace(/^\*?\./, '').replace(/\.$/, '');
  return name ? [{ kind: 'name', text, name, ...(port ? { port } : {}) }] : [];
}

/** The NO_PROXY entry that sends this URL direct, if any. */
function noProxyMatch(rules: NoProxyRule[], url: URL): NoProxyRule | undefined {
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const port = url.port ? Number(url.port) : (DEFAULT_PORTS[url.protocol] ?? 0);
  const family = isIP(host);
  return rules.find((rule) => {
    if (rule.kind === 'all') return true;
    if (rule.port !== undefined && rule.port !== port) return false;
    if (rule.kind === 'ip') return family !== 0 && rule.list.check(host, family === 6 ? 'ipv6' : 'ipv4');
    return family === 0 && (host === rule.name || host.endsWith(`.${rule.name}`));
  });
}

function noProxyLabel(noProxy: NoProxy): string {
  return noProxy.source ?? 'NO_PROXY';
}

function describe(http: ProxyChoice | undefined, https: ProxyChoice | undefined, noProxy: NoProxy, relaxProxyTls: boolean): string {
  if (!http && !https) return 'direct (no proxy configured)';
  const one = (c: ProxyChoice) => (c.problem ? `an unusable proxy from ${c.source} (${c.problem})` : `proxy ${c.masked} (${c.source})`);
  let text: string;
  if (http && https && http.masked === https.masked && !http.problem && !https.problem) {
    text = `proxy ${https.masked} (${[...new Set([https.source, http.source])].join(', ')})`;
  } else {
    text = [https ? `https via ${one(https)}` : 'https direct', http ? `http via ${one(http)}` : 'http direct'].join('; ');
  }
  if (noProxy.rules.some((r) => r.kind === 'all')) return `direct (${noProxyLabel(noProxy)}=* bypasses ${text})`;
  if (noProxy.rules.length) {
    const shown = noProxy.rules.slice(0, 8).map((r) => r.text);
    const more = noProxy.rules.length > shown.length ? ` and ${noProxy.rules.length - shown.length} more` : '';
    text += `; not for: ${shown.join(', ')}${more} (${noProxyLabel(noProxy)})`;
  }
  const tlsProxy = [http, https].some((c) => c?.url?.protocol === 'https:');
  if (relaxProxyTls && tlsProxy) text += "; the proxy's own certificate is not verified (http.proxyStrictSSL off)";
  return text;
}

function fetchFailed(code: ProxyErrorCode | string, message: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

