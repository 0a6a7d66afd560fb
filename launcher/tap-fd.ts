// A TAP fd the launcher holds: where it came from, its name and whether frames carry a vnet header.
import { StepError, SysError, systemReason } from "../shared/errors.ts";
import { tapInfo } from "../shared/tap-info.ts";
import { release, setNonBlocking } from "./fds.ts";

export interface OpenedTap {
  /** The first queue: the one fd of a single-queue TAP. */
  fd: number;
  /** Every queue's fd, `fd` first. */
  queues: number[];
  name: string;
  vnetHeader: boolean;
  /**
   * Made without IFF_NO_PI: every frame has a 4-byte packet information prefix (`ip tuntap add … pi`).
   * TUNGETIFF cannot tell (it reports IFF_NOFILTER, the same bit, on every fd without a filter), so
   * only the unmanaged opener, which reads the device's flags, sets it; a bridge helper makes TAPs
   * without it, as QEMU assumes.
   */
  packetInfo: boolean;
}

/** Errors of TUNGETIFF that mean the fd is no TUN/TAP fd (ENOTTY, EINVAL) or is attached to no device (EBADFD). */
const NOT_A_TAP = new Set(["ENOTTY", "EINVAL", "EBADFD"]);

/**
 * The StepError for an fd `from` sent that could not be adopted: the sender's fault only when
 * TUNGETIFF says it is no TAP; any other failure (fcntl's EBADF, EIO) is the launcher's own step.
 */
function adoptionError(err: unknown, from: string): StepError {
  if (err instanceof StepError) return err;
  if (err instanceof SysError && err.call.includes("TUNGETIFF") && NOT_A_TAP.has(err.code)) {
    return new StepError(`${from} sent an fd that is not a TAP device: ${systemReason(err)}`);
  }
  const call = err instanceof SysError ? err.call : "fcntl";
  return new StepError(`failed to take over the TAP fd ${from} sent (${call}): ${systemReason(err)}`, { cause: err });
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
    return { fd, queues: [fd], name: info.name, vnetHeader: info.vnetHeader, packetInfo: false };
  } catch (err) {
    release(fd);
    throw adoptionError(err, from);
  }
}

/**
 * Adopts the fds of one TAP's queues (see adoptTapFd): all must be queues of the same TAP, with
 * IFF_MULTI_QUEUE when there are several. Closes every fd and throws StepError otherwise.
 */
export function adoptTapQueues(fds: readonly number[], from: string): OpenedTap {
  const [first, ...rest] = fds;
  if (first === undefined) throw new StepError(`${from} sent no TAP fd`);
  let tap: OpenedTap;
  try {
    tap = adoptTapFd(first, from);
  } catch (err) {
    for (const fd of rest) release(fd);
    throw err;
  }
  try {
    for (const fd of rest) {
      tap.queues.push(fd);
      setNonBlocking(fd);
      const info = tapInfo(fd);
      if (info.name !== tap.name || !info.multiQueue) {
        throw new StepError(`${from} sent fds of different devices (${tap.name}, ${info.name}), not the queues of one multiqueue TAP`);
      }
    }
    if (rest.length > 0 && !tapInfo(first).multiQueue)
      throw new StepError(`${from} sent ${fds.length} fds of ${tap.name}, which is not a multiqueue TAP`);
    return tap;
  } catch (err) {
    for (const fd of fds) release(fd);
    throw adoptionError(err, from);
  }
}
