export {
  createRegistry,
  ModelRegistry,
  priceUsage,
  type GptStrategy,
  type LaneDecision,
  type MissionAlias,
  type RegistryOptions,
} from './model-registry.js';
export {
  modelTable,
  missionProfiles,
  legacyAliases,
  type EndpointFormat,
  type MissionProfile,
  type ModelEntry,
  type ModelPrice,
} from './model-table.js';
