export { runCli } from './run-cli.js';
export { commands } from './command-list.js';
export { processIO, UsageError, type CliIO, type Command, type Writer } from './cli-io.js';
