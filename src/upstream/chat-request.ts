/**
 * The request every lane builds for a model call. It is shaped like OpenAI Chat Completions,
 * because that is what OpenCode Go serves for most models; the Messages adapter converts it.
 * `model` and `stream` are set by the upstream client, not by callers.
 */
export interface ChatTextPart {
  readonly type: 'text';
  readonly text: string;
}

export interface ChatImagePart {
  readonly type: 'image_url';
  readonly image_url: { readonly url: string; readonly detail?: string };
}

export type ChatContentPart = ChatTextPart | ChatImagePart;

export interface ChatToolCall {
  readonly id: string;
  readonly type: 'function';
  readonly function: { readonly name: string; readonly arguments: string };
}

export type ChatMessage =
  | { readonly role: 'system'; readonly content: string }
  | { readonly role: 'user'; readonly content: string | readonly ChatContentPart[] }
  | {
      readonly role: 'assistant';
      readonly content: string | null;
      readonly tool_calls?: readonly ChatToolCall[];
      /** DeepSeek/Kimi/GLM need this back on tool-call turns (wire-protocol.md §6.3). */
      readonly reasoning_content?: string;
      /** Anthropic thinking signature for reasoning_content; only the /messages adapter sends it. */
      readonly reasoning_signature?: string;
    }
  | { readonly role: 'tool'; readonly tool_call_id: string; readonly content: string };

export interface ChatTool {
  readonly type: 'function';
  readonly function: {
    readonly name: string;
    readonly description?: string;
    readonly parameters?: Readonly<Record<string, unknown>>;
    readonly strict?: boolean;
  };
}

export type ChatToolChoice =
  | 'auto'
  | 'none'
  | 'required'
  | { readonly type: 'function'; readonly function: { readonly name: string } };

export type ChatResponseFormat =
  | { readonly type: 'text' }
  | { readonly type: 'json_object' }
  | {
      readonly type: 'json_schema';
      readonly json_schema: {
        readonly name: string;
        readonly schema?: Readonly<Record<string, unknown>>;
        readonly strict?: boolean;
        readonly description?: string;
      };
    };

export interface ChatRequest {
  readonly messages: readonly ChatMessage[];
  readonly tools?: readonly ChatTool[];
  readonly tool_choice?: ChatToolChoice;
  readonly parallel_tool_calls?: boolean;
  readonly reasoning_effort?: string;
  readonly response_format?: ChatResponseFormat;
  readonly max_tokens?: number;
  readonly temperature?: number;
  readonly top_p?: number;
}
