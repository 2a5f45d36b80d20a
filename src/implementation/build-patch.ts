import { formatPatch, reversePatch, structuredPatch, type StructuredPatch } from 'diff';
import { countLines, isText } from './file-content.js';
import type { ChangeKind, FileChange } from './staged-workspace.js';

/**
 * The runtime, not the model, writes the diff: git-style sections (`diff --git`, new/deleted file
 * modes, `---`/`+++`, unified hunks) built from the staged bytes against the base, with the
 * rollback as the exact reverse of every hunk.
 */

export interface PatchFile {
  readonly path: string;
  readonly change: ChangeKind;
  readonly added_lines: number;
  readonly removed_lines: number;
  readonly base_sha256: string | null;
  readonly new_sha256: string | null;
  /** Most of the base's lines were removed or replaced (flagged for the reviewer). */
  readonly whole_file_rewrite: boolean;
}

export interface BuiltPatch {
  readonly diff: string;
  readonly rollback: string;
  readonly files: PatchFile[];
  /** UTF-8 size of `diff`. */
  readonly bytes: number;
}

const contextLines = 3;
/** A file at least this long, with more than this share of its lines removed, is a rewrite. */
const rewriteMinLines = 5;
const rewriteShare = 0.6;

export function isWholeFileRewrite(baseLines: number, removedLines: number): boolean {
  return baseLines >= rewriteMinLines && removedLines > baseLines * rewriteShare;
}

function header(file: string, change: ChangeKind): string {
  const lines = [`diff --git a/${file} b/${file}`];
  if (change === 'add') lines.push('new file mode 100644');
  if (change === 'delete') lines.push('deleted file mode 100644');
  return lines.join('\n') + '\n';
}

function section(file: string, change: ChangeKind, patch: StructuredPatch | null): string {
  // formatPatch adjusts hunk starts in place, so it gets a copy.
  if (patch === null) return `${header(file, change)}Binary files differ\n`;
  if (patch.hunks.length === 0) return header(file, change); // an empty file added or deleted
  const copy: StructuredPatch = { ...patch, hunks: patch.hunks.map((hunk) => ({ ...hunk })) };
  return (
    header(file, change) +
    formatPatch(copy, { includeIndex: false, includeUnderline: false, includeFileHeaders: true })
  );
}

function reverseKind(change: ChangeKind): ChangeKind {
  return change === 'add' ? 'delete' : change === 'delete' ? 'add' : 'modify';
}

export function buildPatch(changes: readonly FileChange[]): BuiltPatch {
  const sorted = [...changes].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const forward: string[] = [];
  const backward: string[] = [];
  const files: PatchFile[] = [];
  for (const change of sorted) {
    const binary =
      (change.base !== null && !isText(change.base)) ||
      (change.current !== null && !isText(change.current));
    const oldName = change.change === 'add' ? '/dev/null' : `a/${change.path}`;
    const newName = change.change === 'delete' ? '/dev/null' : `b/${change.path}`;
    let patch: StructuredPatch | null = null;
    let added = 0;
    let removed = 0;
    if (!binary) {
      const before = change.base?.toString('utf8') ?? '';
      const after = change.current?.toString('utf8') ?? '';
      patch = structuredPatch(oldName, newName, before, after, undefined, undefined, {
        context: contextLines,
      });
      for (const hunk of patch.hunks) {
        for (const line of hunk.lines) {
          if (line.startsWith('+')) added++;
          else if (line.startsWith('-')) removed++;
        }
      }
    }
    const baseLines =
      change.base !== null && !binary ? countLines(change.base.toString('utf8')) : 0;
    files.push({
      path: change.path,
      change: change.change,
      added_lines: added,
      removed_lines: removed,
      base_sha256: change.base_sha256,
      new_sha256: change.new_sha256,
      whole_file_rewrite: change.change === 'modify' && isWholeFileRewrite(baseLines, removed),
    });
    forward.push(section(change.path, change.change, patch));
    const reversed = patch === null ? null : reversePatch(patch);
    backward.push(section(change.path, reverseKind(change.change), reversed));
  }
  const diff = forward.join('');
  return { diff, rollback: backward.join(''), files, bytes: Buffer.byteLength(diff, 'utf8') };
}
