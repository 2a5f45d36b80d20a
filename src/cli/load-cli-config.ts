import { ConfigError, loadConfig, type Config } from '../config/index.js';
import type { CliIO } from './cli-io.js';
import type { TargetFlags } from './bridge-target.js';

/** Flags map onto the same keys as the environment variables they stand for. */
export function flagOverrides(flags: TargetFlags): Record<string, string | undefined> {
  return { CODEX_OSS_PROJECT: flags.project, PROXY_PORT: flags.port, PROXY_HOST: flags.host };
}

/**
 * Loads the full configuration for a verb that starts a daemon. On a ConfigError prints every
 * problem and returns undefined; the caller exits 2.
 */
export function loadConfigOrReport(flags: TargetFlags, io: CliIO): Config | undefined {
  try {
    return loadConfig({
      env: io.env,
      overrides: flagOverrides(flags),
      cwd: io.cwd,
      readProjectEnvFile: true,
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(
      `${error.message}\nFix these (environment variables or the matching flags) and run the command again; ` +
        '`codex-oss doctor` checks the whole setup.\n',
    );
    return undefined;
  }
}
