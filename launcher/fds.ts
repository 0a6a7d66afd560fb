// Keeping the launcher's fds out of the programs it starts, as QEMU closes every fd after fork.
import { readdirSync } from "node:fs";
import { FD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, O_NONBLOCK } from "../shared/kernel-launcher.ts";
import { StepError, systemReason } from "../shared/errors.ts";
import { closeFd } from "../shared/libc.ts";
import { fcntl } from "../shared/libc-launcher.ts";
import { outOfFds } from "./out-of-fds.ts";

/**
 * Marks every fd above 2 that this process inherited close-on-exec. Bun cannot run code between fork
 * and exec, so this is how a child gets exactly the fds it is handed (Bun.spawn's stdio entries,
 * which it dup2()s into place, clearing the flag on the copy) and nothing else.
 */
export function closeInheritedFdsOnExec(): void {
  let names: string[];
  try {
    names = readdirSync("/proc/self/fd");
  } catch (err) {
    if (outOfFds(err) !== null) throw err;
    throw new StepError(`failed to list the launcher's open fds in /proc/self/fd: ${systemReason(err)}`, {
      cause: err,
      hint: "the launcher needs /proc mounted to keep its own fds out of the helper and the guest",
    });
  }
  for (const name of names) {
    const fd = Number(name);
    if (fd <= 2) continue;
    try {
      fcntl(fd, F_SETFD, "F_SETFD", fcntl(fd, F_GETFD, "F_GETFD") | FD_CLOEXEC);
    } catch {
      // the fd readdir itself used, already closed
    }
  }
}

/** Sets O_NONBLOCK on `fd`, or with `nonBlocking` false clears it. throws SysError. */
export function setNonBlocking(fd: number, nonBlocking = true): void {
  const flags = fcntl(fd, F_GETFL, "F_GETFL");
  fcntl(fd, F_SETFL, "F_SETFL", nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

/**
 * Closes `fd` in a clean-up path. Linux releases the fd even when close(2) reports an error (EIO,
 * EINTR), so there is nothing to retry and nothing the user could do: the error is dropped.
 */
export function release(fd: number): void {
  try {
    closeFd(fd);
  } catch {
    // the fd is gone either way
  }
}
