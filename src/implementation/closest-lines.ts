/**
 * "Did you mean" for an edit whose old_string is not in the file: the window of the file's lines
 * most like the requested text, shown with line numbers, so the model can copy the real text and
 * retry (the recovery aider gives its models). Nothing here changes a file.
 */

export interface ClosestMatch {
  /** 1-based first line of the window. */
  readonly startLine: number;
  readonly endLine: number;
  /** 0..1, where 1 means every line matches once whitespace is ignored. */
  readonly score: number;
  /** True when the window equals the request except for leading/trailing whitespace. */
  readonly whitespaceOnly: boolean;
  /** The window, each line prefixed with its number (`  12| text`). */
  readonly text: string;
}

/** Requests longer than this are compared by their first lines only (keeps the scan linear). */
const maxComparedLines = 40;
/** Below this a window is not shown: it would mislead more than help. */
const minScore = 0.5;

function bigrams(text: string): Map<string, number> {
  const grams = new Map<string, number>();
  for (let i = 0; i < text.length - 1; i++) {
    const gram = text.slice(i, i + 2);
    grams.set(gram, (grams.get(gram) ?? 0) + 1);
  }
  return grams;
}

/** Dice coefficient over character bigrams of two trimmed lines. */
function lineSimilarity(
  a: string,
  b: string,
  gramsA: Map<string, number>,
  gramsOfB: () => Map<string, number>,
): number {
  if (a === b) return 1;
  if (a.length < 2 || b.length < 2) return 0;
  const gramsB = gramsOfB();
  let overlap = 0;
  for (const [gram, count] of gramsA) overlap += Math.min(count, gramsB.get(gram) ?? 0);
  return (2 * overlap) / (a.length - 1 + (b.length - 1));
}

export function numberLines(lines: readonly string[], firstLine: number): string {
  const width = String(firstLine + lines.length - 1).length;
  return lines.map((line, i) => `${String(firstLine + i).padStart(width)}| ${line}`).join('\n');
}

export function findClosestLines(content: string, wanted: string): ClosestMatch | null {
  const fileLines = content.split('\n');
  const wantedLines = wanted.replace(/\n$/, '').split('\n');
  const compared = wantedLines.slice(0, maxComparedLines).map((line) => line.trim());
  if (compared.every((line) => line === '')) return null;
  const comparedGrams = compared.map(bigrams);
  const trimmedFile = fileLines.map((line) => line.trim());
  const fileGrams: (Map<string, number> | undefined)[] = new Array<Map<string, number> | undefined>(
    fileLines.length,
  );
  const span = Math.min(wantedLines.length, fileLines.length);
  let best: { start: number; score: number } | null = null;
  for (let start = 0; start + Math.min(span, compared.length) <= fileLines.length; start++) {
    let total = 0;
    for (let i = 0; i < compared.length && start + i < fileLines.length; i++) {
      const line = start + i;
      total += lineSimilarity(
        compared[i] ?? '',
        trimmedFile[line] ?? '',
        comparedGrams[i] ?? new Map<string, number>(),
        // Each file line's bigrams are built once, however many windows compare it.
        () => (fileGrams[line] ??= bigrams(trimmedFile[line] ?? '')),
      );
    }
    const score = total / compared.length;
    if (best === null || score > best.score) best = { start, score };
    if (score === 1) break;
  }
  if (best === null || best.score < minScore) return null;
  const window = fileLines.slice(best.start, best.start + span);
  const whitespaceOnly =
    window.length === wantedLines.length &&
    window.every((line, i) => line.trim() === (wantedLines[i] ?? '').trim());
  return {
    startLine: best.start + 1,
    endLine: best.start + window.length,
    score: best.score,
    whitespaceOnly,
    text: numberLines(window, best.start + 1),
  };
}

/** 1-based line numbers where each occurrence of `needle` starts. */
export function occurrenceLines(content: string, needle: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let scanned = 0;
  for (
    let at = content.indexOf(needle);
    at !== -1;
    at = content.indexOf(needle, at + needle.length)
  ) {
    for (let i = scanned; i < at; i++) if (content.charCodeAt(i) === 10) line++;
    scanned = at;
    lines.push(line);
  }
  return lines;
}
