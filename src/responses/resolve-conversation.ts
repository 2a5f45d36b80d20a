import { BridgeError } from '../errors/index.js';
import { parseItem } from './parse-responses-request.js';
import type { ContentPart, InputItem, ResponsesRequest } from './responses-request-schema.js';

/** What the conversation state can answer; the store domain provides it, tests may fake it. */
export interface ConversationLookup {
  /** A live stored response: the conversation it answered and its output items. */
  response(id: string): { input: readonly unknown[]; output: readonly unknown[] } | null;
  /** A live stored item (input or output of any stored response). */
  item(id: string): Record<string, unknown> | null;
}

const notKeptHint =
  'it was never stored (the request that produced it had store:false, or the store is off with RESPONSE_STORE_MAX_RESPONSES=0), it expired (RESPONSE_STORE_TTL_SECONDS), or it was deleted';

/**
 * Expands `previous_response_id` and every `item_reference` into the items they stand for
 * (PRODUCT.md §2.0), so the lanes always see the whole conversation. Anything that cannot be
 * resolved is a 400 naming the id: a silently dropped reference is how context got lost before.
 * Without a store and without references the request is returned unchanged.
 */
export function resolveConversation(
  request: ResponsesRequest,
  lookup: ConversationLookup | undefined,
): ResponsesRequest {
  const current: InputItem[] =
    typeof request.input === 'string'
      ? [{ type: 'message', role: 'user', content: request.input }]
      : request.input;
  const hasReference = current.some((item) => 'type' in item && item.type === 'item_reference');
  if (!request.previous_response_id && !hasReference) return request;

  const before: InputItem[] = [];
  if (request.previous_response_id) {
    const id = request.previous_response_id;
    const previous = lookup?.response(id);
    if (!previous) {
      throw new BridgeError(
        'previous_response_not_found',
        `previous_response_id: no stored response "${id}": ${notKeptHint}. Send the whole conversation in \`input\` instead, or use an id from a response made with store:true.`,
        { param: 'previous_response_id' },
      );
    }
    [...previous.input, ...previous.output].forEach((item, index) => {
      before.push(storedItem(item, `previous response ${id}, item ${index}`));
    });
  }

  const resolved = current.map((item, index): InputItem => {
    if (!('type' in item) || item.type !== 'item_reference') return item;
    const id = (item as { id?: unknown }).id;
    if (typeof id !== 'string' || id === '') {
      throw new BridgeError(
        'invalid_request',
        `input[${index}].id: an item_reference needs the id of an earlier item.`,
        { param: `input[${index}].id` },
      );
    }
    const found = lookup?.item(id);
    if (!found) {
      throw new BridgeError(
        'item_not_found',
        `input[${index}]: item_reference "${id}" does not name a stored item: ${notKeptHint}. Send the item itself instead of a reference (store:false clients do), or reference an item of a response made with store:true.`,
        { param: `input[${index}].id` },
      );
    }
    return storedItem(found, `item ${id}`);
  });
  return { ...request, input: [...before, ...resolved] };
}

/** Items we stored were valid when we stored them; re-parse so the lanes get the same shapes. */
function storedItem(item: unknown, where: string): InputItem {
  try {
    return parseItem(item, 0);
  } catch (error) {
    throw new BridgeError(
      'internal_error',
      `Internal bridge error: the stored ${where} no longer parses (${(error as Error).message}).`,
      { cause: error },
    );
  }
}

/**
 * Chat upstreams take an image only as a URL or data URL and cannot fetch an OpenAI file id; a
 * file-only part would otherwise become a placeholder the model cannot see. Refuse it, naming
 * the part, instead of answering about a picture the model never got.
 */
export function refuseFileOnlyParts(request: ResponsesRequest): void {
  if (typeof request.input === 'string') return;
  request.input.forEach((item, index) => {
    const content =
      (item as { content?: unknown }).content ?? (item as { output?: unknown }).output;
    if (!Array.isArray(content)) return;
    (content as ContentPart[]).forEach((part, partIndex) => {
      const field = 'content' in item ? 'content' : 'output';
      const param = `input[${index}].${field}[${partIndex}]`;
      if (part.type === 'input_image' && !part.image_url) {
        throw new BridgeError(
          'unsupported_parameter',
          `${param}: this input_image has only a file_id${part.file_id ? ` (${part.file_id})` : ''}; the upstream cannot read OpenAI file ids. Send the image as image_url (an https URL or a data: URL with base64).`,
          { param: `${param}.file_id` },
        );
      }
      if (part.type === 'input_file') {
        const file = part as { file_id?: unknown; file_data?: unknown; file_url?: unknown };
        if (typeof file.file_id === 'string' && !file.file_data && !file.file_url) {
          throw new BridgeError(
            'unsupported_parameter',
            `${param}: this input_file has only a file_id (${file.file_id}); the upstream cannot read OpenAI file ids. Put the file's text in an input_text part instead.`,
            { param: `${param}.file_id` },
          );
        }
      }
    });
  });
}
