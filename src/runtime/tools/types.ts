import { z } from 'zod';
import type { ToolClass as MissionToolClass } from '../../mission/index.js';
import type { PathScope } from '../path-scope.js';
import { redactSecrets } from '../redact-secrets.js';

/**
 * The classes a mission may allow (`allowed_tool_classes`), plus `write`: those tools exist
 * only in A4–A6, where they stage edits in the run's isolated copy, and no mission names them.
 */
export type ToolClass = MissionToolClass | 'write';

export type ToolName =
  | 'read_file'
  | 'search_text'
  | 'list_dir'
  | 'git_status'
  | 'git_log'
  | 'git_show_stat'
  | 'git_diff_stat'
  | 'edit_file'
  | 'write_file'
  | 'delete_file';

/** What a tool call produced. `text` is what the model sees, and is always already redacted. */
export interface ToolObservation {
  readonly ok: boolean;
  readonly text: string;
  /** UTF-8 size of `text`; counts against the observation-bytes budget. */
  readonly bytes: number;
  readonly redactions: number;
  /** Project-relative path the call read, listed or searched (when it names one). */
  readonly path?: string;
  /** 1-based inclusive lines actually shown (read_file). */
  readonly lineRange?: readonly [number, number];
  readonly totalLines?: number;
  /** read_file: the whole file was shown. Other tools: nothing was cut by a cap. */
  readonly complete?: boolean;
  readonly matches?: number;
  /**
   * search_text: matches left out because the pattern matched only a redacted part of the line.
   * For the operator's record; never put in `text`, where the count would itself answer the
   * question the redaction hides.
   */
  readonly withheld?: number;
  /** Denial or error code (path-scope codes, `invalid_args`, `binary_file`, `not_a_git_repo`…). */
  readonly code?: string;
}

export interface ToolLimits {
  /** read_file: characters of numbered output before the read is cut. */
  readonly readChars: number;
  /** read_file: files larger than this are refused (use search_text on them). */
  readonly readMaxFileBytes: number;
  /** search_text: files larger than this are skipped. */
  readonly searchMaxFileBytes: number;
  readonly searchDefaultResults: number;
  readonly searchMaxResults: number;
  readonly searchOutputChars: number;
  /** search_text: characters of one matched line shown before it is shortened. */
  readonly searchLineChars: number;
  /**
   * search_text: wall-clock limit for one search, which runs in a worker thread that is
   * terminated at this point (a catastrophic regex or glob cannot be interrupted otherwise).
   */
  readonly searchTimeoutMs: number;
  readonly listMaxEntries: number;
  readonly gitOutputChars: number;
  readonly gitTimeoutMs: number;
  /**
   * Read and search files with more than one hard link. Off by default: a hard link can give a
   * file from outside the scope (or on the deny list) an allowed name.
   */
  readonly allowHardLinks: boolean;
}

export const defaultToolLimits: ToolLimits = Object.freeze({
  readChars: 100_000,
  readMaxFileBytes: 16 * 1024 * 1024,
  searchMaxFileBytes: 2 * 1024 * 1024,
  searchDefaultResults: 100,
  searchMaxResults: 500,
  searchOutputChars: 100_000,
  searchLineChars: 400,
  searchTimeoutMs: 10_000,
  listMaxEntries: 1000,
  gitOutputChars: 20_000,
  gitTimeoutMs: 10_000,
  allowHardLinks: false,
});

export interface ToolContext {
  readonly scope: PathScope;
  readonly projectRoot: string;
  readonly signal: AbortSignal;
  /** Overrides for the defaults above; missing fields keep the default. */
  readonly limits?: Partial<ToolLimits>;
}

export function effectiveLimits(ctx: ToolContext): ToolLimits {
  return { ...defaultToolLimits, ...ctx.limits };
}

/** An OpenAI-style function definition offered to the model. */
export interface ToolFunctionDefinition {
  readonly type: 'function';
  readonly function: {
    readonly name: ToolName;
    readonly description: string;
    readonly parameters: Readonly<Record<string, unknown>>;
  };
}

export interface ToolSpec<Schema extends z.ZodType = z.ZodType> {
  readonly name: ToolName;
  readonly toolClass: ToolClass;
  readonly description: string;
  /** The arguments: what the dispatcher validates, and (as `parameters`) what the model sees. */
  readonly schema: Schema;
  /** JSON Schema of the arguments, for function calling; derived from `schema` by defineTool. */
  readonly parameters: Readonly<Record<string, unknown>>;
  execute(args: z.infer<Schema>, ctx: ToolContext): Promise<ToolObservation>;
}

/**
 * Defines a tool once: a name, a zod argument schema and a handler. The JSON Schema offered to
 * the model is derived from the zod schema, so the two cannot drift apart.
 */
export function defineTool<Schema extends z.ZodType>(
  definition: Omit<ToolSpec<Schema>, 'parameters'>,
): ToolSpec {
  return { ...definition, parameters: toolParameters(definition.schema) };
}

/**
 * The JSON Schema of a tool's arguments as a function definition carries it: no `$schema`
 * header, and no ±2^53 bounds that zod adds to every integer (noise to a model).
 */
export function toolParameters(schema: z.ZodType): Readonly<Record<string, unknown>> {
  const json: Record<string, unknown> = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'throw',
    override: ({ jsonSchema }) => {
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
    },
  });
  delete json['$schema'];
  return json;
}

type ObservationExtras = Omit<ToolObservation, 'ok' | 'text' | 'bytes' | 'redactions'>;

/**
 * Builds an observation: redacts the text (the one place every tool passes through), then sizes
 * it. `priorRedactions` counts redactions a tool already applied to raw content.
 */
export function observation(
  ok: boolean,
  text: string,
  extras: ObservationExtras = {},
  priorRedactions = 0,
): ToolObservation {
  const redacted = redactSecrets(text);
  return {
    ok,
    text: redacted.text,
    bytes: Buffer.byteLength(redacted.text),
    redactions: priorRedactions + redacted.count,
    ...extras,
  };
}

export function failure(
  code: string,
  message: string,
  extras: ObservationExtras = {},
): ToolObservation {
  return observation(false, message, { ...extras, code });
}
