// The device a request makes, as the phases build it up: its name and index once it exists, its fds, and what the way out undoes.
import type { ConsolaInstance } from "consola";
import { SysError, systemReason } from "../shared/errors.ts";
import { closeFd } from "../shared/libc.ts";
import type { InterfaceControl } from "../shared/netdev.ts";
import { deleteLink } from "../shared/netlink.ts";

/** A TAP (or a veth's host end), `name` set the moment it exists: every way out then deletes it unless handed over. */
export class Port {
  name: string | null = null;
  index = 0;
  readonly fds: number[] = [];
  handedOver = false;

  /**
   * The one way out (docs/privileged-core.md, "Phases around one port value"), deleting by name (only CAP_NET_ADMIN
   * renames). A failed close is only debug-logged: Linux frees the fd anyway, and neither fd has written data.
   */
  release(log: ConsolaInstance, control: InterfaceControl | null): void {
    const close = (what: string, action: () => void) => quietly(action, (why) => log.debug(`failed to close ${what}: ${why}`));
    close("the control socket", () => control?.close());
    const { name } = this;
    const warn = (why: string) => log.warn(`failed to delete device \`${name}': ${why}`);
    if (name !== null && !this.handedOver) quietly(() => deleteLink(name), warn, "ENODEV");
    for (const fd of this.fds.splice(0)) close(`fd ${fd} of device \`${name}'`, () => closeFd(fd));
  }
}

/** Runs `action`; a SysError (but one with the code `ignored`) only goes to `report`. */
function quietly(action: () => void, report: (reason: string) => void, ignored?: string): void {
  try {
    action();
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    if (err.code !== ignored) report(systemReason(err));
  }
}
