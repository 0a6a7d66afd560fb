// The .deb files installed with dpkg into an isolated root (never the host's): QEMU and libvirt with no helper setting, LXC's lxc-user-nic path, doctor, statoverride, reinstall, remove, purge.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { closeFd } from "../../shared/libc.ts";
import { tempFolder } from "../support/build.ts";
import { type Guest, qemuCommand } from "../support/guest.ts";
import { runHelper } from "../support/helper-run.ts";
import { TestNetns } from "../support/netns.ts";
import { runOk } from "../support/proc.ts";
import { BRIDGE_ADDRESS, bridgeWithAddress, GUEST_ADDRESS, testGuest } from "../support/qemu.ts";
import { ALICE, asUser, BOB, LAB_GROUP } from "../support/users.ts";
import { vethNames } from "../support/user-nic.ts";
import { builtDebs } from "./built-debs.ts";
import { IsolatedRoot } from "./isolated-root.ts";

const SHIM = "/usr/libexec/tap-bridge-helper";
const USER_NIC_SHIM = "/usr/libexec/tap-user-nic";
const QEMU_HELPER = "/usr/lib/qemu/qemu-bridge-helper";
/** LXC's compiled-in path (liblxc-common's file, setuid root), where tap-launcher-lxc-user-nic puts ours. */
const LXC_USER_NIC = "/usr/libexec/lxc/lxc-user-nic";
/** Where both diverting packages put the other packages' files: a folder only root can enter. */
const DIVERT_DIR = "/usr/lib/tap-launcher/diverted";
const LXC_DIVERTED = `${DIVERT_DIR}/lxc-user-nic`;
const QEMU_DIVERTED = `${DIVERT_DIR}/qemu-bridge-helper`;
/** liblxc-common's .deb at the installed version, from apt's cache, to upgrade it while it is diverted. */
const LXC_COMMON_CACHE = "/var/cache/apt/archives";
const PACKAGES = "tap-launcher tap-launcher-qemu-helper tap-launcher-lxc-user-nic";
const MAIN_DEB = "/tmp/tap-launcher.deb";
const QEMU_DEB = "/tmp/tap-launcher-qemu-helper.deb";
const LXC_DEB = "/tmp/tap-launcher-lxc-user-nic.deb";
/** The same packages at a later version, for the upgrade. */
const NEXT_VERSION = `${packageJson.version}+upgrade1`;
const MAIN_NEXT = "/tmp/tap-launcher-next.deb";
const QEMU_NEXT = "/tmp/tap-launcher-qemu-helper-next.deb";
const LXC_NEXT = "/tmp/tap-launcher-lxc-user-nic-next.deb";

let ns: TestNetns;
let root: IsolatedRoot;
let guest: Guest;
/** The host's state that must not change: its dpkg database and QEMU's helper. */
let hostBefore: string;
/** sha256 of QEMU's own helper before anything was installed. */
let qemuHelperSum: string;
/** LXC's own lxc-user-nic before anything was installed: "SHA256 OWNER:GROUP MODE". */
let lxcUserNicBefore: string;

/** "SHA256 OWNER:GROUP MODE" of the file at `path` in the root. */
async function fileState(path: string): Promise<string> {
  return (await root.sh(`echo "$(sha256sum < ${path} | cut -d' ' -f1) $(stat -c '%U:%G %a' ${path})"`)).trim();
}

/**
 * sha256 of the host's diversions and statoverrides and of QEMU's helper, and what /usr/libexec and
 * /etc/qemu hold (the status file itself changes whenever someone installs a package on the host).
 */
async function hostState(): Promise<string> {
  return runOk([
    "sh",
    "-c",
    `sha256sum /var/lib/dpkg/diversions /var/lib/dpkg/statoverride ${QEMU_HELPER} ${LXC_USER_NIC}; stat -c '%U:%G %a %n' ${LXC_USER_NIC}; ls /usr/libexec /usr/libexec/lxc /etc/qemu /etc/lxc 2>&1; true`,
  ]);
}

beforeAll(async () => {
  hostBefore = await hostState();
  const [debs, tinyGuest] = await Promise.all([builtDebs(), testGuest()]);
  guest = tinyGuest;
  ns = await TestNetns.create();
  await bridgeWithAddress(ns, "br0");
  root = await IsolatedRoot.create(ns);
  await root.copyIn(debs.main, MAIN_DEB);
  await root.copyIn(debs.qemuHelper, QEMU_DEB);
  await root.copyIn(await withVersion(debs.main, NEXT_VERSION, false), MAIN_NEXT);
  await root.copyIn(await withVersion(debs.qemuHelper, NEXT_VERSION, true), QEMU_NEXT);
  await root.copyIn(debs.lxcUserNic, LXC_DEB);
  await root.copyIn(await withVersion(debs.lxcUserNic, NEXT_VERSION, true), LXC_NEXT);
  await root.copyIn(guest.initrd, "/tmp/initrd.cpio.gz");
  qemuHelperSum = (await root.sh(`sha256sum ${QEMU_HELPER}`)).split(" ")[0] ?? "";
  if (!existsSync(LXC_USER_NIC)) throw new Error(`no ${LXC_USER_NIC}: apt-get install lxc (scripts/install-deps.sh)`);
  lxcUserNicBefore = await fileState(LXC_USER_NIC);
}, 600_000);

afterAll(async () => {
  await root?.dispose();
  await ns?.dispose();
});

/**
 * A copy of `deb` at `version` (dpkg-deb -R, the Version field, dpkg-deb -b); with
 * `bumpDependency`, its dependency on tap-launcher's exact version too.
 */
async function withVersion(deb: string, version: string, bumpDependency: boolean): Promise<string> {
  const tree = join(tempFolder("tl-next-"), "tree");
  await runOk(["dpkg-deb", "-R", deb, tree]);
  const control = join(tree, "DEBIAN", "control");
  let text = readFileSync(control, "utf8").replace(/^Version: .*$/m, `Version: ${version}`);
  if (bumpDependency) text = text.replace(/^Depends: tap-launcher \(= [^)]*\)$/m, `Depends: tap-launcher (= ${version})`);
  writeFileSync(control, text);
  const out = join(tempFolder("tl-next-deb-"), "next.deb");
  await runOk(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", tree, out]);
  return out;
}

/** The privileged files (setuid, setgid or file capabilities) among `paths` in the root, as "MODE PATH [CAPS]". */
async function privileged(paths: string): Promise<string[]> {
  const out = await root.sh(
    `for f in ${paths}; do [ -f "$f" ] || continue; caps=$(getcap "$f"); mode=$(stat -c %a "$f"); case "$mode" in [2-7]???) echo "$mode $f";; *) [ -n "$caps" ] && echo "$mode $caps";; esac; done; true`,
  );
  return out.trim() === "" ? [] : out.trim().split("\n");
}

/**
 * The helper, run as `user` in the root the way QEMU runs it; returns its exit status and message.
 * Through env: setpriv itself execs with the capabilities it still holds, so the kernel would check
 * the shim's mode against root's CAP_DAC_OVERRIDE; env runs as the user alone, as QEMU would.
 */
async function helperAs(user: typeof ALICE): Promise<{ exitCode: number; stderr: string; sent: boolean }> {
  const outcome = await runHelper(root.argv(["env", SHIM, "--use-vnet", "--fd=3", "--br=br0"], asUser(user)));
  if (outcome.fd !== null) closeFd(outcome.fd);
  return { exitCode: outcome.exitCode, stderr: outcome.stderr, sent: outcome.fd !== null };
}

/** A transient domain booting the tiny guest, its NIC on br0 through libvirt's default bridge helper, its console in HOME/console.log. */
function sessionDomain(home: string): string {
  return `<domain type='qemu'>
  <name>tl-session</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${guest.kernel}</kernel>
    <initrd>/tmp/initrd.cpio.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet tl.ip=${GUEST_ADDRESS} tl.target=${BRIDGE_ADDRESS} tl.count=3</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='bridge'><source bridge='br0'/><model type='virtio'/><rom enabled='no'/></interface>
    <serial type='file'><source path='${home}/console.log'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>`;
}

/**
 * Both diversions in place: QEMU's and LXC's own files in root's 0700 folder, unchanged (LXC's with
 * its owner and setuid mode), nothing left beside their paths.
 */
async function expectDiverted(): Promise<void> {
  expect((await root.sh(`dpkg-divert --list ${LXC_USER_NIC}; dpkg-divert --list ${QEMU_HELPER}`)).trim()).toBe(
    `diversion of ${LXC_USER_NIC} to ${LXC_DIVERTED} by tap-launcher-lxc-user-nic\n` +
      `diversion of ${QEMU_HELPER} to ${QEMU_DIVERTED} by tap-launcher-qemu-helper`,
  );
  expect((await root.sh(`stat -c '%U:%G %a' ${DIVERT_DIR}`)).trim()).toBe("root:root 700");
  expect(await fileState(LXC_DIVERTED)).toBe(lxcUserNicBefore);
  expect((await root.sh(`sha256sum ${QEMU_DIVERTED}`)).split(" ")[0]).toBe(qemuHelperSum);
  expect((await root.sh(`ls -d ${LXC_USER_NIC}.* ${QEMU_HELPER}.* 2>/dev/null || true`)).trim()).toBe("");
}

const installAll = () => root.sh(`dpkg -i ${MAIN_DEB} ${QEMU_DEB} ${LXC_DEB} </dev/null`);

/**
 * The files `dpkg -L` lists for our packages, without the other packages' paths they divert and the
 * "diverted by ... to: PATH" lines: those are QEMU's and LXC's own files (LXC's setuid root).
 */
async function ourFiles(): Promise<string> {
  const listed = (await root.sh(`dpkg -L ${PACKAGES}`)).trim().split("\n");
  return listed.filter((path) => path.startsWith("/") && path !== LXC_USER_NIC && path !== QEMU_HELPER).join(" ");
}

/** Creates alice in the root (for libvirt's session and the lxc-usernet line), once. */
async function aliceAccount(home: string): Promise<void> {
  await root.sh(
    `getent passwd alice >/dev/null || { groupadd -g ${ALICE.gid} alice && useradd -u ${ALICE.uid} -g ${ALICE.gid} -d ${home} -M -s /bin/sh alice; } && ` +
      `mkdir -p ${home}/run && chown -R ${ALICE.uid}:${ALICE.gid} ${home} && chmod 0700 ${home}/run`,
  );
}

/**
 * A process of `user` in a new user and network namespace of its own (unshare -Urn, which execs: the
 * pid is the container's), in the test's network namespace: what LXC hands lxc-user-nic as PID. It
 * runs outside the root, since the kernel refuses a new user namespace to a chrooted process; the
 * root's /proc shows the same pids.
 */
async function containerOf(user: typeof ALICE): Promise<{ pid: number; kill: () => Promise<void> }> {
  const child = Bun.spawn({
    cmd: [...ns.prefix(), ...asUser(user), "unshare", "-Urn", "sleep", "600"],
    stdout: "ignore",
    stderr: "ignore",
  });
  const kill = async () => {
    child.kill("SIGKILL");
    await child.exited;
  };
  for (let tries = 0; tries < 500; tries += 1) {
    try {
      if (readFileSync(`/proc/${child.pid}/comm`, "utf8").trim() === "sleep") return { pid: child.pid, kill };
    } catch {
      // not there yet
    }
    await Bun.sleep(10);
  }
  await kill();
  throw new Error("the test container did not start");
}

describe("installed with dpkg into an isolated root", () => {
  test("dpkg -i: both shims get cap_net_admin+p and nothing else is privileged; QEMU's helper and LXC's lxc-user-nic are diverted into root's folder, unchanged, and no user can run them there", async () => {
    await installAll();
    expect((await root.sh(`getcap ${SHIM}`)).trim()).toBe(`${SHIM} cap_net_admin=p`);
    expect((await root.sh(`stat -c '%U:%G %a' ${SHIM}`)).trim()).toBe("root:root 755");
    expect(await privileged(await ourFiles())).toEqual([`755 ${SHIM} cap_net_admin=p`, `755 ${USER_NIC_SHIM} cap_net_admin=p`]);
    // LXC's path leads to our shim, which carries the privilege; LXC's own is renamed, setuid root as it was.
    await expectDiverted();
    expect(lxcUserNicBefore).toEndWith(" root:root 4755");
    // ...but in a folder only root enters: no user runs LXC's setuid file around our policy.
    const bypass = await root.run(["env", LXC_DIVERTED, "create", "/tmp", "c1", "1", "veth", "br0", "eth0"], asUser(ALICE));
    expect(bypass.exitCode).toBe(126);
    expect(bypass.stderr).toContain("Permission denied");
    expect((await root.run(["env", QEMU_DIVERTED, "--help"], asUser(ALICE))).exitCode).toBe(126);
    expect((await root.sh(`readlink ${LXC_USER_NIC}; readlink -f ${LXC_USER_NIC}; getcap $(readlink -f ${LXC_USER_NIC})`)).trim()).toBe(
      `../tap-user-nic\n${USER_NIC_SHIM}\n${USER_NIC_SHIM} cap_net_admin=p`,
    );
    expect((await root.sh(`readlink -f ${QEMU_HELPER}`)).trim()).toBe(SHIM);
  }, 300_000);

  test("liblxc-common upgraded while diverted: its new lxc-user-nic lands in root's folder, setuid as shipped, and LXC's path stays ours", async () => {
    const cached = (await root.sh(`ls ${LXC_COMMON_CACHE}/liblxc-common_*.deb 2>/dev/null || true`)).trim().split("\n")[0] ?? "";
    if (cached === "")
      throw new Error(`no liblxc-common .deb in ${LXC_COMMON_CACHE}: apt-get install --reinstall --download-only liblxc-common`);
    // Its postinst reloads an AppArmor profile when that file is there: hidden, so nothing reaches the kernel.
    const profile = "/etc/apparmor.d/usr.bin.lxc-start";
    await root.sh(`[ ! -e ${profile} ] || mv ${profile} ${profile}.tl-hidden`);
    try {
      await root.sh(`dpkg -i ${cached} </dev/null`);
    } finally {
      await root.sh(`[ ! -e ${profile}.tl-hidden ] || mv ${profile}.tl-hidden ${profile}`);
    }
    await expectDiverted();
    expect((await root.sh(`ls -A /usr/libexec/lxc | grep -c lxc-user-nic; ls -A ${DIVERT_DIR}`)).trim()).toBe(
      "1\nlxc-user-nic\nqemu-bridge-helper",
    );
  }, 300_000);

  test("as shipped, bridge.conf allows nothing: the helper refuses br0", async () => {
    const refused = await helperAs(ALICE);
    expect(refused.exitCode).toBe(1);
    expect(refused.sent).toBe(false);
    expect(refused.stderr).toContain("access denied by acl file: no allow rule matches bridge br0 in /etc/qemu/bridge.conf");
  }, 300_000);

  test("with an allow line: qemu -netdev bridge,br=br0 and NO helper=, run by an unprivileged user, gives a guest that pings the bridge", async () => {
    await root.sh("echo 'allow br0' >> /etc/qemu/bridge.conf");
    const netdev = "bridge,id=n0,br=br0";
    const command = qemuCommand({ ...guest, initrd: "/tmp/initrd.cpio.gz" }, netdev, GUEST_ADDRESS, BRIDGE_ADDRESS);
    expect(command.join(" ")).not.toContain("helper=");
    const qemu = await root.run(["timeout", "150", ...command], asUser(ALICE));
    expect(qemu.stdout).toContain("TL-PING-OK");
    expect(qemu.exitCode).toBe(0);
    expect(await ns.tapNames()).toEqual([]);
  }, 240_000);

  test("tap-launcher doctor, as that user: nothing to fix, and QEMU's default helper is ours", async () => {
    const doctor = await root.run(["tap-launcher", "doctor"], asUser(ALICE));
    expect(doctor.stderr).toContain(`tap-launcher: ok: ${SHIM}: exec shim, caps mode (cap_net_admin, owner 0:0, mode 0755)`);
    expect(doctor.stderr).toContain(`tap-launcher: ok: ${QEMU_HELPER}: QEMU's default bridge helper is ${SHIM}`);
    expect(doctor.stderr).toContain("tap-launcher: ok: bridge br0: allowed for you");
    expect(doctor.stderr).toEndWith("tap-launcher: nothing to fix\n");
    expect(doctor.exitCode).toBe(0);
  }, 300_000);

  test("libvirt's session mode, an <interface type='bridge'> and NO bridge_helper: the domain pings the bridge", async () => {
    if (!existsSync("/usr/sbin/libvirtd"))
      throw new Error("no libvirtd: apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients");
    // libvirt needs the user's passwd entry and a home; its session daemon starts on first use.
    const home = "/tmp/alice";
    await aliceAccount(home);
    await root.sh(`cat > ${home}/domain.xml <<'EOF'\n${sessionDomain(home)}\nEOF\nchown ${ALICE.uid} ${home}/domain.xml`);
    expect(await root.sh(`ls -A ${home}/.config 2>/dev/null || true`)).toBe(""); // no qemu.conf, no bridge_helper
    const session = await root.run(
      [
        "env",
        `HOME=${home}`,
        `XDG_RUNTIME_DIR=${home}/run`,
        "USER=alice",
        "timeout",
        "270",
        "sh",
        "-c",
        `virsh -q -c qemu:///session create ${home}/domain.xml || exit 1
         for second in $(seq 1 240); do grep -q TL-PING- ${home}/console.log 2>/dev/null && break; sleep 1; done
         virsh -q -c qemu:///session destroy tl-session >/dev/null 2>&1
         cat ${home}/console.log
         echo "--- libvirt's log of the domain:"; tail -n 5 ${home}/.cache/libvirt/qemu/log/tl-session.log`,
      ],
      asUser(ALICE),
    );
    expect(session.stderr).toBe("");
    expect(session.stdout).toContain("TL-PING-OK");
    expect(session.exitCode).toBe(0);
    expect(await ns.tapNames()).toEqual([]);
  }, 300_000);

  test("LXC's path runs ours: an unprivileged user's container gets a veth on br0 from /usr/libexec/lxc/lxc-user-nic create, with lxc-user-nic's line; delete removes it", async () => {
    await aliceAccount("/tmp/alice");
    await root.sh("mkdir -p /etc/lxc && echo 'alice veth br0 2' > /etc/lxc/lxc-usernet");
    const container = await containerOf(ALICE);
    try {
      // Through env, as LXC's lxc-start (running as the user) executes it.
      const created = await root.run(
        ["env", LXC_USER_NIC, "create", "/tmp", "c1", String(container.pid), "veth", "br0", "eth0"],
        asUser(ALICE),
      );
      expect(created.stderr).toBe("");
      expect(created.exitCode).toBe(0);
      const line = /^eth0:([0-9]+):(veth[A-Za-z0-9]+):([0-9]+)\n$/.exec(created.stdout);
      expect(line).not.toBeNull();
      const [, peerIndex, hostEnd = "", hostIndex] = line ?? [];
      const host = await ns.link(hostEnd);
      expect([host.master, String((host as unknown as { ifindex: number }).ifindex)]).toEqual(["br0", hostIndex ?? ""]);
      expect((host as unknown as { ifalias?: string }).ifalias).toBe(`tap-user-nic uid=${ALICE.uid} charged=alice bridge=br0`);
      const peer = JSON.parse(await runOk(["nsenter", "-t", String(container.pid), "-n", "ip", "-j", "link", "show", "eth0"])) as {
        ifindex: number;
      }[];
      expect(String(peer[0]?.ifindex)).toBe(peerIndex ?? "");
      const deleted = await root.run(
        ["env", LXC_USER_NIC, "delete", "/tmp", "c1", `/proc/${container.pid}/ns/net`, "veth", "br0", hostEnd],
        asUser(ALICE),
      );
      expect(deleted.stderr).toBe("");
      expect(deleted.exitCode).toBe(0);
      expect(await vethNames(ns)).toEqual([]);
    } finally {
      await container.kill();
    }
    // A veth left by a container that exits goes with its namespace.
    expect(await vethNames(ns)).toEqual([]);
  }, 300_000);

  test("a dpkg-statoverride root:lab 0750 is honoured at reinstall: a member is granted, anyone else refused; the edited bridge.conf is kept", async () => {
    await root.sh(`groupadd -g ${LAB_GROUP} lab && dpkg-statoverride --add root lab 0750 ${SHIM}`);
    await installAll(); // a reinstall: upgrade path, with the conffile edited
    expect((await root.sh(`stat -c '%U:%G %a' ${SHIM}; getcap ${SHIM}`)).trim()).toBe(`root:lab 750\n${SHIM} cap_net_admin=p`);
    expect(await root.sh("grep -v '^#' /etc/qemu/bridge.conf | grep .")).toBe("allow br0\n");
    const member = await helperAs(ALICE);
    expect(member.stderr).toBe("");
    expect([member.exitCode, member.sent]).toEqual([0, true]);
    const outsider = await helperAs(BOB);
    expect(outsider.sent).toBe(false);
    expect(outsider.exitCode).not.toBe(0);
    expect(outsider.stderr).toContain("Permission denied");
    // doctor, as the outsider, says why rather than stopping at the file it may not read.
    const doctor = await root.run(["tap-launcher", "doctor"], asUser(BOB));
    expect(doctor.stderr).toContain(
      `tap-launcher: ERROR: ${SHIM}: this user may neither read nor run it (owner 0:${LAB_GROUP}, mode 0750) -- fix: ask an administrator: they may keep it to a group`,
    );
    expect(doctor.exitCode).toBe(1);
    expect(await ns.tapNames()).toEqual([]);
  }, 300_000);

  test("doctor, as a user, beside a privileged file it may not read: a warning that it cannot tell, no stop", async () => {
    const unreadable = "/usr/libexec/tl-unreadable";
    await root.sh(`install -m 4711 /bin/true ${unreadable}`);
    try {
      const doctor = await root.run(["tap-launcher", "doctor"], asUser(BOB));
      expect(doctor.stderr).toContain(
        `tap-launcher: warning: ${unreadable}: privileged, and this user may not read it (owner 0:0, mode 4711): whether it is a Bun executable is not known -- fix: run tap-launcher doctor as root\n`,
      );
      expect(doctor.stderr).not.toContain("unexpected failure");
    } finally {
      await root.sh(`rm ${unreadable}`);
    }
  }, 300_000);

  test("the same with a setuid override, root:lab 4750", async () => {
    await root.sh(`dpkg-statoverride --remove ${SHIM} && dpkg-statoverride --add root lab 4750 ${SHIM}`);
    await installAll();
    expect((await root.sh(`stat -c '%U:%G %a' ${SHIM}; getcap ${SHIM}`)).trim()).toBe("root:lab 4750");
    expect((await helperAs(ALICE)).sent).toBe(true);
    expect((await helperAs(BOB)).stderr).toContain("Permission denied");
    await root.sh(`dpkg-statoverride --remove ${SHIM}`);
    await installAll();
    expect((await root.sh(`stat -c '%U:%G %a' ${SHIM}; getcap ${SHIM}`)).trim()).toBe(`root:root 755\n${SHIM} cap_net_admin=p`);
  }, 300_000);

  test("where setcap fails (here: no setcap at all), the postinst falls back to setuid root, and the helper works", async () => {
    await root.sh("mv /usr/sbin/setcap /usr/sbin/setcap.hidden");
    try {
      const reinstall = await root.run(["sh", "-c", `dpkg -i ${MAIN_DEB} </dev/null`]);
      expect(reinstall.exitCode).toBe(0);
      expect(reinstall.stderr).toContain(
        `tap-launcher: setcap cap_net_admin+p ${SHIM} failed (no libcap2-bin, or no extended attributes here): making it setuid root`,
      );
      expect((await root.sh(`stat -c '%U:%G %a' ${SHIM}; /usr/sbin/getcap ${SHIM}`)).trim()).toBe("root:root 4755");
      const helper = await helperAs(ALICE);
      expect(helper.stderr).toBe("");
      expect([helper.exitCode, helper.sent]).toEqual([0, true]);
    } finally {
      await root.sh("mv /usr/sbin/setcap.hidden /usr/sbin/setcap");
    }
    await installAll();
    expect((await root.sh(`stat -c '%U:%G %a' ${SHIM}; getcap ${SHIM}`)).trim()).toBe(`root:root 755\n${SHIM} cap_net_admin=p`);
    expect(await ns.tapNames()).toEqual([]);
  }, 300_000);

  test("upgrade to a newer version: the new shim is granted again, a hard link to the old one keeps no capability and runs for no user, the edited conffile and the diversions are kept, one left at .distrib by an earlier build moves into root's folder", async () => {
    const before = (await root.sh(`stat -c %i ${SHIM}`)).trim();
    // Someone's hard link to the old shim (as root here; protected_hardlinks stops users only for setuid files).
    const oldLink = "/usr/libexec/.tl-old-shim";
    await root.sh(`ln ${SHIM} ${oldLink}`);
    // The layout earlier builds left: LXC's file diverted beside its path, to PATH.distrib.
    await root.sh(
      `mv ${LXC_DIVERTED} ${LXC_USER_NIC}.distrib && ` +
        `dpkg-divert --package tap-launcher-lxc-user-nic --no-rename --divert ${LXC_DIVERTED} --remove ${LXC_USER_NIC} && ` +
        `dpkg-divert --package tap-launcher-lxc-user-nic --no-rename --divert ${LXC_USER_NIC}.distrib --add ${LXC_USER_NIC}`,
    );
    await root.sh(`dpkg -i ${MAIN_NEXT} ${QEMU_NEXT} ${LXC_NEXT} </dev/null`);
    expect((await root.sh(`stat -c %i ${oldLink}; getcap ${oldLink}; stat -c %a ${oldLink}`)).trim()).toBe(`${before}\n600`);
    await root.sh(`rm ${oldLink}`);
    expect(await root.sh(`dpkg-query -W -f '\${Version} ' ${PACKAGES}`)).toBe(`${NEXT_VERSION} ${NEXT_VERSION} ${NEXT_VERSION} `);
    expect((await root.sh(`stat -c %i ${SHIM}`)).trim()).not.toBe(before); // a new file, unpacked unprivileged
    expect((await root.sh(`stat -c '%U:%G %a' ${SHIM}; getcap ${SHIM}`)).trim()).toBe(`root:root 755\n${SHIM} cap_net_admin=p`);
    expect(await root.sh("grep -v '^#' /etc/qemu/bridge.conf | grep .")).toBe("allow br0\n");
    await expectDiverted();
    expect((await root.sh(`ls ${LXC_USER_NIC}*`)).trim()).toBe(LXC_USER_NIC);
    expect((await root.sh(`getcap ${USER_NIC_SHIM}`)).trim()).toBe(`${USER_NIC_SHIM} cap_net_admin=p`);
    const helper = await helperAs(ALICE);
    expect([helper.exitCode, helper.sent]).toEqual([0, true]);
  }, 300_000);

  test("an upgrade or a removal abandoned after the preinst or prerm (abort-upgrade, abort-remove): the postinst grants the shims again, with an override's own mode", async () => {
    const info = "/var/lib/dpkg/info/tap-launcher";
    const state = `stat -c '%U:%G %a' ${SHIM} ${USER_NIC_SHIM}; getcap ${SHIM} ${USER_NIC_SHIM}`;
    const granted = `root:root 755\nroot:root 755\n${SHIM} cap_net_admin=p\n${USER_NIC_SHIM} cap_net_admin=p`;
    // dpkg's order when unpacking the next version fails: the new preinst, the new postrm, then the old postinst.
    for (const undo of ["postrm", "postinst"]) {
      await root.sh(`${info}.preinst upgrade ${packageJson.version}`);
      expect((await root.sh(state)).trim()).toBe("root:root 600\nroot:root 600");
      // Each alone grants again: the postrm for an old postinst that does not know to.
      await root.sh(`${info}.${undo} abort-upgrade ${undo === "postrm" ? packageJson.version : NEXT_VERSION}`);
      expect((await root.sh(state)).trim()).toBe(granted);
    }
    // And when removing fails after the prerm, under a setuid override that the postinst applies again.
    await root.sh(`dpkg-statoverride --add root lab 4750 ${SHIM} && ${info}.prerm remove`);
    expect((await root.sh(state)).trim()).toBe("root:root 600\nroot:root 600"); // the override is applied at the next grant
    await root.sh(`${info}.postinst abort-remove`);
    expect((await root.sh(state)).trim()).toBe(`root:lab 4750\nroot:root 755\n${USER_NIC_SHIM} cap_net_admin=p`);
    expect((await helperAs(ALICE)).sent).toBe(true);
    await root.sh(`dpkg-statoverride --remove ${SHIM} && ${info}.postinst configure ${NEXT_VERSION}`);
    expect((await root.sh(state)).trim()).toBe(granted);
  }, 300_000);

  test("remove: QEMU's own helper and LXC's own lxc-user-nic are back (same checksum, same owner and mode), no diversion, nothing of ours privileged, only the conffile left", async () => {
    const files = await ourFiles();
    // QEMU's helper away for the moment (as before qemu-system-common is installed): its diversion still leads into the folder.
    await root.sh(`mv ${QEMU_DIVERTED} /var/tmp/tl-held-qemu-helper`);
    await root.sh("dpkg -r tap-launcher-lxc-user-nic </dev/null");
    expect((await root.sh(`stat -c '%U:%G %a' ${DIVERT_DIR}; ls -A ${DIVERT_DIR}`)).trim()).toBe("root:root 700");
    await root.sh(`mv /var/tmp/tl-held-qemu-helper ${QEMU_DIVERTED}`);
    expect(await fileState(LXC_USER_NIC)).toBe(lxcUserNicBefore);
    expect((await root.sh(`ls ${LXC_USER_NIC}* | wc -l; dpkg-divert --list '*lxc-user-nic*' | wc -l`)).trim()).toBe("1\n0");
    // The folder stays while QEMU's helper is in it.
    expect((await root.sh(`stat -c '%U:%G %a' ${DIVERT_DIR}; ls -A ${DIVERT_DIR}`)).trim()).toBe("root:root 700\nqemu-bridge-helper");
    // The optional package first: QEMU's own helper is back, and doctor says how to switch again.
    await root.sh("dpkg -r tap-launcher-qemu-helper </dev/null");
    expect((await root.sh(`sha256sum ${QEMU_HELPER}`)).split(" ")[0]).toBe(qemuHelperSum);
    const doctor = await root.run(["tap-launcher", "doctor"], asUser(ALICE));
    expect(doctor.stderr).toContain(
      `tap-launcher: warning: ${QEMU_HELPER}: QEMU's default bridge helper is not ${SHIM}: -netdev bridge without helper= runs this one -- fix: as root: apt install tap-launcher-qemu-helper`,
    );
    expect(doctor.exitCode).toBe(0);
    // Someone's hard link to the shim: removing the package leaves it with no capability, and no user may run it.
    const link = "/usr/libexec/.tl-kept-shim";
    await root.sh(`ln ${SHIM} ${link}`);
    await root.sh("dpkg -r tap-launcher </dev/null");
    expect((await root.sh(`stat -c '%U:%G %a' ${link}; getcap ${link}`)).trim()).toBe("root:root 600");
    await root.sh(`rm ${link}`);
    expect((await root.sh(`sha256sum ${QEMU_HELPER}`)).split(" ")[0]).toBe(qemuHelperSum);
    expect((await root.sh(`ls -l ${QEMU_HELPER}* | wc -l; dpkg-divert --list '*qemu-bridge-helper*' | wc -l`)).trim()).toBe("1\n0");
    expect((await root.sh("ls /usr/lib/tap-launcher 2>&1 || true")).trim()).toMatch(/No such file or directory/);
    expect(await privileged(files)).toEqual([]);
    const left = await root.sh(`for f in ${files}; do [ -f "$f" ] || [ -L "$f" ] && echo "$f"; done; true`);
    expect(left.trim().split("\n")).toEqual(["/etc/qemu/bridge.conf"]);
    expect(await fileState(LXC_USER_NIC)).toBe(lxcUserNicBefore);
    expect(await root.sh(`dpkg-query -W -f '\${db:Status-Abbrev}' tap-launcher`)).toBe("rc ");
    expect(await root.sh(`dpkg-query -W -f '\${db:Status-Abbrev}' tap-launcher-lxc-user-nic`)).toBe("rc ");
  }, 300_000);

  test("installed again after remove, the edited bridge.conf is still the administrator's", async () => {
    await installAll();
    expect(await root.sh("grep -v '^#' /etc/qemu/bridge.conf | grep .")).toBe("allow br0\n");
    expect((await root.sh(`getcap ${SHIM}`)).trim()).toBe(`${SHIM} cap_net_admin=p`);
  }, 300_000);

  test("purge: nothing of our three packages is left; QEMU's and LXC's own files are in place", async () => {
    const files = (await root.sh(`dpkg -L ${PACKAGES} | tr '\\n' ' '`)).trim();
    await root.sh("dpkg -P tap-launcher-lxc-user-nic tap-launcher-qemu-helper tap-launcher </dev/null");
    const ours = files
      .split(" ")
      .filter((path) => path.includes("tap-") || path.startsWith("/etc/qemu") || path === QEMU_HELPER || path === LXC_USER_NIC);
    const left = await root.sh(`for f in ${ours.join(" ")}; do [ -e "$f" ] || [ -L "$f" ] && echo "$f"; done; true`);
    expect(left.trim().split("\n").sort()).toEqual([QEMU_HELPER, LXC_USER_NIC].sort()); // QEMU's and LXC's own, back in place
    expect((await root.sh(`sha256sum ${QEMU_HELPER}`)).split(" ")[0]).toBe(qemuHelperSum);
    expect(await fileState(LXC_USER_NIC)).toBe(lxcUserNicBefore);
    expect((await root.sh(`ls ${LXC_USER_NIC}*; dpkg-divert --list '*lxc-user-nic*'`)).trim()).toBe(LXC_USER_NIC);
    expect(await root.sh(`dpkg-query -W -f '\${db:Status-Abbrev}' ${PACKAGES} 2>/dev/null || true`)).toBe("");
    expect((await root.sh("ls /etc/qemu 2>&1 || true")).trim()).toMatch(/No such file or directory/);
    expect((await root.sh("ls /usr/lib/tap-launcher 2>&1 || true")).trim()).toMatch(/No such file or directory/);
  }, 300_000);

  test("QEMU's helper diverted by the administrator (dpkg-divert --local): tap-launcher-qemu-helper refuses to install, naming it, and leaves it as it was", async () => {
    await root.sh(`dpkg-divert --local --rename --add ${QEMU_HELPER}`);
    try {
      const refused = await root.run(["sh", "-c", `dpkg -i ${MAIN_DEB} ${QEMU_DEB} </dev/null`]);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toContain(
        `tap-launcher-qemu-helper: ${QEMU_HELPER} is already diverted by LOCAL (dpkg-divert --list ${QEMU_HELPER}): remove that diversion first`,
      );
      expect(await root.sh(`dpkg-query -W -f '\${db:Status-Abbrev}' tap-launcher`)).toBe("ii ");
      // Not installed, not even half: dpkg ran its postrm abort-install, which left the diversion alone.
      const status = await root.sh(`dpkg-query -W -f '\${db:Status-Abbrev}' tap-launcher-qemu-helper 2>/dev/null || true`);
      expect(status.slice(1, 2) || "n").toBe("n");
      expect((await root.sh(`dpkg-divert --listpackage ${QEMU_HELPER}; dpkg-divert --truename ${QEMU_HELPER}`)).trim()).toBe(
        `LOCAL\n${QEMU_HELPER}.distrib`,
      );
      expect((await root.sh(`sha256sum ${QEMU_HELPER}.distrib`)).split(" ")[0]).toBe(qemuHelperSum);
      expect((await root.sh(`ls ${QEMU_HELPER} 2>&1 || true`)).trim()).toMatch(/No such file or directory/);
    } finally {
      await root.sh(`dpkg -P tap-launcher </dev/null && dpkg-divert --local --rename --remove ${QEMU_HELPER}`);
    }
    expect((await root.sh(`sha256sum ${QEMU_HELPER}`)).split(" ")[0]).toBe(qemuHelperSum);
    expect((await root.sh("ls /etc/qemu /usr/lib/tap-launcher 2>&1 || true")).trim()).toMatch(/No such file or directory/);
  }, 300_000);

  test("the host's dpkg database, diversions, statoverrides, QEMU's helper and LXC's lxc-user-nic were never touched", async () => {
    expect(await hostState()).toBe(hostBefore);
    expect(readFileSync("/var/lib/dpkg/status", "utf8")).not.toContain("Package: tap-launcher");
  }, 300_000);
});
