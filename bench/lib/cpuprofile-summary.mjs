#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the top functions by self time, and the
// project's own functions (dist/) by inclusive time. Usage:
//   node bench/lib/cpuprofile-summary.mjs <file-or-dir> [--top 30] [--filter dist/]

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export function summarizeProfile(profile, { top = 30, filter = ' dist/' } = {}) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map();
  const deltas = profile.timeDeltas;
  for (let index = 0; index < profile.samples.length; index += 1) {
    const id = profile.samples[index];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[index + 1] ?? 0));
  }
  const total = [...selfUs.values()].reduce((sum, value) => sum + value, 0);
  const keyOf = (node) => {
    const frame = node.callFrame;
    const url = frame.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/');
    return `${frame.functionName || '(anonymous)'} ${url}:${frame.lineNumber + 1}`;
  };
  const self = new Map();
  const inclusive = new Map();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    self.set(keyOf(node), (self.get(keyOf(node)) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets the sample once.
    const seen = new Set();
    for (let cursor = id; cursor !== undefined; cursor = parent.get(cursor)) {
      const key = keyOf(byId.get(cursor));
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const rank = (map, predicate = () => true) =>
    [...map.entries()]
      .filter(([key]) => predicate(key))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, us]) => ({
        fn: key,
        ms: Math.round(us) / 1000,
        pct: Math.round((us / total) * 1000) / 10,
      }));
  return {
    totalMs: Math.round(total) / 1000,
    topSelf: rank(self),
    projectInclusive: rank(inclusive, (key) => key.includes(filter)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '30' },
      filter: { type: 'string', default: ' dist/' },
    },
  });
  const target = positionals[0];
  if (!target) {
    console.error('usage: cpuprofile-summary.mjs <file-or-dir> [--top N] [--filter dist/]');
    process.exit(2);
  }
  const files = statSync(target).isDirectory()
    ? readdirSync(target)
        .filter((name) => name.endsWith('.cpuprofile'))
        .map((name) => join(target, name))
    : [target];
  for (const file of files) {
    const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), {
      top: Number(values.top),
      filter: values.filter,
    });
    console.log(`${file}: ${summary.totalMs} ms sampled`);
    console.log('-- top self time');
    for (const row of summary.topSelf)
      console.log(
        `${String(row.pct).padStart(5)}%  ${row.ms.toFixed(1).padStart(8)} ms  ${row.fn}`,
      );
    console.log(`-- project functions (${values.filter}) by inclusive time`);
    for (const row of summary.projectInclusive)
      console.log(
        `${String(row.pct).padStart(5)}%  ${row.ms.toFixed(1).padStart(8)} ms  ${row.fn}`,
      );
  }
}
