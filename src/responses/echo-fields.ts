import type { ResponsesRequest } from './responses-request-schema.js';

/**
 * The request fields a Responses object echoes back (PRODUCT.md §2.0), with OpenAI's defaults
 * for those the request left out. Clients read them back (the Agents SDK keeps `tools` and
 * `parallel_tool_calls`; the AI SDK checks `store`), so they must say what was really asked.
 * `stored` is whether this response is actually kept, which is what `store` must report.
 */
export function echoedFields(
  request: ResponsesRequest,
  stored: boolean,
): Readonly<Record<string, unknown>> {
  return {
    instructions: request.instructions ?? null,
    tools: request.tools ?? [],
    tool_choice: request.tool_choice ?? 'auto',
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    text: { ...request.text, format: request.text?.format ?? { type: 'text' } },
    max_output_tokens: request.max_output_tokens ?? null,
    temperature: request.temperature ?? null,
    top_p: request.top_p ?? null,
    metadata: request.metadata ?? {},
    store: stored,
    reasoning: request.reasoning ?? null,
    truncation: request.truncation ?? 'disabled',
    user: request.user ?? null,
    previous_response_id: request.previous_response_id ?? null,
    ...(request.service_tier ? { service_tier: request.service_tier } : {}),
    ...(request.top_logprobs != null ? { top_logprobs: request.top_logprobs } : {}),
  };
}
