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

/** `action`'s result, or the SysError it threw when its errno is `code`: the caller says what that one means. */
export function orSysError<T>(code: string, action: () => T): T | SysError {
  try {
    return action();
  } catch (err) {
    if (err instanceof SysError && err.code === code) return err;
    throw err;
  }
}
