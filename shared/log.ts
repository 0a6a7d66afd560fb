// The one consola instance per program, writing everything to stderr, with --verbose/--quiet levels.
import { createConsola, type ConsolaInstance } from "consola";
import type { StepError } from "./errors.ts";

/** consola levels: 0 errors, 1 warnings, 3 information, 4 debug. */
export type Verbosity = "quiet" | "normal" | "verbose";

const LEVELS: Record<Verbosity, number> = { quiet: 1, normal: 3, verbose: 4 };

/**
 * A logger tagged with the program's name. stdout is left to the program's real output (and the
 * guest's), so all diagnostics go to stderr.
 */
export function createLogger(tag: string, verbosity: Verbosity = "normal"): ConsolaInstance {
  return createConsola({
    level: LEVELS[verbosity],
    stdout: process.stderr,
    stderr: process.stderr,
    formatOptions: { date: false, colors: process.stderr.isTTY === true },
  }).withTag(tag);
}

/** Prints a failed step: its message as an error, then what to do about it. */
export function reportStepError(log: ConsolaInstance, err: StepError): void {
  log.error(err.message);
  if (err.hint) log.info(err.hint);
}
