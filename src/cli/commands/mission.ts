import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BridgeError } from '../../errors/index.js';
import {
  buildMissionTemplate,
  compileMission,
  isMissionInputError,
  missionTiers,
  renderHandoff,
  type MissionTier,
} from '../../mission/index.js';
import type { CliIO, Command } from '../cli-io.js';
import { UsageError } from '../cli-io.js';
import { loadConfigOrReport } from '../load-cli-config.js';
import { parseFlags } from '../parse-flags.js';

const usage = `Usage:
  codex-oss mission template --tier A2|A3|A4|A5|A6 [--objective TEXT] [--allowed-root DIR]… [--allowed-path FILE]…
                             [--mission-id ID] [--handoff]
  codex-oss mission compile --objective TEXT [--tier A3] [--allowed-root DIR]… [--allowed-path FILE]…
                            [--objective-style deterministic_lookup|open_investigation|implementation]
                            [--answer-obligation Q]… [--must-inspect PATH]… [--owned-path PATH]…
                            [--verification-command "npm test"]… [--risk-tier low|medium|critical]
                            [--tool-budget N] [--time-budget-seconds N] [--max-cost-usd N] [--max-output-tokens N]
                            [--apply-mode isolated|temp_project] [--allow-broad-read-scope] [--handoff]
  codex-oss mission run FILE|- [--model mission-a3-kimi] [--project PATH] [--continue MISSION_ID] [--json]

template  prints a valid MissionV1 skeleton to edit (--handoff wraps it in <OSS_HANDOFF_JSON> tags).
compile   builds and validates a mission from flags; errors name the field and why.
run       runs a mission in this process (no daemon, no HTTP): FILE holds a handoff block or a task
          contract ("-" reads stdin). Progress goes to stderr, the report to stdout.
          --continue ID starts from that earlier run's report and evidence, in its scope.
          Exit codes: 0 COMPLETE/VALID/VERIFIED, 3 PARTIAL/APPLIED_UNVERIFIED, 4 ESCALATE,
          5 INVALID/VERIFICATION_FAILED, 1 FAILED, 2 usage or configuration error.
`;

export const missionCommand: Command = {
  name: 'mission',
  summary: 'write, compile and run MissionV1 handoffs',
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'template':
        return template(rest, io);
      case 'compile':
        return compile(rest, io);
      case 'run':
        return runMission(rest, io);
      case undefined:
      default:
        throw new UsageError(
          sub
            ? `unknown mission subcommand "${sub}"`
            : 'mission needs a subcommand: template, compile or run',
        );
    }
  },
};

function template(args: string[], io: CliIO): number {
  const { values } = parseFlags(() =>
    parseArgs({
      args,
      strict: true,
      options: {
        tier: { type: 'string', default: 'A3' },
        objective: { type: 'string' },
        'mission-id': { type: 'string' },
        'allowed-root': { type: 'string', multiple: true },
        'allowed-path': { type: 'string', multiple: true },
        handoff: { type: 'boolean', default: false },
      },
    }),
  );
  const mission = buildMissionTemplate({
    tier: tierFlag(values.tier),
    ...(values.objective ? { objective: values.objective } : {}),
    ...(values['mission-id'] ? { missionId: values['mission-id'] } : {}),
    ...(values['allowed-root'] ? { allowedRoots: values['allowed-root'] } : {}),
    ...(values['allowed-path'] ? { allowedPaths: values['allowed-path'] } : {}),
  });
  io.stdout.write(
    values.handoff ? `${renderHandoff(mission)}\n` : `${JSON.stringify(mission, null, 2)}\n`,
  );
  return 0;
}

function compile(args: string[], io: CliIO): number {
  const { values } = parseFlags(() =>
    parseArgs({
      args,
      strict: true,
      options: {
        objective: { type: 'string' },
        tier: { type: 'string' },
        'mission-id': { type: 'string' },
        'risk-tier': { type: 'string' },
        'allowed-root': { type: 'string', multiple: true },
        'allowed-path': { type: 'string', multiple: true },
        'read-only-path': { type: 'string', multiple: true },
        'owned-path': { type: 'string', multiple: true },
        'objective-style': { type: 'string' },
        'answer-obligation': { type: 'string', multiple: true },
        'must-inspect': { type: 'string', multiple: true },
        'verification-command': { type: 'string', multiple: true },
        'apply-mode': { type: 'string' },
        'tool-budget': { type: 'string' },
        'time-budget-seconds': { type: 'string' },
        'max-cost-usd': { type: 'string' },
        'max-output-tokens': { type: 'string' },
        'allow-broad-read-scope': { type: 'boolean' },
        'critical-path-read-allowed': { type: 'boolean' },
        'critical-path-reason': { type: 'string' },
        handoff: { type: 'boolean', default: false },
      },
    }),
  );
  if (!values.objective) throw new UsageError('mission compile needs --objective');
  try {
    const mission = compileMission({
      objective: values.objective,
      tier: values.tier,
      missionId: values['mission-id'],
      riskTier: values['risk-tier'],
      allowedRoots: values['allowed-root'],
      allowedPaths: values['allowed-path'],
      readOnlyPaths: values['read-only-path'],
      ownedPaths: values['owned-path'],
      objectiveStyle: values['objective-style'],
      answerObligations: values['answer-obligation'],
      mustInspect: values['must-inspect'],
      verificationCommands: values['verification-command'],
      applyMode: values['apply-mode'],
      toolBudget: numberFlag(values['tool-budget'], '--tool-budget'),
      timeBudgetSeconds: numberFlag(values['time-budget-seconds'], '--time-budget-seconds'),
      maxCostUsd: numberFlag(values['max-cost-usd'], '--max-cost-usd'),
      maxOutputTokens: numberFlag(values['max-output-tokens'], '--max-output-tokens'),
      allowBroadReadScope: values['allow-broad-read-scope'],
      criticalPathReadAllowed: values['critical-path-read-allowed'],
      criticalPathReason: values['critical-path-reason'],
    });
    io.stdout.write(
      values.handoff ? `${renderHandoff(mission)}\n` : `${JSON.stringify(mission, null, 2)}\n`,
    );
    return 0;
  } catch (error) {
    if (!isMissionInputError(error)) throw error;
    io.stderr.write(`${error.problems.join('\n')}\n`);
    return 1;
  }
}

/** 0 when the work stands (COMPLETE, VALID, VERIFIED), 3 partial, 4 escalated, 5 rejected, 1 failed. */
export const exitByStatus: Readonly<Record<string, number>> = {
  COMPLETE: 0,
  VALID: 0,
  VERIFIED: 0,
  PARTIAL: 3,
  APPLIED_UNVERIFIED: 3,
  ESCALATE: 4,
  INVALID: 5,
  VERIFICATION_FAILED: 5,
  FAILED: 1,
};

async function runMission(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(() =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        model: { type: 'string', default: 'mission-a3-kimi' },
        project: { type: 'string' },
        json: { type: 'boolean', default: false },
        continue: { type: 'string' },
      },
    }),
  );
  const file = positionals[0];
  if (!file) throw new UsageError('mission run needs a FILE (or - for stdin)');
  const text =
    file === '-' ? readFileSync(0, 'utf8') : readFileSync(path.resolve(io.cwd, file), 'utf8');
  const config = loadConfigOrReport({ project: values.project }, io);
  if (!config) return 2;

  // Loaded on demand so template/compile stay fast and work from a partial build.
  const [{ createServices }, { createLogger }] = await Promise.all([
    import('../../app/index.js'),
    import('../../log/index.js'),
  ]);
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, {
    write: (line: string) => io.stderr.write(line),
  });
  const services = createServices({ config, logger });
  const decision = services.registry.resolve(values.model);
  const runtime = services.missions;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    io.stderr.write(
      `Running the mission on ${values.model} against ${config.UPSTREAM_BASE} (project ${config.CODEX_OSS_PROJECT})\n`,
    );
    let outcome: Awaited<ReturnType<typeof runtime.execute>>;
    try {
      outcome = await runtime.execute({
        userTexts: [text],
        model: values.model,
        missionAlias: decision.lane === 'managed' ? decision.mission : undefined,
        signal: controller.signal,
        onCommentary: (line) => io.stderr.write(`  · ${line.message}\n`),
        ...(values.continue === undefined ? {} : { continues: values.continue }),
      });
    } catch (error) {
      // A catalogue error (run_log_unwritable…) says what to fix; it is not a crash of the CLI.
      if (!(error instanceof BridgeError)) throw error;
      const text = error.message.startsWith(`${error.code}:`)
        ? error.message
        : `${error.code}: ${error.message}`;
      io.stderr.write(`codex-oss mission run: failed: ${text}\n`);
      return exitByStatus['FAILED'] ?? 1;
    }
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify({ run_id: outcome.runId, mission_id: outcome.missionId, status: outcome.status, report: outcome.report, final_text: outcome.finalText }, null, 2)}\n`,
      );
    } else {
      io.stdout.write(`${outcome.finalText}\n`);
    }
    return exitByStatus[outcome.status] ?? 1;
  } finally {
    process.off('SIGINT', onSignal);
    await services.close();
  }
}

function tierFlag(value: string | undefined): MissionTier {
  const tier = (value ?? 'A3').toUpperCase();
  const known = missionTiers.find((candidate) => candidate === tier);
  if (!known)
    throw new UsageError(`--tier must be one of ${missionTiers.join(', ')} (got "${value ?? ''}")`);
  return known;
}

function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new UsageError(`${flag} must be a number, got "${value}"`);
  return parsed;
}
