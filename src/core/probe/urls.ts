// URL rules of the probe: which URLs may be fetched at all, the RFC 9728 / RFC 8414 well-known
// URLs in the order the MCP spec prescribes, and how a metadata `resource` compares with the
// server URL (RFC 9728 §3.3), with the SDK's looser rule beside it for the per-client verdict.

/** 127.0.0.0/8, ::1 and `localhost`: the only hosts plain http is allowed for (spec: Communication Security). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Link-local literals (169.254/16, fe80::/10) hold cloud metadata services: never fetched (SSRF,
 * RFC 9728 §7.7). The URL parser already turns decimal, hex and octal IPv4 forms into dotted
 * quads; an IPv4-mapped IPv6 literal (`[::ffff:169.254.169.254]`, which it writes as
 * `[::ffff:a9fe:a9fe]`) reaches the same address on a dual-stack socket and slipped through.
 */
function isLinkLocalHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return /^169\.254\.\d{1,3}\.\d{1,3}$/.test(h) || /^\[fe[89ab][0-9a-f]:/.test(h) || /^\[::ffff:a9fe:[0-9a-f]{1,4}\]$/.test(h);
}

export type UrlRefusal = 'not-http' | 'insecure' | 'link-local' | 'credentials-in-url';

/** Why a URL must not be fetched, or undefined when it may be. */
export function refusalFor(url: URL): UrlRefusal | undefined {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'not-http';
  if (url.username || url.password) return 'credentials-in-url';
  if (isLinkLocalHost(url.hostname)) return 'link-local';
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return 'insecure';
  return undefined;
}

export function describeRefusal(r: UrlRefusal): string {
  switch (r) {
    case 'not-http':
      return 'it is not an http(s) URL';
    case 'insecure':
      return 'it is plain http to a host that is not loopback (the spec requires HTTPS)';
    case 'link-local':
      return 'it points at a link-local address (where cloud metadata services live)';
    case 'credentials-in-url':
      return 'it carries a user name or password';
  }
}

export function parseUrl(text: string | undefined): URL | undefined {
  if (!text) return undefined;
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The path with one trailing slash removed, as RFC 8414 §3.1 / RFC 9728 §3.1 insertion wants it. */
function insertablePath(url: URL): string {
  const p = url.pathname;
  return p.endsWith('/') ? p.slice(0, -1) : p;
}

export type ResourceMetadataSource = 'header' | 'path' | 'root';

/** Well-known PRM candidates after the header: path-aware first (when there is a path), then root (2025-11-25 §Protected Resource Metadata Discovery Requirements). */
export function protectedResourceMetadataUrls(serverUrl: URL): { url: string; source: ResourceMetadataSource }[] {
  const path = insertablePath(serverUrl);
  const out: { url: string; source: ResourceMetadataSource }[] = [];
  if (path) out.push({ url: `${serverUrl.origin}/.well-known/oauth-protected-resource${path}`, source: 'path' });
  out.push({ url: `${serverUrl.origin}/.well-known/oauth-protected-resource`, source: 'root' });
  return out;
}

export type MetadataKind = 'oauth' | 'oidc';

/**
 * RFC 8414 and OpenID discovery URLs for an issuer, in the spec's order: with a path, OAuth
 * insertion, OIDC insertion, OIDC appending; without, OAuth then OIDC (2025-11-25 / 2026-07-28
 * §Authorization Server Metadata Discovery; the same order as sdk buildDiscoveryUrls).
 */
export function authorizationServerMetadataUrls(issuer: URL): { url: string; kind: MetadataKind }[] {
  const path = insertablePath(issuer);
  if (!path) {
    return [
      { url: `${issuer.origin}/.well-known/oauth-authorization-server`, kind: 'oauth' },
      { url: `${issuer.origin}/.well-known/openid-configuration`, kind: 'oidc' },
    ];
  }
  return [
    { url: `${issuer.origin}/.well-known/oauth-authorization-server${path}`, kind: 'oauth' },
    { url: `${issuer.origin}/.well-known/openid-configuration${path}`, kind: 'oidc' },
    { url: `${issuer.origin}${path}/.well-known/openid-configuration`, kind: 'oidc' },
  ];
}

/**
 * identical: the same string; equivalent: the same after URL normalisation (case of scheme and
 * host, default port; the spec says to accept these); trailing-slash: differs only by a final
 * `/`; prefix: same origin and a path prefix (what SDK-based clients accept); mismatch: anything
 * else; invalid: not an absolute URL, or it has a fragment.
 */
export type ResourceMatch = 'identical' | 'equivalent' | 'trailing-slash' | 'prefix' | 'mismatch' | 'invalid';

export interface ResourceComparison {
  match: ResourceMatch;
  /** The URL `resource` had to equal. */
  expected: string;
  /** sdk 1.32.2 checkResourceAllowed: same origin and the server URL's path starts with the resource's. */
  sdkAccepts: boolean;
}

/** The URL without its fragment: the resource identifier a client derives (sdk resourceUrlFromServerUrl). */
export function resourceIdentifier(url: URL): string {
  const u = new URL(url.href);
  u.hash = '';
  return u.href;
}

export function compareResource(resource: string, expected: string, alsoIdentical: string[] = []): ResourceComparison {
  const r = parseUrl(resource);
  const e = parseUrl(expected);
  if (!r || !e || resource.includes('#')) return { match: 'invalid', expected, sdkAccepts: false };
  const sdkAccepts = sdkResourceAllowed(e, r);
  if (resource === expected || alsoIdentical.includes(resource)) return { match: 'identical', expected, sdkAccepts };
  if (r.href === e.href) return { match: 'equivalent', expected, sdkAccepts };
  const strip = (u: URL) => (u.href.endsWith('/') ? u.href.slice(0, -1) : u.href);
  if (!r.search && !e.search && strip(r) === strip(e)) return { match: 'trailing-slash', expected, sdkAccepts };
  if (sdkAccepts) return { match: 'prefix', expected, sdkAccepts };
  return { match: 'mismatch', expected, sdkAccepts };
}

/** @modelcontextprotocol/sdk shared/auth-utils checkResourceAllowed, verbatim in logic. */
function sdkResourceAllowed(requested: URL, configured: URL): boolean {
  if (requested.origin !== configured.origin) return false;
  if (requested.pathname.length < configured.pathname.length) return false;
  const rp = requested.pathname.endsWith('/') ? requested.pathname : requested.pathname + '/';
  const cp = configured.pathname.endsWith('/') ? configured.pathname : configured.pathname + '/';
  return rp.startsWith(cp);
}

/** Two URLs naming the same place after normalisation (for stored-vs-discovered comparisons). */
export function sameUrl(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseUrl(a);
  const y = parseUrl(b);
  if (!x || !y) return false;
  const strip = (u: URL) => (u.href.endsWith('/') ? u.href.slice(0, -1) : u.href);
  return strip(x) === strip(y);
}

/** A URL fit to print: query values and user info masked (they may be keys), fragment dropped. */
export function redactUrl(text: string): string {
  const u = parseUrl(text);
  if (!u) return text.split(/[?#]/)[0] ?? '';
  u.hash = '';
  if (u.username || u.password) {
    u.username = '***';
    u.password = '';
  }
  if (u.search) {
    const names = [...u.searchParams.keys()];
    u.search = '';
    return `${u.href}?${names.map((n) => `${encodeURIComponent(n)}=***`).join('&')}`;
  }
  return u.href;
}
