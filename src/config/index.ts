export {
  loadConfig,
  ConfigError,
  PROJECT_ENV_FILE,
  readEnvFile,
  type LoadConfigOptions,
} from './load-config.js';
export {
  configSchema,
  DEFAULT_LOCAL_KEY,
  DEFAULT_UPSTREAM_BASE,
  type Config,
  type ConfigInput,
} from './schema.js';
export {
  computeSourceHash,
  packageRoot,
  packageVersion,
  type SourceHash,
} from './source-identity.js';
export { scrubbedChildEnv } from './child-process-env.js';
