import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { BridgeServices } from '../app/index.js';
import { packageVersion } from '../config/index.js';
import {
  buildDelegatedMission,
  missionFromObject,
  resolveScopePath,
  resolveWorkspace,
  type DelegationRequest,
  type RunnableMission,
} from '../delegation/index.js';
import { BridgeError, toBridgeError } from '../errors/index.js';
import type { RunRecord } from '../events/index.js';
import { promoteMission } from '../implementation/index.js';
import { isMissionInputError } from '../mission/index.js';
import type { CommentaryLine } from '../runtime/index.js';
import { MissionBoard, type AnswerContext, type BoardEntry } from './mission-board.js';
import {
  debugInfo,
  debugLines,
  finalAnswer,
  lineTexts,
  renderResponse,
  saveAnswer,
  stillRunningAnswer,
  type SaveTarget,
} from './render-answer.js';
import {
  opencodeShape,
  ossCancelShape,
  ossMissionShape,
  ossPromoteShape,
  ossRunsShape,
  ossStartShape,
  ossWaitShape,
} from './tool-schemas.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

interface OpencodeArgs extends DelegationRequest {
  readonly debug?: boolean | undefined;
  readonly handoff_file?: string | undefined;
  readonly save_file?: string | undefined;
  readonly save_file_with_wrapper?: boolean | undefined;
  readonly save_file_with_append_mode?: boolean | undefined;
}

/** A tool error the client (and its model) can act on: the catalogue code, then the reason. */
function toolError(error: unknown): CallToolResult {
  const failure = toBridgeError(error);
  const text = isMissionInputError(error) ? error.problems.join('\n') : failure.message;
  return {
    isError: true,
    // A mission's problems already start with their code.
    content: [
      {
        type: 'text',
        text: text.startsWith(`${failure.code}: `) ? text : `${failure.code}: ${text}`,
      },
    ],
    structuredContent: { error: { code: failure.code, message: text } },
  };
}

/**
 * The answer as text, and the same answer with its fields as structured content. Codex 0.169
 * hands its model the structured content instead of the text when both are present, so the
 * structured form carries the whole answer too, or a Codex parent would see only the ids.
 */
function textResult(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: { answer: text, ...structured } };
}

const instructions = [
  'opencode-bridge delegates bounded work to open-source models under a runtime that owns the tools, paths, budgets and final status.',
  'opencode: read-only (default) runs a governed A3 investigation; workspace-write runs an A5 change in an isolated worktree (apply it with oss_promote after review); unlimited is refused.',
  'Blocking tools answer "still running" after MCP_SYNC_SECONDS: then call oss_wait with the mission_id. oss_start returns a mission_id at once.',
].join(' ');

export interface McpServerHandle {
  readonly server: McpServer;
  readonly board: MissionBoard;
}

/**
 * The MCP surface of PRODUCT.md §6.2 over the shared services: every mission goes through the
 * same MissionRuntime as the daemon's (admission, lane caps, event log, index, projections).
 */
export function createMcpServer(services: BridgeServices): McpServerHandle {
  const { config, missions, registry } = services;
  const projectRoot = missions.projectRoot;
  const board = new MissionBoard(missions);
  const syncMs = config.MCP_SYNC_SECONDS * 1000;
  const server = new McpServer(
    { name: 'opencode-bridge', version: packageVersion() },
    { instructions, capabilities: { tools: {}, logging: {} } },
  );

  /** The `handoff_file` / `save_file` target, checked before anything runs. */
  function saveTarget(args: OpencodeArgs): SaveTarget | undefined {
    const file = args.handoff_file ?? args.save_file;
    if (file === undefined) return undefined;
    const field = args.handoff_file !== undefined ? 'handoff_file' : 'save_file';
    const workspace = resolveWorkspace(projectRoot, args.workspace);
    const resolved = resolveScopePath(workspace, file, field, { allowMissing: true });
    if (resolved.isDirectory)
      throw new BridgeError(
        'delegation_path_refused',
        `${field}: ${JSON.stringify(file)} is a folder; name a file.`,
      );
    return {
      absolute: resolved.absolute,
      wrap: args.handoff_file !== undefined || args.save_file_with_wrapper === true,
      append: args.handoff_file !== undefined || args.save_file_with_append_mode === true,
    };
  }

  async function delegate(
    args: OpencodeArgs,
  ): Promise<{ runnable: RunnableMission; context: AnswerContext }> {
    // A continuation without paths of its own stays in the earlier run's scope (§6.3).
    const earlierScope =
      args.continuation_id === undefined
        ? undefined
        : await missions.continuationScope(args.continuation_id);
    const built = buildDelegatedMission(args, {
      projectRoot,
      registry,
      ...(earlierScope === undefined ? {} : { earlierScope }),
    });
    return {
      runnable: built,
      context: {
        scopeNote: built.scopeNote,
        permission: built.permission,
        ...(args.agent === undefined ? {} : { agent: args.agent }),
        ...(args.task_note === undefined ? {} : { taskNote: args.task_note }),
      },
    };
  }

  /** Sends each new commentary line as notifications/progress when the request gave a token. */
  function forwardProgress(entry: BoardEntry, extra: Extra, label?: string): () => void {
    const token = extra._meta?.progressToken;
    if (token === undefined) return () => undefined;
    let progress = 0;
    const listener = (line: CommentaryLine) => {
      progress += 1;
      extra
        .sendNotification({
          method: 'notifications/progress',
          params: {
            progressToken: token,
            progress,
            message: label ? `[${label}] ${line.message}` : line.message,
          },
        })
        .catch(() => undefined);
    };
    entry.listeners.add(listener);
    return () => entry.listeners.delete(listener);
  }

  function answerOf(entry: BoardEntry, debug: boolean): CallToolResult {
    const lines = lineTexts(board.takeNewLines(entry));
    if (entry.failure || !entry.outcome) {
      const failure =
        entry.failure ?? new BridgeError('internal_error', 'The mission ended without an outcome.');
      return toolError(failure);
    }
    const outcome = entry.outcome;
    const text = renderResponse({
      missionId: entry.missionId,
      lines,
      answer: finalAnswer(outcome, entry.tier, entry.context),
      debug: debug
        ? debugInfo(outcome, (entry.endedAt ?? Date.now()) - entry.startedAt)
        : undefined,
    });
    return textResult(text, {
      mission_id: entry.missionId,
      run_id: outcome.runId,
      state: 'ended',
      status: outcome.status,
      tier: entry.tier,
      cost_usd: outcome.record.cost_usd,
      total_tokens: outcome.record.tokens.total_tokens,
    });
  }

  function stillRunning(entry: BoardEntry, waitedMs: number): CallToolResult {
    const lines = lineTexts(board.takeNewLines(entry));
    const text = renderResponse({
      missionId: entry.missionId,
      lines,
      answer: stillRunningAnswer(entry, waitedMs / 1000),
    });
    return textResult(text, { mission_id: entry.missionId, state: 'running', tier: entry.tier });
  }

  /**
   * The blocking half of `opencode` / `oss_mission`: waits for the end, at most MCP_SYNC_SECONDS;
   * a notifications/cancelled for this request cancels the mission itself.
   */
  async function block(
    tool: string,
    entry: BoardEntry,
    extra: Extra,
    debug: boolean,
    afterEnd?: Promise<void>,
  ): Promise<CallToolResult> {
    const stopProgress = forwardProgress(entry, extra, entry.context.taskNote);
    const onAbort = () => {
      const said: unknown = extra.signal.reason;
      const why = typeof said === 'string' && said !== '' ? ` (${said.slice(0, 200)})` : '';
      board.cancel(entry, `The MCP client cancelled the ${tool} request${why}`);
    };
    extra.signal.addEventListener('abort', onAbort, { once: true });
    const started = Date.now();
    try {
      const ended = await board.settle(entry, syncMs, extra.signal);
      if (!ended) return stillRunning(entry, Date.now() - started);
      await afterEnd;
      return answerOf(entry, debug);
    } finally {
      extra.signal.removeEventListener('abort', onAbort);
      stopProgress();
    }
  }

  /** Starts a delegation and arranges for its answer to be saved once it ends. */
  async function startDelegation(
    args: OpencodeArgs,
  ): Promise<{ entry: BoardEntry; saved?: Promise<void> }> {
    const target = saveTarget(args);
    const { runnable, context } = await delegate(args);
    const entry = board.start(runnable, context);
    if (target === undefined) return { entry };
    const saved = entry.done.then(async () => {
      const status = entry.outcome?.status ?? 'FAILED';
      const text = entry.outcome
        ? finalAnswer(entry.outcome, entry.tier, entry.context)
        : `The mission failed: ${entry.failure?.message ?? 'no outcome'}`;
      await saveAnswer(target, text, {
        agent: args.agent ?? 'build',
        continuationId: entry.missionId,
        taskNote: args.task_note ?? '',
        status,
      }).catch((error: unknown) =>
        services.logger.error(
          { err: error, missionId: entry.missionId },
          'saving the handoff file failed',
        ),
      );
    });
    return { entry, saved };
  }

  server.registerTool(
    'opencode',
    {
      title: 'Delegate to a governed OSS worker',
      description:
        'Drop-in for cli-agent-mcp\'s opencode tool. read-only (default): a governed A3 investigation of context_paths/file (or the whole workspace). workspace-write: an A5 change in an isolated worktree, verified, never applied to the workspace until oss_promote. unlimited is refused. Answers <response><thought_process/><answer/><continuation_id/></response>; after MCP_SYNC_SECONDS it answers "still running" and oss_wait picks the mission up.',
      inputSchema: opencodeShape,
    },
    async (args, extra) => {
      try {
        const { entry, saved } = await startDelegation(args);
        return await block('opencode', entry, extra, args.debug === true, saved);
      } catch (error) {
        return toolError(error);
      }
    },
  );

  server.registerTool(
    'oss_mission',
    {
      title: 'Run a MissionV1',
      description:
        'Runs a MissionV1 object (any tier A2–A6) through the governed runtime; blocks like opencode, at most MCP_SYNC_SECONDS.',
      inputSchema: ossMissionShape,
    },
    async (args, extra) => {
      try {
        const runnable = missionFromObject(args.mission, registry, args.model);
        const entry = board.start(runnable, {});
        return await block('oss_mission', entry, extra, args.debug === true);
      } catch (error) {
        return toolError(error);
      }
    },
  );

  server.registerTool(
    'oss_start',
    {
      title: 'Start a mission and return at once',
      description:
        'Same arguments as opencode (or {mission: MissionV1}); returns the mission_id at once. Follow it with oss_wait, stop it with oss_cancel.',
      inputSchema: ossStartShape,
    },
    async (args) => {
      try {
        let entry: BoardEntry;
        if (args.mission !== undefined) {
          if (args.prompt !== undefined)
            throw new BridgeError('delegation_invalid', 'Give either prompt or mission, not both.');
          entry = board.start(missionFromObject(args.mission, registry, args.model), {});
        } else {
          if (args.prompt === undefined)
            throw new BridgeError(
              'delegation_invalid',
              'oss_start needs a prompt (with the opencode arguments) or a mission (a MissionV1 object).',
            );
          entry = (await startDelegation({ ...args, prompt: args.prompt })).entry;
        }
        return textResult(
          `Started mission ${entry.missionId} (${entry.tier}). Call oss_wait with {"mission_id": "${entry.missionId}"} for its progress and report; oss_cancel stops it.`,
          { mission_id: entry.missionId, state: 'running', tier: entry.tier },
        );
      } catch (error) {
        return toolError(error);
      }
    },
  );

  server.registerTool(
    'oss_wait',
    {
      title: 'Wait for a mission',
      description:
        'Waits up to timeout_seconds (default MCP_SYNC_SECONDS) for a mission to end; returns the progress lines since the last call, and the final report once it ended.',
      inputSchema: ossWaitShape,
    },
    async (args, extra) => {
      try {
        const entry = board.get(args.mission_id);
        const waitMs = (args.timeout_seconds ?? config.MCP_SYNC_SECONDS) * 1000;
        if (entry) {
          const stopProgress = forwardProgress(entry, extra, entry.context.taskNote);
          const started = Date.now();
          try {
            const ended = await board.settle(entry, waitMs, extra.signal);
            return ended
              ? answerOf(entry, args.debug === true)
              : stillRunning(entry, Date.now() - started);
          } finally {
            stopProgress();
          }
        }
        return await fromLog(args.mission_id, args.debug === true);
      } catch (error) {
        return toolError(error);
      }
    },
  );

  /** A mission this server did not start (the daemon's, an earlier server's): its log answers. */
  async function fromLog(missionId: string, debug: boolean): Promise<CallToolResult> {
    const record = await missions.get(missionId);
    if (!record)
      throw new BridgeError(
        'mission_not_found',
        `No run or mission "${missionId}" in ${projectRoot}; oss_runs lists them.`,
      );
    const lines = record.commentary.map((line) => line.message);
    if (record.state === 'running' || record.state === 'waiting_upstream')
      return textResult(
        renderResponse({
          missionId,
          lines,
          answer: `Mission ${missionId} is running in another process (state ${record.state}); its report will be here once it ends. Call oss_wait again later.`,
        }),
        {
          mission_id: missionId,
          run_id: record.run_id,
          state: 'running_elsewhere',
          tier: record.tier,
        },
      );
    return textResult(
      renderResponse({
        missionId,
        lines,
        answer: record.final_text ?? `Status: ${record.status ?? 'FAILED'}`,
        debug: debug ? recordDebug(record) : undefined,
      }),
      {
        mission_id: missionId,
        run_id: record.run_id,
        state: 'ended',
        status: record.status,
        tier: record.tier,
        cost_usd: record.cost_usd,
        total_tokens: record.tokens.total_tokens,
      },
    );
  }

  server.registerTool(
    'oss_cancel',
    {
      title: 'Cancel a mission',
      description:
        'Cancels a running mission this server started; the run ends recorded as cancelled, by oss_cancel.',
      inputSchema: ossCancelShape,
    },
    async (args) => {
      try {
        const entry = board.get(args.mission_id);
        if (entry && entry.endedAt === undefined) {
          board.cancel(entry, 'Cancelled by the oss_cancel MCP tool');
          await board.settle(entry, 15_000);
          const status = entry.outcome?.status ?? 'FAILED';
          return textResult(
            `Cancelled mission ${entry.missionId}: it ended ${status}${entry.outcome?.record.reason ? ` (reason ${entry.outcome.record.reason})` : ''}.`,
            {
              mission_id: entry.missionId,
              state: entry.endedAt === undefined ? 'cancelling' : 'ended',
              status,
              reason: entry.outcome?.record.reason ?? null,
            },
          );
        }
        const record = await missions.get(args.mission_id);
        if (!record)
          throw new BridgeError(
            'mission_not_found',
            `No run or mission "${args.mission_id}" in ${projectRoot}; oss_runs lists them.`,
          );
        if (record.state === 'running' || record.state === 'waiting_upstream')
          throw new BridgeError(
            'delegation_invalid',
            `Mission ${args.mission_id} runs in another process (the daemon or another MCP server); cancel it there.`,
          );
        return textResult(
          `Mission ${args.mission_id} already ended ${record.status ?? 'FAILED'}; nothing to cancel.`,
          {
            mission_id: args.mission_id,
            state: 'ended',
            status: record.status,
            reason: record.reason,
          },
        );
      } catch (error) {
        return toolError(error);
      }
    },
  );

  server.registerTool(
    'oss_promote',
    {
      title: 'Promote an A5 patch',
      description:
        "Applies a finished A5 mission's VERIFIED patch to the workspace (all files or none, only if they are unchanged since the base); the same code path as codex-oss promote. A6 is promoted only by a person at the CLI.",
      inputSchema: ossPromoteShape,
    },
    async (args) => {
      try {
        const record = await missions.get(args.mission_id);
        if (record?.tier === 'A6')
          throw new BridgeError(
            'promotion_confirmation_required',
            `Mission ${args.mission_id} is an A6 critical rehearsal: only a person promotes it, with codex-oss promote ${args.mission_id} --confirm-critical.`,
          );
        const result = await promoteMission({
          projectRoot,
          id: args.mission_id,
          dryRun: args.dry_run === true,
          acceptUnverified: args.accept_unverified === true,
        });
        if (result.refused)
          return toolError(new BridgeError(result.refused.code, result.refused.message));
        const verb = result.dry_run ? 'Dry run: would promote' : 'Promoted';
        return textResult(
          [
            `${verb} ${result.mission_id} (run ${result.run_id}, ${result.status}) into ${projectRoot}:`,
            ...result.files.map((file) => `  ${file.action} ${file.path}`),
            ...(result.dry_run
              ? []
              : [`Undo it with codex-oss promote ${result.mission_id} --revert.`]),
          ].join('\n'),
          { ...result },
        );
      } catch (error) {
        return toolError(error);
      }
    },
  );

  server.registerTool(
    'oss_runs',
    {
      title: 'List runs',
      description: 'Runs of this project, newest first: state, status, tier, tokens, cost.',
      inputSchema: ossRunsShape,
    },
    (args) => {
      try {
        const runs = missions.list({
          limit: args.limit ?? 50,
          ...(args.state === undefined ? {} : { state: args.state }),
        });
        const text =
          runs.length === 0
            ? 'No runs yet.'
            : runs
                .map(
                  (run) =>
                    `${run.mission_id ?? run.run_id}  ${run.tier ?? '--'}  ${run.state}  ${run.status ?? '-'}  ${run.total_tokens} tokens  $${run.cost_usd.toFixed(6)}  ${run.started_at ?? ''}`,
                )
                .join('\n');
        return Promise.resolve(textResult(text, { runs }));
      } catch (error) {
        return Promise.resolve(toolError(error));
      }
    },
  );

  return { server, board };
}

function recordDebug(record: RunRecord): string {
  const started = record.started_at ? Date.parse(record.started_at) : NaN;
  const ended = record.ended_at ? Date.parse(record.ended_at) : NaN;
  return debugLines({
    runId: record.run_id,
    status: record.status ?? 'FAILED',
    record,
    durationMs: Number.isFinite(started) && Number.isFinite(ended) ? ended - started : 0,
  });
}
