import { z } from 'zod';
import { redactSecrets } from '../redact-secrets.js';
import { describeRefusal, openVerified, type OpenRefusal } from './open-verified.js';
import {
  defineTool,
  effectiveLimits,
  failure,
  observation,
  type ToolContext,
  type ToolObservation,
} from './types.js';

export const readFileArgs = z.strictObject({
  path: z.string().min(1).describe('File path relative to the project root.'),
  start_line: z.number().int().min(1).optional().describe('First line to read (1-based).'),
  end_line: z.number().int().min(1).optional().describe('Last line to read (inclusive).'),
});
export type ReadFileArgs = z.infer<typeof readFileArgs>;

/** Marks a single line cut because it alone exceeds the read cap (minified files). */
export const lineCutMarker = ' …[line cut: exceeds the read cap]';

/** Bytes inspected for a NUL when deciding that a file is binary (as git and ripgrep do). */
const binarySniffBytes = 8192;

export function formatLineNumber(line: number, width: number): string {
  return String(line).padStart(width, ' ');
}

type ReadOutcome = Buffer | 'too_large' | OpenRefusal;

async function readWhole(
  absolute: string,
  maxBytes: number,
  allowHardLinks: boolean,
): Promise<ReadOutcome> {
  // Checked and opened once (open-verified.ts): no FIFO blocks, no swapped path is followed.
  const opened = await openVerified(absolute, 'file', { allowHardLinks });
  if (!opened.ok) return opened;
  try {
    if (opened.size > maxBytes) return 'too_large';
    return await opened.handle.readFile();
  } finally {
    await opened.handle.close();
  }
}

/** Splits text into lines; a final newline does not start an extra (empty) line. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

export async function executeReadFile(
  args: ReadFileArgs,
  ctx: ToolContext,
): Promise<ToolObservation> {
  const limits = effectiveLimits(ctx);
  const resolved = ctx.scope.resolve(args.path);
  if (!resolved.ok) return failure(resolved.code, resolved.message);
  const shown = resolved.relative === '' ? '.' : resolved.relative;
  if (
    args.start_line !== undefined &&
    args.end_line !== undefined &&
    args.end_line < args.start_line
  ) {
    return failure(
      'invalid_range',
      `end_line (${args.end_line}) is before start_line (${args.start_line}); line ranges are 1-based and inclusive.`,
      { path: resolved.relative },
    );
  }

  let buffer: ReadOutcome;
  try {
    buffer = await readWhole(resolved.absolute, limits.readMaxFileBytes, limits.allowHardLinks);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return failure('read_failed', `'${shown}' could not be read (${code ?? 'error'}).`, {
      path: resolved.relative,
    });
  }
  if (!Buffer.isBuffer(buffer) && buffer !== 'too_large') {
    const code =
      buffer.code === 'open_failed'
        ? 'read_failed'
        : buffer.code === 'not_a_regular_file' && buffer.detail === 'directory'
          ? 'not_a_file'
          : buffer.code;
    return failure(code, describeRefusal(shown, buffer), { path: resolved.relative });
  }
  if (buffer === 'too_large') {
    return failure(
      'file_too_large',
      `'${shown}' is larger than ${limits.readMaxFileBytes} bytes; use search_text with path='${shown}' to find the lines you need.`,
      { path: resolved.relative },
    );
  }
  if (buffer.subarray(0, binarySniffBytes).includes(0)) {
    return failure('binary_file', `'${shown}' is a binary file and cannot be shown as text.`, {
      path: resolved.relative,
    });
  }

  // Redact the raw text before numbering, so a multi-line private key block is caught whole;
  // the redactor keeps newlines, so line numbers stay true.
  let text = buffer.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const raw = redactSecrets(text);
  const lines = splitLines(raw.text);
  const totalLines = lines.length;

  if (totalLines === 0) {
    return observation(
      true,
      `${shown}: empty file (0 lines)`,
      { path: resolved.relative, totalLines: 0, complete: true },
      raw.count,
    );
  }
  const start = args.start_line ?? 1;
  if (start > totalLines) {
    return failure(
      'invalid_range',
      `start_line ${start} is past the end of '${shown}', which has ${totalLines} lines.`,
      {
        path: resolved.relative,
        totalLines,
      },
    );
  }
  const requestedEnd = Math.min(args.end_line ?? totalLines, totalLines);
  const width = Math.max(4, String(requestedEnd).length);

  const body: string[] = [];
  let used = 0;
  let end = start - 1;
  let lineCut = false;
  for (let line = start; line <= requestedEnd; line++) {
    const rendered = `${formatLineNumber(line, width)}| ${lines[line - 1] ?? ''}`;
    if (used + rendered.length + 1 > limits.readChars) {
      if (body.length === 0) {
        // One line alone is over the cap: show its head rather than nothing.
        body.push(rendered.slice(0, limits.readChars) + lineCutMarker);
        end = line;
        lineCut = true;
      }
      break;
    }
    body.push(rendered);
    used += rendered.length + 1;
    end = line;
  }

  const complete = start === 1 && end === totalLines && !lineCut;
  const header = `${shown}: lines ${start}-${end} of ${totalLines}${complete ? ' (whole file)' : ''}`;
  const notes: string[] = [];
  if (end < requestedEnd || lineCut) {
    notes.push(
      `[truncated at ${limits.readChars} characters: showed lines ${start}-${end} of ${totalLines}. ` +
        (end < totalLines
          ? `Read the rest with start_line=${end + 1}.]`
          : 'The last line shown was cut.]'),
    );
  } else if (args.end_line !== undefined && args.end_line > totalLines) {
    notes.push(`[end_line ${args.end_line} is past the end; the file has ${totalLines} lines.]`);
  }
  const output = [header, ...body, ...notes].join('\n');
  return observation(
    true,
    output,
    { path: resolved.relative, lineRange: [start, end], totalLines, complete },
    raw.count,
  );
}

export const readFileTool = defineTool({
  name: 'read_file',
  toolClass: 'read',
  description:
    'Read a text file inside the mission scope. Returns numbered lines ("  12| text"). ' +
    'Use start_line/end_line (1-based, inclusive) to read part of a large file.',
  schema: readFileArgs,
  execute: executeReadFile,
});
