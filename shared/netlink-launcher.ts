// The launcher's own link questions over rtnetlink (a device by name, the bridges, a bridge's ports), on shared/netlink.ts; not in the helper's import graph.
import { SysError } from "./errors.ts";
import { IFLA_IFNAME, IFLA_INFO_KIND, IFLA_LINKINFO, IFLA_MASTER } from "./kernel.ts";
import { type LinkDescription, queryLink, readLinkMessage, withoutStatistics } from "./netlink.ts";
import { dumpLinks } from "./netlink-dump.ts";
import type { AttributeList } from "./netlink-message.ts";

/**
 * The device named `name` in this network namespace (`ip -d link show dev NAME`), or null when
 * there is none. Right in any network namespace, unlike /sys. throws SysError(EMFILE, EIO, ...).
 */
export function describeLinkNamed(name: string): LinkDescription | null {
  try {
    return queryLink(0, withoutStatistics().string(IFLA_IFNAME, name), `RTM_GETLINK ${name}`);
  } catch (err) {
    if (err instanceof SysError && err.code === "ENODEV") return null;
    throw err;
  }
}

/** The links of one whole dump with `filter` that `keep` accepts (checked again here, for kernels that ignore the filter). */
function dumpMatching(filter: AttributeList, keep: (link: LinkDescription) => boolean, what: string): LinkDescription[] {
  return dumpLinks(
    filter,
    (message) => {
      const link = readLinkMessage(message);
      return keep(link) ? link : null;
    },
    what,
  );
}

/**
 * The devices of kind `kind` ("bridge", "tun", ...) in this network namespace, from one whole dump
 * the kernel filters by kind (`ip link show type KIND`). throws SysError(EAGAIN, EIO, ...).
 */
export function listLinksOfKind(kind: string): LinkDescription[] {
  const filter = withoutStatistics().nested(IFLA_LINKINFO, (info) => info.string(IFLA_INFO_KIND, kind));
  return dumpMatching(filter, (link) => link.kind === kind, `RTM_GETLINK dump of the links of kind ${kind}`);
}

/**
 * The ports of the bridge with index `bridgeIndex` (none when it is gone), from one whole dump the
 * kernel filters by IFLA_MASTER (`ip link show master BR`). throws SysError(EAGAIN, EIO, ...).
 */
export function listBridgePorts(bridgeIndex: number): LinkDescription[] {
  const filter = withoutStatistics().u32(IFLA_MASTER, bridgeIndex);
  return dumpMatching(filter, (link) => link.master === bridgeIndex, `RTM_GETLINK dump of the ports of link ${bridgeIndex}`);
}
