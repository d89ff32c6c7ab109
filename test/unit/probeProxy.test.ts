// The probe's proxy-aware fetch against a real loopback forward proxy and loopback targets: which
// requests go through the proxy (and in which form), which bypass it, what the caller gets back
// (redirects unfollowed, aborts honoured), and that proxy credentials never show.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { exchange, describeExchange } from '../../src/core/probe/http';
import { proxyFetchFor } from '../../src/core/probe/proxy';
import { startForwardProxy, type ForwardProxy } from '../lab/forwardProxy';
import { listenLoopback, readBody, sendJson, type LoopbackServer } from '../lab/loopbackServer';

/** What `exchange` would put in a trace for a rejected fetch: code and message of its cause. */
function failure(err: unknown): { code?: string; text: string } {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return { code: e.cause?.code, text: `${e.message} ${e.cause?.code ?? ''} ${e.cause?.message ?? ''}` };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected the request to fail');
}

/** Runs node with a deadline; resolves with its exit status and output. */
function runNode(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const init = (): RequestInit => ({ redirect: 'manual', signal: AbortSignal.timeout(5000) });

describe('probe proxy: which proxy, described', () => {
  const url = 'https://mcp.example.com/mcp';

  it('is direct when nothing is configured, and says so', () => {
    const p = proxyFetchFor({ env: {} });
    assert.equal(p.description, 'direct (no proxy configured)');
    assert.equal(p.routeFor(url).proxy, undefined);
  });

  it('masks user and password in the description and the route', () => {
    const user = `u${randomBytes(4).toString('hex')}`;
    const pass = `p${randomBytes(8).toString('hex')}`;
    const p = proxyFetchFor({ env: { HTTPS_PROXY: `http://${user}:${pass}@proxy.corp.example:3128` } });
    assert.equal(p.description, 'https via proxy http://***:***@proxy.corp.example:3128 (HTTPS_PROXY); http direct');
    assert.equal(p.routeFor(url).proxy, 'http://***:***@proxy.corp.example:3128');
    for (const text of [p.description, p.routeFor(url).description]) {
      assert.ok(!text.includes(user) && !text.includes(pass), text);
    }
  });

  it('prefers the explicit http.proxy over the environment, and lowercase over uppercase variables', () => {
    const env = { https_proxy: 'http://lower.example:1', HTTPS_PROXY: 'http://upper.example:2', HTTP_PROXY: 'http://plain.example:3' };
    assert.equal(proxyFetchFor({ env }).routeFor(url).proxy, 'http://lower.example:1');
    assert.equal(proxyFetchFor({ env, httpProxy: 'http://vscode.example:4' }).routeFor(url).description, 'via proxy http://vscode.example:4 (http.proxy)');
    // An empty setting (VS Code's default) is unset.
    assert.equal(proxyFetchFor({ env, httpProxy: '' }).routeFor(url).proxy, 'http://lower.example:1');
  });

  it('uses HTTP_PROXY for https when no HTTPS proxy is set, but never HTTPS_PROXY for http', () => {
    assert.equal(proxyFetchFor({ env: { HTTP_PROXY: 'http://plain.example:3' } }).routeFor(url).proxy, 'http://plain.example:3');
    const onlyHttps = proxyFetchFor({ env: { HTTPS_PROXY: 'http://tls.example:1' } });
    assert.equal(onlyHttps.routeFor('http://127.0.0.1:9/x').proxy, undefined);
    assert.equal(onlyHttps.description, 'https via proxy http://tls.example:1 (HTTPS_PROXY); http direct');
  });

  it('takes a proxy without a scheme as http://', () => {
    assert.equal(proxyFetchFor({ env: { HTTPS_PROXY: 'proxy.corp.example:8080' } }).routeFor(url).proxy, 'http://proxy.corp.example:8080');
  });

  it('follows curl’s NO_PROXY conventions', () => {
    const route = (noProxy: string, target: string) => proxyFetchFor({ env: { HTTPS_PROXY: 'http://proxy.example:1', HTTP_PROXY: 'http://proxy.example:1', NO_PROXY: noProxy } }).routeFor(target).description;
    const direct = (noProxy: string, target: string) => route(noProxy, target).startsWith('direct');
    // Name entries: the host and its subdomains, with or without a leading dot or `*.`.
    for (const entry of ['example.com', '.example.com', '*.example.com', 'EXAMPLE.com']) {
      assert.ok(direct(entry, 'https://example.com/'), entry);
      assert.ok(direct(entry, 'https://mcp.example.com/'), entry);
      assert.ok(!direct(entry, 'https://badexample.com/'), entry);
    }
    assert.equal(route('localhost, .example.com', 'https://a.example.com/'), 'direct (NO_PROXY entry .example.com)');
    // Ports: an entry with a port matches only that port (default ports count).
    assert.ok(direct('example.com:443', 'https://example.com/'));
    assert.ok(!direct('example.com:8443', 'https://example.com/'));
    assert.ok(direct('example.com:8443', 'https://example.com:8443/'));
    // `*` alone bypasses everything.
    assert.ok(direct('*', 'https://anything.example/'));
    // IP literals match exactly or by CIDR; name suffixes never match an IP host.
    assert.ok(direct('127.0.0.1', 'http://127.0.0.1:8080/'));
    assert.ok(!direct('0.0.1', 'http://127.0.0.1:8080/'));
    assert.ok(direct('10.0.0.0/8', 'https://10.20.30.40/'));
    assert.ok(!direct('10.0.0.0/8', 'https://11.0.0.1/'));
    assert.ok(direct('::1', 'http://[::1]:8080/'));
    assert.ok(direct('[::1]:8080', 'http://[::1]:8080/'));
    assert.ok(!direct('[::1]:8080', 'http://[::1]:9090/'));
    // No implicit loopback bypass (undici's EnvHttpProxyAgent, which Claude Code uses, has none).
    assert.ok(!direct('example.com', 'http://127.0.0.1:8080/'));
  });

  it('lets http.noProxy replace NO_PROXY', () => {
    const p = proxyFetchFor({ env: { HTTPS_PROXY: 'http://proxy.example:1', NO_PROXY: 'a.example' }, noProxy: ['b.example'] });
    assert.ok(p.routeFor('https://b.example/').description.startsWith('direct (http.noProxy'));
    assert.equal(p.routeFor('https://a.example/').proxy, 'http://proxy.example:1');
    assert.match(p.description, /not for: b\.example \(http\.noProxy\)/);
  });

  it('reports an unusable proxy without echoing it, and refuses to send rather than go direct', async () => {
    const pass = `p${randomBytes(8).toString('hex')}`;
    const broken = proxyFetchFor({ env: { HTTPS_PROXY: `http://user:${pass}@[not-a-host` } });
    assert.match(broken.description, /unusable proxy from HTTPS_PROXY \(it is not a URL\)/);
    assert.ok(broken.problem && !broken.problem.includes(pass));
    const err = failure(await rejection(broken.fetch(url, init())));
    assert.equal(err.code, 'PROXY_UNUSABLE');
    assert.ok(!err.text.includes(pass), err.text);
    assert.match(proxyFetchFor({ env: { HTTPS_PROXY: 'socks5://127.0.0.1:1080' } }).description, /socks5 proxies are not supported/);
  });
});

describe('probe proxy: requests through a loopback forward proxy', function () {
  this.timeout(15000);
  let target: LoopbackServer;
  let proxy: ForwardProxy;
  let other: ForwardProxy;
  const seen: string[] = [];
  /** The client port each request path came from: the proxy's upstream port when it went through the proxy. */
  const cameFrom = new Map<string, number | undefined>();
  const opened: { close(): Promise<void> }[] = [];
  const fetcher = (options: Parameters<typeof proxyFetchFor>[0]) => {
    const p = proxyFetchFor(options);
    opened.push(p);
    return p;
  };

  before(async () => {
    target = await listenLoopback(
      (req, res) => {
        seen.push(`${req.method} ${req.url}`);
        cameFrom.set(req.url ?? '', req.socket.remotePort);
        if (req.url === '/moved') {
          res.writeHead(302, { location: '/elsewhere' });
          res.end();
        } else if (req.url === '/echo') {
          return readBody(req).then((body) => sendJson(res, 200, { method: req.method, body, contentType: req.headers['content-type'] }));
        } else if (req.url === '/hang') {
          // Never answers: the caller's signal must end it.
        } else {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`hello ${req.url}`);
        }
      },
      (err) => console.error(err),
    );
    proxy = await startForwardProxy();
    other = await startForwardProxy();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((p) => p.close()));
  });
  after(async () => {
    await Promise.all([proxy.close(), other.close(), target.close()]);
  });

  it('sends an http request through HTTP_PROXY as an absolute-form request, and the answer arrives', async () => {
    const before = proxy.requests().length;
    const p = fetcher({ env: { HTTPS_PROXY: proxy.origin, HTTP_PROXY: proxy.origin } });
    const res = await p.fetch(`${target.origin}/via-env`, init());
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello /via-env');
    assert.deepEqual(proxy.requests().slice(before), [{ method: 'GET', target: `${target.origin}/via-env`, outcome: 'forwarded' }]);
    assert.ok(proxy.upstreamPorts().includes(cameFrom.get('/via-env')!), 'the target got the request from the proxy, not straight from us');
    assert.equal(p.description, `proxy ${proxy.origin} (HTTPS_PROXY, HTTP_PROXY)`);
  });

  it('carries a POST body through the proxy intact (exchange, as the probe sends an MCP initialize)', async () => {
    const p = fetcher({ env: { HTTP_PROXY: proxy.origin } });
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
    const ex = await exchange(
      { fetch: p.fetch, timeoutMs: 3000, maxBodyBytes: 4096 },
      { step: 'mcp', method: 'POST', url: `${target.origin}/echo`, headers: { 'content-type': 'application/json' }, body, read: 'full' },
    );
    assert.equal(ex.entry.outcome, 'ok', describeExchange(ex.entry));
    assert.deepEqual(JSON.parse(ex.body ?? ''), { method: 'POST', body, contentType: 'application/json' });
    assert.equal(proxy.requests().at(-1)?.target, `${target.origin}/echo`);
  });

  it('carries a repair’s request through the proxy as fetch would: a Headers object and a form body (what oauth4webapi sends)', async () => {
    const p = fetcher({ env: { HTTP_PROXY: proxy.origin } });
    const res = await p.fetch(`${target.origin}/echo`, { method: 'POST', headers: new Headers({ Accept: 'application/json' }), body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r-1' }), redirect: 'manual', signal: AbortSignal.timeout(5000) });
    assert.ok(res instanceof Response, 'the repairs get a real Response');
    assert.deepEqual(await res.json(), { method: 'POST', body: 'grant_type=refresh_token&refresh_token=r-1', contentType: 'application/x-www-form-urlencoded;charset=UTF-8' });
    assert.ok(proxy.upstreamPorts().includes(cameFrom.get('/echo')!));
  });

  it('goes direct when NO_PROXY names the target', async () => {
    const before = proxy.requests().length;
    const p = fetcher({ env: { HTTPS_PROXY: proxy.origin, HTTP_PROXY: proxy.origin, NO_PROXY: '127.0.0.1' } });
    const res = await p.fetch(`${target.origin}/bypass`, init());
    assert.equal(await res.text(), 'hello /bypass');
    assert.equal(proxy.requests().length, before);
    assert.ok(seen.includes('GET /bypass'));
  });

  it('uses the explicit http.proxy rather than the environment’s', async () => {
    const [a, b] = [proxy.requests().length, other.requests().length];
    const p = fetcher({ env: { HTTPS_PROXY: proxy.origin, HTTP_PROXY: proxy.origin }, httpProxy: other.origin });
    const res = await p.fetch(`${target.origin}/explicit`, init());
    assert.equal(await res.text(), 'hello /explicit');
    assert.equal(proxy.requests().length, a);
    assert.deepEqual(other.requests().slice(b).map((r) => r.target), [`${target.origin}/explicit`]);
  });

  it('hands a 3xx to the caller unfollowed (exchange reports the redirect)', async () => {
    const before = seen.length;
    const p = fetcher({ env: { HTTP_PROXY: proxy.origin } });
    const ex = await exchange({ fetch: p.fetch, timeoutMs: 3000, maxBodyBytes: 4096 }, { step: 'mcp', method: 'GET', url: `${target.origin}/moved`, read: 'full' });
    assert.equal(ex.entry.outcome, 'redirect');
    assert.equal(ex.status, 302);
    assert.equal(ex.entry.location, `${target.origin}/elsewhere`);
    assert.deepEqual(seen.slice(before), ['GET /moved']);
  });

  it('ends a hanging request through the proxy when the signal fires (exchange reports a timeout)', async () => {
    const p = fetcher({ env: { HTTP_PROXY: proxy.origin } });
    const started = Date.now();
    const ex = await exchange({ fetch: p.fetch, timeoutMs: 300, maxBodyBytes: 4096 }, { step: 'mcp', method: 'GET', url: `${target.origin}/hang`, read: 'full' });
    assert.equal(ex.entry.outcome, 'timeout', describeExchange(ex.entry));
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.ok(proxy.requests().some((r) => r.target === `${target.origin}/hang`));
  });

  it('tunnels https through CONNECT, to names the client never resolves itself', async () => {
    const before = proxy.requests().length;
    const p = fetcher({ env: { HTTPS_PROXY: proxy.origin } });
    // The lab proxy forwards to loopback only, so the 403 proves the name went to the proxy.
    const err = failure(await rejection(p.fetch('https://mcp.example.com/mcp', init())));
    assert.equal(err.code, 'PROXY_REFUSED');
    assert.match(err.text, new RegExp(`the proxy ${proxy.origin} answered 403 to CONNECT mcp\\.example\\.com:443`));
    assert.deepEqual(proxy.requests().slice(before), [{ method: 'CONNECT', target: 'mcp.example.com:443', outcome: 'denied' }]);
  });

  it('says the proxy is unreachable when it is', async () => {
    const gone = await startForwardProxy();
    await gone.close();
    const p = fetcher({ env: { HTTP_PROXY: gone.origin } });
    const err = failure(await rejection(p.fetch(`${target.origin}/x`, init())));
    assert.equal(err.code, 'ECONNREFUSED');
    assert.match(err.text, new RegExp(`cannot reach the proxy ${gone.origin}`));
  });

  it('through the proxy, never hands the request to a patched http.request (VS Code swaps the agent there, and with it the tunnel)', async () => {
    // The modules themselves (an import is a read-only view of them): what VS Code patches.
    const load = createRequire(__filename);
    const mutableHttp = load('node:http') as { request: typeof https.request };
    const mutableHttps = load('node:https') as { request: typeof https.request };
    const original = { http: mutableHttp.request, https: mutableHttps.request };
    const calls: string[] = [];
    // What VS Code's proxy support does to the modules in the extension host, reduced to a record.
    // Only calls of ours count: the lab proxy itself forwards with http.request to the target.
    const spy = (name: 'http' | 'https', fn: typeof https.request) =>
      ((...args: Parameters<typeof https.request>) => {
        const o = args.find((a) => a && typeof a === 'object' && !(a instanceof URL)) as https.RequestOptions | undefined;
        const toProxy = Number(o?.port) === proxy.port;
        const ours = toProxy || String(o?.path ?? '').startsWith('/direct');
        if (ours) calls.push(`${name}${toProxy ? ' to the proxy' : ' direct'}`);
        return fn(...args);
      }) as typeof https.request;
    mutableHttp.request = spy('http', original.http);
    mutableHttps.request = spy('https', original.https);
    try {
      const p = fetcher({ env: { HTTP_PROXY: proxy.origin, HTTPS_PROXY: proxy.origin, NO_PROXY: 'localhost' } });
      assert.equal(await (await p.fetch(`${target.origin}/unpatched`, init())).text(), 'hello /unpatched');
      assert.equal(failure(await rejection(p.fetch('https://mcp.example.com/mcp', init()))).code, 'PROXY_REFUSED');
      assert.deepEqual(calls, [], 'neither the absolute-form request nor the CONNECT went through http.request');
      assert.ok(proxy.upstreamPorts().includes(cameFrom.get('/unpatched')!));
      // A URL that bypasses the proxy is the host's to route: it does go through http.request.
      const direct = await p.send(`${target.origin.replace('127.0.0.1', 'localhost')}/direct`, init());
      await direct.body?.cancel();
      assert.deepEqual(calls, ['http direct']);
    } finally {
      mutableHttp.request = original.http;
      mutableHttps.request = original.https;
    }
  });

  describe('with credentials', () => {
    let guarded: ForwardProxy;
    const username = `lab${randomBytes(3).toString('hex')}`;
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    before(async () => {
      guarded = await startForwardProxy({ credentials: { username, password } });
    });
    after(() => guarded.close());
    const withCreds = (user: string, pass: string) => guarded.origin.replace('http://', `http://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@`);

    it('sends them to the proxy (absolute-form and CONNECT) and never shows them', async () => {
      const p = fetcher({ env: { HTTP_PROXY: withCreds(username, password) } });
      const res = await p.fetch(`${target.origin}/authed`, init());
      assert.equal(await res.text(), 'hello /authed');
      assert.equal(guarded.requests().at(-1)?.outcome, 'forwarded');
      const viaTunnel = p.fetch('https://mcp.example.com/', init()).catch((err: unknown) => err);
      // Authenticated, so the lab proxy got as far as refusing the non-loopback target.
      assert.equal(failure(await viaTunnel).code, 'PROXY_REFUSED');
      assert.deepEqual(guarded.requests().at(-1), { method: 'CONNECT', target: 'mcp.example.com:443', outcome: 'denied' });
      assert.ok(!p.description.includes(username) && !p.description.includes(password));
      assert.match(p.description, /^proxy http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+ \(HTTP_PROXY\)$/);
    });

    it('sends VS Code’s http.proxyAuthorization instead of the URL’s credentials', async () => {
      const header = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      const p = fetcher({ env: {}, httpProxy: withCreds(username, 'not-the-password'), proxyAuthorization: header });
      const res = await p.fetch('https://mcp.example.com/', init()).catch((err: unknown) => err);
      // Authenticated, so the lab proxy got as far as refusing the non-loopback target.
      assert.equal(failure(res).code, 'PROXY_REFUSED', failure(res).text);
      assert.deepEqual(guarded.requests().at(-1), { method: 'CONNECT', target: 'mcp.example.com:443', outcome: 'denied' });
      assert.ok(!p.description.includes(password) && !p.description.includes(header));
    });

    it('reports 407 for wrong credentials without echoing them', async () => {
      const wrong = `wrong-${randomBytes(6).toString('hex')}`;
      for (const url of [`${target.origin}/x`, 'https://mcp.example.com/']) {
        const p = fetcher({ env: { HTTPS_PROXY: withCreds(username, wrong), HTTP_PROXY: withCreds(username, wrong) } });
        const err = failure(await rejection(p.fetch(url, init())));
        assert.equal(err.code, 'PROXY_AUTH_REQUIRED', err.text);
        assert.match(err.text, /answered 407 \(proxy authentication required\)/);
        assert.ok(!err.text.includes(wrong) && !err.text.includes(username), err.text);
      }
      assert.deepEqual(guarded.requests().slice(-2).map((r) => `${r.method} ${r.outcome}`), ['GET auth-required', 'CONNECT auth-required']);
    });
  });
});

describe('probe proxy: TLS through and to the proxy', function () {
  this.timeout(30000);
  let dir: string;
  let certs: { ca: string; key: string; cert: string };
  let tlsTarget: https.Server;
  let tlsOrigin: string;
  let proxy: ForwardProxy;
  let tlsProxy: ForwardProxy;
  const tlsCameFrom = new Map<string, number | undefined>();

  before(async function () {
    if (spawnSync('openssl', ['version']).status !== 0) this.skip(); // Certificates are minted with openssl.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-proxy-tls-'));
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=probe proxy test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1']);
    fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '1', '-extfile', 'ext.cnf']);
    const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
    certs = { ca: read('ca.pem'), key: read('leaf.key'), cert: read('leaf.pem') };
    tlsTarget = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
      tlsCameFrom.set(req.url ?? '', req.socket.remotePort);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`tls hello ${req.url}`);
    });
    await new Promise<void>((resolve) => tlsTarget.listen(0, '127.0.0.1', () => resolve()));
    tlsOrigin = `https://127.0.0.1:${(tlsTarget.address() as AddressInfo).port}`;
    proxy = await startForwardProxy();
    tlsProxy = await startForwardProxy({ tls: { key: certs.key, cert: certs.cert } });
  });
  after(async () => {
    await Promise.all([proxy?.close(), tlsProxy?.close(), new Promise((r) => (tlsTarget ? (tlsTarget.closeAllConnections(), tlsTarget.close(r)) : r(undefined)))]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the target through the tunnel: an untrusted CA fails, even with http.proxyStrictSSL off', async () => {
    const before = proxy.requests().length;
    const p = proxyFetchFor({ env: { HTTPS_PROXY: proxy.origin }, strictSSL: false });
    try {
      const err = failure(await rejection(p.fetch(`${tlsOrigin}/`, init())));
      assert.equal(err.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', err.text);
      assert.deepEqual(proxy.requests().slice(before), [{ method: 'CONNECT', target: tlsOrigin.slice('https://'.length), outcome: 'forwarded' }]);
    } finally {
      await p.close();
    }
  });

  it('trusts a CA from NODE_EXTRA_CA_CERTS through the tunnel (fresh process: Node reads it at start)', async () => {
    fs.writeFileSync(path.join(dir, 'ca-only.pem'), certs.ca);
    const script = `
      const { proxyFetchFor } = require(${JSON.stringify(path.resolve(__dirname, '../../src/core/probe/proxy.ts'))});
      const p = proxyFetchFor({ env: { HTTPS_PROXY: ${JSON.stringify(proxy.origin)} } });
      p.fetch(${JSON.stringify(`${tlsOrigin}/extra-ca`)}, { redirect: 'manual', signal: AbortSignal.timeout(5000) })
        .then(async (r) => { console.log(JSON.stringify({ status: r.status, body: await r.text() })); await p.close(); })
        .catch((e) => { console.log(JSON.stringify({ error: e.cause?.code ?? e.message })); process.exitCode = 1; });`;
    const before = proxy.requests().length;
    // Not spawnSync: the proxy and the target live in this process's event loop.
    const child = await runNode(['--import', 'tsx', '-e', script], { ...process.env, NODE_EXTRA_CA_CERTS: path.join(dir, 'ca-only.pem') }, 20000);
    // A clean exit also shows the kept-alive proxy connection does not hold the process open.
    assert.equal(child.status, 0, `${child.stdout}\n${child.stderr}`);
    assert.deepEqual(JSON.parse(child.stdout.trim()), { status: 200, body: 'tls hello /extra-ca' });
    assert.equal(proxy.requests().slice(before).length, 1);
    assert.ok(proxy.upstreamPorts().includes(tlsCameFrom.get('/extra-ca')!), 'the TLS target got the request through the tunnel');
  });

  it('checks an https:// proxy’s own certificate unless http.proxyStrictSSL is off', async () => {
    // By name: undici sends the proxy's host as TLS server name, and Node warns for an IP there.
    const byName = tlsProxy.origin.replace('127.0.0.1', 'localhost');
    const strict = proxyFetchFor({ env: { HTTP_PROXY: byName } });
    const relaxed = proxyFetchFor({ env: { HTTP_PROXY: byName }, strictSSL: false });
    let plainFrom: number | undefined;
    const plain = await listenLoopback((req, res) => {
      plainFrom = req.socket.remotePort;
      res.end('plain behind tls proxy');
    }, () => undefined);
    try {
      const err = failure(await rejection(strict.fetch(`${plain.origin}/`, init())));
      assert.equal(err.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', err.text);
      const before = tlsProxy.requests().length;
      const res = await relaxed.fetch(`${plain.origin}/`, init());
      assert.equal(await res.text(), 'plain behind tls proxy');
      // Through an https:// proxy even plain http goes through a tunnel.
      assert.deepEqual(tlsProxy.requests().slice(before).map((r) => r.method), ['CONNECT']);
      assert.ok(tlsProxy.upstreamPorts().includes(plainFrom!), 'the plain target got the request through the tunnel, not straight from us');
      assert.match(relaxed.description, /the proxy's own certificate is not verified \(http\.proxyStrictSSL off\)/);
    } finally {
      await Promise.all([strict.close(), relaxed.close(), plain.close()]);
    }
  });
});
