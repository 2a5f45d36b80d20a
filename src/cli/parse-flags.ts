import { UsageError } from './cli-io.js';

/**
 * Runs a `node:util` parseArgs call and turns its errors (unknown flag, missing value) into
 * UsageErrors, so main prints them next to the command's usage instead of a stack trace. Taking a
 * thunk keeps parseArgs's precise result type at each call site.
 */
export function parseFlags<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A TCP port from a flag. 0 is refused: stop and status must find the daemon on a fixed port. */
export function parsePort(value: string | undefined, flag = '--port'): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`${flag} must be a port number from 1 to 65535, got "${value}"`);
  }
  return port;
}
