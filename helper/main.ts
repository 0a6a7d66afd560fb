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
import { StepError, SysError, UsageError, systemReason } from "../shared/errors.ts";
import { sendFd } from "../shared/fdpass.ts";
import { formatMac } from "../shared/ifreq.ts";
import { EBADF } from "../shared/errno.ts";
import { AF_UNIX, IFF_VNET_HDR, SO_DOMAIN, SOL_SOCKET } from "../shared/kernel.ts";
import { closeFd, describeErrno, getSocketOptionInt } from "../shared/libc.ts";
import { createLogger, reportStepError } from "../shared/log.ts";
import { describeLink } from "../shared/netlink.ts";
import { interfaceNameProblem } from "../shared/ifname.ts";
import { InterfaceControl } from "../shared/netdev.ts";
import { attachNewTap, openTunDevice, TUN_DEVICE, tunFeatures } from "../shared/tap.ts";
import { HELPER_USAGE_LINE, helperUsage, parseHelperArgv, type HelperArgs } from "./args.ts";
import { SEND_TIMEOUT_MS, TAP_NAME_TEMPLATE } from "./config.ts";
import { checkLeastPrivilege } from "./privilege.ts";

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
  for (const [stdio, name] of [[0, "input"], [1, "output"], [2, "error"]] as const) {
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

/** The helper's job, in order; every fd it opens is closed on the way out. */
function createAndSendTap(args: HelperArgs, log: ConsolaInstance): void {
  const { socketFd } = args;
  checkCallerSocket(socketFd);
  const control = attempt("open a control socket", () => new InterfaceControl());
  let tunFd = -1;
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
      throw new StepError(`failed to find bridge \`${args.bridge}': the device's name ${JSON.stringify(bridge)} is not one the helper handles (${nameProblem})`, {
        hint: `an administrator renames it (ip link set dev ${args.bridge} name NEWNAME) to printable ASCII`,
      });
    }

    tunFd = attempt(`open ${TUN_DEVICE}`, openTunDevice, {
      ENOENT: "load the tun module (modprobe tun) or create the node (mknod /dev/net/tun c 10 200)",
      ENODEV: "load the tun module (modprobe tun)",
      EACCES: `the helper runs as you and ${TUN_DEVICE} is not open to you: make it mode 0666, as Debian's udev does (chmod 0666 ${TUN_DEVICE})`,
    });
    const fd = tunFd;
    const vnetHeader = args.useVnet && (attempt(`query features of ${TUN_DEVICE}`, () => tunFeatures(fd)) & IFF_VNET_HDR) !== 0;
    const tap = attempt("create tun device", () => attachNewTap(fd, TAP_NAME_TEMPLATE, vnetHeader), {
      EPERM: "the helper lacks CAP_NET_ADMIN: `tap-launcher doctor` says how it is installed",
    });
    log.debug(`created ${tap}${vnetHeader ? " with virtio-net header" : ""}`);

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
    const master = attempt(`add interface \`${tap}' to bridge \`${bridge}'`, () => describeLink(control.index(tap)).master);
    if (master !== found.index) {
      throw new StepError(`failed to add interface \`${tap}' to bridge \`${bridge}': the bridge was renamed or replaced while the TAP was being made`, { hint: "run it again" });
    }
    attempt(`bring up interface \`${tap}'`, () => control.bringUp(tap));
    attempt(`write fd to unix socket --fd=${socketFd}`, () => sendFd(socketFd, fd, SEND_TIMEOUT_MS), {
      EPIPE: "the receiving end closed the socket before the fd arrived",
      ETIMEDOUT: "the program that ran the helper must read the fd at once, as QEMU and libvirt do",
    });
    log.debug(`sent ${tap} (mtu ${mtu}, mac ${formatMac(mac)}) on bridge ${bridge}`);
  } finally {
    // The TAP is not persistent: with this fd closed and nothing received, it disappears.
    control.close();
    if (tunFd >= 0) closeFd(tunFd);
  }
}

async function main(argv: readonly string[]): Promise<void> {
  process.exitCode = 1;
  const log = createLogger("tap-bridge-helper");
  try {
    log.debug(`credentials: ${checkLeastPrivilege()}`);
  } catch (err) {
    if (!(err instanceof StepError)) throw err;
    reportStepError(log, err);
    return;
  }
  let args: HelperArgs | "help";
  try {
    args = parseHelperArgv(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    log.error(err.message);
    log.info(HELPER_USAGE_LINE);
    return;
  }
  if (args === "help") {
    process.stdout.write(`${await helperUsage(process.stdout.isTTY === true)}\n`);
    process.exitCode = 0;
    return;
  }
  try {
    createAndSendTap(args, log);
    process.exitCode = 0;
  } catch (err) {
    if (!(err instanceof StepError)) throw err;
    reportStepError(log, err);
  }
}

await main(process.argv.slice(2));
