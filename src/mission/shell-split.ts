/**
 * Splits a command line into argv the way a POSIX shell tokenises words, without any expansion:
 * whitespace separates words, '…' is literal, "…" allows \" and \\ escapes, and a backslash
 * outside quotes escapes the next character. The result is run without a shell, so `$VAR`,
 * globs and `;` stay literal text.
 */
export function shellSplit(command: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;

  for (let index = 0; index < command.length; index += 1) {
    const char = command[index] ?? '';
    if (quote === "'") {
      if (char === "'") quote = null;
      else current += char;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = null;
      else if (char === '\\' && (command[index + 1] === '"' || command[index + 1] === '\\')) {
        current += command[index + 1] ?? '';
        index += 1;
      } else current += char;
      continue;
    }
    if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === '\\') {
      const next = command[index + 1];
      if (next === undefined) throw new Error('ends with a lone backslash');
      current += next;
      inWord = true;
      index += 1;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quote !== null) throw new Error(`has an unterminated ${quote} quote`);
  if (inWord) words.push(current);
  return words;
}
