import { createHash } from 'node:crypto';
import type { EventPayloadMap, KnownEventType } from '../events/index.js';
import type { MissionV1 } from '../mission/index.js';
import type { ChatTool } from '../upstream/index.js';
import type { CommentaryChannel } from './commentary-channel.js';
import { canonicalJson, type EvidenceLedger } from './evidence-ledger.js';
import { redactDeep } from './redact-deep.js';
import { redactSecrets } from './redact-secrets.js';
import { redactWithSecretlint } from './secretlint-pass.js';
import type { PathScope } from './path-scope.js';
import { checkToolArgs, toolSpecs } from './tools/registry.js';
import { failure, type ToolObservation, type ToolSpec } from './tools/types.js';

export type RecordEvent = <T extends KnownEventType>(
  type: T,
  source: 'runtime' | 'model' | 'tool',
  payload: EventPayloadMap[T],
) => Promise<void>;

export interface ToolOutcome {
  /** What goes back to the model: refs header plus the observation (or the refusal). */
  readonly text: string;
  readonly refs: readonly string[];
  readonly kind: 'executed' | 'cache_hit' | 'denied' | 'duplicate';
  /** A critical path was requested without permission: the mission must stop. */
  readonly critical: boolean;
  /** Set when a budget ran out while handling this call. */
  readonly exhausted?: string;
  /** sha256 hex of the observation (as in `tool.completed`), when the tool ran or was cached. */
  readonly digest?: string;
  /** Whether the tool itself succeeded (a missing file is recorded, but is no evidence). */
  readonly ok?: boolean;
}

export interface RunOptions {
  /**
   * Evidence a continuation carries over from the run it continues (PRODUCT.md §6.3): recorded
   * like any call, but the new run keeps its own budgets, so it spends neither calls nor bytes.
   */
  readonly carried?: boolean;
}

export interface DispatcherLimits {
  readonly toolBudget: number;
  readonly maxFiles: number;
  readonly maxObservationBytes: number;
  readonly maxDuplicates: number;
  readonly maxLowInformation: number;
}

const pathDenials = new Set([
  'path_empty',
  'path_traversal',
  'path_outside_project',
  'path_denied',
  'symlink_escape',
  'path_not_allowed',
  'critical_path_denied',
  'path_not_owned',
  'deletions_not_allowed',
  'path_changed',
  'hard_link_refused',
]);

/** Write-like names a model may try; they never exist here, and saying so helps it stop. */
const writeTools =
  /^(apply_patch|write_file|edit|edit_file|create_file|delete_file|rtk_write|exec_command|shell|bash|run)$/;

/**
 * Decides and executes one proposed tool call. Every call gets a number (its `cmd:<n>` ref) and
 * is recorded: requested, then denied or completed. Nothing reaches the model unredacted.
 */
export class ToolDispatcher {
  private calls = 0;
  private budgetUsed = 0;
  private bytes = 0;
  private duplicates = 0;
  private lowInformation = 0;
  private readonly files = new Set<string>();
  private readonly specs: Map<string, ToolSpec>;
  private readonly seen = new Map<string, number>();
  /** Calls admitted and not yet committed (a batch in flight), held against the tool budget. */
  private reserved = 0;
  /** New files those calls read, held against the file budget. */
  private readonly reservedFiles = new Set<string>();
  /** The call that ends the run, named when a refused tool lists what is allowed. */
  finalToolName = 'submit_report';

  constructor(
    private readonly mission: MissionV1,
    private readonly scope: PathScope,
    private readonly ledger: EvidenceLedger,
    private readonly limits: DispatcherLimits,
    private readonly record: RecordEvent,
    private readonly commentary: CommentaryChannel,
    private readonly signal: AbortSignal,
    /** Tools a tier adds whatever the classes say (A4–A6 edit tools bound to the run's copy). */
    extraSpecs: readonly ToolSpec[] = [],
  ) {
    this.specs = new Map(
      [
        ...toolSpecs.filter((spec) => mission.allowed_tool_classes.includes(spec.toolClass)),
        ...extraSpecs,
      ].map((spec) => [spec.name, spec]),
    );
  }

  get toolNames(): string[] {
    return [...this.specs.keys()];
  }

  get definitions(): ToolSpec[] {
    return [...this.specs.values()];
  }

  /** The tools offered to the model, as Chat Completions function definitions. */
  chatTools(): ChatTool[] {
    return this.definitions.map((spec) => ({
      type: 'function' as const,
      function: { name: spec.name, description: spec.description, parameters: spec.parameters },
    }));
  }

  get callCount(): number {
    return this.calls;
  }

  get budgetRemaining(): number {
    return Math.max(0, this.limits.toolBudget - this.budgetUsed);
  }

  /** Why the model should stop exploring now, if a budget or the loop detector says so. */
  exhaustion(): string | undefined {
    if (this.budgetUsed + this.reserved >= this.limits.toolBudget)
      return `The tool budget (${this.limits.toolBudget} calls) is spent.`;
    if (this.files.size + this.reservedFiles.size >= this.limits.maxFiles)
      return `The file budget (${this.limits.maxFiles} files) is spent.`;
    if (this.bytes >= this.limits.maxObservationBytes)
      return `The observation budget (${this.limits.maxObservationBytes} bytes) is spent.`;
    if (this.duplicates >= this.limits.maxDuplicates)
      return `You repeated actions ${this.duplicates} times; exploration has stopped.`;
    if (this.lowInformation >= this.limits.maxLowInformation)
      return `${this.lowInformation} actions were refused or repeated; exploration has stopped.`;
    return undefined;
  }

  async run(
    name: string,
    rawArgs: unknown,
    source: 'model' | 'runtime',
    options: RunOptions = {},
  ): Promise<ToolOutcome> {
    const step = await this.prepare(name, rawArgs, source, options);
    if (step.kind === 'done') return step.outcome;
    return this.commit(step, await this.execute(step));
  }

  /** Whether a call may run alongside others of its turn: read-only tools, never edits. */
  isBatchable(name: string): boolean {
    const spec = this.specs.get(name);
    return spec !== undefined && spec.toolClass !== 'write';
  }

  /**
   * Several read-only calls of one model turn, run concurrently (at most `batchConcurrency` at a
   * time). Each is numbered, recorded and checked exactly as `run` does it, in the model's order;
   * budgets are reserved when a call is admitted, so a batch cannot start more calls than the
   * budgets have room for, and results are committed in order, so a budget the earlier calls of
   * the batch spent refuses the later ones as it would have one turn at a time. A call identical
   * to an earlier one of the batch waits for it and is then answered as a repeat (from cache).
   */
  async runBatch(
    calls: readonly { readonly name: string; readonly args: unknown }[],
    source: 'model' | 'runtime' = 'model',
  ): Promise<ToolOutcome[]> {
    const outcomes: (ToolOutcome | undefined)[] = [];
    const admitted: { index: number; step: PendingCall; result: Promise<ToolObservation> }[] = [];
    const repeats: number[] = [];
    const keys = new Set<string>();
    const pool = limitConcurrency(batchConcurrency);
    for (const [index, { name, args }] of calls.entries()) {
      const key = this.keyOf(name, args);
      if (key !== undefined && keys.has(key)) {
        repeats.push(index);
        continue;
      }
      if (key !== undefined) keys.add(key);
      const step = await this.prepare(name, args, source, {});
      if (step.kind === 'done') {
        outcomes[index] = step.outcome;
        continue;
      }
      admitted.push({ index, step, result: pool(() => this.execute(step)) });
    }
    let ended = false;
    for (const { index, step, result } of admitted) {
      const observation = await result;
      if (ended) {
        // A critical path ended the mission: what ran alongside it is recorded, never shown.
        outcomes[index] = await this.release(step, 'mission_ended', 'The mission already ended.');
        continue;
      }
      const outcome = await this.commit(step, observation);
      outcomes[index] = outcome;
      if (outcome.critical) ended = true;
    }
    for (const index of repeats) {
      const call = calls[index];
      outcomes[index] =
        ended || call === undefined ? skippedOutcome : await this.run(call.name, call.args, source);
    }
    return outcomes.map((outcome) => outcome ?? skippedOutcome);
  }

  /** The identity of a call for repeat detection, when its arguments are valid. */
  private keyOf(name: string, rawArgs: unknown): string | undefined {
    const spec = this.specs.get(name);
    if (!spec || depthOf(rawArgs) > maxArgumentDepth) return undefined;
    const checked = checkToolArgs(spec, rawArgs);
    return checked.ok ? `${name}:${canonicalJson(checked.args)}` : undefined;
  }

  /**
   * Numbers and records the call, then decides everything that needs no execution: invalid or
   * refused calls, repeats, cache hits and spent budgets. An admitted call holds its share of the
   * tool and file budgets until it is committed or released.
   */
  private async prepare(
    name: string,
    rawArgs: unknown,
    source: 'model' | 'runtime',
    options: RunOptions,
  ): Promise<{ kind: 'done'; outcome: ToolOutcome } | PendingCall> {
    this.calls += 1;
    const call = this.calls;
    const ref = `cmd:${call}`;
    const done = (outcome: ToolOutcome) => ({ kind: 'done' as const, outcome });
    if (depthOf(rawArgs) > maxArgumentDepth) {
      // Recorded as a marker, not as is: a pathological value must not reach the event writer.
      await this.record('tool.requested', source, {
        call,
        tool: name,
        args: { nested_too_deep: true },
      });
      return done(
        await this.deny(
          call,
          name,
          {},
          'invalid_args',
          `${name}: the arguments are nested more than ${maxArgumentDepth} levels deep. Nothing was run.`,
        ),
      );
    }
    await this.record('tool.requested', source, { call, tool: name, args: redactDeep(rawArgs) });

    const spec = this.specs.get(name);
    if (!spec) {
      const why = writeTools.test(name)
        ? `${name} does not exist here: ${this.specs.has('edit_file') ? 'edits go through edit_file, write_file and delete_file in the isolated copy, and the runtime runs every command' : 'this mission is read-only and the runtime owns every change'}.`
        : `${name} is not an allowed tool for this mission; allowed: ${this.toolNames.join(', ')}, ${this.finalToolName}.`;
      return done(await this.deny(call, name, rawArgs, 'tool_not_allowed', why));
    }
    const checked = checkToolArgs(spec, rawArgs);
    if (!checked.ok)
      return done(await this.deny(call, name, rawArgs, checked.code, checked.message));
    const args = checked.args;

    const key = `${name}:${canonicalJson(args)}`;
    const previous = this.seen.get(key);
    let filePath: string | undefined;
    if (name === 'read_file') {
      const resolved = this.scope.resolve(typeof args['path'] === 'string' ? args['path'] : '');
      if (resolved.ok) filePath = resolved.relative;
      const cached = resolved.ok ? this.ledger.lookupRead(resolved.relative, rangeOf(args)) : null;
      if (cached) {
        // Served free of budget, but the very same read again is still a repeat: a model stuck
        // re-reading one file must hit the loop detector, not spin until the deadline.
        if (previous !== undefined) {
          this.duplicates += 1;
          this.lowInformation += 1;
        }
        this.seen.set(key, call);
        const refs = this.ledger.record(call, name, args, cached).refs;
        const digest = await this.completed(call, name, args, cached, refs, true);
        return done({
          text: frame(refs, cached.text),
          refs,
          kind: 'cache_hit',
          critical: false,
          digest,
          ok: cached.ok,
          ...this.exhaustedField(),
        });
      }
    }
    if (previous !== undefined && name !== 'read_file') {
      this.duplicates += 1;
      this.lowInformation += 1;
      await this.record('tool.denied', 'runtime', {
        call,
        tool: name,
        args: redactDeep(args),
        reason_code: 'duplicate_action',
        message: `identical to cmd:${previous}`,
      });
      await this.commentary.say(
        'runtime_redirect',
        'EXPLORE',
        `The model repeated ${name}; the runtime pointed it at cmd:${previous} instead.`,
        'warning',
      );
      return done({
        text: frame(
          [ref],
          `[DUPLICATE] This is identical to cmd:${previous}; use that result. Nothing was run.`,
        ),
        refs: [ref],
        kind: 'duplicate',
        critical: false,
        ...this.exhaustedField(),
      });
    }
    // A new file takes a file slot unless the file was read (or is being read) already; carried
    // evidence takes none.
    const carried = options.carried === true;
    const newFile =
      !carried &&
      filePath !== undefined &&
      !this.files.has(filePath) &&
      !this.reservedFiles.has(filePath);
    const over = this.exhaustion();
    if (over)
      return done(
        await this.deny(call, name, args, 'budget_exhausted', `${over} Call submit_report now.`),
      );
    if (!carried) this.reserved += 1;
    if (newFile && filePath !== undefined) this.reservedFiles.add(filePath);

    await this.commentary.say('tool_action_started', 'EXPLORE', describeCall(name, args));
    return {
      kind: 'pending',
      call,
      name,
      args,
      key,
      spec,
      carried,
      ...(newFile && filePath !== undefined ? { reservedFile: filePath } : {}),
    };
  }

  /** Runs an admitted call; changes nothing in the dispatcher, so calls may run side by side. */
  private async execute(step: PendingCall): Promise<ToolObservation> {
    const executed = await untilAborted(
      step.spec.execute(step.args, {
        scope: this.scope,
        projectRoot: this.scope.projectRoot,
        signal: this.signal,
      }),
      this.signal,
      step.name,
    );
    return secondPass(executed);
  }

  /** Gives back what `prepare` reserved for a call. */
  private unreserve(step: PendingCall): void {
    if (!step.carried) this.reserved -= 1;
    if (step.reservedFile !== undefined) this.reservedFiles.delete(step.reservedFile);
  }

  /** Refuses an admitted call without showing its result (recorded as denied). */
  private release(step: PendingCall, code: string, message: string): Promise<ToolOutcome> {
    this.unreserve(step);
    return this.deny(step.call, step.name, step.args, code, message);
  }

  /** Accounts an executed call, records it in the ledger and the log, and frames its result. */
  private async commit(step: PendingCall, observation: ToolObservation): Promise<ToolOutcome> {
    const { call, name, args } = step;
    this.unreserve(step);
    if (!observation.ok && observation.code && pathDenials.has(observation.code)) {
      const critical = observation.code === 'critical_path_denied';
      return this.deny(call, name, args, observation.code, observation.text, critical);
    }
    // Only the observation budget cannot be reserved (a result's size is known once it ran): a
    // call of a batch whose earlier calls spent it is refused here, as the next turn would be.
    if (this.bytes >= this.limits.maxObservationBytes) {
      return this.deny(
        call,
        name,
        args,
        'budget_exhausted',
        `The observation budget (${this.limits.maxObservationBytes} bytes) is spent. Call submit_report now.`,
      );
    }
    this.seen.set(step.key, call);
    if (!step.carried) {
      this.budgetUsed += 1;
      this.bytes += observation.bytes;
    }
    if (observation.path && name === 'read_file' && observation.ok && !step.carried)
      this.files.add(observation.path);
    if (!observation.ok) this.lowInformation += 1;
    const refs = this.ledger.record(call, name, args, observation).refs;
    const digest = await this.completed(call, name, args, observation, refs, false);
    await this.commentary.say('tool_result_summary', 'EXPLORE', summarize(name, observation));
    return {
      text: frame(refs, observation.text),
      refs,
      kind: 'executed',
      critical: false,
      digest,
      ok: observation.ok,
      ...this.exhaustedField(),
    };
  }

  private exhaustedField(): { exhausted?: string } {
    const over = this.exhaustion();
    return over ? { exhausted: over } : {};
  }

  private async deny(
    call: number,
    tool: string,
    args: unknown,
    code: string,
    message: string,
    critical = false,
  ): Promise<ToolOutcome> {
    this.lowInformation += 1;
    await this.record('tool.denied', 'runtime', {
      call,
      tool,
      args: redactDeep(args),
      reason_code: code,
      message,
    });
    await this.commentary.say(
      'tool_denied',
      'EXPLORE',
      `The runtime refused ${tool} (${code}).`,
      'warning',
    );
    const ref = `cmd:${call}`;
    return {
      text: frame([ref], `[REFUSED: ${code}] ${message}`),
      refs: [ref],
      kind: 'denied',
      critical,
      ...this.exhaustedField(),
    };
  }

  private async completed(
    call: number,
    tool: string,
    args: unknown,
    observation: ToolObservation,
    refs: readonly string[],
    cacheHit: boolean,
  ): Promise<string> {
    const digest = createHash('sha256').update(observation.text).digest('hex');
    await this.record('tool.completed', 'tool', {
      call,
      tool,
      args: redactDeep(args),
      digest,
      bytes: observation.bytes,
      refs: [...refs],
      cache_hit: cacheHit,
      redactions: observation.redactions,
      // A file name can be a secret: the log keeps the name the model was shown.
      summary: redactSecrets(summarize(tool, observation)).text,
      path: observation.path === undefined ? null : redactSecrets(observation.path).text,
    });
    return digest;
  }
}

interface PendingCall {
  readonly kind: 'pending';
  readonly call: number;
  readonly name: string;
  readonly args: Record<string, unknown>;
  readonly key: string;
  readonly spec: ToolSpec;
  readonly carried: boolean;
  readonly reservedFile?: string;
}

/** How many calls of one turn run at once: enough to overlap I/O, few enough for a 2-core box. */
const batchConcurrency = 4;

const skippedOutcome: ToolOutcome = {
  text: '[SKIPPED] The mission already ended.',
  refs: [],
  kind: 'denied',
  critical: false,
};

/** A minimal promise pool: `run(task)` starts `task` once fewer than `max` are running. */
function limitConcurrency(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to the next one, so `running` never exceeds max.
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}

/**
 * A tool's result, or a `tool_interrupted` failure once the mission's signal (its deadline or
 * the client's disconnect) fires, whichever comes first. A tool that ignores the signal (a
 * blocked system call cannot be interrupted) is left to settle on its own; the mission does not
 * wait for it, so it cannot hold the run or its lane slot past the deadline (issue 9, item 1).
 */
function untilAborted(
  pending: Promise<ToolObservation>,
  signal: AbortSignal,
  tool: string,
): Promise<ToolObservation> {
  const interrupted = (): ToolObservation =>
    failure(
      'tool_interrupted',
      (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError'
        ? `${tool} did not finish before the mission deadline; the runtime stopped waiting for it.`
        : `${tool} was stopped: the mission was cancelled.`,
    );
  if (signal.aborted) {
    pending.catch(() => undefined);
    return Promise.resolve(interrupted());
  }
  return new Promise<ToolObservation>((resolve, reject) => {
    const onAbort = () => resolve(interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

const maxArgumentDepth = 16;

function depthOf(value: unknown, depth = 0): number {
  if (depth > maxArgumentDepth || value === null || typeof value !== 'object') return depth;
  let deepest = depth;
  for (const item of Object.values(value)) deepest = Math.max(deepest, depthOf(item, depth + 1));
  return deepest;
}

/**
 * Every result names the refs it created, first, so the model can cite them (PRODUCT.md §6).
 * Refs carry file names, and a file name can itself be a secret: they are redacted too.
 */
function frame(refs: readonly string[], body: string): string {
  return `${redactSecrets(`[refs: ${refs.join(', ')}]`).text}\n${body}`;
}

/**
 * secretlint's recommended rules over what a tool produced, after our own detectors (the tool
 * already redacted it). Once per tool call: secretlint is asynchronous and too slow for the
 * per-line hot paths (secretlint-pass.ts).
 */
async function secondPass(observation: ToolObservation): Promise<ToolObservation> {
  const pass = await redactWithSecretlint(observation.text);
  if (pass.count === 0) return observation;
  return {
    ...observation,
    text: pass.text,
    bytes: Buffer.byteLength(pass.text),
    redactions: observation.redactions + pass.count,
  };
}

function rangeOf(args: Record<string, unknown>): { start_line?: number; end_line?: number } {
  return {
    ...(typeof args['start_line'] === 'number' ? { start_line: args['start_line'] } : {}),
    ...(typeof args['end_line'] === 'number' ? { end_line: args['end_line'] } : {}),
  };
}

function describeCall(tool: string, args: Record<string, unknown>): string {
  const raw = typeof args['path'] === 'string' ? args['path'] : undefined;
  const path = raw === '.' || raw === './' ? 'the project root' : raw;
  switch (tool) {
    case 'read_file':
      return `I'm reading ${path ?? 'a file'}${typeof args['start_line'] === 'number' ? ` from line ${args['start_line']}` : ''}.`;
    case 'search_text':
      return `I'm searching for "${String(args['pattern']).slice(0, 80)}"${path ? ` in ${path}` : ''}.`;
    case 'list_dir':
      return `I'm listing ${path ?? 'a directory'}.`;
    case 'edit_file':
    case 'write_file':
      return `I'm ${tool === 'edit_file' ? 'editing' : 'writing'} ${path ?? 'a file'} in the isolated copy.`;
    case 'delete_file':
      return `I'm deleting ${path ?? 'a file'} in the isolated copy.`;
    default:
      return `I'm running ${tool}.`;
  }
}

function summarize(tool: string, observation: ToolObservation): string {
  if (!observation.ok) return `${tool} failed: ${observation.code ?? 'error'}.`;
  switch (tool) {
    case 'read_file': {
      const range = observation.lineRange
        ? ` lines ${observation.lineRange[0]}-${observation.lineRange[1]}`
        : '';
      return `Read ${observation.path ?? 'the file'}${range}${observation.complete === false ? ' (partial)' : ''}.`;
    }
    case 'search_text':
      return `Search found ${observation.matches ?? 0} match(es).`;
    case 'list_dir':
      return `Listed ${observation.path === '.' || !observation.path ? 'the project root' : observation.path}.`;
    case 'edit_file':
    case 'write_file':
    case 'delete_file':
      return `Staged the change to ${observation.path ?? 'the file'} (isolated copy only).`;
    default:
      return `${tool} finished (${observation.bytes} bytes).`;
  }
}
