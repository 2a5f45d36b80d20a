import {
  buildPatch,
  checkPatch,
  createIsolation,
  removeStaleIsolations,
  runVerification,
  StagedWorkspace,
} from '../implementation/index.js';
import type { ImplementationKit } from '../runtime/index.js';

/** The implementation domain's parts, as the runtime's implementation loop asks for them. */
export const implementationKit: ImplementationKit = {
  createIsolation: (request) => createIsolation(request),
  createStagedWorkspace: (options) => new StagedWorkspace(options),
  buildPatch: (changes) => buildPatch(changes),
  checkPatch: (input) => checkPatch(input),
  runVerification: (request) => runVerification(request),
  removeStaleIsolations: (projectRoot, isLive) => removeStaleIsolations(projectRoot, isLive),
};
