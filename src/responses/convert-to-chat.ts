import type {
  ChatContentPart,
  ChatMessage,
  ChatRequest,
  ChatResponseFormat,
  ChatTool,
  ChatToolCall,
  ChatToolChoice,
} from '../upstream/index.js';
import { decodeCarriedReasoning } from './reasoning-carrier.js';
import type {
  ContentPart,
  CustomTool,
  FunctionTool,
  RequestTool,
  ResponsesRequest,
} from './responses-request-schema.js';
import { ToolNameMap } from './tool-name-map.js';

export interface ChatConversion {
  readonly request: ChatRequest;
  readonly toolNames: ToolNameMap;
  /** Hosted tools (web_search…) a chat upstream cannot run; logged, never sent. */
  readonly droppedTools: readonly string[];
}

type MutableAssistant = {
  role: 'assistant';
  content: string | null;
  tool_calls?: ChatToolCall[];
  reasoning_content?: string;
  reasoning_signature?: string;
};

/**
 * Translates a Responses request into a Chat Completions request (wire-protocol.md §6.1).
 * Pure: the same request always gives the same result, which is what lets history from an
 * earlier turn line up with this turn's tools without server-side state.
 */
export function convertToChat(request: ResponsesRequest): ChatConversion {
  const toolNames = new ToolNameMap();
  const { tools, dropped } = convertTools(request.tools ?? [], toolNames);
  const messages = convertInput(request, toolNames);

  const chat: ChatRequest = {
    messages,
    ...(tools.length > 0 ? { tools } : {}),
    ...optional(
      'tool_choice',
      tools.length > 0 ? convertToolChoice(request.tool_choice, toolNames) : undefined,
    ),
    ...optional(
      'parallel_tool_calls',
      tools.length > 0 ? (request.parallel_tool_calls ?? undefined) : undefined,
    ),
    ...optional('reasoning_effort', reasoningEffort(request)),
    ...optional('response_format', convertTextFormat(request)),
    ...optional('max_tokens', request.max_output_tokens ?? undefined),
    ...optional('temperature', request.temperature ?? undefined),
    ...optional('top_p', request.top_p ?? undefined),
  };
  return { request: chat, toolNames, droppedTools: dropped };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

function convertTools(
  tools: readonly RequestTool[],
  names: ToolNameMap,
): { tools: ChatTool[]; dropped: string[] } {
  const out: ChatTool[] = [];
  const dropped: string[] = [];
  const add = (tool: FunctionTool | CustomTool, namespace?: string) => {
    if (tool.type === 'function') {
      const name = names.register({
        name: tool.name,
        kind: 'function',
        ...(namespace ? { namespace } : {}),
      });
      out.push({
        type: 'function',
        function: {
          name,
          ...(tool.description ? { description: tool.description } : {}),
          parameters: tool.parameters ?? { type: 'object', properties: {} },
          ...(tool.strict === true ? { strict: true } : {}),
        },
      });
      return;
    }
    // A freeform tool (Codex's apply_patch, exec with a grammar) becomes a function with one
    // string argument; the answer goes back as a custom_tool_call (litellm PR #31571's lesson).
    const name = names.register({
      name: tool.name,
      kind: 'custom',
      ...(namespace ? { namespace } : {}),
    });
    out.push({
      type: 'function',
      function: {
        name,
        description: customToolDescription(tool),
        parameters: {
          type: 'object',
          properties: {
            input: { type: 'string', description: 'The complete raw input for this tool.' },
          },
          required: ['input'],
          additionalProperties: false,
        },
      },
    });
  };
  for (const tool of tools) {
    if (tool.type === 'function' || tool.type === 'custom') add(tool as FunctionTool | CustomTool);
    else if (tool.type === 'namespace' && Array.isArray((tool as { tools?: unknown }).tools)) {
      const namespace = tool as { name: string; tools: (FunctionTool | CustomTool)[] };
      for (const member of namespace.tools) add(member, namespace.name);
    } else dropped.push(tool.type);
  }
  return { tools: out, dropped };
}

function customToolDescription(tool: CustomTool): string {
  const base = tool.description ?? `Freeform tool ${tool.name}.`;
  const format = tool.format as { type?: string; syntax?: string; definition?: string } | undefined;
  if (format?.type === 'grammar' && typeof format.definition === 'string') {
    return `${base}\nPut the whole input in the "input" string. It must match this ${format.syntax ?? ''} grammar:\n${format.definition}`;
  }
  return `${base}\nPut the whole input in the "input" string.`;
}

function convertToolChoice(
  choice: ResponsesRequest['tool_choice'],
  names: ToolNameMap,
): ChatToolChoice | undefined {
  if (choice === null || choice === undefined) return undefined;
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (typeof choice === 'string') return undefined;
  const named = choice as { type: string; name?: string; mode?: string };
  if ((named.type === 'function' || named.type === 'custom') && named.name) {
    const kind = named.type === 'custom' ? 'custom' : 'function';
    return { type: 'function', function: { name: names.toUpstream(named.name, undefined, kind) } };
  }
  if (named.type === 'allowed_tools') return named.mode === 'required' ? 'required' : 'auto';
  return undefined;
}

function reasoningEffort(request: ResponsesRequest): string | undefined {
  const effort = request.reasoning?.effort;
  return effort && effort !== 'none' ? effort : undefined;
}

function convertTextFormat(request: ResponsesRequest): ChatResponseFormat | undefined {
  const format = request.text?.format;
  if (!format) return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    const schema = format as {
      name: string;
      schema: Record<string, unknown>;
      strict?: boolean | null;
      description?: string | null;
    };
    return {
      type: 'json_schema',
      json_schema: {
        name: schema.name,
        schema: schema.schema,
        ...(schema.strict != null ? { strict: schema.strict } : {}),
        ...(schema.description ? { description: schema.description } : {}),
      },
    };
  }
  return undefined;
}

function convertInput(request: ResponsesRequest, names: ToolNameMap): ChatMessage[] {
  const messages: (ChatMessage | MutableAssistant)[] = [];
  if (request.instructions) messages.push({ role: 'system', content: request.instructions });
  if (typeof request.input === 'string') {
    messages.push({ role: 'user', content: request.input });
    return mergeLeadingSystem(messages);
  }

  let pendingReasoning: string | undefined;
  let pendingSignature: string | undefined;
  /** The assistant message the current turn's function calls attach to. */
  let openAssistant: MutableAssistant | undefined;
  const startAssistant = (content: string | null): MutableAssistant => {
    const message: MutableAssistant = { role: 'assistant', content };
    if (pendingReasoning !== undefined) message.reasoning_content = pendingReasoning;
    if (pendingSignature !== undefined) message.reasoning_signature = pendingSignature;
    pendingReasoning = undefined;
    pendingSignature = undefined;
    messages.push(message);
    openAssistant = message;
    return message;
  };

  for (const item of request.input) {
    const type: string = 'type' in item && item.type ? item.type : 'message';
    switch (type) {
      case 'message': {
        const message = item as { role: string; content: string | ContentPart[] };
        if (message.role === 'assistant') {
          const text = textOf(message.content);
          if (
            openAssistant &&
            openAssistant.tool_calls === undefined &&
            pendingReasoning === undefined
          ) {
            openAssistant.content = joinText(openAssistant.content, text);
          } else startAssistant(text);
          break;
        }
        openAssistant = undefined;
        if (message.role === 'system' || message.role === 'developer') {
          messages.push({ role: 'system', content: textOf(message.content) });
        } else {
          messages.push({ role: 'user', content: userContent(message.content) });
        }
        break;
      }
      case 'reasoning': {
        const reasoning = item as {
          encrypted_content?: string | null;
          content?: { text: string }[] | null;
          summary?: { text: string }[] | null;
        };
        const carried = decodeCarriedReasoning(reasoning.encrypted_content);
        if (carried?.signature !== undefined) pendingSignature = carried.signature;
        const text =
          carried?.text ??
          (reasoning.content?.length
            ? reasoning.content.map((part) => part.text).join('')
            : undefined) ??
          (reasoning.summary?.length
            ? reasoning.summary.map((part) => part.text).join('\n\n')
            : undefined);
        if (text !== undefined) pendingReasoning = (pendingReasoning ?? '') + text;
        if (openAssistant?.tool_calls !== undefined) openAssistant = undefined;
        break;
      }
      case 'function_call':
      case 'custom_tool_call': {
        const call = item as {
          call_id: string;
          name: string;
          namespace?: string | null;
          arguments?: string;
          input?: string;
        };
        const kind = type === 'custom_tool_call' ? 'custom' : 'function';
        const toolCall: ChatToolCall = {
          id: call.call_id,
          type: 'function',
          function: {
            name: names.toUpstream(call.name, call.namespace ?? undefined, kind),
            arguments:
              kind === 'custom'
                ? JSON.stringify({ input: call.input ?? '' })
                : (call.arguments ?? ''),
          },
        };
        const target =
          openAssistant && pendingReasoning === undefined ? openAssistant : startAssistant(null);
        (target.tool_calls ??= []).push(toolCall);
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const output = item as { call_id: string; output: string | ContentPart[] };
        openAssistant = undefined;
        messages.push({
          role: 'tool',
          tool_call_id: output.call_id,
          content: toolOutputText(output.output),
        });
        break;
      }
      default:
        break;
    }
  }
  return mergeLeadingSystem(repairToolPairs(messages));
}

/**
 * Upstreams reject a tool message without a matching call and an assistant call left without an
 * answer (an interrupted turn). Repair both instead of failing the user's whole conversation.
 */
function repairToolPairs(messages: (ChatMessage | MutableAssistant)[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let awaiting = new Set<string>();
  const closeAwaiting = () => {
    for (const id of awaiting) {
      out.push({
        role: 'tool',
        tool_call_id: id,
        content: '[no output: this call was interrupted before it returned]',
      });
    }
    awaiting = new Set();
  };
  for (const message of messages) {
    if (message.role === 'tool') {
      if (awaiting.delete(message.tool_call_id)) out.push(message);
      else
        out.push({
          role: 'user',
          content: `[output of tool call ${message.tool_call_id}]\n${message.content}`,
        });
      continue;
    }
    closeAwaiting();
    out.push(message);
    if (message.role === 'assistant' && message.tool_calls) {
      awaiting = new Set(message.tool_calls.map((call) => call.id));
    }
  }
  closeAwaiting();
  return out;
}

function mergeLeadingSystem(messages: ChatMessage[]): ChatMessage[] {
  let index = 0;
  const parts: string[] = [];
  while (index < messages.length && messages[index]?.role === 'system') {
    parts.push((messages[index] as { content: string }).content);
    index += 1;
  }
  if (parts.length <= 1) return messages;
  return [{ role: 'system', content: parts.join('\n\n') }, ...messages.slice(index)];
}

function joinText(existing: string | null, next: string): string {
  return existing ? `${existing}\n${next}` : next;
}

function textOf(content: string | ContentPart[]): string {
  if (typeof content === 'string') return content;
  return content
    .map(partText)
    .filter((text) => text.length > 0)
    .join('\n');
}

function partText(part: ContentPart): string {
  switch (part.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      return part.text;
    case 'refusal':
      return part.refusal;
    case 'input_image':
      return '[image]';
    case 'input_file':
      return `[file ${part.filename ?? ''} omitted: chat upstreams do not accept files]`;
  }
}

function userContent(content: string | ContentPart[]): string | ChatContentPart[] {
  if (typeof content === 'string') return content;
  const hasImage = content.some((part) => part.type === 'input_image' && part.image_url);
  if (!hasImage) return textOf(content);
  return content.map((part): ChatContentPart => {
    if (part.type === 'input_image' && part.image_url) {
      return {
        type: 'image_url',
        image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) },
      };
    }
    return { type: 'text', text: partText(part) };
  });
}

function toolOutputText(output: string | ContentPart[]): string {
  if (typeof output === 'string') return output;
  // Tool messages carry text only on chat upstreams; images are named, not lost silently.
  return output.map(partText).join('\n');
}
