export { loadConfig, ConfigError, type LoadConfigOptions } from './load-config.js';
export {
  configSchema,
  DEFAULT_LOCAL_KEY,
  DEFAULT_UPSTREAM_BASE,
  type Config,
  type ConfigInput,
} from './schema.js';
