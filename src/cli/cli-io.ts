/** Where a command writes. A plain `write` keeps tests free to pass string collectors. */
export interface Writer {
  write(chunk: string): unknown;
}

/**
 * Everything a command may touch of the outside world. The real CLI passes the process's own
 * streams, environment and working directory; tests run commands in-process with collectors.
 */
export interface CliIO {
  readonly stdout: Writer;
  readonly stderr: Writer;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export interface Command {
  /** The verb, as typed after `codex-oss`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The full usage text printed by `codex-oss help <verb>` and `<verb> --help`. */
  readonly usage: string;
  /** Resolves to the process exit code: 0 success, 1 failure, 2 usage or configuration error. */
  run(args: string[], io: CliIO): Promise<number>;
}

/** A mistake in how the command was invoked; main prints it with the usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
