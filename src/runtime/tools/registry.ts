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
] as readonly ToolSpec[];

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

/**
 * Validates contract arguments with the tool's zod schema and runs it. Expects arguments that
 * already went through `normalizeToolArgs`; schema errors come back as an `invalid_args`
 * observation the model can act on, never as an exception.
 */
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
  const parsed = spec.schema.safeParse(args ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map(
        (issue) =>
          `${issue.path.length > 0 ? issue.path.join('.') : 'arguments'}: ${issue.message}`,
      )
      .join('; ');
    return failure(
      'invalid_args',
      `Invalid arguments for ${name}: ${problems}. Expected ${describeArgs(spec)}.`,
    );
  }
  return spec.execute(parsed.data, ctx);
}

function describeArgs(spec: ToolSpec): string {
  const properties = (spec.parameters['properties'] ?? {}) as Record<string, unknown>;
  const required = new Set((spec.parameters['required'] ?? []) as string[]);
  const names = Object.keys(properties).map((key) => (required.has(key) ? key : `${key}?`));
  return `${spec.name} {${names.join(', ')}}`;
}
