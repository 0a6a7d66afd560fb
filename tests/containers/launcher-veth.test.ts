// tap-launcher --veth: the guest runs in new user and network namespaces holding a veth on the bridge as eth0, up, and reaches the bridge.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { withNetns } from "../support/netns.ts";
import { ALICE, BOB } from "../support/users.ts";
import { userNicPrograms, vethNames, withUserNicWorld } from "../support/user-nic.ts";

// Real namespaces, users and programs on two shared cores: far above Bun's default of 5 s.
setDefaultTimeout(120_000);

const { installed } = await userNicPrograms();

describe("tap-launcher --veth", () => {
  test("the guest has eth0 up on the bridge, configures its own address and pings the bridge; the pair goes with it", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await ns.ip("addr", "add", "10.80.0.1/24", "dev", "br0");
      await withUserNicWorld(ns, async (world) => {
        world.setUsernet("alice veth br0 1\n");
        const guest = "ip -o link show dev eth0 && ip addr add 10.80.0.2/24 dev eth0 && ping -c 1 -W 2 10.80.0.1";
        const result = await world.call(installed.launcher, ALICE, ["--veth", "--br=br0", "--", "sh", "-c", guest]);
        expect({ exit: result.exitCode, stderr: result.exitCode === 0 ? "" : result.stderr }).toEqual({ exit: 0, stderr: "" });
        expect(result.stdout).toMatch(/eth0@if[0-9]+: <BROADCAST,MULTICAST,UP,LOWER_UP>/);
        expect(result.stdout).toContain("1 packets transmitted, 1 received");
        for (let tries = 0; tries < 100 && (await vethNames(ns)).length > 0; tries += 1) await Bun.sleep(20);
        expect(await vethNames(ns)).toEqual([]);
      });
    });
  });

  test("without an lxc-usernet line the guest never runs, and the refusal is said", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await withUserNicWorld(ns, async (world) => {
        world.setUsernet("alice veth br0 1\n");
        const result = await world.call(installed.launcher, BOB, ["--veth", "--br=br0", "--", "sh", "-c", "echo guest ran"]);
        expect(result.exitCode).toBe(1);
        expect(result.stdout).toBe("");
        expect(result.stderr).toContain("failed to get a veth on bridge br0");
        expect(result.stderr).toContain("no line of /etc/lxc/lxc-usernet gives bob a veth on br0");
      });
    });
  });

  test("--veth with a TAP option is a usage error", async () => {
    await withNetns(async (ns) => {
      await withUserNicWorld(ns, async (world) => {
        const result = await world.call(installed.launcher, ALICE, ["--veth", "--relay=stream", "--", "true"]);
        expect(result.exitCode).not.toBe(0);
        expect(result.stderr).toContain("--relay is about a TAP: --veth gives the guest a veth instead");
      });
    });
  });
});
