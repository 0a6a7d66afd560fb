// The device a request makes, as the phases build it up: its name and index once it exists, its fds, and what the way out undoes.
import type { ConsolaInstance } from "consola";
import { SysError, systemReason } from "../shared/errors.ts";
import { closeFd } from "../shared/libc.ts";
import type { InterfaceControl } from "../shared/netdev.ts";
import { deleteLink } from "../shared/netlink.ts";

/**
 * One port for the bridge: a TAP (or, for another maker, the host end of a veth pair). The maker
 * sets `name` the moment the device exists, so that from then on every way out deletes it unless
 * its hand-over completed; `fds` are closed on every way out.
 */
export class Port {
  name: string | null = null;
  index = 0;
  readonly fds: number[] = [];
  /** Set once the hand-over completed: the device is the caller's from then on. */
  handedOver = false;

  /**
   * Closes the control socket (first: at a low fd limit the deletion needs its fd), deletes the
   * device unless it was handed over, then closes its fds; never throws, so that the step's own
   * message stays the one said. Deleted by name while the helper still holds it: only CAP_NET_ADMIN
   * renames, so the name still names this device.
   */
  release(log: ConsolaInstance, control: InterfaceControl | null): void {
    quietly(log, "the control socket", () => control?.close());
    if (this.name !== null && !this.handedOver) deleteUnsent(this.name, log);
    for (const fd of this.fds.splice(0)) quietly(log, `fd ${fd} of device \`${this.name}'`, () => closeFd(fd));
  }
}

/**
 * Closes `what`; a failure goes to the debug log only. Linux frees the fd whatever close()
 * returns, and neither a socket nor a TAP has written data that an error there could have lost: it
 * changes nothing the caller can act on, and must not hide the step's message or a sent fd's exit 0.
 */
function quietly(log: ConsolaInstance, what: string, close: () => void): void {
  try {
    close();
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    log.debug(`failed to close ${what}: ${systemReason(err)}`);
  }
}

/** Deletes a device that was not handed over, also when another process holds a queue of it; says so when that fails. */
function deleteUnsent(name: string, log: ConsolaInstance): void {
  try {
    deleteLink(name);
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    if (err.code !== "ENODEV") log.warn(`failed to delete device \`${name}': ${systemReason(err)}`);
  }
}
