// Public API of the implementation domain (A4–A6): isolation, staged edits, the runtime-built
// patch and its checks, verification, promotion. Other domains import only from here.
export {
  createIsolation,
  isolationFolder,
  removeStaleIsolations,
  type Isolation,
  type IsolationRequest,
} from './create-isolation.js';
export {
  planVerificationIsolation,
  runVerification,
  type CommandOutcome,
  type CommandResult,
  type EnforcedIsolation,
  type IsolationPlanRequest,
  type VerificationRequest,
  type VerificationRun,
} from './run-verification.js';
export { probeSandbox, type SandboxMechanism, type SandboxProbe } from './sandbox-probe.js';
