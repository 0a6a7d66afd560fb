// tap-user-nic on a real bridge with real containers (test users' user+net namespaces): the pair it makes, its refusals, its counts.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { privilegeOf } from "../../launcher/install.ts";
import { installForTest } from "../support/install.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { type RunResult, run, runOk } from "../support/proc.ts";
import { tempFolder } from "../support/build.ts";
import { SIOCSIFFLAGS } from "../../shared/kernel.ts";
import { ALICE, asUser, BOB } from "../support/users.ts";
import { oddPath, userNicPrograms, type UserNicWorld, vethNames, withUserNicWorld } from "../support/user-nic.ts";
import { privilegedFiles } from "../../launcher/layout.ts";

// Real namespaces, users and programs on two shared cores: far above Bun's default of 5 s.
setDefaultTimeout(120_000);

const { ours } = await userNicPrograms();
const LINE = /^([^:\s]+):([0-9]+):(veth[A-Za-z0-9]+):([0-9]+)\n$/;
const NAMESPACE_REFUSAL = "tap-user-nic: failed to open the container's network namespace: it does not exist or is not yours\n";
const DELETE_REFUSAL = "tap-user-nic: failed to delete the veth: you hold no veth of that name on that bridge\n";

/** The first line of stderr (the refusal; the second is the hint). */
const firstLine = (result: RunResult): string => `${result.stderr.split("\n")[0]}\n`;

async function inWorld(usernet: string, body: (world: UserNicWorld, ns: TestNetns) => Promise<void>): Promise<void> {
  await withNetns(async (ns) => {
    await ns.addBridge("br0", 1400);
    await withUserNicWorld(ns, async (world) => {
      world.setUsernet(usernet);
      await body(world, ns);
    });
  });
}

/** `ip -j -d link` of the container's devices, as root from outside. */
async function containerLinks(pid: number): Promise<{ ifname: string; ifindex: number; mtu: number }[]> {
  const result = await run(["nsenter", "-t", String(pid), "-n", "ip", "-j", "-d", "link", "show"]);
  return JSON.parse(result.stdout) as { ifname: string; ifindex: number; mtu: number }[];
}

describe("tap-user-nic create", () => {
  test("makes the pair: the line LXC parses, an fe: host end with the bridge's MTU and the mark, up on the bridge, the peer named in the container", async () => {
    await inWorld("alice veth br0 2\n", async (world, ns) => {
      const container = await world.container(ALICE);
      const result = await world.call(ours, ALICE, ["create", "/tmp", "c1", String(container.pid), "veth", "br0", "eth0"]);
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      const match = LINE.exec(result.stdout);
      expect(match).not.toBeNull();
      const [, peerName, peerIndex, hostName = "", hostIndex] = match ?? [];
      expect(peerName).toBe("eth0");
      const host = await ns.link(hostName);
      expect(host.address.startsWith("fe:")).toBe(true);
      expect(host.mtu).toBe(1400);
      expect(host.master).toBe("br0");
      expect(host.flags).toContain("UP");
      expect(String((host as unknown as { ifindex: number }).ifindex)).toBe(hostIndex ?? "");
      expect((host as unknown as { ifalias?: string }).ifalias).toBe("tap-user-nic uid=4101 charged=alice bridge=br0");
      const peer = (await containerLinks(container.pid)).find((link) => link.ifname === "eth0");
      expect({ index: String(peer?.ifindex), mtu: peer?.mtu }).toEqual({ index: peerIndex ?? "", mtu: 1400 });
    });
  });

  test("without a nicname the container's kernel numbers it (eth%d), as lxc-user-nic asks", async () => {
    await inWorld("alice veth br0 2\n", async (world) => {
      const container = await world.container(ALICE);
      const first = await world.call(ours, ALICE, ["create", "/tmp", "c1", String(container.pid), "veth", "br0"]);
      const second = await world.call(ours, ALICE, ["create", "/tmp", "c1", String(container.pid), "veth", "br0"]);
      expect([first.stdout.split(":")[0], second.stdout.split(":")[0]]).toEqual(["eth0", "eth1"]);
    });
  });

  test("a nicname the container already has is refused, and nothing is left on the host", async () => {
    await inWorld("alice veth br0 3\n", async (world, ns) => {
      const container = await world.container(ALICE);
      const args = ["create", "/tmp", "c1", String(container.pid), "veth", "br0", "eth0"];
      expect((await world.call(ours, ALICE, args)).exitCode).toBe(0);
      const again = await world.call(ours, ALICE, args);
      expect(again.exitCode).toBe(1);
      expect(again.stdout).toBe("");
      expect(again.stderr).toContain("File exists");
      expect(await vethNames(ns)).toHaveLength(1);
    });
  });
});

describe("tap-user-nic refuses with one message and leaves no device", () => {
  const create = (world: UserNicWorld, pid: number) =>
    world.call(ours, ALICE, ["create", "/tmp", "c1", String(pid), "veth", "br0", "eth0"]);

  test("the PID of another user's container", async () => {
    await inWorld("alice veth br0 5\nbob veth br0 5\n", async (world, ns) => {
      const bobs = await world.container(BOB);
      const result = await create(world, bobs.pid);
      expect({ exit: result.exitCode, stdout: result.stdout, message: firstLine(result) }).toEqual({
        exit: 1,
        stdout: "",
        message: NAMESPACE_REFUSAL,
      });
      expect(await vethNames(ns)).toEqual([]);
    });
  });

  test("the initial namespace: the caller's own process beside the bridge", async () => {
    await inWorld("alice veth br0 5\n", async (world, ns) => {
      const shell = world.hostProcess(ALICE);
      await Bun.sleep(200);
      const result = await create(world, shell.pid);
      expect({ exit: result.exitCode, stdout: result.stdout, message: firstLine(result) }).toEqual({
        exit: 1,
        stdout: "",
        message: NAMESPACE_REFUSAL,
      });
      expect(await vethNames(ns)).toEqual([]);
    });
  });

  test("the caller's process in a network namespace root made (not owned by a user namespace of the caller's)", async () => {
    await inWorld("alice veth br0 5\n", async (world, ns) => {
      await withNetns(async (rootOwned) => {
        const inside = Bun.spawn({ cmd: [...rootOwned.prefix(), ...asUser(ALICE), "sleep", "600"], stdout: "ignore" });
        try {
          await Bun.sleep(200);
          const result = await create(world, inside.pid);
          expect({ exit: result.exitCode, stdout: result.stdout, message: firstLine(result) }).toEqual({
            exit: 1,
            stdout: "",
            message: NAMESPACE_REFUSAL,
          });
          expect(await vethNames(ns)).toEqual([]);
          expect(await vethNames(rootOwned)).toEqual([]);
        } finally {
          inside.kill("SIGKILL");
          await inside.exited;
        }
      });
    });
  });

  test("the caller's process in a network namespace of a user namespace of hers nested in one root made (root owns the outermost)", async () => {
    await inWorld("alice veth br0 5\n", async (world, ns) => {
      // Root makes a user namespace mapping uids 0-65535 as they are; inside it alice's uid makes a user
      // and network namespace: its user namespace's owner is alice, but the one below the host's is
      // root's. Root then puts a process into that network namespace and into alice's own container's
      // user namespace, as alice (so alice may open its /proc/PID/ns/net: the kernel checks its user namespace).
      const script = [
        'while [ -z "$(cat /proc/self/uid_map)" ]; do sleep 0.05; done',
        `exec setpriv --reuid=${ALICE.uid} --regid=${ALICE.gid} --clear-groups unshare -Urn sleep 600`,
      ].join("; ");
      const nested = Bun.spawn({ cmd: [...ns.prefix(), "unshare", "-U", "sh", "-c", script], stdout: "ignore", stderr: "ignore" });
      let joined: ReturnType<typeof Bun.spawn> | null = null;
      try {
        const container = await world.container(ALICE);
        const hostUserNamespace = await run(["readlink", "/proc/self/ns/user"]);
        for (let tries = 0; tries < 100; tries += 1) {
          const user = await run(["readlink", `/proc/${nested.pid}/ns/user`]);
          if (user.stdout !== hostUserNamespace.stdout) break;
          await Bun.sleep(20);
        }
        for (const map of ["uid_map", "gid_map"]) writeFileSync(`/proc/${nested.pid}/${map}`, "0 0 65536\n");
        const started = async (pid: number) => {
          let comm = "";
          for (let tries = 0; tries < 200 && comm !== "sleep"; tries += 1) {
            await Bun.sleep(20);
            comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
          }
          return comm;
        };
        await started(nested.pid);
        const enter = ["nsenter", `--net=/proc/${nested.pid}/ns/net`, "nsenter", `--user=/proc/${container.pid}/ns/user`, "sleep", "600"];
        joined = Bun.spawn({ cmd: [...ns.prefix(), ...enter], stdout: "ignore", stderr: "ignore" });
        // The setup holds: alice's process, in the nested network namespace, which alice may open.
        const comm = await started(joined.pid);
        const [netOfJoined, netOfNested] = await Promise.all(
          [joined.pid, nested.pid].map(async (pid) => (await run(["readlink", `/proc/${pid}/ns/net`])).stdout),
        );
        const opened = await run([...asUser(ALICE), "readlink", `/proc/${joined.pid}/ns/net`]);
        expect({
          comm,
          uid: /^Uid:\t(\d+)/m.exec(readFileSync(`/proc/${joined.pid}/status`, "utf8"))?.[1],
          sameNet: netOfJoined === netOfNested,
          aliceOpens: opened.exitCode,
        }).toEqual({ comm: "sleep", uid: String(ALICE.uid), sameNet: true, aliceOpens: 0 });
        const result = await create(world, joined.pid);
        expect({ exit: result.exitCode, stdout: result.stdout, message: firstLine(result) }).toEqual({
          exit: 1,
          stdout: "",
          message: NAMESPACE_REFUSAL,
        });
        expect(await vethNames(ns)).toEqual([]);
      } finally {
        for (const process of [nested, joined]) {
          if (process === null) continue;
          process.kill("SIGKILL");
          await process.exited;
        }
      }
    });
  });

  test("a PID no process has", async () => {
    await inWorld("alice veth br0 5\n", async (world, ns) => {
      const gone = await world.container(ALICE);
      await gone.kill();
      const result = await create(world, gone.pid);
      expect({ exit: result.exitCode, stdout: result.stdout, message: firstLine(result) }).toEqual({
        exit: 1,
        stdout: "",
        message: NAMESPACE_REFUSAL,
      });
      expect(await vethNames(ns)).toEqual([]);
    });
  });

  test("a PID whose process exits during the call (when its veth appears)", async () => {
    await inWorld("alice veth br0 5\n", async (world, ns) => {
      // Exits at the first link event in its namespace: the peer being born there, mid-call.
      const racer = await world.container(ALICE, [
        "python3",
        "-c",
        "import os, socket; s = socket.socket(16, 3, 0); s.bind((0, 1)); s.recv(65536); os._exit(0)",
      ]);
      await Bun.sleep(300);
      expect(await Bun.file(`/proc/${racer.pid}/comm`).text()).toBe("python3\n");
      // tap-user-nic is held as it brings the host end up (SIOCSIFFLAGS: the peer was born, so the
      // racer is on its way out) until the racer has exited: the exit lands inside the call by
      // construction, not by timing (left to timing, a loaded machine let the call finish first).
      const holder = join(tempFolder("tl-holder-"), "hold-at-ioctl");
      await runOk(["cc", "-O2", "-Wall", "-Werror", "-o", holder, join(import.meta.dir, "../support/hold-at-ioctl.c")]);
      const heldPath = join(tempFolder("tl-held-"), "pid");
      const call = run([
        holder,
        String(SIOCSIFFLAGS),
        "any",
        heldPath,
        ...world.prefixAs(ALICE),
        ours,
        ...["create", "/tmp", "c1", String(racer.pid), "veth", "br0", "eth0"],
      ]);
      let ended = false;
      void call.then(() => {
        ended = true;
      });
      while (!existsSync(heldPath) && !ended) await Bun.sleep(10);
      expect(ended).toBe(false);
      while (!processGone(racer.pid)) await Bun.sleep(10);
      process.kill(Number(readFileSync(heldPath, "utf8")), "SIGUSR1");
      const result = await call;
      expect({ exit: result.exitCode, stdout: result.stdout, message: firstLine(result) }).toEqual({
        exit: 1,
        stdout: "",
        message: NAMESPACE_REFUSAL,
      });
      expect(await vethNames(ns)).toEqual([]);
    });
  });

  const remove = (world: UserNicWorld, path: string, veth: string) =>
    world.call(ours, ALICE, ["delete", "/tmp", "c1", path, "veth", "br0", veth]);

  for (const kind of ["fifo", "file"] as const) {
    test(`delete with NETNS_PATH a ${kind === "fifo" ? "FIFO" : "regular file"}`, async () => {
      await inWorld("alice veth br0 5\n", async (world, ns) => {
        const container = await world.container(ALICE);
        const made = await world.call(ours, ALICE, ["create", "/tmp", "c1", String(container.pid), "veth", "br0", "eth0"]);
        const veth = made.stdout.split(":")[2] ?? "";
        const result = await remove(world, await oddPath(kind), veth);
        expect({ exit: result.exitCode, message: firstLine(result) }).toEqual({ exit: 1, message: NAMESPACE_REFUSAL });
        expect(await vethNames(ns)).toEqual([veth]);
      });
    });
  }

  test("delete with NETNS_PATH another user's namespace", async () => {
    await inWorld("alice veth br0 5\nbob veth br0 5\n", async (world, ns) => {
      const container = await world.container(ALICE);
      const bobs = await world.container(BOB);
      const made = await world.call(ours, ALICE, ["create", "/tmp", "c1", String(container.pid), "veth", "br0", "eth0"]);
      const veth = made.stdout.split(":")[2] ?? "";
      const result = await remove(world, bobs.namespacePath, veth);
      expect({ exit: result.exitCode, message: firstLine(result) }).toEqual({ exit: 1, message: NAMESPACE_REFUSAL });
      expect(await vethNames(ns)).toEqual([veth]);
    });
  });

  test("delete of another user's veth, and of a device that is not a veth", async () => {
    await inWorld("alice veth br0 5\nbob veth br0 5\n", async (world, ns) => {
      const container = await world.container(ALICE);
      const bobs = await world.container(BOB);
      const made = await world.call(ours, BOB, ["create", "/tmp", "c1", String(bobs.pid), "veth", "br0", "eth0"]);
      const bobsVeth = made.stdout.split(":")[2] ?? "";
      // A TAP on the bridge that even holds one of alice's places: still no veth of hers.
      await ns.ip("tuntap", "add", "dev", "tap9", "mode", "tap");
      await ns.givePlace("tap9", 4101, "br0", 0);
      await ns.ip("link", "set", "tap9", "master", "br0");
      for (const name of [bobsVeth, "tap9", "br0", "nosuchdev"]) {
        const result = await remove(world, container.namespacePath, name);
        expect({ name, exit: result.exitCode, message: firstLine(result) }).toEqual({ name, exit: 1, message: DELETE_REFUSAL });
      }
      expect(await vethNames(ns)).toEqual([bobsVeth]);
      expect((await ns.link("tap9")).master).toBe("br0");
    });
  });
});

describe("tap-user-nic delete", () => {
  test("removes the caller's own veth (and its peer with it)", async () => {
    await inWorld("alice veth br0 5\n", async (world, ns) => {
      const container = await world.container(ALICE);
      const made = await world.call(ours, ALICE, ["create", "/tmp", "c1", String(container.pid), "veth", "br0", "eth0"]);
      const veth = made.stdout.split(":")[2] ?? "";
      const result = await world.call(ours, ALICE, ["delete", "/tmp", "c1", container.namespacePath, "veth", "br0", veth]);
      expect({ exit: result.exitCode, stderr: result.stderr, stdout: result.stdout }).toEqual({ exit: 0, stderr: "", stdout: "" });
      expect(await vethNames(ns)).toEqual([]);
      expect((await containerLinks(container.pid)).map((link) => link.ifname)).toEqual(["lo"]);
    });
  });
});

describe("tap-user-nic counts by the kernel's links", () => {
  test("20 concurrent creates by one user under COUNT 3 end with at most 3", async () => {
    await inWorld("alice veth br0 3\n", async (world, ns) => {
      const container = await world.container(ALICE);
      const results = await Promise.all(
        Array.from({ length: 20 }, () => world.call(ours, ALICE, ["create", "/tmp", "c1", String(container.pid), "veth", "br0"])),
      );
      const granted = results.filter((result) => result.exitCode === 0);
      const veths = await vethNames(ns);
      expect(veths.length).toBeLessThanOrEqual(3);
      expect(granted.length).toBe(veths.length);
      expect(granted.map((result) => result.stdout.split(":")[2]).sort()).toEqual([...veths].sort());
      expect(results.every((result) => result.exitCode === 0 || /quota reached|failed to/.test(result.stderr))).toBe(true);
    });
  });

  test("the count drops when a container exits without a delete", async () => {
    await inWorld("alice veth br0 1\n", async (world, ns) => {
      const first = await world.container(ALICE);
      const second = await world.container(ALICE);
      const create = (pid: number) => world.call(ours, ALICE, ["create", "/tmp", "c1", String(pid), "veth", "br0", "eth0"]);
      expect((await create(first.pid)).exitCode).toBe(0);
      const refused = await create(second.pid);
      expect({ exit: refused.exitCode, message: firstLine(refused) }).toEqual({
        exit: 1,
        message: "tap-user-nic: quota reached: veth on br0 for alice 1 (line 1) in /etc/lxc/lxc-usernet\n",
      });
      await first.kill();
      // The kernel removes the pair with the namespace, asynchronously.
      for (let tries = 0; tries < 100 && (await vethNames(ns)).length > 0; tries += 1) await Bun.sleep(20);
      expect(await vethNames(ns)).toEqual([]);
      expect((await create(second.pid)).exitCode).toBe(0);
    });
  });
});

describe("tap-user-nic installed in caps mode", () => {
  test("install --mode=caps gives its shim cap_net_admin+p and no setuid bit, and it makes and deletes a pair the same way", async () => {
    const installed = await installForTest("caps");
    try {
      expect(privilegeOf(privilegedFiles(installed.prefix, "tap-user-nic").shim)).toEqual({
        setuid: false,
        setgid: false,
        capabilities: true,
      });
      expect(privilegeOf(privilegedFiles(installed.prefix, "tap-user-nic").helper)).toEqual({
        setuid: false,
        setgid: false,
        capabilities: false,
      });
      await inWorld("alice veth br0 1\n", async (world, ns) => {
        const container = await world.container(ALICE);
        const made = await world.call(privilegedFiles(installed.prefix, "tap-user-nic").shim, ALICE, [
          "create",
          "/tmp",
          "c1",
          String(container.pid),
          "veth",
          "br0",
          "eth0",
        ]);
        expect({ exit: made.exitCode, stderr: made.stderr }).toEqual({ exit: 0, stderr: "" });
        const veth = made.stdout.split(":")[2] ?? "";
        const removed = await world.call(privilegedFiles(installed.prefix, "tap-user-nic").shim, ALICE, [
          "delete",
          "/tmp",
          "c1",
          container.namespacePath,
          "veth",
          "br0",
          veth,
        ]);
        expect(removed.exitCode).toBe(0);
        expect(await vethNames(ns)).toEqual([]);
      });
    } finally {
      await installed.uninstall();
    }
  });
});

/** Whether process `pid` has ended: gone, or a zombie not yet reaped (its pidfd polls readable then too). */
function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return true;
  }
}
