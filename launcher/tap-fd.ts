// A TAP fd the launcher holds: where it came from, its name and whether frames carry a vnet header.
import { closeFd } from "../shared/libc.ts";
import { StepError, systemReason } from "../shared/errors.ts";
import { tapInfo } from "../shared/tap.ts";
import { setNonBlocking } from "./fds.ts";

export interface OpenedTap {
  fd: number;
  name: string;
  vnetHeader: boolean;
}

/**
 * Makes `fd` non-blocking and learns its name and vnet-header flag (TUNGETIFF), as QEMU does with
 * what a helper sends. Closes `fd` and throws StepError when it is no TAP.
 */
export function adoptTapFd(fd: number, from: string): OpenedTap {
  try {
    setNonBlocking(fd);
    const info = tapInfo(fd);
    if (!info.isTap) throw new StepError(`${from} sent a TUN device (${info.name}), not a TAP`);
    return { fd, name: info.name, vnetHeader: info.vnetHeader };
  } catch (err) {
    closeFd(fd);
    if (err instanceof StepError) throw err;
    throw new StepError(`${from} sent an fd that is not a TAP device: ${systemReason(err)}`);
  }
}
