import type { Command } from './cli-io.js';
import { doctorCommand } from './commands/doctor.js';
import { restartCommand } from './commands/restart.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';
import { upCommand } from './commands/up.js';

/** Every verb, in the order `codex-oss --help` lists them. Add new verbs here. */
export const commands: readonly Command[] = [
  upCommand,
  stopCommand,
  restartCommand,
  statusCommand,
  doctorCommand,
];
