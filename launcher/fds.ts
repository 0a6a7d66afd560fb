// Keeping the launcher's fds out of the programs it starts, as QEMU closes every fd after fork.
import { readdirSync } from "node:fs";
import { O_NONBLOCK } from "../shared/kernel.ts";
import { F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC } from "../shared/kernel-launcher.ts";
import { fcntl } from "../shared/libc-launcher.ts";

/**
 * Marks every fd above 2 that this process inherited close-on-exec. Bun cannot run code between fork
 * and exec, so this is how a child gets exactly the fds it is handed (Bun.spawn's stdio entries,
 * which it dup2()s into place, clearing the flag on the copy) and nothing else.
 */
export function closeInheritedFdsOnExec(): void {
  for (const name of readdirSync("/proc/self/fd")) {
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
