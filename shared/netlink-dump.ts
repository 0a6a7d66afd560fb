// Whole dumps of the links in this network namespace over rtnetlink, taken again while the kernel marks them interrupted: tap-user-nic's counts and the launcher's lists, not the TAP helper's.
import { SysError } from "./errors.ts";
import { EAGAIN, EMSGSIZE } from "./errno.ts";
import * as linux from "./kernel.ts"; // the constants of <linux/*.h>, named as there
import { type AttributeList, encodeLinkRequest, isDone, type NetlinkMessage } from "./netlink-message.ts";
import { acknowledged, REPLY_ROOM, receive, send, withRouteSocket } from "./netlink.ts";

const DUMP = { type: linux.RTM_GETLINK, flags: linux.NLM_F_REQUEST | linux.NLM_F_DUMP, seq: 1, family: linux.AF_UNSPEC, index: 0 };
/** A dump ends well before this many datagrams (a bridge has at most 1024 ports). */
const MAX_DUMP_DATAGRAMS = 4096;

/**
 * The links of one dump, each passed to `read` (null leaves one out), or null once the kernel marks a part
 * interrupted (NLM_F_DUMP_INTR: a link may be missing); the socket's close ends the dump. throws SysError.
 */
function dumpOnce<T>(filter: AttributeList, read: (message: NetlinkMessage) => T | null, what: string): T[] | null {
  return withRouteSocket((fd) => {
    send(fd, encodeLinkRequest(DUMP, filter), what);
    const buffer = new Uint8Array(REPLY_ROOM);
    const links: T[] = [];
    for (let datagram = 0; datagram < MAX_DUMP_DATAGRAMS; datagram += 1) {
      for (const message of receive(fd, buffer, what)) {
        if ((message.flags & linux.NLM_F_DUMP_INTR) !== 0) return null;
        if (isDone(message)) return links;
        if (acknowledged(message, "RTM_GETLINK", what) || message.type !== linux.RTM_NEWLINK) continue;
        const link = read(message);
        if (link !== null) links.push(link);
      }
    }
    throw new SysError("RTM_GETLINK", EMSGSIZE, `no end after ${MAX_DUMP_DATAGRAMS} datagrams`, what);
  });
}

/**
 * A whole dump (RTM_GETLINK with `filter`). Each device made or deleted interrupts the dumps under way, and a
 * lab starting its VMs makes hundreds: an interrupted dump (its count could come out low) is taken again after
 * a random pause whose bound doubles from 4 to 256 ms, so racing helpers fall out of step, for up to 30 s. throws SysError(EAGAIN, ...).
 */
export function dumpLinks<T>(filter: AttributeList, read: (message: NetlinkMessage) => T | null, what: string): T[] {
  const started = performance.now();
  let pauseBound = 4;
  for (let dumps = 1; ; dumps += 1) {
    const links = dumpOnce(filter, read, what);
    if (links !== null) return links;
    const elapsed = performance.now() - started;
    if (elapsed >= 30_000) {
      throw new SysError("RTM_GETLINK", EAGAIN, `the device list kept changing for ${Math.round(elapsed / 1000)} s (${dumps} dumps)`, what);
    }
    Bun.sleepSync(Math.random() * pauseBound);
    pauseBound = Math.min(pauseBound * 2, 256);
  }
}
