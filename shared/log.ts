// The one consola instance per program, writing everything to stderr, with --verbose/--quiet levels.
import { createConsola, type ConsolaInstance } from "consola";

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
