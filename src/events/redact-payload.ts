/** Keys whose string values are secrets by name (PRODUCT.md §6 redaction; reference §8.3). */
const SECRET_KEY = /api[_-]?key|authorization|secret|password|token/i;

export const REDACTED = '[REDACTED]';

/**
 * Last line of defence before a payload is hashed into the log: any string value under a key
 * that names a secret becomes `[REDACTED]`, at any depth. Only strings are touched, so counters
 * such as `input_tokens` survive. The runtime redacts content properly; this only catches a
 * credential that slipped into a field by name. Copy-on-write: an untouched payload is returned
 * as is, which keeps the common case allocation-free.
 */
export function redactPayload<T>(value: T): T {
  return redactValue(value, 0) as T;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth > 64) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = redactValue(item, depth + 1);
      if (next !== item) {
        copy ??= value.slice();
        copy[i] = next;
      }
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | null = null;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const next =
      typeof item === 'string'
        ? SECRET_KEY.test(key) && item !== REDACTED
          ? REDACTED
          : item
        : redactValue(item, depth + 1);
    if (next !== item) {
      copy ??= { ...record };
      copy[key] = next;
    }
  }
  return copy ?? value;
}
