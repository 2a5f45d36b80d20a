#!/usr/bin/env bash
# A streaming Responses request through the raw lane (Responses -> Chat Completions -> Responses).
set -euo pipefail
curl -sN http://127.0.0.1:4000/v1/responses \
  -H "Authorization: Bearer ${OPENCODE_BRIDGE_KEY:-sk-local-codex-bridge}" \
  -H 'Content-Type: application/json' \
  -d '{"model": "ocg-kimi-k2.6", "stream": true, "input": "In one sentence: what is a Responses API bridge?"}'
