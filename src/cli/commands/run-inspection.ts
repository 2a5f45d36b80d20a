import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  auditMission,
  findRun,
  missionDir,
  readEventLog,
  reduceRunRecord,
  runPaths,
  type MissionEvent,
  type RunRecord,
  type RunState,
  STATE_DIR,
} from '../../events/index.js';
import { configSchema } from '../../config/index.js';
import { openRunIndex, openSpendLedger, windowStatuses, type RunIndex } from '../../store/index.js';
import { configuredWindows, describeClock, describeWait } from '../../upstream/index.js';
import { UsageError, type CliIO, type Command } from '../cli-io.js';
import { columns } from '../format.js';
import { parseFlags } from '../parse-flags.js';
import { projectRoot } from '../project-root.js';

/** Every verb here reads the project's own files: no daemon needed, and nothing is changed. */
function idFlags(args: string[], extra: Record<string, { type: 'string' | 'boolean' }> = {}) {
  return parseFlags(() =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: { project: { type: 'string' }, json: { type: 'boolean', default: false }, ...extra },
    }),
  );
}

export interface LoadedRun {
  readonly root: string;
  readonly runId: string;
  readonly events: MissionEvent[];
  readonly record: RunRecord;
  readonly tornTail: { lineNumber: number; bytes: number } | null;
  readonly chainErrors: string[];
}

async function loadRun(
  args: string[],
  io: CliIO,
  verb: string,
): Promise<{ run: LoadedRun | undefined; json: boolean }> {
  const { values, positionals } = idFlags(args);
  const id = positionals[0];
  if (!id) throw new UsageError(`${verb} needs a mission id or run id (codex-oss runs lists them)`);
  const root = projectRoot(values.project, io);
  const runId = await findRun(root, id);
  if (!runId) {
    io.stderr.write(
      `No run or mission "${id}" under ${root}. \`codex-oss runs --project ${root}\` lists them.\n`,
    );
    return { run: undefined, json: values.json };
  }
  return { run: await readRun(root, runId), json: values.json };
}

/** A run's events and the record they fold to, read straight from its log (live runs included). */
export async function readRun(root: string, runId: string): Promise<LoadedRun> {
  const read = await readEventLog(runPaths(root, runId).logPath);
  return {
    root,
    runId,
    events: read.events,
    record: reduceRunRecord(read.events),
    tornTail: read.tornTail,
    chainErrors: read.chainErrors,
  };
}

export const showTraceCommand: Command = {
  name: 'show-trace',
  summary: "print a mission's steps from its event log",
  usage:
    'Usage: codex-oss show-trace ID [--project PATH] [--json]\n\nID is a mission id or run id. --json prints the raw events.\n',
  async run(args, io) {
    const { run, json } = await loadRun(args, io, 'show-trace');
    if (!run) return 1;
    if (json) {
      io.stdout.write(`${JSON.stringify(run.events, null, 2)}\n`);
      return 0;
    }
    for (const event of run.events) io.stdout.write(`${describeEvent(event)}\n`);
    if (run.tornTail)
      io.stdout.write(
        `!  torn last line at line ${run.tornTail.lineNumber} (${run.tornTail.bytes} bytes): the writer died mid-append\n`,
      );
    return 0;
  },
};

export const showSummaryCommand: Command = {
  name: 'show-summary',
  summary: "print a mission's summary.md",
  usage: 'Usage: codex-oss show-summary ID [--project PATH]\n',
  async run(args, io) {
    const { run } = await loadRun(args, io, 'show-summary');
    if (!run) return 1;
    const file = path.join(missionDir(run.root, run.record.mission_id ?? run.runId), 'summary.md');
    if (!existsSync(file)) {
      io.stderr.write(
        `${file} does not exist yet (the run may still be going, or was killed); \`codex-oss explain ${run.runId}\` reads the log directly.\n`,
      );
      return 1;
    }
    io.stdout.write(readFileSync(file, 'utf8'));
    return 0;
  },
};

export const auditMissionCommand: Command = {
  name: 'audit-mission',
  summary: 'prove the event chain is intact and every projection matches the log',
  usage:
    'Usage: codex-oss audit-mission ID [--project PATH] [--json]\n\nExits 1 when any check fails.\n',
  async run(args, io) {
    const { values, positionals } = idFlags(args);
    const id = positionals[0];
    if (!id) throw new UsageError('audit-mission needs a mission id or run id');
    const root = projectRoot(values.project, io);
    const audited = await auditMission(root, id);
    const result = await withPromotionLog(root, audited);
    if (values.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      for (const check of result.checks)
        io.stdout.write(`${check.ok ? 'PASS' : 'FAIL'} ${check.name}: ${check.detail}\n`);
      io.stdout.write(
        result.ok
          ? `Audit passed for ${result.mission_id ?? id} (run ${result.run_id ?? '?'}).\n`
          : `Audit FAILED for ${id}.\n`,
      );
    }
    return result.ok ? 0 : 1;
  },
};

/**
 * The promotion log (PRODUCT.md §6.1) is part of what an audit proves: its chain intact, and
 * every promotion of this mission naming the run the audit verified.
 */
async function withPromotionLog(
  root: string,
  result: Awaited<ReturnType<typeof auditMission>>,
): Promise<Awaited<ReturnType<typeof auditMission>>> {
  if (result.mission_id === null) return result;
  const { verifyPromotionLog } = await import('../../implementation/index.js');
  const log = await verifyPromotionLog(root);
  const mine = log.entries.filter((entry) => entry.mission_id === result.mission_id);
  if (mine.length === 0 && log.ok) return result;
  const foreign = mine.filter((entry) => entry.run_id !== result.run_id);
  const check = {
    name: 'promotion_log',
    ok: log.ok && foreign.length === 0,
    detail: !log.ok
      ? `the promotion log does not verify: ${log.errors[0] ?? 'unknown problem'}`
      : foreign.length > 0
        ? `${foreign.length} promotion(s) of this mission name another run`
        : `${mine.length} entr${mine.length === 1 ? 'y' : 'ies'} for this mission (${mine.map((entry) => entry.action).join(', ')}); chain intact`,
  };
  return { ...result, ok: result.ok && check.ok, checks: [...result.checks, check] };
}

export const explainCommand: Command = {
  name: 'explain',
  summary: 'say why a mission ended the way it did',
  usage: 'Usage: codex-oss explain ID [--project PATH] [--json]\n',
  async run(args, io) {
    const { run, json } = await loadRun(args, io, 'explain');
    if (!run) return 1;
    const { record, events } = run;
    const report = (record.report ?? {}) as { status_reasons?: string[]; summary?: string };
    const denied = events
      .filter((event) => event.type === 'tool.denied')
      .map(
        (event) =>
          event.payload as { call: number; tool: string; reason_code: string; message: string },
      );
    const failures = events
      .filter((event) => event.type === 'model.failed')
      .map((event) => event.payload as { call: number; model: string; code: string });
    const explanation = {
      mission_id: record.mission_id,
      run_id: record.run_id,
      state: record.state,
      status: record.status,
      reason: record.reason,
      reason_text: record.reason_text,
      rejection: record.rejection,
      runtime_decisions: report.status_reasons ?? [],
      model: record.model,
      fallbacks_used: record.fallbacks_used,
      model_calls: record.model_calls,
      model_failures: failures,
      tool_calls: record.tool_calls,
      denied_actions: denied,
      budgets: record.budgets,
      tokens: record.tokens,
      cost_usd: record.cost_usd,
      chain_ok: run.chainErrors.length === 0,
      torn_tail: run.tornTail,
      implementation: implementationSteps(events),
    };
    if (json) {
      io.stdout.write(`${JSON.stringify(explanation, null, 2)}\n`);
      return 0;
    }
    const lines = [
      `Mission ${record.mission_id ?? '?'} (run ${record.run_id}): ${record.status ?? record.state.toUpperCase()}`,
      `Why: ${record.rejection ? `${record.rejection.code}: ${record.rejection.message}` : `${record.reason ?? 'still running'}${record.reason_text ? ` (${record.reason_text})` : ''}`}`,
    ];
    if (explanation.runtime_decisions.length > 0)
      lines.push(
        'Runtime decisions:',
        ...explanation.runtime_decisions.map((reason) => `  - ${reason}`),
      );
    lines.push(
      `Model: ${record.model ?? '?'}${record.fallbacks_used.length > 0 ? ` (fell back to ${[...new Set(record.fallbacks_used.map((entry) => entry.to))].join(', ')})` : ''}; ${record.model_calls} call(s), ${failures.length} failed`,
      `Tools: ${record.tool_calls} call(s), ${denied.length} refused, ${record.cache_hits} served from cache`,
    );
    if (record.budgets) {
      lines.push(
        `Budgets: ${record.budgets.tool_budget} tools, ${record.budgets.time_budget_seconds} s, ${record.budgets.max_model_calls} model calls` +
          (record.budgets.max_cost_usd === null ? '' : `, $${record.budgets.max_cost_usd} cap`),
      );
    }
    lines.push(`Spent: ${record.tokens.total_tokens} tokens, $${record.cost_usd.toFixed(6)}`);
    for (const action of denied)
      lines.push(
        `  refused cmd:${action.call} ${action.tool} (${action.reason_code}): ${action.message}`,
      );
    for (const failure of failures)
      lines.push(`  model call ${failure.call} on ${failure.model} failed: ${failure.code}`);
    if (explanation.implementation.length > 0)
      lines.push('Implementation:', ...explanation.implementation.map((step) => `  - ${step}`));
    if (run.tornTail)
      lines.push(
        `Log: torn last line at line ${run.tornTail.lineNumber}; the chain verifies up to the line before.`,
      );
    if (run.chainErrors.length > 0)
      lines.push(`Log: CHAIN BROKEN (${run.chainErrors.join('; ')}); run audit-mission.`);
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};

/** The implementation steps of a run, in words: isolation, each submission, its checks and verification. */
function implementationSteps(events: readonly MissionEvent[]): string[] {
  const steps: string[] = [];
  for (const event of events) {
    const p = event.payload as Record<string, unknown>;
    switch (event.type) {
      case 'isolation.created':
        steps.push(
          `isolated ${String(p['kind'])} at ${String(p['root'])}${Array.isArray(p['carried']) && p['carried'].length > 0 ? `, ${p['carried'].length} uncommitted file(s) carried` : ''}`,
        );
        break;
      case 'patch.proposed':
        steps.push(
          `submission ${String(p['round'])}: the runtime built a ${String(p['bytes'])}-byte patch of ${Array.isArray(p['files']) ? p['files'].length : 0} file(s)`,
        );
        break;
      case 'patch.rejected':
        steps.push(
          `  checks: ${String(p['status'])}: ${Array.isArray(p['reasons']) ? p['reasons'].join('; ') : ''}`,
        );
        break;
      case 'patch.validated':
        steps.push('  checks: all passed');
        break;
      case 'verification.completed': {
        const results =
          (
            p['results'] as {
              commands?: { command?: string[]; outcome?: string; exit_code?: number | null }[];
            } | null
          )?.commands ?? [];
        steps.push(
          `  verification ${p['passed'] === true ? 'passed' : 'failed'}: ${results.map((r) => `${(r.command ?? []).join(' ')} → ${r.outcome ?? '?'} (exit ${r.exit_code ?? 'none'})`).join('; ')}`,
        );
        break;
      }
      case 'isolation.removed':
        steps.push(
          p['kept'] === true
            ? 'isolation kept (keep_worktree)'
            : 'isolation removed; the main workspace was never written',
        );
        break;
      default:
        break;
    }
  }
  return steps;
}

export const runsCommand: Command = {
  name: 'runs',
  summary: 'list recent missions from the run index',
  usage:
    'Usage: codex-oss runs [--limit N] [--state running|waiting_upstream|completed|failed|cancelled] [--project PATH] [--json]\n',
  run(args, io) {
    const { values } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        options: {
          project: { type: 'string' },
          json: { type: 'boolean', default: false },
          limit: { type: 'string', default: '20' },
          state: { type: 'string' },
        },
      }),
    );
    const limit = limitFlag(values.limit);
    const state = stateFlag(values.state);
    return withRunIndex(values.project, io, (index) => {
      const rows = index.listRuns({ limit, ...(state ? { state } : {}) });
      if (values.json) io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length === 0) io.stdout.write('No runs yet in this project.\n');
      else {
        io.stdout.write(
          columns([
            ['STARTED', 'MISSION', 'STATE', 'STATUS', 'MODEL', 'TOOLS', 'TOKENS', 'COST'],
            ...rows.map((row) => [
              row.started_at ?? '-',
              row.mission_id ?? row.run_id,
              row.state,
              row.status ?? '-',
              row.model ?? '-',
              String(row.tool_calls),
              String(row.total_tokens),
              `$${row.cost_usd.toFixed(4)}`,
            ]),
          ]),
        );
      }
      return 0;
    });
  },
};

export const reindexCommand: Command = {
  name: 'reindex',
  summary: 'rebuild the SQLite run index from the event logs',
  usage:
    'Usage: codex-oss reindex [--project PATH] [--json]\n\nThe index is derived; this drops it and rebuilds it from .codex-oss/runs/*/events.jsonl.\n',
  run(args, io) {
    const { values } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        options: { project: { type: 'string' }, json: { type: 'boolean', default: false } },
      }),
    );
    return withRunIndex(values.project, io, async (index, root) => {
      const result = await index.rebuild(root);
      if (values.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        io.stdout.write(`Indexed ${result.indexed} run(s) into ${index.path}.\n`);
        for (const torn of result.torn)
          io.stdout.write(
            `  torn tail in ${torn.run_id} at line ${torn.line} (indexed up to the line before)\n`,
          );
        for (const failed of result.failed)
          io.stdout.write(`  NOT indexed ${failed.run_id}: ${failed.errors.join('; ')}\n`);
      }
      return result.failed.length === 0 ? 0 : 1;
    });
  },
};

export const usageCommand: Command = {
  name: 'usage',
  summary:
    'tokens and dollars spent by missions, overall and per model; --windows: OpenCode Go plan windows',
  usage:
    'Usage: codex-oss usage [--since ISO-DATE] [--windows] [--project PATH] [--json]\n\n' +
    '--windows shows what the bridge spent upstream (raw lane and missions) in each OpenCode Go plan window\n' +
    '(PLAN_LIMITS_JSON, default $12 per 5 hours, $30 per week, $60 per month) and what is left.\n',
  run(args, io) {
    const { values } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        options: {
          project: { type: 'string' },
          json: { type: 'boolean', default: false },
          since: { type: 'string' },
          windows: { type: 'boolean', default: false },
        },
      }),
    );
    if (values.windows) return Promise.resolve(planWindowsReport(values.project, values.json, io));
    const since = sinceFlag(values.since);
    return withRunIndex(values.project, io, (index) => {
      const report = index.usage(since ? { since } : {});
      if (values.json) {
        io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return 0;
      }
      io.stdout.write(
        columns([
          ['MODEL', 'RUNS', 'CALLS', 'INPUT', 'CACHED', 'OUTPUT', 'COST'],
          ...report.by_model.map((row) => [
            row.model,
            String(row.runs),
            String(row.model_calls),
            String(row.input_tokens),
            String(row.cached_input_tokens),
            String(row.output_tokens),
            `$${row.cost_usd.toFixed(4)}`,
          ]),
          [
            'total',
            String(report.overall.runs),
            String(report.overall.model_calls),
            String(report.overall.input_tokens),
            String(report.overall.cached_input_tokens),
            String(report.overall.output_tokens),
            `$${report.overall.cost_usd.toFixed(4)}`,
          ],
        ]),
      );
      return 0;
    });
  },
};

/**
 * Opens the project's run index for a verb that reads it, or says why there is none. It never
 * creates one: a missing or mistyped --project must not plant .codex-oss/ in another directory.
 */
/** The spend ledger against PLAN_LIMITS_JSON: spent, left, and when the oldest spend ages out. */
function planWindowsReport(flag: string | undefined, json: boolean, io: CliIO): number {
  const root = projectRoot(flag, io);
  const limits = configSchema.shape.PLAN_LIMITS_JSON.safeParse(io.env['PLAN_LIMITS_JSON']);
  if (!limits.success) {
    io.stderr.write(
      `PLAN_LIMITS_JSON is not valid: ${limits.error.issues[0]?.message ?? 'invalid'}; expected {"five_hour":12,"week":30,"month":60}.\n`,
    );
    return 2;
  }
  if (!existsSync(path.join(root, STATE_DIR, 'state', 'spend.sqlite'))) {
    io.stderr.write(
      `No spend recorded under ${root}: the daemon has made no upstream call for this project yet.\n`,
    );
    if (!json) return 1;
  }
  const ledger = openSpendLedger(root);
  try {
    const now = Date.now();
    const statuses = windowStatuses(ledger, configuredWindows(limits.data), now);
    if (json) {
      io.stdout.write(`${JSON.stringify({ windows: statuses }, null, 2)}\n`);
      return 0;
    }
    io.stdout.write(
      columns([
        ['WINDOW', 'LIMIT', 'SPENT', 'LEFT', 'OLDEST SPEND AGES OUT'],
        ...statuses.map((status) => [
          status.label,
          `$${status.limit_usd.toFixed(2)}`,
          `$${status.spent_usd.toFixed(4)}`,
          `$${status.left_usd.toFixed(4)}`,
          status.next_release_at === null
            ? '-'
            : `in ${describeWait((Date.parse(status.next_release_at) - now) / 1000)} (${describeClock(new Date(status.next_release_at), new Date(now))})`,
        ]),
      ]),
    );
    io.stdout.write(
      "Counted by this bridge only (Go's console is the authority; spend from other machines is not here).\n",
    );
    return 0;
  } finally {
    ledger.close();
  }
}

async function withRunIndex(
  flag: string | undefined,
  io: CliIO,
  use: (index: RunIndex, root: string) => number | Promise<number>,
): Promise<number> {
  const root = projectRoot(flag, io);
  if (!existsSync(path.join(root, STATE_DIR))) {
    io.stderr.write(
      `No opencode-bridge state under ${root}: no mission has run in this project. Pass --project PATH (or set CODEX_OSS_PROJECT) to look at another one.\n`,
    );
    return 1;
  }
  const index = openRunIndex(root);
  try {
    return await use(index, root);
  } finally {
    index.close();
  }
}

const runStates: readonly RunState[] = [
  'running',
  'waiting_upstream',
  'completed',
  'failed',
  'cancelled',
];

function limitFlag(value: string | undefined): number {
  const limit = Number(value ?? '20');
  if (!/^\d+$/.test(value ?? '20') || limit < 1 || limit > 1000) {
    throw new UsageError(`--limit must be a whole number from 1 to 1000, got "${value ?? ''}"`);
  }
  return limit;
}

function stateFlag(value: string | undefined): RunState | undefined {
  if (value === undefined) return undefined;
  const state = runStates.find((candidate) => candidate === value);
  if (!state)
    throw new UsageError(`--state must be one of ${runStates.join(', ')}, got "${value}"`);
  return state;
}

function sinceFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new UsageError(
      `--since must be a date such as 2026-11-01 or 2026-11-01T09:00:00Z, got "${value}"`,
    );
  }
  return new Date(time).toISOString();
}

function describeEvent(event: MissionEvent): string {
  const payload = event.payload as Record<string, unknown>;
  const time = event.ts.slice(11, 19);
  const head = `#${String(event.seq).padStart(3)} ${time} ${event.type.padEnd(18)}`;
  switch (event.type) {
    case 'run.admitted':
      return `${head} ${String(payload['mission_id'])} ${String(payload['tier'])} on ${String(payload['model'])}`;
    case 'model.requested':
      return `${head} call ${String(payload['call'])} → ${String(payload['model'])}${payload['forced_final'] ? ' (forced final report)' : ''}`;
    case 'model.responded':
      return `${head} call ${String(payload['call'])} ${String(payload['model'])}: ${String(payload['action'])}, ${String((payload['usage'] as { total_tokens?: number } | undefined)?.total_tokens ?? 0)} tokens, $${Number(payload['cost_usd']).toFixed(6)}`;
    case 'tool.requested':
      return `${head} cmd:${String(payload['call'])} ${String(payload['tool'])} ${JSON.stringify(payload['args'])}`;
    case 'tool.completed':
      return `${head} cmd:${String(payload['call'])} ${String(payload['summary'])} → ${(payload['refs'] as string[]).join(', ')}`;
    case 'tool.denied':
      return `${head} cmd:${String(payload['call'])} REFUSED ${String(payload['reason_code'])}`;
    case 'commentary.emitted':
      return `${head} ${String(payload['message'])}`;
    case 'run.completed':
      return `${head} ${String(payload['status'])} (${String(payload['reason'])})`;
    case 'mission.rejected':
      return `${head} ${String(payload['code'])}: ${String(payload['message'])}`;
    default:
      return head;
  }
}
