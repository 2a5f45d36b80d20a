import type { ModelEntry } from '../../models/index.js';
import type { ChatContentPart, ChatMessage, ChatRequest } from '../chat-request.js';
import { mapReasoningEffort } from '../reasoning-effort.js';

/** What a model without image input sees instead of the picture. */
export const imageOmittedNote = '[image omitted: this model does not accept image input]';

/** Drops image parts for text-only models; collapses to a string when only text remains. */
export function stripImages(
  content: string | readonly ChatContentPart[],
): string | ChatContentPart[] {
  if (typeof content === 'string') return content;
  const parts: ChatContentPart[] = content.map((part) =>
    part.type === 'image_url' ? { type: 'text', text: imageOmittedNote } : part,
  );
  return parts.every((part) => part.type === 'text')
    ? parts.map((part) => part.text).join('\n')
    : parts;
}

function convertMessage(message: ChatMessage, entry: ModelEntry): Record<string, unknown> {
  switch (message.role) {
    case 'system':
    case 'tool':
      return { ...message };
    case 'user':
      return {
        role: 'user',
        content: entry.images ? message.content : stripImages(message.content),
      };
    case 'assistant': {
      const body: Record<string, unknown> = { role: 'assistant', content: message.content };
      const hasToolCalls = message.tool_calls !== undefined && message.tool_calls.length > 0;
      if (hasToolCalls) body['tool_calls'] = message.tool_calls;
      if (entry.reasoningField !== null) {
        // DeepSeek thinking mode 400s when an assistant tool-call turn lacks reasoning_content,
        // even an empty one (wire-protocol.md §6.3); on plain turns it is optional.
        if (message.reasoning_content !== undefined)
          body[entry.reasoningField] = message.reasoning_content;
        else if (hasToolCalls) body[entry.reasoningField] = '';
      }
      return body;
    }
  }
}

/**
 * The Chat Completions body for one model (wire-protocol.md §6.1). Always streamed with usage:
 * Zen injects include_usage itself, but other OpenAI-compatible servers do not.
 */
export function convertToChatBody(
  request: ChatRequest,
  entry: ModelEntry,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: entry.id,
    messages: request.messages.map((message) => convertMessage(message, entry)),
    stream: true,
    stream_options: { include_usage: true },
  };
  // tool_choice without tools is a 400 on several providers, so both go together.
  if (request.tools !== undefined && request.tools.length > 0) {
    body['tools'] = request.tools;
    if (request.tool_choice !== undefined) body['tool_choice'] = request.tool_choice;
    if (request.parallel_tool_calls !== undefined)
      body['parallel_tool_calls'] = request.parallel_tool_calls;
  }
  const effort = mapReasoningEffort(request.reasoning_effort, entry.reasoningEfforts);
  if (effort !== undefined) body['reasoning_effort'] = effort;
  if (request.response_format !== undefined) body['response_format'] = request.response_format;
  if (request.max_tokens !== undefined) body['max_tokens'] = request.max_tokens;
  // Kimi K2.6 rejects any temperature but 1 (wire-protocol.md §5 "Kimi quirks").
  const temperature = entry.fixedTemperature ?? request.temperature;
  if (temperature !== undefined) body['temperature'] = temperature;
  if (request.top_p !== undefined) body['top_p'] = request.top_p;
  return body;
}
