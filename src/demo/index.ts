export { DEFAULT_MOCK_MODELS, startMockUpstream, zenErrorBody } from './mock-upstream.js';
export {
  reply,
  ReplyBuilder,
  type MockFinishReason,
  type ReplyFailure,
  type ReplySpec,
  type RequestPredicate,
  type ScriptedToolCall,
  type StatusOptions,
  type ToolCallOptions,
  type UsageSpec,
} from './mock-reply.js';
export type {
  MockUpstream,
  MockUpstreamOptions,
  RecordedRequest,
  Responder,
} from './mock-types.js';
export {
  conversation,
  lastTurn,
  lastUserText,
  toolNames,
  toolResults,
  type ConversationTurn,
  type ToolResult,
  type TurnRole,
  type TurnToolCall,
} from './mock-request.js';
export { demoResponder } from './mock-demo-responder.js';
export { investigatorResponse } from './investigator-responder.js';
export {
  DEMO_A3_OBJECTIVE,
  DEMO_A5_OBJECTIVE,
  DEMO_A5_TARGET,
  DEMO_A5_TEST,
  prepareDemoProject,
} from './demo-project.js';
