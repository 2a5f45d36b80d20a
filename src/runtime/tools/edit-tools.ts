import { z } from 'zod';
import type { EditResultPort, StagedWorkspacePort } from '../implementation-ports.js';
import { defineTool, observation, type ToolObservation, type ToolSpec } from './types.js';

const editArgs = z.strictObject({
  path: z.string().min(1),
  old_string: z.string().describe('Exact text to replace, with its indentation.'),
  new_string: z.string(),
  replace_all: z.boolean().optional(),
});
const writeArgs = z.strictObject({ path: z.string().min(1), content: z.string() });
const deleteArgs = z.strictObject({ path: z.string().min(1) });

/**
 * The A4–A6 edit tools (PRODUCT.md §6.1), bound to one run's staged workspace: they change only
 * the isolated copy, never the user's files, and each refusal changes nothing and says why.
 */
export function editToolSpecs(staged: StagedWorkspacePort, allowDeletions: boolean): ToolSpec[] {
  const specs: ToolSpec[] = [
    defineTool({
      name: 'edit_file',
      toolClass: 'write',
      description:
        'Replace old_string with new_string in an owned file of the isolated copy. old_string must match exactly once (or set replace_all); otherwise nothing changes and the closest lines are shown.',
      schema: editArgs,
      execute: async (args) =>
        toObservation(
          await staged.edit(args.path, args.old_string, args.new_string, args.replace_all ?? false),
        ),
    }),
    defineTool({
      name: 'write_file',
      toolClass: 'write',
      description: 'Create or replace an owned file of the isolated copy with the given content.',
      schema: writeArgs,
      execute: async (args) => toObservation(await staged.write(args.path, args.content)),
    }),
  ];
  if (allowDeletions)
    specs.push(
      defineTool({
        name: 'delete_file',
        toolClass: 'write',
        description: 'Delete an owned file of the isolated copy (this mission allows deletions).',
        schema: deleteArgs,
        execute: async (args) => toObservation(await staged.delete(args.path)),
      }),
    );
  return specs;
}

function toObservation(result: EditResultPort): ToolObservation {
  if (result.ok)
    return observation(true, `${result.message} (+${result.added} −${result.removed} lines)`, {
      path: result.path,
    });
  const closest = result.closest ? `\nClosest lines:\n${result.closest}` : '';
  return observation(false, `[${result.code}] ${result.message}${closest}`, { code: result.code });
}
