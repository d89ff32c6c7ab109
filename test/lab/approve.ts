// What a user's browser does with an authorization URL on the lab: GET it and follow the redirects
// with cookies (oidc-provider binds each interaction to its `_interaction` / `_interaction_resume`
// cookies), until a redirect leaves the authorization server. The lab approves every interaction
// without a page, so that last Location is the client's redirect_uri with `code` (or `error`).

export interface ApproveOptions {
  timeoutMs?: number;
  maxHops?: number;
}

export class AuthorizationFailed extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Returns the redirect URL that leaves the authorization server (the client's redirect_uri with its query). */
export async function followAuthorization(authorizationUrl: string, options: ApproveOptions = {}): Promise<string> {
  const origin = new URL(authorizationUrl).origin;
  const jar = new Map<string, string>();
  const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  let url = authorizationUrl;
  for (let hop = 0; hop < (options.maxHops ?? 12); hop++) {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', signal, headers: cookie ? { cookie } : {} });
    for (const line of res.headers.getSetCookie()) remember(jar, line);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      const next = new URL(location, url);
      if (next.origin !== origin) return next.href;
      url = next.href;
      continue;
    }
    const body = (await res.text()).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
    throw new AuthorizationFailed(`authorization stopped at ${new URL(url).pathname} with HTTP ${res.status}: ${body}`, res.status);
  }
  throw new AuthorizationFailed('authorization did not leave the authorization server within the hop limit', 0);
}

/** Keeps `name=value` of a Set-Cookie line; a cookie set to expire is dropped. Paths are ignored: the names differ. */
function remember(jar: Map<string, string>, line: string): void {
  const [pair = '', ...attributes] = line.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return;
  const name = pair.slice(0, eq).trim();
  const expired = attributes.some((a) => {
    const [k = '', v = ''] = a.trim().split('=');
    if (k.toLowerCase() === 'max-age') return Number(v) <= 0;
    if (k.toLowerCase() === 'expires') return Date.parse(a.trim().slice(8)) <= Date.now();
    return false;
  });
  if (expired) jar.delete(name);
  else jar.set(name, pair.slice(eq + 1).trim());
}
