/**
 * One POSIX shell word for any string: plain words as they are, everything else in single quotes
 * (inside which the shell expands nothing), a single quote written as '\''. Hand-written because
 * it is the whole job and the rule is fixed by POSIX; the agent-orchestrator plugin, a package of
 * its own with no dependencies, carries the same rule.
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
