/**
 * Canonical JSON as the event-log contract defines it (PRODUCT.md §7): object keys sorted by
 * Unicode code point at every depth, no whitespace, strings and numbers exactly as
 * `JSON.stringify` writes them. Values JSON cannot carry follow `JSON.stringify` too: `undefined`,
 * functions and symbols are dropped from objects and become `null` in arrays, non-finite numbers
 * become `null`, and `toJSON()` is honoured. BigInt and cycles throw.
 */
export function canonicalJson(value: unknown): string {
  const out = write(value, 0);
  // A top-level value JSON cannot represent (undefined, a function) has no canonical form.
  if (out === undefined) throw new TypeError('canonicalJson: value is not representable as JSON');
  return out;
}

/**
 * The canonical JSON of a plain object without one of its top-level keys; what hashing an event
 * "without `hash`" needs, minus a copy of the event per line verified.
 */
export function canonicalJsonOmitting(
  record: Readonly<Record<string, unknown>>,
  omit: string,
): string {
  return writeObject(record, 0, omit);
}

// Deep enough for any real payload; shallow enough to turn a reference cycle into a clear error
// instead of a stack overflow.
const MAX_DEPTH = 256;

function write(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('canonicalJson: BigInt is not representable as JSON');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'object':
      break;
  }
  if (value === null) return 'null';
  if (depth > MAX_DEPTH) throw new TypeError('canonicalJson: nesting too deep (cycle?)');
  const withToJson = value as { toJSON?: unknown };
  if (typeof withToJson.toJSON === 'function') {
    return write((withToJson.toJSON as () => unknown).call(value), depth + 1);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += write(value[i] as unknown, depth + 1) ?? 'null';
    }
    return out + ']';
  }
  return writeObject(value as Record<string, unknown>, depth, null);
}

function writeObject(
  record: Readonly<Record<string, unknown>>,
  depth: number,
  omit: string | null,
): string {
  const keys = Object.keys(record).sort(compareCodePoints);
  let out = '{';
  let first = true;
  for (const key of keys) {
    if (key === omit) continue;
    const encoded = write(record[key], depth + 1);
    if (encoded === undefined) continue;
    if (!first) out += ',';
    out += JSON.stringify(key) + ':' + encoded;
    first = false;
  }
  return out + '}';
}

/**
 * Orders strings by Unicode code point. JavaScript's default sort compares UTF-16 code units,
 * which puts astral characters (surrogate pairs, 0xD800–0xDFFF) before U+E000–U+FFFF; code-point
 * order puts them after. Other languages (Python's `sort_keys`, Go, Rust) sort by code point, so a
 * verifier written in any of them must agree with us.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
