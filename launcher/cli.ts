// What every launcher command shares: --verbose/--quiet, the logger, and reporting a failed step.
import type { ArgsDef } from "citty";
import type { ConsolaInstance } from "consola";
import { StepError } from "../shared/errors.ts";
import { createLogger, reportStepError } from "../shared/log.ts";

export const verbosityArgs = {
  verbose: { type: "boolean", alias: "v", description: "Say more: each step, and counters" },
  quiet: { type: "boolean", alias: "q", description: "Only warnings and errors" },
} satisfies ArgsDef;

export function loggerFor(args: { verbose?: boolean; quiet?: boolean }): ConsolaInstance {
  return createLogger("tap-launcher", args.verbose === true ? "verbose" : args.quiet === true ? "quiet" : "normal");
}

/** Runs `action`; a StepError is printed with its hint and sets its exit status, anything else propagates. */
export async function reportFailure(log: ConsolaInstance, action: () => unknown): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (!(err instanceof StepError)) throw err;
    reportStepError(log, err);
    process.exitCode = err.exitStatus;
  }
}
