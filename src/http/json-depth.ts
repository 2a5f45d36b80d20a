/**
 * The deepest nesting of arrays and objects in a JSON text, counted in one linear pass (brackets
 * inside strings do not count). Stops counting once `limit` is passed. Client JSON nested
 * thousands of levels deep parses, but every recursive walk of it afterwards (schema checks,
 * conversion, `JSON.stringify`) overflows the stack (issue 9, High #2); it is refused at the
 * door instead.
 */
export function jsonNestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c)
        index++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
      continue;
    }
    if (char === 0x22) inString = true;
    else if (char === 0x7b || char === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (char === 0x7d || char === 0x5d) depth--;
  }
  return deepest;
}

/** Deepest nesting accepted in a request body; real tool schemas stay far below it. */
export const maxJsonNestingDepth = 64;
