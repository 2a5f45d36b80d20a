export { parseResponsesRequest } from './parse-responses-request.js';
export {
  refuseFileOnlyParts,
  resolveConversation,
  type ConversationLookup,
} from './resolve-conversation.js';
export { echoedFields } from './echo-fields.js';
export type {
  ContentPart,
  CustomTool,
  FunctionTool,
  InputItem,
  NamespaceTool,
  RequestTool,
  ResponsesRequest,
} from './responses-request-schema.js';
export { convertToChat, type ChatConversion } from './convert-to-chat.js';
export { ToolNameMap, type ToolIdentity } from './tool-name-map.js';
export { encodeReasoning, decodeReasoning } from './reasoning-carrier.js';
export {
  ResponseEmitter,
  newId,
  toResponseUsage,
  type ArgumentsWriter,
  type EmitterOptions,
  type MessageWriter,
  type OutputItem,
  type ReasoningWriter,
  type ResponseEvent,
  type ResponseEventSink,
  type ResponseUsage,
} from './response-emitter.js';
export {
  streamToEmitter,
  type StreamOutcome,
  type StreamToEmitterOptions,
} from './stream-to-emitter.js';
