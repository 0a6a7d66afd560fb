// Phase 2, make: a new TAP with its queues, held by root until the hand-over, with no queue anyone else attached.
import type { ConsolaInstance } from "consola";
import { StepError } from "../shared/errors.ts";
import { IFF_TUN_EXCL, IFF_VNET_HDR } from "../shared/kernel.ts";
import type { InterfaceControl } from "../shared/netdev.ts";
import { describeLink, type LinkDescription } from "../shared/netlink.ts";
import { attachExistingTap, attachNewTap, newTapFlags, openTunDevice, setTapOwnership, TUN_DEVICE, tunFeatures } from "../shared/tap.ts";
import type { Admission } from "./admit.ts";
import { attempt } from "./attempt.ts";
import { takePlace } from "./policy.ts";
import { TAP_NAME_TEMPLATE } from "./config.ts";
import type { Port } from "./port.ts";

/** What the hand-over needs to know of how the TAP was made. */
export interface MadeTap {
  /** Root owns the TAP until the hand-over, which gives it to the caller. */
  owned: boolean;
  vnetHeader: boolean;
}

/**
 * A new multiqueue TAP takes a queue from anyone who names it before its owner is set, so one is made
 * under a name nobody can predict and renamed to `tap%d` once root owns it; a TAP someone still
 * reached (by watching new links) is deleted and another made, this many times in all.
 */
const MULTIQUEUE_ATTEMPTS = 3;

/**
 * Makes the TAP into `port` (its name set the moment it exists): `queues` queues, the virtio-net
 * header when asked and offered, root as owner when it will get one, the caller's place under a
 * policy file, and no queue but the helper's. throws StepError.
 */
export function makeTap(port: Port, request: TapRequest, admission: Admission, control: InterfaceControl, log: ConsolaInstance): MadeTap {
  for (let tries = 1; ; tries += 1) {
    const made = createTap(port, request, admission, control, log);
    // A single-queue TAP takes no second queue (EBUSY): nothing to check.
    if (request.queues === 1) return made;
    const tap = port.name ?? "";
    const foreignQueue = foreignQueueProblem(
      attempt(`find device \`${tap}'`, () => describeLink(port.index)),
      request.queues,
      tap,
    );
    if (foreignQueue === null) {
      attempt(`rename device \`${tap}'`, () => control.rename(tap, TAP_NAME_TEMPLATE));
      port.name = attempt(`find device \`${tap}'`, () => describeLink(port.index)).name;
      return made;
    }
    if (tries === MULTIQUEUE_ATTEMPTS) throw foreignQueue;
    log.debug(`${foreignQueue.message}: making another`);
    port.release(log, null);
    port.name = null;
  }
}

/** What the caller asked of the TAP. */
interface TapRequest {
  queues: number;
  useVnet: boolean;
  /** The caller's uid, whose place the TAP takes. */
  uid: number;
}

/** One TAP with its queues, into `port`. */
function createTap(port: Port, request: TapRequest, admission: Admission, control: InterfaceControl, log: ConsolaInstance): MadeTap {
  const { queues } = request;
  const fd = openQueue(port);
  const vnetHeader = request.useVnet && (attempt(`query features of ${TUN_DEVICE}`, () => tunFeatures(fd)) & IFF_VNET_HDR) !== 0;
  const flags = newTapFlags(vnetHeader, queues > 1);
  // A name of the kernel's choosing for one queue (a single-queue TAP takes no second: EBUSY);
  // an unpredictable one, created only if new (IFF_TUN_EXCL), for several.
  const [name, exclusive] = queues > 1 ? [unpredictableName(), IFF_TUN_EXCL] : [TAP_NAME_TEMPLATE, 0];
  const tap = attempt("create tun device", () => attachNewTap(fd, name, flags | exclusive), {
    EPERM: "the helper lacks CAP_NET_ADMIN: `tap-launcher doctor` says how it is installed",
  });
  port.name = tap;
  // A TAP that may be given an owner is held by root until it is handed over: a multiqueue TAP
  // with no owner takes a queue from anyone, and one the caller owned early could be kept alive
  // through a queue of their own even when the policy refuses it. (A single-queue TAP
  // without a policy keeps no owner, exactly as qemu-bridge-helper makes it.)
  const owned = admission.policy !== null || queues > 1;
  if (owned) attempt(`set owner of device \`${tap}'`, () => setTapOwnership(fd, 0, 0, tap));
  log.debug(`created ${tap}${vnetHeader ? " with virtio-net header" : ""}`);
  port.index = attempt(`find device \`${tap}'`, () => control.index(tap));
  // Its place before the TAP joins the bridge: under a policy file every port there holds one.
  const { policy } = admission;
  if (policy !== null)
    takePlace(
      { index: port.index, name: tap },
      { index: admission.bridgeIndex, name: admission.bridge },
      request.uid,
      policy.rule,
      policy.firstFree,
    );
  // A multiqueue TAP: each further TUNSETIFF with its name and the same flags attaches one more queue.
  for (let queue = 2; queue <= queues; queue += 1) {
    const queueFd = openQueue(port);
    attempt(`attach queue ${queue} of device \`${tap}'`, () => attachExistingTap(queueFd, tap, flags));
  }
  return { owned, vnetHeader };
}

/** `tap` and 12 random hex digits (48 bits): IFNAMSIZ leaves 15 bytes. */
function unpredictableName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return `tap${Buffer.from(bytes).toString("hex")}`;
}

/** Opens /dev/net/tun for one queue of `port`; the fd is the port's from then on. */
function openQueue(port: Port): number {
  const fd = attempt(`open ${TUN_DEVICE}`, openTunDevice, {
    ENOENT: "load the tun module (modprobe tun) or create the node (mknod /dev/net/tun c 10 200)",
    ENODEV: "load the tun module (modprobe tun)",
    EACCES: `the helper runs as you and ${TUN_DEVICE} is not open to you: make it mode 0666, as Debian's udev does (chmod 0666 ${TUN_DEVICE})`,
  });
  port.fds.push(fd);
  return fd;
}

/**
 * A new multiqueue TAP takes a queue from anyone until its owner is set (the kernel checks only an
 * owner or group that is set), and whoever holds a queue may also change its owner, group and
 * persistence (no privilege needed). So once root owns it and the helper's queues are attached, the
 * TAP must have exactly those queues, root as owner and group, and not be persistent: then no one
 * else holds or can take a queue, and it ends with the caller's fds.
 */
function foreignQueueProblem(link: LinkDescription, queues: number, tap: string): StepError | null {
  const tun = link.tun;
  const counted = tun?.queues ?? null;
  const failed = `failed to make device \`${tap}' with ${queues} queues`;
  const hint = "run it again, and tell an administrator: someone on this host takes queues of new TAPs";
  if (tun === null || counted === null) {
    return new StepError(`${failed}: the kernel does not report its queues (Linux 4.15 or later does)`, { hint });
  }
  if (counted.attached !== queues || counted.disabled !== 0) {
    return new StepError(
      `${failed}: another program attached a queue to it before it had an owner (${counted.attached} queues, ${counted.disabled} detached, where the helper attached ${queues})`,
      { hint },
    );
  }
  if (tun.owner !== 0 || tun.group !== 0 || tun.persistent) {
    return new StepError(
      `${failed}: another program changed it through a queue it attached before the TAP had an owner (owner ${tun.owner ?? "none"}, group ${tun.group ?? "none"}${tun.persistent ? ", made persistent" : ""})`,
      { hint },
    );
  }
  return null;
}
