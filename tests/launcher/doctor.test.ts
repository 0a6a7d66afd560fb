// `tap-launcher doctor`: the exact line format, no allowed bridge, no_new_privs, a nosuid helper, the bridges' MACs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_STREAM } from "../../shared/kernel.ts";
import { closeFd, connectOrErrno, openSocket } from "../../shared/libc.ts";
import { privilegedFiles } from "../../launcher/layout.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { ALICE, asUser, BOB, sharedFolder, withOpenTunDevice } from "../support/users.ts";
import { testAccounts } from "../support/accounts.ts";
import { inPrivateMountNamespace } from "../support/mount-ns.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";
import { bindSocket, listenSocket } from "../support/socket-calls.ts";
import { privateDevPrefix, startSyslogFlood, SyslogDaemon, SyslogSink } from "../support/syslog-sink.ts";

let installed: TestInstall;
beforeAll(async () => {
  installed = await installForTest("setuid");
});
afterAll(() => installed.uninstall());

/**
 * The installed launcher's doctor in `ns` with a private /dev (a 0666 /dev/net/tun, no
 * /dev/vhost-net, whatever the host has), as ALICE (with `setpriv` options) or as root.
 */
function doctorIn(ns: TestNetns, as: string[] | "root"): string[] {
  return [...ns.prefix(), ...privateDevPrefix(null), ...(as === "root" ? [] : as), installed.launcher, "doctor"];
}

/** stderr as lines. */
function linesOf(stderr: string): string[] {
  return stderr.trimEnd().split("\n");
}

describe("doctor's lines", () => {
  test("each finding is `tap-launcher: SEVERITY: subject: message[ -- fix: …]`, its severity word written once", async () => {
    installed.setAcl("allow br0\n");
    await withNetns(async (ns) => {
      for (const bridge of ["br0", "brnone"]) await ns.addBridge(bridge);
      const result = await run(doctorIn(ns, asUser(ALICE)));
      expect(linesOf(result.stderr)).toEqual([
        "tap-launcher: ok: /dev/net/tun: mode 0666, opens for this user",
        "tap-launcher: warning: /dev/vhost-net: missing: QEMU's vhost=on is not available (QEMU then moves the frames itself) -- fix: as root: modprobe vhost_net",
        `tap-launcher: ok: ${installed.shim}: exec shim, setuid mode (owner 0:0, mode 4755)`,
        `tap-launcher: ok: ${installed.helper}: Bun helper, unprivileged (owner 0:0, mode 0755)`,
        `tap-launcher: ok: ${privilegedFiles(installed.prefix, "tap-user-nic").helper}: Bun helper, unprivileged (owner 0:0, mode 0755)`,
        `tap-launcher: ok: ${installed.aclFile}: read ${installed.aclFile}`,
        `tap-launcher: ok: bridge br0: allowed for you ("allow br0" at ${installed.aclFile}:1)`,
        `tap-launcher: warning: bridge brnone: denied for you (no rule matches) -- fix: add "allow brnone" to ${installed.aclFile}`,
        "tap-launcher: nothing to fix",
      ]);
      expect(result.exitCode).toBe(0);
    });
  });

  test("bridges exist but none is allowed for the user: an error with the fix, exit 1", async () => {
    installed.setAcl("allow br0\ndeny brother\n");
    try {
      await withNetns(async (ns) => {
        for (const bridge of ["brother", "brnone"]) await ns.addBridge(bridge);
        const result = await run(doctorIn(ns, asUser(ALICE)));
        const lines = linesOf(result.stderr);
        expect(lines).toContain(`tap-launcher: warning: bridge brother: denied for you ("deny brother" at ${installed.aclFile}:2)`);
        expect(lines).toContain(
          `tap-launcher: ERROR: ${installed.aclFile}: no bridge is allowed for you: it denies brother, brnone -- fix: ask the administrator to add "allow BR" for the bridge you need to ${installed.aclFile}`,
        );
        expect(lines.at(-1)).toBe("tap-launcher: 1 problem to fix");
        expect(result.exitCode).toBe(1);
      });
    } finally {
      installed.setAcl("allow br0\n");
    }
  });
});

describe("doctor on an ACL file that cannot be used", () => {
  test("a missing one (every new install): create it, with an allow line; an unreadable one: its mode", async () => {
    const { rmSync, chmodSync } = await import("node:fs");
    try {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        rmSync(installed.aclFile);
        const missing = linesOf((await run(doctorIn(ns, asUser(ALICE)))).stderr);
        expect(missing).toContain(
          `tap-launcher: ERROR: ${installed.aclFile}: every bridge is denied: cannot read ACL file ${installed.aclFile}: ENOENT -- fix: as root, create it with an allow line for each bridge users may use: echo "allow br0" > ${installed.aclFile}; chmod 0644 ${installed.aclFile}`,
        );
        installed.setAcl("allow br0\n");
        chmodSync(installed.aclFile, 0o600);
        const unreadable = linesOf((await run(doctorIn(ns, asUser(ALICE)))).stderr);
        expect(unreadable.find((line) => line.includes("cannot read ACL file"))).toEndWith(
          `: EACCES -- fix: as root: chmod 0644 ${installed.aclFile} (users' helpers read it with their own permissions)`,
        );
      });
    } finally {
      installed.setAcl("allow br0\n");
      (await import("node:fs")).chmodSync(installed.aclFile, 0o644);
    }
  });
});

describe("doctor on what makes the kernel ignore the helper's privilege", () => {
  test("a caller under no_new_privs is an error with the fix; without it, nothing to fix", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const restricted = await run(doctorIn(ns, [...asUser(ALICE), "setpriv", "--nnp"]));
      expect(linesOf(restricted.stderr)).toContain(
        `tap-launcher: ERROR: uid ${ALICE.uid}: this session runs under no_new_privs (NoNewPrivs 1 in /proc/self/status): the kernel ignores the helper's setuid bit and file capabilities, so every run fails with "failed to keep only CAP_NET_ADMIN" -- fix: run the VM outside the restriction (systemd's NoNewPrivileges=, the container's or flatpak's), or use a TAP made beforehand with tap-launcher --tap=NAME --unmanaged, which needs no privilege`,
      );
      expect(restricted.exitCode).toBe(1);
      const plain = await run(doctorIn(ns, asUser(ALICE)));
      expect(plain.stderr).not.toContain("no_new_privs");
      expect(plain.exitCode).toBe(0);
    });
  });

  test("a helper on a nosuid mount is an error with the fix, and the shim itself says why it fails", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      // The installation's libexec bound onto itself nosuid, in a private mount namespace only.
      const nosuid = inPrivateMountNamespace(
        'mount --bind "$1" "$1" && mount -o remount,bind,nosuid "$1" && shift && exec "$@"',
        dirname(installed.shim),
      );
      const doctor = await run([...ns.prefix(), ...withOpenTunDevice(), ...nosuid, ...asUser(ALICE), installed.launcher, "doctor"]);
      const lines = linesOf(doctor.stderr);
      expect(lines).toContain(
        `tap-launcher: ERROR: ${installed.shim}: on a nosuid mount (${dirname(installed.shim)}): the kernel ignores its setuid bit and file capabilities, so every run fails with "failed to keep only CAP_NET_ADMIN" -- fix: as root: tap-launcher uninstall, then tap-launcher install --prefix=DIR with DIR on a mount without nosuid (findmnt -T DIR shows its options)`,
      );
      expect(lines).not.toContain(`tap-launcher: ok: ${installed.shim}: exec shim, setuid mode (owner 0:0, mode 4755)`);
      expect(doctor.exitCode).toBe(1);

      const shim = await run([
        ...ns.prefix(),
        ...withOpenTunDevice(),
        ...nosuid,
        ...asUser(ALICE),
        installed.shim,
        "--use-vnet",
        "--fd=3",
        "--br=br0",
      ]);
      expect(shim.exitCode).toBe(1);
      const shimLines = linesOf(shim.stderr);
      expect(shimLines[0]).toBe("tap-bridge-helper: failed to keep only CAP_NET_ADMIN: Operation not permitted");
      expect(shimLines[1]).toStartWith(
        "tap-bridge-helper: it started without its privilege: it sits on a nosuid mount (install it on another: tap-launcher install --prefix=DIR)",
      );
      expect(await ns.tapNames()).toEqual([]);
    });
  });
});

describe("doctor, as root, on the MAC address of each allowed bridge", () => {
  test("a bridge without a fixed address is a warning with the fix; after `ip link set BR address X`, ok", async () => {
    installed.setAcl("allow br0\n");
    await withNetns(async (ns) => {
      for (const bridge of ["br0", "brother"]) await ns.addBridge(bridge);
      const address = (await ns.link("br0")).address;
      const before = await run(doctorIn(ns, "root"));
      const warning = `tap-launcher: warning: bridge br0: MAC address ${address} is not fixed (addr_assign_type 1): a caller can give its TAP a lower MAC and the bridge takes that as its own address -- fix: ip link set br0 address ${address} (setting it, even to the address it has, makes it fixed)`;
      expect(linesOf(before.stderr)).toContain(warning);
      // Only bridges the ACL allows are anyone's concern here.
      expect(before.stderr).not.toContain("bridge brother: MAC address");
      expect(before.exitCode).toBe(0);

      await ns.ip("link", "set", "br0", "address", address);
      const after = await run(doctorIn(ns, "root"));
      expect(linesOf(after.stderr)).toContain(`tap-launcher: ok: bridge br0: MAC address ${address} is fixed: no port's MAC can move it`);
      expect(after.stderr).not.toContain("is not fixed");
      expect(after.exitCode).toBe(0);
    });
  });

  test("not as a user: only an administrator can fix it", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const result = await run(doctorIn(ns, asUser(ALICE)));
      expect(result.stderr).not.toContain("MAC address");
      expect(result.exitCode).toBe(0);
    });
  });

  test("when /sys shows another network namespace, doctor says it cannot tell and how to check", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      // nsenter changes the network namespace only; /sys stays the host's.
      const result = await run(["nsenter", `--net=/run/netns/${ns.name}`, ...withOpenTunDevice(), installed.launcher, "doctor"]);
      expect(linesOf(result.stderr)).toContain(
        "tap-launcher: warning: bridge br0: cannot tell whether its MAC address is fixed: /sys shows another network namespace -- fix: run doctor through ip netns exec NS, which mounts /sys for that namespace",
      );
    });
  });
});

describe("doctor and the shared-hosts policy", () => {
  test("shows the line that holds for the user on each allowed bridge, the limit, the TAPs in use, isolation and queues", async () => {
    installed.setAcl("allow br0\nallow br1\n");
    installed.setPolicy("@lab br0 1 isolated queues=4\n* all 3\n");
    try {
      await withNetns(async (ns) => {
        for (const bridge of ["br0", "br1"]) await ns.addBridge(bridge);
        await ns.exec("ip", "tuntap", "add", "dev", "tapheld", "mode", "tap", "user", String(ALICE.uid));
        await ns.givePlace("tapheld", ALICE.uid, "br0", 0);
        await ns.ip("link", "set", "tapheld", "master", "br0");
        // Left by a higher limit: a place at or above the line's 1, which counts for nothing.
        await ns.exec("ip", "tuntap", "add", "dev", "tapold", "mode", "tap", "user", String(ALICE.uid));
        await ns.givePlace("tapold", ALICE.uid, "br0", 3);
        await ns.ip("link", "set", "tapold", "master", "br0");
        const result = await run([
          ...ns.prefix(),
          ...privateEtcPrefix(testAccounts()),
          ...withOpenTunDevice(),
          ...asUser(ALICE),
          installed.launcher,
          "doctor",
        ]);
        const lines = linesOf(result.stderr);
        expect(lines).toContain(`tap-launcher: ok: ${installed.policyFile}: read; you are alice 4101 (groups alice, lab)`);
        expect(lines).toContain(
          `tap-launcher: warning: bridge br0: at most 1 TAP for you ("@lab br0 1 isolated queues=4" at ${installed.policyFile}:1), 1 in use (tapheld), and 1 at or above the limit that count for nothing until they stop (tapold in place 3), ports isolated, at most 4 queues per TAP: the next request is refused -- fix: stop a VM that uses one; a TAP made persistent counts until it is deleted (ip tuntap del dev TAP mode tap)`,
        );
        expect(lines).toContain(
          `tap-launcher: ok: bridge br1: at most 3 TAPs for you ("* all 3" at ${installed.policyFile}:2), 0 in use, one queue per TAP`,
        );
        installed.setPolicy("@lab br0 one\n");
        const broken = await run([...ns.prefix(), ...withOpenTunDevice(), ...asUser(ALICE), installed.launcher, "doctor"]);
        expect(linesOf(broken.stderr)).toContain(
          `tap-launcher: ERROR: ${installed.policyFile}: every bridge is denied: policy syntax error at ${installed.policyFile}:1: invalid MAX "one": expected a whole number from 0 to 1024 -- fix: as root, fix ${installed.policyFile}`,
        );
        expect(broken.exitCode).toBe(1);
      });
    } finally {
      installed.setAcl("allow br0\n");
      installed.setPolicy(null);
    }
  });
});

describe("doctor and the system log the helper audits to", () => {
  /** doctor's lines about /dev/log, as alice, with `log` (or nothing) as /dev/log. */
  async function logFindings(ns: TestNetns, log: { path: string } | null): Promise<{ lines: string[]; exitCode: number }> {
    const result = await run([...ns.prefix(), ...privateDevPrefix(log?.path ?? null), ...asUser(ALICE), installed.launcher, "doctor"]);
    return { lines: linesOf(result.stderr).filter((line) => line.includes("/dev/log")), exitCode: result.exitCode };
  }

  test("under a policy file: missing, nothing listening, not writable, full, accepting no connection, a datagram or a stream socket; without one, nothing", async () => {
    installed.setPolicy("* all 4\n");
    const policy = installed.policyFile;
    const sink = new SyslogSink();
    const stream = await SyslogDaemon.start("stream");
    try {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        expect(await logFindings(ns, null)).toEqual({
          lines: [
            `tap-launcher: warning: /dev/log: missing: no system log, so TAPs are granted under ${policy} with no audit line -- fix: as root: start a syslog daemon (systemd-journald, rsyslog or syslog-ng), which listens on /dev/log`,
          ],
          exitCode: 0,
        });
        expect(await logFindings(ns, sink)).toEqual({
          lines: [`tap-launcher: ok: /dev/log: a datagram socket, writable by you: the helper logs each decision under ${policy} there`],
          exitCode: 0,
        });
        expect(await logFindings(ns, stream)).toEqual({
          lines: [
            `tap-launcher: ok: /dev/log: a stream socket (as syslog-ng's unix-stream), writable by you: the helper logs each decision under ${policy} there`,
          ],
          exitCode: 0,
        });

        // Full: a flood nobody reads.
        const flood = await startSyslogFlood([...privateDevPrefix(sink.path), ...asUser(BOB)]);
        try {
          expect(await logFindings(ns, sink)).toEqual({
            lines: [
              `tap-launcher: warning: /dev/log: its queue is full now: a grant under ${policy} is refused when its line finds no room for 1 s -- fix: as root: check that the syslog daemon is running and reading (a flood of /dev/log shows in its own log)`,
            ],
            exitCode: 0,
          });
        } finally {
          flood.kill("SIGKILL");
          await flood.exited;
        }

        chmodSync(sink.path, 0o600);
        expect(await logFindings(ns, sink)).toEqual({
          lines: [
            `tap-launcher: ERROR: /dev/log: this user cannot write to it: Permission denied (EACCES): every grant under ${policy} is refused, its audit line not written -- fix: as root: let every user write to it, as syslog daemons make it (mode 0666)`,
          ],
          exitCode: 1,
        });
        chmodSync(sink.path, 0o666);

        sink.close(); // the socket file stays, with nothing bound to it: a daemon that died
        expect(await logFindings(ns, sink)).toEqual({
          lines: [
            `tap-launcher: warning: /dev/log: nothing listens on it: no system log, so TAPs are granted under ${policy} with no audit line -- fix: as root: start a syslog daemon (systemd-journald, rsyslog or syslog-ng), which listens on /dev/log`,
          ],
          exitCode: 0,
        });

        // A stream socket whose daemon accepts nothing: its backlog (0 waiting) is taken by one connection.
        const listener = openSocket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
        const waiting = openSocket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
        try {
          const path = join(sharedFolder("tl-log-"), "log");
          const address = new Uint8Array(110);
          new DataView(address.buffer).setUint16(0, AF_UNIX, true);
          address.set(Buffer.from(path), 2);
          bindSocket(listener, address, path);
          chmodSync(path, 0o666);
          listenSocket(listener, 0, path);
          expect(connectOrErrno(waiting, address)).toBe(0);
          expect(await logFindings(ns, { path })).toEqual({
            lines: [
              `tap-launcher: warning: /dev/log: a stream socket whose daemon accepted no connection for 1 s: while that lasts, every grant under ${policy} is refused, its audit line not written -- fix: as root: check the syslog daemon (its connection limit, or someone holding its connections)`,
            ],
            exitCode: 0,
          });
        } finally {
          closeFd(waiting);
          closeFd(listener);
        }

        installed.setPolicy(null);
        expect(await logFindings(ns, null)).toEqual({ lines: [], exitCode: 0 });
      });
    } finally {
      installed.setPolicy(null);
      sink.close();
      await stream.stop();
    }
  });
});

describe("doctor and /dev/vhost-net", () => {
  test("a node the user may not open: a warning naming the kvm group", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      // 10:238 is vhost-net's number; the permission check refuses before any driver is looked for.
      const script = 'mknod -m 0660 /dev/vhost-net c 10 238 && chgrp kvm /dev/vhost-net && exec "$@"';
      const result = await run([
        ...ns.prefix(),
        ...privateDevPrefix(null),
        "sh",
        "-c",
        script,
        "sh",
        ...asUser(ALICE),
        installed.launcher,
        "doctor",
      ]);
      expect(linesOf(result.stderr)).toContain(
        `tap-launcher: warning: /dev/vhost-net: owner 0:${kvmGroup()}, mode 0660, cannot be opened by this user (EACCES): QEMU's vhost=on would fail -- fix: as root: adduser USER kvm (Debian gives /dev/vhost-net to group kvm), then log in again`,
      );
    });
  });
});

function kvmGroup(): number {
  const line = readFileSync("/etc/group", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("kvm:"));
  return Number(line?.split(":")[2]);
}
