// `tap-launcher doctor`'s checks: /dev/net/tun, the helper and its privilege, the caller, the ACL, the bridges and the system log.
import { accessSync, constants, existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { decideBridgeAccess } from "../acl/decide.ts";
import { AclLoadError, loadAcl } from "../acl/load.ts";
import { choosePolicyLine } from "../policy/choose.ts";
import { MOST_PLACES, placeNames, placesHeld } from "../policy/holders.ts";
import { loadPolicy, PolicyLoadError } from "../policy/load.ts";
import { describePolicyRule } from "../policy/rules.ts";
import { FREE_A_PLACE, queueLimit, quotaVerdict } from "../policy/verdicts.ts";
import { type CallerIdentity, lookUpCaller } from "../shared/caller.ts";
import { CredentialsUnreadable, readThreadCredentials } from "../shared/credentials.ts";
import { isBunExecutable } from "../shared/bun-binary.ts";
import { SysError, systemReason } from "../shared/errors.ts";
import { ECONNREFUSED, ENOENT, errnoName, ETIMEDOUT } from "../shared/errno.ts";
import { O_CLOEXEC, O_RDWR, POLLOUT } from "../shared/kernel.ts";
import { closeFd, describeErrno, openPath, pollOneOrErrno } from "../shared/libc.ts";
import { connectToSyslog, SEND_WAIT_MS, SYSLOG_SOCKET } from "../shared/syslog.ts";
import { devicesNamed, type LinkDescription } from "../shared/netlink.ts";
import { listBridgePorts, listLinksOfKind } from "../shared/netlink-launcher.ts";
import { openTunDevice, TUN_DEVICE } from "../shared/tap.ts";
import { privilegeOf } from "./install.ts";
import { nosuidMountOf } from "./mounts.ts";
import { deviceAttribute } from "./sysfs.ts";

export type Severity = "ok" | "warn" | "error" | "critical";

export interface Finding {
  severity: Severity;
  subject: string;
  message: string;
  fix?: string;
}

/** /dev/net/tun exists, is the TUN character device, and this user can open it. */
export function checkTunDevice(): Finding {
  const subject = TUN_DEVICE;
  if (!existsSync(TUN_DEVICE)) {
    return {
      severity: "error",
      subject,
      message: "missing",
      fix: "modprobe tun (or mknod /dev/net/tun c 10 200; chmod 0666 /dev/net/tun)",
    };
  }
  const mode = (statSync(TUN_DEVICE).mode & 0o777).toString(8).padStart(4, "0");
  try {
    closeFd(openTunDevice());
    return { severity: "ok", subject, message: `mode ${mode}, opens for this user` };
  } catch (err) {
    const code = err instanceof SysError ? err.code : String(err);
    const fix =
      code === "EACCES"
        ? "chmod 0666 /dev/net/tun, as Debian's udev does: TUN access is then decided by CAP_NET_ADMIN and TAP ownership"
        : "modprobe tun";
    return { severity: "error", subject, message: `mode ${mode}, cannot be opened by this user (${code})`, fix };
  }
}

export const VHOST_NET_DEVICE = "/dev/vhost-net";

/**
 * Whether this user can open /dev/vhost-net, which QEMU opens itself for `-netdev tap,…,vhost=on`
 * in hand-over mode (the kernel then moves the guest's frames instead of QEMU). Optional, so never
 * an error. Debian's udev gives the node to group kvm, mode 0660.
 */
export function checkVhostNet(): Finding {
  const subject = VHOST_NET_DEVICE;
  if (!existsSync(VHOST_NET_DEVICE)) {
    return {
      severity: "warn",
      subject,
      message: "missing: QEMU's vhost=on is not available (QEMU then moves the frames itself)",
      fix: "as root: modprobe vhost_net",
    };
  }
  const stat = statSync(VHOST_NET_DEVICE);
  const mode = `owner ${stat.uid}:${stat.gid}, mode ${(stat.mode & 0o777).toString(8).padStart(4, "0")}`;
  let fd: number;
  try {
    fd = openPath(VHOST_NET_DEVICE, O_RDWR | O_CLOEXEC);
  } catch (err) {
    const code = err instanceof SysError ? err.code : String(err);
    return {
      severity: "warn",
      subject,
      message: `${mode}, cannot be opened by this user (${code}): QEMU's vhost=on would fail`,
      fix:
        code === "EACCES"
          ? "as root: adduser USER kvm (Debian gives /dev/vhost-net to group kvm), then log in again"
          : "as root: modprobe vhost_net",
    };
  }
  closeFd(fd);
  return { severity: "ok", subject, message: `${mode}, opens for this user: QEMU can use -netdev tap,fds=…,vhost=on` };
}

function describeMode(path: string): string {
  const stat = lstatSync(path);
  return `owner ${stat.uid}:${stat.gid}, mode ${(stat.mode & 0o7777).toString(8).padStart(4, "0")}`;
}

/** The helper at `shim` and the Bun helper beside it: which mode, and nothing privileged that must not be. */
export function checkHelper(shim: string): Finding[] {
  if (!existsSync(shim)) {
    return [
      {
        severity: "error",
        subject: shim,
        message: "no helper installed here",
        fix: "as root: tap-launcher install --prefix=PREFIX --mode=setuid|caps",
      },
    ];
  }
  const findings: Finding[] = [];
  const besideIt = [dirname(shim), join(dirname(shim), "..", "bin")];
  const privilege = privilegeOf(shim);
  const privileged = privilege.setuid || privilege.setgid || privilege.capabilities;
  const bunExecutable = readableBunExecutable(shim);
  if (bunExecutable === null && !mayRun(shim)) {
    return [
      {
        severity: "error",
        subject: shim,
        message: `this user may neither read nor run it (${describeMode(shim)})`,
        fix: "ask an administrator: they may keep it to a group (dpkg-statoverride --list names it), or an upgrade or removal stopped half-way (dpkg --configure -a)",
      },
      ...checkBunExecutablesUnprivileged(besideIt),
    ];
  }
  const nosuidMount = privileged && !bunExecutable ? nosuidMountOf(shim) : null;
  if (bunExecutable) {
    findings.push(
      privileged
        ? {
            severity: "critical",
            subject: shim,
            message: `a Bun executable with ${privilege.capabilities ? "file capabilities" : "the setuid/setgid bit"}: any user can run code with its privilege through BUN_OPTIONS or BUN_BE_BUN`,
            fix: `now, as root: chmod u-s,g-s ${shim}; setcap -r ${shim}; then tap-launcher install`,
          }
        : {
            severity: "warn",
            subject: shim,
            message: "the Bun helper itself, unprivileged: it works only for root",
            fix: "as root: tap-launcher install (then use PREFIX/libexec/tap-bridge-helper)",
          },
    );
  } else if (nosuidMount !== null) {
    findings.push({
      severity: "error",
      subject: shim,
      message: `on a nosuid mount (${nosuidMount}): the kernel ignores its setuid bit and file capabilities, so every run fails with "failed to keep only CAP_NET_ADMIN"`,
      fix: "as root: tap-launcher uninstall, then tap-launcher install --prefix=DIR with DIR on a mount without nosuid (findmnt -T DIR shows its options)",
    });
  } else if (privilege.setuid && lstatSync(shim).uid === 0) {
    findings.push({ severity: "ok", subject: shim, message: `exec shim, setuid mode (${describeMode(shim)})` });
  } else if (privilege.capabilities) {
    findings.push({ severity: "ok", subject: shim, message: `exec shim, caps mode (cap_net_admin, ${describeMode(shim)})` });
  } else {
    findings.push({
      severity: "error",
      subject: shim,
      message: `not privileged (${describeMode(shim)}): it can create TAPs only for root`,
      fix: "as root: tap-launcher install --mode=setuid|caps",
    });
  }
  findings.push(...checkBunExecutablesUnprivileged(besideIt));
  return findings;
}

/** Whether `path` is a Bun executable; null when this user may not read it (an administrator's mode 0750, 0711). */
function readableBunExecutable(path: string): boolean | null {
  try {
    return isBunExecutable(path);
  } catch (err) {
    if ((err as { code?: unknown }).code === "EACCES") return null;
    throw err;
  }
}

/** Whether this user may execute `path`. */
function mayRun(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every Bun executable in `folders` that carries privilege is critical. */
export function checkBunExecutablesUnprivileged(folders: string[]): Finding[] {
  const findings: Finding[] = [];
  for (const folder of folders) {
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (!lstatSync(path).isFile()) continue;
      const bunExecutable = readableBunExecutable(path);
      const privilege = privilegeOf(path);
      const privileged = privilege.setuid || privilege.setgid || privilege.capabilities;
      if (bunExecutable === null && privileged) {
        findings.push({
          severity: "warn",
          subject: path,
          message: `privileged, and this user may not read it (${describeMode(path)}): whether it is a Bun executable is not known`,
          fix: "run tap-launcher doctor as root",
        });
      }
      if (bunExecutable !== true) continue;
      if (privileged) {
        findings.push({
          severity: "critical",
          subject: path,
          message: "a Bun executable carries privilege: every user can get a root shell through BUN_OPTIONS=--preload or BUN_BE_BUN=1",
          fix: `now, as root: chmod u-s,g-s ${path}; setcap -r ${path}`,
        });
      } else if (name.endsWith(".bun")) {
        findings.push({ severity: "ok", subject: path, message: `Bun helper, unprivileged (${describeMode(path)})` });
      }
    }
  }
  return findings;
}

/**
 * This process runs under no_new_privs (`NoNewPrivs: 1` in /proc/self/status; inherited by every
 * child, so the VM started from here would have it too): the kernel then ignores the shim's setuid
 * bit and file capabilities. Root needs neither, so only others are told.
 */
export function checkNoNewPrivs(uid: number): Finding[] {
  const noNewPrivs = /^NoNewPrivs:\s*(\d+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  if (noNewPrivs !== "1" || uid === 0) return [];
  return [
    {
      severity: "error",
      subject: `uid ${uid}`,
      message:
        'this session runs under no_new_privs (NoNewPrivs 1 in /proc/self/status): the kernel ignores the helper\'s setuid bit and file capabilities, so every run fails with "failed to keep only CAP_NET_ADMIN"',
      fix: "run the VM outside the restriction (systemd's NoNewPrivileges=, the container's or flatpak's), or use a TAP made beforehand with tap-launcher --tap=NAME --unmanaged, which needs no privilege",
    },
  ];
}

/** A bridge in this network namespace, as netlink reports it. */
export interface BridgeLink {
  name: string;
  /** Alternative names (`ip link property add … altname`): the ACL decides on every name of the device. */
  altNames: string[];
  ifindex: number;
  address: string;
}

/** `addr_assign_type` of a device whose address was set from user space (`ip link set … address`). <linux/netdevice.h> */
const NET_ADDR_SET = 3;

/**
 * Whether `bridge` keeps its MAC address. A bridge without a set address takes the lowest MAC of its
 * ports, and any caller can set its TAP's MAC through the fd: the helper's `fe:` MAC only prevents
 * accidents. The kernel reports how the address came to be only in sysfs (see deviceAttribute).
 */
export function checkBridgeAddressFixed(bridge: BridgeLink): Finding {
  const subject = `bridge ${bridge.name}`;
  let assignType: string | null;
  try {
    assignType = deviceAttribute({ name: bridge.name, ifindex: bridge.ifindex, address: bridge.address }, "addr_assign_type");
  } catch {
    assignType = null;
  }
  if (assignType === null) {
    return {
      severity: "warn",
      subject,
      message: "cannot tell whether its MAC address is fixed: /sys shows another network namespace",
      fix: "run doctor through ip netns exec NS, which mounts /sys for that namespace",
    };
  }
  if (Number(assignType) === NET_ADDR_SET)
    return { severity: "ok", subject, message: `MAC address ${bridge.address} is fixed: no port's MAC can move it` };
  return {
    severity: "warn",
    subject,
    message: `MAC address ${bridge.address} is not fixed (addr_assign_type ${assignType}): a caller can give its TAP a lower MAC and the bridge takes that as its own address`,
    fix: `ip link set ${bridge.name} address ${bridge.address} (setting it, even to the address it has, makes it fixed)`,
  };
}

/** What an administrator does about an ACL file that cannot be used: create a missing one, open an unreadable one. */
function aclFix(aclFile: string, reason: string): string {
  const missing = `as root, create it with an allow line for each bridge users may use: echo "allow br0" > ${aclFile}; chmod 0644 ${aclFile}`;
  const unreadable = `as root: chmod 0644 ${aclFile} (users' helpers read it with their own permissions)`;
  return reason.endsWith(": ENOENT") ? missing : reason.endsWith(": EACCES") ? unreadable : `as root, fix ${aclFile} as the message says`;
}

/**
 * The ACL files this user can read and the decision they give for each bridge; an error when bridges
 * exist and none is allowed. `asRoot`: also whether each allowed bridge's MAC address is fixed, which
 * only an administrator can change.
 */
export function checkAcl(aclFile: string, bridges: BridgeLink[], asRoot: boolean): { findings: Finding[]; allowed: BridgeLink[] } {
  let acl;
  try {
    acl = loadAcl(aclFile);
  } catch (err) {
    if (!(err instanceof AclLoadError)) throw err;
    const findings: Finding[] = [
      { severity: "error", subject: aclFile, message: `every bridge is denied: ${err.message}`, fix: aclFix(aclFile, err.message) },
    ];
    return { findings, allowed: [] };
  }
  const findings: Finding[] = [{ severity: "ok", subject: aclFile, message: `read ${acl.filesRead.join(", ")}` }];
  for (const warning of acl.warnings) findings.push({ severity: "warn", subject: aclFile, message: warning });
  if (bridges.length === 0)
    findings.push({
      severity: "warn",
      subject: "bridges",
      message: "no bridge in this network namespace",
      fix: "ip link add br0 type bridge",
    });
  const allowed: BridgeLink[] = [];
  for (const bridge of bridges) {
    const decision = decideBridgeAccess(acl.rules, { requested: bridge.name, deviceNames: [bridge.name, ...bridge.altNames] });
    const rule = decision.denyRule ?? decision.allowRule;
    const where = rule === null ? "no rule matches" : `"${rule.action} ${rule.bridge ?? "all"}" at ${rule.file}:${rule.line}`;
    findings.push(
      decision.allowed
        ? { severity: "ok", subject: `bridge ${bridge.name}`, message: `allowed for you (${where})` }
        : {
            severity: "warn",
            subject: `bridge ${bridge.name}`,
            message: `denied for you (${where})`,
            fix: decision.denyRule === null ? `add "allow ${bridge.name}" to ${aclFile}` : "",
          },
    );
    if (decision.allowed) allowed.push(bridge);
    if (decision.allowed && asRoot) findings.push(checkBridgeAddressFixed(bridge));
  }
  if (bridges.length > 0 && allowed.length === 0) {
    findings.push({
      severity: "error",
      subject: aclFile,
      message: `no bridge is allowed for you: it denies ${bridges.map((bridge) => bridge.name).join(", ")}`,
      fix: `ask the administrator to add "allow BR" for the bridge you need to ${aclFile}`,
    });
  }
  return { findings, allowed };
}

/**
 * The shared-hosts policy as it applies to this user on each bridge `allowed` lists: the line that
 * holds, the limit, the TAPs counted against them now, isolation and the queue limit. Nothing when
 * there is no policy file; an error when it cannot be read or parsed (the helper then denies all).
 */
export function checkPolicy(policyFile: string, allowed: BridgeLink[]): Finding[] {
  let rules;
  try {
    rules = loadPolicy(policyFile);
  } catch (err) {
    if (!(err instanceof PolicyLoadError)) throw err;
    return [
      { severity: "error", subject: policyFile, message: `every bridge is denied: ${err.message}`, fix: `as root, fix ${policyFile}` },
    ];
  }
  if (rules === null) return [];
  let caller: CallerIdentity;
  try {
    const [credentials] = readThreadCredentials();
    if (credentials === undefined) throw new CredentialsUnreadable("no thread's status could be read");
    caller = lookUpCaller(credentials);
  } catch (err) {
    if (err instanceof SysError) {
      return [
        {
          severity: "error",
          subject: policyFile,
          message: `every bridge is denied: cannot look up the names of your uid and groups: ${systemReason(err)}`,
          fix: "the policy matches user and group names: an administrator checks the name service (getent passwd, getent group)",
        },
      ];
    }
    if (err instanceof CredentialsUnreadable)
      return [{ severity: "error", subject: policyFile, message: `cannot tell who you are: ${err.message}` }];
    throw err;
  }
  const who = `${caller.userName ?? "uid"} ${caller.uid}${caller.groupNames.length > 0 ? ` (groups ${caller.groupNames.join(", ")})` : ""}`;
  const findings: Finding[] = [{ severity: "ok", subject: policyFile, message: `read; you are ${who}` }];
  for (const bridge of allowed) {
    const choice = choosePolicyLine(rules, caller, [bridge.name, ...bridge.altNames]);
    if (!choice.known) {
      const ids = [...(choice.unnamedUser ? [`uid ${caller.uid}`] : []), ...choice.unnamedGids.map((gid) => `gid ${gid}`)];
      findings.push({
        severity: "error",
        subject: `bridge ${bridge.name}`,
        message: `every request is refused: the name service gives no name for ${ids.join(", ")}, and the policy names users or groups`,
        fix: "an administrator makes the name service answer for them (getent passwd UID, getent group GID)",
      });
      continue;
    }
    const rule = choice.rule;
    const limit = rule?.maxTaps ?? MOST_PLACES;
    let held: string[];
    let aboveLimit: string[];
    try {
      // Counted as the helper counts (your places below the limit, on any device), and apart the
      // ports in places at or above it (left by a higher limit), which count for nothing.
      held = devicesNamed(placeNames(caller.uid, bridge.ifindex, limit)).filter((name) => name !== null);
      aboveLimit = placesHeld(listBridgePorts(bridge.ifindex), caller.uid, bridge.ifindex)
        .filter(({ place }) => place >= limit)
        .map(({ link, place }) => `${link.name} in place ${place}`);
    } catch (err) {
      if (!(err instanceof SysError)) throw err;
      findings.push({
        severity: "warn",
        subject: `bridge ${bridge.name}`,
        message: `cannot count the TAPs you hold: ${systemReason(err)}`,
      });
      continue;
    }
    const inUse =
      `${held.length} in use${held.length > 0 ? ` (${held.join(", ")})` : ""}` +
      `${aboveLimit.length > 0 ? `, and ${aboveLimit.length} at or above the limit that count for nothing until they stop (${aboveLimit.join(", ")})` : ""}`;
    const subject = `bridge ${bridge.name}`;
    if (rule === null) {
      findings.push({
        severity: "ok",
        subject,
        message: `no line of the policy applies to you: no limit, ${inUse}, ${queuesPerTap(queueLimit(null))}`,
      });
      continue;
    }
    const verdict = quotaVerdict(rule, held);
    const message =
      `at most ${verdict.limit} TAP${verdict.limit === 1 ? "" : "s"} for you (${describePolicyRule(rule)}), ${inUse}` +
      `${rule.isolated ? ", ports isolated" : ""}, ${queuesPerTap(queueLimit(rule))}` +
      `${rule.locked ? ", each port locked to the MAC address you pass (tap-launcher --mac=MAC)" : ""}` +
      `${rule.addresses === null ? "" : `, source addresses only in ${rule.addresses.map((prefix) => prefix.text).join(", ")}`}` +
      `${rule.locked && held.length > 0 ? `; registered: ${registeredMacs(bridge.name, held).join(", ") || "none"}` : ""}`;
    findings.push(
      verdict.allowed
        ? { severity: "ok", subject, message }
        : { severity: "warn", subject, message: `${message}: the next request is refused`, fix: FREE_A_PLACE },
    );
  }
  return findings;
}

/**
 * Whether the helper can write its audit lines to the system log, which it does only under a policy
 * file: `socketPath` exists, something listens, this user (the helper runs as its caller) may write
 * to it, and its queue has room now. It connects as the helper does (datagram, then stream) and
 * sends nothing. Under a policy a grant whose line is not taken within SEND_WAIT_MS is refused; with
 * no system log at all, TAPs are granted without lines.
 */
export function checkSystemLog(policyFile: string, socketPath = SYSLOG_SOCKET): Finding[] {
  if (!existsSync(policyFile)) return [];
  const subject = socketPath;
  const audited = `the helper logs each decision under ${policyFile} there`;
  const connected = connectToSyslog(socketPath, performance.now() + SEND_WAIT_MS);
  if (connected === -ENOENT || connected === -ECONNREFUSED) {
    return [
      {
        severity: "warn",
        subject,
        message: `${connected === -ENOENT ? "missing" : "nothing listens on it"}: no system log, so TAPs are granted under ${policyFile} with no audit line`,
        fix: "as root: start a syslog daemon (systemd-journald, rsyslog or syslog-ng), which listens on /dev/log",
      },
    ];
  }
  if (connected === -ETIMEDOUT) {
    return [
      {
        severity: "warn",
        subject,
        message: `a stream socket whose daemon accepted no connection for ${SEND_WAIT_MS / 1000} s: while that lasts, every grant under ${policyFile} is refused, its audit line not written`,
        fix: "as root: check the syslog daemon (its connection limit, or someone holding its connections)",
      },
    ];
  }
  if (typeof connected === "number") {
    const reason = `${describeErrno(-connected)} (${errnoName(-connected)})`;
    return [
      {
        severity: "error",
        subject,
        message: `this user cannot write to it: ${reason}: every grant under ${policyFile} is refused, its audit line not written`,
        fix: "as root: let every user write to it, as syslog daemons make it (mode 0666)",
      },
    ];
  }
  try {
    if (connected.stream)
      return [{ severity: "ok", subject, message: `a stream socket (as syslog-ng's unix-stream), writable by you: ${audited}` }];
    // A connected datagram socket polls writable only while the reader's queue has room.
    if (pollOneOrErrno(connected.fd, POLLOUT, 0) === 0) {
      return [
        {
          severity: "warn",
          subject,
          message: `its queue is full now: a grant under ${policyFile} is refused when its line finds no room for ${SEND_WAIT_MS / 1000} s`,
          fix: "as root: check that the syslog daemon is running and reading (a flood of /dev/log shows in its own log)",
        },
      ];
    }
    return [{ severity: "ok", subject, message: `a datagram socket, writable by you: ${audited}` }];
  } finally {
    closeFd(connected.fd);
  }
}

/**
 * The name the helper gives a multiqueue TAP only while it makes one (helper/make-tap.ts: `tap` and 12 hex digits); it renames
 * it to `tapN` before the TAP joins the bridge, and deletes it on any failure.
 */
const IN_MAKING_NAME = /^tap[0-9a-f]{12}$/;

/**
 * Multiqueue TAPs still under that name and on no bridge: what a caller keeps who took a queue of one in the moment before
 * it had an owner and killed the helper (docs/design.md, "What the helper cannot undo"). No one's places count them.
 */
export function checkStrandedTaps(): Finding[] {
  let taps: LinkDescription[];
  try {
    taps = listLinksOfKind("tun");
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    return [
      { severity: "warn", subject: "TAP devices", message: `cannot list them to look for TAPs a killed helper left: ${systemReason(err)}` },
    ];
  }
  return taps
    .filter(({ name, tun, master }) => tun?.type === "tap" && tun.multiQueue && master === null && IN_MAKING_NAME.test(name))
    .map(({ name, tun }) => ({
      severity: "warn",
      subject: `TAP ${name}`,
      message:
        `a multiqueue TAP under the name the helper gives one only while making it, on no bridge ` +
        `(owner ${tun?.owner ?? "none"}${tun?.persistent ? ", persistent" : ""}): left by a request whose helper was killed ` +
        "after another program took a queue of it (or being made right now: run doctor again); it counts against no one",
      fix: `as root: ip tuntap del dev ${name} mode tap multi_queue; only users given queues= in the policy file can leave one`,
    }));
}

/** "at most N queues per TAP", or "one queue per TAP". */
function queuesPerTap(limit: number): string {
  return limit === 1 ? "one queue per TAP" : `at most ${limit} queues per TAP`;
}

/** `TAP MAC` for each static sticky FDB entry (a `locked` port's registered MAC) of `taps`, from `bridge -j fdb show br BRIDGE`. */
function registeredMacs(bridge: string, taps: readonly string[]): string[] {
  const result = Bun.spawnSync({ cmd: ["bridge", "-j", "fdb", "show", "br", bridge], stdout: "pipe", stderr: "ignore" });
  if (result.exitCode !== 0) return [];
  const entries = JSON.parse(result.stdout.toString() || "[]") as { mac: string; ifname: string; flags?: string[]; state?: string }[];
  return entries
    .filter((entry) => taps.includes(entry.ifname) && entry.state === "static" && entry.flags?.includes("sticky") === true)
    .map((entry) => `${entry.ifname} ${entry.mac}`);
}

/** Bridges in this network namespace, as the kernel reports them over netlink (`ip link show type bridge`); none when it cannot tell. */
export function listBridges(): BridgeLink[] {
  try {
    return listLinksOfKind("bridge").map((link) => ({
      name: link.name,
      altNames: link.altNames,
      ifindex: link.index,
      address: link.address ?? "",
    }));
  } catch (err) {
    if (err instanceof SysError) return [];
    throw err;
  }
}

/** QEMU's compiled-in bridge helper, the one `-netdev bridge` runs with no helper=: Debian's path, then Fedora's. */
export const QEMU_DEFAULT_HELPERS = ["/usr/lib/qemu/qemu-bridge-helper", "/usr/libexec/qemu-bridge-helper"];

/**
 * For the Debian package's layout (the shim at /usr/libexec/tap-bridge-helper): whether QEMU's default
 * helper path leads to it (tap-launcher-qemu-helper diverts QEMU's own aside), so that QEMU and
 * libvirt's session mode need no helper= or bridge_helper setting; if not, how to switch. Nothing for
 * other prefixes (a source install is named with helper=), nor where QEMU's helper path does not exist.
 */
export function checkQemuDefaultHelper(shim: string, candidates = QEMU_DEFAULT_HELPERS): Finding[] {
  if (shim !== "/usr/libexec/tap-bridge-helper" || !existsSync(shim)) return [];
  const ours = realpathSync(shim);
  const findings: Finding[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    if (realpathSync(path) === ours) {
      findings.push({
        severity: "ok",
        subject: path,
        message: `QEMU's default bridge helper is ${shim}: -netdev bridge and libvirt's session mode use it with no helper= or bridge_helper`,
      });
    } else {
      findings.push({
        severity: "warn",
        subject: path,
        message: `QEMU's default bridge helper is not ${shim}: -netdev bridge without helper= runs this one`,
        fix: `as root: apt install tap-launcher-qemu-helper (it diverts QEMU's own aside), or give QEMU helper=${shim} and libvirt bridge_helper = "${shim}" in ~/.config/libvirt/qemu.conf`,
      });
    }
  }
  return findings;
}
