// iperf3 from a container on tap-user-nic's veth and from one on Debian's lxc-user-nic's, to the same bridge, in the same run.
//   bun tests/bench/veth-iperf.ts [SECONDS] [ROUNDS]   (as root) prints one JSON object: {ours: [Gbit/s, ...], original: [...]}
// Both datapaths are the kernel's (a veth pair into a Linux bridge): the figures should match. Rounds alternate.
import { run } from "../support/proc.ts";
import { withNetns } from "../support/netns.ts";
import { ALICE } from "../support/users.ts";
import { userNicPrograms, withUserNicWorld } from "../support/user-nic.ts";
import { removeTempFolders } from "../support/build.ts";

const [secondsText = "5", roundsText = "3"] = process.argv.slice(2);
const { ours, original } = await userNicPrograms();
const figures: Record<"ours" | "original", number[]> = { ours: [], original: [] };

await withNetns(async (ns) => {
  await ns.addBridge("br0");
  await ns.ip("addr", "add", "10.79.0.1/24", "dev", "br0");
  const server = Bun.spawn({ cmd: [...ns.prefix(), "iperf3", "-s", "-B", "10.79.0.1"], stdout: "ignore", stderr: "ignore" });
  try {
    await withUserNicWorld(ns, async (world) => {
      world.setUsernet("alice veth br0 2\n");
      const clients = { ours: "10.79.0.2/24", original: "10.79.0.3/24" } as const;
      const pids: Record<string, number> = {};
      for (const [name, cidr] of Object.entries(clients)) {
        const container = await world.container(ALICE);
        const made = await world.call(name === "ours" ? ours : original, ALICE, [
          "create",
          "/tmp",
          "c1",
          String(container.pid),
          "veth",
          "br0",
          "eth0",
        ]);
        if (made.exitCode !== 0) throw new Error(`${name}: ${made.stderr}`);
        for (const args of [
          ["addr", "add", cidr, "dev", "eth0"],
          ["link", "set", "eth0", "up"],
        ]) {
          await run(["nsenter", "-t", String(container.pid), "-n", "ip", ...args]);
        }
        pids[name] = container.pid;
      }
      await Bun.sleep(1500); // the bridge ports leave the listening state
      for (let round = 0; round < Number(roundsText); round += 1) {
        for (const name of ["ours", "original"] as const) {
          const result = await run(["nsenter", "-t", String(pids[name]), "-n", "iperf3", "-c", "10.79.0.1", "-t", secondsText, "-J"]);
          const report = JSON.parse(result.stdout) as { end: { sum_received: { bits_per_second: number } } };
          figures[name].push(Math.round(report.end.sum_received.bits_per_second / 1e7) / 100);
        }
      }
    });
  } finally {
    server.kill("SIGKILL");
    await server.exited;
  }
});
console.log(JSON.stringify(figures));
await (await userNicPrograms()).installed.uninstall();
removeTempFolders();
