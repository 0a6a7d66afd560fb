// Unmanaged TAPs (libvirt's managed='no'): opened with no helper and no privilege, changed in nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { installForTest, type TestInstall } from "../support/install.ts";
import { adminTap, unmanagedState } from "../support/admin-tap.ts";
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
  return [...ns.prefix(), ...withOpenTunDevice(), ...asUser(ALICE), installed.launcher, ...args];
}

describe("opening an unmanaged TAP", () => {
  test("as its owner, without privilege: fd 3 is the TAP, and nothing on it changes", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await adminTap(ns, "tapu0");
      const before = unmanagedState(await ns.link("tapu0"));
      const result = await run(asAlice(ns, ["--tap=tapu0", "--unmanaged", "--", "sh", "-c", 'echo "$TAP_FD $TAP_IFNAME"; readlink /proc/self/fd/3']));
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
    ["is a veth, not a TAP", async (ns: TestNetns) => ns.ip("link", "add", "tapu0", "type", "veth", "peer", "name", "tapu0p"), /tapu0 is not a TAP device: it is a veth device/, /ip tuntap add/],
    ["is a TUN, not a TAP", async (ns: TestNetns) => ns.exec("ip", "tuntap", "add", "dev", "tapu0", "mode", "tun", "user", String(ALICE.uid)), /tapu0 is not a TAP device: it is a TUN \(layer 3\) device/, /ip tuntap add/],
    ["belongs to another user", async (ns: TestNetns) => adminTap(ns, "tapu0", `user ${BOB.uid}`), /TAP tapu0 belongs to someone else \(user 4102\): Operation not permitted \(EPERM\)/, /an administrator creates it once for you/],
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
      const holder = Bun.spawn(asAlice(ns, ["--tap=tapu0", "--unmanaged", "--", "sh", "-c", "echo held; exec sleep 600"]), { stdout: "pipe", stderr: "pipe" });
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
});
