import { redactSecrets } from './redact-secrets.js';

/**
 * Redacts every string inside a value a model or a client wrote (tool arguments, reports) before
 * it is recorded; the event writer's own guard only looks at key names.
 */
export function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redactSecrets(value).text;
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item)]));
  }
  return value ?? null;
}
