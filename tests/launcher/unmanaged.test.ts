// Unmanaged TAPs (libvirt's managed='no'): opened with no helper and no privilege, changed in nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { installForTest, launcherAs, type TestInstall } from "../support/install.ts";
import { adminTap, unmanagedState } from "../support/admin-tap.ts";
import { IFF_NAPI } from "../../shared/kernel-launcher.ts";
import { flaggedTapCommand, NAPI_TAP_FLAGS } from "../support/flagged-tap.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { lineReader } from "../support/lines.ts";
import { ALICE, asUser, BOB, withOpenTunDevice } from "../support/users.ts";

let installed: TestInstall;
beforeAll(async () => {
  installed = await installForTest("setuid");
});
afterAll(() => installed.uninstall());

function asAlice(ns: TestNetns, args: string[]): string[] {
  return launcherAs(installed, ns, ALICE, args);
}

/** The TUN flags the kernel keeps for a device of `ns` (`ip netns exec` mounts the namespace's own /sys). */
async function tunFlags(ns: TestNetns, name: string): Promise<string> {
  return (await ns.exec("cat", `/sys/class/net/${name}/tun_flags`)).trim();
}

/** <linux/if_tun.h> */
const IFF_NAPI_FRAGS = 0x0020;

describe("opening an unmanaged TAP", () => {
  test("as its owner, without privilege: fd 3 is the TAP, and nothing on it changes", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await adminTap(ns, "tapu0");
      const before = unmanagedState(await ns.link("tapu0"));
      const result = await run(
        asAlice(ns, ["--tap=tapu0", "--unmanaged", "--", "sh", "-c", 'echo "$TAP_FD $TAP_IFNAME"; readlink /proc/self/fd/3']),
      );
      expect(result.stderr).toContain("tapu0 (vnet header) is fd 3 of sh");
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe("3 tapu0\n/dev/net/tun\n");
      expect(unmanagedState(await ns.link("tapu0"))).toEqual(before);
      expect(await ns.tapNames()).toEqual(["tapu0"]);
    });
  });

  test("a TAP without vnet header keeps having none", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await ns.exec("ip", "tuntap", "add", "dev", "tapu1", "mode", "tap", "user", String(ALICE.uid));
      const before = unmanagedState(await ns.link("tapu1"));
      const result = await run(asAlice(ns, ["--tap=tapu1", "--unmanaged", "--", "true"]));
      expect(result.stderr).toContain("tapu1 is fd 3 of true");
      expect(unmanagedState(await ns.link("tapu1"))).toEqual(before);
    });
  });

  for (const [label, setup, message, fix] of [
    ["does not exist", async () => {}, /TAP tapu0 does not exist in this network namespace/, /ip tuntap add dev tapu0 mode tap user/],
    [
      "is a veth, not a TAP",
      async (ns: TestNetns) => ns.ip("link", "add", "tapu0", "type", "veth", "peer", "name", "tapu0p"),
      /tapu0 is not a TAP device: it is a veth device/,
      /ip tuntap add/,
    ],
    [
      "is a TUN, not a TAP",
      async (ns: TestNetns) => ns.exec("ip", "tuntap", "add", "dev", "tapu0", "mode", "tun", "user", String(ALICE.uid)),
      /tapu0 is not a TAP device: it is a TUN \(layer 3\) device/,
      /ip tuntap add/,
    ],
    [
      "belongs to another user",
      async (ns: TestNetns) => adminTap(ns, "tapu0", `user ${BOB.uid}`),
      /TAP tapu0 belongs to someone else \(user 4102\): Operation not permitted \(EPERM\)/,
      /an administrator creates it once for you/,
    ],
  ] as const) {
    test(`refused when it ${label}, saying how to fix it`, async () => {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        await setup(ns);
        const result = await run(asAlice(ns, ["--tap=tapu0", "--unmanaged", "--", "true"]));
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toMatch(message);
        expect(result.stderr).toMatch(fix);
      });
    });
  }

  test("refused while another program holds it", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await adminTap(ns, "tapu0");
      const holder = Bun.spawn(asAlice(ns, ["--tap=tapu0", "--unmanaged", "--", "sh", "-c", "echo held; exec sleep 600"]), {
        stdout: "pipe",
        stderr: "pipe",
      });
      try {
        expect(await lineReader(holder.stdout)()).toBe("held");
        const result = await run(asAlice(ns, ["--tap=tapu0", "--unmanaged", "--", "true"]));
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toMatch(/TAP tapu0 is in use by another program: .*\(EBUSY\)/);
      } finally {
        holder.kill();
        await holder.exited;
      }
    });
  });

  // `ip -d link` does not show IFF_NAPI or IFF_ONE_QUEUE, and TUNSETIFF on an existing TAP rewrites both.
  for (const [label, make, flag] of [
    ["IFF_NAPI (which iproute2 cannot set)", (ns: TestNetns) => ns.exec(...flaggedTapCommand("tapn", NAPI_TAP_FLAGS, ALICE.uid)), IFF_NAPI],
    [
      "IFF_ONE_QUEUE",
      (ns: TestNetns) => ns.exec("ip", "tuntap", "add", "dev", "tapn", "mode", "tap", "user", String(ALICE.uid), "vnet_hdr", "one_queue"),
      0x2000,
    ],
  ] as const) {
    test(`a TAP with ${label} keeps it after the guest ran on it`, async () => {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        await make(ns);
        await ns.ip("link", "set", "tapn", "master", "br0", "up");
        const flags = await tunFlags(ns, "tapn");
        expect(Number.parseInt(flags, 16) & flag).toBe(flag);
        const before = unmanagedState(await ns.link("tapn"));
        const result = await run(asAlice(ns, ["--tap=tapn", "--unmanaged", "--", "true"]));
        expect(result.stderr).toContain("tapn (vnet header) is fd 3 of true");
        expect(result.exitCode).toBe(0);
        expect(await tunFlags(ns, "tapn")).toBe(flags);
        expect(unmanagedState(await ns.link("tapn"))).toEqual(before);
      });
    });
  }

  test("a TAP with IFF_NAPI_FRAGS is refused, not opened without it", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await ns.exec(...flaggedTapCommand("tapn", NAPI_TAP_FLAGS | IFF_NAPI_FRAGS, ALICE.uid));
      const flags = await tunFlags(ns, "tapn");
      const result = await run(asAlice(ns, ["--tap=tapn", "--unmanaged", "--", "true"]));
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(
        /TAP tapn has IFF_NAPI_FRAGS, which only a process with CAP_NET_ADMIN may attach: Operation not permitted \(EPERM\)/,
      );
      expect(result.stderr).toContain("ip tuntap del dev tapn mode tap && ip tuntap add dev tapn mode tap user 4101 vnet_hdr");
      expect(await tunFlags(ns, "tapn")).toBe(flags);
    });
  });

  // /sys shows the namespace it was mounted for: after `unshare -n` alone, the namespace ns (which
  // `ip netns exec` mounted /sys for), not the one the TAP is in.
  for (const [label, setup] of [
    ["has no device of that name", async () => {}],
    // ifindex 3 there (after lo and br0), 2 in the TAP's own namespace; and another address.
    ["has another TAP of that name", async (ns: TestNetns) => adminTap(ns, "tapu0")],
  ] as const) {
    test(`refused when /sys shows another network namespace, which ${label}`, async () => {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        await setup(ns);
        const inner = 'ip tuntap add dev tapu0 mode tap user 4101 vnet_hdr && exec "$@"';
        const result = await run([
          ...ns.prefix(),
          "unshare",
          "-n",
          "sh",
          "-c",
          inner,
          "sh",
          ...withOpenTunDevice(),
          ...asUser(ALICE),
          installed.launcher,
          "--tap=tapu0",
          "--unmanaged",
          "--",
          "true",
        ]);
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toContain(
          "failed to read the flags of TAP tapu0: /sys shows another network namespace, where tapu0 is missing or another device",
        );
        expect(result.stderr).toContain("ip netns exec");
      });
    });
  }

  test("a TAP with no owner and no group opens for anyone, with a warning that says so and how to fix it", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await ns.exec("ip", "tuntap", "add", "dev", "tapu0", "mode", "tap", "vnet_hdr");
      await ns.ip("link", "set", "tapu0", "master", "br0", "up");
      const result = await run(asAlice(ns, ["--tap=tapu0", "--unmanaged", "--quiet", "--", "true"]));
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toBe(
        "tap-launcher: warning: TAP tapu0 has no owner or group: any user on this host can attach it and read or send its frames; " +
          "to give it one, as root: ip tuntap del dev tapu0 mode tap && ip tuntap add dev tapu0 mode tap user 4101 vnet_hdr && ip link set tapu0 master br0 up\n",
      );
    });
  });

  test("a TAP of the user's gets no such warning", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await adminTap(ns, "tapu0");
      const result = await run(asAlice(ns, ["--tap=tapu0", "--unmanaged", "--quiet", "--", "true"]));
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toBe("");
    });
  });
});

describe("a low limit on open files", () => {
  test("from 5 to 24 fds, in every mode, with an unmanaged TAP or the helper: the guest runs, or what ran out is said; never a stack trace", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await adminTap(ns, "tapu0");
      const outcomes = new Set<string>();
      const unmanaged = ["--tap=tapu0", "--unmanaged"];
      for (const mode of [
        unmanaged,
        [...unmanaged, "--relay=stream"],
        [...unmanaged, "--relay=dgram"],
        ["--br=br0"],
        ["--br=br0", "--relay=stream"],
      ]) {
        for (let limit = 5; limit <= 24; limit += 1) {
          const result = await run([
            ...ns.prefix(),
            ...withOpenTunDevice(),
            "prlimit",
            `--nofile=${limit}:${limit}`,
            ...asUser(ALICE),
            installed.launcher,
            ...mode,
            "--",
            "sh",
            "-c",
            "exit 7",
          ]);
          const where = `${mode.join(" ")}, ulimit -n ${limit}: ${result.stderr}`;
          expect(where).not.toMatch(/^\s+at |^\d+ \| /m);
          if (result.exitCode === 7) {
            outcomes.add("ran");
            continue;
          }
          const said =
            /tap-launcher: failed to open a file: no file descriptor is left \(EMFILE in \w+\)\ntap-launcher: raise the limit on open files \(ulimit -n 1024\) and run it again\n/;
          const helperSaid =
            /tap-launcher: bridge helper \S+ failed \(exit status 1\) for bridge br0: .*(EMFILE|ran out of file descriptors)/;
          const bunSaid = /bun ran out of file descriptors/;
          expect(`${result.exitCode} ${where}`).toMatch(new RegExp(`^1 [\\s\\S]*(${said.source}|${helperSaid.source}|${bunSaid.source})`));
          outcomes.add(said.test(result.stderr) ? "said" : helperSaid.test(result.stderr) ? "helper said" : "bun");
          // Starting the helper itself is one of the places it runs out: said the same way.
          if (mode[0] === "--br=br0" && result.stderr.includes("(EMFILE in posix_spawn)")) outcomes.add("said at the helper's start");
        }
      }
      // The range spans the edge: guests ran, and the launcher said it ran out (below about 6 fds
      // the runtime itself stops first, with its own message; the helper, which needs fewer fds than
      // the launcher, says so in its own words: tests/helper/bounds.test.ts).
      expect([...outcomes].filter((outcome) => outcome !== "bun" && outcome !== "helper said").sort()).toEqual([
        "ran",
        "said",
        "said at the helper's start",
      ]);
      expect(await ns.tapNames()).toEqual(["tapu0"]);
    });
  }, 180_000);
});
