export type {
  ChatContentPart,
  ChatImagePart,
  ChatMessage,
  ChatRequest,
  ChatResponseFormat,
  ChatTextPart,
  ChatTool,
  ChatToolCall,
  ChatToolChoice,
} from './chat-request.js';
export {
  emptyUsage,
  STREAM_PART_VERSION,
  type FinishReason,
  type StreamPart,
  type TokenUsage,
} from './stream-part.js';
export type {
  AttemptEvent,
  CompletedCall,
  CompletedToolCall,
  ConcurrencySnapshot,
  ModelCall,
  ModelHealth,
  UpstreamClient,
} from './upstream-client.js';
export {
  createUpstreamClient,
  defaultModelConcurrency,
  type UpstreamClientDeps,
} from './create-upstream-client.js';
export {
  passthroughToOpenAI,
  type PassthroughInput,
  type PassthroughResult,
} from './openai-passthrough.js';
export {
  ConcurrencyLimiter,
  type LimiterOptions,
  type LimiterSnapshot,
  type Release,
} from './concurrency-limiter.js';
export {
  configuredWindows,
  describeClock,
  describeWait,
  planWindows,
  subscriptionLimitError,
  windowOfLimit,
  type PlanWindowName,
} from './plan-limit.js';
