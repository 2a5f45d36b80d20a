import fs from 'node:fs';
import {
  open as openAsync,
  lstat as lstatAsync,
  readlink as readlinkAsync,
} from 'node:fs/promises';

/**
 * Opening a file the scope check already resolved, without trusting the path a second time.
 *
 * Two attacks meet here (issue 9, items 1 and 3). A named pipe (or a device) in an allowed root
 * blocks `open(2)` until a writer appears, holding a mission and a thread-pool thread forever;
 * so the type is checked with `lstat` before opening, the open itself is non-blocking, and the
 * descriptor's type is checked again. And a directory swapped for a symlink between the scope
 * check and the open would lead the open outside the project; so what was opened is checked:
 * the descriptor's own path (`/proc/self/fd/N` on Linux) must be the resolved path, and its
 * device and inode must be those `lstat` saw. Directories are then listed through the
 * descriptor's path, so the listing is of the directory that was checked.
 *
 * A file with more than one hard link is refused by default: a hard link makes a file from
 * outside the scope (or from the deny list) readable under an allowed name, and nothing in the
 * path says so.
 */

export type OpenRefusalCode =
  'not_a_regular_file' | 'not_a_directory' | 'path_changed' | 'hard_link_refused' | 'open_failed';

export interface OpenRefusal {
  readonly ok: false;
  readonly code: OpenRefusalCode;
  /** The errno code for `open_failed` (`ENOENT`, `EACCES`…), or the file kind seen. */
  readonly detail: string;
}

export interface VerifiedFile {
  readonly ok: true;
  readonly fd: number;
  readonly size: number;
}

export interface VerifiedDirectory {
  readonly ok: true;
  readonly fd: number;
  /** A path that names exactly the opened directory (its `/proc/self/fd` entry on Linux). */
  readonly listPath: string;
}

export interface OpenOptions {
  /** Accept files with more than one hard link. Default false. */
  readonly allowHardLinks?: boolean;
  /**
   * The caller already knows the entry is a regular file or directory (a directory listing of a
   * verified directory said so): skip the `lstat` before opening. The open is non-blocking and
   * the descriptor's type and path are still checked, so a swap in between is still caught; this
   * only saves a system call per file on the searcher's hot path.
   */
  readonly knownType?: boolean;
}

const { O_RDONLY, O_NONBLOCK, O_NOFOLLOW, O_DIRECTORY } = fs.constants;
const fileFlags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW;
const dirFlags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_DIRECTORY;

/** Whether `/proc/self/fd/N` names an open descriptor's file (Linux). */
const procFd = fs.existsSync('/proc/self/fd');

function kindOf(stat: fs.Stats): string {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'named pipe';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'device';
  return 'special file';
}

function refusal(code: OpenRefusalCode, detail: string): OpenRefusal {
  return { ok: false, code, detail };
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

/** The verdict on what `lstat` saw before opening (null: go ahead). */
function precheck(stat: fs.Stats, want: 'file' | 'dir'): OpenRefusal | null {
  if (want === 'file' && !stat.isFile()) return refusal('not_a_regular_file', kindOf(stat));
  if (want === 'dir' && !stat.isDirectory()) return refusal('not_a_directory', kindOf(stat));
  return null;
}

/** The verdict on the opened descriptor against the `lstat` before and the expected path. */
function postcheck(
  before: fs.Stats,
  after: fs.Stats,
  linkTarget: string | null,
  absolute: string,
  want: 'file' | 'dir',
  options: OpenOptions,
): OpenRefusal | null {
  if (want === 'file' && !after.isFile()) return refusal('not_a_regular_file', kindOf(after));
  if (want === 'dir' && !after.isDirectory()) return refusal('not_a_directory', kindOf(after));
  if (after.dev !== before.dev || after.ino !== before.ino)
    return refusal('path_changed', 'the file changed between the check and the open');
  if (linkTarget !== null && linkTarget !== absolute)
    return refusal('path_changed', 'the path led somewhere else when opened');
  if (want === 'file' && after.nlink > 1 && options.allowHardLinks !== true)
    return refusal('hard_link_refused', String(after.nlink));
  return null;
}

function openSyncChecked(
  absolute: string,
  want: 'file' | 'dir',
  options: OpenOptions,
): { fd: number; stat: fs.Stats | null } | OpenRefusal {
  let before: fs.Stats | null = null;
  if (options.knownType !== true) {
    try {
      before = fs.lstatSync(absolute);
    } catch (error) {
      return refusal('open_failed', errnoOf(error));
    }
    const early = precheck(before, want);
    if (early) return early;
  }
  let fd: number;
  try {
    fd = fs.openSync(absolute, want === 'file' ? fileFlags : dirFlags);
  } catch (error) {
    const code = errnoOf(error);
    // O_NOFOLLOW on a symlink gives ELOOP, O_DIRECTORY on a file ENOTDIR: the path was swapped.
    if (code === 'ELOOP' || code === 'ENOTDIR')
      return refusal('path_changed', 'the path was replaced when opened');
    return refusal('open_failed', code);
  }
  try {
    const target = procFd ? fs.readlinkSync(`/proc/self/fd/${fd}`) : null;
    // A directory opened with O_DIRECTORY | O_NOFOLLOW whose descriptor names the expected path
    // is the directory that was meant; only files need their type, size and links.
    if (want === 'dir' && before === null && target !== null) {
      if (target === absolute) return { fd, stat: null };
      fs.closeSync(fd);
      return refusal('path_changed', 'the path led somewhere else when opened');
    }
    const after = fs.fstatSync(fd);
    const late = postcheck(before ?? after, after, target, absolute, want, options);
    if (late) {
      fs.closeSync(fd);
      return late;
    }
    return { fd, stat: after };
  } catch (error) {
    fs.closeSync(fd);
    return refusal('open_failed', errnoOf(error));
  }
}

/** Opens a regular file for reading (synchronous; the searcher's worker). Close `fd` after use. */
export function openFileSync(
  absolute: string,
  options: OpenOptions = {},
): VerifiedFile | OpenRefusal {
  const opened = openSyncChecked(absolute, 'file', options);
  if (!('fd' in opened)) return opened;
  return { ok: true, fd: opened.fd, size: opened.stat?.size ?? 0 };
}

/** Opens a directory for listing (synchronous). Close `fd` after listing `listPath`. */
export function openDirectorySync(
  absolute: string,
  options: OpenOptions = {},
): VerifiedDirectory | OpenRefusal {
  const opened = openSyncChecked(absolute, 'dir', options);
  if (!('fd' in opened)) return opened;
  return {
    ok: true,
    fd: opened.fd,
    listPath: procFd ? `/proc/self/fd/${opened.fd}` : absolute,
  };
}

export interface VerifiedHandle {
  readonly ok: true;
  readonly handle: fs.promises.FileHandle;
  readonly size: number;
  /** A path naming exactly the opened file or directory. */
  readonly listPath: string;
}

/** The asynchronous form, for tools on the main thread (read_file, list_dir). */
export async function openVerified(
  absolute: string,
  want: 'file' | 'dir',
  options: OpenOptions = {},
): Promise<VerifiedHandle | OpenRefusal> {
  let before: fs.Stats;
  try {
    before = await lstatAsync(absolute);
  } catch (error) {
    return refusal('open_failed', errnoOf(error));
  }
  const early = precheck(before, want);
  if (early) return early;
  let handle: fs.promises.FileHandle;
  try {
    handle = await openAsync(absolute, want === 'file' ? fileFlags : dirFlags);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ELOOP' || code === 'ENOTDIR')
      return refusal('path_changed', 'the path was replaced when opened');
    return refusal('open_failed', code);
  }
  try {
    const after = await handle.stat();
    const listPath = procFd ? `/proc/self/fd/${handle.fd}` : absolute;
    const target = procFd ? await readlinkAsync(listPath) : null;
    const late = postcheck(before, after, target, absolute, want, options);
    if (late) {
      await handle.close();
      return late;
    }
    return { ok: true, handle, size: after.size, listPath };
  } catch (error) {
    await handle.close();
    return refusal('open_failed', errnoOf(error));
  }
}

/** One sentence for the model saying why an open was refused. */
export function describeRefusal(shown: string, refused: OpenRefusal): string {
  switch (refused.code) {
    case 'not_a_regular_file':
      return refused.detail === 'directory'
        ? `'${shown}' is a directory, not a file; use list_dir to see its entries.`
        : `'${shown}' is a ${refused.detail}, not a regular file; only regular files and directories can be read.`;
    case 'not_a_directory':
      return refused.detail === 'file'
        ? `'${shown}' is a file, not a directory; use read_file to read it.`
        : `'${shown}' is a ${refused.detail}, not a directory.`;
    case 'path_changed':
      return `'${shown}' changed while it was being opened (${refused.detail}), so it was refused; a path must not be swapped for a link.`;
    case 'hard_link_refused':
      return `'${shown}' has ${refused.detail} hard links; a hard-linked file can expose content from outside the mission's scope under an allowed name, so it is refused.`;
    case 'open_failed':
      return `'${shown}' could not be opened (${refused.detail}).`;
  }
}
