/** Exit status of the mount-namespace entry when it could not build the sandbox (the command never ran). */
export const sandboxSetupExitCode = 125;
