import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  defineTool,
  effectiveLimits,
  failure,
  observation,
  type ToolContext,
  type ToolObservation,
} from './types.js';
import { describeRefusal, openVerified } from './open-verified.js';

export const listDirArgs = z.strictObject({
  path: z
    .string()
    .min(1)
    .describe('Directory relative to the project root ("." for the root when allowed).'),
});
export type ListDirArgs = z.infer<typeof listDirArgs>;

export async function executeListDir(
  args: ListDirArgs,
  ctx: ToolContext,
): Promise<ToolObservation> {
  const limits = effectiveLimits(ctx);
  const resolved = ctx.scope.resolve(args.path);
  if (!resolved.ok) return failure(resolved.code, resolved.message);
  const shown = resolved.relative === '' ? '.' : resolved.relative;

  // Opened once and listed through the descriptor (open-verified.ts): a directory swapped for a
  // symlink after the scope check is refused, and a named pipe is never opened.
  const opened = await openVerified(resolved.absolute, 'dir');
  if (!opened.ok) {
    const code =
      opened.code === 'not_a_directory'
        ? 'not_a_directory'
        : opened.code === 'open_failed'
          ? 'list_failed'
          : opened.code;
    return failure(code, describeRefusal(shown, opened), { path: resolved.relative });
  }
  let entries;
  try {
    entries = await readdir(opened.listPath, { withFileTypes: true });
  } catch (error) {
    await opened.handle.close();
    const code = (error as NodeJS.ErrnoException).code;
    return failure('list_failed', `'${shown}' could not be listed (${code ?? 'error'}).`, {
      path: resolved.relative,
    });
  }

  // Denied entries are hidden, and only counted, so their names never reach the model.
  let hidden = 0;
  const visible: { name: string; kind: 'dir' | 'file' | 'link' | 'other' }[] = [];
  for (const entry of entries) {
    const child = resolved.relative === '' ? entry.name : `${resolved.relative}/${entry.name}`;
    if (!ctx.scope.checkDescendant(child).ok) {
      hidden++;
      continue;
    }
    const kind = entry.isDirectory()
      ? 'dir'
      : entry.isFile()
        ? 'file'
        : entry.isSymbolicLink()
          ? 'link'
          : 'other';
    visible.push({ name: entry.name, kind });
  }
  visible.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const shownEntries = visible.slice(0, limits.listMaxEntries);
  const lines = await Promise.all(
    shownEntries.map(async (entry) => {
      if (entry.kind === 'dir') return `${entry.name}/`;
      if (entry.kind === 'link') return `${entry.name}@ (symlink)`;
      if (entry.kind === 'other') return `${entry.name} (special file)`;
      try {
        const stat = await lstat(path.join(opened.listPath, entry.name));
        return `${entry.name} (${stat.size} bytes)`;
      } catch {
        return entry.name;
      }
    }),
  ).finally(() => opened.handle.close());
  const directories = visible.filter((entry) => entry.kind === 'dir').length;
  const header =
    `${shown}/: ${directories} directories, ${visible.length - directories} other entries` +
    (hidden > 0 ? ` (${hidden} hidden by the deny list)` : '');
  const notes: string[] = [];
  if (visible.length > shownEntries.length) {
    notes.push(
      `[showing the first ${shownEntries.length} of ${visible.length} entries; list a subdirectory to see more]`,
    );
  }
  if (visible.length === 0) notes.push('(empty)');
  return observation(true, [header, ...lines, ...notes].join('\n'), {
    path: resolved.relative,
    complete: visible.length === shownEntries.length,
  });
}

export const listDirTool = defineTool({
  name: 'list_dir',
  toolClass: 'list',
  description:
    'List one directory inside the mission scope: entries sorted by name, directories with a trailing "/", files with their size.',
  schema: listDirArgs,
  execute: executeListDir,
});
