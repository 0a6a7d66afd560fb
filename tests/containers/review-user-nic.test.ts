// Security review of tap-user-nic: a caller who kills the program mid-create, and a bridge-policy.conf line that binds ports (each test fails while the hole exists).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { tempFolder } from "../support/build.ts";
import { withNetns } from "../support/netns.ts";
import { run, runOk } from "../support/proc.ts";
import { ALICE } from "../support/users.ts";
import { type UserNicWorld, userNicPrograms, vethNames, withUserNicWorld } from "../support/user-nic.ts";

// Real namespaces, users and programs on two shared cores: far above Bun's default of 5 s.
setDefaultTimeout(180_000);

const { ours, installed } = await userNicPrograms();

const killer = join(tempFolder("tl-killer-"), "kill-on-newlink");
await runOk(["cc", "-O2", "-Wall", "-Werror", "-o", killer, join(import.meta.dir, "../support/kill-on-newlink.c")]);

const create = (world: UserNicWorld, pid: number, nic: string, wrap: string[] = []) =>
  world.call(wrap[0] ?? ours, ALICE, [...wrap.slice(1), ...(wrap.length > 0 ? [ours] : []), "create", "/tmp", "c1", String(pid), "veth", "br0", nic]);

/** The host ends in the test namespace, with their alias (tap-user-nic's mark) or null. */
async function vethAliases(world: UserNicWorld): Promise<{ name: string; alias: string | null; master: string | null }[]> {
  const parsed = JSON.parse(await world.ns.ip("-j", "-d", "link", "show", "type", "veth")) as {
    ifname: string;
    ifalias?: string;
    master?: string;
  }[];
  return parsed.map((link) => ({ name: link.ifname, alias: link.ifalias ?? null, master: link.master ?? null }));
}

describe("review: tap-user-nic", () => {
  test("a caller who SIGKILLs the program once the pair exists leaves no device behind (and none outside the count)", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await withUserNicWorld(ns, async (world) => {
        world.setUsernet("alice veth br0 1\n");
        const container = await world.container(ALICE);
        // Alice runs the program herself and kills it (her real uid is the program's) when the kernel
        // announces the new device in her namespace; three times, under a COUNT of 1.
        const outcomes: string[] = [];
        for (let round = 0; round < 3; round += 1) {
          const killed = await create(world, container.pid, `eth${round}`, [killer]);
          outcomes.push(killed.stdout.trim());
        }
        const left = await vethAliases(world);
        // Leaving a pair whose host end carries no mark escapes lxc-usernet's COUNT and the policy's MAX:
        // every one the kill lands on before the alias counts for no one.
        expect({ outcomes, left }).toEqual({ outcomes, left: [] });
      });
    });
  });

  test("a `locked ip=` line does not give a container a port that is neither refused nor bound", async () => {
    installed.setPolicy("alice br0 2 isolated locked ip=10.79.0.64/28\n");
    try {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        await ns.ip("addr", "add", "10.79.0.1/24", "dev", "br0");
        await withUserNicWorld(ns, async (world) => {
          world.setUsernet("alice veth br0 2\n");
          const container = await world.container(ALICE);
          const made = await create(world, container.pid, "eth0");
          if (made.exitCode !== 0) {
            // Refused: fine, and nothing is left.
            expect(await vethNames(ns)).toEqual([]);
            return;
          }
          // Granted: the line binds the port to 10.79.0.64/28, so a source outside it must not reach the bridge.
          const inside = ["nsenter", "-t", String(container.pid), "-n"];
          await runOk([...inside, "ip", "addr", "add", "10.79.0.200/24", "dev", "eth0"]);
          await runOk([...inside, "ip", "link", "set", "eth0", "up"]);
          const spoofed = await run([...inside, "ping", "-c", "2", "-W", "1", "10.79.0.1"]);
          const veth = made.stdout.split(":")[2] ?? "";
          const port = await run(["ip", "-n", ns.name, "-d", "link", "show", "dev", veth]);
          const filters = await run(["tc", "-n", ns.name, "filter", "show", "dev", veth, "ingress"]);
          expect({
            foreignSourceAnswered: spoofed.exitCode === 0,
            locked: port.stdout.includes("locked on"),
            ingressFilter: filters.stdout.includes("bpf"),
          }).toEqual({ foreignSourceAnswered: false, locked: true, ingressFilter: true });
        });
      });
    } finally {
      installed.setPolicy(null);
    }
  });
});
