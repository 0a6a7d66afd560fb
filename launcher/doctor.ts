// `tap-launcher doctor`'s checks: /dev/net/tun, the helper and its privilege, the ACL for this user.
import { existsSync, lstatSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { decideBridgeAccess } from "../acl/decide.ts";
import { AclLoadError, loadAcl } from "../acl/load.ts";
import { isBunExecutable } from "../shared/bun-binary.ts";
import { SysError } from "../shared/errors.ts";
import { closeFd } from "../shared/libc.ts";
import { openTunDevice, TUN_DEVICE } from "../shared/tap.ts";
import { privilegeOf } from "./install.ts";

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
    return { severity: "error", subject, message: "missing", fix: "modprobe tun (or mknod /dev/net/tun c 10 200; chmod 0666 /dev/net/tun)" };
  }
  const mode = (statSync(TUN_DEVICE).mode & 0o777).toString(8).padStart(4, "0");
  try {
    closeFd(openTunDevice());
    return { severity: "ok", subject, message: `mode ${mode}, opens for this user` };
  } catch (err) {
    const code = err instanceof SysError ? err.code : String(err);
    const fix = code === "EACCES"
      ? "chmod 0666 /dev/net/tun, as Debian's udev does: TUN access is then decided by CAP_NET_ADMIN and TAP ownership"
      : "modprobe tun";
    return { severity: "error", subject, message: `mode ${mode}, cannot be opened by this user (${code})`, fix };
  }
}

function describeMode(path: string): string {
  const stat = lstatSync(path);
  return `owner ${stat.uid}:${stat.gid}, mode ${(stat.mode & 0o7777).toString(8).padStart(4, "0")}`;
}

/** The helper at `shim` and the Bun helper beside it: which mode, and nothing privileged that must not be. */
export function checkHelper(shim: string): Finding[] {
  if (!existsSync(shim)) {
    return [{ severity: "error", subject: shim, message: "no helper installed here", fix: "as root: tap-launcher install --prefix=PREFIX --mode=setuid|caps" }];
  }
  const findings: Finding[] = [];
  const privilege = privilegeOf(shim);
  const privileged = privilege.setuid || privilege.setgid || privilege.capabilities;
  if (isBunExecutable(shim)) {
    findings.push(privileged
      ? { severity: "critical", subject: shim, message: `a Bun executable with ${privilege.capabilities ? "file capabilities" : "the setuid/setgid bit"}: any user can run code with its privilege through BUN_OPTIONS or BUN_BE_BUN`, fix: `now, as root: chmod u-s,g-s ${shim}; setcap -r ${shim}; then tap-launcher install` }
      : { severity: "warn", subject: shim, message: "the Bun helper itself, unprivileged: it works only for root", fix: "as root: tap-launcher install (then use PREFIX/libexec/tap-bridge-helper)" });
  } else if (privilege.setuid && lstatSync(shim).uid === 0) {
    findings.push({ severity: "ok", subject: shim, message: `exec shim, setuid mode (${describeMode(shim)})` });
  } else if (privilege.capabilities) {
    findings.push({ severity: "ok", subject: shim, message: `exec shim, caps mode (cap_net_admin, ${describeMode(shim)})` });
  } else {
    findings.push({ severity: "error", subject: shim, message: `not privileged (${describeMode(shim)}): it can create TAPs only for root`, fix: "as root: tap-launcher install --mode=setuid|caps" });
  }
  findings.push(...checkBunExecutablesUnprivileged([dirname(shim), join(dirname(shim), "..", "bin")]));
  return findings;
}

/** Every Bun executable in `folders` that carries privilege is critical. */
export function checkBunExecutablesUnprivileged(folders: string[]): Finding[] {
  const findings: Finding[] = [];
  for (const folder of folders) {
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (!lstatSync(path).isFile() || !isBunExecutable(path)) continue;
      const privilege = privilegeOf(path);
      if (privilege.setuid || privilege.setgid || privilege.capabilities) {
        findings.push({ severity: "critical", subject: path, message: "a Bun executable carries privilege: every user can get a root shell through BUN_OPTIONS=--preload or BUN_BE_BUN=1", fix: `now, as root: chmod u-s,g-s ${path}; setcap -r ${path}` });
      } else if (name.endsWith(".bun")) {
        findings.push({ severity: "ok", subject: path, message: `Bun helper, unprivileged (${describeMode(path)})` });
      }
    }
  }
  return findings;
}

/** The ACL files this user can read and the decision they give for each bridge. */
export function checkAcl(aclFile: string, bridges: string[]): Finding[] {
  let acl;
  try {
    acl = loadAcl(aclFile);
  } catch (err) {
    if (!(err instanceof AclLoadError)) throw err;
    return [{ severity: "error", subject: aclFile, message: `every bridge is denied: ${err.message}`, fix: `as root, fix ${aclFile}` }];
  }
  const findings: Finding[] = [{ severity: "ok", subject: aclFile, message: `read ${acl.filesRead.join(", ")}` }];
  for (const warning of acl.warnings) findings.push({ severity: "warn", subject: aclFile, message: warning });
  if (bridges.length === 0) findings.push({ severity: "warn", subject: "bridges", message: "no bridge in this network namespace", fix: "ip link add br0 type bridge" });
  for (const bridge of bridges) {
    const decision = decideBridgeAccess(acl.rules, bridge);
    const rule = decision.denyRule ?? decision.allowRule;
    const where = rule === null ? "no rule matches" : `"${rule.action} ${rule.bridge ?? "all"}" at ${rule.file}:${rule.line}`;
    findings.push(decision.allowed
      ? { severity: "ok", subject: `bridge ${bridge}`, message: `allowed for you (${where})` }
      : { severity: "warn", subject: `bridge ${bridge}`, message: `denied for you (${where})`, fix: decision.denyRule === null ? `add "allow ${bridge}" to ${aclFile}` : "" });
  }
  return findings;
}

/** Bridges in this network namespace, from `ip -j link show type bridge`. */
export function listBridges(): string[] {
  const result = Bun.spawnSync({ cmd: ["ip", "-j", "link", "show", "type", "bridge"], stdout: "pipe", stderr: "ignore" });
  if (result.exitCode !== 0) return [];
  return (JSON.parse(result.stdout.toString() || "[]") as { ifname: string }[]).map((link) => link.ifname);
}
