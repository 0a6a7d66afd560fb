// tap-bridge-helper: check the ACL, create a TAP, configure it like the bridge, attach it, send its fd.
//
// Exit status: 0 the TAP fd was sent over --fd; 1 anything else (usage, denied, a failed step). It
// never exits 0 without having sent the fd, because QEMU would then take fd 0 for the TAP. A lone
// --help prints usage and exits 0: QEMU always passes --fd, so it can never see that case.
import { fstatSync } from "node:fs";
import type { ConsolaInstance } from "consola";
import { decideBridgeAccess, explainDenial, type BridgeNames } from "../acl/decide.ts";
import { ACL_FILE } from "../acl/files.ts";
import { AclLoadError, loadAcl } from "../acl/load.ts";
import type { PolicyRule } from "../acl/policy.ts";
import { holderAlias } from "../acl/quota.ts";
import { describeCredentials, type ThreadCredentials } from "../shared/credentials.ts";
import { StepError, SysError, UsageError, systemReason } from "../shared/errors.ts";
import { sendFds } from "../shared/fdpass.ts";
import { formatMac } from "../shared/ifreq.ts";
import { EBADF } from "../shared/errno.ts";
import { AF_UNIX, IFF_VNET_HDR, SO_DOMAIN, SOL_SOCKET } from "../shared/kernel.ts";
import { closeFd, describeErrno, getSocketOptionInt, isTerminal } from "../shared/libc.ts";
import { createLogger, reportStepError, writeText } from "../shared/log.ts";
import { deleteLink, describeLink, type LinkDescription, setBridgePortIsolated, setLinkAlias } from "../shared/netlink.ts";
import { interfaceNameProblem } from "../shared/ifname.ts";
import { InterfaceControl } from "../shared/netdev.ts";
import { attachExistingTap, attachNewTap, newTapFlags, openTunDevice, setTapOwnership, TUN_DEVICE, tunFeatures } from "../shared/tap.ts";
import { HELPER_USAGE_LINE, helperUsage, parseHelperArgv, type HelperArgs } from "./args.ts";
import { type AuditRecord, AuditTrail } from "./audit.ts";
import { SEND_TIMEOUT_MS, TAP_NAME_TEMPLATE } from "./config.ts";
import { applicableRule, type CallerIdentity, identifyCaller, queueProblem, quotaProblem, readPolicy, tapsHeldOn } from "./policy.ts";
import { checkLeastPrivilege } from "./privilege.ts";
import { VERSION } from "../shared/version.ts";

/** Runs `action`; a SysError becomes a StepError `failed to <what>: <reason>` with a hint per errno. */
function attempt<T>(what: string, action: () => T, hints: Readonly<Record<string, string>> = {}): T {
  try {
    return action();
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    const hint = hints[err.code];
    throw new StepError(`failed to ${what}: ${systemReason(err)}`, hint === undefined ? { cause: err } : { cause: err, hint });
  }
}

/**
 * --fd must be a unix socket, and not one of the helper's own standard streams. The Bun runtime makes
 * copies of stdout and stderr at start-up, so a number that was closed in the caller can name one of
 * those: the TAP would then go out over stderr. (Close-on-exec tells nothing here: Bun sets it on every
 * inherited fd from 4 up.) The runtime's other fds (epoll, eventfd) are not sockets.
 */
function checkCallerSocket(fd: number): void {
  const identity = attempt(`use --fd=${fd}`, () => fileIdentity(fd), {
    EBADF: `fd ${fd} is not open in the helper: pass the number of an inherited unix socket`,
  });
  for (const [stdio, name] of [
    [0, "input"],
    [1, "output"],
    [2, "error"],
  ] as const) {
    if (identity === safeFileIdentity(stdio)) {
      throw new StepError(`--fd=${fd} is the same file as the helper's standard ${name}, not a socket of its own`, {
        hint: "pass the number of an inherited unix socket, as QEMU does",
      });
    }
  }
  const domain = attempt(`use --fd=${fd}`, () => getSocketOptionInt(fd, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN"), {
    ENOTSOCK: `fd ${fd} is not a socket: pass one end of a unix socketpair`,
  });
  if (domain !== AF_UNIX) throw new StepError(`--fd=${fd} is not a unix socket (address family ${domain})`);
}

/** Device and inode of an open fd. throws SysError(EBADF). */
function fileIdentity(fd: number): string {
  try {
    const stat = fstatSync(fd);
    return `${stat.dev}:${stat.ino}`;
  } catch (err) {
    const errno = Math.abs((err as { errno?: number }).errno ?? EBADF);
    throw new SysError("fstat", errno, describeErrno(errno), `fd ${fd}`);
  }
}

function safeFileIdentity(fd: number): string | null {
  try {
    return fileIdentity(fd);
  } catch {
    return null;
  }
}

/** What to do when the ACL denies: names only what an installed user has. */
const ACL_HINT = `\`tap-launcher doctor\` shows which bridges ${ACL_FILE} allows you; an administrator changes it`;

/** Decides access from the ACL; throws StepError naming the files and the rule when denied. */
function checkBridgeAcl(bridge: BridgeNames, log: ConsolaInstance): void {
  let acl;
  try {
    acl = loadAcl(ACL_FILE);
  } catch (err) {
    if (!(err instanceof AclLoadError)) throw err;
    throw new StepError(`access denied: ${err.message}`, { hint: `an administrator fixes ${ACL_FILE}; until then every bridge is denied` });
  }
  for (const warning of acl.warnings) log.warn(warning);
  const decision = decideBridgeAccess(acl.rules, bridge);
  if (!decision.allowed) throw new StepError(explainDenial(decision, bridge, acl.filesRead), { hint: ACL_HINT });
  const rule = decision.allowRule;
  log.debug(`bridge ${bridge.requested} allowed by "allow ${rule?.bridge ?? "all"}" at ${rule?.file}:${rule?.line}`);
}

/** The device `name` reaches (SIOCGIFINDEX follows alternative names) and all its names; a SysError(ENODEV) when none. */
function lookUpBridge(control: InterfaceControl, name: string): { index: number; names: string[] } | SysError {
  let index: number;
  try {
    index = control.index(name);
  } catch (err) {
    if (err instanceof SysError && err.code === "ENODEV") return err;
    throw err;
  }
  const link = describeLink(index);
  return { index, names: [link.name, ...link.altNames] };
}

/**
 * A new multiqueue TAP takes a queue from anyone until its owner is set (the kernel checks only an
 * owner or group that is set), and whoever holds a queue may also change its owner, group and
 * persistence (no privilege needed). So once root owns it and the helper's queues are attached, the
 * TAP must have exactly those queues, root as owner and group, and not be persistent: then no one
 * else holds or can take a queue, and it ends with the caller's fds.
 */
function foreignQueueProblem(link: LinkDescription, queues: number, tap: string, bridge: string): StepError | null {
  // A single-queue TAP takes no second queue (EBUSY), and the kernel reports queues only for multiqueue ones.
  if (queues === 1) return null;
  const tun = link.tun;
  const counted = tun?.queues ?? null;
  const hint = "run it again, and tell an administrator: someone on this host takes queues of new TAPs";
  if (tun === null || counted === null) {
    return new StepError(
      `failed to add interface \`${tap}' to bridge \`${bridge}': the kernel does not report its queues (Linux 4.15 or later does)`,
      {
        hint,
      },
    );
  }
  if (counted.attached !== queues || counted.disabled !== 0) {
    return new StepError(
      `failed to add interface \`${tap}' to bridge \`${bridge}': another program attached a queue to it before it had an owner (${counted.attached} queues, ${counted.disabled} detached, where the helper attached ${queues})`,
      { hint },
    );
  }
  if (tun.owner !== 0 || tun.group !== 0 || tun.persistent) {
    return new StepError(
      `failed to add interface \`${tap}' to bridge \`${bridge}': another program changed it through a queue it attached before the TAP had an owner (owner ${tun.owner ?? "none"}, group ${tun.group ?? "none"}${tun.persistent ? ", made persistent" : ""})`,
      { hint },
    );
  }
  return null;
}

/** Deletes a TAP that was not sent, also when another process holds a queue of it; says so when that fails. */
function deleteUnsentTap(tap: string, log: ConsolaInstance): void {
  try {
    deleteLink(tap);
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    if (err.code !== "ENODEV") log.warn(`failed to delete device \`${tap}': ${systemReason(err)}`);
  }
}

/** What the policy adds to a request, when a policy file exists. */
interface SharedHostRequest {
  rules: readonly PolicyRule[];
  caller: CallerIdentity;
}

/** Who gets the TAP: the caller's real ids, as the shim left them. */
interface TapOwner {
  uid: number;
  gid: number;
}

/**
 * The helper's job, in order, once --fd is known to be the caller's socket; every fd it opens is
 * closed on the way out, and a TAP it made but did not send is deleted. `trail.record` is filled in
 * as it goes.
 */
function createAndSendTap(
  args: HelperArgs,
  owner: TapOwner,
  shared: SharedHostRequest | null,
  trail: AuditTrail,
  log: ConsolaInstance,
): void {
  const audit = trail.record;
  const { socketFd } = args;
  const control = attempt("open a control socket", () => new InterfaceControl());
  const tunFds: number[] = [];
  // The new TAP's name until its fds are sent: on the way out it is deleted, not just let go.
  let unsentTap: string | null = null;
  try {
    // The ACL judges the device, not the string typed: a deny for br1 must hold for its altname lab1.
    const found = attempt(`find bridge \`${args.bridge}'`, () => lookUpBridge(control, args.bridge));
    checkBridgeAcl({ requested: args.bridge, deviceNames: found instanceof SysError ? [args.bridge] : found.names }, log);
    if (found instanceof SysError) {
      throw new StepError(`failed to find bridge \`${args.bridge}': ${systemReason(found)}`, {
        cause: found,
        hint: `create it first (ip link add ${args.bridge} type bridge), or name an existing bridge`,
      });
    }
    // From here on the device's canonical name, which the decision was about (checked again after
    // the attach, in case the device was renamed meanwhile).
    const [bridge = args.bridge] = found.names;
    const nameProblem = interfaceNameProblem(bridge);
    if (nameProblem !== null) {
      throw new StepError(
        `failed to find bridge \`${args.bridge}': the device's name ${JSON.stringify(bridge)} is not one the helper handles (${nameProblem})`,
        {
          hint: `an administrator renames it (ip link set dev ${args.bridge} name NEWNAME) to printable ASCII`,
        },
      );
    }
    audit.bridge = bridge;

    // Shared hosts: the caller's line of the policy, and a first count so that a caller at their
    // limit makes no TAP at all (the count that holds under races comes after the attach).
    const rule = shared === null ? null : applicableRule(shared.rules, shared.caller, found.names);
    audit.rule = rule;
    const tooManyQueues = queueProblem(rule, args.queues);
    if (tooManyQueues !== null) throw tooManyQueues;
    if (shared !== null) {
      const held = attempt(`count the TAPs you hold on bridge \`${bridge}'`, () => tapsHeldOn(found.index, shared.caller.uid));
      audit.held = held.length;
      const refusal = rule === null ? null : quotaProblem(rule, bridge, held);
      if (refusal !== null) throw refusal;
    }

    const openTun = (): number => {
      const opened = attempt(`open ${TUN_DEVICE}`, openTunDevice, {
        ENOENT: "load the tun module (modprobe tun) or create the node (mknod /dev/net/tun c 10 200)",
        ENODEV: "load the tun module (modprobe tun)",
        EACCES: `the helper runs as you and ${TUN_DEVICE} is not open to you: make it mode 0666, as Debian's udev does (chmod 0666 ${TUN_DEVICE})`,
      });
      tunFds.push(opened);
      return opened;
    };
    const fd = openTun();
    const vnetHeader = args.useVnet && (attempt(`query features of ${TUN_DEVICE}`, () => tunFeatures(fd)) & IFF_VNET_HDR) !== 0;
    const flags = newTapFlags(vnetHeader, args.queues > 1);
    const tap = attempt("create tun device", () => attachNewTap(fd, TAP_NAME_TEMPLATE, flags), {
      EPERM: "the helper lacks CAP_NET_ADMIN: `tap-launcher doctor` says how it is installed",
    });
    unsentTap = tap;
    audit.tap = tap;
    // A TAP that may be given an owner is held by root until it is handed over: a multiqueue TAP
    // with no owner takes a queue from anyone, and one the caller owned early could be kept alive
    // through a queue of their own even when the second count refuses it. (A single-queue TAP
    // without a policy keeps no owner, exactly as qemu-bridge-helper makes it.)
    const owned = shared !== null || args.queues > 1;
    if (owned) attempt(`set owner of device \`${tap}'`, () => setTapOwnership(fd, 0, 0, tap));
    log.debug(`created ${tap}${vnetHeader ? " with virtio-net header" : ""}`);
    const tapIndex = attempt(`find device \`${tap}'`, () => control.index(tap));
    if (shared !== null) {
      // The mark before the TAP joins the bridge, so that every count that sees it counts it.
      attempt(`set alias of device \`${tap}'`, () => setLinkAlias(tapIndex, holderAlias(owner.uid)));
    }
    // A multiqueue TAP: each further TUNSETIFF with its name and the same flags attaches one more queue.
    for (let queue = 2; queue <= args.queues; queue += 1) {
      const queueFd = openTun();
      attempt(`attach queue ${queue} of device \`${tap}'`, () => attachExistingTap(queueFd, tap, flags));
    }

    const mtu = attempt(`get mtu of bridge \`${bridge}'`, () => control.mtu(bridge));
    attempt(`set mtu of device \`${tap}' to ${mtu}`, () => control.setMtu(tap, mtu));
    // The bridge takes the lowest port MAC as its own unless its address was set; a first byte of
    // 0xFE keeps a new TAP from changing it by accident (the fd's holder can still change the TAP's MAC).
    const { family, mac } = attempt(`get MAC address of device \`${tap}'`, () => control.hardwareAddress(tap));
    mac[0] = 0xfe;
    attempt(`set MAC address of device \`${tap}'`, () => control.setHardwareAddress(tap, family, mac));
    attempt(`add interface \`${tap}' to bridge \`${bridge}'`, () => control.addToBridge(bridge, tap), {
      EOPNOTSUPP: `\`${bridge}' is not a bridge: name a bridge (ip -d link show type bridge)`,
    });
    // The TAP is still down: no frame has crossed this port yet.
    const tapLink = attempt(`add interface \`${tap}' to bridge \`${bridge}'`, () => describeLink(tapIndex));
    if (tapLink.master !== found.index) {
      throw new StepError(
        `failed to add interface \`${tap}' to bridge \`${bridge}': the bridge was renamed or replaced while the TAP was being made`,
        { hint: "run it again" },
      );
    }
    const foreignQueue = foreignQueueProblem(tapLink, args.queues, tap, bridge);
    if (foreignQueue !== null) throw foreignQueue;
    if (shared !== null) {
      // Counted again with this TAP on the bridge: of helpers racing for the last place, each sees
      // every TAP kept before its own count, so no more than the limit are ever kept.
      const others = attempt(`count the TAPs you hold on bridge \`${bridge}'`, () =>
        tapsHeldOn(found.index, shared.caller.uid, { index: tapIndex, limit: rule?.maxTaps ?? null }),
      ).filter((name) => name !== tap);
      audit.held = others.length + 1;
      const refusal = rule === null ? null : quotaProblem(rule, bridge, others);
      if (refusal !== null) throw refusal;
    }
    if (rule?.isolated === true) {
      attempt(`isolate bridge port \`${tap}'`, () => setBridgePortIsolated(tapIndex), {
        EOPNOTSUPP: "the kernel's bridge lacks port isolation (Linux 4.18 or later has it)",
      });
    }
    if (owned) attempt(`set owner of device \`${tap}'`, () => setTapOwnership(fd, owner.uid, owner.gid, tap));
    attempt(`bring up interface \`${tap}'`, () => control.bringUp(tap));
    trail.grant();
    attempt(`write fd to unix socket --fd=${socketFd}`, () => sendFds(socketFd, tunFds, SEND_TIMEOUT_MS), {
      EPIPE: "the receiving end closed the socket before the fd arrived",
      ETIMEDOUT: "the program that ran the helper must read the fd at once, as QEMU and libvirt do",
    });
    unsentTap = null;
    log.debug(`sent ${tap} (mtu ${mtu}, mac ${formatMac(mac)}) on bridge ${bridge}`);
  } finally {
    control.close(); // first: at a low fd limit the deletion needs its fd
    // Deleted by name while the helper still holds it: only CAP_NET_ADMIN renames, so it names this TAP.
    if (unsentTap !== null) deleteUnsentTap(unsentTap, log);
    for (const tunFd of tunFds) closeFd(tunFd);
  }
}

async function main(argv: readonly string[]): Promise<void> {
  process.exitCode = 1;
  const log = createLogger("tap-bridge-helper");
  let credentials: ThreadCredentials;
  try {
    credentials = checkLeastPrivilege();
    log.debug(`credentials: ${describeCredentials(credentials)}`);
  } catch (err) {
    if (!(err instanceof StepError)) throw err;
    reportStepError(log, err);
    return;
  }
  let args: HelperArgs | "help" | "version";
  try {
    args = parseHelperArgv(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    log.error(err.message);
    log.info(HELPER_USAGE_LINE);
    return;
  }
  if (args === "help" || args === "version") {
    writeText(1, `${args === "help" ? await helperUsage(isTerminal(1)) : VERSION}\n`);
    process.exitCode = 0;
    return;
  }
  const owner = { uid: credentials.uids[0] ?? -1, gid: credentials.gids[0] ?? -1 };
  const record: AuditRecord = {
    userName: null,
    uid: owner.uid,
    bridge: args.bridge,
    tap: null,
    queues: args.queues,
    rule: undefined,
    held: null,
  };
  // With a policy file, also one that cannot be read or parsed, every decision is audited.
  const policy = readPolicy();
  const trail = new AuditTrail(record, policy !== null, (message) => log.warn(message));
  try {
    // Before any name-service lookup, which may leave a socket of its own open at a number the
    // caller left free (sssd's client does): --fd must name a socket the caller passed.
    checkCallerSocket(args.socketFd);
    let shared: SharedHostRequest | null = null;
    if (policy !== null) {
      const caller = identifyCaller(credentials);
      record.userName = caller.userName;
      if (policy instanceof StepError) throw policy;
      shared = { rules: policy, caller };
    }
    createAndSendTap(args, owner, shared, trail, log);
    process.exitCode = 0;
  } catch (err) {
    if (!(err instanceof StepError)) throw err;
    reportStepError(log, err);
    trail.refuse(err.message);
  }
}

// Not awaited at top level, so that the module compiles to bytecode (which top-level await prevents).
void main(process.argv.slice(2));
