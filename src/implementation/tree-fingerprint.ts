import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * A stat-level fingerprint of the main workspace (path → size, mtime, ctime, mode, inode), used when the
 * machine cannot make the filesystem read-only for a verification command: comparing one taken
 * before the command with one taken after shows whether it wrote outside its worktree.
 *
 * Left out: `.codex-oss/` (the isolations themselves and the daemon's own logs, written while
 * commands run) and, inside `.git`, `objects/` and `worktrees/` (git in a linked worktree writes
 * its own index and objects there). The walk stops at `limit` entries and says so.
 */
export interface TreeFingerprint {
  readonly entries: ReadonlyMap<string, string>;
  readonly complete: boolean;
}

const skippedAtRoot = new Set(['.codex-oss']);
const skippedInGit = new Set(['objects', 'worktrees']);

export async function fingerprintTree(root: string, limit = 200_000): Promise<TreeFingerprint> {
  const entries = new Map<string, string>();
  let complete = true;
  const walk = async (rel: string, depth: number): Promise<void> => {
    let names;
    try {
      names = await readdir(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of names) {
      if (entries.size >= limit) {
        complete = false;
        return;
      }
      if (depth === 0 && skippedAtRoot.has(entry.name)) continue;
      if (rel === '.git' && skippedInGit.has(entry.name)) continue;
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      try {
        const stat = await lstat(path.join(root, child), { bigint: true });
        // ctime too: a command can put an mtime back (touch -r), never a ctime.
        entries.set(child, `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.mode}:${stat.ino}`);
      } catch {
        continue;
      }
      if (entry.isDirectory()) await walk(child, depth + 1);
    }
  };
  await walk('', 0);
  return { entries, complete };
}

/** Paths created, deleted or changed between two fingerprints (sorted). */
export function changedPaths(before: TreeFingerprint, after: TreeFingerprint): string[] {
  const changed: string[] = [];
  for (const [rel, value] of after.entries) {
    if (before.entries.get(rel) !== value) changed.push(rel);
  }
  for (const rel of before.entries.keys()) {
    if (!after.entries.has(rel)) changed.push(rel);
  }
  return changed.sort();
}
