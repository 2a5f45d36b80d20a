import type { Command } from './cli-io.js';
import { claimStatusCommand } from './commands/claim-status.js';
import { delegateCommand } from './commands/delegate.js';
import { doctorCommand } from './commands/doctor.js';
import { restartCommand } from './commands/restart.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';
import { installCommand } from './commands/install.js';
import { mcpCommand } from './commands/mcp.js';
import { missionCommand } from './commands/mission.js';
import { promoteCommand } from './commands/promote.js';
import { sessionCommand } from './commands/session.js';
import {
  auditMissionCommand,
  explainCommand,
  reindexCommand,
  runsCommand,
  showSummaryCommand,
  showTraceCommand,
  usageCommand,
} from './commands/run-inspection.js';
import { smokeCommand } from './commands/smoke.js';
import { upCommand } from './commands/up.js';
import { validateHandoffCommand } from './commands/validate-handoff.js';

/** Every verb, in the order `codex-oss --help` lists them. Add new verbs here. */
export const commands: readonly Command[] = [
  upCommand,
  stopCommand,
  restartCommand,
  statusCommand,
  doctorCommand,
  installCommand,
  missionCommand,
  validateHandoffCommand,
  runsCommand,
  showTraceCommand,
  showSummaryCommand,
  explainCommand,
  auditMissionCommand,
  promoteCommand,
  sessionCommand,
  mcpCommand,
  delegateCommand,
  usageCommand,
  reindexCommand,
  smokeCommand,
  claimStatusCommand,
];
