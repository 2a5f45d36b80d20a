import { parseArgs } from 'node:util';
import { continuationChain, findRun, runWriterState, type RunRecord } from '../../events/index.js';
import { addUsage, emptyUsage, type MutableTokenUsage } from '../../usage/index.js';
import { UsageError, type Command } from '../cli-io.js';
import { parseFlags } from '../parse-flags.js';
import { projectRoot } from '../project-root.js';
import { inFlightWork, sessionActivity, type SessionActivity } from '../session-activity.js';
import { shellQuote } from '../shell-quote.js';
import { readRun, type LoadedRun } from './run-inspection.js';

/**
 * What a continuation asks when the caller gives no follow-up of its own: enough for a resumed
 * session to make progress, and honest about building on the earlier report.
 */
export const DEFAULT_FOLLOW_UP =
  'Continue this mission from its last report: finish what it left open and say what changed.';

const usage = `Usage: codex-oss session MISSION_ID [--project DIR] [--json] [--prompt TEXT] [--ready-threshold-ms N]

What an orchestrator needs about a delegated mission, read from its event log (live runs too):
its state, its activity in agent-orchestrator's words (active, ready, idle, waiting_input,
blocked, exited), a summary, tokens and dollars, and the command that continues it.

A session is a mission and the continuations of it: when MISSION_ID was continued, the answer is
about the newest run of that chain, and tokens and cost add up the whole chain.

--prompt TEXT            the follow-up the restore command asks (default: "${DEFAULT_FOLLOW_UP}")
--ready-threshold-ms N   how long a quiet session stays "ready" before it is "idle" (default 300000)
Exits 1 when no mission or run has that id in the project.
`;

/** The answer of `codex-oss session --json`. */
export interface SessionView {
  readonly session_id: string;
  readonly mission_id: string | null;
  readonly run_id: string;
  readonly state: RunRecord['state'];
  readonly status: string | null;
  readonly reason: string | null;
  readonly activity: SessionActivity;
  readonly activity_reason: string;
  readonly summary: string | null;
  /** True when `summary` is not the run's report but its latest commentary or objective. */
  readonly summary_is_fallback: boolean;
  readonly tokens: MutableTokenUsage;
  readonly cost_usd: number;
  readonly model: string | null;
  readonly tier: string | null;
  readonly permission: 'read-only' | 'workspace-write' | null;
  readonly workspace: string;
  readonly started_at: string | null;
  readonly updated_at: string | null;
  readonly ended_at: string | null;
  readonly chain: readonly {
    mission_id: string | null;
    run_id: string;
    status: string | null;
    cost_usd: number;
  }[];
  /** Null until the run has ended (the runtime continues only ended runs), and for a refused one. */
  readonly restore_command: string | null;
  readonly restore_argv: readonly string[] | null;
}

export const sessionCommand: Command = {
  name: 'session',
  summary: "a delegated mission's state, activity, summary, cost and continuation (orchestrators)",
  usage,
  async run(args, io) {
    const { values, positionals } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        allowPositionals: true,
        options: {
          project: { type: 'string' },
          json: { type: 'boolean', default: false },
          prompt: { type: 'string' },
          'ready-threshold-ms': { type: 'string' },
        },
      }),
    );
    const id = positionals[0];
    if (!id) throw new UsageError('session needs a mission id (codex-oss runs lists them)');
    if (positionals.length > 1) throw new UsageError('session takes one mission id');
    if (values.prompt?.trim() === '') throw new UsageError('--prompt must not be empty');
    const readyThresholdMs = thresholdFlag(values['ready-threshold-ms']);
    const root = projectRoot(values.project, io);
    const view = await describeSession(root, id, {
      now: Date.now(),
      prompt: values.prompt ?? DEFAULT_FOLLOW_UP,
      ...(readyThresholdMs === undefined ? {} : { readyThresholdMs }),
    });
    if (view === null) {
      const message = `No mission or run "${id}" under ${root}. \`codex-oss runs --project ${root}\` lists them.`;
      if (values.json)
        io.stdout.write(
          `${JSON.stringify({ error: { code: 'mission_not_found', message } }, null, 2)}\n`,
        );
      io.stderr.write(`${message}\n`);
      return 1;
    }
    io.stdout.write(values.json ? `${JSON.stringify(view, null, 2)}\n` : humanForm(view));
    return 0;
  },
};

/** The session view of a mission id (or run id), or null when the project has no such run. */
export async function describeSession(
  root: string,
  id: string,
  options: { now: number; prompt: string; readyThresholdMs?: number },
): Promise<SessionView | null> {
  const first = await findRun(root, id);
  if (first === null) return null;
  const runs: LoadedRun[] = [];
  for (const runId of await continuationChain(root, first)) runs.push(await readRun(root, runId));
  const latest = runs[runs.length - 1];
  if (latest === undefined || latest.events.length === 0) return null;
  const { record } = latest;
  const writer = await runWriterState(root, latest.runId);
  const { activity, because } = sessionActivity({
    record,
    inFlight: inFlightWork(latest.events),
    writer,
    now: options.now,
    ...(options.readyThresholdMs === undefined
      ? {}
      : { readyThresholdMs: options.readyThresholdMs }),
  });
  const tokens = emptyUsage();
  let cost = 0;
  for (const run of runs) {
    addUsage(tokens, run.record.tokens);
    cost += run.record.cost_usd;
  }
  const permission = permissionOfTier(record.tier);
  // The runtime continues only a run that ended: not one in flight, not one whose process died
  // before closing it (until a daemon start records it as interrupted), not a refused one.
  const ended = record.state !== 'running' && record.state !== 'waiting_upstream';
  const restorable =
    ended && record.rejection === null && record.mission_id !== null && permission !== null;
  const restoreArgv =
    restorable && record.mission_id !== null && permission !== null
      ? [
          'codex-oss',
          'delegate',
          '--continue',
          record.mission_id,
          '--workspace',
          root,
          '--permission',
          permission,
          // The same model profile again (delegate takes it to the tier the permission sets).
          ...(record.model_alias === null ? [] : ['--model', record.model_alias]),
          ...(permission === 'workspace-write' ? implementationScope(latest) : []),
          options.prompt,
        ]
      : null;
  const { summary, fallback } = summaryOf(record);
  return {
    session_id: id,
    mission_id: record.mission_id,
    run_id: record.run_id,
    state: record.state,
    status: record.status,
    reason: record.reason,
    activity,
    activity_reason: because,
    summary,
    summary_is_fallback: fallback,
    tokens,
    cost_usd: Math.round(cost * 1e9) / 1e9,
    model: record.model,
    tier: record.tier,
    permission,
    workspace: root,
    started_at: runs[0]?.record.started_at ?? record.started_at,
    updated_at: record.last_event_at,
    ended_at: record.ended_at,
    chain: runs.map((run) => ({
      mission_id: run.record.mission_id,
      run_id: run.runId,
      status: run.record.status,
      cost_usd: run.record.cost_usd,
    })),
    restore_command: restoreArgv === null ? null : restoreArgv.map(shellQuote).join(' '),
    restore_argv: restoreArgv,
  };
}

/**
 * A workspace-write delegation owns only the paths it is given: a continuation of an A4–A6 run
 * is given the run's own owned paths (project-relative, and the workspace is the project) and
 * its verification commands, so it works on what the earlier run worked on.
 */
function implementationScope(run: LoadedRun): string[] {
  const admitted = run.events[0];
  if (admitted?.type !== 'run.admitted') return [];
  const mission = admitted.payload['mission'] as
    | { owned_paths?: unknown; verification_policy?: { allowed_commands?: unknown } | null }
    | undefined;
  const owned = Array.isArray(mission?.owned_paths)
    ? mission.owned_paths.filter((entry): entry is string => typeof entry === 'string')
    : [];
  const commands = mission?.verification_policy?.allowed_commands;
  const lines = Array.isArray(commands)
    ? commands
        .filter(
          (argv): argv is string[] =>
            Array.isArray(argv) && argv.every((word) => typeof word === 'string'),
        )
        .map((argv) => argv.map(shellQuote).join(' '))
    : [];
  return [
    ...owned.flatMap((entry) => ['--context-path', entry]),
    ...lines.flatMap((line) => ['--verification-command', line]),
  ];
}

/** How `delegate` is told to run a tier again: read-only investigations, isolated writes. */
function permissionOfTier(tier: string | null): 'read-only' | 'workspace-write' | null {
  switch (tier) {
    case 'A2':
    case 'A3':
      return 'read-only';
    case 'A4':
    case 'A5':
    case 'A6':
      return 'workspace-write';
    case null:
    default:
      return null;
  }
}

/** The report's summary once there is one; before that, what the run last said it was doing. */
function summaryOf(record: RunRecord): { summary: string | null; fallback: boolean } {
  const reported = record.report?.['summary'];
  if (typeof reported === 'string' && reported.trim() !== '')
    return { summary: reported, fallback: false };
  if (record.rejection) return { summary: record.rejection.message, fallback: true };
  const said = record.commentary[record.commentary.length - 1]?.message;
  if (said !== undefined) return { summary: said, fallback: true };
  return { summary: null, fallback: true };
}

function humanForm(view: SessionView): string {
  const lines = [
    `Session ${view.session_id}: mission ${view.mission_id ?? '?'} (run ${view.run_id}) ${view.status ?? view.state.toUpperCase()}`,
    `Activity: ${view.activity} (${view.activity_reason})`,
  ];
  if (view.summary !== null)
    lines.push(`${view.summary_is_fallback ? 'Latest' : 'Summary'}: ${view.summary}`);
  lines.push(
    `Spent: ${view.tokens.total_tokens} tokens (${view.tokens.input_tokens} in, ${view.tokens.output_tokens} out), $${view.cost_usd.toFixed(6)}` +
      (view.chain.length > 1 ? ` over ${view.chain.length} runs` : ''),
  );
  if (view.updated_at !== null) lines.push(`Last event: ${view.updated_at}`);
  lines.push(
    view.restore_command === null
      ? `Continue: ${whyNoRestore(view)}`
      : `Continue: ${view.restore_command}`,
  );
  return `${lines.join('\n')}\n`;
}

function whyNoRestore(view: SessionView): string {
  if (view.state === 'running' || view.state === 'waiting_upstream')
    return view.activity === 'exited'
      ? 'not yet: its process died before closing the run; the next `codex-oss up` records it as interrupted, and then it can be continued.'
      : 'not while it runs; ask again once it has exited.';
  return 'nothing to continue (the mission was refused before it ran); delegate it again instead.';
}

function thresholdFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (!/^\d+$/.test(value) || ms < 1 || ms > 86_400_000)
    throw new UsageError(
      `--ready-threshold-ms must be a whole number of milliseconds from 1 to 86400000, got "${value}"`,
    );
  return ms;
}
