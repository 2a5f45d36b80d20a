import { z } from 'zod';

/**
 * The Responses API request as the bridge reads it (openai-node ResponseCreateParams; what Codex
 * 0.169 sends is in wire-protocol.md §1). Fields we act on are validated; everything else is
 * accepted and ignored, so a newer client never breaks on a field we do not use.
 */

const inputTextPart = z.object({ type: z.literal('input_text'), text: z.string() });
const outputTextPart = z.object({ type: z.literal('output_text'), text: z.string() }).loose();
const refusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });
const inputImagePart = z
  .object({
    type: z.literal('input_image'),
    image_url: z.string().nullish(),
    file_id: z.string().nullish(),
    detail: z.string().nullish(),
  })
  .loose();
const inputFilePart = z
  .object({ type: z.literal('input_file'), filename: z.string().nullish() })
  .loose();
/** Bare `{type:"text"}` parts appear in some hand-written clients. */
const plainTextPart = z.object({ type: z.literal('text'), text: z.string() });

export const contentPartSchema = z.discriminatedUnion('type', [
  inputTextPart,
  outputTextPart,
  refusalPart,
  inputImagePart,
  inputFilePart,
  plainTextPart,
]);
export type ContentPart = z.infer<typeof contentPartSchema>;

const messageItem = z
  .object({
    type: z.literal('message').optional(),
    id: z.string().nullish(),
    role: z.enum(['user', 'assistant', 'system', 'developer']),
    content: z.union([z.string(), z.array(contentPartSchema)]),
    phase: z.string().nullish(),
  })
  .loose();

const toolOutput = z.union([z.string(), z.array(contentPartSchema)]);

const functionCallItem = z
  .object({
    type: z.literal('function_call'),
    id: z.string().nullish(),
    call_id: z.string().min(1),
    name: z.string().min(1),
    arguments: z.string(),
    namespace: z.string().nullish(),
  })
  .loose();

const functionCallOutputItem = z
  .object({
    type: z.literal('function_call_output'),
    id: z.string().nullish(),
    call_id: z.string().min(1),
    output: toolOutput,
  })
  .loose();

const customToolCallItem = z
  .object({
    type: z.literal('custom_tool_call'),
    id: z.string().nullish(),
    call_id: z.string().min(1),
    name: z.string().min(1),
    input: z.string(),
    namespace: z.string().nullish(),
  })
  .loose();

const customToolCallOutputItem = z
  .object({
    type: z.literal('custom_tool_call_output'),
    id: z.string().nullish(),
    call_id: z.string().min(1),
    output: toolOutput,
  })
  .loose();

const reasoningItem = z
  .object({
    type: z.literal('reasoning'),
    id: z.string().nullish(),
    summary: z.array(z.object({ text: z.string() }).loose()).nullish(),
    content: z.array(z.object({ text: z.string() }).loose()).nullish(),
    encrypted_content: z.string().nullish(),
  })
  .loose();

/** Item kinds a chat upstream has no use for; accepted and skipped (wire-protocol.md §1.3). */
const ignoredItem = z
  .object({
    type: z.enum([
      'item_reference',
      'compaction',
      'local_shell_call',
      'local_shell_call_output',
      'web_search_call',
      'file_search_call',
      'image_generation_call',
      'additional_tools',
      'tool_search_call',
      'tool_search_output',
      'mcp_call',
      'mcp_list_tools',
      'configuration_update',
      'agent_message',
    ]),
  })
  .loose();

export type InputItem =
  | z.infer<typeof messageItem>
  | z.infer<typeof functionCallItem>
  | z.infer<typeof functionCallOutputItem>
  | z.infer<typeof customToolCallItem>
  | z.infer<typeof customToolCallOutputItem>
  | z.infer<typeof reasoningItem>
  | z.infer<typeof ignoredItem>;

const itemSchemas: Readonly<Record<string, z.ZodType>> = {
  message: messageItem,
  function_call: functionCallItem,
  function_call_output: functionCallOutputItem,
  custom_tool_call: customToolCallItem,
  custom_tool_call_output: customToolCallOutputItem,
  reasoning: reasoningItem,
};

/**
 * The schema for one input item, chosen by its `type` (a bare `{role, content}` is a message),
 * so a bad item gets an error about its own fields rather than a union's noise.
 */
export function itemSchemaFor(item: unknown): z.ZodType | undefined {
  if (item === null || typeof item !== 'object') return undefined;
  const type = (item as { type?: unknown }).type;
  if (type === undefined && 'role' in item) return messageItem;
  if (typeof type !== 'string') return undefined;
  return (
    (Object.hasOwn(itemSchemas, type) ? itemSchemas[type] : undefined) ??
    (ignoredItem.shape.type.options.includes(type as never) ? ignoredItem : undefined)
  );
}

const functionTool = z
  .object({
    type: z.literal('function'),
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  })
  .loose();

const customTool = z
  .object({
    type: z.literal('custom'),
    name: z.string().min(1),
    description: z.string().nullish(),
    format: z.unknown().optional(),
  })
  .loose();

const namespaceTool = z
  .object({
    type: z.literal('namespace'),
    name: z.string().min(1),
    description: z.string().nullish(),
    tools: z.array(z.discriminatedUnion('type', [functionTool, customTool])),
  })
  .loose();

/** web_search, file_search, code_interpreter…: hosted tools a chat upstream cannot run. */
const hostedTool = z.object({ type: z.string() }).loose();

export const toolSchema = z.union([functionTool, customTool, namespaceTool, hostedTool]);

const toolSchemas: Readonly<Record<string, z.ZodType>> = {
  function: functionTool,
  custom: customTool,
  namespace: namespaceTool,
};

/**
 * The schema for one tool, chosen by its `type`. A malformed function/custom/namespace tool must
 * fail on its own fields (`tools[0].name`) instead of passing as a "hosted" tool that the
 * translation would then treat as a function without a name.
 */
export function toolSchemaFor(tool: unknown): z.ZodType {
  const type =
    tool !== null && typeof tool === 'object' ? (tool as { type?: unknown }).type : undefined;
  return (
    (typeof type === 'string' && Object.hasOwn(toolSchemas, type)
      ? toolSchemas[type]
      : undefined) ?? hostedTool
  );
}

export type RequestTool = z.infer<typeof toolSchema>;
export type FunctionTool = z.infer<typeof functionTool>;
export type CustomTool = z.infer<typeof customTool>;
export type NamespaceTool = z.infer<typeof namespaceTool>;

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), name: z.string() }).loose(),
  z.object({ type: z.literal('custom'), name: z.string() }).loose(),
  z.object({ type: z.literal('allowed_tools'), mode: z.enum(['auto', 'required']) }).loose(),
  z.object({ type: z.string() }).loose(),
]);

const textFormat = z.union([
  z.object({ type: z.literal('text') }).loose(),
  z.object({ type: z.literal('json_object') }).loose(),
  z
    .object({
      type: z.literal('json_schema'),
      name: z.string().min(1),
      schema: z.record(z.string(), z.unknown()),
      strict: z.boolean().nullish(),
      description: z.string().nullish(),
    })
    .loose(),
]);

/**
 * Top level only; items and tools are checked one by one in parse-responses-request.ts. Unknown
 * top-level fields are dropped here (the GPT passthrough forwards the raw body, not this).
 */
export const responsesRequestSchema = z.object({
  model: z.string().min(1, 'model is required'),
  input: z.union([z.string(), z.array(z.unknown())]),
  instructions: z.string().nullish(),
  tools: z.array(z.unknown()).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  store: z.boolean().nullish(),
  previous_response_id: z.string().nullish(),
  reasoning: z
    .object({
      effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']).nullish(),
      summary: z.string().nullish(),
    })
    .loose()
    .nullish(),
  text: z.object({ format: textFormat.nullish() }).loose().nullish(),
  include: z.array(z.string()).nullish(),
  prompt_cache_key: z.string().nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  user: z.string().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  service_tier: z.string().nullish(),
});

export type ResponsesRequest = Omit<z.infer<typeof responsesRequestSchema>, 'input' | 'tools'> & {
  input: string | InputItem[];
  tools?: RequestTool[] | null | undefined;
};
