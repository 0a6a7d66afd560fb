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
import type { Port } from "./port.ts";

/** The kernel template for new TAP names, as qemu-bridge-helper uses. */
const TAP_NAME_TEMPLATE = "tap%d";
/** Multiqueue TAPs made in all, each deleted when someone reached it first. */
const MULTIQUEUE_ATTEMPTS = 3;
/** What the caller asked of the TAP; `uid` is whose place it takes. */
type TapRequest = { queues: number; useVnet: boolean; uid: number };

/** Makes the TAP into `port`: queues, place, no queue but ours (docs/privileged-core.md, "Multiqueue names"); true: root holds it. */
export function makeTap(port: Port, request: TapRequest, admission: Admission, control: InterfaceControl, log: ConsolaInstance): boolean {
  for (let tries = 1; ; tries += 1) {
    const rootHeld = createTap(port, request, admission, control);
    // A single-queue TAP takes no second queue (EBUSY): nothing to check.
    if (request.queues === 1) return rootHeld;
    const tap = port.name ?? "";
    const link = attempt(`find device \`${tap}'`, () => describeLink(port.index));
    const problem = foreignQueueProblem(link, request.queues);
    if (problem === null) {
      attempt(`rename device \`${tap}'`, () => control.rename(tap, TAP_NAME_TEMPLATE));
      port.name = attempt(`find device \`${tap}'`, () => describeLink(port.index)).name;
      return rootHeld;
    }
    const refusal = new StepError(`failed to make device \`${tap}' with ${request.queues} queues: ${problem}`, {
      hint: "run it again, and tell an administrator: someone on this host takes queues of new TAPs",
    });
    if (tries === MULTIQUEUE_ATTEMPTS) throw refusal;
    log.debug(`${refusal.message}: making another`);
    port.release(log, null);
    port.name = null;
  }
}

/** One TAP with its queues, into `port`; returns whether root holds it. */
function createTap(port: Port, request: TapRequest, admission: Admission, control: InterfaceControl): boolean {
  const { queues } = request;
  const fd = openQueue(port);
  const vnetHeader = request.useVnet && (attempt(`query features of ${TUN_DEVICE}`, () => tunFeatures(fd)) & IFF_VNET_HDR) !== 0;
  const flags = newTapFlags(vnetHeader, queues > 1);
  // Several queues: an unpredictable name (`tap` and 48 random bits: IFNAMSIZ leaves 15 bytes), only if new (IFF_TUN_EXCL).
  const name = queues > 1 ? `tap${Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("hex")}` : TAP_NAME_TEMPLATE;
  const tap = attempt("create tun device", () => attachNewTap(fd, name, flags | (queues > 1 ? IFF_TUN_EXCL : 0)), {
    EPERM: "the helper lacks CAP_NET_ADMIN: `tap-launcher doctor` says how it is installed",
  });
  port.name = tap;
  // Root holds a TAP that may get an owner until the hand-over: an ownerless multiqueue TAP takes anyone's queue, and one
  // the caller owned early they could keep through a queue even when refused. (qemu-bridge-helper sets no owner.)
  const rootHeld = admission.policy !== null || queues > 1;
  if (rootHeld) attempt(`set owner of device \`${tap}'`, () => setTapOwnership(fd, 0, 0, tap));
  port.index = attempt(`find device \`${tap}'`, () => control.index(tap));
  // Its place before the TAP joins the bridge: under a policy file every port there holds one.
  const { policy, bridgeIndex, bridge } = admission;
  if (policy !== null)
    takePlace({ index: port.index, name: tap }, { index: bridgeIndex, name: bridge }, request.uid, policy.rule, policy.firstFree);
  // Each further TUNSETIFF with its name and the same flags attaches one more queue.
  for (let queue = 2; queue <= queues; queue += 1) {
    const queueFd = openQueue(port);
    attempt(`attach queue ${queue} of device \`${tap}'`, () => attachExistingTap(queueFd, tap, flags));
  }
  return rootHeld;
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

/** What shows that someone else reached the new multiqueue TAP (a queue, owner, group or persistence: docs/design.md), or null. */
function foreignQueueProblem({ tun }: LinkDescription, queues: number): string | null {
  const counted = tun?.queues ?? null;
  if (tun === null || counted === null) return `the kernel does not report its queues (Linux 4.15 or later does)`;
  if (counted.attached !== queues || counted.disabled !== 0) {
    return `another program attached a queue to it before it had an owner (${counted.attached} queues, ${counted.disabled} detached, where the helper attached ${queues})`;
  }
  if (tun.owner !== 0 || tun.group !== 0 || tun.persistent) {
    return `another program changed it through a queue it attached before the TAP had an owner (owner ${tun.owner ?? "none"}, group ${tun.group ?? "none"}${tun.persistent ? ", made persistent" : ""})`;
  }
  return null;
}
