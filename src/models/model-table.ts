/**
 * The model registry as data. Prices are US dollars per million tokens, from the models.dev
 * `providers/opencode-go` entries (read 2026-11-21); limits and reasoning fields from the same
 * entries and reference/wire-protocol.md §5. Endpoint formats follow OpenCode Go's docs (go.mdx):
 * MiniMax and Qwen are served as Anthropic Messages, the rest as Chat Completions.
 * MODEL_MAP_JSON and FALLBACK_MODEL_MAP_JSON override or extend any row.
 */
export type EndpointFormat = 'chat' | 'messages';

export interface ModelPrice {
  readonly input: number;
  readonly cachedInput: number;
  readonly output: number;
  readonly cacheWrite?: number;
}

export interface ModelEntry {
  /** The id the upstream knows. */
  readonly id: string;
  readonly endpoint: EndpointFormat;
  /** 5 = strongest. A fallback to a lower tier needs explicit approval in a mission. */
  readonly capabilityTier: number;
  readonly contextWindow: number;
  readonly maxOutputTokens: number;
  readonly price: ModelPrice;
  /** Where the model puts its thinking in Chat Completions, and where it wants it back. */
  readonly reasoningField: 'reasoning_content' | null;
  /** Accepted `reasoning_effort` values; empty means the field is never sent. */
  readonly reasoningEfforts: readonly string[];
  readonly images: boolean;
  /** Some models reject any other temperature (Kimi K2.6 only accepts 1). */
  readonly fixedTemperature?: number;
  readonly fallbacks: readonly string[];
}

export const modelTable: readonly ModelEntry[] = [
  {
    id: 'kimi-k2.6',
    endpoint: 'chat',
    capabilityTier: 5,
    contextWindow: 262_144,
    maxOutputTokens: 65_536,
    price: { input: 0.95, cachedInput: 0.16, output: 4.0 },
    reasoningField: 'reasoning_content',
    reasoningEfforts: [],
    images: true,
    fixedTemperature: 1,
    fallbacks: ['deepseek-v4-pro', 'deepseek-v4-flash'],
  },
  {
    id: 'kimi-k2.5',
    endpoint: 'chat',
    capabilityTier: 4,
    contextWindow: 262_144,
    maxOutputTokens: 65_536,
    price: { input: 0.6, cachedInput: 0.1, output: 3.0 },
    reasoningField: 'reasoning_content',
    reasoningEfforts: [],
    images: true,
    fallbacks: ['kimi-k2.6'],
  },
  {
    id: 'kimi-k3',
    endpoint: 'chat',
    capabilityTier: 5,
    contextWindow: 1_048_576,
    maxOutputTokens: 131_072,
    price: { input: 3, cachedInput: 0.3, output: 15 },
    reasoningField: 'reasoning_content',
    reasoningEfforts: ['max'],
    images: true,
    fallbacks: ['kimi-k2.6'],
  },
  {
    id: 'deepseek-v4-pro',
    endpoint: 'chat',
    capabilityTier: 5,
    contextWindow: 1_000_000,
    maxOutputTokens: 384_000,
    price: { input: 0.435, cachedInput: 0.003625, output: 0.87 },
    reasoningField: 'reasoning_content',
    reasoningEfforts: ['low', 'medium', 'high', 'max'],
    images: false,
    fallbacks: ['kimi-k2.6', 'deepseek-v4-flash'],
  },
  {
    id: 'deepseek-v4-flash',
    endpoint: 'chat',
    capabilityTier: 3,
    contextWindow: 1_000_000,
    maxOutputTokens: 384_000,
    price: { input: 0.15, cachedInput: 0.003, output: 0.6 },
    reasoningField: 'reasoning_content',
    reasoningEfforts: ['low', 'high', 'max'],
    images: false,
    fallbacks: ['kimi-k2.6'],
  },
  {
    id: 'glm-5.2',
    endpoint: 'chat',
    capabilityTier: 5,
    contextWindow: 1_000_000,
    maxOutputTokens: 131_072,
    price: { input: 1.4, cachedInput: 0.26, output: 4.4 },
    reasoningField: 'reasoning_content',
    reasoningEfforts: ['high', 'max'],
    images: false,
    fallbacks: ['kimi-k2.6'],
  },
  {
    id: 'glm-5.1',
    endpoint: 'chat',
    capabilityTier: 5,
    contextWindow: 202_752,
    maxOutputTokens: 32_768,
    price: { input: 1.4, cachedInput: 0.26, output: 4.4 },
    reasoningField: 'reasoning_content',
    reasoningEfforts: [],
    images: false,
    fallbacks: ['glm-5.2'],
  },
  {
    id: 'qwen3.6-plus',
    endpoint: 'messages',
    capabilityTier: 5,
    contextWindow: 262_144,
    maxOutputTokens: 65_536,
    price: { input: 0.5, cachedInput: 0.05, output: 3.0, cacheWrite: 0.625 },
    reasoningField: 'reasoning_content',
    reasoningEfforts: [],
    images: true,
    fallbacks: ['kimi-k2.6'],
  },
  {
    id: 'qwen3.7-plus',
    endpoint: 'messages',
    capabilityTier: 5,
    contextWindow: 1_000_000,
    maxOutputTokens: 65_536,
    price: { input: 0.4, cachedInput: 0.04, output: 1.6, cacheWrite: 0.5 },
    reasoningField: 'reasoning_content',
    reasoningEfforts: [],
    images: true,
    fallbacks: ['kimi-k2.6'],
  },
  {
    id: 'minimax-m3',
    endpoint: 'messages',
    capabilityTier: 5,
    contextWindow: 1_000_000,
    maxOutputTokens: 131_072,
    price: { input: 0.1, cachedInput: 0.02, output: 0.4 },
    reasoningField: null,
    reasoningEfforts: [],
    images: true,
    fallbacks: ['minimax-m2.7'],
  },
  {
    id: 'minimax-m2.7',
    endpoint: 'messages',
    capabilityTier: 5,
    contextWindow: 204_800,
    maxOutputTokens: 131_072,
    price: { input: 0.3, cachedInput: 0.06, output: 1.2 },
    reasoningField: null,
    reasoningEfforts: [],
    images: false,
    fallbacks: ['kimi-k2.6'],
  },
  {
    id: 'minimax-m2.5',
    endpoint: 'messages',
    capabilityTier: 4,
    contextWindow: 204_800,
    maxOutputTokens: 131_072,
    price: { input: 0.3, cachedInput: 0.06, output: 1.2 },
    reasoningField: null,
    reasoningEfforts: [],
    images: false,
    fallbacks: ['minimax-m2.7'],
  },
];

/** Named agent aliases the original shipped; kept so existing role files keep working. */
export const legacyAliases: Readonly<Record<string, string>> = {
  oss_deepseek_pro: 'deepseek-v4-pro',
  oss_flash_support: 'deepseek-v4-flash',
  oss_kimi_rapid: 'kimi-k2.6',
};

/** Mission profiles: the model a `mission-a<N>-<profile>` alias runs on. */
export interface MissionProfile {
  readonly model: string;
  /** Fallbacks per tier (reference/original-bridge.md §3.2). */
  readonly fallbacksByTier: Readonly<Record<number, readonly string[]>>;
  /** Autonomy caps per tier: the most tools and seconds a mission on this alias may use. */
  readonly capsByTier: Readonly<
    Record<number, { readonly maxToolBudget: number; readonly maxTimeSeconds: number }>
  >;
}

export const missionProfiles: Readonly<Record<string, MissionProfile>> = {
  kimi: {
    model: 'kimi-k2.6',
    fallbacksByTier: {
      2: ['deepseek-v4-flash'],
      3: ['deepseek-v4-pro', 'deepseek-v4-flash'],
      4: ['deepseek-v4-pro', 'deepseek-v4-flash'],
      5: ['deepseek-v4-pro', 'deepseek-v4-flash'],
      6: ['deepseek-v4-pro'],
    },
    capsByTier: {
      2: { maxToolBudget: 10, maxTimeSeconds: 90 },
      3: { maxToolBudget: 14, maxTimeSeconds: 150 },
      4: { maxToolBudget: 14, maxTimeSeconds: 150 },
      5: { maxToolBudget: 14, maxTimeSeconds: 150 },
      6: { maxToolBudget: 20, maxTimeSeconds: 180 },
    },
  },
  deepseek: {
    model: 'deepseek-v4-pro',
    fallbacksByTier: {
      2: ['deepseek-v4-flash', 'kimi-k2.6'],
      3: ['kimi-k2.6', 'deepseek-v4-flash'],
      4: ['kimi-k2.6', 'deepseek-v4-flash'],
      5: ['kimi-k2.6', 'deepseek-v4-flash'],
      6: ['kimi-k2.6'],
    },
    capsByTier: {
      2: { maxToolBudget: 12, maxTimeSeconds: 120 },
      3: { maxToolBudget: 20, maxTimeSeconds: 180 },
      4: { maxToolBudget: 20, maxTimeSeconds: 180 },
      5: { maxToolBudget: 20, maxTimeSeconds: 180 },
      6: { maxToolBudget: 24, maxTimeSeconds: 180 },
    },
  },
  flash: {
    model: 'deepseek-v4-flash',
    fallbacksByTier: {
      2: ['kimi-k2.6'],
      3: ['kimi-k2.6'],
      4: ['kimi-k2.6'],
      5: ['kimi-k2.6'],
      6: ['kimi-k2.6'],
    },
    capsByTier: {
      2: { maxToolBudget: 8, maxTimeSeconds: 90 },
      3: { maxToolBudget: 8, maxTimeSeconds: 90 },
      4: { maxToolBudget: 8, maxTimeSeconds: 90 },
      5: { maxToolBudget: 8, maxTimeSeconds: 90 },
      6: { maxToolBudget: 10, maxTimeSeconds: 120 },
    },
  },
};

/** Defaults for models the table does not know (a local vLLM, Ollama, a new Go model). */
export const unknownModelDefaults: Omit<ModelEntry, 'id'> = {
  endpoint: 'chat',
  capabilityTier: 4,
  contextWindow: 131_072,
  maxOutputTokens: 32_768,
  price: { input: 0, cachedInput: 0, output: 0 },
  reasoningField: 'reasoning_content',
  reasoningEfforts: [],
  images: false,
  fallbacks: [],
};
