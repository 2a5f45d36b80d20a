import type { RecordedRequest } from './mock-types.js';

/**
 * Dialect-neutral views of a recorded request, so a responder can script behaviour ("if the
 * bridge offered read_file and no tool result came back yet, call it") without caring whether
 * the request arrived as Chat Completions, Anthropic Messages or Responses.
 */

export type TurnRole = 'system' | 'user' | 'assistant' | 'tool';

export interface TurnToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export interface ConversationTurn {
  readonly role: TurnRole;
  readonly text: string;
  /** Calls the assistant made in this turn (assistant turns only). */
  readonly toolCalls: readonly TurnToolCall[];
  /** The call this turn answers (tool turns only). */
  readonly toolCallId?: string;
}

export interface ToolResult {
  readonly callId: string;
  /** Resolved from the assistant call with the same id, when the history still holds it. */
  readonly name: string | undefined;
  readonly output: string;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function records(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Text of a content value: a string, or an array of parts with `text` (any part type). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  return records(content)
    .map((part) => str(part['text']))
    .filter((text) => text !== '')
    .join('\n');
}

function jsonText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? {});
}

function requestBody(req: RecordedRequest): Json {
  return isRecord(req.body) ? req.body : {};
}

function asRole(value: unknown): TurnRole | undefined {
  switch (value) {
    case 'system':
    case 'developer':
      return 'system';
    case 'user':
    case 'assistant':
    case 'tool':
      return value;
    default:
      return undefined;
  }
}

function chatTurns(body: Json): ConversationTurn[] {
  const turns: ConversationTurn[] = [];
  for (const message of records(body['messages'])) {
    const role = asRole(message['role']);
    if (role === undefined) continue;
    const toolCalls = records(message['tool_calls']).map((call) => {
      const fn = isRecord(call['function']) ? call['function'] : {};
      return { id: str(call['id']), name: str(fn['name']), arguments: str(fn['arguments']) };
    });
    turns.push({
      role,
      text: contentText(message['content']),
      toolCalls,
      ...(role === 'tool' ? { toolCallId: str(message['tool_call_id']) } : {}),
    });
  }
  return turns;
}

function anthropicTurns(body: Json): ConversationTurn[] {
  const turns: ConversationTurn[] = [];
  const system = contentText(body['system']);
  if (system !== '') turns.push({ role: 'system', text: system, toolCalls: [] });
  for (const message of records(body['messages'])) {
    const role = asRole(message['role']);
    if (role === undefined) continue;
    const content = message['content'];
    if (typeof content === 'string') {
      turns.push({ role, text: content, toolCalls: [] });
      continue;
    }
    const blocks = records(content);
    // Anthropic carries tool results inside user messages; surface them as tool turns first.
    for (const block of blocks.filter((b) => b['type'] === 'tool_result')) {
      turns.push({
        role: 'tool',
        text: contentText(block['content']),
        toolCalls: [],
        toolCallId: str(block['tool_use_id']),
      });
    }
    const text = blocks
      .filter((b) => b['type'] === 'text')
      .map((b) => str(b['text']))
      .join('\n');
    const toolCalls = blocks
      .filter((b) => b['type'] === 'tool_use')
      .map((b) => ({ id: str(b['id']), name: str(b['name']), arguments: jsonText(b['input']) }));
    if (text !== '' || toolCalls.length > 0) turns.push({ role, text, toolCalls });
  }
  return turns;
}

function responsesTurns(body: Json): ConversationTurn[] {
  const turns: ConversationTurn[] = [];
  const instructions = str(body['instructions']);
  if (instructions !== '') turns.push({ role: 'system', text: instructions, toolCalls: [] });
  const input = body['input'];
  if (typeof input === 'string') {
    turns.push({ role: 'user', text: input, toolCalls: [] });
    return turns;
  }
  for (const item of records(input)) {
    const type = item['type'];
    if (type === 'function_call' || type === 'custom_tool_call') {
      const call = {
        id: str(item['call_id']),
        name: str(item['name']),
        arguments: type === 'function_call' ? str(item['arguments']) : str(item['input']),
      };
      const last = turns.at(-1);
      // Consecutive calls belong to one assistant turn, as they would in Chat Completions.
      if (last?.role === 'assistant')
        turns[turns.length - 1] = { ...last, toolCalls: [...last.toolCalls, call] };
      else turns.push({ role: 'assistant', text: '', toolCalls: [call] });
    } else if (type === 'function_call_output' || type === 'custom_tool_call_output') {
      turns.push({
        role: 'tool',
        text: contentText(item['output']),
        toolCalls: [],
        toolCallId: str(item['call_id']),
      });
    } else if (type === undefined || type === 'message') {
      const role = asRole(item['role']);
      if (role !== undefined)
        turns.push({ role, text: contentText(item['content']), toolCalls: [] });
    }
  }
  return turns;
}

/** The request's history as neutral turns, oldest first. */
export function conversation(req: RecordedRequest): ConversationTurn[] {
  const body = requestBody(req);
  if (req.path.endsWith('/messages')) return anthropicTurns(body);
  if (req.path.endsWith('/responses')) return responsesTurns(body);
  return chatTurns(body);
}

export function lastTurn(req: RecordedRequest): ConversationTurn | undefined {
  return conversation(req).at(-1);
}

/** Text of the most recent user turn, wherever it sits in the history. */
export function lastUserText(req: RecordedRequest): string | undefined {
  return conversation(req)
    .filter((turn) => turn.role === 'user')
    .at(-1)?.text;
}

/** Names of the tools the request offers; namespace members are listed by their own names. */
export function toolNames(req: RecordedRequest): string[] {
  const names: string[] = [];
  const collect = (tools: unknown): void => {
    for (const tool of records(tools)) {
      if (tool['type'] === 'namespace') {
        collect(tool['tools']);
      } else if (isRecord(tool['function'])) {
        names.push(str(tool['function']['name']));
      } else if (typeof tool['name'] === 'string') {
        names.push(tool['name']);
      }
    }
  };
  collect(requestBody(req)['tools']);
  return names.filter((name) => name !== '');
}

/** Every tool result in the history, oldest first. */
export function toolResults(req: RecordedRequest): ToolResult[] {
  const turns = conversation(req);
  const names = new Map<string, string>();
  for (const turn of turns) for (const call of turn.toolCalls) names.set(call.id, call.name);
  return turns
    .filter((turn) => turn.role === 'tool')
    .map((turn) => {
      const callId = turn.toolCallId ?? '';
      return { callId, name: names.get(callId), output: turn.text };
    });
}
