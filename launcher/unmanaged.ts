// Opening a TAP that an administrator made beforehand (libvirt's managed='no'), changing nothing on it.
import { userInfo } from "node:os";
import type { ConsolaInstance } from "consola";
import { StepError, SysError, systemReason } from "../shared/errors.ts";
import { IFF_MULTI_QUEUE, IFF_NO_PI, IFF_VNET_HDR } from "../shared/kernel.ts";
import { IFF_NAPI_FRAGS, IFF_ONE_QUEUE, IFF_PERSIST } from "../shared/kernel-launcher.ts";
import { release } from "./fds.ts";
import { attachExistingTap, openTunDevice, TUN_DEVICE } from "../shared/tap.ts";
import { checkInterfaceName } from "../shared/ifname.ts";
import { describeLink, type LinkDescription, type TunState } from "../shared/netlink.ts";
import { describeLinkNamed } from "../shared/netlink-launcher.ts";
import { deviceAttribute } from "./sysfs.ts";
import { outOfFds } from "./out-of-fds.ts";
import { adoptTapQueues, type OpenedTap } from "./tap-fd.ts";

/** The device `name` as the kernel reports it over netlink, or null when there is none. throws StepError. */
function lookUpLink(name: string): LinkDescription | null {
  try {
    return describeLinkNamed(name);
  } catch (err) {
    // Running out of fds is said as such, wherever it happens (launcher/cli.ts).
    if (!(err instanceof SysError) || outOfFds(err) !== null) throw err;
    throw new StepError(`failed to attach to TAP ${name}: ${systemReason(err)}`);
  }
}

/** The name of the bridge the device is a port of, or null (also when it went away meanwhile). */
function masterName(link: LinkDescription): string | null {
  if (link.master === null) return null;
  try {
    return describeLink(link.master).name;
  } catch (err) {
    if (err instanceof SysError) return null;
    throw err;
  }
}

/** The caller as `ip tuntap add … user` takes it: the name, or the uid when there is no passwd entry. */
function callerForIp(): string {
  const { username, uid } = userInfo();
  return username === "" || username === "unknown" ? String(uid) : username;
}

function createHint(name: string): string {
  return `an administrator creates it once for you: ip tuntap add dev ${name} mode tap user ${callerForIp()} vnet_hdr && ip link set ${name} master br0 up`;
}

/** Who the kernel lets attach the TAP (tun_not_capable: the owner, if set, and a member of the group, if set), or null for everyone. */
function ownerLabel(tun: TunState): string | null {
  const parts = [tun.owner === null ? null : `user ${tun.owner}`, tun.group === null ? null : `group ${tun.group}`].filter(
    (part) => part !== null,
  );
  return parts.length === 0 ? null : parts.join(" and ");
}

/** The commands that make the TAP `name` again for the caller, with the flags iproute2 can set and its bridge. */
function recreateCommand(name: string, flags: number, link: LinkDescription): string {
  const options = [
    (flags & IFF_NO_PI) === 0 ? "pi" : null,
    (flags & IFF_VNET_HDR) !== 0 ? "vnet_hdr" : null,
    (flags & IFF_MULTI_QUEUE) !== 0 ? "multi_queue" : null,
    (flags & IFF_ONE_QUEUE) !== 0 ? "one_queue" : null,
  ].filter((option) => option !== null);
  const add = ["ip tuntap add dev", name, "mode tap user", callerForIp(), ...options].join(" ");
  const master = masterName(link);
  const set = `ip link set ${name}${master === null ? "" : ` master ${master}`} up`;
  return `ip tuntap del dev ${name} mode tap && ${add} && ${set}`;
}

/**
 * The TUN flags the kernel keeps for the device (/sys/class/net/NAME/tun_flags, without IFF_PERSIST):
 * netlink leaves out IFF_NAPI, IFF_NAPI_FRAGS and IFF_ONE_QUEUE, and TUNSETIFF on an existing device
 * rewrites all of them. /sys shows the network namespace of whoever mounted it (`ip netns exec` mounts
 * one for its namespace; `unshare -n` alone does not), so the device there must have the ifindex and
 * address netlink reports for this one. throws StepError rather than use another device's flags.
 */
function kernelTunFlags(name: string, link: LinkDescription): number {
  let text: string | null;
  try {
    text = deviceAttribute({ name, ifindex: link.index, address: link.address }, "tun_flags");
  } catch (err) {
    throw new StepError(`failed to read the flags of TAP ${name}: ${systemReason(err)}`);
  }
  if (text === null) {
    throw new StepError(
      `failed to read the flags of TAP ${name}: /sys shows another network namespace, where ${name} is missing or another device`,
      {
        hint: "run the launcher through ip netns exec, which mounts /sys for the namespace, or mount it yourself in a mount namespace of your own (unshare -m, then mount -t sysfs sysfs /sys)",
      },
    );
  }
  if (!/^0x[0-9a-f]{1,4}$/.test(text)) {
    throw new StepError(
      `failed to read the flags of TAP ${name}: /sys/class/net/${name}/tun_flags holds ${JSON.stringify(text)}, not a hex number`,
    );
  }
  return Number.parseInt(text.slice(2), 16) & ~IFF_PERSIST;
}

/**
 * Attaches to the existing TAP `name` with exactly the flags the kernel has for it (TUNSETIFF would
 * otherwise rewrite them), and changes nothing else: no MAC, MTU, up/down or bridge. Needs no
 * privilege when the TAP belongs to the caller's user or group, or to nobody (then it warns: anyone
 * can attach it). With `queues` above 1, the TAP must be multiqueue and that many queues are
 * attached, as libvirt does. throws StepError saying how to fix each failure.
 */
export function openUnmanagedTap(name: string, log: ConsolaInstance, queues = 1): OpenedTap {
  checkInterfaceName(name, "TAP name");
  const link = lookUpLink(name);
  if (link === null) throw new StepError(`TAP ${name} does not exist in this network namespace`, { hint: createHint(name) });
  if (link.tun === null || link.tun.type !== "tap") {
    const what = link.tun === null ? `a ${link.kind ?? "plain"} device` : "a TUN (layer 3) device";
    throw new StepError(`${name} is not a TAP device: it is ${what}`, { hint: `name a TAP with --tap, or ${createHint(name)}` });
  }
  if (!link.tun.persistent) {
    throw new StepError(`TAP ${name} is not persistent: it belongs to a running program`, { hint: createHint(name) });
  }
  const flags = kernelTunFlags(name, link);
  const owner = ownerLabel(link.tun);
  if (queues > 1 && (flags & IFF_MULTI_QUEUE) === 0) {
    throw new StepError(`TAP ${name} is not a multiqueue TAP: --queues=${queues} needs one made with multi_queue`, {
      hint: `an administrator makes it again: ${recreateCommand(name, flags | IFF_MULTI_QUEUE, link)}`,
    });
  }

  let tunFd: number;
  try {
    tunFd = openTunDevice();
  } catch (err) {
    throw new StepError(`failed to open ${TUN_DEVICE}: ${systemReason(err)}`, {
      hint: err instanceof SysError && err.code === "EACCES" ? `make ${TUN_DEVICE} mode 0666, as Debian's udev does` : "modprobe tun",
    });
  }
  try {
    attachExistingTap(tunFd, name, flags);
  } catch (err) {
    release(tunFd);
    const code = err instanceof SysError ? err.code : "";
    if (code === "EPERM" && (flags & IFF_NAPI_FRAGS) !== 0) {
      throw new StepError(`TAP ${name} has IFF_NAPI_FRAGS, which only a process with CAP_NET_ADMIN may attach: ${systemReason(err)}`, {
        hint: `an administrator makes it again without IFF_NAPI_FRAGS: ${recreateCommand(name, flags, link)}`,
      });
    }
    if (code === "EPERM" && owner !== null) {
      throw new StepError(`TAP ${name} belongs to someone else (${owner}): ${systemReason(err)}`, { hint: createHint(name) });
    }
    if (code === "EBUSY") {
      throw new StepError(`TAP ${name} is in use by another program: ${systemReason(err)}`, {
        hint: "stop the program holding it, or use another TAP",
      });
    }
    throw new StepError(`failed to attach to TAP ${name}: ${systemReason(err)}`, {
      hint:
        code === "EPERM" ? "the TAP has no owner, so the kernel's own check let you in: a security module (SELinux, AppArmor) refused" : "",
    });
  }
  const queueFds = [tunFd];
  for (let queue = 2; queue <= queues; queue += 1) {
    try {
      const queueFd = openTunDevice();
      queueFds.push(queueFd);
      attachExistingTap(queueFd, name, flags);
    } catch (err) {
      for (const fd of queueFds) release(fd);
      throw new StepError(`failed to attach queue ${queue} of TAP ${name}: ${systemReason(err)}`, {
        hint: "run it again; another program may be attaching it at the same moment",
      });
    }
  }
  const tap = { ...adoptTapQueues(queueFds, `TAP ${name}`), packetInfo: (flags & IFF_NO_PI) === 0 };
  // If the device vanished between the look and the attach, TUNSETIFF made a new one: refuse it.
  let again: LinkDescription | null;
  try {
    again = lookUpLink(name);
  } catch (err) {
    for (const fd of tap.queues) release(fd);
    throw err;
  }
  if (again?.tun?.persistent !== true || again.index !== link.index) {
    for (const fd of tap.queues) release(fd);
    throw new StepError(`TAP ${name} disappeared while it was being opened`, { hint: createHint(name) });
  }
  if (owner === null) {
    log.warn(
      `TAP ${name} has no owner or group: any user on this host can attach it and read or send its frames; to give it one, as root: ${recreateCommand(name, flags, link)}`,
    );
  }
  return tap;
}
