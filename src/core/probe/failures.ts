// What an exchange that produced no usable answer means for the user, for any probe step:
// refused (the URL may not be fetched), timeout, over the body cap, network or TLS failure.
import type { Finding } from '../model';
import { probeFinding } from './catalogue';
import { describeExchange, TLS_ERROR_CODES, type Exchange } from './http';

/** A finding for an exchange that failed before an HTTP answer could be judged; undefined when it got one. */
export function exchangeFailure(ex: Exchange, subject: string): Finding | undefined {
  const evidence = [describeExchange(ex.entry)];
  switch (ex.entry.outcome) {
    case 'refused':
      if (ex.refusal === 'insecure') {
        return probeFinding('probe.insecure-url', {
          title: `${subject} is plain http to a host that is not loopback`,
          detail: `${ex.entry.url} would carry tokens unencrypted. The MCP authorization spec requires HTTPS for every endpoint except loopback; nothing was sent. Use the https:// URL of the server.`,
          evidence,
        });
      }
      return probeFinding('probe.url-refused', {
        title: `${subject} was not fetched`,
        detail: `${ex.entry.error ?? 'The URL is not allowed'}. The probe only fetches http(s) URLs without credentials in them, never link-local addresses, and never sends a token to another origin.`,
        evidence,
      });
    case 'timeout':
      return probeFinding('probe.timeout', {
        title: `${subject} did not answer in time`,
        detail: `${ex.entry.url}: ${ex.entry.error ?? 'timeout'}. A server that hangs here hangs for the clients too; they show it as "Failed to connect" or keep waiting. Try again later, or ask the server's owner.`,
        evidence,
      });
    case 'too-large':
      return probeFinding('probe.too-large', {
        title: `${subject} sent more than the probe accepts`,
        detail: `${ex.entry.url}: ${ex.entry.error ?? 'body over the cap'}. Metadata and MCP answers are a few kilobytes; a body this large was not read further.`,
        evidence,
      });
    case 'network-error': {
      if (ex.errorCode && TLS_ERROR_CODES.has(ex.errorCode)) {
        return probeFinding('probe.tls-untrusted', {
          title: `${subject}: the TLS certificate is not trusted (${ex.errorCode})`,
          detail: `${ex.entry.url}: ${ex.entry.error}. When a corporate proxy inspects TLS, its CA must be given to Node-based tools: export NODE_EXTRA_CA_CERTS=<path to the CA's PEM file> in the environment that starts VS Code, Claude Code and Codex. Do not turn certificate checks off.`,
          evidence,
        });
      }
      return probeFinding('probe.unreachable', {
        title: `${subject} is unreachable (${ex.errorCode ?? 'network error'})`,
        detail: `${ex.entry.url}: ${ex.entry.error ?? 'the connection failed'}. Check the host name, the network or VPN, and the proxy settings (HTTPS_PROXY, VS Code's http.proxy). This is not an authentication problem: logging in again will not help.`,
        evidence,
      });
    }
    default:
      return undefined;
  }
}
