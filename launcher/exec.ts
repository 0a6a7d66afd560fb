// Hand-over by exec: the TAP's queues at fds 3 onwards, every other fd closed on exec, then the launcher becomes the guest.
import { accessSync, constants, statSync, writeSync } from "node:fs";
import { delimiter, join } from "node:path";
import { errnoName } from "../shared/errno.ts";
import { StepError, systemReason } from "../shared/errors.ts";
import { F_DUPFD_CLOEXEC, SIGPIPE, SIGXFSZ } from "../shared/kernel-launcher.ts";
import { describeErrno } from "../shared/libc.ts";
import { duplicateFdTo, executeOrErrno, fcntl, restoreDefaultSignal } from "../shared/libc-launcher.ts";
import { closeInheritedFdsOnExec, setNonBlocking } from "./fds.ts";
import { GUEST_FD } from "./guest.ts";
import type { OpenedTap } from "./tap-fd.ts";

/** execvp(3)'s search path when PATH is unset. */
const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The file `command` names, found as execvp(3) does (a name with a `/` as it is, else the first
 * executable regular file of that name in PATH). throws StepError (exit 127) when there is none:
 * said before anything is changed, so the message can still be written the usual way.
 */
export function resolveGuest(command: string, path = process.env.PATH ?? DEFAULT_PATH): string {
  const candidates = command.includes("/") ? [command] : path.split(delimiter).map((dir) => join(dir || ".", command));
  // EACCES only for a file that exists and may not be executed; a folder in PATH this user cannot
  // search hides nothing from them, so it counts as "not there".
  let denied = false;
  for (const candidate of candidates) {
    if (!isRegularFile(candidate)) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      denied = true;
    }
  }
  throw new StepError(`failed to start the guest ${JSON.stringify(command)}: ${denied ? "EACCES" : "ENOENT"}`, {
    hint: "check the command after --",
    exitStatus: 127,
  });
}

/**
 * Replaces the launcher with `command`: the TAP's queues become fds 3, 4, ... (without close-on-exec),
 * every other fd above 2 is closed on exec, the signals Bun ignores get their default action back, and
 * the environment gains TAP_FD, TAP_FDS and TAP_IFNAME. The guest keeps the launcher's pid, parent,
 * stdio and signals, and its exit status is the launcher's; nothing of Bun stays in memory. Never
 * returns: when execve itself fails, the message is written directly to stderr (the runtime's own
 * fds may already be gone) and the process exits 127.
 */
export function execGuest(command: readonly string[], tap: OpenedTap): never {
  const [name = "", ...args] = command;
  const file = resolveGuest(name);
  const targets = tap.queues.map((_, i) => GUEST_FD + i);
  const env = {
    ...process.env,
    TAP_FD: String(GUEST_FD),
    TAP_FDS: targets.join(":"),
    TAP_IFNAME: tap.name,
  };
  // Out of the way first, above the fds they go to: a queue fd may itself sit where another must go.
  let parked: number[];
  try {
    parked = tap.queues.map((fd) => fcntl(fd, F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC", GUEST_FD + tap.queues.length));
    // Blocking, as qemu-bridge-helper sends it: a guest that simply reads must wait, not get EAGAIN
    // (QEMU makes its fds non-blocking itself).
    for (const fd of tap.queues) setNonBlocking(fd, false);
  } catch (err) {
    throw new StepError(`failed to hand the TAP to the guest ${JSON.stringify(name)}: ${systemReason(err)}`, {
      hint: "raise the limit on open files (ulimit -n)",
    });
  }
  closeInheritedFdsOnExec();
  for (const [i, fd] of parked.entries()) duplicateFdTo(fd, GUEST_FD + i);
  restoreDefaultSignal(SIGPIPE);
  restoreDefaultSignal(SIGXFSZ);
  const errno = executeOrErrno(
    file,
    [name, ...args],
    Object.entries(env).map(([key, value]) => `${key}=${value ?? ""}`),
  );
  writeSync(2, `tap-launcher: failed to start the guest ${JSON.stringify(name)}: ${describeErrno(errno)} (${errnoName(errno)})\n`);
  process.exit(127);
}
