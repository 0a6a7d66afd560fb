// One step of a privileged program: a SysError becomes `failed to <verb> <device>: <reason>`, with a hint per errno.
import { StepError, SysError, systemReason } from "../shared/errors.ts";

export function attempt<T>(what: string, action: () => T, hints: Readonly<Record<string, string>> = {}): T {
  try {
    return action();
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    throw new StepError(`failed to ${what}: ${systemReason(err)}`, { cause: err, hint: hints[err.code] });
  }
}
