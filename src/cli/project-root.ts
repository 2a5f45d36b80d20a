import path from 'node:path';
import type { CliIO } from './cli-io.js';

/** --project, else CODEX_OSS_PROJECT, else the working directory: the same order as the daemon. */
export function projectRoot(flag: string | undefined, io: CliIO): string {
  return path.resolve(io.cwd, flag ?? io.env['CODEX_OSS_PROJECT'] ?? '.');
}
