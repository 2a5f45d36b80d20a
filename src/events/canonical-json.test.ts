import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonOmitting, compareCodePoints } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    const value = { b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } };
    expect(canonicalJson(value)).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('writes strings and numbers exactly as JSON.stringify does', () => {
    const strings = [
      'plain',
      'quote " and \\ backslash',
      'line\nbreak\ttab',
      '\u0000\u001f',
      'é ü 日本',
      '😀',
      '\u2028\u2029',
    ];
    for (const s of strings) expect(canonicalJson(s)).toBe(JSON.stringify(s));
    const numbers = [
      0,
      -0,
      1,
      -1.5,
      0.1 + 0.2,
      1e21,
      1e-7,
      123456789012345680000,
      Number.MAX_SAFE_INTEGER,
      5e-324,
    ];
    for (const n of numbers) expect(canonicalJson(n)).toBe(JSON.stringify(n));
  });

  it('orders keys by code point, not by UTF-16 unit', () => {
    // U+FF61 is a single unit above the surrogates; U+1F600 is a surrogate pair (0xD83D…).
    // UTF-16 order puts the emoji first, code-point order puts it last.
    const value = { '😀': 2, '｡': 1, a: 0, B: -1, é: 3 };
    expect(canonicalJson(value)).toBe('{"B":-1,"a":0,"é":3,"｡":1,"😀":2}');
    const keys = ['😀', '｡', 'a', 'B', 'é', 'ab', ''];
    const byCodePoint = [...keys].sort((x, y) => {
      const a = Array.from(x, (c) => c.codePointAt(0)!);
      const b = Array.from(y, (c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(a.length, b.length); i++)
        if (a[i] !== b[i]) return a[i]! - b[i]!;
      return a.length - b.length;
    });
    expect([...keys].sort(compareCodePoints)).toEqual(byCodePoint);
  });

  it('follows JSON.stringify for values JSON cannot carry', () => {
    expect(canonicalJson({ a: undefined, b: () => 1, c: [undefined, NaN, Infinity] })).toBe(
      '{"c":[null,null,null]}',
    );
    expect(canonicalJson({ d: new Date(0) })).toBe('{"d":"1970-01-01T00:00:00.000Z"}');
    expect(() => canonicalJson(10n)).toThrow(TypeError);
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(() => canonicalJson(cycle)).toThrow(/too deep/);
  });

  it('agrees with JSON.parse round trips and can omit a top-level key', () => {
    const value = { z: { b: [1, 'two', { c: 3 }] }, hash: 'x', a: 'é' };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
    expect(canonicalJsonOmitting(value, 'hash')).toBe('{"a":"é","z":{"b":[1,"two",{"c":3}]}}');
  });
});
