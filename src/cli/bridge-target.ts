import path from 'node:path';
import { DEFAULT_LOCAL_KEY } from '../config/index.js';
import type { CliIO } from './cli-io.js';
import { UsageError } from './cli-io.js';
import { parsePort } from './parse-flags.js';

/** Where a running bridge should be found, and the project whose pid file may name it. */
export interface BridgeTarget {
  readonly host: string;
  readonly port: number;
  /** http://host:port, with a wildcard bind address replaced by loopback. */
  readonly baseUrl: string;
  /** The local key clients send; never the upstream key. */
  readonly apiKey: string;
  /** Absolute project directory (holds `.codex-oss/run/bridge.pid`). */
  readonly project: string;
  /** How long a bridge may take to drain after SIGTERM. */
  readonly drainSeconds: number;
}

export interface TargetFlags {
  readonly host?: string | undefined;
  readonly port?: string | undefined;
  readonly project?: string | undefined;
}

/**
 * Resolves the target for the management verbs (stop, status, restart, doctor) without the full
 * config: they must keep working while the configuration is broken (that is often why the user
 * runs them). Precedence: flags, then BRIDGE_URL, then PROXY_HOST/PROXY_PORT, then defaults.
 */
export function resolveTarget(flags: TargetFlags, io: CliIO): BridgeTarget {
  const env = io.env;
  let host = flags.host;
  let port = parsePort(flags.port);
  const bridgeUrl = nonEmpty(env['BRIDGE_URL']);
  if (host === undefined && port === undefined && bridgeUrl !== undefined) {
    const fromUrl = parseBridgeUrl(bridgeUrl);
    host = fromUrl.host;
    port = fromUrl.port;
  }
  host ??= nonEmpty(env['PROXY_HOST']) ?? '127.0.0.1';
  port ??= parsePort(nonEmpty(env['PROXY_PORT']), 'PROXY_PORT') ?? 4000;
  const project = path.resolve(io.cwd, flags.project ?? nonEmpty(env['CODEX_OSS_PROJECT']) ?? '.');
  const apiKey =
    nonEmpty(env['PROXY_API_KEY']) ?? nonEmpty(env['LITELLM_MASTER_KEY']) ?? DEFAULT_LOCAL_KEY;
  const drain = Number(env['BRIDGE_SHUTDOWN_DRAIN_SECONDS']);
  const drainSeconds = Number.isFinite(drain) && drain >= 0 ? drain : 180;
  return { host, port, baseUrl: bridgeBaseUrl(host, port), apiKey, project, drainSeconds };
}

/** The URL a client on this machine uses to reach a bridge bound to host:port. */
export function bridgeBaseUrl(host: string, port: number): string {
  // A wildcard bind accepts loopback connections, and the bridge rejects non-loopback Host headers.
  let reachable = host;
  if (host === '0.0.0.0' || host === '') reachable = '127.0.0.1';
  else if (host === '::' || host === '[::]') reachable = '::1';
  const bracketed =
    reachable.includes(':') && !reachable.startsWith('[') ? `[${reachable}]` : reachable;
  return `http://${bracketed}:${port}`;
}

function parseBridgeUrl(value: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`BRIDGE_URL is not a URL: "${value}"; use e.g. http://127.0.0.1:4000`);
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
