import { redactSecrets } from './redact-secrets.js';
import { lineCutMarker } from './tools/read-file.js';
import type { ToolObservation } from './tools/types.js';

/**
 * The evidence ledger: which refs a run has issued, which files (and line ranges) it has seen,
 * and the cache that answers repeated reads without spending budget. Report validation asks it
 * whether a cited ref exists; a file ref is good if its range lies inside a range that was shown.
 *
 * A file name can itself be a secret, so every path the ledger gives out (refs, files inspected,
 * cache headers) is the redacted one: the name the model was shown, and the one it cites.
 */

export interface LineRangeRequest {
  readonly start_line?: number | undefined;
  readonly end_line?: number | undefined;
}

export interface FileInspected {
  readonly path: string;
  /** Every line of the file has been shown (in one read or across several). */
  readonly complete: boolean;
  readonly totalLines: number;
  /** Merged 1-based inclusive ranges shown so far. */
  readonly ranges: readonly (readonly [number, number])[];
}

export interface LedgerStats {
  readonly toolCalls: number;
  readonly bytes: number;
  readonly files: number;
  readonly redactions: number;
  readonly cacheHits: number;
}

interface FileRecord {
  totalLines: number;
  ranges: [number, number][];
  /** Rendered (numbered, redacted) lines by line number, for cache hits. */
  lines: Map<number, string>;
}

type Range = [number, number];

function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: Range[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged;
}

function covered(ranges: readonly Range[], start: number, end: number): boolean {
  return ranges.some(([a, b]) => a <= start && end <= b);
}

/** Canonical JSON: object keys sorted at every depth, so `{a,b}` and `{b,a}` are one action. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A path as the model sees it (tool output is redacted, so a secret file name is too). */
function shownPath(path: string): string {
  return redactSecrets(path).text;
}

const renderedLine = /^ *(\d+)\| /;
const fileRefPattern = /^file:(.+?)(?:#L(\d+)(?:-L(\d+))?)?$/;

export class EvidenceLedger {
  private readonly issued = new Set<string>();
  private readonly files = new Map<string, FileRecord>();
  /** Shown (redacted) path → the real one, for cited refs. */
  private readonly realPaths = new Map<string, string>();
  private readonly actions = new Set<string>();
  private toolCalls = 0;
  private bytes = 0;
  private redactions = 0;
  private cacheHits = 0;

  /**
   * Records one tool call (`call` = the run's 1-based tool-call count, denied calls included).
   * A successful call gets `cmd:<call>`; a read also gets `file:<path>#L<a>-L<b>`. Failed or
   * denied calls issue no ref: there is nothing in them to cite.
   */
  record(
    call: number,
    tool: string,
    args: Readonly<Record<string, unknown>>,
    observation: ToolObservation,
  ): { refs: string[] } {
    this.toolCalls++;
    this.bytes += observation.bytes;
    this.redactions += observation.redactions;
    if (tool !== 'read_file') this.actions.add(`${tool} ${canonicalJson(args)}`);
    if (!observation.ok) return { refs: [] };

    const refs = [`cmd:${call}`];
    if (tool === 'read_file' && observation.path !== undefined) {
      const ref = this.recordRead(observation.path, observation);
      if (ref !== null) refs.push(ref);
    }
    for (const ref of refs) this.issued.add(ref);
    return { refs };
  }

  private recordRead(path: string, observation: ToolObservation): string | null {
    const totalLines = observation.totalLines ?? 0;
    let file = this.files.get(path);
    if (file === undefined) {
      file = { totalLines, ranges: [], lines: new Map() };
      this.files.set(path, file);
    }
    file.totalLines = totalLines;
    const shown = shownPath(path);
    this.realPaths.set(shown, path);
    if (totalLines === 0) return `file:${shown}#L0-L0`;
    const range = observation.lineRange;
    if (range === undefined) return null;

    const rows = observation.text.split('\n');
    let lastShown = range[1];
    for (const row of rows) {
      const match = renderedLine.exec(row);
      if (match === null) continue;
      const line = Number(match[1]);
      if (row.endsWith(lineCutMarker)) {
        // A line cut by the cap was not shown in full: not evidence of the whole line.
        lastShown = Math.min(lastShown, line - 1);
        continue;
      }
      file.lines.set(line, row);
    }
    if (lastShown >= range[0]) file.ranges = mergeRanges([...file.ranges, [range[0], lastShown]]);
    return `file:${shown}#L${range[0]}-L${range[1]}`;
  }

  /** Whether a cited ref is backed by this run: issued exactly, or a sub-range of a shown range. */
  hasRef(ref: string): boolean {
    const trimmed = ref.trim();
    if (this.issued.has(trimmed)) return true;
    const match = fileRefPattern.exec(trimmed);
    if (match === null) return false;
    const cited = match[1] ?? '';
    const file = this.files.get(this.realPaths.get(cited) ?? cited);
    if (file === undefined) return false;
    if (match[2] === undefined) return this.isComplete(file);
    const start = Number(match[2]);
    const end = match[3] === undefined ? start : Number(match[3]);
    if (start < 1 || end < start) return false;
    return covered(file.ranges, start, end);
  }

  private isComplete(file: FileRecord): boolean {
    return file.totalLines === 0 || covered(file.ranges, 1, file.totalLines);
  }

  filesInspected(): FileInspected[] {
    return [...this.files.entries()].map(([path, file]) => ({
      path: shownPath(path),
      complete: this.isComplete(file),
      totalLines: file.totalLines,
      ranges: file.ranges.map(([a, b]) => [a, b] as const),
    }));
  }

  /**
   * A repeated read answered from what was already shown (`code: 'cache_hit'`, zero bytes, so
   * it spends no budget). Null when any requested line has not been shown in full.
   */
  lookupRead(path: string, range: LineRangeRequest = {}): ToolObservation | null {
    const file = this.files.get(path);
    if (file === undefined) return null;
    if (file.totalLines === 0) {
      return {
        ok: true,
        text: `${shownPath(path)}: empty file (0 lines) [from cache]`,
        bytes: 0,
        redactions: 0,
        path,
        totalLines: 0,
        complete: true,
        code: 'cache_hit',
      };
    }
    const start = range.start_line ?? 1;
    const end = Math.min(range.end_line ?? file.totalLines, file.totalLines);
    if (start < 1 || start > end || !covered(file.ranges, start, end)) return null;
    const rows: string[] = [];
    for (let line = start; line <= end; line++) {
      const row = file.lines.get(line);
      if (row === undefined) return null;
      rows.push(row);
    }
    this.cacheHits++;
    const complete = start === 1 && end === file.totalLines;
    const header = `${shownPath(path)}: lines ${start}-${end} of ${file.totalLines}${complete ? ' (whole file)' : ''} [already read; served from cache]`;
    return {
      ok: true,
      text: [header, ...rows].join('\n'),
      bytes: 0,
      redactions: 0,
      path,
      lineRange: [start, end],
      totalLines: file.totalLines,
      complete,
      code: 'cache_hit',
    };
  }

  /** True when the same non-read tool already ran with canonically equal arguments. */
  isRepeat(tool: string, args: Readonly<Record<string, unknown>>): boolean {
    if (tool === 'read_file') return false;
    return this.actions.has(`${tool} ${canonicalJson(args)}`);
  }

  /** The refs issued so far, in issue order (for "available evidence refs" prompts). */
  refs(): string[] {
    return [...this.issued];
  }

  stats(): LedgerStats {
    return {
      toolCalls: this.toolCalls,
      bytes: this.bytes,
      files: this.files.size,
      redactions: this.redactions,
      cacheHits: this.cacheHits,
    };
  }
}
