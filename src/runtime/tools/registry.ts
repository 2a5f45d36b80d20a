import { normalizeToolArgs } from '../normalize-tool-args.js';
import { gitDiffStatTool, gitLogTool, gitShowStatTool, gitStatusTool } from './git-tools.js';
import { listDirTool } from './list-dir.js';
import { readFileTool } from './read-file.js';
import { searchTextTool } from './search-text.js';
import {
  failure,
  type ToolClass,
  type ToolContext,
  type ToolFunctionDefinition,
  type ToolName,
  type ToolObservation,
  type ToolSpec,
} from './types.js';

/** Every runtime tool, in the order they are offered to the model. */
export const toolSpecs: readonly ToolSpec[] = [
  readFileTool,
  searchTextTool,
  listDirTool,
  gitStatusTool,
  gitLogTool,
  gitShowStatTool,
  gitDiffStatTool,
];

const byName = new Map<string, ToolSpec>(toolSpecs.map((spec) => [spec.name, spec]));

export function getToolSpec(name: string): ToolSpec | undefined {
  return byName.get(name);
}

export function isToolName(name: string): name is ToolName {
  return byName.has(name);
}

/** The tool names a mission's classes allow. */
export function toolNamesFor(classes: readonly ToolClass[]): ToolName[] {
  const wanted = new Set(classes);
  return toolSpecs.filter((spec) => wanted.has(spec.toolClass)).map((spec) => spec.name);
}

/** OpenAI-style function definitions for the tools the given classes allow. */
export function toolDefinitions(classes: readonly ToolClass[]): ToolFunctionDefinition[] {
  const wanted = new Set(classes);
  return toolSpecs
    .filter((spec) => wanted.has(spec.toolClass))
    .map((spec) => ({
      type: 'function' as const,
      function: { name: spec.name, description: spec.description, parameters: spec.parameters },
    }));
}

export type ToolArgsCheck =
  | { readonly ok: true; readonly args: Record<string, unknown> }
  | {
      readonly ok: false;
      readonly code: 'unsupported_args' | 'invalid_args';
      readonly message: string;
    };

/**
 * The one validation of a proposed tool call, used by the dispatcher and by `runTool` alike:
 * aliases normalised to the contract names, unknown arguments refused, then the tool's zod
 * schema. Messages tell the model what to correct; nothing runs on a refusal.
 */
export function checkToolArgs(spec: ToolSpec, raw: unknown): ToolArgsCheck {
  const normalized = normalizeToolArgs(spec.name, raw);
  if (normalized.unsupported.length > 0)
    return {
      ok: false,
      code: 'unsupported_args',
      message: `${spec.name} does not take ${normalized.unsupported.join(', ')}; correct the arguments (nothing was run, no budget spent). Expected ${describeArgs(spec)}.`,
    };
  const parsed = spec.schema.safeParse(normalized.args);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map(
        (issue) =>
          `${issue.path.length > 0 ? issue.path.join('.') : 'arguments'}: ${issue.message}`,
      )
      .join('; ');
    return {
      ok: false,
      code: 'invalid_args',
      message: `${spec.name}: ${problems}. Nothing was run. Expected ${describeArgs(spec)}.`,
    };
  }
  return { ok: true, args: parsed.data as Record<string, unknown> };
}

/** Validates a call with `checkToolArgs` and runs it; refusals come back as observations. */
export async function runTool(
  name: string,
  args: unknown,
  ctx: ToolContext,
): Promise<ToolObservation> {
  const spec = byName.get(name);
  if (spec === undefined) {
    return failure(
      'unknown_tool',
      `Unknown tool '${name}'. Available tools: ${toolSpecs.map((s) => s.name).join(', ')}.`,
    );
  }
  const checked = checkToolArgs(spec, args ?? {});
  if (!checked.ok) return failure(checked.code, checked.message);
  return spec.execute(checked.args, ctx);
}

function describeArgs(spec: ToolSpec): string {
  const properties = (spec.parameters['properties'] ?? {}) as Record<string, unknown>;
  const required = new Set((spec.parameters['required'] ?? []) as string[]);
  const names = Object.keys(properties).map((key) => (required.has(key) ? key : `${key}?`));
  return `${spec.name} {${names.join(', ')}}`;
}
