// Opening a TAP that an administrator made beforehand (libvirt's managed='no'), changing nothing on it.
import { userInfo } from "node:os";
import { StepError, SysError, systemReason } from "../shared/errors.ts";
import { IFF_MULTI_QUEUE, IFF_NO_PI, IFF_TAP, IFF_VNET_HDR } from "../shared/kernel.ts";
import { closeFd } from "../shared/libc.ts";
import { attachExistingTap, openTunDevice, TUN_DEVICE } from "../shared/tap.ts";
import { checkInterfaceName } from "../shared/ifname.ts";
import { adoptTapFd, type OpenedTap } from "./tap-fd.ts";

/** What `ip -j -d link show` says of a TUN/TAP device. */
interface TunLinkData {
  type?: string;
  pi?: boolean;
  vnet_hdr?: boolean;
  multi_queue?: boolean;
  persist?: boolean;
  user?: number | string;
  group?: number | string;
}

interface LinkDescription {
  kind: string | null;
  tun: TunLinkData | null;
}

/** The link as the kernel reports it over netlink (right in any network namespace, unlike /sys), or null. */
function describeLink(name: string): LinkDescription | null {
  const result = Bun.spawnSync({ cmd: ["ip", "-j", "-d", "link", "show", "dev", name], stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) return null;
  const [link] = JSON.parse(result.stdout.toString()) as { linkinfo?: { info_kind?: string; info_data?: TunLinkData } }[];
  const kind = link?.linkinfo?.info_kind ?? null;
  return { kind, tun: kind === "tun" ? (link?.linkinfo?.info_data ?? {}) : null };
}

function createHint(name: string): string {
  const user = userInfo().username;
  return `an administrator creates it once for you: ip tuntap add dev ${name} mode tap user ${user} vnet_hdr && ip link set ${name} master br0 up`;
}

/**
 * Attaches to the existing TAP `name` with exactly the flags it already has (TUNSETIFF would otherwise
 * rewrite them), and changes nothing else: no MAC, MTU, up/down or bridge. Needs no privilege when the
 * TAP belongs to the caller's user or group. throws StepError saying how to fix each failure.
 */
export function openUnmanagedTap(name: string): OpenedTap {
  checkInterfaceName(name, "TAP name");
  const link = describeLink(name);
  if (link === null) throw new StepError(`TAP ${name} does not exist in this network namespace`, { hint: createHint(name) });
  if (link.tun === null || link.tun.type !== "tap") {
    const what = link.tun === null ? `a ${link.kind ?? "plain"} device` : "a TUN (layer 3) device";
    throw new StepError(`${name} is not a TAP device: it is ${what}`, { hint: `name a TAP with --tap, or ${createHint(name)}` });
  }
  if (link.tun.persist !== true) {
    throw new StepError(`TAP ${name} is not persistent: it belongs to a running program`, { hint: createHint(name) });
  }
  const tun = link.tun;
  const flags = IFF_TAP | (tun.pi === true ? 0 : IFF_NO_PI) | (tun.vnet_hdr === true ? IFF_VNET_HDR : 0) | (tun.multi_queue === true ? IFF_MULTI_QUEUE : 0);

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
    closeFd(tunFd);
    const code = err instanceof SysError ? err.code : "";
    const owner = [tun.user === undefined ? null : `user ${tun.user}`, tun.group === undefined ? null : `group ${tun.group}`].filter(Boolean).join(" and ") || "root only";
    if (code === "EPERM") {
      throw new StepError(`TAP ${name} belongs to someone else (${owner}): ${systemReason(err)}`, { hint: createHint(name) });
    }
    if (code === "EBUSY") {
      throw new StepError(`TAP ${name} is in use by another program: ${systemReason(err)}`, { hint: "stop the program holding it, or use another TAP" });
    }
    throw new StepError(`failed to attach to TAP ${name}: ${systemReason(err)}`);
  }
  const tap = adoptTapFd(tunFd, `TAP ${name}`);
  // If the device vanished between the look and the attach, TUNSETIFF made a new one: refuse it.
  if (describeLink(name)?.tun?.persist !== true) {
    closeFd(tap.fd);
    throw new StepError(`TAP ${name} disappeared while it was being opened`, { hint: createHint(name) });
  }
  return tap;
}
