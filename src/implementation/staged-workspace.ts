import { lstatSync, realpathSync } from 'node:fs';
import { mkdir, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { constants } from 'node:fs';
import { diffLines } from 'diff';
import { findClosestLines, occurrenceLines } from './closest-lines.js';
import { isText, isTextString, sha256Bytes } from './file-content.js';
import { isErrno, WritePolicy, writeNoFollowFlags, type WritePathCode } from './write-path.js';

/**
 * The model's edit tools (`edit_file`, `write_file`, `delete_file`) land here. Every write goes to
 * the isolation root, never the user's files, and only after the path passes the write policy.
 * The first time a file is touched its base bytes are kept, so the patch is always built against
 * the base however many edits follow.
 */

export interface StagedWorkspaceOptions {
  /** Absolute isolation root (a copy of the project base). */
  readonly root: string;
  /** Project-relative files or directories (trailing `/` or an existing directory) the patch may change. */
  readonly ownedPaths: readonly string[];
  readonly allowDeletions: boolean;
  readonly criticalRoots: readonly string[];
  readonly criticalWriteAllowed: boolean;
  readonly maxFileBytes?: number;
}

export type EditFailureCode =
  | WritePathCode
  | 'file_not_found'
  | 'old_string_empty'
  | 'old_string_not_found'
  | 'old_string_ambiguous'
  | 'no_change'
  | 'deletions_not_allowed'
  | 'binary_content'
  | 'file_too_large'
  | 'io_error';

export type EditResult =
  | {
      readonly ok: true;
      readonly path: string;
      readonly message: string;
      readonly added: number;
      readonly removed: number;
    }
  | {
      readonly ok: false;
      readonly code: EditFailureCode;
      readonly message: string;
      /** For `old_string_not_found`: the file's most similar lines, numbered. */
      readonly closest?: string;
    };

export type ChangeKind = 'add' | 'modify' | 'delete';

export interface FileChange {
  readonly path: string;
  readonly change: ChangeKind;
  readonly base: Buffer | null;
  readonly current: Buffer | null;
  readonly base_sha256: string | null;
  readonly new_sha256: string | null;
}

export const defaultMaxFileBytes = 1_000_000;

interface Touched {
  readonly base: Buffer | null;
  current: Buffer | null;
}

type Failure = Extract<EditResult, { ok: false }>;

function fail(code: EditFailureCode, message: string, closest?: string): Failure {
  return closest === undefined
    ? { ok: false, code, message }
    : { ok: false, code, message, closest };
}

function lineDelta(before: string, after: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const part of diffLines(before, after)) {
    if (part.added) added += part.count;
    else if (part.removed) removed += part.count;
  }
  return { added, removed };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

async function readNoFollow(absolute: string): Promise<Buffer> {
  const handle = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

export class StagedWorkspace {
  readonly root: string;
  readonly #policy: WritePolicy;
  readonly #allowDeletions: boolean;
  readonly #maxFileBytes: number;
  readonly #touched = new Map<string, Touched>();
  /** Edits run one at a time, so two tool calls never interleave on the same file. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: StagedWorkspaceOptions) {
    if (!path.isAbsolute(options.root)) {
      throw new TypeError(`StagedWorkspace root must be absolute, got ${options.root}`);
    }
    this.root = realpathSync.native(options.root);
    const root = this.root;
    this.#policy = new WritePolicy(options, (relative) => {
      try {
        return lstatSync(path.join(root, relative)).isDirectory();
      } catch {
        return false;
      }
    });
    this.#allowDeletions = options.allowDeletions;
    this.#maxFileBytes = options.maxFileBytes ?? defaultMaxFileBytes;
  }

  /** Whether reads of this path should come from the staged copy. */
  owns(requested: string): boolean {
    return this.#policy.checkLexical(requested, this.root).ok;
  }

  describeOwned(): string {
    return this.#policy.describeOwned();
  }

  edit(
    requested: string,
    oldString: string,
    newString: string,
    replaceAll = false,
  ): Promise<EditResult> {
    return this.#serial(() => this.#edit(requested, oldString, newString, replaceAll));
  }

  write(requested: string, content: string): Promise<EditResult> {
    return this.#serial(() => this.#write(requested, content));
  }

  delete(requested: string): Promise<EditResult> {
    return this.#serial(() => this.#delete(requested));
  }

  /** The staged text of an owned file; null when it is absent, not owned or not text. */
  async read(requested: string): Promise<string | null> {
    const target = await this.#policy.resolveTarget(this.root, requested);
    if (!target.ok) return null;
    const touched = this.#touched.get(target.relative);
    const bytes = touched !== undefined ? touched.current : await this.#readBase(target);
    if (bytes === null || !isText(bytes)) return null;
    return bytes.toString('utf8');
  }

  /** Every file whose staged bytes differ from its base, sorted by path. */
  changes(): readonly FileChange[] {
    const out: FileChange[] = [];
    for (const [file, touched] of [...this.#touched].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const { base, current } = touched;
      if (base === null && current === null) continue;
      if (base !== null && current !== null && base.equals(current)) continue;
      out.push({
        path: file,
        change: base === null ? 'add' : current === null ? 'delete' : 'modify',
        base,
        current,
        base_sha256: base === null ? null : sha256Bytes(base),
        new_sha256: current === null ? null : sha256Bytes(current),
      });
    }
    return out;
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #readBase(target: { absolute: string; exists: boolean }): Promise<Buffer | null> {
    if (!target.exists) return null;
    return readNoFollow(target.absolute);
  }

  /** The file's staged bytes, capturing its base on first touch. */
  async #current(target: {
    relative: string;
    absolute: string;
    exists: boolean;
  }): Promise<Buffer | null> {
    const touched = this.#touched.get(target.relative);
    if (touched !== undefined) return touched.current;
    const base = await this.#readBase(target);
    this.#touched.set(target.relative, { base, current: base });
    return base;
  }

  #checkContent(relative: string, content: string): Failure | null {
    if (!isTextString(content)) {
      return fail(
        'binary_content',
        `The content for '${relative}' holds a NUL byte or text that is not valid UTF-8; a patch only carries text files.`,
      );
    }
    const bytes = Buffer.byteLength(content, 'utf8');
    if (bytes > this.#maxFileBytes) {
      return fail(
        'file_too_large',
        `The content for '${relative}' is ${bytes} bytes, over the ${this.#maxFileBytes}-byte limit per file; make a smaller change.`,
      );
    }
    return null;
  }

  async #store(
    target: { relative: string; absolute: string },
    bytes: Buffer | null,
  ): Promise<Failure | null> {
    try {
      if (bytes === null) {
        await unlink(target.absolute);
      } else {
        await mkdir(path.dirname(target.absolute), { recursive: true });
        // In place and without following a link at the last component: an existing file keeps
        // its mode, and a link planted after the check is refused (ELOOP) instead of followed.
        const handle = await open(target.absolute, writeNoFollowFlags, 0o644);
        try {
          await handle.writeFile(bytes);
        } finally {
          await handle.close();
        }
      }
    } catch (error) {
      if (isErrno(error, 'ELOOP')) {
        return fail(
          'symlink_escape',
          `'${target.relative}' became a symbolic link; nothing was written.`,
        );
      }
      const reason = error instanceof Error ? error.message : String(error);
      return fail('io_error', `Could not write '${target.relative}': ${reason}`);
    }
    const touched = this.#touched.get(target.relative);
    if (touched !== undefined) touched.current = bytes;
    return null;
  }

  async #edit(
    requested: string,
    oldString: string,
    newString: string,
    replaceAll: boolean,
  ): Promise<EditResult> {
    const target = await this.#policy.resolveTarget(this.root, requested);
    if (!target.ok) return fail(target.code, target.message);
    const file = target.relative;
    const currentBytes = await this.#current(target);
    if (oldString === '') {
      if (currentBytes === null) return this.#writeChecked(target, newString, null);
      return fail(
        'old_string_empty',
        `old_string is empty but '${file}' exists; quote the text to replace, or use write_file to replace the whole file.`,
      );
    }
    if (currentBytes === null) {
      return fail(
        'file_not_found',
        `'${file}' does not exist; create it with write_file (or edit_file with an empty old_string).`,
      );
    }
    if (!isText(currentBytes)) {
      return fail('binary_content', `'${file}' is not a UTF-8 text file; it cannot be edited.`);
    }
    if (oldString === newString) {
      return fail('no_change', 'old_string and new_string are identical; nothing to change.');
    }
    const content = currentBytes.toString('utf8');
    let oldText = oldString;
    let newText = newString;
    // A file with CRLF line ends, quoted with LF by the model, is still the same text.
    if (!content.includes(oldText) && content.includes('\r\n') && !oldText.includes('\r')) {
      const crlf = (text: string): string => text.replace(/\r?\n/g, '\r\n');
      if (content.includes(crlf(oldText))) {
        oldText = crlf(oldText);
        newText = crlf(newText);
      }
    }
    const at = occurrenceLines(content, oldText);
    if (at.length === 0) {
      const closest = findClosestLines(content, oldString);
      let message = `old_string was not found in '${file}'; nothing was changed.`;
      if (closest !== null) {
        message += closest.whitespaceOnly
          ? ` Lines ${closest.startLine}-${closest.endLine} match except for whitespace; copy them exactly (indentation included) and retry.`
          : ` The most similar lines are ${closest.startLine}-${closest.endLine} (shown); copy the exact text and retry.`;
      } else {
        message += ' Read the file again and copy the exact text to replace.';
      }
      return fail('old_string_not_found', message, closest?.text);
    }
    if (at.length > 1 && !replaceAll) {
      return fail(
        'old_string_ambiguous',
        `old_string occurs ${at.length} times in '${file}' (starting on lines ${at.join(', ')}); nothing was changed. Include more surrounding lines so it occurs once, or set replace_all: true.`,
      );
    }
    const updated = replaceAll
      ? content.split(oldText).join(newText)
      : content.slice(0, content.indexOf(oldText)) +
        newText +
        content.slice(content.indexOf(oldText) + oldText.length);
    return this.#writeChecked(target, updated, content, at.length);
  }

  async #writeChecked(
    target: { relative: string; absolute: string },
    content: string,
    before: string | null,
    replaced?: number,
  ): Promise<EditResult> {
    const invalid = this.#checkContent(target.relative, content);
    if (invalid !== null) return invalid;
    if (before === content) {
      return fail(
        'no_change',
        `'${target.relative}' already has exactly this content; nothing changed.`,
      );
    }
    const stored = await this.#store(target, Buffer.from(content, 'utf8'));
    if (stored !== null) return stored;
    const { added, removed } = lineDelta(before ?? '', content);
    const what =
      replaced !== undefined
        ? `replaced ${plural(replaced, 'occurrence')} in`
        : before === null
          ? 'created'
          : 'rewrote';
    return {
      ok: true,
      path: target.relative,
      message: `${what.charAt(0).toUpperCase()}${what.slice(1)} '${target.relative}' (+${added} -${removed} lines).`,
      added,
      removed,
    };
  }

  async #write(requested: string, content: string): Promise<EditResult> {
    const target = await this.#policy.resolveTarget(this.root, requested);
    if (!target.ok) return fail(target.code, target.message);
    const invalid = this.#checkContent(target.relative, content);
    if (invalid !== null) return invalid;
    const currentBytes = await this.#current(target);
    const before =
      currentBytes === null ? null : isText(currentBytes) ? currentBytes.toString('utf8') : '';
    return this.#writeChecked(target, content, before);
  }

  async #delete(requested: string): Promise<EditResult> {
    const target = await this.#policy.resolveTarget(this.root, requested);
    if (!target.ok) return fail(target.code, target.message);
    if (!this.#allowDeletions) {
      return fail(
        'deletions_not_allowed',
        `This mission does not allow deletions (allow_deletions is false); '${target.relative}' was kept.`,
      );
    }
    const currentBytes = await this.#current(target);
    if (currentBytes === null) {
      return fail('file_not_found', `'${target.relative}' does not exist; nothing to delete.`);
    }
    const stored = await this.#store(target, null);
    if (stored !== null) return stored;
    const removed = isText(currentBytes) ? lineDelta(currentBytes.toString('utf8'), '').removed : 0;
    return {
      ok: true,
      path: target.relative,
      message: `Deleted '${target.relative}' (-${removed} lines).`,
      added: 0,
      removed,
    };
  }
}
