import { parseArgs } from 'node:util';
import type { DelegatedMission } from '../../delegation/index.js';
import { BridgeError } from '../../errors/index.js';
import { isMissionInputError } from '../../mission/index.js';
import { UsageError, type Command } from '../cli-io.js';
import { loadConfigOrReport } from '../load-cli-config.js';
import { parseFlags } from '../parse-flags.js';
import { exitByStatus } from './mission.js';

const usage = `Usage: codex-oss delegate [--workspace DIR] [--permission read-only|workspace-write] [--model M]
                          [--mission-id ID] [--continue ID] [--context-path P]… [--file F]…
                          [--verification-command "npm test"]… [--project DIR] [--json] "prompt"

Runs one governed mission in this process, the same way the MCP opencode tool does:
  read-only (default)  an A3 investigation of the --context-path/--file entries, or of the whole
                       workspace (an explicitly broad scope the answer names)
  workspace-write      an A5 change in an isolated worktree owning the --context-path/--file
                       entries; the workspace is unchanged until codex-oss promote ID
Commentary goes to stderr as it happens, the report to stdout at the end. --continue ID starts
from an earlier mission's report. The project is --project, else CODEX_OSS_PROJECT, else the
workspace. Exit codes: 0 COMPLETE/VALID/VERIFIED, 3 PARTIAL/APPLIED_UNVERIFIED, 4 ESCALATE,
5 INVALID/VERIFICATION_FAILED, 1 FAILED, 2 usage or a refused request.
`;

export const delegateCommand: Command = {
  name: 'delegate',
  summary: 'run one governed mission from a plain prompt (what the MCP opencode tool runs)',
  usage,
  async run(args, io) {
    const { values, positionals } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        allowPositionals: true,
        options: {
          workspace: { type: 'string' },
          permission: { type: 'string' },
          model: { type: 'string' },
          'mission-id': { type: 'string' },
          continue: { type: 'string' },
          'context-path': { type: 'string', multiple: true },
          file: { type: 'string', multiple: true },
          'verification-command': { type: 'string', multiple: true },
          project: { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      }),
    );
    const prompt = positionals.join(' ').trim();
    if (prompt === '') throw new UsageError('delegate needs a prompt (quote it as one argument)');
    const project = values.project ?? io.env['CODEX_OSS_PROJECT'] ?? values.workspace;
    const config = loadConfigOrReport({ project }, io);
    if (!config) return 2;
    const [{ createServices }, { createLogger }, delegation] = await Promise.all([
      import('../../app/index.js'),
      import('../../log/index.js'),
      import('../../delegation/index.js'),
    ]);
    const parsed = delegation.delegationRequestSchema.safeParse({
      prompt,
      workspace: values.workspace,
      permission: values.permission,
      model: values.model,
      mission_id: values['mission-id'],
      continuation_id: values.continue,
      context_paths: values['context-path'],
      file: values.file,
      verification_commands: values['verification-command'],
    });
    if (!parsed.success)
      throw new UsageError(parsed.error.issues.map((issue) => issue.message).join('; '));

    const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, {
      write: (line: string) => io.stderr.write(line),
    });
    const services = createServices({ config, logger });
    const controller = new AbortController();
    const onInt = () => controller.abort('Cancelled with Ctrl-C (SIGINT) at the terminal');
    const onTerm = () => controller.abort('Stopped by SIGTERM (the session was terminated)');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    try {
      let built: DelegatedMission;
      try {
        // A continuation without paths of its own stays in the earlier run's scope (§6.3).
        const earlierScope =
          parsed.data.continuation_id === undefined
            ? undefined
            : await services.missions.continuationScope(parsed.data.continuation_id);
        built = delegation.buildDelegatedMission(parsed.data, {
          projectRoot: config.CODEX_OSS_PROJECT,
          registry: services.registry,
          base: io.cwd,
          ...(earlierScope === undefined ? {} : { earlierScope }),
        });
      } catch (error) {
        if (!(error instanceof BridgeError)) throw error;
        const text = isMissionInputError(error) ? error.problems.join('\n') : error.message;
        io.stderr.write(`codex-oss delegate: refused (${error.code}): ${text}\n`);
        return 2;
      }
      io.stderr.write(
        `Delegating mission ${built.mission.mission_id} (${built.mission.tier}, ${built.permission}) on ${built.modelAlias}\n${built.scopeNote}\n`,
      );
      const outcome = await delegation.runDelegatedMission(services.missions, built, {
        signal: controller.signal,
        onCommentary: (line) => io.stderr.write(`  · ${line.message}\n`),
      });
      const promote =
        built.mission.tier === 'A5' && outcome.status === 'VERIFIED'
          ? `To apply it: codex-oss promote ${outcome.missionId} --project ${config.CODEX_OSS_PROJECT}`
          : undefined;
      if (values.json) {
        io.stdout.write(
          `${JSON.stringify(
            {
              mission_id: outcome.missionId,
              run_id: outcome.runId,
              status: outcome.status,
              tier: built.mission.tier,
              continues: built.mission.continues,
              scope: built.scopeNote,
              cost_usd: outcome.record.cost_usd,
              tokens: outcome.record.tokens,
              report: outcome.report,
              final_text: outcome.finalText,
              promote_command: promote ?? null,
            },
            null,
            2,
          )}\n`,
        );
      } else {
        io.stdout.write(
          `${built.scopeNote}\n\n${outcome.finalText}\n${promote ? `\n${promote}\n` : ''}`,
        );
      }
      return exitByStatus[outcome.status] ?? 1;
    } finally {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      await services.close();
    }
  },
};
