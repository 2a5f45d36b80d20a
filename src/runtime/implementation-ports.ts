/**
 * What the implementation loop needs from the implementation domain (isolation, staged edits,
 * the runtime-built patch and its checks, verification). The runtime names these ports and the
 * composition root hands it the implementation domain's functions, so the runtime never imports
 * that domain (which itself uses the runtime's path scope and redaction).
 */

export interface IsolationPort {
  readonly root: string;
  /** Where the project root lies inside the isolation (below `root` when the repo is larger). */
  readonly projectDir: string;
  readonly kind: 'git_worktree' | 'copy';
  readonly baseCommit: string | null;
  readonly carried: readonly string[];
  readonly notes: readonly string[];
  remove(): Promise<void>;
}

export interface FileChangePort {
  readonly path: string;
  readonly change: 'add' | 'modify' | 'delete';
  readonly base: Buffer | null;
  readonly current: Buffer | null;
  readonly base_sha256: string | null;
  readonly new_sha256: string | null;
}

export type EditResultPort =
  | {
      readonly ok: true;
      readonly path: string;
      readonly message: string;
      readonly added: number;
      readonly removed: number;
    }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly closest?: string;
    };

export interface StagedWorkspacePort {
  edit(
    path: string,
    oldString: string,
    newString: string,
    replaceAll?: boolean,
  ): Promise<EditResultPort>;
  write(path: string, content: string): Promise<EditResultPort>;
  delete(path: string): Promise<EditResultPort>;
  changes(): readonly FileChangePort[];
}

export interface PatchFilePort {
  readonly path: string;
  readonly change: 'add' | 'modify' | 'delete';
  readonly added_lines: number;
  readonly removed_lines: number;
  readonly base_sha256: string | null;
  readonly new_sha256: string | null;
  readonly whole_file_rewrite: boolean;
}

export interface BuiltPatchPort {
  readonly diff: string;
  readonly rollback: string;
  readonly files: readonly PatchFilePort[];
  readonly bytes: number;
}

export interface PatchCheckPort {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string | undefined;
}

export interface PatchFlagPort {
  readonly code: string;
  readonly path?: string | undefined;
  readonly detail?: string | undefined;
}

export interface PatchVerdictPort {
  readonly status: 'VALID' | 'INVALID' | 'ESCALATE';
  readonly checks: readonly PatchCheckPort[];
  readonly flags: readonly PatchFlagPort[];
  readonly reasons: readonly string[];
  readonly repairable: boolean;
}

export interface CommandResultPort {
  readonly command: readonly string[];
  readonly exit_code: number | null;
  readonly outcome: string;
  readonly duration_ms: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
}

export interface VerificationPort {
  readonly results: readonly CommandResultPort[];
  readonly isolation: unknown;
  readonly passed: boolean;
}

export interface ImplementationKit {
  createIsolation(request: {
    projectRoot: string;
    runId: string;
    scopePaths: readonly string[];
    keep?: boolean;
    linkedPaths?: readonly string[];
  }): Promise<IsolationPort>;
  createStagedWorkspace(options: {
    root: string;
    ownedPaths: readonly string[];
    allowDeletions: boolean;
    criticalRoots: readonly string[];
    criticalWriteAllowed: boolean;
  }): StagedWorkspacePort;
  buildPatch(changes: readonly FileChangePort[]): BuiltPatchPort;
  checkPatch(input: {
    patch: BuiltPatchPort;
    mission: {
      owned_paths: readonly string[];
      max_files_changed: number;
      max_patch_bytes: number;
      allow_deletions: boolean;
      critical_path_write_allowed: boolean;
      critical_path_reason: string | null;
    };
    baseRoot: string;
    criticalRoots: readonly string[];
  }): Promise<PatchVerdictPort>;
  runVerification(request: {
    cwd: string;
    /** The main workspace the sandbox protects. */
    projectRoot: string;
    commands: readonly (readonly string[])[];
    timeoutSeconds: number;
    networkAllowed: boolean;
    signal?: AbortSignal;
  }): Promise<VerificationPort>;
  removeStaleIsolations(projectRoot: string, isLive: (runId: string) => boolean): Promise<string[]>;
}
