#!/usr/bin/env bash
# A governed A3 investigation: the bridge runs the whole mission and answers with its report.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
body=$(node -e 'process.stdout.write(JSON.stringify({model: "mission-a3-kimi", input: require("fs").readFileSync(process.argv[1], "utf8")}))' "$here/handoff-a3.md")
curl -s http://127.0.0.1:4000/v1/responses \
  -H "Authorization: Bearer ${OPENCODE_BRIDGE_KEY:-sk-local-codex-bridge}" \
  -H 'Content-Type: application/json' \
  -d "$body" | node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{const r=JSON.parse(s);console.log(r.error?JSON.stringify(r.error):r.output.filter(i=>i.type==="message").map(i=>i.content[0].text).join("\n"))})'
