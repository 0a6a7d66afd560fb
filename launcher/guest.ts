// Starting the guest command with one fd of ours (its end of the relay) as its fd 3, forwarding signals, and its exit status.
import { constants } from "node:os";
import type { ConsolaInstance } from "consola";
import { errorCode, StepError } from "../shared/errors.ts";
import { outOfFds } from "./out-of-fds.ts";

/** The fd the guest finds the TAP (or its end of the relay) on. */
export const GUEST_FD = 3;
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs `command` with stdio inherited, `fd` as its fd 3, `env` added to its environment and no other
 * fd of ours (see closeInheritedFdsOnExec). SIGINT, SIGTERM and SIGHUP are passed on while it runs.
 * Resolves to its exit status, or 128 + the signal number if it was killed.
 * throws StepError (exit status 127) if it cannot start.
 */
export function startGuest(command: string[], fd: number, env: Record<string, string>, log: ConsolaInstance): Promise<number> {
  let child;
  try {
    child = Bun.spawn({ cmd: command, stdio: ["inherit", "inherit", "inherit", fd], env: { ...process.env, ...env } });
  } catch (err) {
    // Out of fds is no fault of the command: the launcher's report of it says what to raise.
    if (outOfFds(err) !== null) throw err;
    throw new StepError(`failed to start the guest ${JSON.stringify(command[0])}: ${errorCode(err)}`, {
      hint: "check the command after --",
      exitStatus: 127,
    });
  }
  log.debug(`guest ${command[0]} started as pid ${child.pid}`);
  const started = child;
  const forward = (signal: NodeJS.Signals) => {
    log.debug(`passing ${signal} on to the guest`);
    started.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  return started.exited.then((status) => {
    for (const signal of FORWARDED) process.off(signal, forward);
    const signal = started.signalCode;
    if (signal === null) return status;
    log.debug(`guest killed by ${signal}`);
    return 128 + (typeof signal === "number" ? signal : constants.signals[signal]);
  });
}
