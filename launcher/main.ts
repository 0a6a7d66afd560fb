// tap-launcher: run a guest on a TAP from the bridge helper (or an unmanaged TAP); install; doctor.
//
// Exit status: the guest's own status (128 + signal if it was killed); 1 a bad command line, a failed
// step or a problem doctor found; 127 the guest command could not be started.
import { loggerFor, reportUnexpected, runCommandLine } from "./cli.ts";
import { launcherCommand } from "./program.ts";

// citty defines the commands and renders --help; the command line itself is checked strictly first.
// Not awaited at top level, so that the module compiles to bytecode (which top-level await prevents).
runCommandLine(launcherCommand, process.argv.slice(2), "run").catch((err: unknown) => reportUnexpected(loggerFor({}), err));
