// Starting the guest command with the TAP as fd 3, forwarding signals, and returning its exit status.
import { constants } from "node:os";
import type { ConsolaInstance } from "consola";
import { StepError } from "../shared/errors.ts";
import { closeFd } from "../shared/libc.ts";
import type { OpenedTap } from "./tap-fd.ts";

/** The fd the guest finds the TAP on. */
export const GUEST_TAP_FD = 3;
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs `command` with stdio inherited, the TAP as fd 3, TAP_FD and TAP_IFNAME in its environment and
 * no other fd of ours. The launcher's own copy of the TAP is closed once the guest has it, so the TAP
 * lives exactly as long as the guest. SIGINT, SIGTERM and SIGHUP are passed on. Returns the guest's
 * exit status, or 128 + the signal number if it was killed. throws StepError (exit 127) if it cannot start.
 */
export async function runGuestWithTap(command: string[], tap: OpenedTap, log: ConsolaInstance): Promise<number> {
  let child;
  try {
    child = Bun.spawn({
      cmd: command,
      stdio: ["inherit", "inherit", "inherit", tap.fd],
      env: { ...process.env, TAP_FD: String(GUEST_TAP_FD), TAP_IFNAME: tap.name },
    });
  } catch (err) {
    throw new StepError(`failed to start the guest ${JSON.stringify(command[0])}: ${(err as { code?: string }).code ?? String(err)}`, {
      hint: "check the command after --",
      exitStatus: 127,
    });
  } finally {
    closeFd(tap.fd);
  }
  log.debug(`guest ${command[0]} started as pid ${child.pid} with ${tap.name} on fd ${GUEST_TAP_FD}`);
  const forward = (signal: NodeJS.Signals) => {
    log.debug(`passing ${signal} on to the guest`);
    child.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  try {
    const status = await child.exited;
    const signal = child.signalCode;
    if (signal !== null) {
      const number = typeof signal === "number" ? signal : constants.signals[signal];
      log.debug(`guest killed by ${signal}`);
      return 128 + number;
    }
    return status;
  } finally {
    for (const signal of FORWARDED) process.off(signal, forward);
  }
}
