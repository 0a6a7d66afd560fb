// bridge-policy.conf on top of lxc-usernet for veths: its limit (TAPs and veths together, also raced), port isolation shown with real frames, and the audit line from a private /dev/log.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { placeName } from "../../policy/holders.ts";
import { tempFolder } from "../support/build.ts";
import { type TestNetns, withNetns } from "../support/netns.ts";
import { closeFd } from "../../shared/libc.ts";
import { TUNSETOWNER } from "../../shared/kernel.ts";
import { type HelperOutcome, runHelper } from "../support/helper-run.ts";
import { run, runOk } from "../support/proc.ts";
import { SyslogSink } from "../support/syslog-sink.ts";
import { ALICE } from "../support/users.ts";
import { logTo, type TestContainer, type UserNicWorld, userNicPrograms, vethNames, withUserNicWorld } from "../support/user-nic.ts";

// Real namespaces, users and programs on two shared cores: far above Bun's default of 5 s.
setDefaultTimeout(120_000);

const { ours, installed } = await userNicPrograms();

const holder = join(tempFolder("tl-holder-"), "hold-at-ioctl");
await runOk(["cc", "-O2", "-Wall", "-Werror", "-o", holder, join(import.meta.dir, "../support/hold-at-ioctl.c")]);

/** The pid of the hold-at-ioctl running `helper` once it holds it (it wrote `path`); throws when the helper ends first. */
async function heldAt(path: string, helper: Promise<HelperOutcome>): Promise<number> {
  let ended: HelperOutcome | null = null;
  void helper.then((outcome) => {
    ended = outcome;
  });
  while (!existsSync(path)) {
    if (ended !== null) throw new Error(`the helper ended before its hand-over: ${(ended as HelperOutcome).stderr}`);
    await Bun.sleep(10);
  }
  return Number(readFileSync(path, "utf8"));
}

/** Runs `body` with a policy file in place, removed afterwards. */
async function withPolicy(policy: string, body: () => Promise<void>): Promise<void> {
  installed.setPolicy(policy);
  try {
    await body();
  } finally {
    installed.setPolicy(null);
  }
}

/**
 * Runs `body` under `alice br0 1` with br0, a tap-user-nic world whose usernet lets alice have 5
 * veths there and whose own /dev has a tun node, and a container of alice's: where TAPs and veths
 * share one MAX.
 */
async function withTapsAndVeths(body: (ns: TestNetns, world: UserNicWorld, container: TestContainer) => Promise<void>): Promise<void> {
  await withPolicy("alice br0 1\n", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await withUserNicWorld(ns, async (world) => {
        world.setUsernet("alice veth br0 5\n");
        world.addMount("mount -t tmpfs -o mode=0755,size=64k tl-dev /dev && mkdir /dev/net && mknod -m 0666 /dev/net/tun c 10 200");
        await body(ns, world, await world.container(ALICE));
      });
    });
  });
}

/** Inside the container of `pid`, as root from outside: an address on `device`, up. */
async function address(pid: number, device: string, cidr: string): Promise<void> {
  for (const args of [
    ["addr", "add", cidr, "dev", device],
    ["link", "set", device, "up"],
  ]) {
    const result = await run(["nsenter", "-t", String(pid), "-n", "ip", ...args]);
    if (result.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${result.stderr}`);
  }
}

const ping = (pid: number, target: string) => run(["nsenter", "-t", String(pid), "-n", "ping", "-c", "1", "-W", "1", target]);

const create = (world: UserNicWorld, pid: number, nic: string) =>
  world.call(ours, ALICE, ["create", "/tmp", "c1", String(pid), "veth", "br0", nic]);

describe("bridge-policy.conf on veths", () => {
  test("an isolated line: two containers' veths exchange no frame, each reaches the bridge", async () => {
    await withPolicy("alice br0 4 isolated\n", async () => {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        await ns.ip("addr", "add", "10.78.0.1/24", "dev", "br0");
        await withUserNicWorld(ns, async (world) => {
          world.setUsernet("alice veth br0 4\n");
          const first = await world.container(ALICE);
          const second = await world.container(ALICE);
          for (const [container, host] of [
            [first, "10.78.0.2/24"],
            [second, "10.78.0.3/24"],
          ] as const) {
            const made = await create(world, container.pid, "eth0");
            expect(made.exitCode).toBe(0);
            const veth = made.stdout.split(":")[2] ?? "";
            const detail = JSON.parse(await ns.ip("-j", "-d", "link", "show", "dev", veth)) as {
              linkinfo: { info_slave_data: { isolated: boolean } };
            }[];
            expect(detail[0]?.linkinfo.info_slave_data.isolated).toBe(true);
            await address(container.pid, "eth0", host);
          }
          expect((await ping(first.pid, "10.78.0.1")).exitCode).toBe(0);
          expect((await ping(second.pid, "10.78.0.1")).exitCode).toBe(0);
          expect((await ping(first.pid, "10.78.0.3")).exitCode).not.toBe(0);
          expect((await ping(second.pid, "10.78.0.2")).exitCode).not.toBe(0);
        });
      });
    });
  });

  test("the policy's MAX holds on top of lxc-usernet's COUNT, and every decision is audited with its kind", async () => {
    await withPolicy("alice br0 1\n", async () => {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        await withUserNicWorld(ns, async (world) => {
          const sink = new SyslogSink();
          try {
            world.setUsernet("alice veth br0 5\n");
            logTo(world, sink);
            const container = await world.container(ALICE);
            const granted = await create(world, container.pid, "eth0");
            expect(granted.exitCode).toBe(0);
            const refused = await create(world, container.pid, "eth1");
            expect(refused.exitCode).toBe(1);
            expect(refused.stderr).toContain('access denied by policy file: rule "alice br0 1"');
            expect(await vethNames(ns)).toHaveLength(1);
            const lines = sink.lines();
            expect(lines).toHaveLength(2);
            const veth = granted.stdout.split(":")[2] ?? "";
            expect(lines[0]).toContain(`tap-user-nic[`);
            expect(lines[0]).toContain(
              `grant kind=veth verb=create user=alice uid=4101 bridge=br0 veth=${veth} target=pid:${container.pid} usernet=alice:1 rule=${installed.policyFile}:1`,
            );
            expect(lines[1]).toContain(
              `refuse kind=veth verb=create user=alice uid=4101 bridge=br0 veth=- target=pid:${container.pid} usernet=alice:1`,
            );
            expect(lines[1]).toContain('reason="access denied by policy file');
          } finally {
            sink.close();
          }
        });
      });
    });
  });

  test("one MAX for TAPs and veths: a veth takes the place a TAP would, and the other way round", async () => {
    await withTapsAndVeths(async (ns, world, container) => {
      const veth = await create(world, container.pid, "eth0");
      expect(veth.exitCode).toBe(0);
      const tap = await runHelper([...world.prefixAs(ALICE), installed.shim, "--fd=3", "--br=br0"]);
      if (tap.fd !== null) closeFd(tap.fd);
      expect({ exit: tap.exitCode, refused: tap.stderr.includes("limits you to 1 on bridge br0") }).toEqual({ exit: 1, refused: true });
      await run(["ip", "-n", ns.name, "link", "del", veth.stdout.split(":")[2] ?? ""]);
      // With the veth gone, a TAP takes the place; while its fd is open, no veth fits.
      const granted = await runHelper([...world.prefixAs(ALICE), installed.shim, "--fd=3", "--br=br0"]);
      try {
        expect({ exit: granted.exitCode, fd: granted.fd !== null }).toEqual({ exit: 0, fd: true });
        const refused = await create(world, container.pid, "eth1");
        expect({ exit: refused.exitCode, refused: refused.stderr.includes("limits you to 1 on bridge br0") }).toEqual({
          exit: 1,
          refused: true,
        });
      } finally {
        if (granted.fd !== null) closeFd(granted.fd);
      }
    });
  });
  test("a veth made while the user's TAP waits for its hand-over counts that TAP: of the two, no more than MAX are kept", async () => {
    await withTapsAndVeths(async (ns, world, container) => {
      // The TAP held where alice could stop it (SIGSTOP: it runs as her): counted and granted, but
      // not yet given to her (TUNSETOWNER uid), so still down and root's, in making.
      const held = join(tempFolder("tl-held-"), "pid");
      const helper = runHelper([
        holder,
        String(TUNSETOWNER),
        String(ALICE.uid),
        held,
        ...world.prefixAs(ALICE),
        installed.shim,
        "--fd=3",
        "--br=br0",
      ]);
      let holding: number | null = null;
      let tap: HelperOutcome | null = null;
      try {
        holding = await heldAt(held, helper);
        const ports = JSON.parse(await ns.ip("-j", "-d", "link", "show", "master", "br0")) as {
          ifname: string;
          flags: string[];
          altnames?: string[];
          linkinfo: { info_data: { user?: string } };
        }[];
        const bridgeIndex = Number((await ns.exec("cat", "/sys/class/net/br0/ifindex")).trim());
        expect(ports.map((port) => ({ up: port.flags.includes("UP"), places: port.altnames, user: port.linkinfo.info_data.user }))).toEqual(
          [{ up: false, places: [placeName(ALICE.uid, bridgeIndex, 0)], user: "root" }],
        );
        const tapName = ports[0]?.ifname ?? "";
        const veth = await create(world, container.pid, "eth0");
        process.kill(holding, "SIGUSR1");
        holding = null;
        tap = await helper;
        const kept = (await vethNames(ns)).length + (tap.fd === null ? 0 : 1);
        expect({ kept, veth: veth.exitCode, tap: tap.exitCode }).toEqual({ kept: 1, veth: 1, tap: 0 });
        expect(veth.stderr).toContain(`limits you to 1 on bridge br0: 1 in use (${tapName})`);
      } finally {
        if (holding !== null) process.kill(holding, "SIGUSR1");
        tap ??= await helper;
        if (tap.fd !== null) closeFd(tap.fd);
      }
      // Nothing left: the refused veth is gone, and the TAP went with its fd.
      expect(await ns.ip("-j", "link", "show", "master", "br0")).toMatch(/^\[\]\s*$|^\s*$/);
      expect(await vethNames(ns)).toEqual([]);
    });
  });
});
