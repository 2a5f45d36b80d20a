import { createHash } from 'node:crypto';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Lowercase hex sha256 of raw bytes (file contents are hashed as bytes, never re-encoded). */
export function sha256Bytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Text a unified diff can carry: valid UTF-8 without NUL bytes. */
export function isText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** A model-supplied string that survives UTF-8 encoding unchanged (no lone surrogates, no NUL). */
export function isTextString(text: string): boolean {
  if (text.includes('\0')) return false;
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

/** Lines as a diff counts them: a trailing newline does not start another line. */
export function countLines(text: string): number {
  if (text === '') return 0;
  const newlines = text.split('\n').length - 1;
  return text.endsWith('\n') ? newlines : newlines + 1;
}
