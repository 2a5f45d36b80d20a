import { timingSafeEqual } from 'node:crypto';
import { BridgeError } from '../errors/index.js';

/**
 * The Host header must name this machine. A page on an attacker's domain that resolves to
 * 127.0.0.1 (DNS rebinding) still sends its own name in Host, so this stops it before auth.
 * Exactly one Host header, naming exactly a loopback name (or the bind address) with an optional
 * port; an absolute-URI request line must name the same authority (issue 9, Low #7).
 */
export function assertLoopbackHost(
  hostHeaders: readonly string[],
  requestTarget: string | undefined,
  bindHost: string,
): void {
  if (hostHeaders.length > 1) {
    throw new BridgeError(
      'invalid_request',
      `The request carries ${hostHeaders.length} Host headers; send exactly one.`,
    );
  }
  const host = hostHeaders[0];
  if (host === undefined || host === '') {
    throw new BridgeError(
      'forbidden_host',
      'Missing Host header; the bridge only answers loopback names.',
    );
  }
  if (!isLoopbackAuthority(host, bindHost)) {
    throw new BridgeError(
      'forbidden_host',
      `Host "${host.slice(0, 100)}" is not a loopback name; the bridge only answers localhost, 127.0.0.1 or [::1] (DNS-rebinding protection).`,
    );
  }
  if (requestTarget !== undefined && !requestTarget.startsWith('/') && requestTarget !== '*') {
    let authority: string | undefined;
    try {
      authority = new URL(requestTarget).host;
    } catch {
      authority = undefined;
    }
    if (authority === undefined || authority.toLowerCase() !== host.toLowerCase()) {
      throw new BridgeError(
        'forbidden_host',
        'The request line names a different authority than the Host header; the bridge only answers loopback names.',
      );
    }
  }
}

const loopbackAuthority = /^(?:localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(?::\d{1,5})?$/i;

/** `localhost`, `127.x.y.z` or `[::1]`, each with an optional port; or the bind address. */
export function isLoopbackAuthority(authority: string, bindHost: string): boolean {
  if (loopbackAuthority.test(authority)) {
    const quad = /^127\.(\d+)\.(\d+)\.(\d+)/.exec(authority);
    return quad === null || quad.slice(1).every((part) => Number(part) <= 255);
  }
  const bind = bindHost.toLowerCase();
  const name = bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind;
  const lower = authority.toLowerCase();
  if (lower === name) return true;
  return lower.startsWith(`${name}:`) && /^\d{1,5}$/.test(lower.slice(name.length + 1));
}

/** Constant-time check of `Authorization: Bearer <key>`. */
export function assertAuthorized(authorization: string | undefined, key: string): void {
  const expected = Buffer.from(`Bearer ${key}`);
  const given = Buffer.from(authorization ?? '');
  if (given.length === expected.length && timingSafeEqual(given, expected)) return;
  const why = authorization
    ? 'the Authorization header does not carry the bridge key'
    : 'the Authorization header is missing';
  throw new BridgeError(
    'invalid_api_key',
    `Unauthorized: ${why}. Send "Authorization: Bearer <PROXY_API_KEY>" (default sk-local-codex-bridge).`,
  );
}
