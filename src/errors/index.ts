export { errorCatalogue, errorCodes, type ErrorCode, type ErrorSpec } from './catalogue.js';
export {
  BridgeError,
  isBridgeError,
  toBridgeError,
  toOpenAIErrorBody,
  type BridgeErrorOptions,
  type OpenAIErrorBody,
} from './bridge-error.js';
