import type { ModelEntry } from '../../models/index.js';
import type { ChatContentPart, ChatMessage, ChatRequest, ChatToolChoice } from '../chat-request.js';
import { imageOmittedNote } from '../openai-chat/convert-to-chat-body.js';

/** Messages requires max_tokens; a model's full output limit is rarely what a turn needs. */
export const defaultMessagesMaxTokens = 32_000;

type Block = Record<string, unknown>;

interface MessagesMessage {
  role: 'user' | 'assistant';
  content: Block[];
}

/**
 * Anthropic wants tool ids matching `[a-zA-Z0-9_-]` (wire-protocol.md §7 item 12), but a turn that
 * fell back from Kimi carries ids like `functions.read_file:0`. The same mapping is applied to the
 * tool_use id and its tool_result, so pairs stay matched.
 */
export function toMessagesToolId(id: string): string {
  return id.replace(/[^a-zA-Z0-9_-]/g, '_');
}

function parseArguments(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
    return { value: parsed };
  } catch {
    // The model wrote invalid JSON last turn; keep the text so the history stays truthful.
    return { raw_arguments: raw };
  }
}

function imageBlock(url: string): Block {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (match)
    return { type: 'image', source: { type: 'base64', media_type: match[1], data: match[2] } };
  return { type: 'image', source: { type: 'url', url } };
}

function userBlocks(content: string | readonly ChatContentPart[], images: boolean): Block[] {
  if (typeof content === 'string')
    return content.length > 0 ? [{ type: 'text', text: content }] : [];
  const blocks: Block[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      if (part.text.length > 0) blocks.push({ type: 'text', text: part.text });
    } else if (images) {
      blocks.push(imageBlock(part.image_url.url));
    } else {
      blocks.push({ type: 'text', text: imageOmittedNote });
    }
  }
  return blocks;
}

function assistantBlocks(message: Extract<ChatMessage, { role: 'assistant' }>): Block[] {
  // A thinking block goes back only with the signature the upstream issued for it (§6.6); the
  // signature travels in the reasoning item's encrypted_content. Unsigned reasoning is dropped.
  const blocks: Block[] = [];
  if (message.reasoning_content !== undefined && message.reasoning_signature !== undefined) {
    blocks.push({
      type: 'thinking',
      thinking: message.reasoning_content,
      signature: message.reasoning_signature,
    });
  }
  if (message.content !== null && message.content.length > 0)
    blocks.push({ type: 'text', text: message.content });
  for (const call of message.tool_calls ?? []) {
    blocks.push({
      type: 'tool_use',
      id: toMessagesToolId(call.id),
      name: call.function.name,
      input: parseArguments(call.function.arguments),
    });
  }
  return blocks;
}

function mapToolChoice(choice: ChatToolChoice, parallel: boolean | undefined): Block {
  const disable = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === 'auto') return { type: 'auto', ...disable };
  if (choice === 'required') return { type: 'any', ...disable };
  if (choice === 'none') return { type: 'none' };
  return { type: 'tool', name: choice.function.name, ...disable };
}

function responseFormatNote(request: ChatRequest): string | undefined {
  const format = request.response_format;
  if (format === undefined || format.type === 'text') return undefined;
  // Messages has no response_format; an instruction is the closest equivalent.
  if (format.type === 'json_object') return 'Answer with a single JSON object and nothing else.';
  const schema =
    format.json_schema.schema === undefined
      ? ''
      : ` matching this JSON schema: ${JSON.stringify(format.json_schema.schema)}`;
  return `Answer with a single JSON object${schema}. Output nothing else.`;
}

/**
 * Messages caches only up to explicit breakpoints (decision 0009). A request carries at most
 * four: the system prompt, the last tool definition, and the last block of each of the two most
 * recent user turns. The older of those two is the breakpoint the previous request ended on, so
 * its cache entry is read back; the newer one writes the entry the next request will read.
 */
const ephemeral = { type: 'ephemeral' } as const;
const userTurnBreakpoints = 2;

function markLast(blocks: Block[]): void {
  const last = blocks.at(-1);
  if (last !== undefined) blocks[blocks.length - 1] = { ...last, cache_control: ephemeral };
}

function markRecentUserTurns(messages: MessagesMessage[]): void {
  let marked = 0;
  for (let index = messages.length - 1; index >= 0 && marked < userTurnBreakpoints; index -= 1) {
    const message = messages[index];
    if (message?.role !== 'user') continue;
    markLast(message.content);
    marked += 1;
  }
}

/** The Anthropic Messages body for a model Go serves on /messages (wire-protocol.md §5, §6.6). */
export function convertToMessagesBody(
  request: ChatRequest,
  entry: ModelEntry,
): Record<string, unknown> {
  const system: string[] = [];
  const messages: MessagesMessage[] = [];
  const append = (role: 'user' | 'assistant', blocks: Block[]): void => {
    if (blocks.length === 0) return;
    const last = messages.at(-1);
    // Messages wants user/assistant to alternate, so consecutive turns of one role are merged;
    // that also puts consecutive tool results into one user message.
    if (last !== undefined && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  let leading = true;
  for (const message of request.messages) {
    if (message.role !== 'system') leading = false;
    switch (message.role) {
      case 'system':
        // Only the instructions that open the conversation go to `system`. One that arrives
        // later (Codex adds developer messages mid-thread) stays where it was said: hoisting it
        // would change the system prompt, the start of every cached prefix, for the whole thread.
        if (message.content.length === 0) break;
        if (leading) system.push(message.content);
        else append('user', [{ type: 'text', text: message.content }]);
        break;
      case 'user':
        append('user', userBlocks(message.content, entry.images));
        break;
      case 'assistant':
        append('assistant', assistantBlocks(message));
        break;
      case 'tool':
        append('user', [
          {
            type: 'tool_result',
            tool_use_id: toMessagesToolId(message.tool_call_id),
            content: message.content,
          },
        ]);
        break;
    }
  }
  const note = responseFormatNote(request);
  if (note !== undefined) system.push(note);

  markRecentUserTurns(messages);

  const body: Record<string, unknown> = {
    model: entry.id,
    max_tokens: request.max_tokens ?? Math.min(entry.maxOutputTokens, defaultMessagesMaxTokens),
    messages,
    stream: true,
  };
  if (system.length > 0)
    body['system'] = [{ type: 'text', text: system.join('\n\n'), cache_control: ephemeral }];
  if (request.tools !== undefined && request.tools.length > 0) {
    const tools: Block[] = request.tools.map((tool) => ({
      name: tool.function.name,
      ...(tool.function.description === undefined
        ? {}
        : { description: tool.function.description }),
      input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
    }));
    markLast(tools);
    body['tools'] = tools;
    if (request.tool_choice !== undefined)
      body['tool_choice'] = mapToolChoice(request.tool_choice, request.parallel_tool_calls);
    else if (request.parallel_tool_calls === false)
      body['tool_choice'] = mapToolChoice('auto', false);
  }
  const temperature = entry.fixedTemperature ?? request.temperature;
  if (temperature !== undefined) body['temperature'] = temperature;
  if (request.top_p !== undefined) body['top_p'] = request.top_p;
  return body;
}
