import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import { createPathGlob, type PathGlob } from './glob.js';
import { compilePattern, type CompiledPattern } from './search-pattern.js';
import { loadGitignore, type IgnoreMatcher } from './gitignore.js';
import { openDirectorySync, openFileSync } from './open-verified.js';

/**
 * The low-level text searcher behind `search_text` (and the search benchmark). It knows nothing
 * of missions: the caller passes a `filter` to apply a deny list.
 *
 * Speed on a large tree comes from doing little per file: one reusable read buffer, a byte-level
 * literal prefilter (`Buffer.indexOf`) before any UTF-8 decoding, the regex run once over the
 * whole text of the files that pass, and line numbers computed for hits only.
 *
 * File I/O is synchronous, in time slices: on a 2-core machine, per-file async I/O through the
 * libuv thread pool measured 3-4x slower than plain read(2) calls (four thread hops per small
 * file), so the searcher works in slices of a few milliseconds and yields to the event loop
 * between them. The daemon stays responsive, and the search runs at near syscall speed.
 */

export interface SearchRequest {
  /** Absolute directory that result paths are relative to. */
  readonly root: string;
  /** Relative paths (files or directories) to search; `''` is the root itself. */
  readonly targets: readonly string[];
  readonly pattern: string;
  /** Treat `pattern` as a literal string rather than a regex. */
  readonly fixedString?: boolean;
  readonly caseSensitive?: boolean;
  /** Only files whose path matches this glob (files met while walking; explicit file targets always count). */
  readonly glob?: string;
  /** Total matches to collect; the earliest in path order are kept. Default: unlimited. */
  readonly maxResults?: number;
  readonly contextLines?: number;
  /** Files larger than this are skipped. Default 2 MiB. */
  readonly maxFileBytes?: number;
  /** Honour `.gitignore` files (root and nested) and `.git/info/exclude`. Default true. */
  readonly respectGitignore?: boolean;
  /** Search files with more than one hard link. Default false (they are skipped as refused). */
  readonly allowHardLinks?: boolean;
  /** Return false to skip a file or a whole directory (the caller's deny list). */
  readonly filter?: (relative: string, kind: 'file' | 'dir') => boolean;
  /**
   * The text a matched line will be shown as (the caller's redaction). When it differs from the
   * line, the pattern must also match the shown text or the match is withheld: it is left out of
   * `matches` and every count, and only `withheld` grows. Otherwise a match on a hidden part of
   * a line (a secret) would confirm what the hidden text says, a character at a time.
   */
  readonly shownAs?: (line: string) => string;
  /** Longest stretch of synchronous work before yielding to the event loop. Default 8 ms. */
  readonly sliceMs?: number;
  readonly signal?: AbortSignal;
}

export interface SearchLine {
  readonly line: number;
  readonly text: string;
}

export interface SearchMatch {
  readonly path: string;
  readonly line: number;
  readonly text: string;
  readonly before: readonly SearchLine[];
  readonly after: readonly SearchLine[];
}

export interface SearchResult {
  readonly matches: SearchMatch[];
  readonly filesSearched: number;
  readonly filesMatched: number;
  /** Stopped at `maxResults`; more matches may exist. */
  readonly truncated: boolean;
  /** Matches dropped because the pattern no longer matched the line as `shownAs` shows it. */
  readonly withheld: number;
  readonly skipped: {
    binary: number;
    tooLarge: number;
    filtered: number;
    ignored: number;
    unreadable: number;
    /** Hard-linked files, special files and paths that changed under the walk. */
    refused: number;
  };
}

export class SearchPatternError extends Error {}

interface WalkState {
  readonly request: SearchRequest;
  readonly glob: PathGlob | null;
  readonly ignore: IgnoreMatcher | null;
  /** Files to search: the relative path shown, and the real absolute path opened. */
  readonly files: FileEntry[];
  readonly skipped: SearchResult['skipped'];
  readonly slicer: Slicer;
}

/** Cooperative time slicing: `tick()` yields to the event loop once a slice is used up. */
class Slicer {
  private sliceStart = performance.now();
  private count = 0;

  constructor(
    private readonly sliceMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async tick(): Promise<void> {
    if ((++this.count & 15) !== 0) return;
    if (performance.now() - this.sliceStart < this.sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.signal?.throwIfAborted();
    this.sliceStart = performance.now();
  }
}

interface FileEntry {
  readonly relative: string;
  readonly absolute: string;
}

function isIgnoreFile(entry: fs.Dirent): boolean {
  return entry.name === '.gitignore' && entry.isFile();
}

function joinRelative(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

function absoluteOf(root: string, relative: string): string {
  return relative === '' ? root : `${root}/${relative}`;
}

/**
 * Walks a directory tree. Each directory is opened once, checked (open-verified.ts: the
 * descriptor is the directory whose real path was expected, not a symlink swapped in after the
 * scope check) and listed through its descriptor, so a swap can neither lead the walk outside
 * the project nor change what a listing shows. `absolute` is the real path of `relative`.
 */
async function walkTree(state: WalkState, relative: string, absolute: string): Promise<void> {
  const { request } = state;
  const pending: FileEntry[] = [{ relative, absolute }];
  while (pending.length > 0) {
    const current = pending.pop();
    if (current === undefined) break;
    let entries: fs.Dirent[];
    const opened = openDirectorySync(current.absolute, { knownType: true });
    if (!opened.ok) {
      if (opened.code === 'open_failed') state.skipped.unreadable++;
      else state.skipped.refused++;
      continue;
    }
    try {
      entries = fs.readdirSync(opened.listPath, { withFileTypes: true });
    } catch {
      state.skipped.unreadable++;
      continue;
    } finally {
      fs.closeSync(opened.fd);
    }
    // A directory's own .gitignore applies to everything below it.
    if (state.ignore !== null && current.relative !== '' && entries.some(isIgnoreFile))
      state.ignore.addDirectory(current.relative);
    for (const entry of entries) {
      const child = joinRelative(current.relative, entry.name);
      const childAbsolute = `${current.absolute}/${entry.name}`;
      // Symlinks are not followed (as ripgrep by default): a link could leave the scope.
      if (entry.isDirectory()) {
        if (request.filter !== undefined && !request.filter(child, 'dir')) state.skipped.filtered++;
        else if (state.ignore?.ignores(child, true) === true) state.skipped.ignored++;
        else pending.push({ relative: child, absolute: childAbsolute });
      } else if (entry.isFile()) {
        if (request.filter !== undefined && !request.filter(child, 'file'))
          state.skipped.filtered++;
        else if (state.ignore?.ignores(child, false) === true) state.skipped.ignored++;
        else if (state.glob === null || state.glob.matches(child))
          state.files.push({ relative: child, absolute: childAbsolute });
      }
    }
    await state.slicer.tick();
  }
}

/** `relative` under the real `root` with symlinks resolved, or null when it leaves the root. */
function realUnder(root: string, relative: string): { absolute: string; relative: string } | null {
  let real: string;
  try {
    real = fs.realpathSync.native(absoluteOf(root, relative));
  } catch {
    return null;
  }
  if (real === root) return { absolute: real, relative: '' };
  if (!real.startsWith(`${root}/`)) return null;
  return { absolute: real, relative: real.slice(root.length + 1) };
}

async function collectFiles(state: WalkState, root: string): Promise<void> {
  const { request } = state;
  for (const target of request.targets) {
    // The caller checked the target's real path; it is resolved again here and checked again,
    // since it may have been swapped since (and must still be inside the root and the filter).
    const real = realUnder(root, target);
    if (real === null) {
      state.skipped.unreadable++;
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(real.absolute);
    } catch {
      state.skipped.unreadable++;
      continue;
    }
    const kind = stat.isDirectory() ? 'dir' : 'file';
    // Explicit targets pass the caller's filter too: a deny list must hold however a path came in.
    const passes = (relative: string) =>
      relative === '' || request.filter === undefined || request.filter(relative, kind);
    if (!passes(target) || !passes(real.relative)) {
      state.skipped.filtered++;
      continue;
    }
    if (stat.isDirectory()) {
      // The .gitignore files of the directories above a target apply to it too.
      const parts = target === '' ? [] : target.split('/');
      for (let depth = 1; depth < parts.length; depth++)
        state.ignore?.addDirectory(parts.slice(0, depth).join('/'));
      await walkTree(state, target, real.absolute);
    } else if (stat.isFile()) state.files.push({ relative: target, absolute: real.absolute });
    else state.skipped.refused++;
  }
}

/**
 * Reads a whole file into `scratch.buffer` (grown when needed) and returns its length. One read
 * answers most files; only files that fill the buffer pay for an fstat, which also lets a file
 * over the size limit be skipped without reading it.
 */
function readBounded(
  absolute: string,
  scratch: { buffer: Buffer },
  maxBytes: number,
  allowHardLinks: boolean,
): number | 'too_large' | 'refused' | null {
  // Checked and opened once: a named pipe is never opened blocking, a swapped path is refused.
  const opened = openFileSync(absolute, { allowHardLinks, knownType: true });
  if (!opened.ok) return opened.code === 'open_failed' ? null : 'refused';
  const fd = opened.fd;
  if (opened.size > maxBytes) {
    fs.closeSync(fd);
    return 'too_large';
  }
  try {
    let filled = fs.readSync(fd, scratch.buffer, 0, scratch.buffer.length, 0);
    if (filled < scratch.buffer.length) return filled > maxBytes ? 'too_large' : filled;
    const size = opened.size;
    if (scratch.buffer.length < size + 1) {
      const grown = Buffer.allocUnsafe(size + 1);
      scratch.buffer.copy(grown, 0, 0, filled);
      scratch.buffer = grown;
    }
    for (;;) {
      const bytesRead = fs.readSync(
        fd,
        scratch.buffer,
        filled,
        scratch.buffer.length - filled,
        filled,
      );
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > maxBytes) return 'too_large';
      if (filled === scratch.buffer.length) {
        const grown = Buffer.allocUnsafe(Math.min(maxBytes + 1, filled * 2));
        scratch.buffer.copy(grown, 0, 0, filled);
        scratch.buffer = grown;
      }
    }
    return filled;
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** Lines before a line that starts at `lineStart` (1-based `line`). */
function linesBefore(text: string, lineStart: number, line: number, count: number): SearchLine[] {
  const out: SearchLine[] = [];
  let end = lineStart - 1; // index of the '\n' ending the previous line
  for (let k = 1; k <= count && end >= 0; k++) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    out.unshift({ line: line - k, text: stripCr(text.slice(start, end)) });
    end = start - 1;
  }
  return out;
}

function linesAfter(text: string, lineEnd: number, line: number, count: number): SearchLine[] {
  const out: SearchLine[] = [];
  let start = lineEnd + 1;
  for (let k = 1; k <= count && start < text.length; k++) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    out.push({ line: line + k, text: stripCr(text.slice(start, end)) });
    start = end + 1;
  }
  return out;
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** Whether a matched line stands (see `SearchRequest.shownAs`). */
type LineCheck = (line: string) => boolean;

/**
 * Runs the regex over the whole text and reports each matching line once. A match that spans a
 * newline (possible with `\s`) is re-checked against its first line alone, because matches are
 * line-bound as in grep and ripgrep.
 */
function matchText(
  text: string,
  relative: string,
  compiled: CompiledPattern,
  lineProbe: RegExp,
  limit: number,
  contextLines: number,
  accept: LineCheck,
): SearchMatch[] {
  const regex = compiled.regex;
  const matches: SearchMatch[] = [];
  regex.lastIndex = 0;
  let countedTo = 0; // text index up to which newlines were counted
  let line = 1;
  while (matches.length < limit) {
    const found = regex.exec(text);
    if (found === null) break;
    const index = found.index;
    let newline = text.indexOf('\n', countedTo);
    while (newline !== -1 && newline < index) {
      line++;
      newline = text.indexOf('\n', newline + 1);
    }
    const lineStart = text.lastIndexOf('\n', index - 1) + 1;
    const lineEnd = newline === -1 ? text.length : newline;
    countedTo = lineEnd;
    const lineText = text.slice(lineStart, lineEnd);
    let accepted = true;
    if (index + found[0].length > lineEnd) {
      lineProbe.lastIndex = 0;
      accepted = lineProbe.test(lineText.endsWith('\r') ? lineText.slice(0, -1) : lineText);
    }
    if (accepted) accepted = accept(stripCr(lineText));
    if (accepted) {
      matches.push({
        path: relative,
        line,
        text: stripCr(lineText),
        before: contextLines > 0 ? linesBefore(text, lineStart, line, contextLines) : [],
        after: contextLines > 0 ? linesAfter(text, lineEnd, line, contextLines) : [],
      });
    }
    if (lineEnd >= text.length) break;
    regex.lastIndex = lineEnd + 1;
    countedTo = lineEnd + 1;
    line++;
  }
  return matches;
}

function decodeLine(bytes: Buffer, start: number, end: number): string {
  // A UTF-8 byte order mark is not part of line 1's text.
  if (start === 0 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  if (end > start && bytes[end - 1] === 0x0d) end--;
  return bytes.toString('utf8', start, end);
}

function byteLinesBefore(
  bytes: Buffer,
  lineStart: number,
  line: number,
  count: number,
): SearchLine[] {
  const out: SearchLine[] = [];
  let end = lineStart - 1;
  for (let k = 1; k <= count && end >= 0; k++) {
    const start = end === 0 ? 0 : bytes.lastIndexOf(0x0a, end - 1) + 1;
    out.unshift({ line: line - k, text: decodeLine(bytes, start, end) });
    end = start - 1;
  }
  return out;
}

function byteLinesAfter(bytes: Buffer, lineEnd: number, line: number, count: number): SearchLine[] {
  const out: SearchLine[] = [];
  let start = lineEnd + 1;
  for (let k = 1; k <= count && start < bytes.length; k++) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    out.push({ line: line + k, text: decodeLine(bytes, start, end) });
    start = end + 1;
  }
  return out;
}

/**
 * Matches of a case-sensitive literal found directly on the raw bytes: no decoding of the file,
 * only of the lines that match. UTF-8 is self-synchronising, so a byte match is a text match.
 */
function matchBytes(
  bytes: Buffer,
  needle: Buffer,
  relative: string,
  limit: number,
  contextLines: number,
  accept: LineCheck,
): SearchMatch[] {
  const matches: SearchMatch[] = [];
  let line = 1;
  let lineStart = 0;
  let position = bytes.indexOf(needle);
  while (position !== -1 && matches.length < limit) {
    let newline = bytes.indexOf(0x0a, lineStart);
    while (newline !== -1 && newline < position) {
      line++;
      lineStart = newline + 1;
      newline = bytes.indexOf(0x0a, lineStart);
    }
    const lineEnd = newline === -1 ? bytes.length : newline;
    const text = decodeLine(bytes, lineStart, lineEnd);
    if (accept(text)) {
      matches.push({
        path: relative,
        line,
        text,
        before: contextLines > 0 ? byteLinesBefore(bytes, lineStart, line, contextLines) : [],
        after: contextLines > 0 ? byteLinesAfter(bytes, lineEnd, line, contextLines) : [],
      });
    }
    if (lineEnd >= bytes.length) break;
    lineStart = lineEnd + 1;
    line++;
    position = bytes.indexOf(needle, lineStart);
  }
  return matches;
}

/**
 * The file as a JS string. Pure-ASCII files (most source) decode as latin1, which is the same
 * text and about twice as fast as UTF-8 decoding; `asLatin1` reuses a latin1 string already made.
 */
function decodeText(bytes: Buffer, asLatin1: string | null): string {
  let text: string;
  if (isAscii(bytes)) text = asLatin1 ?? bytes.toString('latin1');
  else text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export async function searchTree(request: SearchRequest): Promise<SearchResult> {
  const compiled = compilePattern(request.pattern, {
    ...(request.fixedString !== undefined ? { fixedString: request.fixedString } : {}),
    ...(request.caseSensitive !== undefined ? { caseSensitive: request.caseSensitive } : {}),
  });
  if (!compiled.ok) throw new SearchPatternError(compiled.message);
  const pattern = compiled.pattern;
  const lineProbe = new RegExp(pattern.regex.source, pattern.regex.flags.replace('g', ''));
  const literalBytes =
    pattern.requiredLiterals?.map((literal) => Buffer.from(literal, 'utf8')) ?? null;
  const maxResults = request.maxResults ?? Number.POSITIVE_INFINITY;
  let withheld = 0;
  const shownAs = request.shownAs;
  const accept: LineCheck =
    shownAs === undefined
      ? () => true
      : (line) => {
          const shown = shownAs(line);
          if (shown === line) return true;
          lineProbe.lastIndex = 0;
          if (lineProbe.test(shown)) return true;
          withheld++;
          return false;
        };
  const maxFileBytes = request.maxFileBytes ?? 2 * 1024 * 1024;
  const contextLines = request.contextLines ?? 0;

  const skipped = {
    binary: 0,
    tooLarge: 0,
    filtered: 0,
    ignored: 0,
    unreadable: 0,
    refused: 0,
  };
  // Opened files are checked against their real path, so the root must be a real path too.
  let root: string;
  try {
    root = fs.realpathSync.native(request.root);
  } catch {
    root = request.root;
  }
  const slicer = new Slicer(request.sliceMs ?? 8, request.signal);
  const state: WalkState = {
    request,
    glob:
      request.glob !== undefined && request.glob.trim() !== ''
        ? createPathGlob(request.glob)
        : null,
    ignore: request.respectGitignore === false ? null : loadGitignore(root),
    files: [],
    skipped,
    slicer,
  };
  request.signal?.throwIfAborted();
  await collectFiles(state, root);
  // Path order makes results (and the cut at maxResults) deterministic.
  const unique = new Map(state.files.map((file) => [file.relative, file]));
  const files = [...unique.values()].sort((a, b) =>
    a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0,
  );

  const byteNeedle = pattern.byteLiteral !== null ? Buffer.from(pattern.byteLiteral, 'utf8') : null;
  const probe = pattern.caseInsensitiveProbe;
  /** Cheapest test first: byte prefilter, then byte matching or (probe, decode, regex). */
  const searchBytes = (bytes: Buffer, relative: string, limit: number): SearchMatch[] => {
    if (literalBytes !== null && !literalBytes.some((literal) => bytes.indexOf(literal) !== -1))
      return [];
    if (byteNeedle !== null)
      return matchBytes(bytes, byteNeedle, relative, limit, contextLines, accept);
    let latin1: string | null = null;
    if (probe !== null) {
      latin1 = bytes.toString('latin1');
      if (!probe.test(latin1)) return [];
    }
    return matchText(
      decodeText(bytes, latin1),
      relative,
      pattern,
      lineProbe,
      limit,
      contextLines,
      accept,
    );
  };

  const matches: SearchMatch[] = [];
  const scratch = { buffer: Buffer.allocUnsafe(256 * 1024) };
  let filesSearched = 0;
  let filesMatched = 0;
  let truncated = false;
  const allowHardLinks = request.allowHardLinks === true;
  for (const { relative, absolute } of files) {
    if (matches.length >= maxResults) {
      truncated = true;
      break;
    }
    const length = readBounded(absolute, scratch, maxFileBytes, allowHardLinks);
    if (length === null) skipped.unreadable++;
    else if (length === 'too_large') skipped.tooLarge++;
    else if (length === 'refused') skipped.refused++;
    else {
      const bytes = scratch.buffer.subarray(0, length);
      if (bytes.indexOf(0) !== -1) {
        skipped.binary++;
      } else {
        filesSearched++;
        const found = searchBytes(bytes, relative, maxResults - matches.length + 1);
        if (found.length > 0) filesMatched++;
        for (const match of found) {
          if (matches.length >= maxResults) {
            truncated = true;
            break;
          }
          matches.push(match);
        }
      }
    }
    await slicer.tick();
  }
  return { matches, filesSearched, filesMatched, truncated, withheld, skipped };
}
