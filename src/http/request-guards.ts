import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { BridgeError } from '../errors/index.js';

/**
 * The Host header must name this machine. A page on an attacker's domain that resolves to
 * 127.0.0.1 (DNS rebinding) still sends its own name in Host, so this stops it before auth.
 */
export function assertLoopbackHost(hostHeader: string | undefined, bindHost: string): void {
  if (!hostHeader) {
    throw new BridgeError(
      'forbidden_host',
      'Missing Host header; the bridge only answers loopback names.',
    );
  }
  const name = hostName(hostHeader).toLowerCase();
  if (isLoopbackName(name) || name === bindHost.toLowerCase()) return;
  throw new BridgeError(
    'forbidden_host',
    `Host "${name}" is not a loopback name; the bridge only answers localhost, 127.0.0.1 or [::1] (DNS-rebinding protection).`,
  );
}

export function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost') || name === '::1') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon > -1 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
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
