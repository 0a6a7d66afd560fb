// The error types both programs throw: failed system calls and refused values (shared/), bad command lines (the CLIs), failed steps.
import { errnoName } from "./errno.ts";

/** A libc call that failed: carries the call, errno and its name, the system's text for it, and what it was acting on. */
export class SysError extends Error {
  override name = "SysError";
  readonly code: string;
  constructor(
    readonly call: string,
    readonly errno: number,
    /** The system's text for errno (`No such device`), or what else went wrong. */
    readonly description: string,
    readonly detail = "",
  ) {
    const code = errnoName(errno);
    super(`${call}${detail ? ` (${detail})` : ""}: ${description} (${code})`);
    this.code = code;
  }
}

/** A value shared/ refuses (an interface name the kernel would not take); a CLI that took it from its user makes it a usage error. */
export class ValueError extends Error {
  override name = "ValueError";
}

/** A command line that cannot be accepted; programs print usage and exit 1. Thrown by the CLIs only. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A step of a program's job that failed, for the user: what failed, on which device, why, what to do (`hint`), the exit status. */
export class StepError extends Error {
  override name = "StepError";
  readonly hint: string;
  readonly exitStatus: number;
  constructor(message: string, { cause, hint = "", exitStatus = 1 }: { cause?: unknown; hint?: string; exitStatus?: number } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.hint = hint;
    this.exitStatus = exitStatus;
  }
}

/** Runs `check` on a value the user typed: a ValueError it throws becomes a UsageError with the same message. */
export function checkUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw err instanceof ValueError ? new UsageError(err.message) : err;
  }
}

/** The short system reason of an error, for messages: `No such device (ENODEV)`. */
export function systemReason(err: unknown): string {
  if (err instanceof SysError) return `${err.description} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

/** A Node error's code (`ENOENT`), or the error as text when it has none. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : String(err);
}
