/**
 * Reads a git-style unified diff into per-file sections with what the checks need: the paths it
 * names (every spelling of them), mode and binary markers, renames, and the added and removed
 * lines. Hunk bodies are walked by their line counts, so a content line such as `--- x` is never
 * taken for a header. The checks run on this reading of the text that would be applied, not on
 * metadata that could disagree with it.
 */

export interface DiffSection {
  /** The path the section changes (new side, or old side for a deletion). */
  readonly path: string;
  /** Every path the section's headers name, for scope checks. */
  readonly paths: readonly string[];
  readonly kind: 'add' | 'modify' | 'delete';
  readonly oldMode: string | null;
  readonly newMode: string | null;
  readonly modeChange: boolean;
  readonly binary: boolean;
  readonly rename: boolean;
  readonly addedLines: readonly string[];
  readonly removedLines: readonly string[];
  /** The section's own text, from its `diff --git` line. */
  readonly text: string;
}

export interface ParsedDiff {
  readonly sections: readonly DiffSection[];
  /** Problems that make the text unusable as a patch (unparseable hunks, stray text). */
  readonly errors: readonly string[];
}

function stripSide(name: string): string | null {
  const trimmed = name.split('\t')[0] ?? '';
  if (trimmed === '/dev/null') return null;
  if (trimmed.startsWith('a/') || trimmed.startsWith('b/')) return trimmed.slice(2);
  return trimmed;
}

/** `diff --git a/P b/P` names one path twice; split it where both halves agree. */
function gitHeaderPaths(rest: string): string[] {
  if (rest.startsWith('"')) return [rest];
  const length = (rest.length - 5) / 2;
  if (Number.isInteger(length) && length > 0) {
    const candidate = rest.slice(2, 2 + length);
    if (rest === `a/${candidate} b/${candidate}`) return [candidate];
  }
  const split = rest.indexOf(' b/');
  if (rest.startsWith('a/') && split > 0) return [rest.slice(2, split), rest.slice(split + 3)];
  return [rest];
}

const hunkHeader = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

export function parseGitDiff(diff: string): ParsedDiff {
  const lines = diff.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const sections: DiffSection[] = [];
  const errors: string[] = [];
  let i = 0;
  while (i < lines.length && !(lines[i] ?? '').startsWith('diff --git ')) {
    if ((lines[i] ?? '').trim() !== '') {
      errors.push(`line ${i + 1}: text before the first 'diff --git' header`);
      break;
    }
    i++;
  }
  while (i < lines.length) {
    const start = i;
    const first = lines[i] ?? '';
    const paths = new Set(gitHeaderPaths(first.slice('diff --git '.length)));
    let oldMode: string | null = null;
    let newMode: string | null = null;
    let created = false;
    let deleted = false;
    let binary = false;
    let rename = false;
    let oldName: string | null | undefined;
    let newName: string | null | undefined;
    const added: string[] = [];
    const removed: string[] = [];
    i++;
    while (i < lines.length && !(lines[i] ?? '').startsWith('diff --git ')) {
      const line = lines[i] ?? '';
      const hunk = hunkHeader.exec(line);
      if (hunk !== null) {
        let oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
        let newLeft = hunk[4] === undefined ? 1 : Number(hunk[4]);
        i++;
        while (
          i < lines.length &&
          (oldLeft > 0 || newLeft > 0 || (lines[i] ?? '').startsWith('\\'))
        ) {
          const body = lines[i] ?? '';
          if (body.startsWith('\\')) {
            i++;
            continue;
          }
          const mark = body.charAt(0);
          if (mark === ' ' || body === '') {
            oldLeft--;
            newLeft--;
          } else if (mark === '-') {
            oldLeft--;
            removed.push(body.slice(1));
          } else if (mark === '+') {
            newLeft--;
            added.push(body.slice(1));
          } else break;
          i++;
        }
        if (oldLeft !== 0 || newLeft !== 0) {
          errors.push(
            `line ${i + 1}: a hunk of '${[...paths][0] ?? '?'}' does not match its header counts`,
          );
        }
        continue;
      }
      if (line.startsWith('new file mode ')) {
        created = true;
        newMode = line.slice('new file mode '.length).trim();
      } else if (line.startsWith('deleted file mode ')) {
        deleted = true;
        oldMode = line.slice('deleted file mode '.length).trim();
      } else if (line.startsWith('old mode ')) {
        oldMode = line.slice('old mode '.length).trim();
      } else if (line.startsWith('new mode ')) {
        newMode = line.slice('new mode '.length).trim();
      } else if (/^(rename|copy) (from|to) /.test(line)) {
        rename = true;
        paths.add(line.replace(/^(rename|copy) (from|to) /, ''));
      } else if (line.startsWith('Binary files') || line === 'GIT binary patch') {
        binary = true;
      } else if (line.startsWith('--- ')) {
        oldName = stripSide(line.slice(4));
        if (oldName !== null) paths.add(oldName);
      } else if (line.startsWith('+++ ')) {
        newName = stripSide(line.slice(4));
        if (newName !== null) paths.add(newName);
      } else if (/^(index |similarity index |dissimilarity index )/.test(line)) {
        // informational
      } else if (line.startsWith('literal ') || line.startsWith('delta ')) {
        binary = true;
      } else if (line.trim() !== '' && !binary) {
        errors.push(`line ${i + 1}: unexpected text ${JSON.stringify(line.slice(0, 60))}`);
      }
      i++;
    }
    const kind =
      created || oldName === null ? 'add' : deleted || newName === null ? 'delete' : 'modify';
    const named = [...paths];
    const target = (kind === 'delete' ? oldName : newName) ?? oldName ?? newName ?? named[0] ?? '';
    sections.push({
      path: target,
      paths: named,
      kind,
      oldMode,
      newMode,
      // Only plain files: an executable bit, a symlink (120000) or a gitlink is a mode change.
      modeChange:
        (oldMode !== null && newMode !== null && oldMode !== newMode) ||
        (kind === 'add' && newMode !== '100644') ||
        (kind === 'modify' && (oldMode !== null || newMode !== null)),
      binary,
      rename,
      addedLines: added,
      removedLines: removed,
      text: lines.slice(start, i).join('\n') + '\n',
    });
  }
  return { sections, errors };
}
