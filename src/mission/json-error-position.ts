/**
 * Where a JSON text first goes wrong. Node 20's JSON.parse names the bad token but not its
 * position, and a person fixing a hand-written handoff needs "line 7, column 3", so this walks the
 * text with the JSON grammar (RFC 8259) and stops at the first violation. It does not build values.
 */
export interface JsonErrorPosition {
  readonly offset: number;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units. */
  readonly column: number;
  readonly reason: string;
}

/** Thrown inside the walker to unwind to locateJsonError; never escapes this module. */
class JsonSyntaxStop extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function locateJsonError(text: string): JsonErrorPosition | null {
  try {
    new JsonWalker(text).document();
    return null;
  } catch (error) {
    if (!(error instanceof JsonSyntaxStop)) throw error;
    const before = text.slice(0, error.offset);
    const line = before.split('\n').length;
    const column = error.offset - before.lastIndexOf('\n');
    return { offset: error.offset, line, column, reason: error.reason };
  }
}

function describeChar(char: string | undefined): string {
  if (char === undefined) return 'end of input';
  if (char === '\n') return 'a line break';
  return JSON.stringify(char);
}

class JsonWalker {
  private pos = 0;

  constructor(private readonly text: string) {}

  document(): void {
    this.skipSpace();
    if (this.pos >= this.text.length) this.stop('the JSON is empty');
    this.value();
    this.skipSpace();
    if (this.pos < this.text.length) {
      this.stop(`unexpected ${describeChar(this.peek())} after the end of the JSON value`);
    }
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private stop(reason: string, offset = this.pos): never {
    throw new JsonSyntaxStop(offset, reason);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos] ?? ''))
      this.pos += 1;
  }

  private value(): void {
    const char = this.peek();
    if (char === '{') this.object();
    else if (char === '[') this.array();
    else if (char === '"') this.string();
    else if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) this.number();
    else if (this.text.startsWith('true', this.pos)) this.pos += 4;
    else if (this.text.startsWith('false', this.pos)) this.pos += 5;
    else if (this.text.startsWith('null', this.pos)) this.pos += 4;
    else if (char === "'") this.stop('strings must use double quotes, not single quotes');
    else if (char === undefined) this.stop('unexpected end of input: a value is missing');
    else this.stop(`unexpected ${describeChar(char)} where a value was expected`);
  }

  private object(): void {
    this.pos += 1; // {
    this.skipSpace();
    if (this.peek() === '}') {
      this.pos += 1;
      return;
    }
    for (;;) {
      this.skipSpace();
      const char = this.peek();
      if (char === '}') this.stop('trailing comma before "}"');
      if (char !== '"') {
        if (char === undefined) this.stop('unexpected end of input inside an object');
        this.stop(`property names must be double-quoted strings (found ${describeChar(char)})`);
      }
      this.string();
      this.skipSpace();
      if (this.peek() !== ':')
        this.stop(`expected ":" after a property name (found ${describeChar(this.peek())})`);
      this.pos += 1;
      this.skipSpace();
      this.value();
      this.skipSpace();
      const next = this.peek();
      if (next === ',') {
        this.pos += 1;
        continue;
      }
      if (next === '}') {
        this.pos += 1;
        return;
      }
      if (next === undefined)
        this.stop('unexpected end of input: an object is not closed with "}"');
      this.stop(`expected "," or "}" after a property value (found ${describeChar(next)})`);
    }
  }

  private array(): void {
    this.pos += 1; // [
    this.skipSpace();
    if (this.peek() === ']') {
      this.pos += 1;
      return;
    }
    for (;;) {
      this.skipSpace();
      if (this.peek() === ']') this.stop('trailing comma before "]"');
      this.value();
      this.skipSpace();
      const next = this.peek();
      if (next === ',') {
        this.pos += 1;
        continue;
      }
      if (next === ']') {
        this.pos += 1;
        return;
      }
      if (next === undefined) this.stop('unexpected end of input: a list is not closed with "]"');
      this.stop(`expected "," or "]" after a list item (found ${describeChar(next)})`);
    }
  }

  private string(): void {
    const start = this.pos;
    this.pos += 1; // opening quote
    for (;;) {
      const char = this.peek();
      if (char === undefined) this.stop('unterminated string', start);
      if (char === '"') {
        this.pos += 1;
        return;
      }
      if (char < ' ')
        this.stop(`control character ${describeChar(char)} inside a string (escape it)`);
      if (char === '\\') {
        const escape = this.text[this.pos + 1];
        if (escape === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
            this.stop('invalid \\u escape: four hex digits expected');
          }
          this.pos += 6;
          continue;
        }
        if (escape === undefined || !'"\\/bfnrt'.includes(escape)) {
          this.stop(`invalid escape sequence \\${escape ?? ''}`);
        }
        this.pos += 2;
        continue;
      }
      this.pos += 1;
    }
  }

  private number(): void {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos));
    if (!match) this.stop('invalid number');
    this.pos += match[0].length;
  }
}
