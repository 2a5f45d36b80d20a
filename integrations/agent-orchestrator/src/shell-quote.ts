/**
 * One POSIX shell word for any string: plain words as they are, everything else in single quotes
 * (inside which the shell expands nothing), a single quote written as '\''. The same rule as the
 * bridge's own (src/cli/shell-quote.ts); repeated because this package has no dependencies.
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
