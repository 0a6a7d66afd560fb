// Real clients of lxc-user-nic run on tap-user-nic, as a new user would run them: rootlesskit (--net=lxc-user-nic) and an unprivileged LXC container.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempFolder } from "../support/build.ts";
import { type TestNetns, withNetns } from "../support/netns.ts";
import { ALICE, sharedFolder } from "../support/users.ts";
import { LXC_USER_NIC, userNicPrograms, type UserNicWorld, vethNames, withUserNicWorld } from "../support/user-nic.ts";

// Real namespaces, users and programs on two shared cores: far above Bun's default of 5 s.
setDefaultTimeout(120_000);

const { ours } = await userNicPrograms();
const BRIDGE_ADDRESS = "10.77.0.1";

/** A folder alice owns, for HOME and rootlesskit's state. */
function aliceFolder(prefix: string): string {
  const folder = join(sharedFolder(prefix), "home");
  mkdirSync(folder, { mode: 0o755 });
  chownSync(folder, ALICE.uid, ALICE.gid);
  return folder;
}

/** br0 with an address, and dnsmasq answering DHCP on it (rootlesskit's lxc-user-nic driver asks for a lease and a DNS server). */
async function withServedBridge<T>(body: (world: UserNicWorld, ns: TestNetns) => Promise<T>): Promise<T> {
  return withNetns(async (ns) => {
    await ns.addBridge("br0");
    await ns.ip("addr", "add", `${BRIDGE_ADDRESS}/24`, "dev", "br0");
    const leases = join(tempFolder("tl-dhcp-"), "leases");
    const dnsmasq = Bun.spawn({
      cmd: [
        ...ns.prefix(),
        "dnsmasq",
        "--no-daemon",
        "--conf-file=/dev/null",
        "--interface=br0",
        "--bind-interfaces",
        "--port=0",
        "--dhcp-range=10.77.0.10,10.77.0.50,1h",
        `--dhcp-option=6,${BRIDGE_ADDRESS}`,
        `--dhcp-leasefile=${leases}`,
      ],
      stdout: "ignore",
      stderr: "ignore",
    });
    try {
      await Bun.sleep(300);
      return await withUserNicWorld(ns, (world) => body(world, ns));
    } finally {
      dnsmasq.kill("SIGKILL");
      await dnsmasq.exited;
    }
  });
}

describe("rootlesskit --net=lxc-user-nic on tap-user-nic", () => {
  test("gets eth0 on the bridge by DHCP and pings the bridge", async () => {
    await withServedBridge(async (world, ns) => {
      world.setUsernet("alice veth br0 1\n");
      world.setEtcFile("subuid", `alice:200000:65536\n`);
      world.setEtcFile("subgid", `alice:200000:65536\n`);
      const home = aliceFolder("tl-rk-");
      const result = await world.call("env", ALICE, [
        `HOME=${home}`,
        "timeout",
        "60",
        "rootlesskit",
        `--state-dir=${join(home, "state")}`,
        "--net=lxc-user-nic",
        `--lxc-user-nic-binary=${ours}`,
        "--lxc-user-nic-bridge=br0",
        "sh",
        "-c",
        `ip -o -4 addr show dev eth0 && ping -c 1 -W 2 ${BRIDGE_ADDRESS}`,
      ]);
      expect({ exit: result.exitCode, stderr: result.exitCode === 0 ? "" : result.stderr }).toEqual({ exit: 0, stderr: "" });
      expect(result.stdout).toMatch(/eth0\s+inet 10\.77\.0\.[0-9]+\/24/);
      expect(result.stdout).toContain("1 received");
      // rootlesskit's namespace ended with it: the pair is gone, and nothing else was left.
      for (let tries = 0; tries < 100 && (await vethNames(ns)).length > 0; tries += 1) await Bun.sleep(20);
      expect(await vethNames(ns)).toEqual([]);
    });
  });
});

describe("an unprivileged LXC container on tap-user-nic", () => {
  test("lxc-create -t busybox and lxc-start by an ordinary user: LXC runs ours from its compiled-in path, and the container pings the bridge", async () => {
    await withServedBridge(async (world, ns) => {
      world.setUsernet("alice veth br0 1\n");
      world.setEtcFile("subuid", "alice:200000:65536\n");
      world.setEtcFile("subgid", "alice:200000:65536\n");
      // LXC runs LXC_USERNIC_PATH, compiled in: ours is shown there privately, never on the host's /usr.
      world.addMount(`mount --bind ${ours} ${LXC_USER_NIC}`);
      // This machine has no cgroup delegated to users (cgroup v1, no systemd): LXC is shown none, and runs without.
      world.addMount("mount -t tmpfs tl-cgroup /sys/fs/cgroup");
      const home = aliceFolder("tl-lxc-");
      const config = join(home, "c1.conf");
      await Bun.write(
        config,
        [
          "lxc.idmap = u 0 200000 65536",
          "lxc.idmap = g 0 200000 65536",
          "lxc.net.0.type = veth",
          "lxc.net.0.link = br0",
          "lxc.net.0.flags = up",
          "lxc.net.0.ipv4.address = 10.77.0.2/24",
          "lxc.apparmor.profile = unconfined",
          "",
        ].join("\n"),
      );
      const lxcPath = join(home, "lxc");
      const asAlice = (args: string[]) => world.call("env", ALICE, [`HOME=${home}`, "timeout", "120", ...args]);
      const created = await asAlice(["lxc-create", "-P", lxcPath, "-n", "c1", "-t", "busybox", "-f", config]);
      expect({ exit: created.exitCode, stderr: created.exitCode === 0 ? "" : created.stderr }).toEqual({ exit: 0, stderr: "" });
      const log = join(home, "start.log");
      const rootfs = join(lxcPath, "c1", "rootfs");
      // The container reports, then waits for /go, so that the host end can be looked at while it exists.
      const script = `(ip -o -4 addr show dev eth0; ping -c 1 -W 2 ${BRIDGE_ADDRESS}) > /result.part 2>&1; mv /result.part /result; while [ ! -e /go ]; do sleep 0.1; done`;
      const started = asAlice(["lxc-start", "-P", lxcPath, "-n", "c1", "-F", "-l", "INFO", "-o", log, "--", "/bin/sh", "-c", script]);
      for (let tries = 0; tries < 600 && !existsSync(join(rootfs, "result")); tries += 1) await Bun.sleep(50);
      const hostEnds = JSON.parse(await ns.ip("-j", "-d", "link", "show", "type", "veth")) as {
        ifname: string;
        ifalias?: string;
        master?: string;
      }[];
      writeFileSync(join(rootfs, "go"), "");
      expect((await started).exitCode).toBe(0);
      // Ours made the pair: its mark is on the host end, on br0.
      expect(hostEnds.map(({ ifalias, master }) => ({ ifalias, master }))).toEqual([
        { ifalias: "tap-user-nic uid=4101 charged=alice bridge=br0", master: "br0" },
      ]);
      expect(await Bun.file(log).text()).toContain("Execing lxc-user-nic create");
      const result = await Bun.file(join(rootfs, "result")).text();
      expect(result).toMatch(/eth0\s+inet 10\.77\.0\.2\/24/);
      expect(result).toContain("1 packets received");
    });
  });
});
