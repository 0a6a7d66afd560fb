// review-trim: tap-user-nic refuses the helper's own network namespace to root too, which only the identity check (now a stat of /proc/self/ns/net) decides.
import { expect, setDefaultTimeout, test } from "bun:test";
import { withNetns } from "../support/netns.ts";
import { asUser, type TestUser } from "../support/users.ts";
import { userNicPrograms, vethNames, withUserNicWorld } from "../support/user-nic.ts";

// Real namespaces, users and programs on two shared cores: far above Bun's default of 5 s.
setDefaultTimeout(120_000);

const { ours } = await userNicPrograms();
const ROOT: TestUser = { uid: 0, gid: 0, groups: [] };
const NAMESPACE_REFUSAL = "tap-user-nic: failed to open the container's network namespace: it does not exist or is not yours";

test("root's process beside the bridge is refused (the owner check passes for root: only the identity check refuses), root's own container is not", async () => {
  await withNetns(async (ns) => {
    await ns.addBridge("br0", 1400);
    await withUserNicWorld(ns, async (world) => {
      world.setUsernet("root veth br0 5\n");
      const create = (pid: number) => world.call(ours, ROOT, ["create", "/tmp", "c1", String(pid), "veth", "br0", "eth0"]);
      // A root process beside the bridge with no capability: one with any, the helper (CAP_NET_ADMIN alone) may not
      // open the namespace of (ptrace's capability subset rule), which would refuse before the checks under test.
      const beside = Bun.spawn([...ns.prefix(), ...asUser(ROOT), "--bounding-set=-all", "sleep", "600"], {
        stdout: "ignore",
        stderr: "ignore",
      });
      await Bun.sleep(300);
      const refused = await create(beside.pid);
      beside.kill("SIGKILL");
      await beside.exited;
      expect({ exit: refused.exitCode, stdout: refused.stdout, message: refused.stderr.split("\n")[0] }).toEqual({
        exit: 1,
        stdout: "",
        message: NAMESPACE_REFUSAL,
      });
      expect(refused.stderr).not.toContain("permission");
      expect(await vethNames(ns)).toEqual([]);
      // The control: a namespace root owns that is not the helper's is admitted, so the refusal above is the identity check's.
      const container = await world.container(ROOT);
      const made = await create(container.pid);
      expect({ exit: made.exitCode, stderr: made.stderr }).toEqual({ exit: 0, stderr: "" });
      expect(await vethNames(ns)).toHaveLength(1);
    });
  });
});
