/**
 * The one catalogue of error codes the bridge can return. Every code here has a section in
 * docs/errors.md (tests/errors-catalogue.test.ts keeps the two in step).
 *
 * `status` is the HTTP status when the error is answered as a plain JSON error.
 * `failedCode` is the `response.error.code` used when the same error ends an SSE stream that has
 * already started; Codex 0.169 only acts on a few codes (wire-protocol.md §3.5), so upstream
 * failures map onto those.
 */
export interface ErrorSpec {
  readonly status: number;
  readonly type:
    | 'invalid_request_error'
    | 'authentication_error'
    | 'permission_error'
    | 'not_found_error'
    | 'rate_limit_error'
    | 'server_error'
    | 'upstream_error'
    | 'mission_error';
  readonly failedCode: string;
  readonly retryable: boolean;
  readonly summary: string;
}

export const errorCatalogue = {
  // --- HTTP surface -------------------------------------------------------------------------
  invalid_api_key: {
    status: 401,
    type: 'authentication_error',
    failedCode: 'invalid_api_key',
    retryable: false,
    summary: 'The Authorization header is missing or does not carry the bridge key.',
  },
  forbidden_host: {
    status: 403,
    type: 'permission_error',
    failedCode: 'forbidden_host',
    retryable: false,
    summary: 'The Host header is not a loopback name (DNS-rebinding protection).',
  },
  route_not_found: {
    status: 404,
    type: 'not_found_error',
    failedCode: 'route_not_found',
    retryable: false,
    summary: 'No route answers this method and path.',
  },
  invalid_json: {
    status: 400,
    type: 'invalid_request_error',
    failedCode: 'invalid_json',
    retryable: false,
    summary: 'The request body is not valid JSON.',
  },
  unsupported_media_type: {
    status: 415,
    type: 'invalid_request_error',
    failedCode: 'unsupported_media_type',
    retryable: false,
    summary: 'The request body is not application/json.',
  },
  request_too_large: {
    status: 413,
    type: 'invalid_request_error',
    failedCode: 'request_too_large',
    retryable: false,
    summary: 'The request body is larger than BODY_LIMIT_BYTES.',
  },
  request_timeout: {
    status: 408,
    type: 'invalid_request_error',
    failedCode: 'request_timeout',
    retryable: true,
    summary: 'The request headers or body did not arrive in time; the connection is closed.',
  },
  uri_too_long: {
    status: 414,
    type: 'invalid_request_error',
    failedCode: 'uri_too_long',
    retryable: false,
    summary: 'A path segment of the URL is longer than the router accepts.',
  },
  headers_too_large: {
    status: 431,
    type: 'invalid_request_error',
    failedCode: 'headers_too_large',
    retryable: false,
    summary: 'The request headers are larger than the limit; the connection is closed.',
  },
  invalid_request: {
    status: 400,
    type: 'invalid_request_error',
    failedCode: 'invalid_request',
    retryable: false,
    summary: 'The request does not match the Responses API schema; `param` names the field.',
  },
  unsupported_parameter: {
    status: 400,
    type: 'invalid_request_error',
    failedCode: 'unsupported_parameter',
    retryable: false,
    summary:
      'The request uses a feature the bridge cannot honour (for example a file_id-only image).',
  },
  previous_response_not_found: {
    status: 400,
    type: 'invalid_request_error',
    failedCode: 'previous_response_not_found',
    retryable: false,
    summary:
      'previous_response_id names a response the store does not hold (store:false, expired or deleted).',
  },
  item_not_found: {
    status: 400,
    type: 'invalid_request_error',
    failedCode: 'item_not_found',
    retryable: false,
    summary:
      'An item_reference names an item the store does not hold (store:false, expired or deleted).',
  },
  response_not_found: {
    status: 404,
    type: 'not_found_error',
    failedCode: 'response_not_found',
    retryable: false,
    summary: 'GET or DELETE /v1/responses/:id for a response the store does not hold.',
  },
  model_not_found: {
    status: 404,
    type: 'invalid_request_error',
    failedCode: 'model_not_found',
    retryable: false,
    summary: 'The model name is neither a bridge alias nor an id the upstream serves.',
  },
  unsupported_bridge_model: {
    status: 400,
    type: 'invalid_request_error',
    failedCode: 'unsupported_bridge_model',
    retryable: false,
    summary: 'A gpt-* model was sent while GPT_MODEL_STRATEGY=error.',
  },
  openai_key_missing: {
    status: 500,
    type: 'server_error',
    failedCode: 'server_error',
    retryable: false,
    summary: 'GPT_MODEL_STRATEGY=openai but OPENAI_API_KEY is not set.',
  },
  server_shutting_down: {
    status: 503,
    type: 'server_error',
    failedCode: 'server_error',
    retryable: true,
    summary: 'The daemon is draining after SIGTERM and accepts no new work.',
  },
  internal_error: {
    status: 500,
    type: 'server_error',
    failedCode: 'server_error',
    retryable: false,
    summary: 'A bug in the bridge. The log line with the same request id has the stack.',
  },

  // --- Upstream -----------------------------------------------------------------------------
  rate_limit_exceeded: {
    status: 429,
    type: 'rate_limit_error',
    failedCode: 'rate_limit_exceeded',
    retryable: true,
    summary: 'The upstream answered 429 after the bridge exhausted its retries.',
  },
  concurrency_queue_full: {
    status: 429,
    type: 'rate_limit_error',
    failedCode: 'rate_limit_exceeded',
    retryable: true,
    summary: 'Every upstream slot is busy and the wait queue is full, or the wait timed out.',
  },
  context_length_exceeded: {
    status: 400,
    type: 'invalid_request_error',
    failedCode: 'context_length_exceeded',
    retryable: false,
    summary: "The conversation no longer fits the model's context window.",
  },
  insufficient_quota: {
    status: 429,
    type: 'rate_limit_error',
    failedCode: 'insufficient_quota',
    retryable: false,
    summary: 'The upstream account is out of credit or over its usage window.',
  },
  subscription_limit_reached: {
    status: 429,
    type: 'rate_limit_error',
    failedCode: 'invalid_prompt',
    retryable: false,
    summary:
      'OpenCode Go answered SubscriptionUsageLimitError: a plan window (5 hours, week, month) is used up until it resets.',
  },
  upstream_auth_failed: {
    status: 502,
    type: 'upstream_error',
    failedCode: 'server_error',
    retryable: false,
    summary: 'The upstream rejected the bridge key (check OPENCODE_GO_API_KEY).',
  },
  upstream_bad_request: {
    status: 400,
    type: 'invalid_request_error',
    failedCode: 'invalid_prompt',
    retryable: false,
    summary: 'The upstream refused the translated request; its message is passed on.',
  },
  upstream_timeout: {
    status: 504,
    type: 'upstream_error',
    failedCode: 'server_error',
    retryable: true,
    summary: 'The upstream sent no first byte, or went idle, past its deadline.',
  },
  upstream_error: {
    status: 502,
    type: 'upstream_error',
    failedCode: 'server_error',
    retryable: true,
    summary: 'The upstream failed (5xx, reset connection or malformed stream) after retries.',
  },
  upstream_unavailable: {
    status: 503,
    type: 'upstream_error',
    failedCode: 'server_is_overloaded',
    retryable: true,
    summary: "The model's circuit breaker is open and no fallback could take the request.",
  },

  // --- Missions -----------------------------------------------------------------------------
  missing_handoff: {
    status: 400,
    type: 'mission_error',
    failedCode: 'invalid_prompt',
    retryable: false,
    summary: 'A mission alias was used but the user input holds no <OSS_HANDOFF_JSON> block.',
  },
  multiple_handoff_blocks: {
    status: 400,
    type: 'mission_error',
    failedCode: 'invalid_prompt',
    retryable: false,
    summary: 'The user input holds more than one <OSS_HANDOFF_JSON> block.',
  },
  malformed_handoff_json: {
    status: 400,
    type: 'mission_error',
    failedCode: 'invalid_prompt',
    retryable: false,
    summary: 'The <OSS_HANDOFF_JSON> block is not valid JSON.',
  },
  invalid_mission: {
    status: 400,
    type: 'mission_error',
    failedCode: 'invalid_prompt',
    retryable: false,
    summary: 'The MissionV1 block breaks a schema rule; the message names the field and why.',
  },
  model_admission_failed: {
    status: 400,
    type: 'mission_error',
    failedCode: 'invalid_prompt',
    retryable: false,
    summary:
      'The mission cannot run on the requested model (unknown alias, forbidden route, downgrade).',
  },
  continuation_not_found: {
    status: 404,
    type: 'mission_error',
    failedCode: 'invalid_prompt',
    retryable: false,
    summary: 'The mission a continuation names has no run in this project.',
  },
  continuation_refused: {
    status: 409,
    type: 'mission_error',
    failedCode: 'invalid_prompt',
    retryable: false,
    summary:
      'The earlier run cannot be continued: still running, rejected, unverifiable, or outside its scope.',
  },
  mission_id_conflict: {
    status: 409,
    type: 'mission_error',
    failedCode: 'invalid_prompt',
    retryable: false,
    summary: 'The mission_id already ran in this project with a different handoff.',
  },
  plan_window_exhausted: {
    status: 429,
    type: 'mission_error',
    failedCode: 'invalid_prompt',
    retryable: false,
    summary:
      "The mission's max_cost_usd is more than what is left in an OpenCode Go plan window; refused before it starts.",
  },
  mission_queue_full: {
    status: 429,
    type: 'rate_limit_error',
    failedCode: 'rate_limit_exceeded',
    retryable: true,
    summary: "Every mission slot of the mission's lane is busy and its queue is full or timed out.",
  },
  run_log_unwritable: {
    status: 507,
    type: 'server_error',
    failedCode: 'invalid_prompt',
    retryable: false,
    summary:
      "A new run's event log could not be created or take its first line (a full disk, no permission, or .codex-oss/runs/ is not a directory); nothing ran and nothing was kept.",
  },
  mission_not_found: {
    status: 404,
    type: 'not_found_error',
    failedCode: 'mission_not_found',
    retryable: false,
    summary: 'No run or mission with that id exists under this project.',
  },
  // --- Delegation (MCP tools, `codex-oss delegate`) -------------------------------------------
  delegation_refused: {
    status: 403,
    type: 'permission_error',
    failedCode: 'delegation_refused',
    retryable: false,
    summary:
      'The delegation asks for something the runtime never grants (permission "unlimited"): no model gets unrestricted access.',
  },
  delegation_path_refused: {
    status: 400,
    type: 'invalid_request_error',
    failedCode: 'delegation_path_refused',
    retryable: false,
    summary:
      'A workspace, context path, file or handoff file lies outside the project or workspace, escapes through a symlink, uses "..", holds a NUL byte or is on the deny list.',
  },
  delegation_invalid: {
    status: 400,
    type: 'invalid_request_error',
    failedCode: 'delegation_invalid',
    retryable: false,
    summary:
      'The delegation request cannot become a mission (for example workspace-write without a path to own, or a mission id already in use here); the message says what to change.',
  },
  // --- Implementation lane (A4–A6) ----------------------------------------------------------
  isolation_failed: {
    status: 500,
    type: 'mission_error',
    failedCode: 'server_error',
    retryable: false,
    summary:
      'The isolated worktree or copy for an implementation mission could not be created or is refused.',
  },
  // --- Promotion (A5/A6 patches into the main workspace) -------------------------------------
  promotion_refused: {
    status: 409,
    type: 'mission_error',
    failedCode: 'promotion_refused',
    retryable: false,
    summary:
      'The run cannot be promoted: its status is not VERIFIED or APPLIED_UNVERIFIED, or the patch names a path the runtime never writes.',
  },
  promotion_confirmation_required: {
    status: 400,
    type: 'mission_error',
    failedCode: 'promotion_confirmation_required',
    retryable: false,
    summary:
      'The promotion needs an explicit flag: --accept-unverified for APPLIED_UNVERIFIED, --confirm-critical for A6.',
  },
  promotion_target_changed: {
    status: 409,
    type: 'mission_error',
    failedCode: 'promotion_target_changed',
    retryable: false,
    summary:
      'A file the patch (or the revert) changes is no longer what it was; the message names the files. Nothing was written.',
  },
  promotion_already_applied: {
    status: 409,
    type: 'mission_error',
    failedCode: 'promotion_already_applied',
    retryable: false,
    summary: "The mission's patch is already promoted (and not reverted since).",
  },
  promotion_not_found: {
    status: 404,
    type: 'not_found_error',
    failedCode: 'promotion_not_found',
    retryable: false,
    summary: 'There is no promotion of this mission to revert.',
  },
  promotion_patch_mismatch: {
    status: 409,
    type: 'mission_error',
    failedCode: 'promotion_patch_mismatch',
    retryable: false,
    summary:
      "The diff does not match the run's recorded files or hashes (or the promotion it should revert).",
  },
  promotion_apply_failed: {
    status: 500,
    type: 'server_error',
    failedCode: 'server_error',
    retryable: false,
    summary:
      'Writing the promoted files, or recording them in the promotion log, failed; every file already written was restored, so nothing changed.',
  },
  promotion_unrecorded: {
    status: 500,
    type: 'server_error',
    failedCode: 'server_error',
    retryable: false,
    summary:
      'The files were written but the promotion log could not record it, and undoing the write failed too; the named files are as the patch left them.',
  },
  promotion_locked: {
    status: 409,
    type: 'mission_error',
    failedCode: 'promotion_locked',
    retryable: true,
    summary: 'Another promotion of this project is in progress.',
  },
  promotion_log_corrupt: {
    status: 500,
    type: 'server_error',
    failedCode: 'server_error',
    retryable: false,
    summary:
      'The promotion log fails its hash-chain check; no promotion runs until it is repaired.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalogue;

export const errorCodes = Object.keys(errorCatalogue) as ErrorCode[];
