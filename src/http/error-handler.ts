import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BridgeError, toBridgeError, toOpenAIErrorBody } from '../errors/index.js';

/** Maps everything thrown in a route, including Fastify's own errors, onto the catalogue. */
export function toCatalogueError(error: unknown, bodyLimit: number): BridgeError {
  if (error instanceof BridgeError) return error;
  const code = (error as Partial<FastifyError>).code ?? '';
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BridgeError(
        'request_too_large',
        `The request body is larger than ${bodyLimit} bytes; raise BODY_LIMIT_BYTES to accept it.`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new BridgeError(
        'unsupported_media_type',
        'Unsupported Content-Type; send the body as JSON with "Content-Type: application/json".',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new BridgeError('invalid_json', 'The request body is empty; send a JSON object.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new BridgeError(
        'uri_too_long',
        'A path segment of the URL is longer than the router accepts; ids are short.',
      );
    case 'FST_ERR_BAD_URL':
      return new BridgeError('invalid_request', 'The URL is not valid (a bad percent-encoding).');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new BridgeError(
        'invalid_request',
        'The Content-Length header does not match the body.',
      );
    default:
      return toBridgeError(error);
  }
}

export function sendError(
  reply: FastifyReply,
  request: FastifyRequest,
  error: BridgeError,
): FastifyReply {
  if (error.code === 'internal_error')
    request.log.error({ err: error.cause ?? error }, 'internal error');
  if (error.retryAfterSeconds !== undefined)
    reply.header('retry-after', Math.ceil(error.retryAfterSeconds));
  // The openai SDK retries every 429 and 5xx unless told otherwise; a plan limit or a bug will
  // not clear in the seconds its backoff waits.
  if (!error.retryable) reply.header('x-should-retry', 'false');
  return reply.code(error.httpStatus).type('application/json').send(toOpenAIErrorBody(error));
}
