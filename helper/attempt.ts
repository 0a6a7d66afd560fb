// One step of a privileged program: a SysError becomes `failed to <verb> <device>: <reason>`, with a hint per errno.
import { StepError, SysError, systemReason } from "../shared/errors.ts";

/** Runs `action`; a SysError becomes a StepError `failed to <what>: <reason>` with a hint per errno. */
export function attempt<T>(what: string, action: () => T, hints: Readonly<Record<string, string>> = {}): T {
  try {
    return action();
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    const hint = hints[err.code];
    throw new StepError(`failed to ${what}: ${systemReason(err)}`, hint === undefined ? { cause: err } : { cause: err, hint });
  }
}
