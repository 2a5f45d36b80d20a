import type { z } from 'zod';
import { BridgeError } from '../errors/index.js';
import {
  itemSchemaFor,
  responsesRequestSchema,
  toolSchemaFor,
  type InputItem,
  type RequestTool,
  type ResponsesRequest,
} from './responses-request-schema.js';

/**
 * Validates a parsed JSON body as a Responses request. Errors name the exact field
 * (`input[3].call_id`) in both the message and `param`, so a client author can fix them.
 */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BridgeError('invalid_request', 'The request body must be a JSON object.');
  }
  const top = responsesRequestSchema.safeParse(body);
  if (!top.success) throw fromZod(top.error, []);

  const input = top.data.input;
  if (Array.isArray(input) && input.length === 0 && !top.data.instructions) {
    // An upstream would reject an empty conversation with a vaguer message; say it here.
    throw new BridgeError(
      'invalid_request',
      'input: the conversation is empty; send at least one message.',
      { param: 'input' },
    );
  }
  const items: InputItem[] | string =
    typeof input === 'string' ? input : input.map((item, index) => parseItem(item, index));
  const tools = top.data.tools?.map((tool, index) => {
    const parsed = toolSchemaFor(tool).safeParse(tool);
    if (!parsed.success) throw fromZod(parsed.error, ['tools', index]);
    return parsed.data as RequestTool;
  });
  return { ...top.data, input: items, tools };
}

/** One input item, validated by its own type's schema; errors name `input[index]`. */
export function parseItem(item: unknown, index: number): InputItem {
  const schema = itemSchemaFor(item);
  if (!schema) {
    const type =
      item !== null && typeof item === 'object' ? (item as { type?: unknown }).type : undefined;
    const what =
      type === undefined ? 'an item with neither type nor role' : `type ${JSON.stringify(type)}`;
    throw new BridgeError(
      'invalid_request',
      `input[${index}]: unsupported input item (${what}); expected message, function_call, function_call_output, custom_tool_call, custom_tool_call_output or reasoning.`,
      { param: `input[${index}]` },
    );
  }
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw fromZod(parsed.error, ['input', index]);
  return parsed.data as InputItem;
}

function fromZod(error: z.ZodError, prefix: readonly (string | number)[]): BridgeError {
  const issue = error.issues[0];
  const path = [...prefix, ...(issue?.path ?? [])] as (string | number | symbol)[];
  const param = formatPath(path);
  const message = issue?.message ?? 'invalid value';
  return new BridgeError('invalid_request', `${param || 'body'}: ${message}`, {
    param: param || null,
  });
}

function formatPath(path: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}
