// The caller's --fd: a unix socket of its own, not a copy of one of the helper's standard streams (docs/design.md, "The caller's --fd").
import { StepError } from "../shared/errors.ts";
import { AF_UNIX, SO_DOMAIN, SOL_SOCKET } from "../shared/kernel.ts";
import { fileStatus, getSocketOptionInt } from "../shared/libc.ts";
import { attempt } from "./attempt.ts";

export function checkCallerSocket(fd: number): void {
  const identity = attempt(`use --fd=${fd}`, () => fileStatus(fd).identity, {
    EBADF: `fd ${fd} is not open in the helper: pass the number of an inherited unix socket`,
  });
  const streams = ["input", "output", "error"];
  for (let stdio = 0; stdio < streams.length; stdio += 1) {
    if (identityOrNull(stdio) !== identity) continue;
    throw new StepError(`--fd=${fd} is the same file as the helper's standard ${streams[stdio]}, not a socket of its own`, {
      hint: "pass the number of an inherited unix socket, as QEMU does",
    });
  }
  const domain = attempt(`use --fd=${fd}`, () => getSocketOptionInt(fd, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN"), {
    ENOTSOCK: `fd ${fd} is not a socket: pass one end of a unix socketpair`,
  });
  if (domain !== AF_UNIX) throw new StepError(`--fd=${fd} is not a unix socket (address family ${domain})`);
}

/** Device and inode of an open fd, or null. */
function identityOrNull(fd: number): string | null {
  try {
    return fileStatus(fd).identity;
  } catch {
    return null;
  }
}
