// Public API of the mcp domain: the stdio MCP server of PRODUCT.md §6.2 (opencode, oss_mission,
// oss_start, oss_wait, oss_cancel, oss_promote, oss_runs) over the shared bridge services.
export { createMcpServer, type McpServerHandle } from './mcp-server.js';
export { MissionBoard, type AnswerContext, type BoardEntry } from './mission-board.js';
export { serveMcpStdio, type ServeStdioOptions } from './serve-stdio.js';
export { mcpToolNames } from './tool-schemas.js';
