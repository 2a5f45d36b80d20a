// The one token-usage type. A leaf: it imports nothing, so every domain that counts tokens
// (upstream, models, responses, events, store, runtime) can share it without import cycles.

/** Token counts with OpenAI Responses semantics: `input_tokens` includes cached ones. */
export interface TokenUsage {
  readonly input_tokens: number;
  readonly cached_input_tokens: number;
  readonly cache_write_tokens: number;
  readonly output_tokens: number;
  readonly reasoning_tokens: number;
  readonly total_tokens: number;
}

export type MutableTokenUsage = { -readonly [K in keyof TokenUsage]: TokenUsage[K] };

export const tokenUsageKeys = [
  'input_tokens',
  'cached_input_tokens',
  'cache_write_tokens',
  'output_tokens',
  'reasoning_tokens',
  'total_tokens',
] as const satisfies readonly (keyof TokenUsage)[];

export function emptyUsage(): MutableTokenUsage {
  return {
    input_tokens: 0,
    cached_input_tokens: 0,
    cache_write_tokens: 0,
    output_tokens: 0,
    reasoning_tokens: 0,
    total_tokens: 0,
  };
}

/** Adds `usage` into `into` (in place) and returns it. */
export function addUsage(into: MutableTokenUsage, usage: TokenUsage): MutableTokenUsage {
  for (const key of tokenUsageKeys) into[key] += usage[key];
  return into;
}
