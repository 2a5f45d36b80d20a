import { asNumber, asRecord } from '../json-fields.js';
import type { TokenUsage } from '../stream-part.js';

/**
 * Chat Completions usage → TokenUsage (wire-protocol.md §6.4). Cached tokens come from
 * `prompt_tokens_details.cached_tokens` (OpenAI/xAI), top-level `cached_tokens` (Moonshot/Kimi)
 * or `prompt_cache_hit_tokens` (DeepSeek), whichever the provider sent.
 */
export function mapChatUsage(raw: unknown): TokenUsage | undefined {
  const usage = asRecord(raw);
  if (usage === undefined) return undefined;
  const promptDetails = asRecord(usage['prompt_tokens_details']);
  const completionDetails = asRecord(usage['completion_tokens_details']);
  const input_tokens = asNumber(usage['prompt_tokens']) ?? asNumber(usage['input_tokens']) ?? 0;
  const output_tokens =
    asNumber(usage['completion_tokens']) ?? asNumber(usage['output_tokens']) ?? 0;
  const cached_input_tokens =
    asNumber(promptDetails?.['cached_tokens']) ??
    asNumber(usage['cached_tokens']) ??
    asNumber(usage['prompt_cache_hit_tokens']) ??
    0;
  return {
    input_tokens,
    cached_input_tokens,
    cache_write_tokens: asNumber(promptDetails?.['cache_write_tokens']) ?? 0,
    output_tokens,
    reasoning_tokens: asNumber(completionDetails?.['reasoning_tokens']) ?? 0,
    total_tokens: asNumber(usage['total_tokens']) ?? input_tokens + output_tokens,
  };
}
