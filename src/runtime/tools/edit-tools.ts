import { z } from 'zod';
import type { EditResultPort, StagedWorkspacePort } from '../implementation-ports.js';
import { observation, type ToolObservation, type ToolSpec } from './types.js';

const editArgs = z.strictObject({
  path: z.string().min(1),
  old_string: z.string(),
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
    {
      name: 'edit_file',
      toolClass: 'write',
      description:
        'Replace old_string with new_string in an owned file of the isolated copy. old_string must match exactly once (or set replace_all); otherwise nothing changes and the closest lines are shown.',
      schema: editArgs,
      parameters: {
        type: 'object',
        properties: {
          path: { type: 'string' },
          old_string: {
            type: 'string',
            description: 'Exact text to replace, with its indentation.',
          },
          new_string: { type: 'string' },
          replace_all: { type: 'boolean' },
        },
        required: ['path', 'old_string', 'new_string'],
      },
      execute: async (args: z.infer<typeof editArgs>) =>
        toObservation(
          await staged.edit(args.path, args.old_string, args.new_string, args.replace_all ?? false),
        ),
    },
    {
      name: 'write_file',
      toolClass: 'write',
      description: 'Create or replace an owned file of the isolated copy with the given content.',
      schema: writeArgs,
      parameters: {
        type: 'object',
        properties: { path: { type: 'string' }, content: { type: 'string' } },
        required: ['path', 'content'],
      },
      execute: async (args: z.infer<typeof writeArgs>) =>
        toObservation(await staged.write(args.path, args.content)),
    },
  ] as ToolSpec[];
  if (allowDeletions)
    specs.push({
      name: 'delete_file',
      toolClass: 'write',
      description: 'Delete an owned file of the isolated copy (this mission allows deletions).',
      schema: deleteArgs,
      parameters: {
        type: 'object',
        properties: { path: { type: 'string' } },
        required: ['path'],
      },
      execute: async (args: z.infer<typeof deleteArgs>) =>
        toObservation(await staged.delete(args.path)),
    });
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
